/**
 * Profiling the GPU engine (`run --profile`): each kernel's device time from timestamp queries, and the
 * host's time waiting for the device, phase by phase.
 *
 * The profiled submission ({@linkcode GpuProfiler.submit}) records every dispatch in a compute pass of
 * its own, with a timestamp at the pass's start and end, so each kernel's time is its own; the engine's
 * usual submission puts a whole epoch in one pass, so a profiled run is slower than a plain one (1.5 to
 * 2.5 times on llvmpipe). The timestamps are read when the profile is taken, not per epoch, so profiling adds no host wait
 * to a phase. Without `timestamp-query` on the device, only the waits are measured.
 *
 * @module
 */

import { type MetricsCopy, type SubmitEpoch, submitEpoch } from "./engine.ts";
import type { Dispatch } from "./pipelines.ts";

/** The most dispatches timed by one query set: two queries each, and WebGPU allows 4096 a set. */
const MAX_TIMED_DISPATCHES = 2048;

/** One kernel's share of the work profiled. */
export interface KernelTime {
  /** The pipeline's label: the shader file and the variant. */
  readonly kernel: string;
  /** How many times it ran. */
  readonly dispatches: number;
  /** Its device time in all, in seconds. */
  readonly seconds: number;
}

/** What the work profiled since the last {@linkcode GpuProfiler.take} cost. */
export interface GpuProfile {
  /** Each kernel's device time, the longest first; empty when no kernel ran or none could be timed. */
  readonly kernels: readonly KernelTime[];
  /** Whether the device timed kernels (it has `timestamp-query`); null when nothing was submitted. */
  readonly timed: boolean | null;
  /** Host waits for the device (read-backs). */
  readonly waits: number;
  /** The time they took, in seconds. */
  readonly waitSeconds: number;
}

/** One profiled submission's timestamps, read once the profile is taken. */
interface Pending {
  readonly labels: readonly string[];
  readonly readback: GPUBuffer;
  readonly querySet: GPUQuerySet;
  readonly resolved: GPUBuffer;
}

/** Collects kernel times and host waits; give its `submit` and `waited` to the engine. */
export class GpuProfiler {
  #pending: Pending[] = [];
  #timed: boolean | null = null;
  #waits = 0;
  #waitSeconds = 0;
  #paused = false;

  /** Whether `device` can time kernels. */
  static timesKernels(device: GPUDevice): boolean {
    return device.features.has("timestamp-query");
  }

  /**
   * A {@linkcode SubmitEpoch} that times each dispatch in a pass of its own (when the device can), in
   * query sets of at most {@linkcode MAX_TIMED_DISPATCHES} dispatches (WebGPU allows 4096 queries a set).
   */
  readonly submit: SubmitEpoch = (device: GPUDevice, work: readonly Dispatch[], copy?: MetricsCopy) => {
    if (this.#paused) return submitEpoch(device, work, copy);
    this.#timed = GpuProfiler.timesKernels(device);
    const encoder = device.createCommandEncoder();
    for (let from = 0; from < work.length; from += MAX_TIMED_DISPATCHES) {
      this.#record(device, encoder, work.slice(from, from + MAX_TIMED_DISPATCHES));
    }
    if (copy) encoder.copyBufferToBuffer(copy.from, copy.offset, copy.to, 0, copy.to.size);
    device.queue.submit([encoder.finish()]);
  };

  /** `work`'s passes into `encoder`, each between two timestamps of one query set when the device can. */
  #record(device: GPUDevice, encoder: GPUCommandEncoder, work: readonly Dispatch[]): void {
    const querySet = GpuProfiler.timesKernels(device)
      ? device.createQuerySet({ type: "timestamp", count: 2 * work.length })
      : null;
    work.forEach(({ pipeline, group, offset, workgroups }, i) => {
      const timestampWrites = querySet === null
        ? undefined
        : { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
      const pass = encoder.beginComputePass({ timestampWrites });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group, [offset]);
      pass.dispatchWorkgroups(...workgroups);
      pass.end();
    });
    if (querySet === null) return;
    const bytes = 16 * work.length;
    const resolved = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const readback = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    encoder.resolveQuerySet(querySet, 0, 2 * work.length, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, readback, 0, bytes);
    this.#pending.push({ labels: work.map((d) => d.pipeline.label), readback, querySet, resolved });
  }

  /** Counts and times one host wait for the device: the engine calls it around each read-back. */
  readonly waited = async <T>(wait: Promise<T>): Promise<T> => {
    if (this.#paused) return await wait;
    const started = performance.now();
    try {
      return await wait;
    } finally {
      this.#waits++;
      this.#waitSeconds += (performance.now() - started) / 1000;
    }
  };

  /**
   * Runs `work` unprofiled: its submissions go as the engine's own do ({@linkcode submitEpoch}, one
   * pass each) and its waits are not counted. For work that is not the run's and must not be slowed
   * by profiling: `auto`'s calibration, whose times decide the engine and are cached for later runs.
   */
  async unprofiled<T>(work: () => Promise<T>): Promise<T> {
    const paused = this.#paused;
    this.#paused = true;
    try {
      return await work();
    } finally {
      this.#paused = paused;
    }
  }

  /**
   * Everything since the last take (reading the timestamps recorded), and starts afresh at once, so
   * that work sent while it reads belongs to the next take. Take it while the engine's device is
   * alive: the timestamps are read from it.
   */
  async take(): Promise<GpuProfile> {
    const [pending, timed, waits, waitSeconds] = [this.#pending, this.#timed, this.#waits, this.#waitSeconds];
    [this.#pending, this.#timed, this.#waits, this.#waitSeconds] = [[], null, 0, 0]; // later work: the next take's
    const kernels = new Map<string, { dispatches: number; ns: bigint }>();
    await Promise.all(pending.map((p) => p.readback.mapAsync(GPUMapMode.READ)));
    for (const { labels, readback, querySet, resolved } of pending) {
      const ticks = new BigUint64Array(readback.getMappedRange());
      labels.forEach((label, i) => {
        const kernel = kernels.get(label) ?? { dispatches: 0, ns: 0n };
        const [start, end] = [ticks[2 * i], ticks[2 * i + 1]];
        kernels.set(label, {
          dispatches: kernel.dispatches + 1,
          ns: kernel.ns + (end > start ? end - start : 0n),
        });
      });
      readback.unmap();
      for (const resource of [readback, resolved, querySet]) resource.destroy();
    }
    const profile = {
      kernels: [...kernels].map(([kernel, k]) => ({
        kernel,
        dispatches: k.dispatches,
        seconds: Number(k.ns) / 1e9,
      }))
        .sort((a, b) => b.seconds - a.seconds),
      timed,
      waits,
      waitSeconds,
    };
    return profile;
  }
}
