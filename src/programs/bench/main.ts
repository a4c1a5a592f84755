/**
 * `deno task bench`: where each engine wins and by how much. Kernels (matmul GFLOP/s), end to end
 * (seconds per epoch on the `default` and `large` workloads, against a naive GPU baseline), the whole
 * experiment (pretraining and the four strategies, against idiomatic NumPy when Python has it) and
 * scaling (samples per second against hidden width and batch size). `--quick` shrinks every size
 * for CI; `--output F` also writes the results as JSON.
 *
 * @module
 */

import { checkWritable, writeTextFileAtomic } from "../../app/atomic_write.ts";
import { parseWith, program } from "../../app/cli.ts";
import { defaultConfig, experimentSpec } from "../../app/config.ts";
import { runCommand } from "../../app/setup.ts";
import type { Engine } from "../../core/engine.ts";
import { sourceWidths } from "../../core/train.ts";
import { CpuEngine } from "../../engines/cpu/engine.ts";
import { wasmKernels } from "../../engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../../engines/cpu/wasm/runtime.ts";
import { GpuContext, GpuUnavailable } from "../../engines/gpu/context.ts";
import { GpuEngine } from "../../engines/gpu/engine.ts";
import { submitEachDispatch } from "./gpu_work.ts";
import { benchMatmul, REPETITIONS, squareCases, stepCases } from "./matmul_bench.ts";
import { formatReport } from "./report.ts";
import type { BenchResults } from "./results.ts";
import {
  benchWorkload,
  defaultWorkload,
  largeWorkload,
  scalingWorkload,
  TIMED_EPOCHS,
} from "./training_bench.ts";
import { benchNumpyWholeRun, benchWholeRun } from "./whole_run_bench.ts";

/** Threads of the multi-threaded WebAssembly engine the benchmark compares (`cpu-wasm-2t`). */
const BENCH_THREADS = 2;

interface Plan {
  readonly squares: number[];
  readonly workloads: [string, ReturnType<typeof defaultConfig>][];
  readonly widths: number[];
  readonly batches: number[];
  readonly scalingRows: number;
  /** Whole-experiment runs per engine, by workload. */
  readonly wholeRepeats: Record<string, number>;
  /** Whether the slow engines (TypeScript, GPU) run the whole `large` experiment too. */
  readonly slowOnLarge: boolean;
}

function plan(quick: boolean): Plan {
  const base = defaultConfig();
  if (!quick) {
    return {
      squares: [64, 128, 256, 512, 1024, 2048],
      workloads: [["default", defaultWorkload(base)], ["large", largeWorkload(base)]],
      widths: [32, 128, 512, 2048],
      batches: [32, 128, 512, 1024],
      scalingRows: 5120,
      wholeRepeats: { default: 5, large: 3 },
      slowOnLarge: false,
    };
  }
  const tinyDefault = defaultWorkload(base);
  Object.assign(tinyDefault.data, { base_n_samples: 250, target_n_samples: 125 });
  const tinyLarge = largeWorkload(base);
  Object.assign(tinyLarge.data, { base_n_samples: 500, target_n_samples: 250, n_features: 32 });
  Object.assign(tinyLarge.model, { hidden_dim: 48 });
  tinyLarge.training.batch_size = 100;
  return {
    squares: [64, 96],
    workloads: [["default", tinyDefault], ["large", tinyLarge]],
    widths: [16, 64],
    batches: [16, 64],
    scalingRows: 320,
    wholeRepeats: { default: 1, large: 1 },
    slowOnLarge: true,
  };
}

/** Runs every part of the benchmark; `gpu` null measures the CPU alone. */
export async function runBench(
  quick: boolean,
  gpu: GpuContext | null,
  progress: (line: string) => void,
): Promise<BenchResults> {
  const p = plan(quick);
  progress("kernels: matmul on training-step shapes and squares");
  const kernels = await benchMatmul(
    [
      ...p.workloads.flatMap(([name, config]) =>
        stepCases(name, config.training.batch_size, sourceWidths(experimentSpec(config)))
      ),
      ...squareCases(p.squares),
    ],
    gpu,
    BENCH_THREADS,
  );
  // Each GPU engine gets a device of its own: disposing of an engine destroys its device. The naive one
  // (`gpu-naive`) sends every dispatch as its own submission, then waits on the host (submitEachDispatch).
  const gpuEngine = async (naive: boolean) =>
    GpuEngine.create(await GpuContext.acquire(navigator.gpu), naive ? { submit: submitEachDispatch } : {});
  const support = detectWasm();
  const wasm = "variant" in support ? support.variant : null;
  /** Every engine to compare, by the label the tables use. */
  const engines = async (naive: boolean, slow = true): Promise<[string, Engine][]> => [
    ...(slow ? [["cpu", new CpuEngine()] as [string, Engine]] : []),
    ...(wasm === null ? [] : [
      ["cpu-wasm", new CpuEngine(wasmKernels(wasm))] as [string, Engine],
      [`cpu-wasm-${BENCH_THREADS}t`, new CpuEngine(wasmKernels(wasm, BENCH_THREADS))] as [string, Engine],
    ]),
    ...(gpu === null || !slow ? [] : [["gpu", await gpuEngine(false)] as [string, Engine]]),
    ...(gpu !== null && naive ? [["gpu-naive", await gpuEngine(true)] as [string, Engine]] : []),
  ];
  const endToEnd = [];
  for (const [name, config] of p.workloads) {
    for (const [label, engine] of await engines(true)) {
      progress(`end to end: ${name} on ${label}`);
      endToEnd.push(await benchWorkload(name, config, engine, label));
    }
  }
  const wholeRuns = [];
  for (const [name, config] of p.workloads) {
    const repeats = p.wholeRepeats[name];
    for (const [label, engine] of await engines(false, name !== "large" || p.slowOnLarge)) {
      progress(`whole experiment: ${name} on ${label}`);
      wholeRuns.push(await benchWholeRun(name, config, engine, label, repeats));
    }
    for (const threads of [1, BENCH_THREADS]) {
      progress(`whole experiment: ${name} on NumPy with ${threads} BLAS thread(s)`);
      wholeRuns.push(await benchNumpyWholeRun(name, config, threads, repeats));
    }
  }
  const sweep = async (
    label: string,
    points: number[],
    configure: (value: number) => ReturnType<typeof defaultConfig>,
  ) => {
    const rows = [];
    for (const value of points) {
      const result: Record<string, number> = { [label]: value };
      for (const [engineLabel, engine] of await engines(false)) {
        progress(`scaling: ${label} ${value} on ${engineLabel}`);
        const run = await benchWorkload(`${label} ${value}`, configure(value), engine, engineLabel, false);
        result[engineLabel] = run.source.samplesPerSecond;
      }
      rows.push(result);
    }
    const fastestCpu = (row: Record<string, number>) =>
      Math.max(row.cpu, row["cpu-wasm"] ?? 0, row[`cpu-wasm-${BENCH_THREADS}t`] ?? 0);
    const crossover = rows.find((row) => row.gpu !== undefined && row.gpu >= fastestCpu(row))?.[label] ??
      null;
    return { rows, crossover };
  };
  const base = defaultConfig();
  const scaling = {
    trainRows: p.scalingRows - Math.round(p.scalingRows * base.data.test_fraction),
    hidden: await sweep("hidden", p.widths, (h) => scalingWorkload(base, h, 256, p.scalingRows)),
    batch: await sweep("batch", p.batches, (b) => scalingWorkload(base, 512, b, p.scalingRows)),
  };
  return {
    meta: {
      date: new Date().toISOString(),
      quick,
      deno: Deno.version.deno,
      adapter: gpu?.description ?? null,
      gpuTiming: gpu === null
        ? null
        : gpu.device.features.has("timestamp-query")
        ? "timestamp queries"
        : "host clock",
      gpuSchedule: gpu === null ? null : gpu.software ? "blocked" : "tiled",
      cpuEngine: new CpuEngine().description,
      wasmKernels: wasm === null
        ? null
        : `WebAssembly ${wasm === "relaxed" ? "relaxed SIMD" : "SIMD"} kernels`,
      wasmThreads: BENCH_THREADS,
      repetitions: { kernels: REPETITIONS, epochs: TIMED_EPOCHS, warmUpEpochs: 1, untimedLastEpochs: 1 },
      dispatchesPerStep:
        "3 per layer: forward, SGD step (weight + bias gradient + update), input gradient (none for layer 1)",
    },
    kernels,
    endToEnd,
    wholeRuns,
    scaling,
  };
}

/** What the benchmark's flags ask for. */
interface BenchOptions {
  readonly quick: boolean;
  readonly output: string | null;
}

/** Parses the benchmark's flags (without the program name). Throws `UsageError` for bad flags. */
function parseBenchArgs(args: readonly string[]) {
  const bench = program(
    "bench",
    "Benchmark the CPU and GPU engines: kernels, end to end, whole experiment, scaling.",
  )
    .option("--quick", "tiny sizes (for CI): checks that everything runs, measures little")
    .option("-o, --output <path>", "also write the results as JSON to this file (atomically)");
  return parseWith(bench, args, (options): BenchOptions => ({
    quick: Boolean(options.quick),
    output: (options.output as string | undefined) ?? null,
  }));
}

/** Runs the benchmark with `args`; resolves with the exit code (1 when a kernel computed a wrong product). */
export function main(args: readonly string[]): Promise<number> {
  return runCommand(() => parseBenchArgs(args), bench);
}

async function bench(options: BenchOptions): Promise<number> {
  if (options.output !== null) checkWritable(options.output, "--output");
  let gpu: GpuContext | null = null;
  try {
    gpu = await GpuContext.acquire(navigator.gpu, { timestamps: true });
  } catch (error) {
    if (!(error instanceof GpuUnavailable)) throw error;
    console.error(`no GPU (${error.message}): measuring the CPU engine alone`);
  }
  try {
    const results = await runBench(options.quick, gpu, (line) => console.error(line));
    console.log(formatReport(results));
    if (options.output !== null) {
      writeTextFileAtomic(options.output, `${JSON.stringify(results, null, 2)}\n`, "--output");
    }
    return results.kernels.every((c) => c.kernels.every((k) => k.correct)) ? 0 : 1;
  } finally {
    gpu?.destroy();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
