/**
 * The comparison itself: for each seed, pretrain once, then run every strategy (`scratch` included)
 * from that pretrained model on the same target data, at every point of the sweeps over relatedness
 * and target training-set size. The source task depends on neither (see `data.ts`: relatedness only
 * blends the target's teacher), so one pretraining per seed serves every point.
 *
 * @module
 */

import { type DataSpec, makeTransferData, type TaskData, testCount, withTrainRows } from "./data.ts";
import { type Engine, type EpochMetrics, type Metrics, releaseTask, uploadTask } from "./engine.ts";
import { STRATEGY_NAMES, type StrategyName } from "./strategies.ts";
import { type ExperimentSpec, pretrain, type TaskMetrics, type TrainingListener, transfer } from "./train.ts";

/** The points to run: every seed × relatedness × target training-set size × strategy. */
export interface Grid {
  readonly seeds: readonly number[];
  readonly relatedness: readonly number[];
  /** Target training rows; null runs the configured split of `data.target_n_samples`. */
  readonly targetRows: readonly number[] | null;
}

/** One seed's pretraining. */
export interface PretrainRecord {
  readonly seed: number;
  readonly source: TaskMetrics;
  readonly history: EpochMetrics[];
  readonly seconds: number;
}

/** One strategy's transfer at one point of the grid. */
export interface RunRecord {
  readonly seed: number;
  readonly relatedness: number;
  readonly targetTrainRows: number;
  readonly strategy: StrategyName;
  /** The pretrained model's source test metrics (shared by every run of the seed). */
  readonly sourceTest: Metrics;
  readonly target: TaskMetrics;
  /** Per epoch of the transfer: train and test metrics. */
  readonly history: EpochMetrics[];
  /** The transfer's training time (its epochs and their test evaluations). */
  readonly seconds: number;
  readonly notes: string[];
}

/** What is running now, for progress reports. */
export interface Position {
  readonly seed: number;
  readonly phase: "pretrain" | StrategyName;
  readonly relatedness: number | null;
  readonly targetTrainRows: number | null;
}

/** Where the comparison reports as it goes. */
export interface Observer {
  epoch(at: Position, metrics: EpochMetrics, epochs: number): void;
  pretrained(record: PretrainRecord): void;
  finished(record: RunRecord): void;
}

/** What runs the comparison besides the engine: who hears of progress, and when to stop. */
export interface ComparisonHooks {
  readonly observer: Observer;
  /** Checked before each phase; true ends the comparison early. */
  readonly stop: () => boolean;
  /** Also told of every phase's start and epochs (to log them, say). */
  readonly training?: TrainingListener;
}

/** Everything run so far; `complete` is false when `stop` cut it short. */
export interface Comparison {
  readonly pretrainings: PretrainRecord[];
  readonly runs: RunRecord[];
  readonly complete: boolean;
}

/** Epochs the whole grid trains, for progress and time estimates. */
export function totalEpochs(spec: ExperimentSpec, grid: Grid): number {
  const transfers = grid.relatedness.length * (grid.targetRows?.length ?? 1) * STRATEGY_NAMES.length;
  return grid.seeds.length * (spec.pretrain.epochs + transfers * spec.transfer.epochs);
}

/** Milliseconds between yields to the event loop, where Ctrl-C is noticed. */
const YIELD_EVERY_MS = 50;

/**
 * Runs `grid` on `engine`; checks `hooks.stop` before each phase and returns early when it says so.
 * Every dataset uploaded is released once its runs are done, so a long sweep holds one seed's source
 * task and one target set at a time. The CPU engine trains without ever returning to the event loop,
 * so this yields to it now and then: a signal listener (Ctrl-C) runs only there.
 */
export async function runComparison(
  engine: Engine,
  spec: ExperimentSpec,
  grid: Grid,
  hooks: ComparisonHooks,
): Promise<Comparison> {
  const comparison: Comparison & { complete: boolean } = { pretrainings: [], runs: [], complete: false };
  let yielded = performance.now();
  const stopNow = async () => {
    if (performance.now() - yielded > YIELD_EVERY_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      yielded = performance.now();
    }
    return hooks.stop();
  };
  const listen = (at: Position): TrainingListener => ({
    started: (phase) => hooks.training?.started?.(phase),
    epoch: (task, metrics, epochs) => {
      hooks.training?.epoch?.(task, metrics, epochs);
      hooks.observer.epoch(at, metrics, epochs);
    },
  });
  for (const seed of grid.seeds) {
    if (await stopNow()) return comparison;
    const seeded = withData(spec, { seed });
    const source = uploadTask(engine, makeTransferData(seeded.data).source);
    try {
      const at = { seed, relatedness: null, targetTrainRows: null, phase: "pretrain" } as const;
      const pretrained = await pretrain(engine, source, seeded, listen(at));
      const record = {
        seed,
        source: pretrained.metrics,
        history: pretrained.history,
        seconds: pretrained.ms / 1000,
      };
      comparison.pretrainings.push(record);
      hooks.observer.pretrained(record);
      for (const relatedness of grid.relatedness) {
        const related = withData(seeded, { relatedness });
        for (const [rows, targetData] of targetSets(related.data, grid.targetRows)) {
          const target = uploadTask(engine, targetData);
          try {
            for (const strategy of STRATEGY_NAMES) {
              if (await stopNow()) return comparison;
              const at = { seed, relatedness, targetTrainRows: rows, phase: strategy };
              const run = await transfer(engine, target, pretrained.model, strategy, related, listen(at));
              const result: RunRecord = {
                seed,
                relatedness,
                targetTrainRows: rows,
                strategy,
                sourceTest: pretrained.metrics.test,
                target: run.metrics,
                history: run.history,
                seconds: run.ms / 1000,
                notes: run.notes,
              };
              comparison.runs.push(result);
              hooks.observer.finished(result);
            }
          } finally {
            releaseTask(engine, target);
          }
        }
      }
    } finally {
      releaseTask(engine, source);
    }
  }
  comparison.complete = true;
  return comparison;
}

/** `spec` with some `data` fields replaced. */
function withData(spec: ExperimentSpec, data: Partial<DataSpec>): ExperimentSpec {
  return { ...spec, data: { ...spec.data, ...data } };
}

/**
 * The target task at each training-set size, with one test set of the configured size for all:
 * generated once with as many training rows as the largest size, then cut down (rows are
 * independent draws, so each cut is a random sample, and the smaller sets nest in the larger).
 */
function targetSets(spec: DataSpec, sizes: readonly number[] | null): [number, TaskData][] {
  if (sizes === null) {
    const target = makeTransferData(spec).target;
    return [[target.train.n, target]];
  }
  const testRows = testCount(spec.targetSamples, spec.testFraction);
  const total = Math.max(...sizes) + testRows;
  const target = makeTransferData({ ...spec, targetSamples: total, testFraction: testRows / total }).target;
  return sizes.map((rows) => [rows, withTrainRows(target, rows)]);
}
