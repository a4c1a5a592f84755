/**
 * The WebAssembly kernel set for the CPU engine: every step kernel of the module, on arrays allocated
 * in its memory; the transposed products (`gemm_at`, `gemm_bt`) read their operands as stored.
 * With more than one thread, a product big enough to repay the hand-off has its rows of C split
 * between this thread and the workers; each element is computed the same way whoever computes it,
 * so the results are bit-identical for every thread count.
 *
 * @module
 */

import type { Arena, ArenaShape, KernelSet } from "../arena.ts";
import type { Floats, StepKernels } from "../reference_kernels.ts";
import { GEMM_EXPORTS, type GemmForm, type GemmVariant, panelFloats } from "./gemm.ts";
import { type GemmArgs, WasmRuntime } from "./runtime.ts";
import { type GemmJob, GemmThreads } from "./threads.ts";

/** Multiply-adds (m·k·n) below which a product runs on one thread: the hand-off would cost more. */
export const MIN_SPLIT_WORK = 1 << 18;
/** Rows of C per band are a multiple of this (gemm's block height), so no band has ragged blocks. */
const BAND_ALIGN = 6;

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
  /** `C[m×n]` as `form` says (see `gemm.ts`), split in bands of C's rows between threads when big. */
  const product = (form: GemmForm, a: Floats, b: Floats, c: Floats, m: number, k: number, n: number) => {
    const kernel = run[GEMM_EXPORTS[form]];
    const lda = form === "AtB" ? m : k;
    const big = workers !== null && m * k * n >= minSplitWork;
    const bands = big ? Math.min(threads, Math.ceil(m / BAND_ALIGN)) : 1;
    const args = (from: number, rows: number, panel: number): GemmArgs => {
      const aAt = a.byteOffset + 4 * (form === "AtB" ? from : from * k);
      return [aAt, b.byteOffset, c.byteOffset + 4 * from * n, rows, k, n, panel, lda];
    };
    if (bands === 1) return kernel(...args(0, m, panels[0]));
    const rows = BAND_ALIGN * Math.ceil(m / BAND_ALIGN / bands);
    const jobs: GemmJob[] = [];
    for (let from = rows; from < m; from += rows) {
      jobs.push({ form, args: args(from, Math.min(rows, m - from), panels[jobs.length + 1]) });
    }
    workers!.run(jobs, () => kernel(...args(0, rows, panels[0])));
  };
  const kernels: StepKernels = {
    matmul: (a, b, c, m, k, n) => product("AB", a, b, c, m, k, n),
    matmulTransA: (a, b, c, m, k, n) => product("AtB", a, b, c, k, m, n),
    matmulTransB: (a, b, c, m, n, k) => product("ABt", a, b, c, m, n, k),
    addBias: (z, bias, m, n, relu) => run.bias_act(z.byteOffset, bias.byteOffset, m, n, relu ? 1 : 0),
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
