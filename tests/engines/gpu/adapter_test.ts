/**
 * LoRA adapters on the GPU engine's general path (matmul.wgsl's static-shape epilogues and
 * optimizer.wgsl); fused_test.ts runs the same checks on the fused kernel.
 */

import { gpuAvailable, withGpuEngine } from "../../helpers/gpu.ts";
import { ADAPTER_CHECKS } from "../../helpers/adapter_checks.ts";

const ignore = !(await gpuAvailable());

for (const [name, check] of ADAPTER_CHECKS) {
  Deno.test({
    name: `LoRA (GPU engine): ${name}`,
    ignore,
    fn: () => withGpuEngine(check, { kernels: "general" }),
  });
}
