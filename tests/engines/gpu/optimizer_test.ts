/** The optimizers' contract on the GPU engine (optimizer.wgsl and matmul.wgsl's gradient epilogue). */

import { gpuAvailable, withGpuEngine } from "../../helpers/gpu.ts";
import { OPTIMIZER_CHECKS } from "../../helpers/optimizer_checks.ts";

const ignore = !(await gpuAvailable());

for (const [name, check] of OPTIMIZER_CHECKS) {
  Deno.test({
    name: `optimizers (GPU engine): ${name}`,
    ignore,
    fn: () => withGpuEngine(check, { kernels: "general" }), // fused_test.ts runs them on the fused kernel
  });
}
