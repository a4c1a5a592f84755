/**
 * Whether `--device auto`'s cost model chooses well: both engines are calibrated as `auto`
 * calibrates them (the GPU engine and the WebAssembly kernels on the benchmark's threads), and on
 * every workload the benchmark timed on both (the end-to-end workloads' and each scaling point's
 * source epochs, and the whole default experiment) the model's prediction and choice are set beside
 * the measured times. On a software adapter `auto` itself never asks the model (it takes the CPU);
 * there the table shows what the model would choose had the adapter been hardware. `auto` is
 * within 1.2× of the faster engine where the engine it would choose took at most 1.2 times the other.
 *
 * @module
 */

import { type Config, experimentSpec } from "../../app/config.ts";
import { calibrateEngine, calibrateGpuEngine, type PathEngine } from "../../app/calibration.ts";
import type { MachineCosts } from "../../app/cost_cache.ts";
import { chooseEngine, runWorkload, type Workload } from "../../app/cost_model.ts";
import type { Engine } from "../../core/engine.ts";
import { SAMPLE_EPOCHS } from "./training_bench.ts";

/** One workload: what the model predicted and chose, and what was measured, in seconds per source epoch. */
export interface AutoCheck {
  /** The workload's name, as in the end-to-end and scaling tables. */
  readonly workload: string;
  /** The cost model's seconds per epoch on each engine. */
  readonly predicted: { readonly gpu: number; readonly cpu: number };
  /** The benchmark's median seconds per epoch on each engine. */
  readonly measured: { readonly gpu: number; readonly cpu: number };
  /** The engine the model chooses. */
  readonly choice: "gpu" | "cpu";
  /** The chosen engine's measured time over the faster one's: 1 when the choice was right. */
  readonly slowdown: number;
}

/** The calibration and the check on every workload. */
export interface AutoResults {
  /** Both engines' costs as calibrated in this run. */
  readonly costs: MachineCosts;
  /** Seconds each calibration took. */
  readonly calibrationSeconds: { readonly gpu: number; readonly cpu: number };
  /** Each workload's check, in the order given. */
  readonly checks: AutoCheck[];
  /** Whether the GPU is a software adapter, which `auto` never weighs (it takes the CPU). */
  readonly software: boolean;
}

/** A workload the benchmark timed on both engines: what the model sees, and the measured seconds. */
export interface TimedWorkload {
  /** Its name in the table. */
  readonly workload: string;
  /** What the cost model is asked about. */
  readonly work: Workload;
  /** What `measured` is a share of: `work`'s epochs for times per epoch, 1 for whole runs. */
  readonly per: number;
  /** Median seconds (per epoch, or in all) on the GPU engine and on the CPU engine `auto` weighs. */
  readonly measured: { readonly gpu: number; readonly cpu: number };
}

/**
 * Calibrates `gpu` and `cpu` (both disposed of afterwards) and checks the choice on each of `timed`;
 * `software` says the GPU is a software adapter.
 */
export async function benchAuto(
  gpu: PathEngine,
  cpu: Engine,
  timed: readonly TimedWorkload[],
  software: boolean,
): Promise<AutoResults> {
  const clocked = async <T>(calibration: Promise<T>) => {
    const started = performance.now();
    return { costs: await calibration, seconds: (performance.now() - started) / 1000 };
  };
  try {
    const onGpu = await clocked(calibrateGpuEngine(gpu)), onCpu = await clocked(calibrateEngine(cpu));
    const costs = { gpu: onGpu.costs, cpu: onCpu.costs };
    return {
      costs,
      calibrationSeconds: { gpu: onGpu.seconds, cpu: onCpu.seconds },
      checks: timed.map((t) => check(costs, t)),
      software,
    };
  } finally {
    gpu.dispose();
    cpu.dispose();
  }
}

/**
 * The source phase of `config` as the benchmark times it, per epoch: one phase of
 * {@linkcode SAMPLE_EPOCHS} epochs, every layer learning, the test split evaluated after each, one wait.
 */
export function timedEpochs(config: Config): Pick<TimedWorkload, "work" | "per"> {
  const { widths, phases: [pretraining] } = runWorkload(experimentSpec(config));
  const steps = SAMPLE_EPOCHS * (pretraining.steps / pretraining.epochs);
  return {
    work: { widths, phases: [{ ...pretraining, steps, epochs: SAMPLE_EPOCHS, waits: 1 }] },
    per: SAMPLE_EPOCHS,
  };
}

/**
 * The whole experiment of `config` as the benchmark times it: pretraining, then `strategies`
 * transfers, each phase with the measurement of its splits (one wait for both).
 */
export function timedWholeRun(config: Config, strategies: number): Pick<TimedWorkload, "work" | "per"> {
  return { work: runWorkload(experimentSpec(config), strategies), per: 1 };
}

function check(costs: MachineCosts, timed: TimedWorkload): AutoCheck {
  const chosen = chooseEngine(costs.gpu, costs.cpu, timed.work);
  const { gpu, cpu } = timed.measured;
  return {
    workload: timed.workload,
    predicted: { gpu: chosen.gpuSeconds / timed.per, cpu: chosen.cpuSeconds / timed.per },
    measured: timed.measured,
    choice: chosen.engine,
    slowdown: timed.measured[chosen.engine] / Math.min(gpu, cpu),
  };
}
