/**
 * The NumPy baseline: the same training as our engines, written as idiomatic NumPy
 * (`numpy_baseline.py`), so the benchmark can show what the usual Python tool takes for the same work.
 *
 * {@linkcode baselineSpec} describes a run's phases (pretraining, then each strategy) in the shapes
 * and rates a config gives; {@linkcode runNumpyBaseline} runs the script on them with a given number
 * of BLAS threads. The baseline is optional: without Python or NumPy it reports why, and the
 * benchmark goes on without it.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { splitCounts } from "../../core/data.ts";
import { stepSizes } from "../../core/engine.ts";
import { errorMessage } from "../../core/errors.ts";
import {
  CLASSIC_STRATEGIES,
  type PartRates,
  type Recipe,
  type StrategyName,
  uniformRates,
} from "../../core/recipes.ts";
import { EVAL_BATCH_ROWS } from "../../engines/cpu/engine.ts";
import { type ExperimentSpec, sourceWidths, targetWidths } from "../../core/train.ts";

/** One training phase for the script: shapes, schedule and each layer's SGD step size. */
export interface BaselinePhase {
  /** `pretrain`, or the strategy's name. */
  readonly name: string;
  /** Rows of random training data the script makes for the phase: the task's training split. */
  readonly trainRows: number;
  /** Rows of random validation data: measured, with the other two, once the phase has trained. */
  readonly validationRows: number;
  /** Rows of random test data, evaluated after every epoch. */
  readonly testRows: number;
  /** Layer widths: features, the hidden widths, classes. */
  readonly widths: readonly number[];
  /** Rows per SGD minibatch; an epoch's last, partial batch is trained on too. */
  readonly batchSize: number;
  /** Passes over the training rows, each in a fresh random order. */
  readonly epochs: number;
  /** Per layer, the learning rate times the layer's rate (see `stepSizes`); 0 freezes the layer. */
  readonly stepSizes: readonly number[];
}

/** What `numpy_baseline.py` reads on stdin: the seed of its random data and weights, and the phases. */
export interface BaselineSpec {
  /** Seeds NumPy's `default_rng`, which draws the data, the weights and every epoch's order. */
  readonly seed: number;
  /** Rows per forward pass of the per-epoch evaluation: the CPU engine's `EVAL_BATCH_ROWS`. */
  readonly evalRows: number;
  /** Run in order, each from fresh He weights. */
  readonly phases: readonly BaselinePhase[];
}

/** One phase's outcome, as the script reports it. */
export interface NumpyPhaseResult {
  /** The phase's name from the spec. */
  readonly name: string;
  /**
   * The training loop's time, per-epoch evaluation and the three splits' measurement after it
   * included (as our engines' phase times), data generation excluded.
   */
  readonly seconds: number;
  /**
   * The last epoch's mean minibatch loss, as our engines report it; null when the phase ran no epoch
   * or the loss overflowed.
   */
  readonly finalTrainLoss: number | null;
  /** Fraction of the test rows classified right after the last epoch; null when it ran no epoch. */
  readonly finalTestAccuracy: number | null;
}

/** What `numpy_baseline.py` writes on stdout. */
export interface NumpyResult {
  /** NumPy's version. */
  readonly numpy: string;
  /** The BLAS NumPy was built with, e.g. `scipy-openblas 0.3.31.188.0`, or `unknown`. */
  readonly blas: string;
  /** One per phase of the spec, in its order. */
  readonly phases: readonly NumpyPhaseResult[];
  /** The phases' seconds, summed. */
  readonly seconds: number;
}

/**
 * The phases of a whole experiment: `pretrain` (the source task, every layer learning at the
 * pretraining rate), then one phase per strategy in `strategies` (the target task, each layer at the
 * transfer rate times the strategy's rate for it).
 */
export function baselineSpec(
  spec: ExperimentSpec,
  strategies: readonly StrategyName[] = CLASSIC_STRATEGIES,
): BaselineSpec {
  const { data } = spec;
  const rows = (n: number) => {
    const { train, validation, test } = splitCounts(n, data);
    return { trainRows: train, validationRows: validation, testRows: test };
  };
  const widths = sourceWidths(spec);
  const layers = widths.length - 1;
  const pretrain: BaselinePhase = {
    name: "pretrain",
    ...rows(data.sourceSamples),
    widths,
    batchSize: spec.pretrain.batchSize,
    epochs: spec.pretrain.epochs,
    stepSizes: weightSteps(spec.pretrain.learningRate, uniformRates(layers)),
  };
  const transfer = (name: StrategyName): BaselinePhase => ({
    name,
    ...rows(data.targetSamples),
    widths: targetWidths(spec),
    batchSize: spec.transfer.batchSize,
    epochs: spec.transfer.epochs,
    stepSizes: weightSteps(spec.transfer.learningRate, onlyStage(name, spec.recipes[name])),
  });
  return { seed: data.seed, evalRows: EVAL_BATCH_ROWS, phases: [pretrain, ...strategies.map(transfer)] };
}

/**
 * A one-stage recipe's rates, weights and biases alike in each layer: all the baseline's SGD knows.
 * Throws for any other recipe (a caller's mistake: the benchmark times the classic strategies).
 */
function onlyStage(name: StrategyName, recipe: Recipe): readonly PartRates[] {
  const [stage, ...more] = recipe.stages;
  if (more.length > 0 || !stage.rates.every((rates) => rates.weights === rates.biases)) {
    throw new Error(`the NumPy baseline runs one-stage recipes with one rate per layer, not ${name}`);
  }
  return stage.rates;
}

/** Each layer's step size, from rates whose weights and biases agree (see `stepSizes`). */
function weightSteps(learningRate: number, rates: readonly PartRates[]): number[] {
  return stepSizes(learningRate, rates).map((step) => step.weights);
}

const SCRIPT = fileURLToPath(new URL("./numpy_baseline.py", import.meta.url));

/**
 * Runs `numpy_baseline.py` on `spec` with `command` (a Python 3 interpreter) and BLAS limited to
 * `threads` threads. Never throws for a missing or failing Python: it returns `{ unavailable }` with
 * a one-line reason instead, because the baseline is optional.
 */
export async function runNumpyBaseline(
  spec: BaselineSpec,
  threads: number,
  command = "python3",
): Promise<NumpyResult | { unavailable: string }> {
  const n = String(threads);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args: [SCRIPT],
      env: { OPENBLAS_NUM_THREADS: n, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { unavailable: `${command} not found` };
    // e.g. NotCapable: the benchmark was started without --allow-run=python3
    return { unavailable: `cannot run ${command}: ${errorMessage(error)}` };
  }
  const writer = child.stdin.getWriter();
  // A script that dies before reading its stdin breaks the pipe; its exit status says why.
  await writer.write(new TextEncoder().encode(JSON.stringify(spec))).catch(() => {});
  await writer.close().catch(() => {});
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) {
    const line = new TextDecoder().decode(stderr).trim().split("\n").at(-1)?.replace(/^error: /, "");
    return { unavailable: `${command} numpy_baseline.py exited with code ${code}: ${line || "no message"}` };
  }
  return parseResult(new TextDecoder().decode(stdout));
}

/** The script's stdout as a {@linkcode NumpyResult}, or why it is not one. */
function parseResult(text: string): NumpyResult | { unavailable: string } {
  try {
    const result = JSON.parse(text);
    if (typeof result?.seconds === "number" && Array.isArray(result.phases)) return result as NumpyResult;
  } catch {
    // reported below, with what was read
  }
  return { unavailable: `numpy_baseline.py printed no result: ${JSON.stringify(text.slice(0, 80))}` };
}
