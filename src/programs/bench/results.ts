/**
 * What the benchmark measured: the document `--output` writes and the report prints.
 *
 * @module
 */

import type { KernelResult, MatmulCase } from "./matmul_bench.ts";
import type { WorkloadResult } from "./training_bench.ts";
import type { WholeRunResult } from "./whole_run_bench.ts";

/** How and where the benchmark ran. */
export interface BenchMeta {
  /** ISO time of the run. */
  readonly date: string;
  /** Whether `--quick` shrank every size. */
  readonly quick: boolean;
  readonly deno: string;
  /** The GPU adapter measured, or null for none. */
  readonly adapter: string | null;
  /** How GPU time was taken: `timestamp queries` or `host clock`; null without a GPU. */
  readonly gpuTiming: string | null;
  /** The matmul schedule the GPU engine uses on this adapter; null without a GPU. */
  readonly gpuSchedule: string | null;
  /** The TypeScript CPU engine's description. */
  readonly cpuEngine: string;
  /** The WebAssembly kernels measured, or null when the runtime has none. */
  readonly wasmKernels: string | null;
  /** Threads of the multi-threaded WebAssembly engine (`cpu-wasm-Nt`). */
  readonly wasmThreads: number;
  readonly repetitions: {
    readonly kernels: number;
    readonly epochs: number;
    readonly warmUpEpochs: number;
    readonly untimedLastEpochs: number;
  };
  /** What the GPU engine dispatches per training step, for people. */
  readonly dispatchesPerStep: string;
}

/** Samples per second at each point of a sweep, by engine label, and where the GPU first wins. */
export interface ScalingSweep {
  /** Each row holds the swept value under its label (`hidden` or `batch`) and one rate per engine. */
  readonly rows: Record<string, number>[];
  /** The first swept value at which the GPU engine is at least as fast as the fastest CPU engine. */
  readonly crossover: number | null;
}

/** Everything the benchmark measured. */
export interface BenchResults {
  readonly meta: BenchMeta;
  /** Each matmul case with every kernel's result on it. */
  readonly kernels: (MatmulCase & { readonly kernels: KernelResult[] })[];
  readonly endToEnd: WorkloadResult[];
  readonly wholeRuns: WholeRunResult[];
  readonly scaling: {
    /** Training rows of the scaling workload's source task. */
    readonly trainRows: number;
    readonly hidden: ScalingSweep;
    readonly batch: ScalingSweep;
  };
}
