/**
 * Choosing the engine: `auto` takes the GPU when WebGPU gives a hardware adapter and a device, else
 * the CPU (saying why in one log line); `gpu` insists on a GPU, and accepts a software adapter such
 * as Mesa's llvmpipe (which is how the GPU path is tested without a GPU); `cpu` never asks for one.
 *
 * @module
 */

import { CpuEngine } from "./cpu/engine.ts";
import type { Engine } from "./engine.ts";
import { UsageError } from "./errors.ts";
import { GpuContext, GpuUnavailable } from "./gpu/context.ts";
import { GpuEngine } from "./gpu/engine.ts";
import type { Logger } from "./logger.ts";

/** The accepted values of `--device` and `engine.device`. */
export const DEVICE_CHOICES = ["auto", "gpu", "cpu"] as const;
/** One of {@linkcode DEVICE_CHOICES}. */
export type DeviceChoice = typeof DEVICE_CHOICES[number];

/**
 * The engine for `choice`. `gpu` (the WebGPU entry point, `navigator.gpu` by default) can be replaced
 * to simulate a machine without one. Throws {@linkcode UsageError} when `gpu` was demanded but none
 * can be had.
 */
export async function selectEngine(
  choice: DeviceChoice,
  log: Logger,
  gpu: GPU | undefined = navigator.gpu,
): Promise<Engine> {
  if (choice === "cpu") return new CpuEngine();
  try {
    return await GpuEngine.create(await GpuContext.acquire(gpu, { allowSoftware: choice === "gpu" }));
  } catch (error) {
    if (!(error instanceof GpuUnavailable)) throw error;
    if (choice === "gpu") {
      throw new UsageError(
        `--device gpu: ${error.message}; use --device auto or --device cpu, or see README "GPU"`,
      );
    }
    log.info(`no usable GPU (${error.message}); running on the CPU engine`);
    return new CpuEngine();
  }
}
