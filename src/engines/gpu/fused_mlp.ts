/**
 * The host's side of `shaders/fused_mlp.wgsl`, the GPU engine's fully fused training kernel: which
 * phases it can run (the model, a minibatch's activations and the gradients in one workgroup's
 * memory, a step within the loop budget), the layout of that memory and of the kernel's uniforms,
 * and the packed buffers it trains in.
 *
 * The engine keeps each layer's parameters and optimizer state in buffers of their own (the general
 * path's kernels bind them one layer at a time); the fused kernel binds everything at once, so a
 * fused phase copies them (on the device) into one packed buffer of parameters and one of state at
 * its start, and the parts that learn back after every epoch (the test set is measured by the
 * general path's kernels) and at its end.
 *
 * @module
 */

import { stepsPerEpoch } from "../../core/engine.ts";
import { decayTerms, NO_PENALTY, type OptimizerSpec, type Penalty } from "../../core/optimizers.ts";
import type { PartRates } from "../../core/recipes.ts";
import type { AdapterResidence } from "./adapter.ts";
import type { MakeBuffer } from "./optimizer_state.ts";
import {
  type Dispatch,
  FUSED_BLOCK,
  FUSED_LOOP_BUDGET,
  FUSED_MEMORY,
  FUSED_THREADS,
  MAX_FUSED_LAYERS,
  type Pipelines,
  RULE_KIND,
} from "./pipelines.ts";

/** Where one model and batch size sit in the kernel's memory, and how many steps a dispatch takes. */
export interface FusedLayout {
  /** Rows per minibatch the layout holds. */
  readonly batch: number;
  /** Per layer, where its weights start in the packed parameters (its bias follows them). */
  readonly weightAt: readonly number[];
  /** Per layer, where its input rows start in the kernel's `mem`. */
  readonly actAt: readonly number[];
  /** P: every layer's weights and bias, and its adapter's factors. */
  readonly params: number;
  /** Floats of `mem` the layout takes: parameters, gradients and activations. */
  readonly memory: number;
  /** Minibatch steps one dispatch runs, at most: as many as the loop budget allows. */
  readonly stepsPerDispatch: number;
}

/**
 * The layout of a model whose layer widths are `widths` (the input, then each layer's outputs), with
 * LoRA adapters of ranks `ranks` (0 or absent: none), training in minibatches of `batch` rows, its
 * layers from `lowest` up learning; null when it does not fit (too many layers, more than
 * {@linkcode FUSED_MEMORY} floats, or not one step within the loop budget).
 */
export function fusedLayout(
  widths: readonly number[],
  batch: number,
  lowest: number,
  ranks: readonly number[] = [],
): FusedLayout | null {
  const layers = widths.length - 1;
  if (layers > MAX_FUSED_LAYERS) return null;
  const weightAt: number[] = [];
  let params = 0;
  for (let l = 0; l < layers; l++) {
    weightAt.push(params);
    params += (widths[l] + 1) * widths[l + 1] + (ranks[l] ?? 0) * (widths[l] + widths[l + 1]);
  }
  const actAt: number[] = [];
  let memory = 2 * params;
  for (let l = 0; l <= layers; l++) {
    if (l < layers) actAt.push(memory);
    memory += batch * widths[l];
  }
  const perStep = stepIterations(widths, batch, lowest, ranks);
  const stepsPerDispatch = Math.floor((FUSED_LOOP_BUDGET - dispatchIterations(widths, params)) / perStep);
  if (memory > FUSED_MEMORY || stepsPerDispatch < 1) return null;
  return { batch, weightAt, actAt, params, memory, stepsPerDispatch };
}

/** Iterations of the strided loops over `n` items for the invocation that runs the most of them. */
const strided = (n: number) => Math.ceil(n / FUSED_THREADS);

/** Blocks of {@linkcode FUSED_BLOCK} that `n` rows or units make (fused_mlp.wgsl's `blocks`). */
const blocks = (n: number) => Math.ceil(n / FUSED_BLOCK);

/**
 * The loop iterations of one product block that sums over `terms` (fused_mlp.wgsl's
 * `forward_block`, `weight_gradient_block`, `bias_gradient_block`, `delta_block`): the strided
 * loop's own, the sum's, and the loop writing the block's rows back (which `bias_gradient_block`,
 * one row, has not: counted all the same, as an upper bound).
 */
const blockIterations = (terms: number) => 1 + terms + FUSED_BLOCK;

/** An upper bound on the loop iterations of one invocation in one step of fused_mlp.wgsl (`step`). */
function stepIterations(
  widths: readonly number[],
  batch: number,
  lowest: number,
  ranks: readonly number[],
): number {
  const layers = widths.length - 1, classes = widths[layers];
  let count = 1 + strided(batch * widths[0]); // the step loop's own, loading the rows
  for (let l = 0; l < layers; l++) {
    count += 1 + strided(blocks(batch) * blocks(widths[l + 1])) * blockIterations(widths[l]);
  }
  count += strided(batch) * (1 + 3 * classes); // the head's rows
  for (let l = Math.max(0, lowest); l < layers; l++) {
    const [inputs, outputs, rank] = [widths[l], widths[l + 1], ranks[l] ?? 0];
    const gradients = (strided(blocks(inputs) * blocks(outputs)) + strided(blocks(outputs))) *
      blockIterations(batch); // the weights' blocks, then the bias's
    const factors = strided(rank * (inputs + outputs));
    count += 1 + gradients + strided((inputs + 1) * outputs) + factors; // gradients, then updates
    if (l > lowest) { // the deltas below
      count += strided(blocks(batch) * blocks(inputs)) * blockIterations(outputs);
    }
    if (rank > 0) { // the factors' gradients, then W from them
      count += factors * (1 + Math.max(inputs, outputs)) + strided(inputs * outputs) * (1 + rank);
    }
  }
  return count;
}

/** The loop iterations of a dispatch outside its steps: loading and storing the parameters, the sums. */
function dispatchIterations(widths: readonly number[], params: number): number {
  return 2 * strided(params) + 4 * (widths.length - 1) + FUSED_THREADS;
}

/** A fused phase's rule and per-layer settings, for the `Net` uniform. */
export interface FusedPhase {
  /** Rows of the training set. */
  readonly trainRows: number;
  /** The lowest layer that learns. */
  readonly lowest: number;
  /** The update rule and its settings. */
  readonly optimizer: OptimizerSpec;
  /** Per layer, its step sizes (0 freezes a part). */
  readonly sizes: readonly PartRates[];
  /** Per layer, its penalty. */
  readonly penalties: readonly Penalty[];
  /**
   * Per layer, the steps each part took since its state was fresh (for a layer with an adapter,
   * `weights` counts its factors' steps).
   */
  readonly counts: readonly { readonly weights: number; readonly biases: number }[];
  /** Per layer, its LoRA adapter's rank and scale s, or null. */
  readonly adapters: readonly ({ readonly rank: number; readonly scale: number } | null)[];
}

/** Bytes of fused_mlp.wgsl's `Net`: 16 words, then {@linkcode MAX_FUSED_LAYERS} `Layer`s of 12. */
const NET_BYTES = 64 + MAX_FUSED_LAYERS * 48;

/** fused_mlp.wgsl's `Net` for `phase` on a model of `widths` laid out as `layout`. */
function netUniform(widths: readonly number[], layout: FusedLayout, phase: FusedPhase): ArrayBuffer {
  const bytes = new ArrayBuffer(NET_BYTES);
  const words = new Uint32Array(bytes), floats = new Float32Array(bytes);
  const { optimizer } = phase;
  words.set([widths.length - 1, phase.lowest, phase.trainRows, layout.batch, layout.params]);
  words.set([RULE_KIND[optimizer.name], Number(optimizer.nesterov)], 5);
  floats.set([optimizer.momentum, optimizer.beta1, optimizer.beta2, optimizer.epsilon], 7);
  const own = decayTerms(optimizer, NO_PENALTY); // the rule's own decay: an adapter's factors have no penalty
  floats.set([own.decoupled, own.coupled], 11);
  for (let l = 0; l < widths.length - 1; l++) {
    const at = 16 + 12 * l, penalty = phase.penalties[l], adapter = phase.adapters[l];
    words.set([widths[l], widths[l + 1], layout.weightAt[l], layout.actAt[l]], at);
    floats.set([phase.sizes[l].weights, phase.sizes[l].biases], at + 4);
    words.set([phase.counts[l].weights, phase.counts[l].biases], at + 6);
    floats.set([decayTerms(optimizer, penalty).coupled, penalty.anchor], at + 8);
    words[at + 10] = adapter?.rank ?? 0;
    floats[at + 11] = adapter?.scale ?? 0;
  }
  return bytes;
}

/** One dispatch of the kernel: `{first_step, first_row, steps, slot}`. */
interface FusedWork {
  /** The dispatch's first step, numbered in the phase from 0. */
  readonly firstStep: number;
  /** Its first row in the epoch's order. */
  readonly firstRow: number;
  /** Steps it runs. */
  readonly steps: number;
  /** The metrics slot its sums go to. */
  readonly slot: number;
}

/**
 * The dispatches of one epoch of `steps` minibatches of `batch` rows, whose first step is step
 * `firstStep` of the phase: runs of at most `perDispatch` steps, their sums into `slot`.
 */
function epochWork(
  steps: number,
  batch: number,
  perDispatch: number,
  firstStep: number,
  slot: number,
): FusedWork[] {
  return Array.from({ length: Math.ceil(steps / perDispatch) }, (_, d) => ({
    firstStep: firstStep + d * perDispatch,
    firstRow: d * perDispatch * batch,
    steps: Math.min(perDispatch, steps - d * perDispatch),
    slot,
  }));
}

/** `work` as `Work` records, `align` bytes apart, for the kernel's dynamic-offset uniform. */
function workRecords(work: readonly FusedWork[], align: number): ArrayBuffer {
  const records = new ArrayBuffer(Math.max(1, work.length) * align);
  work.forEach((w, i) =>
    new Uint32Array(records, i * align, 4).set([w.firstStep, w.firstRow, w.steps, w.slot])
  );
  return records;
}

/** One layer's buffers as the general path keeps them, and its optimizer state when it has any. */
export interface LayerResidence {
  /** inputs × outputs floats. */
  readonly weights: GPUBuffer;
  /** outputs floats. */
  readonly bias: GPUBuffer;
  /** Its optimizer's moments and anchor, each `[W; b]` like the packed layout; null without one. */
  readonly state: { readonly m: GPUBuffer; readonly v: GPUBuffer; readonly anchor: GPUBuffer } | null;
  /** Its LoRA adapter's W₀, factors and their state; null without one. */
  readonly adapter: AdapterResidence | null;
}

const { STORAGE, UNIFORM, COPY_DST, COPY_SRC } = GPUBufferUsage;

/** One fused phase's packed buffers, the copies in and out of them, and its dispatches. */
export class FusedRun {
  readonly #params: GPUBuffer;
  readonly #state: GPUBuffer;
  readonly #net: GPUBuffer;
  readonly #records: GPUBuffer;
  /** Per epoch, its dispatches' first record. */
  readonly #firstRecord: number[] = [];
  readonly #work: FusedWork[] = [];
  /** Every layer's parts, with their copies into the packed buffers and back. */
  readonly #parts: Part[];

  /**
   * Packs `layers` (laid out as `layout`, widths `widths`) for `phase`, whose epoch `e` runs
   * `epochSteps[e]` minibatch steps, and submits the copies that fill the packed buffers.
   */
  constructor(
    readonly device: GPUDevice,
    layers: readonly LayerResidence[],
    readonly widths: readonly number[],
    readonly layout: FusedLayout,
    readonly phase: FusedPhase,
    epochSteps: readonly number[],
    readonly align: number,
    make: MakeBuffer,
  ) {
    const floats = layout.params * 4;
    this.#params = make(floats, STORAGE | COPY_SRC | COPY_DST);
    this.#state = make(4 * floats, STORAGE | COPY_SRC | COPY_DST);
    this.#net = make(NET_BYTES, UNIFORM | COPY_DST);
    const whole = stepsPerEpoch(phase.trainRows, layout.batch);
    epochSteps.forEach((steps, e) => {
      this.#firstRecord.push(this.#work.length);
      this.#work.push(...epochWork(steps, layout.batch, layout.stepsPerDispatch, e * whole, 2 * e));
    });
    this.#records = make(Math.max(1, this.#work.length) * align, UNIFORM | COPY_DST);
    device.queue.writeBuffer(this.#net, 0, netUniform(widths, layout, phase));
    device.queue.writeBuffer(this.#records, 0, workRecords(this.#work, align));
    this.#parts = layers.flatMap((layer, l) => this.#layerParts(layer, l));
    this.#copy((part) => part.into);
  }

  /** Every buffer the run made, for the engine to free when the phase ends. */
  buffers(): GPUBuffer[] {
    return [this.#params, this.#state, this.#net, this.#records];
  }

  /** The bind group of the run's dispatches, on the training set's `x`, `labels` and row `order`. */
  group(
    pipelines: Pipelines,
    x: GPUBuffer,
    labels: GPUBuffer,
    order: GPUBuffer,
    metrics: GPUBuffer,
  ): GPUBindGroup {
    return pipelines.fusedGroup({
      x,
      labels,
      order,
      params: this.#params,
      state: this.#state,
      metrics,
      net: this.#net,
      work: this.#records,
    });
  }

  /** Epoch `index`'s dispatches (0-based in the phase), on `group`. */
  dispatches(pipelines: Pipelines, group: GPUBindGroup, index: number): Dispatch[] {
    const first = this.#firstRecord[index];
    const count = (this.#firstRecord[index + 1] ?? this.#work.length) - first;
    return Array.from({ length: count }, (_, d) => ({
      pipeline: pipelines.fusedMlp(),
      group,
      offset: (first + d) * this.align,
      workgroups: [1, 1] as const,
    }));
  }

  /** Submits the copies of the parameters that learn back to the layers' buffers (after an epoch). */
  syncParameters(): void {
    this.#copy((part) => part.learns && part.parameter ? part.out : null);
  }

  /** Submits the copies of the learning parts' optimizer state back to the layers' (at the phase's end). */
  syncState(): void {
    this.#copy((part) => part.learns && !part.parameter ? part.out : null);
  }

  /**
   * One submission of the copies `pick` chooses among each layer's parts (its weights, bias and,
   * with state, their moments and anchor), each in one direction or none.
   */
  #copy(pick: (part: Part) => Copy | null): void {
    const copies = this.#parts.map(pick).filter((copy) => copy !== null);
    if (copies.length === 0) return;
    const encoder = this.device.createCommandEncoder();
    for (const c of copies) encoder.copyBufferToBuffer(c.from, c.fromOffset, c.to, c.toOffset, c.bytes);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Layer `l`'s parts: each, its place in the packed buffers and in the layer's own. */
  #layerParts(layer: LayerResidence, l: number): Part[] {
    const inputs = this.widths[l], outputs = this.widths[l + 1];
    const at = this.layout.weightAt[l] * 4, weightBytes = inputs * outputs * 4, biasBytes = outputs * 4;
    const sizes = this.phase.sizes[l];
    const both = (from: GPUBuffer, fromOffset: number, to: GPUBuffer, toOffset: number, bytes: number) => ({
      into: { from, fromOffset, to, toOffset, bytes },
      out: { from: to, fromOffset: toOffset, to: from, toOffset: fromOffset, bytes },
    });
    const parts: Part[] = [
      {
        parameter: true,
        learns: sizes.weights > 0,
        ...both(layer.weights, 0, this.#params, at, weightBytes),
      },
      {
        parameter: true,
        learns: sizes.biases > 0,
        ...both(layer.bias, 0, this.#params, at + weightBytes, biasBytes),
      },
    ];
    const total = weightBytes + biasBytes, P = this.layout.params * 4;
    if (layer.state !== null) {
      const { m, v, anchor } = layer.state;
      const learns = sizes.weights > 0 || sizes.biases > 0;
      parts.push(
        { parameter: false, learns, ...both(m, 0, this.#state, at, total) },
        { parameter: false, learns, ...both(v, 0, this.#state, P + at, total) },
        { parameter: false, learns: false, ...both(anchor, 0, this.#state, 2 * P + at, total) },
      );
    }
    if (layer.adapter === null) return parts;
    const { rank, w0, a, b, stateA, stateB } = layer.adapter;
    const [aAt, aBytes] = [at + total, inputs * rank * 4],
      [bAt, bBytes] = [at + total + aBytes, rank * outputs * 4];
    const learns = sizes.weights > 0; // the factors learn at the weights' rate
    parts.push(
      { parameter: true, learns, ...both(a, 0, this.#params, aAt, aBytes) },
      { parameter: true, learns, ...both(b, 0, this.#params, bAt, bBytes) },
      { parameter: false, learns, ...both(stateA.m, 0, this.#state, aAt, aBytes) },
      { parameter: false, learns, ...both(stateA.v, 0, this.#state, P + aAt, aBytes) },
      { parameter: false, learns, ...both(stateB.m, 0, this.#state, bAt, bBytes) },
      { parameter: false, learns, ...both(stateB.v, 0, this.#state, P + bAt, bBytes) },
      { parameter: false, learns: false, ...both(w0, 0, this.#state, 3 * P + at, weightBytes) },
    );
    return parts;
  }
}

/** One copy between buffers, in bytes. */
interface Copy {
  readonly from: GPUBuffer;
  readonly fromOffset: number;
  readonly to: GPUBuffer;
  readonly toOffset: number;
  readonly bytes: number;
}

/** A layer's part, and its copies into the packed buffers and back out. */
interface Part {
  /** A parameter (else optimizer state). */
  readonly parameter: boolean;
  /** Whether it changes in the phase, so that it is copied back. */
  readonly learns: boolean;
  readonly into: Copy;
  readonly out: Copy;
}
