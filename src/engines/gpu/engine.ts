/**
 * The GPU engine: the whole training step in WGSL compute shaders (see `shaders/`), through WebGPU.
 *
 * Datasets and parameters stay on the device. Per epoch only two small buffers go up: the shuffled
 * row order (u32) and the step records (row offset, row count, metrics slot, 1/rows), read by the
 * kernels through dynamic uniform offsets. On the general path every minibatch step of an epoch, and
 * the test-set evaluation after it, is recorded into one compute pass and one submission; the fully
 * fused kernel submits its steps, the copy of its parameters and the evaluation apart. The host submits every
 * epoch of a phase before it waits, once, for all their metrics (16 bytes an epoch, then 8 for each
 * dataset `PhaseSpec.after` measures at the end of the last epoch's submission): each wait costs
 * about 10 ms in Deno, which polls the device on a timer.
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
import { type Layer, type Mlp, sameShape } from "../../core/model.ts";
import { isPlainSgd, NO_PENALTY, type OptimizerSpec, PLAIN_SGD } from "../../core/optimizers.ts";
import type { PartRates } from "../../core/recipes.ts";
import { LayerOptimizer } from "./optimizer_state.ts";
import { type FusedLayout, fusedLayout, FusedRun } from "./fused_mlp.ts";
import { type AdapterDispatch, GpuAdapter } from "./adapter.ts";
import { epochOrder } from "../../core/shuffle.ts";
import { type GpuContext, readBuffers } from "./context.ts";
import {
  bufferBytes,
  defaultSchedule,
  DIMS_RATE_OFFSET,
  type Dispatch,
  MATMUL_VARIANTS,
  matmulDims,
  type MatmulSchedule,
  matmulWorkgroups,
  Pipelines,
  type RowMode,
  Rows,
  setStepIndex,
  setStepSlot,
  writeStep,
} from "./pipelines.ts";

/**
 * Rows per evaluation chunk (one forward dispatch per layer) when measuring a whole dataset: the
 * activation buffers are sized for this, and more rows per dispatch keep a GPU's cores busy.
 */
const EVAL_CHUNK_ROWS = 1024;
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
  /** `{outputs}`: the softmax kernel's class count, in storage rather than a uniform (see softmax_xent.wgsl). */
  readonly width: GPUBuffer;
}

/** One row range a pass works on: a training minibatch or an evaluation chunk. */
interface Span {
  readonly offset: number;
  readonly rows: number;
}

/**
 * A copy into a mappable buffer, recorded after a compute pass: after a phase's last epoch, every
 * epoch's metrics at once; after an evaluation chunk of `logits`, its rows' outputs.
 */
export interface MetricsCopy {
  /**
   * What to copy: the phase's metrics buffer (two 8-byte slots per epoch, the minibatches' sums then
   * the test set's, then one per dataset of `PhaseSpec.after`), or the last layer's outputs.
   */
  readonly from: GPUBuffer;
  /** Byte offset in `from` where the copy starts. */
  readonly offset: number;
  /** The mappable buffer the host reads back; {@linkcode submitEpoch} copies `to.size` bytes into it. */
  readonly to: GPUBuffer;
}

/**
 * Sends one epoch's recorded work to the device, then `copy` when given (the phase's last epoch). The
 * engine's own is {@linkcode submitEpoch}; the benchmark passes a slower one to show what that choice
 * saves.
 */
export type SubmitEpoch = (
  device: GPUDevice,
  work: readonly Dispatch[],
  copy?: MetricsCopy,
) => void | Promise<void>;

/** Records `work` into one compute pass, then `copy` when given, and submits it all at once. */
export function submitEpoch(device: GPUDevice, work: readonly Dispatch[], copy?: MetricsCopy): void {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const { pipeline, group, offset, workgroups } of work) {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group, [offset]);
    pass.dispatchWorkgroups(...workgroups);
  }
  pass.end();
  if (copy) encoder.copyBufferToBuffer(copy.from, copy.offset, copy.to, 0, copy.to.size);
  device.queue.submit([encoder.finish()]);
}

/**
 * Which kernels train a phase: `fused` runs whole minibatch steps in one workgroup
 * (`shaders/fused_mlp.wgsl`) where the phase fits it, `general` one dispatch per layer and operation.
 * `auto` is `fused`: on llvmpipe (2 cores) the fused kernel was measured faster on every shape tried
 * that fits it (docs/BENCHMARKS.md); on a hardware GPU it is expected to be, and not yet measured.
 */
export type KernelChoice = "auto" | "fused" | "general";

/** How to build a {@linkcode GpuEngine}. */
export interface GpuEngineOptions {
  /** The matmul schedule; by default `blocked` on a software adapter, `tiled` on a GPU. */
  readonly schedule?: MatmulSchedule;
  /** Which kernels train each phase; `auto` by default. */
  readonly kernels?: KernelChoice;
  /** How each training epoch reaches the device; by default {@linkcode submitEpoch}. */
  readonly submit?: SubmitEpoch;
  /** Called around each host wait for the device (a profiler times them); by default nothing. */
  readonly waited?: <T>(wait: Promise<T>) => Promise<T>;
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
  /** Per layer that does not fuse plain SGD: its gradient's product, then its optimizer step; else null. */
  readonly optimizer: ({ gradient: GPUBindGroup; step: GPUBindGroup } | null)[];
  /** Per layer with a LoRA adapter, its dispatches after the gradient; else null. */
  readonly adapter: (AdapterDispatch[] | null)[];
}

/** Trains and evaluates with WGSL kernels on one WebGPU device. */
export class GpuEngine implements Engine {
  readonly name = "gpu";
  readonly description: string;
  readonly #device: GPUDevice;
  readonly #submitEpoch: SubmitEpoch;
  readonly #waited: <T>(wait: Promise<T>) => Promise<T>;
  /** Which kernels train each phase from now on (option `kernels`); the calibration times each path. */
  kernels: KernelChoice;
  #layers: LayerBuffers[] = [];
  /** Per layer, its optimizer buffers and state, made the first time a phase needs more than plain SGD. */
  #optimizers: LayerOptimizer[] | null = null;
  /** The update rule the optimizers' state belongs to. */
  #rule = PLAIN_SGD.name;
  /** Per layer, the LoRA adapter that learns in place of its weights, or null. */
  #adapters: (GpuAdapter | null)[] = [];
  #outputs: GPUBuffer[] = [];
  #deltas: GPUBuffer[] = [];
  #capacity = 0;
  #order: GPUBuffer;
  #steps: GPUBuffer;
  readonly #owned: GPUBuffer[] = [];
  readonly #stepAlign: number;

  private constructor(
    readonly context: GpuContext,
    readonly pipelines: Pipelines,
    submit: SubmitEpoch,
    waited: <T>(wait: Promise<T>) => Promise<T>,
    kernels: KernelChoice,
  ) {
    this.#waited = waited;
    this.kernels = kernels;
    this.#device = context.device;
    this.#submitEpoch = submit;
    this.description = `WebGPU on ${context.description}, ${pipelines.schedule} matmul`;
    this.#stepAlign = this.#device.limits.minUniformBufferOffsetAlignment;
    this.#order = this.#buffer(4, STORAGE | COPY_DST);
    this.#steps = this.#buffer(this.#stepAlign, UNIFORM | COPY_DST);
  }

  /**
   * Builds every pipeline on the context's device. The matmul schedule defaults to the one that is
   * fastest for the adapter: `blocked` on a software adapter, `tiled` on a GPU.
   */
  static async create(context: GpuContext, options: GpuEngineOptions = {}): Promise<GpuEngine> {
    const schedule = options.schedule ?? defaultSchedule(context.software);
    let pipelines: Pipelines;
    try {
      pipelines = await Pipelines.create(context.device, schedule);
    } catch (error) {
      context.destroy(); // the engine owns its context from here on, even when it fails to start
      throw error;
    }
    const engine = new GpuEngine(
      context,
      pipelines,
      options.submit ?? submitEpoch,
      options.waited ?? ((w) => w),
      options.kernels ?? "auto",
    );
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

  release(handle: DatasetHandle): void {
    const data = handle as GpuDataset;
    this.#release([data.x, data.labels]);
  }

  setModel(model: Mlp): void {
    if (!sameShape(model, this.#layers)) {
      this.#layers.forEach((layer) =>
        this.#release(Object.values(layer).filter((v) => v instanceof GPUBuffer))
      );
      this.#release(this.#optimizers?.flatMap((o) => o.buffers()) ?? []);
      this.#optimizers = null;
      this.#layers = model.map((layer) => this.#layerBuffers(layer));
      this.#capacity = 0;
    }
    this.#optimizers?.forEach((o) => o.reset());
    this.#release(this.#adapters.flatMap((adapter) => adapter?.buffers() ?? []));
    this.#adapters = [];
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
    const chunks = spans(test.n, EVAL_CHUNK_ROWS);
    // spec.after's datasets are measured at the end of the last epoch's submission, into the slots
    // after the epochs', from the step records after the epoch's own.
    const after = (spec.after?.sets ?? []) as readonly GpuDataset[];
    const afterPasses = measuringPasses(after), epochRecords = minibatches.length + chunks.length;
    const records = stepRecords([...minibatches, ...chunks, ...afterPasses.flat()], this.#stepAlign);
    this.#prepare(Math.max(spec.batchSize, EVAL_CHUNK_ROWS), train.n, records.byteLength / this.#stepAlign);
    const sizes = stepSizes(spec.learningRate, spec.layerRates);
    this.#writeStepSizes(sizes);
    const plan = gradientPlan(spec.layerRates);
    const ruleChanged = this.#takeRule(spec.optimizer ?? PLAIN_SGD);
    const attached = this.#prepareAdapters(spec, sizes, ruleChanged);
    const inMatmul = this.#prepareOptimizers(spec, sizes, ruleChanged);
    const afterSlot = 2 * spec.epochs;
    const metrics = this.#buffer(
      Math.max(1, spec.epochs) * EPOCH_BYTES + after.length * SLOT_BYTES,
      STORAGE | COPY_SRC,
    );
    const bindings = this.#bindings(train, test, metrics, inMatmul);
    const afterWork = this.#measureDispatches(after, afterPasses, metrics, records, epochRecords, afterSlot);
    await this.#merge(attached);
    const fused = this.#fusedRun(spec, plan, sizes, inMatmul);
    const fusedGroup = fused?.group(this.pipelines, train.x, train.labels, this.#order, metrics);
    let submitted = 0;
    const order = new Uint32Array(train.n);
    const readback = this.#buffer(metrics.size, MAP_READ | COPY_DST);
    const history: EpochMetrics[] = [];
    const firstEpoch = spec.firstEpoch ?? 1;
    /** The minibatches of epoch `index` (0-based in this phase): all, or fewer when `spec.steps` runs out. */
    const epochSpans = (index: number) => minibatches.slice(0, epochSteps(spec, train.n, index));
    try {
      for (let index = 0; index < spec.epochs; index++) {
        // Queue writes and submissions run in order, so each epoch's kernels see its own order and records.
        epochOrder(order, spec.shuffleSeed, firstEpoch + index);
        setEpoch(
          records,
          this.#stepAlign,
          epochRecords,
          minibatches.length,
          2 * index,
          index * minibatches.length,
        );
        this.#device.queue.writeBuffer(this.#order, 0, order);
        this.#device.queue.writeBuffer(this.#steps, 0, records);
        const last = index === spec.epochs - 1;
        const evaluation = [
          ...chunks.flatMap((span, c) => this.#evaluationDispatches(bindings, span, minibatches.length + c)),
          ...(last ? afterWork : []),
        ];
        const copy = last ? { from: metrics, offset: 0, to: readback } : undefined;
        if (fused) { // it trains in packed buffers: the layers' own are synced before the test set
          await this.#submitEpoch(this.#device, fused.dispatches(this.pipelines, fusedGroup!, index));
          fused.syncParameters();
          await this.#submitEpoch(this.#device, evaluation, copy);
        } else {
          const steps = epochSpans(index).flatMap((span, s) => this.#stepDispatches(bindings, span, s, plan));
          await this.#submitEpoch(this.#device, [...steps, ...evaluation], copy);
        }
        submitted += epochSpans(index).length;
      }
      fused?.syncState();
      if (spec.epochs === 0) {
        spec.after?.report(await this.evaluate(after));
        return history;
      }
      const [sums] = await this.#map([readback]); // the phase's one wait
      for (let index = 0; index < spec.epochs; index++) {
        const rows = epochSpans(index).reduce((sum, span) => sum + span.rows, 0);
        const view = sums.slice(index * EPOCH_BYTES, (index + 1) * EPOCH_BYTES);
        const m = {
          epoch: firstEpoch + index,
          train: slotMetrics(view, 0, rows),
          test: slotMetrics(view, 1, test.n),
        };
        history.push(m);
        if (spec.onEpoch?.(m) === false) break;
      }
      spec.after?.report(after.map((data, k) => slotMetrics(sums, afterSlot + k, data.n)));
    } finally {
      this.#release([metrics, readback, ...fused?.buffers() ?? []]);
      this.#optimizers?.forEach((o, l) => inMatmul[l] || o.advance(submitted));
      this.#adapters.forEach((adapter, l) => plan.learns[l] && adapter?.advance(submitted));
    }
    return history;
  }

  async evaluate(handles: readonly DatasetHandle[]): Promise<Metrics[]> {
    // Every dataset's chunks in one submission, each dataset summing into a metrics slot of its own,
    // then one wait for all the slots.
    if (handles.length === 0) return [];
    const sets = handles as readonly GpuDataset[];
    const passes = measuringPasses(sets);
    const records = stepRecords(passes.flat(), this.#stepAlign);
    this.#prepare(EVAL_CHUNK_ROWS, 1, passes.flat().length);
    const metrics = this.#buffer(sets.length * SLOT_BYTES, STORAGE | COPY_SRC);
    const work = this.#measureDispatches(sets, passes, metrics, records, 0, 0);
    this.#device.queue.writeBuffer(this.#steps, 0, records);
    try {
      await this.#submitEpoch(this.#device, work);
      const [sums] = await this.#read([metrics]);
      return sets.map((data, slot) => slotMetrics(sums, slot, data.n));
    } finally {
      this.#release([metrics]);
    }
  }

  async logits(handle: DatasetHandle): Promise<Float32Array<ArrayBuffer>> {
    // Per chunk one submission: its forward pass, then a copy of its logits into a mappable buffer
    // of its own. The host then waits once, for them all.
    const data = handle as GpuDataset;
    const { chunks, metrics, bindings } = this.#measuring(data); // logits leave the metrics unused
    const classes = this.#layers[this.#layers.length - 1].outputs;
    const readbacks = chunks.map((span) => this.#buffer(span.rows * classes * 4, MAP_READ | COPY_DST));
    try {
      for (const [c, span] of chunks.entries()) {
        const work = this.#forwardDispatches(bindings.forwardEval, Rows.chunk, span, c * this.#stepAlign);
        const from = this.#outputs[this.#layers.length - 1];
        await this.#submitEpoch(this.#device, work, { from, offset: 0, to: readbacks[c] });
      }
      const values = await this.#map(readbacks);
      const logits = new Float32Array(data.n * classes);
      chunks.forEach((span, c) => {
        logits.set(new Float32Array(values[c], 0, span.rows * classes), span.offset * classes);
      });
      return logits;
    } finally {
      this.#release([metrics, ...readbacks]);
    }
  }

  /**
   * Readies a pass over `data` in chunks of {@linkcode EVAL_CHUNK_ROWS} rows: the buffers sized, each
   * chunk's step record written, a metrics slot and the bindings that read `data`.
   */
  #measuring(data: GpuDataset): { chunks: Span[]; metrics: GPUBuffer; bindings: Bindings } {
    const chunks = spans(data.n, EVAL_CHUNK_ROWS);
    this.#prepare(EVAL_CHUNK_ROWS, 1, chunks.length);
    const metrics = this.#buffer(EPOCH_BYTES, STORAGE | COPY_SRC);
    this.#device.queue.writeBuffer(this.#steps, 0, stepRecords(chunks, this.#stepAlign));
    return { chunks, metrics, bindings: this.#bindings(data, data, metrics) };
  }

  dispose(): void {
    this.#release([...this.#owned]);
    this.context.destroy();
  }

  /**
   * One minibatch step: forward, loss gradient, then from the head down to the lowest learning layer
   * the input gradient (for the layer below) and the fused SGD step. Frozen layers get neither.
   */
  #stepDispatches(b: Bindings, span: Span, record: number, plan: GradientPlan): Dispatch[] {
    const offset = record * this.#stepAlign, last = this.#layers.length - 1;
    const work = this.#forwardDispatches(b.forwardTrain, Rows.shuffled, span, offset);
    work.push({ pipeline: this.pipelines.softmaxXent(true), group: b.xentTrain, offset, workgroups: [1, 1] });
    const { learns, lowest } = plan;
    for (let l = last; lowest >= 0 && l >= lowest; l--) {
      const layer = this.#layers[l];
      if (l > lowest) { // before this layer's update: dX needs its old weights
        work.push({
          pipeline: this.pipelines.matmul(MATMUL_VARIANTS.inputGrad()),
          group: b.inputGrad[l]!,
          offset,
          workgroups: matmulWorkgroups(span.rows, layer.inputs),
        });
      }
      if (!learns[l]) continue; // frozen: its bytes stay exactly as they were
      const rows = l === 0 ? Rows.shuffled : Rows.direct;
      const optimizer = b.optimizer[l];
      work.push({
        pipeline: this.pipelines.matmul(
          optimizer ? MATMUL_VARIANTS.gradient(rows) : MATMUL_VARIANTS.sgdStep(rows),
        ),
        group: optimizer?.gradient ?? b.sgdStep[l],
        offset,
        workgroups: matmulWorkgroups(layer.inputs, layer.outputs, true),
      });
      for (const dispatch of b.adapter[l] ?? []) work.push({ ...dispatch, offset });
      if (optimizer && !this.#optimizers![l].idle) { // an adapter's layer: its bias alone, if it learns
        const workgroups = this.#optimizers![l].workgroups();
        work.push({ pipeline: this.pipelines.optimizer(), group: optimizer.step, offset, workgroups });
      }
    }
    return work;
  }

  /**
   * Which kernels train `spec` on the current model: `fused` where the engine's
   * {@linkcode KernelChoice} allows it and the phase fits the fused kernel (see `fused_mlp.ts`; a
   * phase in which nothing learns takes the general path), else `general`.
   */
  kernelsFor(spec: PhaseSpec): "fused" | "general" {
    return this.#fusedLayout(spec, gradientPlan(spec.layerRates)) === null ? "general" : "fused";
  }

  #fusedLayout(spec: PhaseSpec, plan: GradientPlan): FusedLayout | null {
    if (this.kernels === "general" || plan.lowest < 0 || spec.epochs === 0) return null;
    const ranks = this.#layers.map((_, l) => spec.adapters?.[l]?.rank ?? 0);
    return fusedLayout(this.#widths(), Math.min(spec.batchSize, spec.train.n), plan.lowest, ranks);
  }

  /** The model's widths: its input, then each layer's outputs. */
  #widths(): number[] {
    return [this.#layers[0].inputs, ...this.#layers.map((layer) => layer.outputs)];
  }

  /**
   * The fused kernel's run of `spec` when it takes the phase (its packed buffers filled), else null.
   * `inMatmul` says which layers' optimizer state the phase leaves alone (`#prepareOptimizers`).
   */
  #fusedRun(
    spec: PhaseSpec,
    plan: GradientPlan,
    sizes: readonly PartRates[],
    inMatmul: readonly boolean[],
  ): FusedRun | null {
    const layout = this.#fusedLayout(spec, plan);
    if (layout === null) return null;
    const rows = spec.train.n;
    const optimizer = (l: number) => inMatmul[l] ? null : this.#optimizers?.[l] ?? null;
    const adapters = this.#layers.map((_, l) => this.#adapters[l]?.residence ?? null);
    const counts = this.#layers.map((_, l) => {
      const own = optimizer(l)?.steps ?? { weights: 0, biases: 0 };
      return { ...own, weights: adapters[l]?.steps ?? own.weights }; // an adapter's factors learn for W
    });
    const phase = {
      trainRows: rows,
      lowest: plan.lowest,
      optimizer: spec.optimizer ?? PLAIN_SGD,
      sizes,
      penalties: this.#layers.map((_, l) => spec.penalties?.[l] ?? NO_PENALTY),
      counts,
      adapters,
    };
    return new FusedRun(
      this.#device,
      this.#layers.map((layer, l) => ({
        weights: layer.weights,
        bias: layer.bias,
        state: optimizer(l)?.state ?? null,
        adapter: adapters[l],
      })),
      this.#widths(),
      layout,
      phase,
      Array.from({ length: spec.epochs }, (_, e) => epochSteps(spec, rows, e)),
      this.#stepAlign,
      (bytes, usage) => this.#buffer(bytes, usage),
    );
  }

  /** W = W₀ + s · A · B on the layers whose adapter was just attached, before any step reads W. */
  async #merge(layers: readonly number[]): Promise<void> {
    const work = layers.map((l) => ({
      ...this.#adapters[l]!.mergeDispatch(this.pipelines, this.#layers[l].weights, this.#order, this.#steps),
      offset: 0,
    }));
    if (work.length > 0) await this.#submitEpoch(this.#device, work);
  }

  /** Records `optimizer`'s rule as the one the state belongs to; whether it differs from the last phase's. */
  #takeRule(optimizer: OptimizerSpec): boolean {
    const changed = optimizer.name !== this.#rule;
    this.#rule = optimizer.name;
    return changed;
  }

  /**
   * Attaches each adapter `spec` brings that is not attached already (W₀ is then the layer's weights
   * now), keeps those it brings again, frees the rest, and readies every one's factors; returns the
   * layers whose adapter was just attached, for `#merge`.
   */
  #prepareAdapters(spec: PhaseSpec, sizes: readonly PartRates[], ruleChanged: boolean): number[] {
    const attached: number[] = [];
    this.#adapters = this.#layers.map((layer, l) => {
      const source = spec.adapters?.[l] ?? null;
      const old = this.#adapters[l] ?? null;
      const kept = old?.source === source ? old : null;
      if (old && !kept) this.#release(old.buffers());
      if (source === null) return null;
      if (kept === null) attached.push(l);
      const adapter = kept ??
        new GpuAdapter(
          this.#device,
          source,
          layer.inputs,
          layer.outputs,
          layer.weights,
          (bytes, usage) => this.#buffer(bytes, usage),
        );
      adapter.prepare(spec.optimizer ?? PLAIN_SGD, sizes[l].weights, ruleChanged && kept !== null);
      return adapter;
    });
    return attached;
  }

  /**
   * Which layers fuse plain SGD into their gradient's product (all of them, for plain SGD without
   * penalties); for the others, readies their optimizer buffers and state for the phase. Every
   * layer's state is kept or dropped by the same rule, whichever path it takes now.
   */
  #prepareOptimizers(spec: PhaseSpec, sizes: readonly PartRates[], ruleChanged: boolean): boolean[] {
    const optimizer: OptimizerSpec = spec.optimizer ?? PLAIN_SGD;
    const penalty = (l: number) => spec.penalties?.[l] ?? NO_PENALTY;
    const adapted = (l: number) => (spec.adapters?.[l] ?? null) !== null;
    const fused = this.#layers.map((_, l) => isPlainSgd(optimizer, penalty(l)) && !adapted(l));
    if (ruleChanged) this.#optimizers?.forEach((o) => o.reset()); // a new rule starts afresh
    if (this.#optimizers === null && fused.every(Boolean)) return fused;
    this.#optimizers ??= this.#layers.map((layer) =>
      new LayerOptimizer(
        this.#device,
        layer.inputs,
        layer.outputs,
        (bytes, usage) => this.#buffer(bytes, usage),
      )
    );
    this.#optimizers.forEach((o, l) => {
      const own = adapted(l) ? { weights: 0, biases: sizes[l].biases } : sizes[l]; // an adapter learns for W
      o.prepare(optimizer, penalty(l), own, spec.anchor?.[l] ?? null);
    });
    return fused;
  }

  /**
   * The dispatches that measure each of `sets` (in chunks `passes`) into a metrics slot of its own,
   * `firstSlot` on. Their chunks' step records are `records`' from `firstRecord` on, whose slots this
   * sets; the buffers must already fit them (`#prepare`).
   */
  #measureDispatches(
    sets: readonly GpuDataset[],
    passes: readonly Span[][],
    metrics: GPUBuffer,
    records: ArrayBuffer,
    firstRecord: number,
    firstSlot: number,
  ): Dispatch[] {
    const work: Dispatch[] = [];
    let record = firstRecord;
    sets.forEach((data, k) => {
      const bindings = this.#bindings(data, data, metrics);
      for (const span of passes[k]) {
        setStepSlot(records, record * this.#stepAlign, firstSlot + k);
        work.push(...this.#evaluationDispatches(bindings, span, record++));
      }
    });
    return work;
  }

  /** Forward over a chunk of the evaluated dataset, then its summed loss and correct count into the slot. */
  #evaluationDispatches(b: Bindings, span: Span, record: number): Dispatch[] {
    const offset = record * this.#stepAlign;
    const work = this.#forwardDispatches(b.forwardEval, Rows.chunk, span, offset);
    work.push({ pipeline: this.pipelines.softmaxXent(false), group: b.xentEval, offset, workgroups: [1, 1] });
    return work;
  }

  /** The forward pass over `span`: the first layer reads the dataset's rows as `firstRows` says. */
  #forwardDispatches(groups: GPUBindGroup[], firstRows: RowMode, span: Span, offset: number): Dispatch[] {
    const last = this.#layers.length - 1;
    return this.#layers.map((layer, l) => ({
      pipeline: this.pipelines.matmul(MATMUL_VARIANTS.forward(l === 0 ? firstRows : Rows.direct, l < last)),
      group: groups[l],
      offset,
      workgroups: matmulWorkgroups(span.rows, layer.outputs),
    }));
  }

  /** Each layer's step sizes into its SGD dispatch's `dims.rate` (weights) and `dims.bias_rate`. */
  #writeStepSizes(steps: readonly PartRates[]): void {
    this.#layers.forEach((layer, l) => {
      const rates = new Float32Array([steps[l].weights, steps[l].biases]);
      this.#device.queue.writeBuffer(layer.sgdDims, DIMS_RATE_OFFSET, rates);
    });
  }

  #bindings(
    train: GpuDataset,
    test: GpuDataset,
    metrics: GPUBuffer,
    fused: readonly boolean[] = [],
  ): Bindings {
    const p = this.pipelines, last = this.#layers.length - 1;
    const [rowIndex, step] = [this.#order, this.#steps];
    const input = (data: GpuDataset, l: number) => (l === 0 ? data.x : this.#outputs[l - 1]);
    const forward = (data: GpuDataset) =>
      this.#layers.map((layer, l) =>
        p.matmulGroup({
          a: input(data, l),
          b: layer.weights,
          c: this.#outputs[l],
          aux: layer.bias,
          rowIndex,
          dims: layer.forwardDims,
          step,
        })
      );
    const xent = (data: GpuDataset) =>
      p.xentGroup({
        logits: this.#outputs[last],
        labels: data.labels,
        rowIndex,
        grad: this.#deltas[last],
        metrics,
        shape: this.#layers[last].width,
        step,
      });
    return {
      forwardTrain: forward(train),
      forwardEval: forward(test),
      xentTrain: xent(train),
      xentEval: xent(test),
      sgdStep: this.#layers.map((layer, l) =>
        p.matmulGroup({
          a: input(train, l),
          b: this.#deltas[l],
          c: layer.weights,
          aux: layer.bias,
          rowIndex,
          dims: layer.sgdDims,
          step,
        })
      ),
      optimizer: this.#layers.map((layer, l) => {
        const optimizer = this.#optimizers?.[l];
        if (fused[l] !== false || optimizer === undefined) return null;
        const gradient = p.matmulGroup({
          a: input(train, l),
          b: this.#deltas[l],
          c: optimizer.grad,
          aux: layer.bias,
          rowIndex,
          dims: layer.sgdDims,
          step,
        });
        return { gradient, step: optimizer.group(p, layer.weights, layer.bias, step) };
      }),
      adapter: this.#layers.map((layer, l) => {
        const optimizer = this.#optimizers?.[l];
        const adapter = this.#adapters[l] ?? null;
        return adapter && optimizer
          ? adapter.dispatches(p, optimizer.grad, layer.weights, rowIndex, step)
          : null;
      }),
      inputGrad: this.#layers.map((layer, l) =>
        l === 0 ? null : p.matmulGroup({
          a: this.#deltas[l],
          b: layer.weights,
          c: this.#deltas[l - 1],
          aux: this.#outputs[l - 1],
          rowIndex,
          dims: layer.inputGradDims,
          step,
        })
      ),
    };
  }

  /** Grows the activation, order and step buffers to fit (they are kept across phases). */
  #prepare(rows: number, orderLength: number, records: number): void {
    if (rows > this.#capacity) {
      this.#release([...this.#outputs, ...this.#deltas]);
      const usage = STORAGE | COPY_SRC; // `logits` copies the last layer's out
      this.#outputs = this.#layers.map((layer) => this.#buffer(rows * layer.outputs * 4, usage));
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
    const dims = (m: number, n: number, k: number) => this.#filled(matmulDims(m, n, k), UNIFORM);
    return {
      inputs,
      outputs,
      weights: this.#buffer(inputs * outputs * 4, STORAGE | COPY_DST | COPY_SRC),
      bias: this.#buffer(outputs * 4, STORAGE | COPY_DST | COPY_SRC),
      forwardDims: dims(0, outputs, inputs), // m is the batch
      sgdDims: dims(inputs, outputs, 0), // k is the batch
      inputGradDims: dims(0, inputs, outputs), // m is the batch
      width: this.#filled(new Uint32Array([outputs, 0, 0, 0]), STORAGE),
    };
  }

  /** Copies of `sources` after everything submitted, in one submission and one wait. */
  async #read(sources: GPUBuffer[]): Promise<ArrayBuffer[]> {
    const copies = await this.#waited(readBuffers(this.#device, sources));
    this.context.check();
    return copies;
  }

  /** Waits for mappable `buffers` and copies them out. */
  async #map(buffers: GPUBuffer[]): Promise<ArrayBuffer[]> {
    await this.#waited(Promise.all(buffers.map((buffer) => buffer.mapAsync(GPUMapMode.READ))));
    this.context.check();
    return buffers.map((buffer) => {
      const copy = buffer.getMappedRange().slice(0);
      buffer.unmap();
      return copy;
    });
  }

  #buffer(size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const buffer = this.#device.createBuffer({ size: bufferBytes(size), usage });
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

/** One `{row_offset, rows, slot = 0, grad_scale = 1 / rows, index = 0}` record per span, `align` bytes apart. */
function stepRecords(list: readonly Span[], align: number): ArrayBuffer {
  const records = new ArrayBuffer(Math.max(1, list.length) * align);
  list.forEach((span, i) => {
    writeStep(records, i * align, {
      rowOffset: span.offset,
      rows: span.rows,
      slot: 0,
      gradScale: 1 / span.rows,
      index: 0,
    });
  });
  return records;
}

/** Mean loss and accuracy over `n` rows from metrics slot `slot` of `sums`. */
function slotMetrics(sums: ArrayBuffer, slot: number, n: number): Metrics {
  const loss = new Float32Array(sums, slot * SLOT_BYTES, 1)[0];
  const correct = new Uint32Array(sums, slot * SLOT_BYTES + 4, 1)[0];
  return { loss: loss / n, accuracy: correct / n };
}

/** Each dataset's chunks when it is measured whole. */
function measuringPasses(sets: readonly GpuDataset[]): Span[][] {
  return sets.map((data) => spans(data.n, EVAL_CHUNK_ROWS));
}

/**
 * Readies the first `count` records for an epoch: the first `trainSpans` (its minibatches, numbered
 * in the phase from `firstStep`) count into metrics slot `slot`, the rest (the test chunks) into
 * `slot + 1`.
 */
function setEpoch(
  records: ArrayBuffer,
  align: number,
  count: number,
  trainSpans: number,
  slot: number,
  firstStep: number,
): void {
  for (let i = 0; i < count; i++) {
    setStepSlot(records, i * align, i < trainSpans ? slot : slot + 1);
    if (i < trainSpans) setStepIndex(records, i * align, firstStep + i);
  }
}
