/**
 * The compute pipelines built from `shaders/matmul.wgsl`, `shaders/softmax_xent.wgsl`,
 * `shaders/optimizer.wgsl` and `shaders/fused_mlp.wgsl` (the last two after
 * `shaders/update_rule.wgsl`, which both call), and the bind group layouts they share.
 *
 * Each shader is compiled once per device; its variants come from WGSL `override` constants, so the
 * branches a variant does not take are folded away by the compiler. All pipelines are created up
 * front (asynchronously, in parallel), and a compilation or validation failure is reported with the
 * shader's file name and the compiler's messages.
 *
 * @module
 */

import matmulSource from "../../../shaders/matmul.wgsl" with { type: "text" };
import softmaxXentSource from "../../../shaders/softmax_xent.wgsl" with { type: "text" };
import optimizerSource from "../../../shaders/optimizer.wgsl" with { type: "text" };
import updateRuleSource from "../../../shaders/update_rule.wgsl" with { type: "text" };
import fusedMlpSource from "../../../shaders/fused_mlp.wgsl" with { type: "text" };
import { errorMessage } from "../../core/errors.ts";
import { GpuError } from "./context.ts";

/** How a kernel finds the rows of a matrix that lives in a dataset (see matmul.wgsl's `A_ROWS`). */
export const Rows = { direct: 0, chunk: 1, shuffled: 2 } as const;
/** One of {@linkcode Rows}. */
export type RowMode = typeof Rows[keyof typeof Rows];

/** The matmul epilogues (see matmul.wgsl). */
export const Epilogue = {
  none: 0,
  bias: 1,
  biasRelu: 2,
  reluMask: 3,
  sgdStep: 4,
  gradient: 5,
  merge: 6,
  scaled: 7,
} as const;
/** One of {@linkcode Epilogue}. */
export type EpilogueMode = typeof Epilogue[keyof typeof Epilogue];

/** One specialisation of matmul.wgsl. */
export interface MatmulVariant {
  /** A is stored transposed, K×M (`TRANS_A`): the weight gradient's `Xᵀ`. */
  readonly transA: boolean;
  /** B is stored transposed, N×K (`TRANS_B`): the input gradient's `Wᵀ`. */
  readonly transB: boolean;
  /** Where A's stored rows come from (`A_ROWS`): as they are, a dataset chunk, or the shuffled order. */
  readonly aRows: RowMode;
  /** The batch (`step.rows`) is K rather than M (`BATCH_IS_K`): the weight gradient sums over it. */
  readonly batchIsK: boolean;
  /** What the product goes through before C is written (`EPILOGUE`). */
  readonly epilogue: EpilogueMode;
  /** M, N and K all from `dims`, none from the step's rows (`STATIC_SHAPE`): the LoRA products. */
  readonly staticShape?: boolean;
}

/** Output tile edge of matmul.wgsl: dispatch `ceil(N / 32) × ceil(M / 32)` workgroups. */
export const MATMUL_TILE = 32;
/**
 * The two schedules of matmul.wgsl: `tiled` stages K through workgroup memory (hardware GPUs),
 * `blocked` reads memory directly without barriers (CPU-emulated adapters such as llvmpipe).
 */
export const MATMUL_SCHEDULES = ["tiled", "blocked"] as const;
/** One of {@linkcode MATMUL_SCHEDULES}. */
export type MatmulSchedule = typeof MATMUL_SCHEDULES[number];

/** The schedule that is faster on an adapter: `blocked` on a software one, `tiled` on a GPU. */
export function defaultSchedule(software: boolean): MatmulSchedule {
  return software ? "blocked" : "tiled";
}

/**
 * Workgroups of one matmul dispatch whose C is `m × n`: `ceil(n / 32) × ceil(m' / 32)`, where m' is
 * m, or m + 1 for the SGD step (its extra row of op(A) is the bias).
 */
export function matmulWorkgroups(m: number, n: number, sgdStep = false): [number, number] {
  return [Math.ceil(n / MATMUL_TILE), Math.ceil((sgdStep ? m + 1 : m) / MATMUL_TILE)];
}

/** A buffer's size for `bytes` of data: whole 16-byte units (uniforms and vec4 views need them), at least one. */
export function bufferBytes(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}
/**
 * Bytes of one step record `{row_offset, rows, slot, grad_scale, index}` as bound (the shaders' `Step`;
 * matmul and softmax read the first four words), padded to whole 16-byte units.
 */
export const STEP_BYTES = 32;
/**
 * Byte offset of `rate` in matmul.wgsl's `Dims {m, n, k, rate, bias_rate}`: the SGD step's size for
 * the weights, set per phase; `bias_rate`, the biases', follows it.
 */
export const DIMS_RATE_OFFSET = 12;
/** Bytes of a `Dims` uniform: its five words, padded to whole 16-byte units. */
const DIMS_BYTES = 32;

/** One step record: the rows a dispatch works on, its metrics slot, and the gradient's scale. */
export interface StepRecord {
  /** The span's first row: in the dataset for a chunk, in the row order for a shuffled minibatch. */
  readonly rowOffset: number;
  /** Rows in the span: the batch dimension of every dispatch that reads this record. */
  readonly rows: number;
  /** The metrics slot (`{loss, correct}`, 8 bytes) that the softmax kernel adds the span's sums to. */
  readonly slot: number;
  /** Multiplies the loss gradient: `1 / rows` makes it the gradient of the span's mean loss. */
  readonly gradScale: number;
  /** The step's number in its phase, from 0 (the optimizer's t counts from it); 0 for an evaluation chunk. */
  readonly index: number;
}

/** Writes `step` as a `Step` record at byte `at` of `records`. */
export function writeStep(records: ArrayBuffer, at: number, step: StepRecord): void {
  new Uint32Array(records, at, 2).set([step.rowOffset, step.rows]);
  setStepSlot(records, at, step.slot);
  new Float32Array(records, at + 12, 1)[0] = step.gradScale;
  setStepIndex(records, at, step.index);
}

/** Gives the step record at byte `at` of `records` the number `index` in its phase (its fifth word). */
export function setStepIndex(records: ArrayBuffer, at: number, index: number): void {
  new Uint32Array(records, at + 16, 1)[0] = index;
}

/** Points the step record at byte `at` of `records` to metrics slot `slot` (its third word). */
export function setStepSlot(records: ArrayBuffer, at: number, slot: number): void {
  new Uint32Array(records, at + 8, 1)[0] = slot;
}

/** matmul.wgsl's `Dims {m, n, k, rate, bias_rate}` as bytes for a uniform buffer. */
export function matmulDims(
  m: number,
  n: number,
  k: number,
  rate = 0,
  biasRate = rate,
): Uint32Array<ArrayBuffer> {
  const dims = new Uint32Array(DIMS_BYTES / 4);
  dims.set([m, n, k]);
  new Float32Array(dims.buffer, DIMS_RATE_OFFSET, 2).set([rate, biasRate]);
  return dims;
}

/** The matmul variants the engine uses, by role. */
export const MATMUL_VARIANTS = {
  /** `relu(X W + b)` / `X W + b` with X's rows read directly, from a chunk, or shuffled. */
  forward: (aRows: RowMode, hidden: boolean): MatmulVariant => ({
    transA: false,
    transB: false,
    aRows,
    batchIsK: false,
    epilogue: hidden ? Epilogue.biasRelu : Epilogue.bias,
  }),
  /** `W -= rate · Xᵀ dY` and `b -= rate · Σ_rows dY`: a layer's gradient and update in one pass. */
  sgdStep: (aRows: RowMode): MatmulVariant => ({
    transA: true,
    transB: false,
    aRows,
    batchIsK: true,
    epilogue: Epilogue.sgdStep,
  }),
  /** `G = [Xᵀ dY; Σ_rows dY]`: a layer's weight and bias gradients, for the optimizer kernel. */
  gradient: (aRows: RowMode): MatmulVariant => ({
    transA: true,
    transB: false,
    aRows,
    batchIsK: true,
    epilogue: Epilogue.gradient,
  }),
  /** `dX = (dY Wᵀ) ⊙ [X > 0]`. */
  inputGrad: (): MatmulVariant => ({
    transA: false,
    transB: true,
    aRows: Rows.direct,
    batchIsK: false,
    epilogue: Epilogue.reluMask,
  }),
  /** A LoRA factor's gradient `s · G Bᵀ` (G the layer's weight gradient, B stored rank × outputs). */
  adapterGradA: (): MatmulVariant => ({
    transA: false,
    transB: true,
    aRows: Rows.direct,
    batchIsK: false,
    epilogue: Epilogue.scaled,
    staticShape: true,
  }),
  /** The other factor's gradient `s · Aᵀ G` (A stored inputs × rank). */
  adapterGradB: (): MatmulVariant => ({
    transA: true,
    transB: false,
    aRows: Rows.direct,
    batchIsK: false,
    epilogue: Epilogue.scaled,
    staticShape: true,
  }),
  /** A LoRA layer's weights `W = W₀ + s · A B`. */
  adapterMerge: (): MatmulVariant => ({
    transA: false,
    transB: false,
    aRows: Rows.direct,
    batchIsK: false,
    epilogue: Epilogue.merge,
    staticShape: true,
  }),
};

type Binding = "read" | "write" | "uniform" | "step";

/**
 * matmul.wgsl's bindings (group 0) in binding order, each named by its role and its kind; A and B
 * are bound again at 7 and 8 as the vec4 views of `main_blocked`'s aligned path.
 */
export const MATMUL_BINDINGS = [
  ["a", "read"],
  ["b", "read"],
  ["c", "write"],
  ["aux", "write"],
  ["rowIndex", "read"],
  ["dims", "uniform"],
  ["step", "step"],
  ["a", "read"],
  ["b", "read"],
] as const;

/** softmax_xent.wgsl's bindings (group 0) in binding order, each named by its role and its kind. */
export const XENT_BINDINGS = [
  ["logits", "read"],
  ["labels", "read"],
  ["rowIndex", "read"],
  ["grad", "write"],
  ["metrics", "write"],
  ["shape", "read"],
  ["step", "step"],
] as const;

/** optimizer.wgsl's bindings (group 0) in binding order, each named by its role and its kind. */
export const OPTIMIZER_BINDINGS = [
  ["weights", "write"],
  ["bias", "write"],
  ["grad", "read"],
  ["m", "write"],
  ["v", "write"],
  ["anchor", "read"],
  ["params", "uniform"],
  ["step", "step"],
] as const;

/** Invocations of the kernel's one workgroup. */
export const FUSED_THREADS = 64;
/**
 * Rows and units on each side of the kernel's product blocks (`BLOCK`: each invocation sums 4 × 4);
 * the kernel holds a side in a vec4 and asserts it is 4.
 */
export const FUSED_BLOCK = 4;
/**
 * Floats of the kernel's `mem`: WebGPU's guaranteed 16 KiB of workgroup memory, less the two
 * per-invocation sums (`loss_part`, `correct_part`).
 */
export const FUSED_MEMORY = (16384 - 2 * 4 * FUSED_THREADS) / 4;
/** Layers the kernel's `Net` uniform has room for. */
export const MAX_FUSED_LAYERS = 8;
/**
 * Loop iterations one invocation may run in one dispatch: llvmpipe cuts every loop of an invocation
 * short once its iterations in a dispatch add up to about 65535 (tools/llvmpipe_loop_limit.ts), so
 * a dispatch keeps well under it.
 */
export const FUSED_LOOP_BUDGET = 50_000;

/** The WGSL constants the host sets in front of fused_mlp.wgsl. */
export const FUSED_CONSTANTS = `const THREADS = ${FUSED_THREADS}u;
const BLOCK = ${FUSED_BLOCK}u;
const MEMORY = ${FUSED_MEMORY};
const MAX_LAYERS = ${MAX_FUSED_LAYERS};
`;

/** The update-rule number `Rule.kind` takes (update_rule.wgsl; optimizer.wgsl's `Params.kind` too). */
export const RULE_KIND = { sgd: 0, momentum: 1, adam: 2, adamw: 2 } as const;

/** fused_mlp.wgsl's bindings (group 0) in binding order, each named by its role and its kind. */
export const FUSED_BINDINGS = [
  ["x", "read"],
  ["labels", "read"],
  ["order", "read"],
  ["params", "write"],
  ["state", "write"],
  ["metrics", "write"],
  ["net", "uniform"],
  ["work", "step"],
] as const;

/** optimizer.wgsl's `Params` as 16 words (see its header); `kind` 0 sgd, 1 momentum, 2 adam and adamw. */
export interface OptimizerParams {
  /** The weights' count M·N: elements below it are W, the next N are b. */
  readonly weights: number;
  /** All parameters, (M+1)·N. */
  readonly count: number;
  /** The update rule: 0 sgd, 1 momentum, 2 adam (adamw too). */
  readonly kind: number;
  /** momentum: Nesterov's form. */
  readonly nesterov: boolean;
  /** The weights' step size; 0 freezes them. */
  readonly rateW: number;
  /** The bias's step size; 0 freezes it. */
  readonly rateB: number;
  /** momentum's μ. */
  readonly mu: number;
  /** adam's β₁. */
  readonly beta1: number;
  /** adam's β₂. */
  readonly beta2: number;
  /** adam's ε. */
  readonly epsilon: number;
  /** The L2 pull towards 0 in the gradient: coupled weight decay plus the penalty's decay. */
  readonly coupled: number;
  /** adamw's decoupled weight decay; 0 otherwise. */
  readonly decoupled: number;
  /** The pull towards the anchor (L2-SP's α), on weights and bias alike. */
  readonly anchor: number;
  /** Steps the weights took before this phase since their state was fresh. */
  readonly t0W: number;
  /** Steps the bias took before this phase since its state was fresh. */
  readonly t0B: number;
}

/** optimizer.wgsl's `Params` as bytes for a uniform buffer. */
export function optimizerParams(p: OptimizerParams): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(16);
  words.set([p.weights, p.count, p.kind, Number(p.nesterov)]);
  new Float32Array(words.buffer, 16, 9).set([
    p.rateW,
    p.rateB,
    p.mu,
    p.beta1,
    p.beta2,
    p.epsilon,
    p.coupled,
    p.decoupled,
    p.anchor,
  ]);
  words.set([p.t0W, p.t0B], 13);
  return words;
}

/** The buffers of one matmul dispatch, by role (see matmul.wgsl's header). */
export type MatmulBuffers = Readonly<Record<typeof MATMUL_BINDINGS[number][0], GPUBuffer>>;
/** The buffers of one softmax cross-entropy dispatch, by role (see softmax_xent.wgsl's header). */
export type XentBuffers = Readonly<Record<typeof XENT_BINDINGS[number][0], GPUBuffer>>;
/** The buffers of one optimizer dispatch, by role (see optimizer.wgsl's header). */
export type OptimizerBuffers = Readonly<Record<typeof OPTIMIZER_BINDINGS[number][0], GPUBuffer>>;
/** The buffers of one fused training dispatch, by role (see fused_mlp.wgsl's header). */
export type FusedBuffers = Readonly<Record<typeof FUSED_BINDINGS[number][0], GPUBuffer>>;

/** Pipelines and layouts for one device. */
export class Pipelines {
  readonly #matmul = new Map<string, GPUComputePipeline>();
  readonly #xent = new Map<boolean, GPUComputePipeline>();
  #optimizer: GPUComputePipeline | null = null;
  #fused: GPUComputePipeline | null = null;

  private constructor(
    readonly device: GPUDevice,
    readonly schedule: MatmulSchedule,
    private readonly layouts: {
      matmul: GPUBindGroupLayout;
      xent: GPUBindGroupLayout;
      optimizer: GPUBindGroupLayout;
      fused: GPUBindGroupLayout;
    },
  ) {}

  /** Compiles both shaders and creates every pipeline the engine uses, matmul with `schedule`. */
  static async create(device: GPUDevice, schedule: MatmulSchedule): Promise<Pipelines> {
    const layouts = {
      matmul: layout(device, MATMUL_BINDINGS),
      xent: layout(device, XENT_BINDINGS),
      optimizer: layout(device, OPTIMIZER_BINDINGS),
      fused: layout(device, FUSED_BINDINGS),
    };
    const matmulModule = await compile(device, [["matmul.wgsl", matmulSource]]);
    const xentModule = await compile(device, [["softmax_xent.wgsl", softmaxXentSource]]);
    const rule = ["update_rule.wgsl", updateRuleSource] as const;
    const optimizerModule = await compile(device, [rule, ["optimizer.wgsl", optimizerSource]]);
    const fusedModule = await compile(device, [
      ["the engine's constants", FUSED_CONSTANTS],
      rule,
      ["fused_mlp.wgsl", fusedMlpSource],
    ]);
    const pipelines = new Pipelines(device, schedule, layouts);
    const variants = [
      ...[Rows.direct, Rows.chunk, Rows.shuffled].flatMap((rows) => [
        MATMUL_VARIANTS.forward(rows, true),
        MATMUL_VARIANTS.forward(rows, false),
      ]),
      MATMUL_VARIANTS.sgdStep(Rows.direct),
      MATMUL_VARIANTS.sgdStep(Rows.shuffled),
      MATMUL_VARIANTS.gradient(Rows.direct),
      MATMUL_VARIANTS.gradient(Rows.shuffled),
      MATMUL_VARIANTS.inputGrad(),
      MATMUL_VARIANTS.adapterGradA(),
      MATMUL_VARIANTS.adapterGradB(),
      MATMUL_VARIANTS.adapterMerge(),
    ];
    await Promise.all([
      ...variants.map(async (v) => {
        const constants = {
          TRANS_A: Number(v.transA),
          TRANS_B: Number(v.transB),
          A_ROWS: v.aRows,
          BATCH_IS_K: Number(v.batchIsK),
          EPILOGUE: v.epilogue,
          STATIC_SHAPE: Number(v.staticShape ?? false),
        };
        const entry = `main_${schedule}`;
        pipelines.#matmul.set(
          key(v),
          await pipeline(
            device,
            "matmul.wgsl",
            matmulModule,
            entry,
            layouts.matmul,
            constants,
            variantName(v),
          ),
        );
      }),
      (async () => {
        pipelines.#optimizer = await pipeline(
          device,
          "optimizer.wgsl",
          optimizerModule,
          "main",
          layouts.optimizer,
          {},
          "step",
        );
      })(),
      (async () => {
        pipelines.#fused = await pipeline(
          device,
          "fused_mlp.wgsl",
          fusedModule,
          "main",
          layouts.fused,
          {},
          "train",
        );
      })(),
      ...[true, false].map(async (withGrad) => {
        const constants = { WITH_GRAD: Number(withGrad), LABEL_ROWS: withGrad ? Rows.shuffled : Rows.chunk };
        const name = withGrad ? "loss and gradient" : "loss";
        pipelines.#xent.set(
          withGrad,
          await pipeline(device, "softmax_xent.wgsl", xentModule, "main", layouts.xent, constants, name),
        );
      }),
    ]);
    return pipelines;
  }

  /** The pipeline for one matmul variant (one of those {@linkcode MATMUL_VARIANTS} builds). */
  matmul(variant: MatmulVariant): GPUComputePipeline {
    const found = this.#matmul.get(key(variant));
    if (found === undefined) throw new Error(`no matmul pipeline for ${key(variant)}`);
    return found;
  }

  /**
   * Softmax cross-entropy: with the gradient over a shuffled minibatch (training), or loss and
   * accuracy alone over a dataset chunk (evaluation).
   */
  softmaxXent(withGrad: boolean): GPUComputePipeline {
    return this.#xent.get(withGrad)!;
  }

  /** One optimizer step of a layer's parameters (optimizer.wgsl). */
  optimizer(): GPUComputePipeline {
    return this.#optimizer!;
  }

  /** Whole minibatch steps of a small MLP in one workgroup (fused_mlp.wgsl). */
  fusedMlp(): GPUComputePipeline {
    return this.#fused!;
  }

  /** A bind group for one fused training dispatch. */
  fusedGroup(buffers: FusedBuffers): GPUBindGroup {
    return bindGroup(this.device, this.layouts.fused, FUSED_BINDINGS, buffers);
  }

  /** A bind group for one optimizer dispatch. */
  optimizerGroup(buffers: OptimizerBuffers): GPUBindGroup {
    return bindGroup(this.device, this.layouts.optimizer, OPTIMIZER_BINDINGS, buffers);
  }

  /** A bind group for one matmul dispatch. */
  matmulGroup(buffers: MatmulBuffers): GPUBindGroup {
    return bindGroup(this.device, this.layouts.matmul, MATMUL_BINDINGS, buffers);
  }

  /** A bind group for one softmax cross-entropy dispatch. */
  xentGroup(buffers: XentBuffers): GPUBindGroup {
    return bindGroup(this.device, this.layouts.xent, XENT_BINDINGS, buffers);
  }
}

/** One kernel launch: what runs, on which buffers, with which step record, over how many workgroups. */
export interface Dispatch {
  /** One of the {@linkcode Pipelines}: a matmul variant, the softmax, the optimizer or the fused kernel. */
  readonly pipeline: GPUComputePipeline;
  /** Bound as group 0; its step binding is read at `offset`. */
  readonly group: GPUBindGroup;
  /** Byte offset of the step record. */
  readonly offset: number;
  /** `[x, y]` workgroup counts: one per 32×32 tile of C for a matmul, `[1, 1]` for softmax and fused kernel. */
  readonly workgroups: readonly [number, number];
}

/** Binds each role's buffer at its index; the step record is bound {@linkcode STEP_BYTES} wide. */
function bindGroup<Role extends string>(
  device: GPUDevice,
  layout: GPUBindGroupLayout,
  bindings: readonly (readonly [Role, Binding])[],
  buffers: Readonly<Record<Role, GPUBuffer>>,
): GPUBindGroup {
  return device.createBindGroup({
    layout,
    entries: bindings.map(([role, kind], binding) => ({
      binding,
      resource: kind === "step" ? { buffer: buffers[role], size: STEP_BYTES } : { buffer: buffers[role] },
    })),
  });
}

/** A matmul variant in words: its epilogue, then where A's rows come from (and static shapes, when so). */
function variantName(v: MatmulVariant): string {
  const epilogue = Object.entries(Epilogue).find(([, mode]) => mode === v.epilogue)![0];
  const rows = Object.entries(Rows).find(([, mode]) => mode === v.aRows)![0];
  return `${epilogue}, ${rows} rows${v.staticShape ? ", static shape" : ""}`;
}

function key(v: MatmulVariant): string {
  return `${+v.transA}${+v.transB}${v.aRows}${+v.batchIsK}${v.epilogue}${+(v.staticShape ?? false)}`;
}

function layout(device: GPUDevice, bindings: readonly (readonly [string, Binding])[]): GPUBindGroupLayout {
  const buffer = (kind: Binding): GPUBufferBindingLayout => {
    if (kind === "read") return { type: "read-only-storage" };
    if (kind === "write") return { type: "storage" };
    return { type: "uniform", hasDynamicOffset: kind === "step" };
  };
  return device.createBindGroupLayout({
    entries: bindings.map(([, kind], binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: buffer(kind),
    })),
  });
}

/**
 * One module from `parts` (each a file name and its WGSL) put one after the other; a compiler message
 * names the part and its line there.
 */
async function compile(
  device: GPUDevice,
  parts: readonly (readonly [string, string])[],
): Promise<GPUShaderModule> {
  const code = parts.map(([, text]) => text.endsWith("\n") ? text : `${text}\n`);
  const file = parts.at(-1)![0];
  const module = device.createShaderModule({ label: file, code: code.join("") });
  const info = await module.getCompilationInfo();
  const where = (line: number) => {
    for (const [k, text] of code.entries()) {
      const lines = text.split("\n").length - 1;
      if (line <= lines) return `${parts[k][0]}:${line}`;
      line -= lines;
    }
    return `${file}:${line}`;
  };
  const errors = info.messages.filter((m) => m.type === "error");
  if (errors.length > 0) {
    const text = errors.map((m) => `${where(m.lineNum)}:${m.linePos}: ${m.message}`).join("; ");
    throw new GpuError(`shader compilation failed: ${text}`);
  }
  return module;
}

async function pipeline(
  device: GPUDevice,
  file: string,
  module: GPUShaderModule,
  entryPoint: string,
  bindings: GPUBindGroupLayout,
  constants: Record<string, number>,
  name: string,
): Promise<GPUComputePipeline> {
  try {
    return await device.createComputePipelineAsync({
      label: `${file} ${name}`, // names the kernel in profiles (run --profile)
      layout: device.createPipelineLayout({ bindGroupLayouts: [bindings] }),
      compute: { module, entryPoint, constants },
    });
  } catch (error) {
    throw new GpuError(
      `${file}: pipeline creation failed: ${errorMessage(error)}`,
    );
  }
}
