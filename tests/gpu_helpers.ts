/**
 * A WebGPU device for the GPU suites. Without an adapter the suites are skipped on a developer's
 * machine, but in CI (`CI=true`) that is a failure: CI installs Mesa's software adapter for them.
 */

import { GpuContext, GpuUnavailable } from "../src/gpu/context.ts";

/** A device on any adapter, software ones included, or null where there is none outside CI. */
export async function gpuForTests(): Promise<GpuContext | null> {
  try {
    return await GpuContext.acquire();
  } catch (error) {
    if (!(error instanceof GpuUnavailable) || Deno.env.get("CI") === "true") throw error;
    console.warn(`GPU tests skipped: ${error.message}`);
    return null;
  }
}

const { STORAGE, UNIFORM, COPY_DST, COPY_SRC, MAP_READ } = GPUBufferUsage;

/** A storage buffer holding `values`. */
export function storage(
  device: GPUDevice,
  values: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>,
): GPUBuffer {
  const buffer = device.createBuffer({
    size: Math.max(16, values.byteLength),
    usage: STORAGE | COPY_DST | COPY_SRC,
  });
  device.queue.writeBuffer(buffer, 0, values);
  return buffer;
}

/** A storage buffer of `count` floats, every one NaN, so an element a kernel fails to write shows. */
export function poisoned(device: GPUDevice, count: number): GPUBuffer {
  return storage(device, new Float32Array(count).fill(NaN));
}

/** A uniform buffer of u32 values (floats given as `{ f32: [...] }` entries are stored bit for bit). */
export function uniform(device: GPUDevice, words: readonly (number | { f32: number })[]): GPUBuffer {
  const data = new ArrayBuffer(Math.max(256, Math.ceil(words.length / 4) * 16));
  words.forEach((w, i) => {
    if (typeof w === "number") new Uint32Array(data, i * 4, 1)[0] = w;
    else new Float32Array(data, i * 4, 1)[0] = w.f32;
  });
  const buffer = device.createBuffer({ size: data.byteLength, usage: UNIFORM | COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** Runs one dispatch of `pipeline` (dynamic offset 0 when `dynamic`). */
export function dispatch(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  group: GPUBindGroup,
  workgroups: [number, number?],
  dynamic = true,
): void {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  if (dynamic) pass.setBindGroup(0, group, [0]);
  else pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(...workgroups);
  pass.end();
  device.queue.submit([encoder.finish()]);
}

/** A buffer's bytes, read back after everything submitted so far. */
export async function readBack(device: GPUDevice, source: GPUBuffer): Promise<ArrayBuffer> {
  const copy = device.createBuffer({ size: source.size, usage: MAP_READ | COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(source, 0, copy, 0, source.size);
  device.queue.submit([encoder.finish()]);
  await copy.mapAsync(GPUMapMode.READ);
  const bytes = copy.getMappedRange().slice(0);
  copy.destroy();
  return bytes;
}
