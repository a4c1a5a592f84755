/**
 * The GPU engine: the whole training step in WGSL compute shaders (see `shaders/`), through WebGPU.
 *
 * Datasets and parameters stay on the device. Per epoch only two small buffers go up: the shuffled
 * row order (u32) and the step records (row offset, row count, metrics slot, 1/rows), read by the
 * kernels through dynamic uniform offsets. Every minibatch step of an epoch, and the test-set
 * evaluation after it, is recorded into one compute pass and one submission; the host then reads
 * back 16 bytes of metrics per epoch, and only after the next epoch has been submitted, so the
 * device never idles while the host waits.
 *
 * @module
 */

import type { Dataset } from "../../core/data.ts";
import type { DatasetHandle, Engine, EpochMetrics, Metrics, PhaseSpec } from "../../core/engine.ts";
import { type Layer, type Mlp, sameShape } from "../../core/model.ts";
import { epochOrder } from "../../core/shuffle.ts";
import type { GpuContext } from "./context.ts";
import {
  Kernels,
  MATMUL_TILE,
  MATMUL_VARIANTS,
  type MatmulSchedule,
  type RowMode,
  Rows,
} from "./pipelines.ts";

/** Rows evaluated per forward pass when measuring a whole dataset. */
const EVAL_ROWS = 1024;
/**
 * Epochs submitted beyond the one whose metrics the host waits for, so the device always has work
 * queued while the host waits (about 10 ms a wait in Deno, which polls the device on a timer).
 * On llvmpipe two or three ahead measured no faster than one.
 */
const EPOCHS_AHEAD = 1;
/** Bytes of one metrics slot `{loss: f32, correct: u32}`. */
const SLOT_BYTES = 8;
/** An epoch's two slots: its minibatches' running sums, then the test set's. */
const EPOCH_BYTES = 2 * SLOT_BYTES;

const { STORAGE, UNIFORM, COPY_DST, COPY_SRC, MAP_READ } = GPUBufferUsage;

interface GpuDataset extends DatasetHandle {
  readonly x: GPUBuffer;
  readonly labels: GPUBuffer;
}

/** One layer's device buffers; the uniforms give each kernel its static shape. */
interface LayerBuffers {
  readonly inputs: number;
  readonly outputs: number;
  readonly weights: GPUBuffer;
  readonly bias: GPUBuffer;
  readonly forwardDims: GPUBuffer;
  /** Also holds the layer's step size (learning rate × its rate multiplier), written per phase. */
  readonly sgdDims: GPUBuffer;
  readonly inputGradDims: GPUBuffer;
  readonly width: GPUBuffer;
}

/** One row range a pass works on: a training minibatch or an evaluation chunk. */
interface Span {
  readonly offset: number;
  readonly rows: number;
}

/** One kernel launch: what runs, on which buffers, with which step record, over how many workgroups. */
interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly group: GPUBindGroup;
  /** Byte offset of the step record. */
  readonly offset: number;
  readonly workgroups: readonly [number, number];
}

/** Bind groups for one phase (or one evaluation): per layer, per role. */
interface Bindings {
  readonly forwardTrain: GPUBindGroup[];
  readonly forwardEval: GPUBindGroup[];
  readonly xentTrain: GPUBindGroup;
  readonly xentEval: GPUBindGroup;
  readonly sgdStep: GPUBindGroup[];
  /** Null for the first layer: nothing needs the gradient of the data. */
  readonly inputGrad: (GPUBindGroup | null)[];
}

/** Trains and evaluates with WGSL kernels on one WebGPU device. */
export class GpuEngine implements Engine {
  readonly name: string;
  readonly description: string;
  /** Work sent to the device so far; the benchmark reports these per step and per epoch. */
  readonly counts = { submissions: 0, dispatches: 0, waits: 0 };
  readonly #device: GPUDevice;
  #layers: LayerBuffers[] = [];
  #outputs: GPUBuffer[] = [];
  #deltas: GPUBuffer[] = [];
  #capacity = 0;
  #order: GPUBuffer;
  #steps: GPUBuffer;
  readonly #owned: GPUBuffer[] = [];
  readonly #stepAlign: number;

  private constructor(readonly context: GpuContext, readonly kernels: Kernels, readonly naive: boolean) {
    this.#device = context.device;
    this.name = naive ? "gpu-naive" : "gpu";
    const mode = naive ? ", one submission and one read-back per operation" : "";
    this.description = `WebGPU on ${context.description}, ${kernels.schedule} matmul${mode}`;
    this.#stepAlign = this.#device.limits.minUniformBufferOffsetAlignment;
    this.#order = this.#buffer(4, STORAGE | COPY_DST);
    this.#steps = this.#buffer(this.#stepAlign, UNIFORM | COPY_DST);
  }

  /**
   * Builds every pipeline on the context's device. The matmul schedule defaults to the one that is
   * fastest for the adapter: `blocked` on a software adapter, `tiled` on a GPU. `naive` makes every
   * operation its own submission followed by a read-back: the benchmark's baseline, never faster.
   */
  static async create(
    context: GpuContext,
    options: { schedule?: MatmulSchedule; naive?: boolean } = {},
  ): Promise<GpuEngine> {
    const schedule = options.schedule ?? (context.software ? "blocked" : "tiled");
    let kernels: Kernels;
    try {
      kernels = await Kernels.create(context.device, schedule);
    } catch (error) {
      context.destroy(); // the engine owns its context from here on, even when it fails to start
      throw error;
    }
    const engine = new GpuEngine(context, kernels, options.naive ?? false);
    context.check();
    return engine;
  }

  upload(data: Dataset): DatasetHandle {
    const handle: GpuDataset = {
      n: data.n,
      features: data.features,
      classes: data.classes,
      x: this.#filled(data.x, STORAGE),
      labels: this.#filled(data.labels, STORAGE),
    };
    return handle;
  }

  setModel(model: Mlp): void {
    if (!sameShape(model, this.#layers)) {
      this.#layers.forEach((layer) =>
        this.#release(Object.values(layer).filter((v) => v instanceof GPUBuffer))
      );
      this.#layers = model.map((layer) => this.#layerBuffers(layer));
      this.#capacity = 0;
    }
    model.forEach((layer, l) => {
      this.#device.queue.writeBuffer(this.#layers[l].weights, 0, layer.weights);
      this.#device.queue.writeBuffer(this.#layers[l].bias, 0, layer.bias);
    });
  }

  async readModel(): Promise<Mlp> {
    const parts = this.#layers.flatMap((layer) => [layer.weights, layer.bias]);
    const values = await this.#read(parts); // buffers are padded to 16 bytes: cut to the layer's size
    return this.#layers.map((layer, l): Layer => ({
      inputs: layer.inputs,
      outputs: layer.outputs,
      weights: new Float32Array(values[2 * l], 0, layer.inputs * layer.outputs).slice(),
      bias: new Float32Array(values[2 * l + 1], 0, layer.outputs).slice(),
    }));
  }

  async trainPhase(spec: PhaseSpec): Promise<EpochMetrics[]> {
    const train = spec.train as GpuDataset, test = spec.test as GpuDataset;
    const minibatches = spans(train.n, spec.batchSize);
    const chunks = spans(test.n, EVAL_ROWS);
    this.#prepare(Math.max(spec.batchSize, EVAL_ROWS), train.n, minibatches.length + chunks.length);
    this.#writeRates(spec.learningRate, spec.layerRates);
    const metrics = this.#buffer(Math.max(1, spec.epochs) * EPOCH_BYTES, STORAGE | COPY_SRC);
    const bindings = this.#bindings(train, test, metrics);
    const records = stepRecords([...minibatches, ...chunks], this.#stepAlign);
    const order = new Uint32Array(train.n);
    const readbacks: GPUBuffer[] = [];
    const history: EpochMetrics[] = [];
    const report = async (epoch: number) => {
      const [sums] = await this.#map([readbacks[epoch - 1]]);
      const m = { epoch, train: slotMetrics(sums, 0, train.n), test: slotMetrics(sums, 1, test.n) };
      history.push(m);
      spec.onEpoch?.(m);
    };
    try {
      for (let epoch = 1; epoch <= spec.epochs; epoch++) {
        epochOrder(order, spec.shuffleSeed, epoch);
        setSlots(records, this.#stepAlign, minibatches.length, 2 * (epoch - 1));
        this.#device.queue.writeBuffer(this.#order, 0, order);
        this.#device.queue.writeBuffer(this.#steps, 0, records);
        const work = [
          ...minibatches.flatMap((span, s) => this.#stepDispatches(bindings, span, s, spec.layerRates)),
          ...chunks.flatMap((span, c) => this.#evaluationDispatches(bindings, span, minibatches.length + c)),
        ];
        const readback = this.#buffer(EPOCH_BYTES, MAP_READ | COPY_DST);
        readbacks.push(readback);
        const copy = { from: metrics, offset: (epoch - 1) * EPOCH_BYTES, to: readback };
        if (this.naive) {
          for (const one of work) {
            this.#submit([one], copy);
            await this.#map([readback]);
          }
          await report(epoch);
          continue;
        }
        this.#submit(work, copy);
        if (epoch > EPOCHS_AHEAD) await report(epoch - EPOCHS_AHEAD); // later epochs keep the device busy
      }
      if (!this.naive) {
        for (let epoch = Math.max(1, spec.epochs - EPOCHS_AHEAD + 1); epoch <= spec.epochs; epoch++) {
          await report(epoch);
        }
      }
    } finally {
      this.#release([metrics, ...readbacks]);
    }
    return history;
  }

  async evaluate(handle: DatasetHandle): Promise<Metrics> {
    const data = handle as GpuDataset;
    const chunks = spans(data.n, EVAL_ROWS);
    this.#prepare(EVAL_ROWS, 1, chunks.length);
    const metrics = this.#buffer(EPOCH_BYTES, STORAGE | COPY_SRC);
    const bindings = this.#bindings(data, data, metrics);
    this.#device.queue.writeBuffer(this.#steps, 0, stepRecords(chunks, this.#stepAlign));
    this.#submit(chunks.flatMap((span, c) => this.#evaluationDispatches(bindings, span, c)));
    const [sums] = await this.#read([metrics]);
    this.#release([metrics]);
    return slotMetrics(sums, 0, data.n);
  }

  dispose(): void {
    this.#release([...this.#owned]);
    this.context.destroy();
  }

  /**
   * One minibatch step: forward, loss gradient, then from the head down to the lowest learning layer
   * the input gradient (for the layer below) and the fused SGD step. Frozen layers get neither.
   */
  #stepDispatches(b: Bindings, span: Span, record: number, rates: readonly number[]): Dispatch[] {
    const offset = record * this.#stepAlign, last = this.#layers.length - 1;
    const work = this.#forwardDispatches(b.forwardTrain, Rows.shuffled, span, offset);
    work.push({ pipeline: this.kernels.softmaxXent(true), group: b.xentTrain, offset, workgroups: [1, 1] });
    const lowest = rates.findIndex((rate) => rate > 0);
    for (let l = last; lowest >= 0 && l >= lowest; l--) {
      const layer = this.#layers[l];
      if (l > lowest) { // before this layer's update: dX needs its old weights
        work.push({
          pipeline: this.kernels.matmul(MATMUL_VARIANTS.inputGrad()),
          group: b.inputGrad[l]!,
          offset,
          workgroups: [tiles(layer.inputs), tiles(span.rows)],
        });
      }
      if (rates[l] === 0) continue; // frozen: its bytes stay exactly as they were
      work.push({
        pipeline: this.kernels.matmul(MATMUL_VARIANTS.sgdStep(l === 0 ? Rows.shuffled : Rows.direct)),
        group: b.sgdStep[l],
        offset,
        workgroups: [tiles(layer.outputs), tiles(layer.inputs + 1)], // the extra row is the bias
      });
    }
    return work;
  }

  /** Forward over a chunk of the evaluated dataset, then its summed loss and correct count into the slot. */
  #evaluationDispatches(b: Bindings, span: Span, record: number): Dispatch[] {
    const offset = record * this.#stepAlign;
    const work = this.#forwardDispatches(b.forwardEval, Rows.chunk, span, offset);
    work.push({ pipeline: this.kernels.softmaxXent(false), group: b.xentEval, offset, workgroups: [1, 1] });
    return work;
  }

  /** The forward pass over `span`: the first layer reads the dataset's rows as `firstRows` says. */
  #forwardDispatches(groups: GPUBindGroup[], firstRows: RowMode, span: Span, offset: number): Dispatch[] {
    const last = this.#layers.length - 1;
    return this.#layers.map((layer, l) => ({
      pipeline: this.kernels.matmul(MATMUL_VARIANTS.forward(l === 0 ? firstRows : Rows.direct, l < last)),
      group: groups[l],
      offset,
      workgroups: [tiles(layer.outputs), tiles(span.rows)],
    }));
  }

  /** Each layer's step size, learning rate × its rate multiplier, for the fused SGD step. */
  #writeRates(learningRate: number, layerRates: readonly number[]): void {
    this.#layers.forEach((layer, l) => {
      const rate = new Float32Array([learningRate * layerRates[l]]);
      this.#device.queue.writeBuffer(layer.sgdDims, 12, rate);
    });
  }

  /** Records `work` into one compute pass and submits it, then the metrics copy when given. */
  #submit(work: readonly Dispatch[], copy?: { from: GPUBuffer; offset: number; to: GPUBuffer }): void {
    const encoder = this.#device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const { pipeline, group, offset, workgroups } of work) {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group, [offset]);
      pass.dispatchWorkgroups(...workgroups);
    }
    pass.end();
    if (copy) encoder.copyBufferToBuffer(copy.from, copy.offset, copy.to, 0, copy.to.size);
    this.#device.queue.submit([encoder.finish()]);
    this.counts.submissions++;
    this.counts.dispatches += work.length;
  }

  #bindings(train: GpuDataset, test: GpuDataset, metrics: GPUBuffer): Bindings {
    const k = this.kernels, last = this.#layers.length - 1;
    const input = (data: GpuDataset, l: number) => (l === 0 ? data.x : this.#outputs[l - 1]);
    const forward = (data: GpuDataset) =>
      this.#layers.map((layer, l) =>
        k.bindGroup(k.layouts.matmul, [
          input(data, l),
          layer.weights,
          this.#outputs[l],
          layer.bias,
          this.#order,
          layer.forwardDims,
          this.#steps,
        ], 6)
      );
    const xent = (data: GpuDataset) =>
      k.bindGroup(k.layouts.xent, [
        this.#outputs[last],
        data.labels,
        this.#order,
        this.#deltas[last],
        metrics,
        this.#layers[last].width,
        this.#steps,
      ], 6);
    return {
      forwardTrain: forward(train),
      forwardEval: forward(test),
      xentTrain: xent(train),
      xentEval: xent(test),
      sgdStep: this.#layers.map((layer, l) =>
        k.bindGroup(k.layouts.matmul, [
          input(train, l),
          this.#deltas[l],
          layer.weights,
          layer.bias,
          this.#order,
          layer.sgdDims,
          this.#steps,
        ], 6)
      ),
      inputGrad: this.#layers.map((layer, l) =>
        l === 0 ? null : k.bindGroup(k.layouts.matmul, [
          this.#deltas[l],
          layer.weights,
          this.#deltas[l - 1],
          this.#outputs[l - 1],
          this.#order,
          layer.inputGradDims,
          this.#steps,
        ], 6)
      ),
    };
  }

  /** Grows the activation, order and step buffers to fit (they are kept across phases). */
  #prepare(rows: number, orderLength: number, records: number): void {
    if (rows > this.#capacity) {
      this.#release([...this.#outputs, ...this.#deltas]);
      this.#outputs = this.#layers.map((layer) => this.#buffer(rows * layer.outputs * 4, STORAGE));
      this.#deltas = this.#layers.map((layer) => this.#buffer(rows * layer.outputs * 4, STORAGE));
      this.#capacity = rows;
    }
    if (orderLength * 4 > this.#order.size) {
      this.#release([this.#order]);
      this.#order = this.#buffer(orderLength * 4, STORAGE | COPY_DST);
    }
    if (records * this.#stepAlign > this.#steps.size) {
      this.#release([this.#steps]);
      this.#steps = this.#buffer(records * this.#stepAlign, UNIFORM | COPY_DST);
    }
  }

  #layerBuffers(layer: Layer): LayerBuffers {
    const { inputs, outputs } = layer;
    const dims = (m: number, n: number, k: number) => this.#filled(new Uint32Array([m, n, k, 0]), UNIFORM);
    return {
      inputs,
      outputs,
      weights: this.#buffer(inputs * outputs * 4, STORAGE | COPY_DST | COPY_SRC),
      bias: this.#buffer(outputs * 4, STORAGE | COPY_DST | COPY_SRC),
      forwardDims: dims(0, outputs, inputs), // m is the batch
      sgdDims: dims(inputs, outputs, 0), // k is the batch
      inputGradDims: dims(0, inputs, outputs), // m is the batch
      width: this.#filled(new Uint32Array([outputs, 0, 0, 0]), UNIFORM),
    };
  }

  /** Copies buffers to mappable memory in one submission and waits once for all of them. */
  async #read(sources: GPUBuffer[]): Promise<ArrayBuffer[]> {
    const encoder = this.#device.createCommandEncoder();
    const staging = sources.map((source) => {
      const copy = this.#device.createBuffer({ size: source.size, usage: MAP_READ | COPY_DST });
      encoder.copyBufferToBuffer(source, 0, copy, 0, source.size);
      return copy;
    });
    this.#device.queue.submit([encoder.finish()]);
    this.counts.submissions++;
    try {
      return await this.#map(staging);
    } finally {
      for (const buffer of staging) buffer.destroy();
    }
  }

  async #map(buffers: GPUBuffer[]): Promise<ArrayBuffer[]> {
    await Promise.all(buffers.map((buffer) => buffer.mapAsync(GPUMapMode.READ)));
    this.counts.waits++;
    this.context.check();
    return buffers.map((buffer) => {
      const copy = buffer.getMappedRange().slice(0);
      buffer.unmap();
      return copy;
    });
  }

  #buffer(size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const buffer = this.#device.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage });
    this.#owned.push(buffer);
    return buffer;
  }

  #filled(
    values: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>,
    usage: GPUBufferUsageFlags,
  ): GPUBuffer {
    const buffer = this.#buffer(values.byteLength, usage | COPY_DST);
    this.#device.queue.writeBuffer(buffer, 0, values);
    return buffer;
  }

  #release(buffers: GPUBuffer[]): void {
    for (const buffer of buffers) {
      buffer.destroy();
      const at = this.#owned.indexOf(buffer);
      if (at >= 0) this.#owned.splice(at, 1);
    }
  }
}

/** `count` rows cut into consecutive spans of at most `size` (the last may be shorter). */
function spans(count: number, size: number): Span[] {
  return Array.from({ length: Math.ceil(count / size) }, (_, i) => ({
    offset: i * size,
    rows: Math.min(size, count - i * size),
  }));
}

/** Workgroups along one matmul output edge. */
function tiles(extent: number): number {
  return Math.ceil(extent / MATMUL_TILE);
}

/** One `{row_offset, rows, slot = 0, grad_scale = 1 / rows}` record per span, `align` bytes apart. */
function stepRecords(list: readonly Span[], align: number): ArrayBuffer {
  const records = new ArrayBuffer(Math.max(1, list.length) * align);
  list.forEach((span, i) => {
    new Uint32Array(records, i * align, 3).set([span.offset, span.rows, 0]);
    new Float32Array(records, i * align + 12, 1)[0] = 1 / span.rows;
  });
  return records;
}

/** Mean loss and accuracy over `n` rows from metrics slot `slot` of `sums`. */
function slotMetrics(sums: ArrayBuffer, slot: number, n: number): Metrics {
  const loss = new Float32Array(sums, slot * SLOT_BYTES, 1)[0];
  const correct = new Uint32Array(sums, slot * SLOT_BYTES + 4, 1)[0];
  return { loss: loss / n, accuracy: correct / n };
}

/** Points the first `trainSpans` records at metrics slot `slot`, the rest at `slot + 1`. */
function setSlots(records: ArrayBuffer, align: number, trainSpans: number, slot: number): void {
  for (let i = 0; i * align < records.byteLength; i++) {
    new Uint32Array(records, i * align + 8, 1)[0] = i < trainSpans ? slot : slot + 1;
  }
}
