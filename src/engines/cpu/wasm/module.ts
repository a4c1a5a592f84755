/**
 * The CPU engine's WebAssembly module: the SIMD products (`gemm.ts`) and the step kernels (`step.ts`),
 * on one imported shared memory, so the same instance's arrays can be handed to worker threads.
 *
 * @module
 */

import { encodeModule } from "./encoder.ts";
import { GEMM_FORMS, gemmFunction, type GemmVariant } from "./gemm.ts";
import { STEP_FUNCTIONS, STEP_IMPORTS } from "./step.ts";

/** The module's bytes for `variant`'s multiply-add. */
export function kernelModule(variant: GemmVariant): Uint8Array<ArrayBuffer> {
  return encodeModule(STEP_IMPORTS, [
    ...GEMM_FORMS.map((form) => gemmFunction(variant, form)),
    ...STEP_FUNCTIONS,
  ]);
}

/** What the module imports besides its memory: the host's exp and log, which the loss needs. */
export const HOST_FUNCTIONS = { exp: Math.exp, log: Math.log };
