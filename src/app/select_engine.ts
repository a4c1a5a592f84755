/**
 * Choosing the engine: `auto` takes the CPU unless WebGPU gives a hardware adapter and a device and
 * the cost model (`cost_model.ts`) predicts the GPU engine is faster on the run's workload, saying
 * which and why in one log line; `gpu` insists on a GPU, and accepts a software adapter such
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
import { calibrateEngine, calibrateGpuEngine } from "./calibration.ts";
import {
  type CacheRead,
  costCachePath,
  costKey,
  type MachineCosts,
  readCachedCosts,
  writeCachedCosts,
} from "./cost_cache.ts";
import { chooseEngine, type Workload } from "./cost_model.ts";
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

/** What {@linkcode selectEngine} needs besides the choice. */
export interface EngineRequest {
  /** The training (or inference) the run will ask for: what `auto` weighs the engines on. */
  readonly workload: Workload;
  /** The WebGPU entry point, `navigator.gpu` by default; replaced to simulate other machines. */
  readonly gpu?: GPU | undefined;
  /** Makes the CPU engine's kernels; called only when a CPU engine is made. The TypeScript ones by default. */
  readonly cpuKernels?: () => Promise<KernelSet>;
  /** Submits and waits through this, when given (`run --profile`). */
  readonly profiler?: GpuProfiler | null;
  /** Where `auto` caches calibrations ({@linkcode costCachePath} by default); null caches nothing. */
  readonly costCache?: string | null;
}

/**
 * The engine for `choice`. `cpu` never asks for a GPU; `gpu` takes any adapter, software ones
 * included, and throws {@linkcode UsageError} when none can be had; `auto` takes the CPU engine
 * unless there is a hardware adapter and the cost model (calibrated once per machine, see
 * `calibration.ts`) predicts the GPU engine runs `request.workload` faster, saying which in one line.
 */
export async function selectEngine(
  choice: DeviceChoice,
  log: Logger,
  request: EngineRequest,
): Promise<Engine> {
  const cpuKernels = request.cpuKernels ?? (() => Promise.resolve(TS_KERNELS));
  if (choice === "cpu") return new CpuEngine(await cpuKernels());
  let gpu: GpuEngine;
  try {
    gpu = await gpuEngine(choice, request);
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
  if (choice === "gpu") return gpu;
  let cpu: CpuEngine | null = null, costs: MachineCosts;
  try {
    const cpuEngine = new CpuEngine(await cpuKernels());
    cpu = cpuEngine; // disposed of below if anything fails
    const cachePath = request.costCache === undefined ? costCachePath() : request.costCache;
    const measure = () => machineCosts(gpu, cpuEngine, log, cachePath);
    // Profiled submissions are slower: calibrated through them, auto would choose and cache wrong costs.
    costs = await (request.profiler?.unprofiled(measure) ?? measure());
  } catch (error) {
    gpu.dispose();
    cpu?.dispose();
    throw error;
  }
  const chosen = chooseEngine(costs.gpu, costs.cpu, request.workload);
  log.info(
    `auto: the ${chosen.engine.toUpperCase()} engine, predicted to take ${
      seconds(chosen.cpuSeconds)
    } on the CPU ` +
      `and ${seconds(chosen.gpuSeconds)} on ${gpu.description} (see docs/ENGINES.md, "auto")`,
  );
  (chosen.engine === "gpu" ? cpu : gpu).dispose();
  return chosen.engine === "gpu" ? gpu : cpu;
}

/** A GPU engine on the adapter `choice` allows (`auto`: hardware only); throws {@linkcode GpuUnavailable}. */
async function gpuEngine(choice: DeviceChoice, request: EngineRequest): Promise<GpuEngine> {
  const profiler = request.profiler ?? null;
  const context = await GpuContext.acquire("gpu" in request ? request.gpu : navigator.gpu, {
    allowSoftware: choice === "gpu",
    timestamps: profiler !== null,
  });
  return await GpuEngine.create(
    context,
    profiler === null ? {} : { submit: profiler.submit, waited: profiler.waited },
  );
}

/** Both engines' costs: from the cache at `cachePath` when it has them, else measured (and stored there). */
async function machineCosts(
  gpu: GpuEngine,
  cpu: Engine,
  log: Logger,
  cachePath: string | null,
): Promise<MachineCosts> {
  const key = costKey(gpu.description, cpu.description);
  const cached: CacheRead = cachePath === null
    ? { costs: null, why: "nowhere to cache it: neither XDG_CACHE_HOME nor HOME is set and readable" }
    : readCachedCosts(cachePath, key);
  if (cached.costs !== null) return cached.costs;
  log.info(`auto: calibrating both engines for this machine (${cached.why})`);
  const costs = { gpu: await calibrateGpuEngine(gpu), cpu: await calibrateEngine(cpu) };
  const failed = cachePath === null ? null : writeCachedCosts(cachePath, key, costs);
  if (failed !== null) {
    log.info(`auto: the calibration is not cached (${failed}); the next run measures again`);
  }
  return costs;
}

/** `s` seconds for a log line, to 2 significant digits. */
function seconds(s: number): string {
  return `${s.toPrecision(2)} s`;
}
