/**
 * What Mesa's llvmpipe does to long loops, which is what bounds a fully fused training kernel there
 * (docs/BENCHMARKS.md, "A fully fused kernel on llvmpipe"). Each probe is one dispatch of one
 * workgroup that counts its loops' iterations into a buffer; on a hardware GPU every count is whole.
 *
 *     deno run --allow-env --allow-read --allow-write tools/llvmpipe_loop_limit.ts
 *
 * @module
 */

import { GpuContext } from "../src/engines/gpu/context.ts";

/** One probe: a compute shader whose invocation 0 writes its counts to `out[0]`, `out[1]`. */
interface Probe {
  readonly name: string;
  readonly want: readonly number[];
  readonly body: string;
}

const PROBES: readonly Probe[] = [
  {
    name: "one loop of 70000 iterations",
    want: [70000],
    body: "var a = 0u; for (var i = 0u; i < 70000u; i++) { a += 1u; } out[0] = a;",
  },
  {
    name: "two loops of 40000, one after the other",
    want: [40000, 40000],
    body: "var a = 0u; for (var i = 0u; i < 40000u; i++) { a += 1u; } var b = 0u; " +
      "for (var i = 0u; i < 40000u; i++) { b += 1u; } out[0] = a; out[1] = b;",
  },
  {
    name: "two loops of 40000 with a workgroup barrier between",
    want: [40000, 40000],
    body: "var a = 0u; for (var i = 0u; i < 40000u; i++) { a += 1u; } workgroupBarrier(); var b = 0u; " +
      "for (var i = 0u; i < 40000u; i++) { b += 1u; } out[0] = a; out[1] = b;",
  },
  {
    name: "300 × 300 nested",
    want: [90000],
    body:
      "var a = 0u; for (var i = 0u; i < 300u; i++) { for (var j = 0u; j < 300u; j++) { a += 1u; } } out[0] = a;",
  },
];

/** The counts `probe` writes, after one dispatch of one workgroup of 64 invocations. */
async function counts(device: GPUDevice, probe: Probe): Promise<number[]> {
  const code = `@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) t: u32) {
  ${probe.body.replaceAll("out[", "out[2u * t + ")}
}`;
  const module = device.createShaderModule({ code });
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const { STORAGE, COPY_SRC, COPY_DST, MAP_READ } = GPUBufferUsage;
  const out = device.createBuffer({ size: 64 * 8, usage: STORAGE | COPY_SRC });
  const read = device.createBuffer({ size: 64 * 8, usage: MAP_READ | COPY_DST });
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: out } }],
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(1);
  pass.end();
  encoder.copyBufferToBuffer(out, 0, read, 0, out.size);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const values = [...new Uint32Array(read.getMappedRange(), 0, probe.want.length)];
  read.unmap();
  return values;
}

const context = await GpuContext.acquire();
console.log(`adapter: ${context.description}`);
for (const probe of PROBES) {
  const got = await counts(context.device, probe);
  const whole = got.every((count, i) => count === probe.want[i]);
  console.log(
    `${probe.name}: got ${got.join(", ")}; want ${probe.want.join(", ")}${whole ? "" : " (cut short)"}`,
  );
}
context.destroy();
