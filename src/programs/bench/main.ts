/**
 * `deno task bench`: where each engine wins and by how much. Kernels (matmul GFLOP/s), end to end
 * (seconds per epoch on the `default` and `large` workloads, against a naive GPU baseline), the whole
 * experiment (pretraining and the four strategies, against idiomatic NumPy when Python has it) and
 * scaling (samples per second against hidden width and batch size). `--quick` shrinks every size
 * for CI; `--output F` also writes the results as JSON.
 *
 * @module
 */

import { checkNotOverwriting, checkWritable, writeTextFileAtomic } from "../../app/atomic_write.ts";
import { type Config, defaultConfig, experimentSpec } from "../../app/config.ts";
import { protectedInputs, runCommand } from "../../app/setup.ts";
import type { Engine } from "../../core/engine.ts";
import { sourceWidths } from "../../core/train.ts";
import { CpuEngine } from "../../engines/cpu/engine.ts";
import { wasmKernels } from "../../engines/cpu/wasm/kernel_set.ts";
import type { GemmVariant } from "../../engines/cpu/wasm/gemm.ts";
import { detectWasm } from "../../engines/cpu/wasm/runtime.ts";
import { GpuContext, GpuUnavailable } from "../../engines/gpu/context.ts";
import { GpuEngine, type GpuEngineOptions } from "../../engines/gpu/engine.ts";
import { defaultSchedule } from "../../engines/gpu/pipelines.ts";
import { type AutoResults, benchAuto, timedEpochs, timedWholeRun, type TimedWorkload } from "./auto_bench.ts";
import { sourceTrainRows } from "../../core/tasks.ts";
import { runWorkload } from "../../app/cost_model.ts";
import { CLASSIC_STRATEGIES } from "../../core/recipes.ts";
import { type BenchOptions, parseBenchArgs } from "./flags.ts";
import { submitEachDispatch } from "./gpu_work.ts";
import { benchMatmul, REPETITIONS, squareCases, stepCases } from "./matmul_bench.ts";
import { formatReport } from "./report.ts";
import type { BenchMeta, BenchResults, ScalingSweep } from "./results.ts";
import {
  benchWorkload,
  defaultWorkload,
  largeWorkload,
  SAMPLE_EPOCHS,
  scalingWorkload,
  TIMED_EPOCHS,
  type WorkloadResult,
} from "./training_bench.ts";
import { benchRecipes, type RecipeCost } from "./recipe_bench.ts";
import { benchWholeRuns, engineContender, numpyContender, type WholeRunResult } from "./whole_run_bench.ts";

/** Threads of the multi-threaded WebAssembly engine the benchmark compares (`cpu-wasm-2t`). */
const BENCH_THREADS = 2;

interface Plan {
  readonly squares: number[];
  /** Squares timed on a hardware GPU alone (never on a software adapter: llvmpipe would take minutes). */
  readonly gpuSquares: number[];
  readonly workloads: [string, Config][];
  readonly widths: number[];
  readonly batches: number[];
  readonly scalingRows: number;
  /** Whole-experiment runs per engine, by workload. */
  readonly wholeRepeats: Record<string, number>;
  /**
   * Whether the slow engines run the whole `large` experiment too: the TypeScript engine, and the GPU
   * engine on a software adapter (on a hardware one it always does: the hardware table has its row).
   */
  readonly slowOnLarge: boolean;
  /** Timed transfers per recipe and engine in the recipes part. */
  readonly recipeRepeats: number;
}

function plan(quick: boolean): Plan {
  const base = defaultConfig();
  if (!quick) {
    return {
      squares: [64, 128, 256, 512, 1024, 2048],
      gpuSquares: [4096],
      workloads: [["default", defaultWorkload(base)], ["large", largeWorkload(base)]],
      widths: [32, 128, 512, 2048],
      batches: [32, 128, 512, 1024],
      scalingRows: 5120,
      wholeRepeats: { default: 5, large: 3 },
      slowOnLarge: false,
      recipeRepeats: 5,
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
    gpuSquares: [],
    workloads: [["default", tinyDefault], ["large", tinyLarge]],
    widths: [16, 64],
    batches: [16, 64],
    scalingRows: 320,
    wholeRepeats: { default: 1, large: 1 },
    slowOnLarge: true,
    recipeRepeats: 1,
  };
}

/** What every part of the benchmark runs with. */
interface Bench {
  readonly plan: Plan;
  /** The GPU to measure, or null for the CPU alone. */
  readonly gpu: GpuContext | null;
  /** The WebAssembly kernels this runtime accepts, or null. */
  readonly wasm: GemmVariant | null;
  readonly progress: (line: string) => void;
}

/** Runs every part of the benchmark; `gpu` null measures the CPU alone. */
async function runBench(
  quick: boolean,
  gpu: GpuContext | null,
  progress: (line: string) => void,
): Promise<BenchResults> {
  const support = detectWasm();
  const bench: Bench = {
    plan: plan(quick),
    gpu,
    wasm: "variant" in support ? support.variant : null,
    progress,
  };
  const meta = benchMeta(bench, quick), kernels = await kernelsPart(bench);
  const endToEnd = await endToEndPart(bench), wholeRuns = await wholeRunsPart(bench);
  const scaling = await scalingPart(bench), recipes = await recipesPart(bench);
  return {
    meta,
    kernels,
    endToEnd,
    wholeRuns,
    scaling,
    recipes,
    auto: await autoPart(bench, endToEnd, wholeRuns, scaling),
  };
}

/** The label of the CPU engine `auto` weighs against the GPU: the WebAssembly kernels on the benchmark's threads. */
const AUTO_CPU = `cpu-wasm-${BENCH_THREADS}t`;

/**
 * The cost model's choice on every workload timed on the GPU engine and on {@linkcode AUTO_CPU}: the
 * end-to-end workloads and the scaling points. Null without a GPU or the WebAssembly kernels.
 */
async function autoPart(
  bench: Bench,
  endToEnd: readonly WorkloadResult[],
  wholeRuns: readonly WholeRunResult[],
  scaling: BenchResults["scaling"],
): Promise<AutoResults | null> {
  if (bench.gpu === null || bench.wasm === null) return null;
  const { plan } = bench;
  const timed: TimedWorkload[] = plan.workloads.map(([workload, config]) => {
    const seconds = (engine: string) =>
      endToEnd.find((r) => r.workload === workload && r.engine === engine)!.source.secondsPerEpoch.median;
    return { workload, ...timedEpochs(config), measured: { gpu: seconds("gpu"), cpu: seconds(AUTO_CPU) } };
  });
  for (const [workload, config] of plan.workloads) {
    const seconds = (engine: string) =>
      wholeRuns.find((r) => r.workload === workload && r.engine === engine)?.seconds?.median;
    const [gpu, cpu] = [seconds("gpu"), seconds(AUTO_CPU)];
    if (gpu === undefined || cpu === undefined) continue; // the full plan's GPU skips whole large runs on llvmpipe
    timed.push({
      workload: `${workload} whole run`,
      ...timedWholeRun(config, CLASSIC_STRATEGIES.length),
      measured: { gpu, cpu },
    });
  }
  const points = (sweep: ScalingSweep, label: ScalingLabel) =>
    sweep.rows.map((row): TimedWorkload => {
      const config = scalingPoint(plan, label, row[label]),
        rows = sourceTrainRows(experimentSpec(config).data);
      return {
        workload: `${label} ${row[label]}`,
        ...timedEpochs(config),
        measured: { gpu: rows / row.gpu, cpu: rows / row[AUTO_CPU] },
      };
    });
  timed.push(...points(scaling.hidden, "hidden"), ...points(scaling.batch, "batch"));
  bench.progress("auto: calibrating both engines, then the cost model's choice on every workload above");
  const cpu = new CpuEngine(await wasmKernels(bench.wasm, BENCH_THREADS));
  const gpu = await GpuEngine.create(await GpuContext.acquire(navigator.gpu)).catch((error) => {
    cpu.dispose();
    throw error;
  });
  return await benchAuto(gpu, cpu, timed, bench.gpu.software);
}

/** Each recipe's and optimizer's time per step on the default workload, against full fine-tuning's. */
async function recipesPart(bench: Bench): Promise<RecipeCost[]> {
  const [, config] = bench.plan.workloads[0];
  const results: RecipeCost[] = [];
  for (const [label, engine] of await engines(bench, {})) {
    if (label === `cpu-wasm-${BENCH_THREADS}t`) {
      engine.dispose(); // the default workload's products are too small to split between threads
      continue;
    }
    bench.progress(`recipes: each recipe and optimizer on ${label}`);
    results.push(...await benchRecipes(config, engine, label, bench.plan.recipeRepeats));
  }
  return results;
}

/**
 * Matmul on the training-step shapes of both workloads and on squares; on a hardware GPU also the
 * plan's GPU-only squares (4096³ in the full benchmark), which the CPU kernels would take minutes over.
 */
function kernelsPart({ plan, gpu, progress }: Bench): ReturnType<typeof benchMatmul> {
  progress("kernels: matmul on training-step shapes and squares");
  const steps = plan.workloads.flatMap(([name, config]) =>
    stepCases(name, config.training.batch_size, sourceWidths(experimentSpec(config)))
  );
  const hardware = gpu !== null && !gpu.software;
  const gpuOnly = hardware ? squareCases(plan.gpuSquares).map((c) => ({ ...c, gpuOnly: true })) : [];
  return benchMatmul([...steps, ...squareCases(plan.squares), ...gpuOnly], gpu, BENCH_THREADS);
}

/** Seconds per epoch of every engine, the naive GPU baseline included, on both workloads. */
async function endToEndPart(bench: Bench): Promise<WorkloadResult[]> {
  const results = [];
  for (const [name, config] of bench.plan.workloads) {
    for (const [label, engine] of await engines(bench, { naive: true, general: sourceFitsFused(config) })) {
      bench.progress(`end to end: ${name} on ${label}`);
      results.push(await benchWorkload(name, config, engine, label));
    }
  }
  return results;
}

/** The whole experiment on our engines and on NumPy with 1 and 2 BLAS threads, taking turns. */
async function wholeRunsPart(bench: Bench): Promise<WholeRunResult[]> {
  const { plan, progress } = bench;
  const results = [];
  for (const [name, config] of plan.workloads) {
    const repeats = plan.wholeRepeats[name];
    const contenders = [
      ...(await engines(bench, {
        ...wholeRunEngines(name, plan.slowOnLarge, bench.gpu),
        general: sourceFitsFused(config),
      }))
        .map(([label, engine]) => engineContender(config, engine, label)),
      ...[1, BENCH_THREADS].map((threads) => numpyContender(config, threads)),
    ];
    const names = contenders.map((c) => c.engine).join(", ");
    results.push(
      ...await benchWholeRuns(name, contenders, repeats, (round) => {
        progress(`whole experiment: ${name}, round ${round} of ${repeats} (${names})`);
      }),
    );
  }
  return results;
}

/** Samples per second against the hidden width (batch 256) and the batch size (hidden 512). */
async function scalingPart(bench: Bench): Promise<BenchResults["scaling"]> {
  const { plan } = bench;
  return {
    trainRows: sourceTrainRows(experimentSpec(scalingPoint(plan, "batch", 256)).data), // the same at every point
    hidden: await sweep(bench, "hidden", plan.widths),
    batch: await sweep(bench, "batch", plan.batches),
  };
}

/** Which setting a scaling sweep varies. */
type ScalingLabel = "hidden" | "batch";

/** A scaling sweep's workload at `value`: hidden widths at batch 256, batch sizes at hidden 512. */
function scalingPoint(plan: Plan, label: ScalingLabel, value: number): Config {
  const [hidden, batch] = label === "hidden" ? [value, 256] : [512, value];
  return scalingWorkload(defaultConfig(), hidden, batch, plan.scalingRows);
}

/** One scaling sweep: each engine's source-phase throughput at each point, and where the GPU first wins. */
async function sweep(bench: Bench, label: ScalingLabel, points: readonly number[]): Promise<ScalingSweep> {
  const rows = [];
  for (const value of points) {
    const row: Record<string, number> = { [label]: value };
    for (const [engineLabel, engine] of await engines(bench, {})) {
      bench.progress(`scaling: ${label} ${value} on ${engineLabel}`);
      const run = await benchWorkload(
        `${label} ${value}`,
        scalingPoint(bench.plan, label, value),
        engine,
        engineLabel,
        false,
      );
      row[engineLabel] = run.source.samplesPerSecond;
    }
    rows.push(row);
  }
  const fastestCpu = (row: Record<string, number>) =>
    Math.max(row.cpu, row["cpu-wasm"] ?? 0, row[`cpu-wasm-${BENCH_THREADS}t`] ?? 0);
  const crossover = rows.find((row) => row.gpu !== undefined && row.gpu >= fastestCpu(row))?.[label] ?? null;
  return { rows, crossover };
}

/** Which engines {@linkcode engines} adds to the CPU engines on WebAssembly. */
interface EngineChoice {
  /** The TypeScript engine; true by default. */
  readonly slow?: boolean;
  /** The GPU engine as `--device gpu` runs it, `gpu`; as `slow` by default. */
  readonly gpu?: boolean;
  /** The naive GPU baseline, `gpu-naive`. */
  readonly naive?: boolean;
  /** The GPU engine on the general path alone, `gpu-general` (where `gpu` takes the fused kernel). */
  readonly general?: boolean;
}

/**
 * Which of the slow engines time `workload`'s whole experiment: on `large`, the TypeScript engine only
 * when `slowOnLarge` (the plan's), and the GPU engine on `gpu` then too, or whenever `gpu` is a
 * hardware adapter (minutes on llvmpipe, seconds on a GPU, and a row of the hardware table).
 */
export function wholeRunEngines(
  workload: string,
  slowOnLarge: boolean,
  gpu: Pick<GpuContext, "software"> | null,
): { slow: boolean; gpu: boolean } {
  const slow = workload !== "large" || slowOnLarge;
  return { slow, gpu: slow || gpu?.software === false };
}

/**
 * Every engine to compare, by the label the tables use, as `choice` says. Each GPU engine gets a
 * device of its own, since disposing of an engine destroys its device. The naive one (`gpu-naive`)
 * sends every dispatch as its own submission, then waits on the host (`submitEachDispatch`).
 */
async function engines({ gpu, wasm }: Bench, choice: EngineChoice): Promise<[string, Engine][]> {
  const { slow = true, gpu: withGpu = slow, naive = false, general = false } = choice;
  const gpuEngine = async (options: GpuEngineOptions = {}) =>
    GpuEngine.create(await GpuContext.acquire(navigator.gpu), options);
  const list: [string, Engine][] = [];
  if (slow) list.push(["cpu", new CpuEngine()]);
  if (wasm !== null) {
    list.push(["cpu-wasm", new CpuEngine(await wasmKernels(wasm))]);
    list.push([`cpu-wasm-${BENCH_THREADS}t`, new CpuEngine(await wasmKernels(wasm, BENCH_THREADS))]);
  }
  if (gpu !== null && withGpu) list.push(["gpu", await gpuEngine()]);
  if (gpu !== null && naive) { // the general path's kernels, each dispatch submitted on its own
    list.push(["gpu-naive", await gpuEngine({ submit: submitEachDispatch, kernels: "general" })]);
  }
  if (gpu !== null && general) list.push(["gpu-general", await gpuEngine({ kernels: "general" })]);
  return list;
}

/** Whether a workload's source phase (every layer learning) fits the GPU engine's fused kernel. */
function sourceFitsFused(config: Config): boolean {
  return runWorkload(experimentSpec(config)).phases[0].fused;
}

/** How and where the benchmark runs. */
function benchMeta({ gpu, wasm }: Bench, quick: boolean): BenchMeta {
  const timing = gpu?.device.features.has("timestamp-query") ? "timestamp queries" : "host clock";
  return {
    date: new Date().toISOString(),
    quick,
    deno: Deno.version.deno,
    adapter: gpu?.description ?? null,
    gpuTiming: gpu === null ? null : timing,
    gpuSchedule: gpu === null ? null : defaultSchedule(gpu.software),
    cpuEngine: new CpuEngine().description,
    wasmKernels: wasm === null ? null : `WebAssembly ${wasm === "relaxed" ? "relaxed SIMD" : "SIMD"} kernels`,
    wasmThreads: BENCH_THREADS,
    repetitions: {
      kernels: REPETITIONS,
      epochs: TIMED_EPOCHS,
      warmUpEpochs: 1,
      epochsPerSample: SAMPLE_EPOCHS,
    },
    dispatchesPerStep:
      "3 per layer: forward, SGD step (weight + bias gradient + update), input gradient (none for layer 1)",
  };
}

/** Runs the benchmark with `args`; resolves with the exit code (1 when a kernel computed a wrong product). */
export function main(args: readonly string[]): Promise<number> {
  return runCommand(() => parseBenchArgs(args), bench);
}

async function bench(options: BenchOptions): Promise<number> {
  if (options.output !== null) {
    checkWritable(options.output, "--output");
    checkNotOverwriting(options.output, "--output", protectedInputs(null));
  }
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
