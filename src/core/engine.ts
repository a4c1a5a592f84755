/**
 * The seam between the training logic and the hardware that does the arithmetic.
 *
 * The training loop uploads each dataset once, places a model on the engine, asks for whole phases
 * of epochs and reads parameters back only between phases. A phase reports each epoch's metrics
 * through a callback as soon as they are known, which lets an engine with a queue (the GPU) run
 * ahead and deliver them late, and lets one without (the CPU) deliver them at once.
 *
 * @module
 */

import type { Dataset, TaskData } from "./data.ts";
import type { Mlp } from "./model.ts";
import type { OptimizerSpec, Penalty } from "./optimizers.ts";
import type { Adapter, PartRates } from "./recipes.ts";

/** Mean loss and accuracy (a fraction in [0, 1]) over a set of samples. */
export interface Metrics {
  /** Softmax cross-entropy averaged over the samples, in nats (natural log). */
  readonly loss: number;
  /** Share of samples whose largest logit (the first, on ties) is the label. */
  readonly accuracy: number;
}

/** One epoch of a phase: the running training metrics of its minibatches, and the test set after it. */
export interface EpochMetrics {
  /** 1-based. */
  readonly epoch: number;
  /** Averaged over the epoch's minibatches, each weighted by its rows, as the weights moved. */
  readonly train: Metrics;
  /** Evaluated on the phase's test set after the epoch's last step. */
  readonly test: Metrics;
}

/** A dataset that lives on an engine; only the engine that made it may use it. */
export interface DatasetHandle {
  /** Rows of the uploaded dataset, as in its {@linkcode Dataset}. */
  readonly n: number;
  /** Values per row of the uploaded dataset. */
  readonly features: number;
  /** Classes its labels are drawn from. */
  readonly classes: number;
}

/** A task's two splits, uploaded to one engine. */
export interface TaskHandles {
  /** The uploaded training split, which phases train on. */
  readonly train: DatasetHandle;
  /** The uploaded validation split: what choices (a strategy, when to stop) are made on. */
  readonly validation: DatasetHandle;
  /** The uploaded test split, which phases evaluate after each epoch; it only reports. */
  readonly test: DatasetHandle;
}

/** A phase of minibatch SGD on the engine's current model. */
export interface PhaseSpec {
  /** Minibatches come from here, in a fresh shuffled order each epoch; made by this engine's `upload`. */
  readonly train: DatasetHandle;
  /** Evaluated after every epoch, for `EpochMetrics.test`; made by this engine's `upload`. */
  readonly test: DatasetHandle;
  /** Full passes over `train`; 0 trains nothing and reports no epochs. */
  readonly epochs: number;
  /** Rows per minibatch; an epoch's last minibatch takes the remainder, so it may be shorter. */
  readonly batchSize: number;
  /** SGD step size before each layer's multipliers from `layerRates`. */
  readonly learningRate: number;
  /**
   * Per layer, multipliers of `learningRate` for its weights and its biases; 0 freezes that part (its
   * bytes stay unchanged).
   */
  readonly layerRates: readonly PartRates[];
  /**
   * The update rule (see `optimizers.ts`); plain SGD when absent. Each learning part's optimizer
   * state stays on the engine: it starts fresh when the part starts learning (after `setModel`, or
   * after a phase that froze it) or the rule changes, and carries over from phase to phase while the
   * part learns under the same rule.
   */
  readonly optimizer?: OptimizerSpec;
  /** Per layer, the pulls besides the loss (weight decay towards 0, L2-SP's towards `anchor`); none when absent. */
  readonly penalties?: readonly Penalty[];
  /** What the penalties' anchors pull towards (the pretrained model, in the target's shape); read only where an anchor is above 0. */
  readonly anchor?: Mlp;
  /**
   * Per layer, a low-rank adapter that learns in place of its weights (LoRA), or null; none when absent.
   * With one, the layer's weights are `W₀ + scale · A · B`, W₀ being its weights when this adapter
   * object was first given (they never change), and `layerRates[l].weights` is the factors' rate. The
   * engine keeps A, B and their optimizer state from phase to phase while it is given the same object;
   * `setModel`, or another object, starts afresh from the object's factors.
   */
  readonly adapters?: readonly (Adapter | null)[];
  /** Seeds the per-epoch shuffles (see `epochOrder` in `shuffle.ts`). */
  readonly shuffleSeed: number;
  /**
   * The number of the phase's first epoch, 1 by default. It picks each epoch's shuffle, so a phase run
   * one epoch at a time (to decide after each whether to go on) trains exactly as one run whole.
   */
  readonly firstEpoch?: number;
  /** At most this many SGD steps in all, the last epoch stopping early; by default every epoch is whole. */
  readonly steps?: number;
  /**
   * Called once per epoch, in order, as soon as that epoch's metrics are available (the GPU engine
   * has them all at the phase's end); returning false ends the reports there (later epochs are neither
   * reported nor returned, though an engine may already have trained them: the GPU engine submits a
   * whole phase before it reads any metric).
   */
  readonly onEpoch?: (metrics: EpochMetrics) => boolean | void;
  /**
   * Datasets to measure as `evaluate` would once the phase has trained (after the reports have
   * ended too), handed to `report` before `trainPhase` resolves; the GPU engine measures them in the
   * phase's own wait (with 0 epochs, in one of their own). An engine wrapper may leave them unmeasured
   * (`report` is then never called), so a caller measures them itself when no report came.
   */
  readonly after?: PhaseAfter;
}

/** What {@linkcode PhaseSpec.after} measures once a phase has trained, and where the metrics go. */
export interface PhaseAfter {
  /** The datasets, measured under the model the phase ends with. */
  readonly sets: readonly DatasetHandle[];
  /** Receives each dataset's metrics, in order. */
  readonly report: (metrics: Metrics[]) => void;
}

/** What runs the arithmetic: the CPU and GPU engines in `src/engines/` implement it. */
export interface Engine {
  /** Short name for logs and results, e.g. `"cpu"`. */
  readonly name: string;
  /** What the engine runs on, for people: kernels, adapter, threads. */
  readonly description: string;
  /** Makes a dataset resident on the engine, once (the GPU copies it to device memory); the handle serves every later phase. */
  upload(data: Dataset): DatasetHandle;
  /** Frees what `upload` made resident (device memory on the GPU); the handle must not be used again. */
  release(data: DatasetHandle): void;
  /** Replaces the engine's current model with a copy of `model`. */
  setModel(model: Mlp): void;
  /** A copy of the engine's current model. */
  readModel(): Promise<Mlp>;
  /** Trains the current model; resolves with every epoch's metrics once the phase is done. */
  trainPhase(spec: PhaseSpec): Promise<EpochMetrics[]>;
  /**
   * Loss and accuracy of the current model on each of `sets`, in order. They are measured together,
   * so the GPU engine waits for the device once for them all, not once a dataset.
   */
  evaluate(sets: readonly DatasetHandle[]): Promise<Metrics[]>;
  /**
   * The current model's outputs before the softmax for every row of `data`: `n × classes`,
   * row-major (row i is sample i). The arithmetic is `evaluate`'s forward pass, so the largest
   * logit of each row (the first, on ties) is the class `evaluate` counts as its prediction.
   */
  logits(data: DatasetHandle): Promise<Float32Array<ArrayBuffer>>;
  /** Frees what the engine holds. */
  dispose(): void;
}

/** Minibatches in one whole epoch over `rows` rows: `⌈rows / batchSize⌉`, the last one partial. */
export function stepsPerEpoch(rows: number, batchSize: number): number {
  return Math.ceil(rows / batchSize);
}

/**
 * How many minibatches epoch `index` (0-based within `spec`) runs over `rows` training rows: all of
 * them, or fewer once `spec.steps` runs out.
 */
export function epochSteps(
  spec: Pick<PhaseSpec, "batchSize" | "steps">,
  rows: number,
  index: number,
): number {
  const whole = stepsPerEpoch(rows, spec.batchSize);
  return spec.steps === undefined ? whole : Math.max(0, Math.min(whole, spec.steps - index * whole));
}

/** Each layer's SGD step sizes in a phase: the learning rate times the layer's multipliers. */
export function stepSizes(learningRate: number, layerRates: readonly PartRates[]): PartRates[] {
  return layerRates.map((rates) => ({
    weights: learningRate * rates.weights,
    biases: learningRate * rates.biases,
  }));
}

/** Which layers a backward pass must serve: those that learn (either part's rate above 0), and the lowest of them. */
export interface GradientPlan {
  /** One flag per layer, input to output: true where its weights or its biases learn. */
  readonly learns: readonly boolean[];
  /** The lowest layer that learns, or −1 when none does: nothing below it needs a gradient. */
  readonly lowest: number;
}

/** The gradient plan of a phase with these per-layer rate multipliers. */
export function gradientPlan(layerRates: readonly PartRates[]): GradientPlan {
  const learns = layerRates.map((rates) => rates.weights > 0 || rates.biases > 0);
  return { learns, lowest: learns.indexOf(true) };
}

/** Uploads the three splits of a task. */
export function uploadTask(engine: Engine, task: TaskData): TaskHandles {
  return {
    train: engine.upload(task.train),
    validation: engine.upload(task.validation),
    test: engine.upload(task.test),
  };
}

/** Releases the splits of a task uploaded with {@linkcode uploadTask}. */
export function releaseTask(engine: Engine, task: TaskHandles): void {
  engine.release(task.train);
  engine.release(task.validation);
  engine.release(task.test);
}
