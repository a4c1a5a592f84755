/**
 * The experiment: pretrain on the source task, then transfer to the target task with a strategy.
 * Engine-agnostic: everything here goes through the {@linkcode Engine} interface, and everything it
 * needs comes in an {@linkcode ExperimentSpec}; what happens is reported to a {@linkcode TrainingListener}.
 *
 * @module
 */

import type { DataSpec } from "./data.ts";
import {
  type DatasetHandle,
  type Engine,
  type EpochMetrics,
  epochSteps,
  type Metrics,
  type PhaseSpec,
  stepsPerEpoch,
  type TaskHandles,
} from "./engine.ts";
import { heModel, layerWidths, type Mlp } from "./model.ts";
import { deriveSeed, Rng } from "./rng.ts";
import { startTransfer, type StrategyName, type StrategyPlan, uniformRates } from "./strategies.ts";

/** How one phase trains: its budget, minibatch size and learning rate, and when to stop early. */
export interface PhaseSchedule {
  /** Full passes over the training split, unless `steps` is set; 0 leaves the model as it starts. */
  readonly epochs: number;
  /**
   * Null: `epochs` passes. A number: exactly this many SGD steps whatever the size of the training
   * split (whole epochs, then part of one more), so that runs on different sizes get one budget.
   */
  readonly steps: number | null;
  /** Rows per minibatch; an epoch's last minibatch takes the remainder. */
  readonly batchSize: number;
  /** Multiplied by each layer's rate (1 for every layer when pretraining). */
  readonly learningRate: number;
  /**
   * Null: no early stopping. A number: after each epoch the validation loss is measured, the phase
   * stops once this many epochs in a row have not lowered it, and the best epoch's weights are kept.
   */
  readonly patience: number | null;
}

/** Epochs a phase on `rows` training rows runs under `schedule`: `epochs`, or as many as `steps` need. */
export function phaseEpochs(schedule: PhaseSchedule, rows: number): number {
  return schedule.steps === null
    ? schedule.epochs
    : Math.ceil(schedule.steps / stepsPerEpoch(rows, schedule.batchSize));
}

/** Everything an experiment needs: the tasks, the hidden widths, both phases, every strategy's plan. */
export interface ExperimentSpec {
  /** The two tasks; `data.seed` also seeds the initial weights and the shuffles. */
  readonly data: DataSpec;
  /** Widths of the hidden layers, input to output; the model has one more layer, the head. */
  readonly hiddenDims: readonly number[];
  /** The source phase: every layer learns at rate 1 from a fresh He initialisation. */
  readonly pretrain: PhaseSchedule;
  /** Every strategy's target phase; each layer's rate comes from the strategy's plan. */
  readonly transfer: PhaseSchedule;
  /** What each strategy starts from and how fast each layer learns (see `strategyPlans`). */
  readonly plans: Readonly<Record<StrategyName, StrategyPlan>>;
}

/** Layer widths of the pretrained model: features, the hidden widths, the source task's classes. */
export function sourceWidths(spec: ExperimentSpec): number[] {
  return layerWidths(spec.data.features, spec.hiddenDims, spec.data.sourceClasses);
}

/** Layer widths of the target model: as {@linkcode sourceWidths}, with the target task's classes. */
export function targetWidths(spec: ExperimentSpec): number[] {
  return layerWidths(spec.data.features, spec.hiddenDims, spec.data.targetClasses);
}

/** Final loss and accuracy on one task's train and test splits. */
export interface TaskMetrics {
  /** Measured on the whole training split with the final weights (not the running epoch average). */
  readonly train: Metrics;
  /** Measured on the validation split with the final weights: what a choice between runs uses. */
  readonly validation: Metrics;
  /** Measured on the test split with the final weights: reported, never chosen by. */
  readonly test: Metrics;
}

/** Where a phase stopped because its loss was no longer finite (too high a learning rate). */
export interface Divergence {
  /** The 1-based epoch whose mean training loss, or test loss after it, was NaN or infinite: the phase's last. */
  readonly epoch: number;
  /** That loss (NaN, Infinity); JSON writes it as null. */
  readonly loss: number;
}

/** Where early stopping ended a phase. */
export interface EarlyStop {
  /** The epoch whose weights were kept: the lowest validation loss. */
  readonly bestEpoch: number;
  /** The last epoch trained. */
  readonly lastEpoch: number;
}

/** One phase's outcome: per-epoch history, final metrics, and the training loop's time. */
export interface PhaseResult {
  /** One entry per epoch, in order, up to the epoch that diverged if one did. */
  readonly history: EpochMetrics[];
  /** Null when every epoch's losses were finite; else where the phase stopped. */
  readonly diverged: Divergence | null;
  /** Null without early stopping; else which epoch's weights the phase kept, and where it stopped. */
  readonly earlyStop: EarlyStop | null;
  /** Measured on the three splits with the weights the phase ends with (the best epoch's, when it stopped early). */
  readonly metrics: TaskMetrics;
  /** Milliseconds of the engine's `trainPhase` (epochs and their test evaluations), not of `metrics`. */
  readonly ms: number;
}

/** Which task a phase trains on. */
export type Task = "source" | "target";

/** What a phase is about to do. */
export interface PhaseStart {
  /** `source` when pretraining, `target` for a transfer. */
  readonly task: Task;
  /** The strategy of a transfer; null for pretraining. */
  readonly strategy: StrategyName | null;
  /** The phase's base step size, before each layer's multiplier. */
  readonly learningRate: number;
  /** One multiplier of `learningRate` per layer, input to output; 0 freezes the layer. */
  readonly layerRates: readonly number[];
  /** Why a layer planned as pretrained starts fresh; empty when none. */
  readonly notes: readonly string[];
}

/** Told when each phase starts and after each of its epochs (a program logs these, say). */
export interface TrainingListener {
  /** Before the phase's first epoch, with its model already on the engine. */
  started?(phase: PhaseStart): void;
  /** After each epoch of the phase, in order; `epochs` is the phase's total. */
  epoch?(task: Task, metrics: EpochMetrics, epochs: number): void;
  /** When the phase stops at a non-finite training loss. */
  diverged?(phase: PhaseStart, divergence: Divergence): void;
}

/**
 * The seeds of a phase on `task`, derived from the experiment's seed by name: `init` draws the fresh
 * weights (`init:source`, `init:target`), `shuffle` seeds every epoch's order (`shuffle:source`, ...).
 */
export function phaseSeeds(seed: number, task: Task): { readonly init: number; readonly shuffle: number } {
  return { init: deriveSeed(seed, `init:${task}`), shuffle: deriveSeed(seed, `shuffle:${task}`) };
}

/** Trains a fresh He-initialised model on the source task, every layer at rate 1. */
export async function pretrain(
  engine: Engine,
  source: TaskHandles,
  spec: ExperimentSpec,
  listener: TrainingListener = {},
): Promise<PhaseResult & { model: Mlp }> {
  const seeds = phaseSeeds(spec.data.seed, "source");
  const widths = sourceWidths(spec);
  engine.setModel(heModel(widths, new Rng(seeds.init)));
  const layerRates = uniformRates(widths.length - 1);
  const start: PhaseStart = {
    task: "source",
    strategy: null,
    learningRate: spec.pretrain.learningRate,
    layerRates,
    notes: [],
  };
  const phase = await runPhase(
    engine,
    source,
    start,
    spec.pretrain,
    seeds.shuffle,
    listener,
  );
  return { ...phase, model: await engine.readModel() };
}

/** Adapts the pretrained model to the target task as the strategy's plan says. */
export async function transfer(
  engine: Engine,
  target: TaskHandles,
  pretrained: Mlp,
  strategy: StrategyName,
  spec: ExperimentSpec,
  listener: TrainingListener = {},
): Promise<PhaseResult & { notes: string[] }> {
  const seeds = phaseSeeds(spec.data.seed, "target");
  const init = new Rng(seeds.init);
  const { model, layerRates, notes } = startTransfer(
    spec.plans[strategy],
    pretrained,
    spec.data.targetClasses,
    init,
  );
  engine.setModel(model);
  const start: PhaseStart = {
    task: "target",
    strategy,
    learningRate: spec.transfer.learningRate,
    layerRates,
    notes,
  };
  const phase = await runPhase(
    engine,
    target,
    start,
    spec.transfer,
    seeds.shuffle,
    listener,
  );
  return { ...phase, notes };
}

async function runPhase(
  engine: Engine,
  data: TaskHandles,
  start: PhaseStart,
  schedule: PhaseSchedule,
  shuffleSeed: number,
  listener: TrainingListener,
): Promise<PhaseResult> {
  listener.started?.(start);
  const epochs = phaseEpochs(schedule, data.train.n);
  let diverged: Divergence | null = null;
  const spec: PhaseSpec = {
    train: data.train,
    test: data.test,
    epochs,
    ...(schedule.steps === null ? {} : { steps: schedule.steps }),
    batchSize: schedule.batchSize,
    learningRate: schedule.learningRate,
    layerRates: start.layerRates,
    shuffleSeed,
    onEpoch: (metrics) => {
      listener.epoch?.(start.task, metrics, epochs);
      const loss = divergedLoss(metrics);
      if (loss === null) return true;
      diverged = { epoch: metrics.epoch, loss };
      listener.diverged?.(start, diverged);
      return false; // a non-finite loss never recovers: stop the phase here
    },
  };
  const started = performance.now();
  const { history, earlyStop } = schedule.patience === null
    ? { history: await engine.trainPhase(spec), earlyStop: null }
    : await trainWithEarlyStopping(engine, spec, data.validation, schedule.patience);
  const ms = performance.now() - started;
  const metrics = {
    train: await engine.evaluate(data.train),
    validation: await engine.evaluate(data.validation),
    test: await engine.evaluate(data.test),
  };
  return { history, diverged, earlyStop, metrics, ms };
}

/**
 * `spec` one epoch at a time, measuring the validation loss after each: stops once `patience` epochs
 * in a row have not lowered it (or an epoch diverged), and leaves the best epoch's weights on the
 * engine. Each epoch trains exactly as it would in one whole run (same shuffle, same steps).
 */
async function trainWithEarlyStopping(
  engine: Engine,
  spec: PhaseSpec,
  validation: DatasetHandle,
  patience: number,
): Promise<{ history: EpochMetrics[]; earlyStop: EarlyStop | null }> {
  const history: EpochMetrics[] = [];
  let best = { loss: Infinity, epoch: 0, model: await engine.readModel() };
  for (let index = 0; index < spec.epochs; index++) {
    const steps = spec.steps === undefined ? {} : { steps: epochSteps(spec, spec.train.n, index) };
    const [metrics] = await engine.trainPhase({ ...spec, epochs: 1, firstEpoch: index + 1, ...steps });
    history.push(metrics);
    if (divergedLoss(metrics) !== null) return { history, earlyStop: null };
    const { loss } = await engine.evaluate(validation);
    if (loss < best.loss) best = { loss, epoch: metrics.epoch, model: await engine.readModel() };
    else if (metrics.epoch - best.epoch >= patience) break;
  }
  const lastEpoch = history.at(-1)?.epoch ?? 0;
  if (best.epoch !== lastEpoch) engine.setModel(best.model);
  return { history, earlyStop: { bestEpoch: best.epoch, lastEpoch } };
}

/**
 * The loss that shows an epoch diverged, or null when it did not: its mean training loss, else the
 * test loss measured after its last step (a step that blows up at the end of an epoch shows only there).
 */
function divergedLoss(metrics: EpochMetrics): number | null {
  if (!Number.isFinite(metrics.train.loss)) return metrics.train.loss;
  return Number.isFinite(metrics.test.loss) ? null : metrics.test.loss;
}
