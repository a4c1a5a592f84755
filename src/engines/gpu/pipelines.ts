/**
 * The compute pipelines built from `shaders/matmul.wgsl` and `shaders/softmax_xent.wgsl`, and the
 * bind group layouts they share.
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
import { GpuError } from "./context.ts";

/** How a kernel finds the rows of a matrix that lives in a dataset (see matmul.wgsl's `A_ROWS`). */
export const Rows = { direct: 0, chunk: 1, shuffled: 2 } as const;
/** One of {@linkcode Rows}. */
export type RowMode = typeof Rows[keyof typeof Rows];

/** The matmul epilogues (see matmul.wgsl). */
export const Epilogue = { none: 0, bias: 1, biasRelu: 2, reluMask: 3, sgdStep: 4 } as const;
/** One of {@linkcode Epilogue}. */
export type EpilogueMode = typeof Epilogue[keyof typeof Epilogue];

/** One specialisation of matmul.wgsl. */
export interface MatmulVariant {
  readonly transA: boolean;
  readonly transB: boolean;
  readonly aRows: RowMode;
  readonly batchIsK: boolean;
  readonly epilogue: EpilogueMode;
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
/** Bytes of one step record `{row_offset, rows, slot, grad_scale}`. */
export const STEP_BYTES = 16;

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
  /** `dX = (dY Wᵀ) ⊙ [X > 0]`. */
  inputGrad: (): MatmulVariant => ({
    transA: false,
    transB: true,
    aRows: Rows.direct,
    batchIsK: false,
    epilogue: Epilogue.reluMask,
  }),
};

type Binding = "read" | "write" | "uniform" | "step";

/** Pipelines and layouts for one device. */
export class Kernels {
  readonly #matmul = new Map<string, GPUComputePipeline>();
  readonly #xent = new Map<boolean, GPUComputePipeline>();

  private constructor(
    readonly device: GPUDevice,
    readonly schedule: MatmulSchedule,
    readonly layouts: { matmul: GPUBindGroupLayout; xent: GPUBindGroupLayout },
  ) {}

  /** Compiles both shaders and creates every pipeline the engine uses, matmul with `schedule`. */
  static async create(device: GPUDevice, schedule: MatmulSchedule): Promise<Kernels> {
    const layouts = {
      matmul: layout(device, ["read", "read", "write", "write", "read", "uniform", "step", "read", "read"]),
      xent: layout(device, ["read", "read", "read", "write", "write", "uniform", "step"]),
    };
    const matmulModule = await compile(device, "matmul.wgsl", matmulSource);
    const xentModule = await compile(device, "softmax_xent.wgsl", softmaxXentSource);
    const kernels = new Kernels(device, schedule, layouts);
    const variants = [
      ...[Rows.direct, Rows.chunk, Rows.shuffled].flatMap((rows) => [
        MATMUL_VARIANTS.forward(rows, true),
        MATMUL_VARIANTS.forward(rows, false),
      ]),
      MATMUL_VARIANTS.sgdStep(Rows.direct),
      MATMUL_VARIANTS.sgdStep(Rows.shuffled),
      MATMUL_VARIANTS.inputGrad(),
    ];
    await Promise.all([
      ...variants.map(async (v) => {
        const constants = {
          TRANS_A: Number(v.transA),
          TRANS_B: Number(v.transB),
          A_ROWS: v.aRows,
          BATCH_IS_K: Number(v.batchIsK),
          EPILOGUE: v.epilogue,
        };
        const entry = `main_${schedule}`;
        kernels.#matmul.set(
          key(v),
          await pipeline(device, "matmul.wgsl", matmulModule, entry, layouts.matmul, constants),
        );
      }),
      ...[true, false].map(async (withGrad) => {
        const constants = { WITH_GRAD: Number(withGrad), LABEL_ROWS: withGrad ? Rows.shuffled : Rows.chunk };
        kernels.#xent.set(
          withGrad,
          await pipeline(device, "softmax_xent.wgsl", xentModule, "main", layouts.xent, constants),
        );
      }),
    ]);
    return kernels;
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

  /**
   * A bind group for `layout` with `buffers` at bindings 0, 1, ...; the step uniform is bound 16 bytes
   * wide. For matmul give bindings 0 to 6: A and B are bound again at 7 and 8, its vec4 views.
   */
  bindGroup(layout: GPUBindGroupLayout, buffers: readonly GPUBuffer[], stepBinding: number): GPUBindGroup {
    if (layout === this.layouts.matmul) buffers = [...buffers, buffers[0], buffers[1]];
    return this.device.createBindGroup({
      layout,
      entries: buffers.map((buffer, binding) => ({
        binding,
        resource: binding === stepBinding ? { buffer, size: STEP_BYTES } : { buffer },
      })),
    });
  }
}

function key(v: MatmulVariant): string {
  return `${+v.transA}${+v.transB}${v.aRows}${+v.batchIsK}${v.epilogue}`;
}

function layout(device: GPUDevice, bindings: readonly Binding[]): GPUBindGroupLayout {
  const buffer = (kind: Binding): GPUBufferBindingLayout => {
    if (kind === "read") return { type: "read-only-storage" };
    if (kind === "write") return { type: "storage" };
    return { type: "uniform", hasDynamicOffset: kind === "step" };
  };
  return device.createBindGroupLayout({
    entries: bindings.map((kind, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: buffer(kind),
    })),
  });
}

async function compile(device: GPUDevice, file: string, code: string): Promise<GPUShaderModule> {
  const module = device.createShaderModule({ label: file, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === "error");
  if (errors.length > 0) {
    const text = errors.map((m) => `${file}:${m.lineNum}:${m.linePos}: ${m.message}`).join("; ");
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
): Promise<GPUComputePipeline> {
  try {
    return await device.createComputePipelineAsync({
      label: `${file} ${entryPoint}`,
      layout: device.createPipelineLayout({ bindGroupLayouts: [bindings] }),
      compute: { module, entryPoint, constants },
    });
  } catch (error) {
    throw new GpuError(
      `${file}: pipeline creation failed: ${error instanceof Error ? error.message : error}`,
    );
  }
}
