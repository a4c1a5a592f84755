/**
 * Writes the committed WebAssembly modules from their generator (`module.ts`): `deno task wasm`
 * after changing the generator. A test rebuilds them and checks the bytes match.
 *
 * @module
 */

import type { GemmVariant } from "./gemm.ts";
import { kernelModule } from "./module.ts";

/** The committed module files, by variant, relative to this folder. */
export const WASM_FILES: Record<GemmVariant, string> = {
  relaxed: "kernels_relaxed.wasm",
  simd: "kernels_simd.wasm",
};

if (import.meta.main) {
  for (const [variant, file] of Object.entries(WASM_FILES) as [GemmVariant, string][]) {
    const path = new URL(file, import.meta.url);
    Deno.writeFileSync(path, kernelModule(variant));
    console.log(`wrote ${path.pathname}`);
  }
}
