/**
 * A WebGPU device for the GPU suites. Without an adapter the suites are skipped on a developer's
 * machine, but in CI (`CI=true`) that is a failure: CI installs Mesa's software adapter for them.
 */

import { GpuContext, GpuUnavailable } from "../../src/engines/gpu/context.ts";
import { GpuEngine, type GpuEngineOptions } from "../../src/engines/gpu/engine.ts";
import { defaultConfig } from "../../src/app/config.ts";
import type { Engine, PhaseSpec } from "../../src/core/engine.ts";
import { heModel } from "../../src/core/model.ts";
import { Rng } from "../../src/core/rng.ts";
import { experimentOn, rates } from "./helpers.ts";

/**
 * Whether a WebGPU device can be had on any adapter, software ones included. False only outside CI;
 * in CI a missing adapter throws. Each test then takes a device of its own and destroys it, so no
 * device outlives its test (live devices at process exit have crashed Mesa's driver here).
 */
export async function gpuAvailable(): Promise<boolean> {
  try {
    (await GpuContext.acquire()).destroy();
    return true;
  } catch (error) {
    if (!(error instanceof GpuUnavailable) || Deno.env.get("CI") === "true") throw error;
    console.warn(`GPU tests skipped: ${error.message}`);
    return false;
  }
}

/** Runs `fn` with a fresh device, destroyed afterwards. */
export async function withDevice<T>(fn: (device: GPUDevice) => Promise<T>): Promise<T> {
  const context = await GpuContext.acquire();
  try {
    return await fn(context.device);
  } finally {
    context.destroy();
  }
}

/** Runs `fn` with a GPU engine on a fresh device, disposed of afterwards. */
export async function withGpuEngine<T>(
  fn: (engine: GpuEngine) => Promise<T>,
  options: GpuEngineOptions = {},
): Promise<T> {
  const engine = await GpuEngine.create(await GpuContext.acquire(), options);
  try {
    return await fn(engine);
  } finally {
    engine.dispose();
  }
}

const { STORAGE, UNIFORM, COPY_DST, COPY_SRC } = GPUBufferUsage;

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

/**
 * The GPU suites' counting phase: the default config with 312 source rows (200 training rows, 7 steps
 * of 32 with the last partial; 62 test rows) uploaded to `engine`, the 20-16-8-3 model of seed 1 set,
 * and three epochs with the first layer frozen (no update and no input gradient for it).
 */
export function countingPhase(engine: Engine, onEpoch?: PhaseSpec["onEpoch"]): PhaseSpec {
  const config = defaultConfig();
  config.data.base_n_samples = 312;
  config.model.hidden_dims = [16, 8];
  const data = experimentOn(engine, config);
  engine.setModel(heModel([20, 16, 8, 3], new Rng(1)));
  return {
    train: data.source.train,
    test: data.source.test,
    epochs: 3,
    batchSize: 32,
    learningRate: 0.05,
    layerRates: rates([0, 1, 1]),
    shuffleSeed: 1,
    ...(onEpoch ? { onEpoch } : {}),
  };
}
