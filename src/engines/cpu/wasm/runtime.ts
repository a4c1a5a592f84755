/**
 * Loading the committed WebAssembly module, choosing the best variant this runtime accepts (relaxed
 * SIMD, else plain SIMD, else none: the TypeScript kernels then serve), and instantiating it on a
 * shared memory that grows as arrays are allocated.
 *
 * @module
 */

import { WASM_FILES } from "./build.ts";
import { errorMessage, UsageError } from "../../../core/errors.ts";
import { MAX_PAGES } from "./encoder.ts";
import type { GemmVariant } from "./gemm.ts";
import { HOST_FUNCTIONS, kernelModule } from "./module.ts";

/** The best variant this runtime accepts, or why none can be used. */
export type WasmSupport = { readonly variant: GemmVariant } | { readonly unavailable: string };

/**
 * The best variant whose committed module can be read and that `validate` accepts (relaxed SIMD, then
 * plain SIMD), or why there is none: a module that cannot be read (a missing file, no read permission)
 * or that neither `validate` accepts (a runtime without SIMD, or damaged files).
 */
export function detectWasm(
  read: (variant: GemmVariant) => Uint8Array<ArrayBuffer> = readModule,
  validate: (bytes: Uint8Array<ArrayBuffer>) => boolean = (bytes) => WebAssembly.validate(bytes),
): WasmSupport {
  for (const variant of ["relaxed", "simd"] as const) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = read(variant);
    } catch (error) {
      return { unavailable: `cannot read ${WASM_FILES[variant]} (${errorMessage(error)})` };
    }
    if (validate(bytes)) return { variant };
  }
  return {
    unavailable:
      `this runtime accepts neither ${WASM_FILES.relaxed} nor ${WASM_FILES.simd} (no WebAssembly SIMD)`,
  };
}

/**
 * The committed bytes of one variant's module. A browser (the playground) has no files to read, so
 * there the generator makes them: the same bytes, as a test checks.
 */
export function readModule(variant: GemmVariant): Uint8Array<ArrayBuffer> {
  if (!("Deno" in globalThis)) return kernelModule(variant);
  return Deno.readFileSync(new URL(WASM_FILES[variant], import.meta.url));
}

const compiled = new Map<GemmVariant, WebAssembly.Module>();

/** One variant's module, read and compiled once per process. */
function compiledModule(variant: GemmVariant): WebAssembly.Module {
  let module = compiled.get(variant);
  if (module === undefined) compiled.set(variant, module = new WebAssembly.Module(readModule(variant)));
  return module;
}

/**
 * A product's arguments: byte offsets of A, B, C and the panel scratch, sizes, the row strides of A
 * and of C (and B, stored row-major) in floats, the bias's byte offset and the epilogue (see `gemm.ts`).
 */
export type GemmArgs = readonly [
  a: number,
  b: number,
  c: number,
  m: number,
  k: number,
  n: number,
  panel: number,
  lda: number,
  ldc: number,
  bias: number,
  epilogue: number,
];

/** A product's export: `gemm`, `gemm_at` or `gemm_bt`. */
export type GemmExport = (...args: GemmArgs) => void;

/** The module's exports (see `gemm.ts` and `step.ts`): byte offsets into memory, sizes, scalars. */
export interface KernelExports {
  /**
   * `C[m×n] = A[m×k] · B[k×n]`, row-major f32; rows of A are `lda` floats apart, of B and C `ldc`;
   * the bias added to each row of C (then ReLU) as `epilogue` says.
   */
  gemm: GemmExport;
  /** `C = Aᵀ · B` with A stored transposed: k rows of `lda` ≥ m floats. */
  gemm_at: GemmExport;
  /** `C = A · Bᵀ` with B stored transposed: n rows of k floats. */
  gemm_bt: GemmExport;
  /** `grad[i] = 0` where `act[i] ≤ 0`, for `count` floats. */
  relu_backward(grad: number, act: number, count: number): void;
  /** `out[j] = Σ_i G[i][j]` over `m × n`. */
  column_sums(g: number, out: number, m: number, n: number): void;
  /** `w[i] −= rate · g[i]` for `count` floats, computed in f64 as JavaScript does. */
  sgd_step(w: number, g: number, count: number, rate: number): void;
  /**
   * The summed loss (f64 at `out`) and correct count (i32 at `out + 8`) of `m` rows of `n` logits;
   * `grad = (softmax − onehot) · scale` when `withGrad` ≠ 0; `exps` is scratch for `n` f64 values.
   */
  softmax_xent(
    logits: number,
    labels: number,
    m: number,
    n: number,
    grad: number,
    withGrad: number,
    scale: number,
    out: number,
    exps: number,
  ): void;
}

/** An instance of `module` on `memory`. */
export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory, ...HOST_FUNCTIONS } });
  return instance.exports as unknown as KernelExports;
}

/**
 * The module instantiated on a shared memory, with a bump allocator over it. Arrays passed to the
 * kernels must come from {@linkcode WasmRuntime.alloc}; the kernels read and write them in place.
 */
export class WasmRuntime {
  /** Shared, one page at first; {@linkcode WasmRuntime.alloc} grows it up to {@linkcode MAX_PAGES}. */
  readonly memory: WebAssembly.Memory = new WebAssembly.Memory({
    initial: 1,
    maximum: MAX_PAGES,
    shared: true,
  });
  /** `variant`'s module, compiled once per process; the workers instantiate it on `memory` too. */
  readonly module: WebAssembly.Module;
  /** This instance's exports on `memory`: their arguments are byte offsets into it. */
  readonly kernels: KernelExports;
  #next = 0;

  /** Instantiates `variant`'s module. */
  constructor(readonly variant: GemmVariant) {
    this.module = compiledModule(variant);
    this.kernels = instantiate(this.module, this.memory);
  }

  /** Forgets every allocation: arrays allocated before must no longer be used. */
  reset(): void {
    this.#next = 0;
  }

  /**
   * `count` floats of the memory, 16-byte aligned, growing the memory when it is full. Throws
   * {@linkcode UsageError} when the memory cannot grow that far (4 GiB at most, or what the system gives).
   */
  alloc(count: number): Float32Array {
    const at = this.#next;
    const end = at + Math.ceil(count / 4) * 16;
    const missing = end - this.memory.buffer.byteLength;
    if (missing > 0) {
      try {
        this.memory.grow(Math.ceil(missing / 65536));
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        throw new UsageError(
          `the model and its buffers need ${end} bytes, more than the WebAssembly kernels' memory can hold (${error.message}); use --cpu-kernels ts or a smaller model or batch`,
        );
      }
    }
    this.#next = end;
    return new Float32Array(this.memory.buffer, at, count);
  }
}
