/**
 * What one read of memory costs a shader on Mesa's llvmpipe, which is what shapes the fully fused
 * kernel's products there (docs/BENCHMARKS.md, "Products in 4 × 4 blocks"). Each probe is
 * one workgroup of 64 invocations running a loop of 4000 iterations whose body reads memory one way;
 * the time of a loop of 0 iterations is taken off, and the rest is given per iteration of 8
 * invocations (llvmpipe runs 8 at once in its 256-bit vectors).
 *
 *     deno run --allow-env --allow-read --allow-write tools/llvmpipe_read_cost.ts
 *
 * @module
 */

import { GpuContext } from "../src/engines/gpu/context.ts";

const ITERATIONS = 4000, DISPATCHES = 20, THREADS = 64;

/** Each probe's loop body, adding to `sum` (f32) or `v` (vec4f); `i` is the iteration, `t` the invocation. */
const PROBES: Record<string, string> = {
  "no read": "sum = sum * 0.999 + 1.0;",
  "workgroup f32, a different address each invocation": "sum += mem[(i + t) & 1023u];",
  "workgroup f32, one address for all": "sum += mem[i & 1023u];",
  "workgroup vec4f, a different address each invocation": "v += mem4[(i + t) & 255u];",
  "storage f32, a different address each invocation": "sum += src[(i + t) & 1023u];",
  "private array f32, a different index each invocation": "sum += own[(i + t) & 63u];",
};

/** The shader of one probe: memory filled, then the loop, then the sums written so nothing is dropped. */
function shader(body: string): string {
  return `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<uniform> n: vec4u;
var<workgroup> mem: array<f32, 1024>;
var<workgroup> mem4: array<vec4f, 256>;
@compute @workgroup_size(${THREADS}) fn main(@builtin(local_invocation_index) t: u32) {
  for (var k = t; k < 1024u; k += ${THREADS}u) { mem[k] = src[k]; }
  for (var k = t; k < 256u; k += ${THREADS}u) { mem4[k] = vec4f(src[k]); }
  var own: array<f32, 64>;
  for (var k = 0u; k < 64u; k++) { own[k] = f32(k + t); }
  workgroupBarrier();
  var sum = 0.0;
  var v = vec4f();
  for (var i = 0u; i < n.x; i++) { ${body} }
  out[t] = sum + v.x + v.w;
}`;
}

/** Milliseconds per dispatch of `code`'s loop, less its loop of 0 iterations: the median of 5, on the host. */
async function timeProbe(device: GPUDevice, code: string): Promise<number> {
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module: device.createShaderModule({ code }), entryPoint: "main" },
  });
  const { STORAGE, UNIFORM, COPY_DST } = GPUBufferUsage;
  const buffers = [
    device.createBuffer({ size: THREADS * 4, usage: STORAGE }),
    device.createBuffer({ size: 4096, usage: STORAGE }),
    device.createBuffer({ size: 16, usage: UNIFORM | COPY_DST }),
  ];
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const run = async (iterations: number) => {
    device.queue.writeBuffer(buffers[2], 0, new Uint32Array([iterations, 0, 0, 0]));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    for (let d = 0; d < DISPATCHES; d++) pass.dispatchWorkgroups(1);
    pass.end();
    const started = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - started;
  };
  await run(ITERATIONS); // compiles and warms
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) samples.push(((await run(ITERATIONS)) - (await run(0))) / DISPATCHES);
  buffers.forEach((buffer) => buffer.destroy());
  return samples.sort((a, b) => a - b)[2];
}

const context = await GpuContext.acquire();
console.log(`adapter: ${context.description}`);
for (const [name, body] of Object.entries(PROBES)) {
  const ms = await timeProbe(context.device, shader(body));
  const ns = (ms * 1e6) / ITERATIONS / (THREADS / 8);
  console.log(`${name}: ${ns.toFixed(1)} ns per iteration of 8 invocations`);
}
context.destroy();
