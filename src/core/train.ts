/**
 * The experiment: pretrain on the source task, then transfer to the target task with a strategy.
 * Engine-agnostic: everything here goes through the {@linkcode Engine} interface, and everything it
 * needs comes in an {@linkcode ExperimentSpec}; what happens is reported to a {@linkcode TrainingListener}.
 *
 * @module
 */

import type { DataSpec } from "./data.ts";
import type { Engine, EpochMetrics, Metrics, TaskHandles } from "./engine.ts";
import { heModel, layerWidths, type Mlp } from "./model.ts";
import { deriveSeed, Rng } from "./rng.ts";
import { startTransfer, type StrategyName, type StrategyPlan, uniformRates } from "./strategies.ts";

/** How one phase trains: its epochs, minibatch size and learning rate. */
export interface PhaseSchedule {
  /** Full passes over the training split; 0 leaves the model as it starts. */
  readonly epochs: number;
  /** Rows per minibatch; an epoch's last minibatch takes the remainder. */
  readonly batchSize: number;
  /** Multiplied by each layer's rate (1 for every layer when pretraining). */
  readonly learningRate: number;
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
  /** Measured on the test split with the final weights. */
  readonly test: Metrics;
}

/** One phase's outcome: per-epoch history, final metrics, and the training loop's time. */
export interface PhaseResult {
  /** One entry per epoch, in order. */
  readonly history: EpochMetrics[];
  /** Measured after the last epoch, on both splits of the phase's task. */
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
  const started = performance.now();
  const history = await engine.trainPhase({
    ...schedule,
    layerRates: start.layerRates,
    shuffleSeed,
    train: data.train,
    test: data.test,
    onEpoch: (metrics) => listener.epoch?.(start.task, metrics, schedule.epochs),
  });
  const ms = performance.now() - started;
  const metrics = { train: await engine.evaluate(data.train), test: await engine.evaluate(data.test) };
  return { history, metrics, ms };
}
