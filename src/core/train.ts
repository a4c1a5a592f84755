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
  type PhaseAfter,
  type PhaseSpec,
  stepsPerEpoch,
  type TaskHandles,
} from "./engine.ts";
import { heModel, layerWidths, type Mlp } from "./model.ts";
import type { OptimizerName, OptimizerSpec, Penalty } from "./optimizers.ts";
import { deriveSeed, Rng } from "./rng.ts";
import {
  type Adapter,
  type PartRates,
  type Recipe,
  type Stage,
  stageBudgets,
  startTransfer,
  type StrategyName,
  trainableParameters,
  uniformRates,
} from "./recipes.ts";

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
  /** The update rule and its settings. */
  readonly optimizer: OptimizerSpec;
}

/** Epochs a phase on `rows` training rows runs under `schedule`: `epochs`, or as many as `steps` need. */
export function phaseEpochs(schedule: PhaseSchedule, rows: number): number {
  return schedule.steps === null
    ? schedule.epochs
    : Math.ceil(schedule.steps / stepsPerEpoch(rows, schedule.batchSize));
}

/** A stretch of a phase trained at one set of layer rates: a recipe's stage, or all of pretraining. */
export interface Segment {
  /** Per layer, the multipliers of the phase's learning rate for its weights and its biases. */
  readonly layerRates: readonly PartRates[];
  /** Its first epoch's number in the phase (1-based): epochs are numbered, and shuffled, across stages. */
  readonly firstEpoch: number;
  /** Its epochs, the last one partial when `steps` ends inside it. */
  readonly epochs: number;
  /** Under a step budget, its share of the steps; absent under an epoch budget. */
  readonly steps?: number;
  /** The stage's own update rule, when it overrides the phase's. */
  readonly optimizer?: OptimizerName;
}

/**
 * The segments of a phase on `rows` training rows that runs `stages` under `schedule`: the budget
 * (epochs, or steps) is cut by `stageBudgets`. Under a step budget a stage ends where its steps run
 * out and the next starts a fresh epoch. One stage gives one segment of the whole budget.
 */
export function phaseSegments(schedule: PhaseSchedule, rows: number, stages: readonly Stage[]): Segment[] {
  const perEpoch = stepsPerEpoch(rows, schedule.batchSize);
  const budgets = stageBudgets(stages, schedule.steps ?? schedule.epochs);
  let firstEpoch = 1;
  return stages.map((stage, s) => {
    const budget = budgets[s];
    const epochs = schedule.steps === null ? budget : Math.ceil(budget / perEpoch);
    const segment = {
      layerRates: stage.rates,
      firstEpoch,
      epochs,
      ...(schedule.steps === null ? {} : { steps: budget }),
      ...(stage.optimizer ? { optimizer: stage.optimizer } : {}),
    };
    firstEpoch += epochs;
    return segment;
  });
}

/** Everything an experiment needs: the tasks, the hidden widths, both phases, every strategy's recipe. */
export interface ExperimentSpec {
  /** The two tasks; `data.seed` also seeds the initial weights and the shuffles. */
  readonly data: DataSpec;
  /** Widths of the hidden layers, input to output; the model has one more layer, the head. */
  readonly hiddenDims: readonly number[];
  /** The source phase: every layer learns at rate 1 from a fresh He initialisation. */
  readonly pretrain: PhaseSchedule;
  /** Every strategy's target phase; each layer's rate comes from the strategy's plan. */
  readonly transfer: PhaseSchedule;
  /** What each strategy starts from and, stage by stage, how fast each layer learns (see `builtInRecipes`). */
  readonly recipes: Readonly<Record<StrategyName, Recipe>>;
  /** Every strategy `recipes` holds, in the order they are shown: the built-in ones, then the config's. */
  readonly strategies: readonly StrategyName[];
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

/** One phase's outcome: per-epoch history, final metrics, and the phase's time. */
export interface PhaseResult {
  /** One entry per epoch, in order, up to the epoch that diverged if one did. */
  readonly history: EpochMetrics[];
  /** Null when every epoch's losses were finite; else where the phase stopped. */
  readonly diverged: Divergence | null;
  /** Null without early stopping; else which epoch's weights the phase kept, and where it stopped. */
  readonly earlyStop: EarlyStop | null;
  /** Measured on the three splits with the weights the phase ends with (the best epoch's, when it stopped early). */
  readonly metrics: TaskMetrics;
  /**
   * Milliseconds of the phase: its epochs with their test evaluations, then measuring `metrics` (on the
   * GPU engine the splits are measured within the phase's last submission, so they cannot be told apart).
   */
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
  /** The phase's base step size, before each layer's multipliers. */
  readonly learningRate: number;
  /** Per layer, input to output, the multipliers of `learningRate` for weights and biases; 0 freezes a part. */
  readonly layerRates: readonly PartRates[];
  /** Why a layer planned as pretrained starts fresh; empty when none. */
  readonly notes: readonly string[];
  /** Which stage of the recipe this is, 1-based, and how many it has (1 and 1 for pretraining). */
  readonly stage: number;
  /** How many stages the phase has. */
  readonly stages: number;
  /** The stage's first epoch and its epochs. */
  readonly segment: Segment;
}

/** Told when each phase starts and after each of its epochs (a program logs these, say). */
export interface TrainingListener {
  /** Before each stage's first epoch (once for pretraining), with its model already on the engine. */
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
  const phase = await runPhase(
    engine,
    source,
    { task: "source", strategy: null, learningRate: spec.pretrain.learningRate, notes: [] },
    spec.pretrain,
    { stages: [{ share: 1, rates: uniformRates(widths.length - 1) }] },
    seeds.shuffle,
    listener,
  );
  return { ...phase, model: await engine.readModel() };
}

/**
 * A pretrained model given rather than trained (loaded from a checkpoint): put on the engine and
 * measured on the source task's splits, as a phase of no epochs.
 */
export async function evaluatePretrained(
  engine: Engine,
  source: TaskHandles,
  model: Mlp,
): Promise<PhaseResult & { model: Mlp }> {
  engine.setModel(model);
  const metrics = await taskMetrics(engine, source);
  return { history: [], diverged: null, earlyStop: null, metrics, ms: 0, model };
}

/** Why the target's classes are not the source's though as many (real tasks' other labels), or null. */
function otherClasses({ real }: DataSpec): string | null {
  if (real === null) return null;
  const [source, target] = [real.source.classNames, real.target.classNames];
  if (source.length !== target.length || source.every((name, k) => name === target[k])) return null;
  const list = (names: readonly string[]) =>
    names.length <= 10 ? names.join(", ") : `${names.slice(0, 10).join(", ")}, …`;
  return `the target's classes (${list(target)}) are not the source's (${list(source)})`;
}

/** Adapts the pretrained model to the target task as the strategy's recipe says, stage by stage. */
export async function transfer(
  engine: Engine,
  target: TaskHandles,
  pretrained: Mlp,
  strategy: StrategyName,
  spec: ExperimentSpec,
  listener: TrainingListener = {},
): Promise<PhaseResult & { notes: string[]; trainable: TrainableCount }> {
  const seeds = phaseSeeds(spec.data.seed, "target");
  const init = new Rng(seeds.init);
  const { model, stages, notes, penalties, adapters } = startTransfer(
    spec.recipes[strategy],
    pretrained,
    spec.data.targetClasses,
    init,
    otherClasses(spec.data),
  );
  engine.setModel(model);
  const phase = await runPhase(
    engine,
    target,
    { task: "target", strategy, learningRate: spec.transfer.learningRate, notes },
    spec.transfer,
    { stages, ...(penalties ? { penalties, anchor: model } : {}), ...(adapters ? { adapters } : {}) },
    seeds.shuffle,
    listener,
  );
  const widths = targetWidths(spec);
  const trainable = {
    parameters: trainableParameters(stages, widths, spec.recipes[strategy].adapters),
    ofModel: model.reduce((sum, layer) => sum + layer.weights.length + layer.bias.length, 0),
  };
  return { ...phase, notes, trainable };
}

/** How many parameters a transfer trains, and how many its model has (what full fine-tuning trains). */
export interface TrainableCount {
  /** Weights and biases that learn in some stage, an adapter's factors counted in place of its layer's weights. */
  readonly parameters: number;
  /** Every weight and bias of the target model. */
  readonly ofModel: number;
}

/** What a phase's stages share of {@linkcode PhaseStart}. */
type PhaseHeader = Pick<PhaseStart, "task" | "strategy" | "learningRate" | "notes">;

/**
 * What a phase trains: its stages, the penalties of every stage with the parameters they pull
 * towards, and the adapters every stage trains (the same objects, so that each stage goes on from the last).
 */
interface PhasePlan {
  readonly stages: readonly Stage[];
  readonly penalties?: readonly Penalty[];
  readonly anchor?: Mlp;
  readonly adapters?: readonly (Adapter | null)[];
}

/** Runs the plan's stages in order as segments of one phase; divergence or early stopping ends them all. */
async function runPhase(
  engine: Engine,
  data: TaskHandles,
  header: PhaseHeader,
  schedule: PhaseSchedule,
  plan: PhasePlan,
  shuffleSeed: number,
  listener: TrainingListener,
): Promise<PhaseResult> {
  const segments = phaseSegments(schedule, data.train.n, plan.stages);
  const epochs = segments.reduce((sum, segment) => sum + segment.epochs, 0);
  const history: EpochMetrics[] = [];
  const stopper = schedule.patience === null
    ? null
    : await EarlyStopper.start(engine, data.validation, schedule.patience);
  let diverged: Divergence | null = null;
  // The splits are measured with the last stage that trains, unless early stopping may yet put back
  // an earlier epoch's weights; when no report comes (a phase cut short), they are measured after.
  const lastTrained = segments.findLastIndex((segment) => segment.epochs > 0);
  let measured: TaskMetrics | null = null;
  const started = performance.now();
  for (const [s, segment] of segments.entries()) {
    const start: PhaseStart = {
      ...header,
      layerRates: segment.layerRates,
      stage: s + 1,
      stages: segments.length,
      segment,
    };
    listener.started?.(start);
    const spec: PhaseSpec = segmentSpec(data, schedule, plan, segment, shuffleSeed, (metrics) => {
      listener.epoch?.(header.task, metrics, epochs);
      const loss = divergedLoss(metrics);
      if (loss === null) return true;
      diverged = { epoch: metrics.epoch, loss };
      listener.diverged?.(start, diverged);
      return false; // a non-finite loss never recovers: stop the phase here
    });
    if (segment.epochs === 0) continue; // a stage the budget left empty: it must not touch the engine's state
    if (stopper !== null) {
      await stopper.train(spec, history);
    } else {
      const after = s === lastTrained ? { after: measuringSplits(data, (m) => measured = m) } : {};
      history.push(...await engine.trainPhase({ ...spec, ...after }));
    }
    if (diverged !== null) break;
  }
  const earlyStop = await stopper?.finish(history) ?? null;
  const metrics = measured ?? await taskMetrics(engine, data);
  return { history, diverged, earlyStop, metrics, ms: performance.now() - started };
}

/** A task's three splits to measure after a phase (in its own wait, on the GPU), handed to `take`. */
function measuringSplits(data: TaskHandles, take: (metrics: TaskMetrics) => void): PhaseAfter {
  return {
    sets: [data.train, data.validation, data.test],
    report: ([train, validation, test]) => take({ train, validation, test }),
  };
}

/** The engine's phase for one `segment` of a phase planned as `plan` on `data`, reporting to `onEpoch`. */
function segmentSpec(
  data: TaskHandles,
  schedule: PhaseSchedule,
  plan: PhasePlan,
  segment: Segment,
  shuffleSeed: number,
  onEpoch: PhaseSpec["onEpoch"],
): PhaseSpec {
  return {
    train: data.train,
    test: data.test,
    epochs: segment.epochs,
    firstEpoch: segment.firstEpoch,
    ...(segment.steps === undefined ? {} : { steps: segment.steps }),
    batchSize: schedule.batchSize,
    learningRate: schedule.learningRate,
    layerRates: segment.layerRates,
    optimizer: segment.optimizer ? { ...schedule.optimizer, name: segment.optimizer } : schedule.optimizer,
    ...(plan.penalties ? { penalties: plan.penalties, anchor: plan.anchor } : {}),
    ...(plan.adapters ? { adapters: plan.adapters } : {}),
    shuffleSeed,
    onEpoch,
  };
}

/** The model on the engine, measured on each of a task's three splits together (one wait on a GPU). */
async function taskMetrics(engine: Engine, data: TaskHandles): Promise<TaskMetrics> {
  const [train, validation, test] = await engine.evaluate([data.train, data.validation, data.test]);
  return { train, validation, test };
}

/**
 * Early stopping across a phase's stages: trains each stage one epoch at a time, measuring the
 * validation loss after each; ends a stage once `patience` of its epochs in a row have not lowered it
 * (the last stage's end is the phase's), stops at an epoch that diverged, and leaves the best epoch's
 * weights, of the whole phase, on the engine. Each epoch trains exactly as it would in one whole run
 * (same shuffle, same steps).
 */
class EarlyStopper {
  private constructor(
    readonly engine: Engine,
    readonly validation: DatasetHandle,
    readonly patience: number,
    private best: { loss: number; epoch: number; model: Mlp },
  ) {}

  /** A stopper whose best so far is the model on the engine now, as epoch 0 with no loss measured. */
  static async start(engine: Engine, validation: DatasetHandle, patience: number): Promise<EarlyStopper> {
    return new EarlyStopper(engine, validation, patience, {
      loss: Infinity,
      epoch: 0,
      model: await engine.readModel(),
    });
  }

  /**
   * Trains `spec` (one stage) epoch by epoch into `history`. A stage ends early once `patience` of its
   * own epochs have not lowered the best validation loss, and the next stage starts (`lp_ft`'s probe
   * must not end the transfer before its fine-tuning). An epoch that diverged ends the stage (its
   * `onEpoch` says so to the phase).
   */
  async train(spec: PhaseSpec, history: EpochMetrics[]): Promise<void> {
    const firstEpoch = spec.firstEpoch ?? 1;
    for (let index = 0; index < spec.epochs; index++) {
      const steps = spec.steps === undefined ? {} : { steps: epochSteps(spec, spec.train.n, index) };
      const [metrics] = await this.engine.trainPhase({
        ...spec,
        epochs: 1,
        firstEpoch: firstEpoch + index,
        ...steps,
      });
      history.push(metrics);
      if (divergedLoss(metrics) !== null) return;
      const [{ loss }] = await this.engine.evaluate([this.validation]);
      if (loss < this.best.loss) {
        this.best = { loss, epoch: metrics.epoch, model: await this.engine.readModel() };
      } else if (metrics.epoch - Math.max(this.best.epoch, firstEpoch - 1) >= this.patience) return;
    }
  }

  /** Puts the best epoch's weights back (unless the last epoch was the best), and says where it stopped. */
  finish(history: readonly EpochMetrics[]): EarlyStop | null {
    const last = history.at(-1);
    if (last !== undefined && divergedLoss(last) !== null) return null;
    const lastEpoch = last?.epoch ?? 0;
    if (this.best.epoch !== lastEpoch) this.engine.setModel(this.best.model);
    return { bestEpoch: this.best.epoch, lastEpoch };
  }
}

/**
 * The loss that shows an epoch diverged, or null when it did not: its mean training loss, else the
 * test loss measured after its last step (a step that blows up at the end of an epoch shows only there).
 */
function divergedLoss(metrics: EpochMetrics): number | null {
  if (!Number.isFinite(metrics.train.loss)) return metrics.train.loss;
  return Number.isFinite(metrics.test.loss) ? null : metrics.test.loss;
}
