/**
 * What each recipe and each optimizer costs per step: the whole transfer of the default workload
 * (every stage, with its per-epoch test evaluation) timed on one engine, divided by its SGD steps, and
 * set against `full_finetune` with plain SGD timed the same way on the same engine in the same run.
 *
 * @module
 */

import { type Config, experimentSpec } from "../../app/config.ts";
import { makeTransferData } from "../../core/data.ts";
import { type Engine, releaseTask, stepsPerEpoch, uploadTask } from "../../core/engine.ts";
import { OPTIMIZER_NAMES, type OptimizerName } from "../../core/optimizers.ts";
import { STRATEGY_NAMES, type StrategyName } from "../../core/recipes.ts";
import { type ExperimentSpec, pretrain, transfer } from "../../core/train.ts";
import { summarizeTimings, type TimingSummary } from "./timing.ts";

/** One recipe under one optimizer on one engine. */
export interface RecipeCost {
  /** The engine's label in the tables. */
  readonly engine: string;
  /** The recipe. */
  readonly recipe: StrategyName;
  /** The update rule of the transfer. */
  readonly optimizer: OptimizerName;
  /** Milliseconds per SGD step over the timed transfers (stages and their test evaluations included). */
  readonly msPerStep: TimingSummary;
  /** The median ms per step over `full_finetune`'s with SGD on the same engine. */
  readonly relative: number;
}

/** Each recipe with SGD, then `full_finetune` with every other optimizer: what the table compares. */
export function recipeCases(): [StrategyName, OptimizerName][] {
  return [
    ...STRATEGY_NAMES.map((name): [StrategyName, OptimizerName] => [name, "sgd"]),
    ...OPTIMIZER_NAMES.filter((name) => name !== "sgd").map((
      o,
    ): [StrategyName, OptimizerName] => ["full_finetune", o]),
  ];
}

/**
 * Times every case of {@linkcode recipeCases} on `engine` (labelled `label`), `repeats` transfers each
 * after one untimed, interleaving the cases so that drift in the machine's speed is shared among them.
 * The engine is disposed of afterwards.
 */
export async function benchRecipes(
  config: Config,
  engine: Engine,
  label: string,
  repeats: number,
): Promise<RecipeCost[]> {
  const base = experimentSpec(config);
  const data = makeTransferData(base.data);
  const source = uploadTask(engine, data.source), target = uploadTask(engine, data.target);
  try {
    const { model } = await pretrain(engine, source, base);
    const cases = recipeCases();
    const spec = (optimizer: OptimizerName): ExperimentSpec => ({
      ...base,
      transfer: { ...base.transfer, optimizer: { ...base.transfer.optimizer, name: optimizer } },
    });
    const steps = base.transfer.epochs * stepsPerEpoch(target.train.n, base.transfer.batchSize);
    const times = cases.map((): number[] => []);
    for (let round = 0; round <= repeats; round++) {
      for (const [c, [recipe, optimizer]] of cases.entries()) {
        const run = await transfer(engine, target, model, recipe, spec(optimizer));
        if (round > 0) times[c].push(run.ms / steps); // round 0 warms every path up
      }
    }
    const reference = summarizeTimings(
      times[cases.findIndex(([r, o]) => r === "full_finetune" && o === "sgd")],
    );
    return cases.map(([recipe, optimizer], c) => {
      const msPerStep = summarizeTimings(times[c]);
      return { engine: label, recipe, optimizer, msPerStep, relative: msPerStep.median / reference.median };
    });
  } finally {
    releaseTask(engine, source);
    releaseTask(engine, target);
    engine.dispose();
  }
}
