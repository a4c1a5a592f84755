/**
 * Writes the committed WebAssembly kernels from their generator (`gemm.ts`):
 * `deno task wasm` after changing the generator. A test rebuilds them and checks the bytes match.
 *
 * @module
 */

import { gemmModule, type GemmVariant } from "./gemm.ts";

/** The committed module files, by variant, relative to this folder. */
export const WASM_FILES: Record<GemmVariant, string> = {
  relaxed: "gemm_relaxed.wasm",
  simd: "gemm_simd.wasm",
};

if (import.meta.main) {
  for (const [variant, file] of Object.entries(WASM_FILES) as [GemmVariant, string][]) {
    const path = new URL(file, import.meta.url);
    Deno.writeFileSync(path, gemmModule(variant));
    console.log(`wrote ${path.pathname}`);
  }
}
