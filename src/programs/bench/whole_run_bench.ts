/**
 * The whole experiment a user runs, timed: pretraining, then each of the four strategies from the
 * pretrained model. Our engines run it as `deno task compare` does for one seed (`runComparison`); the
 * NumPy baseline (`numpy_baseline.ts`) runs the same phases in idiomatic NumPy. The time is the
 * training phases' (their epochs with each epoch's test evaluation), not data generation or upload.
 * The contenders take turns, one run each per round (`benchWholeRuns`).
 *
 * @module
 */

import { type Config, experimentSpec } from "../../app/config.ts";
import { runComparison } from "../../core/comparison.ts";
import type { Engine } from "../../core/engine.ts";
import { baselineSpec, runNumpyBaseline } from "./numpy_baseline.ts";
import { summarizeTimings, type TimingSummary } from "./timing.ts";

/** One engine's training seconds for the whole experiment, over repeated runs. */
export interface WholeRunResult {
  /** The workload's name: `default` or `large`. */
  readonly workload: string;
  /** The engine's label, e.g. `cpu-wasm` or `numpy-2t` (NumPy with BLAS on 2 threads). */
  readonly engine: string;
  /** Training seconds per run; null with `unavailable` set when the engine could not run. */
  readonly seconds: TimingSummary | null;
  /** Why the run could not be made, e.g. `python3 not found`; set only for the NumPy baseline. */
  readonly unavailable?: string;
  /** What ran, when the label does not say it all (NumPy's version and BLAS). */
  readonly detail?: string;
}

const unobserved = { observer: { epoch() {}, pretrained() {}, finished() {} }, stop: () => false };

/** One run's training seconds, or why the contender cannot run. */
export type WholeRunOutcome = { readonly seconds: number; readonly detail?: string } | {
  readonly unavailable: string;
};

/** One way of running the whole experiment, to be timed beside the others. */
export interface WholeRunContender {
  /** The label the tables use, e.g. `cpu-wasm-2t` or `numpy-1t`. */
  readonly engine: string;
  /** Runs the experiment once. */
  run(): Promise<WholeRunOutcome>;
  /** Releases what the contender holds (an engine's threads or device). */
  dispose(): void;
}

/** The whole experiment of `config` on one of our engines, as `deno task compare` runs it for one seed. */
export function engineContender(config: Config, engine: Engine, label: string): WholeRunContender {
  const grid = { seeds: [config.data.random_seed], relatedness: [config.data.relatedness], targetRows: null };
  return {
    engine: label,
    run: async () => {
      const { pretrainings, runs } = await runComparison(engine, experimentSpec(config), grid, unobserved);
      return { seconds: [...pretrainings, ...runs].reduce((sum, phase) => sum + phase.seconds, 0) };
    },
    dispose: () => engine.dispose(),
  };
}

/** The NumPy baseline on the phases of `config`, with BLAS on `threads` threads. */
export function numpyContender(config: Config, threads: number): WholeRunContender {
  return {
    engine: `numpy-${threads}t`,
    run: async () => {
      const result = await runNumpyBaseline(baselineSpec(experimentSpec(config)), threads);
      if ("unavailable" in result) return result;
      return { seconds: result.seconds, detail: `NumPy ${result.numpy}, ${result.blas}` };
    },
    dispose: () => {},
  };
}

/**
 * Times every contender's whole experiment `repeats` times, in rounds: each round runs every
 * contender once, in turn, so a machine that slows down for a while (a busy neighbour on a shared
 * host) slows them all alike instead of whichever was running then. Each round starts one contender
 * further on, so no contender always runs first (or always just after the same one). A contender
 * that cannot run is not asked again; every contender is disposed of at the end. `onRound` hears
 * each round start.
 */
export async function benchWholeRuns(
  workload: string,
  contenders: readonly WholeRunContender[],
  repeats: number,
  onRound: (round: number) => void = () => {},
): Promise<WholeRunResult[]> {
  const outcomes = contenders.map((): WholeRunOutcome[] => []);
  try {
    for (let round = 1; round <= repeats; round++) {
      onRound(round);
      for (let turn = 0; turn < contenders.length; turn++) {
        const c = (round - 1 + turn) % contenders.length;
        if (outcomes[c].some((outcome) => "unavailable" in outcome)) continue;
        outcomes[c].push(await contenders[c].run());
      }
    }
  } finally {
    for (const contender of contenders) contender.dispose();
  }
  return contenders.map(({ engine }, c): WholeRunResult => {
    const runs = outcomes[c].filter((outcome) => "seconds" in outcome);
    const unavailable = outcomes[c].find((outcome) => "unavailable" in outcome);
    if (unavailable) return { workload, engine, seconds: null, unavailable: unavailable.unavailable };
    const detail = runs.at(-1)?.detail;
    return {
      workload,
      engine,
      seconds: summarizeTimings(runs.map((run) => run.seconds)),
      ...(detail ? { detail } : {}),
    };
  });
}
