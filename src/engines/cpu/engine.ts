/**
 * The CPU engine: the whole training step on the CPU (see `mlp.ts`), with the kernels of a
 * {@linkcode KernelSet}: the TypeScript reference (`reference_kernels.ts`), or WebAssembly SIMD.
 *
 * The model and its work buffers are allocated together from one arena per shape and batch
 * capacity, so a training step allocates nothing. Each epoch's metrics are delivered as soon as the
 * epoch ends.
 *
 * @module
 */

import type { Dataset } from "../../core/data.ts";
import {
  type DatasetHandle,
  type Engine,
  type EpochMetrics,
  epochSteps,
  type GradientPlan,
  gradientPlan,
  type Metrics,
  type PhaseSpec,
  stepSizes,
} from "../../core/engine.ts";
import { type Mlp, sameShape } from "../../core/model.ts";
import {
  isPlainSgd,
  NO_PENALTY,
  type OptimizerSpec,
  type Penalty,
  PLAIN_SGD,
} from "../../core/optimizers.ts";
import type { PartRates } from "../../core/recipes.ts";
import { freshState, optimizerStep, type PartState } from "./optimizer.ts";
import { CpuAdapter } from "./adapter.ts";
import { type Arena, type KernelSet, TS_KERNELS } from "./arena.ts";
import { epochOrder } from "../../core/shuffle.ts";
import {
  type Floats,
  gatherRows,
  type LossSum,
  type StepKernels,
  TS_STEP_KERNELS,
} from "./reference_kernels.ts";
import { backward, forward, type LayerParams, Workspace } from "./mlp.ts";

/**
 * Rows per forward pass when measuring a whole dataset, and the workspace's least capacity: big
 * enough that each kernel call has work, small enough that the activations stay in cache.
 */
export const EVAL_BATCH_ROWS = 256;

interface CpuDataset extends DatasetHandle {
  readonly data: Dataset;
}

/** Trains and evaluates on the CPU with Float32Array parameters. */
export class CpuEngine implements Engine {
  readonly name = "cpu";
  readonly description: string;
  #model: LayerParams[] = [];
  #workspace: Workspace | null = null;
  #kernels: StepKernels = TS_STEP_KERNELS;
  #sum: LossSum = { loss: 0, correct: 0 };
  /** Each layer's optimizer state, weights and biases apart; null for a part that is not learning. */
  #state: { weights: PartState | null; biases: PartState | null }[] = [];
  /** The update rule `#state` belongs to. */
  #rule = PLAIN_SGD.name;
  /** Per layer, the LoRA adapter that learns in place of its weights, or null. */
  #adapters: (CpuAdapter | null)[] = [];
  /** Where the model and workspace live, for an adapter's arrays. */
  #arena: Arena | null = null;

  /** An engine running `kernels` (the TypeScript reference by default); it disposes of them. */
  constructor(readonly kernels: KernelSet = TS_KERNELS) {
    this.description = kernels.description;
  }

  upload(data: Dataset): DatasetHandle {
    const handle: CpuDataset = { n: data.n, features: data.features, classes: data.classes, data };
    return handle;
  }

  setModel(model: Mlp): void {
    this.#state = [];
    this.#adapters = [];
    if (!sameShape(model, this.#model)) {
      return this.#allocate(model, this.#workspace?.capacity ?? EVAL_BATCH_ROWS);
    }
    model.forEach((layer, l) => {
      this.#model[l].weights.set(layer.weights);
      this.#model[l].bias.set(layer.bias);
    });
  }

  readModel(): Promise<Mlp> {
    return Promise.resolve(this.#snapshot());
  }

  trainPhase(spec: PhaseSpec): Promise<EpochMetrics[]> {
    const { data } = spec.train as CpuDataset;
    const ranks = spec.adapters?.map((adapter) => adapter?.rank ?? 0) ?? [];
    const ws = this.#workspaceFor(Math.max(spec.batchSize, ...ranks)); // a rank is a product's sum length too
    const plan = gradientPlan(spec.layerRates);
    const steps = stepSizes(spec.learningRate, spec.layerRates);
    this.#prepareAdapters(spec, this.#prepareState(spec));
    const order = new Uint32Array(data.n);
    const history: EpochMetrics[] = [];
    for (let index = 0; index < spec.epochs; index++) {
      const epoch = (spec.firstEpoch ?? 1) + index;
      epochOrder(order, spec.shuffleSeed, epoch);
      let loss = 0, correct = 0, seen = 0;
      for (let step = 0; step < epochSteps(spec, data.n, index); step++) {
        const from = step * spec.batchSize, rows = Math.min(spec.batchSize, data.n - from);
        gatherRows(data.x, order, from, rows, data.features, ws.activations[0]);
        for (let r = 0; r < rows; r++) ws.labels[r] = data.labels[order[from + r]];
        forward(ws, this.#model, rows, this.#kernels);
        backward(ws, this.#model, rows, plan, this.#sum, this.#kernels);
        this.#update(ws, plan, steps, spec);
        loss += this.#sum.loss;
        correct += this.#sum.correct;
        seen += rows;
      }
      const metrics = {
        epoch,
        train: { loss: loss / seen, accuracy: correct / seen },
        test: this.#measure(spec.test),
      };
      history.push(metrics);
      if (spec.onEpoch?.(metrics) === false) break;
    }
    spec.after?.report(spec.after.sets.map((data) => this.#measure(data)));
    return Promise.resolve(history);
  }

  release(_data: DatasetHandle): void {
    // The dataset lives in ordinary arrays that the caller holds: nothing is copied, nothing to free.
  }

  evaluate(sets: readonly DatasetHandle[]): Promise<Metrics[]> {
    return Promise.resolve(sets.map((data) => this.#measure(data)));
  }

  logits(handle: DatasetHandle): Promise<Float32Array<ArrayBuffer>> {
    const { data } = handle as CpuDataset;
    const ws = this.#workspaceFor(EVAL_BATCH_ROWS);
    const classes = this.#model[this.#model.length - 1].outputs;
    const logits = new Float32Array(data.n * classes);
    for (let from = 0; from < data.n; from += ws.capacity) {
      const rows = Math.min(ws.capacity, data.n - from);
      const outputs = this.#forwardRows(ws, data, from, rows);
      logits.set(outputs.subarray(0, rows * classes), from * classes);
    }
    return Promise.resolve(logits);
  }

  dispose(): void {
    this.#model = [];
    this.#workspace = null;
    this.kernels.dispose();
  }

  /** The optimizer's step of every part that learns; a frozen part is not written at all, so its bytes stay. */
  #update(ws: Workspace, plan: GradientPlan, steps: readonly PartRates[], spec: PhaseSpec): void {
    const optimizer = spec.optimizer ?? PLAIN_SGD;
    this.#model.forEach((layer, l) => {
      if (!plan.learns[l]) return;
      const penalty = spec.penalties?.[l] ?? NO_PENALTY;
      const anchor = spec.anchor?.[l] ?? null;
      const adapter = this.#adapters[l];
      if (adapter === null) {
        const state = this.#state[l].weights;
        this.#stepPart(
          optimizer,
          penalty,
          layer.weights,
          ws.weightGrads[l],
          steps[l].weights,
          state,
          anchor?.weights,
        );
      } else if (steps[l].weights > 0) { // the factors learn for the weights (the penalty is not theirs)
        adapter.step(this.#kernels, ws.weightGrads[l], layer.weights, optimizer, steps[l].weights);
      }
      this.#stepPart(
        optimizer,
        penalty,
        layer.bias,
        ws.biasGrads[l],
        steps[l].biases,
        this.#state[l].biases,
        anchor?.bias,
      );
    });
  }

  /** One part's step at `rate` (none at 0); plain SGD through the kernel set's `sgdStep`, fast in both. */
  #stepPart(
    optimizer: OptimizerSpec,
    penalty: Penalty,
    w: Floats,
    g: Floats,
    rate: number,
    state: PartState | null,
    anchor: Floats | undefined,
  ): void {
    if (rate === 0) return;
    if (isPlainSgd(optimizer, penalty)) this.#kernels.sgdStep(w, g, rate);
    else optimizerStep(optimizer, penalty, w, g, anchor ?? null, rate, state!);
  }

  /**
   * Attaches each adapter `spec` brings that is not attached already (its layer's weights now become
   * its W₀), keeps those it brings again, and drops the rest. A kept adapter's optimizer state is
   * dropped when its factors are frozen or the rule has changed, as every part's is.
   */
  #prepareAdapters(spec: PhaseSpec, ruleChanged: boolean): void {
    this.#adapters = this.#model.map((layer, l) => {
      const source = spec.adapters?.[l] ?? null;
      if (source === null) return null;
      const kept = this.#adapters[l]?.source === source ? this.#adapters[l]! : null;
      if (kept && (ruleChanged || spec.layerRates[l].weights === 0)) kept.resetState();
      if (kept) return kept;
      const attached = new CpuAdapter(source, layer.inputs, layer.outputs, layer.weights, this.#arena!);
      attached.merge(this.#kernels, layer.weights); // W = W₀ + s · A · B from the start
      return attached;
    });
  }

  /**
   * Drops the state of every part `spec` freezes (of every part, when the rule changes), and gives
   * fresh state to each that starts learning; says whether the rule changed.
   */
  #prepareState(spec: PhaseSpec): boolean {
    const rule = (spec.optimizer ?? PLAIN_SGD).name;
    const changed = rule !== this.#rule;
    if (changed) this.#state = [];
    this.#rule = rule;
    this.#state = this.#model.map((layer, l) => {
      const old = this.#state[l], rates = spec.layerRates[l];
      return {
        // an adapter's layer: the factors hold the state of its weights
        weights: rates.weights === 0 || spec.adapters?.[l]
          ? null
          : old?.weights ?? freshState(layer.weights.length),
        biases: rates.biases === 0 ? null : old?.biases ?? freshState(layer.bias.length),
      };
    });
    return changed;
  }

  #measure(handle: DatasetHandle): Metrics {
    const { data } = handle as CpuDataset;
    const ws = this.#workspaceFor(EVAL_BATCH_ROWS);
    const classes = this.#model[this.#model.length - 1].outputs;
    let loss = 0, correct = 0;
    for (let from = 0; from < data.n; from += ws.capacity) {
      const rows = Math.min(ws.capacity, data.n - from);
      ws.labels.set(data.labels.subarray(from, from + rows));
      this.#kernels.softmaxCrossEntropy(
        this.#forwardRows(ws, data, from, rows),
        ws.labels,
        rows,
        classes,
        null,
        0,
        this.#sum,
      );
      loss += this.#sum.loss;
      correct += this.#sum.correct;
    }
    return { loss: loss / data.n, accuracy: correct / data.n };
  }

  /** The forward pass over rows `[from, from + rows)` of `data`; returns the activations holding their logits. */
  #forwardRows(ws: Workspace, data: Dataset, from: number, rows: number): Floats {
    ws.activations[0].set(data.x.subarray(from * data.features, (from + rows) * data.features));
    forward(ws, this.#model, rows, this.#kernels);
    return ws.activations[this.#model.length];
  }

  /** The workspace, grown (with the model moved into a bigger arena) when it has fewer than `rows` rows. */
  #workspaceFor(rows: number): Workspace {
    if (this.#workspace === null || this.#workspace.capacity < rows) {
      this.#allocate(this.#model, Math.max(rows, EVAL_BATCH_ROWS));
    }
    return this.#workspace!;
  }

  /** A copy of the model on ordinary arrays. */
  #snapshot(): Mlp {
    return this.#model.map((layer) => ({
      ...layer,
      weights: Float32Array.from(layer.weights),
      bias: Float32Array.from(layer.bias),
    }));
  }

  /** One arena for a copy of `model` and a workspace of `capacity` rows; the kernels to run on them. */
  #allocate(model: readonly LayerParams[], capacity: number): void {
    const source = model === this.#model ? this.#snapshot() : model; // the new arena reuses the old one's memory
    const adapters = this.#adapters.map((adapter) => adapter?.detach() ?? null);
    const widths = [source[0].inputs, ...source.map((layer) => layer.outputs)];
    const widest = Math.max(...widths);
    const arena = this.kernels.arena({
      longestSum: Math.max(widest, capacity),
    });
    const copy = (values: Floats) => {
      const into = arena.alloc(values.length);
      into.set(values);
      return into;
    };
    this.#model = source.map((layer) => ({ ...layer, weights: copy(layer.weights), bias: copy(layer.bias) }));
    this.#workspace = new Workspace(widths, capacity, arena.alloc);
    this.#kernels = arena.kernels;
    this.#arena = arena;
    this.#adapters = adapters.map((attach) => attach?.(arena) ?? null);
  }
}
