/**
 * The training contract on the CPU engine, with the TypeScript kernels and with the WebAssembly ones
 * on one and two threads: divergence, epochs and step budgets, early stopping, frozen parts.
 */

import type { KernelSet } from "../../src/engines/cpu/arena.ts";
import { CpuEngine } from "../../src/engines/cpu/engine.ts";
import { wasmKernels } from "../../src/engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../../src/engines/cpu/wasm/runtime.ts";
import { TRAINING_CHECKS } from "../helpers/training_checks.ts";

const support = detectWasm();
const kernelSets: [string, () => Promise<KernelSet | undefined>][] = [[
  "TypeScript kernels",
  () => Promise.resolve(undefined),
]];
if ("variant" in support) {
  kernelSets.push(["WebAssembly kernels", () => wasmKernels(support.variant)]);
  kernelSets.push(["WebAssembly kernels, 2 threads", () => wasmKernels(support.variant, 2, 1)]);
}

for (const [kernels, make] of kernelSets) {
  for (const [name, check] of TRAINING_CHECKS) {
    Deno.test(`training (CPU engine, ${kernels}): ${name}`, async () => {
      const engine = new CpuEngine(await make());
      try {
        await check(engine);
      } finally {
        engine.dispose();
      }
    });
  }
}
