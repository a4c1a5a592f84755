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
import { WorkerStartError } from "../engines/cpu/wasm/threads.ts";
import type { GemmVariant } from "../engines/cpu/wasm/gemm.ts";
import { detectWasm, type WasmSupport } from "../engines/cpu/wasm/runtime.ts";
import type { Engine } from "../core/engine.ts";
import { UsageError } from "../core/errors.ts";
import { GpuContext, GpuUnavailable } from "../engines/gpu/context.ts";
import { GpuEngine } from "../engines/gpu/engine.ts";
import type { GpuProfiler } from "../engines/gpu/profiler.ts";
import type { Logger } from "./logger.ts";
import {
  type CpuKernelChoice,
  type DeviceChoice,
  threadCount,
  type ThreadsChoice,
} from "./engine_choices.ts";

/**
 * Throws {@linkcode UsageError} when more than one thread is asked of the TypeScript kernels, which
 * run on one: checked before any GPU probe, since it is bad input whichever engine ends up running.
 */
export function checkKernelThreads(choice: CpuKernelChoice, threads: ThreadsChoice): void {
  if (choice === "ts" && threads !== "auto" && threads > 1) {
    throw new UsageError(
      `threads ${threads} with the TypeScript kernels, which run on one thread; use --cpu-kernels auto or wasm, or --threads 1`,
    );
  }
}

/**
 * The CPU engine's kernels for `choice`, on `threads` threads. `detect` (the committed modules' check
 * by default) can be replaced to simulate a runtime that refuses WebAssembly SIMD or a module that
 * cannot be read. `auto` then falls back to the TypeScript kernels with one INFO line saying why.
 * Throws {@linkcode UsageError} when `wasm` was demanded but cannot be had, and when more than one
 * thread was demanded of the TypeScript kernels.
 */
export async function selectCpuKernels(
  choice: CpuKernelChoice,
  threads: ThreadsChoice,
  log: Logger,
  detect: () => WasmSupport = detectWasm,
): Promise<KernelSet> {
  checkKernelThreads(choice, threads);
  if (choice === "ts") return TS_KERNELS;
  const support = detect();
  if ("variant" in support) return await threadedKernels(support.variant, threads, log);
  if (choice === "wasm") {
    throw new UsageError(`--cpu-kernels wasm: ${support.unavailable}; use --cpu-kernels auto or ts`);
  }
  log.info(
    `WebAssembly kernels unavailable (${support.unavailable}); the CPU engine uses the TypeScript kernels, on one thread`,
  );
  return TS_KERNELS;
}

/**
 * The WebAssembly kernels on `threads` threads. When the worker threads cannot start, `auto` falls
 * back to one thread with an INFO line saying why; a count that was asked for is a {@linkcode UsageError}.
 */
async function threadedKernels(
  variant: GemmVariant,
  threads: ThreadsChoice,
  log: Logger,
): Promise<KernelSet> {
  try {
    return await wasmKernels(variant, threadCount(threads));
  } catch (error) {
    if (!(error instanceof WorkerStartError)) throw error;
    if (threads !== "auto") {
      throw new UsageError(`threads ${threads}: ${error.message}; use --threads 1, or restore the file`);
    }
    log.info(`WebAssembly worker threads unavailable (${error.message}); the CPU kernels run on one thread`);
    return await wasmKernels(variant, 1);
  }
}

/**
 * The engine for `choice`; when that is the CPU engine, with the kernels `cpuKernels` gives (it is
 * called only then, so a GPU run never loads or reports on the CPU kernels). `gpu` (the WebGPU
 * entry point, `navigator.gpu` by default) can be replaced to simulate a machine without one. A GPU
 * engine submits and waits through `profiler` when one is given. Throws {@linkcode UsageError} when
 * `gpu` was demanded but none can be had.
 */
export async function selectEngine(
  choice: DeviceChoice,
  log: Logger,
  gpu: GPU | undefined = navigator.gpu,
  cpuKernels: () => Promise<KernelSet> = () => Promise.resolve(TS_KERNELS),
  profiler: GpuProfiler | null = null,
): Promise<Engine> {
  if (choice === "cpu") return new CpuEngine(await cpuKernels());
  try {
    const context = await GpuContext.acquire(gpu, {
      allowSoftware: choice === "gpu",
      timestamps: profiler !== null,
    });
    return await GpuEngine.create(
      context,
      profiler === null ? {} : { submit: profiler.submit, waited: profiler.waited },
    );
  } catch (error) {
    if (!(error instanceof GpuUnavailable)) throw error;
    if (choice === "gpu") {
      throw new UsageError(
        `--device gpu: ${error.message}; use --device auto or --device cpu, or see README "GPU"`,
      );
    }
    log.info(`no usable GPU (${error.message}); running on the CPU engine`);
    return new CpuEngine(await cpuKernels());
  }
}
