/** The optimizers' contract on the CPU engine, with the TypeScript and the WebAssembly kernels. */

import { CpuEngine } from "../../../src/engines/cpu/engine.ts";
import { wasmKernels } from "../../../src/engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../../../src/engines/cpu/wasm/runtime.ts";
import { OPTIMIZER_CHECKS } from "../../helpers/optimizer_checks.ts";

const support = detectWasm();

for (const [name, check] of OPTIMIZER_CHECKS) {
  Deno.test(`optimizers (CPU engine, TypeScript kernels): ${name}`, async () => {
    const engine = new CpuEngine();
    try {
      await check(engine);
    } finally {
      engine.dispose();
    }
  });
  Deno.test({
    name: `optimizers (CPU engine, WebAssembly kernels): ${name}`,
    ignore: !("variant" in support),
    fn: async () => {
      const engine = new CpuEngine(await wasmKernels("variant" in support ? support.variant : "simd"));
      try {
        await check(engine);
      } finally {
        engine.dispose();
      }
    },
  });
}
