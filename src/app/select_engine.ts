/**
 * Choosing the engine: `auto` takes the GPU when WebGPU gives a hardware adapter and a device, else
 * the CPU (saying why in one log line); `gpu` insists on a GPU, and accepts a software adapter such
 * as Mesa's llvmpipe (which is how the GPU path is tested without a GPU); `cpu` never asks for one.
 * The CPU engine's kernels are chosen apart: `auto` takes WebAssembly SIMD when the runtime accepts
 * it (relaxed SIMD first), else the TypeScript kernels; `wasm` insists; `ts` never asks. Only the
 * WebAssembly kernels use more than one thread.
 *
 * @module
 */

import { type KernelSet, TS_KERNELS } from "../engines/cpu/arena.ts";
import { CpuEngine } from "../engines/cpu/engine.ts";
import { wasmKernels } from "../engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../engines/cpu/wasm/runtime.ts";
import type { Engine } from "../core/engine.ts";
import { UsageError } from "../core/errors.ts";
import { GpuContext, GpuUnavailable } from "../engines/gpu/context.ts";
import { GpuEngine } from "../engines/gpu/engine.ts";
import type { Logger } from "./logger.ts";

/** The accepted values of `--device` and `engine.device`. */
export const DEVICE_CHOICES = ["auto", "gpu", "cpu"] as const;
/** One of {@linkcode DEVICE_CHOICES}. */
export type DeviceChoice = typeof DEVICE_CHOICES[number];

/** The accepted values of `--cpu-kernels` and `engine.cpu_kernels`. */
export const CPU_KERNEL_CHOICES = ["auto", "wasm", "ts"] as const;
/** One of {@linkcode CPU_KERNEL_CHOICES}. */
export type CpuKernelChoice = typeof CPU_KERNEL_CHOICES[number];

/** The accepted values of `--threads` and `engine.threads`: `auto` or a count from 1 to this. */
export const MAX_THREADS = 64;
/**
 * Threads `auto` uses at most. Two threads measured 1.8 to 1.9 times one on the large workload's
 * products and 1.56 times end to end (see docs/BENCHMARKS.md); this machine has no more cores to
 * measure, and beyond four each thread's band of rows gets small while every thread still packs its
 * own copy of B's panels.
 */
export const MAX_AUTO_THREADS = 4;
/** `auto` or a thread count. */
export type ThreadsChoice = "auto" | number;

/** The thread count for `choice`: `auto` is the machine's cores, at most {@linkcode MAX_AUTO_THREADS}. */
export function threadCount(choice: ThreadsChoice, cores = navigator.hardwareConcurrency): number {
  return choice === "auto" ? Math.max(1, Math.min(cores, MAX_AUTO_THREADS)) : choice;
}

/**
 * The CPU engine's kernels for `choice`, on `threads` threads. `detect` (the committed modules' check
 * by default) can be replaced to simulate a runtime that refuses WebAssembly SIMD. Throws
 * {@linkcode UsageError} when `wasm` was demanded but the runtime refuses it, and when more than one
 * thread was demanded of the TypeScript kernels.
 */
export function selectCpuKernels(
  choice: CpuKernelChoice,
  threads: ThreadsChoice,
  log: Logger,
  detect: () => ReturnType<typeof detectWasm> = detectWasm,
): KernelSet {
  if (choice === "ts") {
    if (threads !== "auto" && threads > 1) {
      throw new UsageError(
        `threads ${threads} with the TypeScript kernels, which run on one thread; use --cpu-kernels auto or wasm, or --threads 1`,
      );
    }
    return TS_KERNELS;
  }
  const variant = detect();
  if (variant !== null) return wasmKernels(variant, threadCount(threads));
  if (choice === "wasm") {
    throw new UsageError(
      "--cpu-kernels wasm: this runtime accepts no WebAssembly SIMD; use --cpu-kernels auto or ts",
    );
  }
  log.info("WebAssembly SIMD is not available; the CPU engine uses the TypeScript kernels, on one thread");
  return TS_KERNELS;
}

/**
 * The engine for `choice`; when that is the CPU engine, with the kernels `cpuKernels` gives (it is
 * called only then, so a GPU run never loads or reports on the CPU kernels). `gpu` (the WebGPU entry point, `navigator.gpu` by default) can be replaced
 * to simulate a machine without one. Throws {@linkcode UsageError} when `gpu` was demanded but none
 * can be had.
 */
export async function selectEngine(
  choice: DeviceChoice,
  log: Logger,
  gpu: GPU | undefined = navigator.gpu,
  cpuKernels: () => KernelSet = () => TS_KERNELS,
): Promise<Engine> {
  if (choice === "cpu") return new CpuEngine(cpuKernels());
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
    return new CpuEngine(cpuKernels());
  }
}
