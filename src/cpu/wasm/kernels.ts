/**
 * The WebAssembly kernel set for the CPU engine: the SIMD gemm on arrays allocated in its memory.
 * The transposed products first transpose their transposed operand into scratch space (a contiguous
 * copy costs far less than strided reads inside the kernel), then run the same gemm.
 *
 * @module
 */

import type { Arena, ArenaShape, KernelSet } from "../arena.ts";
import type { Floats } from "../kernels.ts";
import type { GemmVariant } from "./gemm.ts";
import { WasmGemm } from "./runtime.ts";

/** The WebAssembly kernels with `variant`'s multiply-add. */
export function wasmKernels(variant: GemmVariant): KernelSet {
  return {
    description: `WebAssembly ${variant === "relaxed" ? "relaxed SIMD" : "SIMD"} matmul`,
    arena: (sizes, shape) => wasmArena(variant, sizes, shape),
  };
}

function wasmArena(variant: GemmVariant, sizes: readonly number[], shape: ArenaShape): Arena {
  const floats = [...sizes, 8 * shape.longestSum, shape.largestTranspose];
  const kernel = new WasmGemm(variant, floats.reduce((sum, n) => sum + 16 * Math.ceil(n / 4), 0));
  const panel = kernel.alloc(8 * shape.longestSum);
  const scratch = kernel.alloc(shape.largestTranspose);
  const gemm = (a: Floats, b: Floats, c: Floats, m: number, k: number, n: number) =>
    kernel.gemm(a as Float32Array, b as Float32Array, c as Float32Array, m, k, n, panel);
  /** Writes the `rows × cols` matrix `from` transposed into the scratch space. */
  const transposed = (from: Floats, rows: number, cols: number) => {
    for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) scratch[q * rows + r] = from[r * cols + q];
    return scratch;
  };
  return {
    alloc: (count) => kernel.alloc(count),
    products: {
      matmul: gemm,
      matmulTransA: (a, b, c, m, k, n) => gemm(transposed(a, m, k), b, c, k, m, n),
      matmulTransB: (a, b, c, m, n, k) => gemm(a, transposed(b, k, n), c, m, n, k),
    },
  };
}
