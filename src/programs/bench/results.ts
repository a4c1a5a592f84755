/**
 * What the benchmark measured: the document `--output` writes and the report prints.
 *
 * @module
 */

import type { KernelResult, MatmulCase } from "./matmul_bench.ts";
import type { WorkloadResult } from "./training_bench.ts";
import type { WholeRunResult } from "./whole_run_bench.ts";
import type { RecipeCost } from "./recipe_bench.ts";
import type { AutoResults } from "./auto_bench.ts";

/** How and where the benchmark ran. */
export interface BenchMeta {
  /** ISO time of the run. */
  readonly date: string;
  /** Whether `--quick` shrank every size. */
  readonly quick: boolean;
  /** The Deno version (`Deno.version.deno`). */
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
  /** How many measurements each median is taken over, and the untimed runs around them. */
  readonly repetitions: {
    /** Timed runs per kernel and matmul case. */
    readonly kernels: number;
    /** Timed samples per training phase. */
    readonly epochs: number;
    /** Untimed epochs before the timed ones. */
    readonly warmUpEpochs: number;
    /** Epochs per timed sample: one phase of this many epochs, timed whole on the host and divided. */
    readonly epochsPerSample: number;
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
  /** The run's environment and settings. */
  readonly meta: BenchMeta;
  /** Each matmul case with every kernel's result on it. */
  readonly kernels: (MatmulCase & { readonly kernels: KernelResult[] })[];
  /** Seconds per epoch of each engine on each workload, with `gpu-naive` when there is a GPU. */
  readonly endToEnd: WorkloadResult[];
  /** Training seconds of the whole experiment on each engine and NumPy, per workload. */
  readonly wholeRuns: WholeRunResult[];
  /** Source-phase samples per second as the hidden width, then the batch size, grows. */
  readonly scaling: {
    /** Training rows of the scaling workload's source task. */
    readonly trainRows: number;
    /** Over the hidden width, at batch size 256. */
    readonly hidden: ScalingSweep;
    /** Over the batch size, at hidden width 512. */
    readonly batch: ScalingSweep;
  };
  /** Each recipe's and optimizer's ms per step on each engine, and its ratio to full fine-tuning's with SGD. */
  readonly recipes: RecipeCost[];
  /** `auto`'s cost model, calibrated in this run, against the measured times; null without a GPU or WebAssembly. */
  readonly auto: AutoResults | null;
}
