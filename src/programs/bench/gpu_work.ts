/**
 * What the benchmark adds to the GPU engine to show what its design saves: a count of the work sent
 * to the device, and a naive way of sending it.
 *
 * {@linkcode countGpuWork} wraps WebGPU's `dispatchWorkgroups`, `queue.submit` and the host waits
 * (`mapAsync`, `onSubmittedWorkDone`) once per process, so the engine itself carries no counters.
 * {@linkcode submitEachDispatch} is the baseline the engine's one-submission-per-epoch
 * ({@linkcode submitEpoch}) is measured against.
 *
 * @module
 */

import { type MetricsCopy, submitEpoch } from "../../engines/gpu/engine.ts";
import type { Dispatch } from "../../engines/gpu/pipelines.ts";

/** Work sent to every WebGPU device of this process so far. */
export interface GpuWork {
  /** Compute dispatches: calls of `dispatchWorkgroups`. */
  readonly dispatches: number;
  /** Calls of `queue.submit`, however many command buffers each carries. */
  readonly submissions: number;
  /** Host waits on the device: buffer maps and waits for submitted work. */
  readonly waits: number;
}

const counted = { dispatches: 0, submissions: 0, waits: 0 };
let installed = false;

/** The running count of GPU work (read it before and after, and subtract); installs the counters once. */
export function countGpuWork(): Readonly<GpuWork> {
  if (installed || typeof GPUQueue === "undefined") return counted;
  installed = true;
  const wrap = <T extends object, K extends keyof T>(proto: T, name: K, counter: keyof GpuWork) => {
    const original = proto[name] as (...args: unknown[]) => unknown;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      counted[counter]++;
      return original.apply(this, args);
    } as T[K];
  };
  wrap(GPUComputePassEncoder.prototype, "dispatchWorkgroups", "dispatches");
  wrap(GPUQueue.prototype, "submit", "submissions");
  wrap(GPUBuffer.prototype, "mapAsync", "waits");
  wrap(GPUQueue.prototype, "onSubmittedWorkDone", "waits");
  return counted;
}

/**
 * The naive baseline (`gpu-naive` in the tables): every dispatch its own submission, each with the
 * copy when there is one, then a host wait (`onSubmittedWorkDone`) before the next.
 */
export async function submitEachDispatch(
  device: GPUDevice,
  work: readonly Dispatch[],
  copy?: MetricsCopy,
): Promise<void> {
  for (const one of work) {
    submitEpoch(device, [one], copy);
    await device.queue.onSubmittedWorkDone();
  }
}
