/**
 * The WebAssembly kernel set for the CPU engine: every step kernel of the module, on arrays allocated
 * in its memory; the transposed products (`gemm_at`, `gemm_bt`) read their operands as stored.
 * With more than one thread, a product big enough to repay the hand-off is cut into chunks of C that
 * this thread and the workers claim in turn (`threads.ts`); each element is computed the same way
 * whoever computes it, so the results are bit-identical for every thread count.
 *
 * @module
 */

import type { Arena, ArenaShape, KernelSet } from "../arena.ts";
import type { Floats, StepKernels } from "../reference_kernels.ts";
import { EPILOGUE, GEMM_EXPORTS, type GemmForm, type GemmVariant, panelFloats } from "./gemm.ts";
import { type GemmArgs, WasmRuntime } from "./runtime.ts";
import { type GemmJob, GemmThreads } from "./threads.ts";

/** Multiply-adds (m·k·n) below which a product runs on one thread: the hand-off would cost more. */
export const MIN_SPLIT_WORK = 1 << 18;
/**
 * Columns per chunk of a wide C: two of gemm's 8-column bands. A thread packs the panels of B for
 * the bands it computes, so cutting along columns packs each panel once, where every band of rows
 * would pack all of B again.
 */
const CHUNK_COLUMNS = 16;
/** Rows per chunk of a narrow C are a multiple of this (gemm's block height): no chunk has ragged blocks. */
const CHUNK_ROWS_ALIGN = 6;
/**
 * Chunks per thread a product is cut into at least along columns, and at most along rows, so that
 * the others can take a late thread's share.
 */
const CHUNKS_PER_THREAD = 4;

/** The WebAssembly kernel set; it counts the products it split between threads. */
export interface WasmKernelSet extends KernelSet {
  /** Products split between threads since the set was made, across all its arenas; 0 with one thread. */
  readonly splitProducts: number;
}

/**
 * The WebAssembly kernels with `variant`'s multiply-add, running products of at least `minSplitWork`
 * multiply-adds on `threads` threads. Rejects with `WorkerStartError` when a worker cannot start.
 */
export async function wasmKernels(
  variant: GemmVariant,
  threads = 1,
  minSplitWork = MIN_SPLIT_WORK,
): Promise<WasmKernelSet> {
  const runtime = new WasmRuntime(variant);
  const workers = threads > 1 ? await GemmThreads.start(runtime.module, runtime.memory, threads - 1) : null;
  return {
    get splitProducts() {
      return workers?.runs ?? 0;
    },
    description: `WebAssembly ${variant === "relaxed" ? "relaxed SIMD" : "SIMD"} kernels, ${threads} thread${
      threads === 1 ? "" : "s"
    }`,
    arena: (shape) => {
      runtime.reset();
      return wasmArena(runtime, workers, minSplitWork, shape);
    },
    dispose: () => workers?.dispose(),
  };
}

/**
 * How a product with C of `m × n` is cut for `threads` threads: in bands of 16 columns when that
 * makes at least {@linkcode CHUNKS_PER_THREAD} per thread (32 chunks for a 512-wide C), else in
 * bands of rows, up to that many per thread as C's rows allow.
 */
export function chunking(m: number, n: number, threads: number): Omit<GemmJob, "form" | "args"> {
  const columnChunks = Math.ceil(n / CHUNK_COLUMNS);
  if (columnChunks >= CHUNKS_PER_THREAD * threads) {
    return { alongColumns: true, chunk: CHUNK_COLUMNS, chunks: columnChunks };
  }
  const rows = CHUNK_ROWS_ALIGN * Math.ceil(m / CHUNK_ROWS_ALIGN / (CHUNKS_PER_THREAD * threads));
  return { alongColumns: false, chunk: rows, chunks: Math.ceil(m / rows) };
}

function wasmArena(
  runtime: WasmRuntime,
  workers: GemmThreads | null,
  minSplitWork: number,
  shape: ArenaShape,
): Arena {
  const threads = 1 + (workers?.count ?? 0);
  const panels = Array.from(
    { length: threads },
    () => runtime.alloc(panelFloats(shape.longestSum)).byteOffset,
  );
  const lossOut = runtime.alloc(4);
  const exps = runtime.alloc(2 * shape.longestSum); // f64 scratch for a row's exponentials
  const loss = new Float64Array(lossOut.buffer, lossOut.byteOffset, 1);
  const correct = new Int32Array(lossOut.buffer, lossOut.byteOffset + 8, 1);
  const run = runtime.kernels;
  /**
   * `C[m×n]` as `form` says, then `epilogue` with `bias` (see `gemm.ts`), cut into chunks for the
   * threads when it is big.
   */
  const product = (
    form: GemmForm,
    a: Floats,
    b: Floats,
    c: Floats,
    [m, k, n]: readonly [number, number, number],
    bias: Floats | null = null,
    epilogue: number = EPILOGUE.STORE,
  ) => {
    const lda = form === "AtB" ? m : k;
    const [aAt, bAt, cAt, biasAt] = [a.byteOffset, b.byteOffset, c.byteOffset, bias?.byteOffset ?? 0];
    const args: GemmArgs = [aAt, bAt, cAt, m, k, n, panels[0], lda, n, biasAt, epilogue];
    const kernel = run[GEMM_EXPORTS[form]];
    if (workers === null || m * k * n < minSplitWork) return kernel(...args);
    const cut = chunking(m, n, threads);
    if (cut.chunks === 1) return kernel(...args);
    workers.run({ form, args, ...cut }, panels, kernel);
  };
  const kernels: StepKernels = {
    matmul: (a, b, c, m, k, n) => product("AB", a, b, c, [m, k, n]),
    matmulTransA: (a, b, c, m, k, n) => product("AtB", a, b, c, [k, m, n]),
    matmulTransB: (a, b, c, m, n, k) => product("ABt", a, b, c, [m, n, k]),
    linear: (x, w, bias, out, m, k, n, relu) =>
      product("AB", x, w, out, [m, k, n], bias, relu ? EPILOGUE.BIAS_RELU : EPILOGUE.BIAS),
    reluBackward: (grad, act, count) => run.relu_backward(grad.byteOffset, act.byteOffset, count),
    columnSums: (g, out, m, n) => run.column_sums(g.byteOffset, out.byteOffset, m, n),
    sgdStep: (w, g, rate) => run.sgd_step(w.byteOffset, g.byteOffset, w.length, rate),
    softmaxCrossEntropy: (logits, labels, m, n, grad, scale, into) => {
      const [gradAt, outAt] = [grad?.byteOffset ?? 0, lossOut.byteOffset];
      run.softmax_xent(
        logits.byteOffset,
        labels.byteOffset,
        m,
        n,
        gradAt,
        grad ? 1 : 0,
        scale,
        outAt,
        exps.byteOffset,
      );
      into.loss = loss[0];
      into.correct = correct[0];
    },
  };
  return { alloc: (count) => runtime.alloc(count), kernels };
}
