/**
 * Progress of a long comparison, on stderr. On a terminal: one line redrawn in place with a bar, the
 * seed, the phase, the epoch, the running loss and the time left. Elsewhere (CI, pipes): a plain line
 * when each seed's pretraining and its first run end, and otherwise at most one every few seconds, so
 * logs stay short.
 *
 * @module
 */

import type { EpochMetrics } from "../../core/engine.ts";
import { percent } from "../../app/format.ts";
import type { Observer, Position, PretrainRecord, RunRecord } from "../../core/comparison.ts";

/** Seconds between plain progress lines when not on a terminal. */
const PLAIN_INTERVAL_S = 5;
/** Seconds between redraws of the terminal line. */
const REDRAW_INTERVAL_S = 0.1;
const BAR_WIDTH = 20;

/** Where progress goes, and how time is read (replaceable for tests). */
export interface ProgressOptions {
  /** True: one progress line redrawn in place, at most every 0.1 s; false: plain lines, at most every 5 s. */
  readonly terminal: boolean;
  /** Receives the text to show, newlines and (on a terminal) escape codes included. */
  readonly write: (text: string) => void;
  /** The clock, in seconds; `performance.now() / 1000` by default. */
  readonly now?: () => number;
}

/** Reports a comparison of `totalEpochs` epochs as it runs. */
export class ProgressReport implements Observer {
  readonly #now: () => number;
  readonly #started: number;
  #epochsDone = 0;
  #lastShown = -Infinity;
  #barShown = false;
  #firstRunOfSeed = true;

  /** Starts the clock. */
  constructor(readonly totalEpochs: number, readonly options: ProgressOptions) {
    this.#now = options.now ?? (() => performance.now() / 1000);
    this.#started = this.#now();
  }

  /** Counts a finished epoch; shows the progress unless it was shown under 0.1 s (terminal) or 5 s ago. */
  epoch(at: Position, metrics: EpochMetrics, epochs: number): void {
    this.#epochsDone++;
    const interval = this.options.terminal ? REDRAW_INTERVAL_S : PLAIN_INTERVAL_S;
    if (this.#now() - this.#lastShown < interval) return;
    this.#lastShown = this.#now();
    const where = [
      `seed ${at.seed}`,
      at.phase,
      ...(at.relatedness === null ? [] : [`r ${at.relatedness}`]),
      ...(at.targetTrainRows === null ? [] : [`${at.targetTrainRows} rows`]),
      `epoch ${metrics.epoch}/${epochs}`,
      `loss ${metrics.train.loss.toFixed(4)}`,
    ].join(", ");
    const done = this.#epochsDone / this.totalEpochs;
    if (!this.options.terminal) {
      return this.#line(`progress ${percent(done)}: ${where}, ${this.#left()} left`);
    }
    const filled = Math.round(done * BAR_WIDTH);
    this.options.write(
      `\r\x1b[2K[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${
        percent(done)
      } ${where}, ${this.#left()} left`,
    );
    this.#barShown = true;
  }

  /** Shows a seed's pretraining time and source test accuracy on a line of its own, or that it diverged. */
  pretrained(record: PretrainRecord): void {
    this.#firstRunOfSeed = true;
    if (record.diverged !== null) {
      return this.message(
        `seed ${record.seed}: pretraining diverged at epoch ${record.diverged.epoch}; no transfers from this seed`,
      );
    }
    this.message(
      `seed ${record.seed}: pretrained in ${record.seconds.toFixed(2)} s, source test ${
        percent(record.source.test.accuracy)
      }`,
    );
  }

  /**
   * Shows the first finished run after each pretraining on a line of its own, and every run that diverged;
   * other runs show nothing.
   */
  finished(record: RunRecord): void {
    if (record.diverged !== null) {
      const where = `relatedness ${record.relatedness}, ${record.targetTrainRows} rows`;
      return this.message(
        `seed ${record.seed}: ${record.strategy} diverged at epoch ${record.diverged.epoch} (${where}); ` +
          "its seed is left out at this point",
      );
    }
    if (!this.#firstRunOfSeed) return;
    this.#firstRunOfSeed = false;
    this.message(
      `seed ${record.seed}: ${record.strategy} finished, target test ${percent(record.target.test.accuracy)}`,
    );
  }

  /** Prints `line` on its own, above the terminal's progress line (which is redrawn at the next epoch). */
  message(line: string): void {
    this.#line(line);
    if (this.options.terminal) this.#lastShown = -Infinity;
  }

  /** Clears the terminal's progress line. */
  done(): void {
    if (this.#barShown) this.options.write("\r\x1b[2K");
    this.#barShown = false;
  }

  #line(text: string): void {
    this.done();
    this.options.write(`${text}\n`);
  }

  /** The time left, from the pace so far. */
  #left(): string {
    const elapsed = this.#now() - this.#started;
    const seconds = Math.round(elapsed / this.#epochsDone * (this.totalEpochs - this.#epochsDone));
    return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  }
}
