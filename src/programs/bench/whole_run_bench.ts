/**
 * The whole experiment a user runs, timed: pretraining, then each of the four strategies from the
 * pretrained model. Our engines run it as `deno task compare` does for one seed (`runComparison`); the
 * NumPy baseline (`numpy_baseline.ts`) runs the same phases in idiomatic NumPy. The time is the
 * training phases' (their epochs with each epoch's test evaluation), not data generation or upload.
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

/** Runs the whole experiment of `config` `repeats` times on `engine` (disposed of afterwards). */
export async function benchWholeRun(
  name: string,
  config: Config,
  engine: Engine,
  label: string,
  repeats: number,
): Promise<WholeRunResult> {
  const grid = { seeds: [config.data.random_seed], relatedness: [config.data.relatedness], targetRows: null };
  try {
    const seconds = [];
    for (let run = 0; run < repeats; run++) {
      const { pretrainings, runs } = await runComparison(engine, experimentSpec(config), grid, unobserved);
      seconds.push([...pretrainings, ...runs].reduce((sum, phase) => sum + phase.seconds, 0));
    }
    return { workload: name, engine: label, seconds: summarizeTimings(seconds) };
  } finally {
    engine.dispose();
  }
}

/** The NumPy baseline on the same phases with BLAS on `threads` threads, `repeats` times. */
export async function benchNumpyWholeRun(
  name: string,
  config: Config,
  threads: number,
  repeats: number,
): Promise<WholeRunResult> {
  const label = `numpy-${threads}t`;
  const seconds = [];
  let detail = "";
  for (let run = 0; run < repeats; run++) {
    const result = await runNumpyBaseline(baselineSpec(experimentSpec(config)), threads);
    if ("unavailable" in result) {
      return { workload: name, engine: label, seconds: null, unavailable: result.unavailable };
    }
    seconds.push(result.seconds);
    detail = `NumPy ${result.numpy}, ${result.blas}`;
  }
  return { workload: name, engine: label, seconds: summarizeTimings(seconds), detail };
}
