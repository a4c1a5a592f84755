/**
 * `run --profile`'s profiles, one for each phase the run trains: pretraining, then the transfer, or
 * each of its stages for a recipe of several (`lp_ft`'s linear probe, then its fine-tuning). Each is
 * taken when its phase ends, the next stage starting or the transfer returning, and read while
 * training goes on.
 *
 * @module
 */

import { formatProfile } from "../../app/profile_report.ts";
import { errorMessage } from "../../core/errors.ts";
import type { PhaseStart } from "../../core/train.ts";
import type { GpuProfiler } from "../../engines/gpu/profiler.ts";

/** The profiles of a run on the GPU engine, in the order its phases end. */
export class StageProfiles {
  readonly #taken: Promise<string>[] = [];
  /** The transfer's stage under way, which its profile names; null before one with epochs starts. */
  #stage: Pick<PhaseStart, "stage" | "stages"> | null = null;

  /** Profiles taken from `profiler`, for a transfer by `strategy`. */
  constructor(readonly profiler: GpuProfiler, readonly strategy: string) {}

  /** Takes the profile of the work since the last, named `phase` (`pretraining`, say). */
  take(phase: string): void {
    const unavailable = (error: unknown) => `profile of ${phase}: unavailable (${errorMessage(error)})`;
    this.#taken.push(this.profiler.take().then((profile) => formatProfile(phase, profile), unavailable));
  }

  /**
   * Before each stage of a phase (`TrainingListener.started`): a transfer's new stage
   * ends the one before it. A stage of no epochs trains nothing and gets no profile.
   */
  started(phase: PhaseStart): void {
    if (phase.strategy === null || phase.segment.epochs === 0) return;
    if (this.#stage !== null) this.take(this.#transferName());
    this.#stage = phase;
  }

  /** After the transfer: the profile of its last stage, or of all of it. */
  transferred(): void {
    this.take(this.#transferName());
  }

  /** Every profile, formatted, in order. */
  formatted(): Promise<string[]> {
    return Promise.all(this.#taken);
  }

  #transferName(): string {
    const stage = this.#stage;
    const which = stage === null || stage.stages === 1 ? "" : `, stage ${stage.stage} of ${stage.stages}`;
    return `the transfer (${this.strategy})${which}`;
  }
}
