/**
 * The comparison itself: for each seed, pretrain once, then run each of the grid's strategies (`compare`
 * always includes `scratch`, its baseline) from that pretrained model on the same target data, at every
 * point of the sweeps over relatedness and target training-set size. The source task depends on neither
 * (see `data.ts`: relatedness only blends the target's teacher), so one pretraining per seed serves every
 * point. Real data (`data.task` other than `synthetic`) have no relatedness: their grid's one relatedness
 * is null, which runs the target task as it is and records null.
 *
 * @module
 */

import type { DataSpec, TaskData } from "./data.ts";
import { targetSets, targetTrainRows, transferData } from "./tasks.ts";
import {
  type DatasetHandle,
  type Engine,
  type EpochMetrics,
  epochSteps,
  type Metrics,
  type PhaseSpec,
  releaseTask,
  uploadTask,
} from "./engine.ts";
import type { Mlp } from "./model.ts";
import { CLASSIC_STRATEGIES, type StrategyName } from "./recipes.ts";
import {
  type Divergence,
  type EarlyStop,
  type ExperimentSpec,
  phaseSegments,
  pretrain,
  type TaskMetrics,
  type TrainingListener,
  transfer,
} from "./train.ts";

/** The points to run: every seed × relatedness × target training-set size × strategy. */
export interface Grid {
  /**
   * The strategies run at every point, in this order (`compare` passes its `--strategies`, in
   * `STRATEGY_NAMES` order); {@linkcode CLASSIC_STRATEGIES} when absent.
   */
  readonly strategies?: readonly StrategyName[];
  /** Each replaces `data.seed` for one pretraining and all its transfers, run in this order. */
  readonly seeds: readonly number[];
  /**
   * Each number replaces `data.relatedness` for the target task; the seed's one pretraining serves them
   * all. Null runs the target task as it is and records no relatedness (real data have none).
   */
  readonly relatedness: readonly (number | null)[];
  /** Target training rows; null runs the configured split of `data.target_n_samples`. */
  readonly targetRows: readonly number[] | null;
}

/** One seed's pretraining. */
export interface PretrainRecord {
  /** The grid seed that generated the source task and the model's initial weights. */
  readonly seed: number;
  /** The pretrained model's final train and test metrics on the source task. */
  readonly source: TaskMetrics;
  /** Per epoch of the pretraining: train and test metrics. */
  readonly history: EpochMetrics[];
  /** The pretraining's training time in seconds (its epochs and their test evaluations). */
  readonly seconds: number;
  /** Null unless the pretraining diverged; then the seed runs no transfer. */
  readonly diverged: Divergence | null;
}

/** One strategy's transfer at one point of the grid. */
export interface RunRecord {
  /** The seed of the pretraining this run started from; it also generated the target task. */
  readonly seed: number;
  /**
   * The target task's `r` (see `data.ts`): 1 shares the source's teacher, 0 has an independent one; null
   * for real data, which have no relatedness.
   */
  readonly relatedness: number | null;
  /** Rows of the target training set this run trained on; the test set is the same at every size. */
  readonly targetTrainRows: number;
  /** Which transfer ran; `scratch` starts every layer fresh and ignores the pretrained weights. */
  readonly strategy: StrategyName;
  /** The pretrained model's source test metrics (shared by every run of the seed). */
  readonly sourceTest: Metrics;
  /** Final train, validation and test metrics on the target task, with the weights the transfer kept. */
  readonly target: TaskMetrics;
  /** Per epoch of the transfer: train and test metrics. */
  readonly history: EpochMetrics[];
  /** The transfer's training time (its epochs and their test evaluations). */
  readonly seconds: number;
  /** Why a layer planned as pretrained started fresh (the head, when class counts differ); else empty. */
  readonly notes: string[];
  /** Null unless the transfer diverged (it then stopped at that epoch, and its metrics mean nothing). */
  readonly diverged: Divergence | null;
  /** Null without early stopping; else the epoch whose weights were kept and the last one trained. */
  readonly earlyStop: EarlyStop | null;
}

/** What is running now, for progress reports. */
export interface Position {
  /** The grid seed whose pretraining or transfers are running. */
  readonly seed: number;
  /** `"pretrain"` while pretraining, else the strategy being transferred. */
  readonly phase: "pretrain" | StrategyName;
  /** The target task's relatedness; null while pretraining (no target task) and for real data (none). */
  readonly relatedness: number | null;
  /** Rows of the target training set; null while pretraining. */
  readonly targetTrainRows: number | null;
}

/** Where the comparison reports as it goes. */
export interface Observer {
  /** After each epoch of every phase, in order; `epochs` is the phase's total. */
  epoch(at: Position, metrics: EpochMetrics, epochs: number): void;
  /** Once per seed, when its pretraining is done and before its first transfer. */
  pretrained(record: PretrainRecord): void;
  /** After each transfer, once its final metrics are measured. */
  finished(record: RunRecord): void;
}

/** What runs the comparison besides the engine: who hears of progress, and when to stop. */
export interface ComparisonHooks {
  /** Hears of every epoch, pretraining and transfer as it happens (the records also end up in the result). */
  readonly observer: Observer;
  /**
   * Checked before each phase and after each epoch; true ends the comparison early, at the next epoch
   * boundary. The phase it cuts short is discarded (neither recorded nor reported as finished).
   */
  readonly stop: () => boolean;
  /** Also told of every phase's start and epochs (to log them, say). */
  readonly training?: TrainingListener;
  /**
   * Milliseconds a slice of a phase aims to take, {@linkcode SLICE_MS} by default: about the longest a
   * stop waits. 0 runs every phase one epoch at a time.
   */
  readonly sliceMs?: number;
}

/** Everything run so far; `complete` is false when `stop` cut it short. */
export interface Comparison {
  /** One per seed whose pretraining finished, in `grid.seeds` order. */
  readonly pretrainings: PretrainRecord[];
  /** Every finished transfer, in the order run: by seed, relatedness, training-set size, then strategy. */
  readonly runs: RunRecord[];
  /** True when every point of the grid ran. */
  readonly complete: boolean;
}

/**
 * Epochs the whole grid trains, for progress and time estimates: every strategy's stages at every
 * training-set size (a stage cut short by a step budget still counts its last, partial epoch), as if
 * nothing stopped early.
 */
export function totalEpochs(spec: ExperimentSpec, grid: Grid): number {
  const rows = grid.targetRows ?? [targetTrainRows(spec.data)];
  const epochs = (strategy: StrategyName, n: number) =>
    phaseSegments(spec.transfer, n, spec.recipes[strategy].stages).reduce((sum, s) => sum + s.epochs, 0);
  const perPoint = rows.reduce(
    (total, n) => total + gridStrategies(grid).reduce((sum, strategy) => sum + epochs(strategy, n), 0),
    0,
  );
  return grid.seeds.length * (spec.pretrain.epochs + grid.relatedness.length * perPoint);
}

/** The strategies `grid` runs at every point, in order: its `strategies`, else the classic four. */
export function gridStrategies(grid: Grid): readonly StrategyName[] {
  return grid.strategies ?? CLASSIC_STRATEGIES;
}

/** Milliseconds between yields to the event loop, where Ctrl-C is noticed. */
const YIELD_EVERY_MS = 50;

/**
 * Milliseconds a slice of a phase aims to take by default: a stop then waits about that long at most,
 * and what each slice costs of its own stays a small part of it (on a GPU engine, one wait for the
 * device: at least 10 ms in Deno).
 */
export const SLICE_MS = 250;

/**
 * Runs `grid` on `engine`; checks `hooks.stop` before each phase and after each epoch, and returns early
 * when it says so, with only the phases that finished (one cut short at an epoch boundary is dropped).
 * Every dataset uploaded is released once its runs are done, so a long sweep holds one seed's source
 * task and one target set at a time.
 */
export async function runComparison(
  engine: Engine,
  spec: ExperimentSpec,
  grid: Grid,
  hooks: ComparisonHooks,
): Promise<Comparison> {
  const turns = new EventLoopTurns();
  const stoppable = new StoppableEngine(engine, hooks.stop, turns, hooks.sliceMs ?? SLICE_MS);
  const comparison = new ComparisonRun(stoppable, grid, hooks, turns);
  try {
    for (const seed of grid.seeds) {
      if (!(await comparison.seed(withData(spec, { seed })))) return comparison.result(false);
    }
  } catch (error) {
    if (error instanceof PhaseCut) return comparison.result(false);
    throw error;
  }
  return comparison.result(true);
}

/**
 * Turns for the event loop, at most one every {@linkcode YIELD_EVERY_MS}: the CPU engine trains without
 * ever returning to it, and a signal listener (Ctrl-C, SIGTERM) runs only there.
 */
class EventLoopTurns {
  #last = performance.now();

  /** Gives the event loop a turn when the last one is more than {@linkcode YIELD_EVERY_MS} ago. */
  async take(): Promise<void> {
    if (performance.now() - this.#last <= YIELD_EVERY_MS) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#last = performance.now();
  }
}

/** Thrown out of a phase that `stop` cut short, so that nothing records it as finished. */
class PhaseCut extends Error {}

/**
 * `engine`, with every phase run in slices of whole epochs, yielding to the event loop between slices
 * once {@linkcode YIELD_EVERY_MS} have passed since the last yield, so that a signal listener runs even on
 * an engine that never returns to it (the CPU's). A slice takes as many epochs as fit `sliceMs` at the
 * last slice's time per epoch, whatever phase that was (the first slice of all, one epoch), so that a
 * phase that fits is one slice (on a GPU engine, one wait). After each epoch and before each slice it asks
 * `stop`; once that says true, the phase ends there and `trainPhase` throws {@linkcode PhaseCut}. Each
 * slice passes the number of its first epoch and its share of the step budget, so a phase trains exactly
 * as it would whole (see `PhaseSpec.firstEpoch`); the last slice alone takes `PhaseSpec.after`, so a
 * phase whose reports end before its last slice leaves it unmeasured.
 */
class StoppableEngine implements Engine {
  /** Milliseconds an epoch took in the last slice; null before the first. */
  #epochMs: number | null = null;

  constructor(
    readonly inner: Engine,
    readonly stop: () => boolean,
    readonly turns: EventLoopTurns,
    readonly sliceMs: number,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get description(): string {
    return this.inner.description;
  }

  upload(data: Parameters<Engine["upload"]>[0]): DatasetHandle {
    return this.inner.upload(data);
  }

  release(data: DatasetHandle): void {
    this.inner.release(data);
  }

  setModel(model: Mlp): void {
    this.inner.setModel(model);
  }

  readModel(): Promise<Mlp> {
    return this.inner.readModel();
  }

  evaluate(sets: readonly DatasetHandle[]): Promise<Metrics[]> {
    return this.inner.evaluate(sets);
  }

  logits(data: DatasetHandle): Promise<Float32Array<ArrayBuffer>> {
    return this.inner.logits(data);
  }

  dispose(): void {
    this.inner.dispose();
  }

  async trainPhase(spec: PhaseSpec): Promise<EpochMetrics[]> {
    const history: EpochMetrics[] = [];
    const first = spec.firstEpoch ?? 1, last = first + spec.epochs - 1;
    let cut = false, ended = false;
    const onEpoch = (metrics: EpochMetrics) => {
      if (spec.onEpoch?.(metrics) === false) ended = true;
      // The phase's last epoch finishes it: a stop is then noticed before the next phase.
      if (metrics.epoch < last && this.stop()) cut = true;
      return !(ended || cut);
    };
    for (let index = 0; index < spec.epochs && !ended;) {
      await this.turns.take();
      if (this.stop()) throw new PhaseCut("stopped");
      const epochs = Math.min(this.#sliceEpochs(), spec.epochs - index);
      const steps = spec.steps === undefined ? {} : {
        steps: Array.from({ length: epochs }, (_, i) => epochSteps(spec, spec.train.n, index + i))
          .reduce((a, b) => a + b, 0),
      };
      const started = performance.now();
      const slicing = { epochs, firstEpoch: first + index, ...steps, onEpoch };
      const lastSlice = index + epochs === spec.epochs;
      history.push(
        ...await this.inner.trainPhase({ ...spec, ...slicing, after: lastSlice ? spec.after : undefined }),
      );
      if (cut) throw new PhaseCut("stopped");
      index += epochs;
      this.#epochMs = (performance.now() - started) / epochs;
    }
    return history;
  }

  /** Epochs of the next slice: as many as fit `sliceMs` at the last slice's pace, at least one. */
  #sliceEpochs(): number {
    if (this.#epochMs === null || this.sliceMs <= 0) return 1;
    return Math.max(1, Math.floor(this.sliceMs / Math.max(this.#epochMs, 1e-3)));
  }
}

/** A comparison under way: what has finished so far. */
class ComparisonRun {
  readonly #pretrainings: PretrainRecord[] = [];
  readonly #runs: RunRecord[] = [];

  constructor(
    readonly engine: Engine,
    readonly grid: Grid,
    readonly hooks: ComparisonHooks,
    readonly turns: EventLoopTurns,
  ) {}

  /** Everything finished, as a {@linkcode Comparison}. */
  result(complete: boolean): Comparison {
    return { pretrainings: this.#pretrainings, runs: this.#runs, complete };
  }

  /** Pretrains on the seed's source task, then runs every point of the grid; false when stopped. */
  async seed(spec: ExperimentSpec): Promise<boolean> {
    if (await this.#stopping()) return false;
    const source = uploadTask(this.engine, transferData(spec.data).source);
    try {
      const seed = spec.data.seed;
      const at = { seed, relatedness: null, targetTrainRows: null, phase: "pretrain" } as const;
      const pretrained = await pretrain(this.engine, source, spec, this.#listen(at));
      const { model, metrics, history, ms, diverged } = pretrained;
      const record = { seed, source: metrics, history, seconds: ms / 1000, diverged };
      this.#pretrainings.push(record);
      this.hooks.observer.pretrained(record);
      if (diverged !== null) return true; // nothing to transfer from: the seed has no runs
      for (const relatedness of this.grid.relatedness) {
        const related = relatedness === null ? spec : withData(spec, { relatedness });
        for (const [rows, target] of targetSets(related.data, this.grid.targetRows)) {
          const point = { seed, relatedness, targetTrainRows: rows };
          if (!(await this.#strategies(related, point, target, model, metrics.test))) return false;
        }
      }
      return true;
    } finally {
      releaseTask(this.engine, source);
    }
  }

  /** Every strategy at one point of the grid, each from the same pretrained model; false when stopped. */
  async #strategies(
    spec: ExperimentSpec,
    point: Pick<RunRecord, "seed" | "relatedness" | "targetTrainRows">,
    targetData: TaskData,
    pretrained: Mlp,
    sourceTest: Metrics,
  ): Promise<boolean> {
    const target = uploadTask(this.engine, targetData);
    try {
      for (const strategy of gridStrategies(this.grid)) {
        if (await this.#stopping()) return false;
        const listener = this.#listen({ ...point, phase: strategy });
        const run = await transfer(this.engine, target, pretrained, strategy, spec, listener);
        const { metrics, history, ms, notes, diverged, earlyStop } = run;
        const record: RunRecord = {
          ...point,
          strategy,
          sourceTest,
          target: metrics,
          history,
          seconds: ms / 1000,
          notes,
          diverged,
          earlyStop,
        };
        this.#runs.push(record);
        this.hooks.observer.finished(record);
      }
      return true;
    } finally {
      releaseTask(this.engine, target);
    }
  }

  /** Whether to stop, after giving the event loop its turn (where signal listeners run). */
  async #stopping(): Promise<boolean> {
    await this.turns.take();
    return this.hooks.stop();
  }

  /** Passes a phase's events to the training listener, and its epochs to the observer at `at`. */
  #listen(at: Position): TrainingListener {
    return {
      started: (phase) => this.hooks.training?.started?.(phase),
      diverged: (phase, divergence) => this.hooks.training?.diverged?.(phase, divergence),
      epoch: (task, metrics, epochs) => {
        this.hooks.training?.epoch?.(task, metrics, epochs);
        this.hooks.observer.epoch(at, metrics, epochs);
      },
    };
  }
}

/** `spec` with some `data` fields replaced. */
function withData(spec: ExperimentSpec, data: Partial<DataSpec>): ExperimentSpec {
  return { ...spec, data: { ...spec.data, ...data } };
}
