/**
 * Whether `--device auto`'s cost model chooses well: both engines are calibrated as `auto`
 * calibrates them (the GPU engine and the WebAssembly kernels on the benchmark's threads), and on
 * every workload whose source phase the benchmark timed on both (the end-to-end workloads and each
 * scaling point) the model's prediction and choice are set beside the measured times. `auto` is
 * within 1.2× of the faster engine where the engine it would choose took at most 1.2 times the other.
 *
 * @module
 */

import { type Config, experimentSpec } from "../../app/config.ts";
import { calibrateEngine } from "../../app/calibration.ts";
import type { MachineCosts } from "../../app/cost_cache.ts";
import { chooseEngine, type Workload } from "../../app/cost_model.ts";
import { splitCounts } from "../../core/data.ts";
import { stepsPerEpoch } from "../../core/engine.ts";
import { sourceWidths } from "../../core/train.ts";
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
}

/** A workload the benchmark timed on both engines: its config and its measured seconds per source epoch. */
export interface TimedWorkload {
  /** Its name in the tables. */
  readonly workload: string;
  /** The config it was timed with. */
  readonly config: Config;
  /** Median seconds per source epoch on the GPU engine and on the CPU engine `auto` weighs. */
  readonly measured: { readonly gpu: number; readonly cpu: number };
}

/** Calibrates `gpu` and `cpu` (each disposed of afterwards) and checks the choice on each of `timed`. */
export async function benchAuto(
  gpu: Engine,
  cpu: Engine,
  timed: readonly TimedWorkload[],
): Promise<AutoResults> {
  const calibrated = async (engine: Engine) => {
    const started = performance.now();
    try {
      return { costs: await calibrateEngine(engine), seconds: (performance.now() - started) / 1000 };
    } finally {
      engine.dispose();
    }
  };
  const onGpu = await calibrated(gpu), onCpu = await calibrated(cpu);
  const costs = { gpu: onGpu.costs, cpu: onCpu.costs };
  return {
    costs,
    calibrationSeconds: { gpu: onGpu.seconds, cpu: onCpu.seconds },
    checks: timed.map((t) => check(costs, t)),
  };
}

/**
 * The source phase of `config` as the benchmark times it: one phase of {@linkcode SAMPLE_EPOCHS}
 * epochs, every layer learning, the test split evaluated after each.
 */
function timedPhase(config: Config): Workload {
  const spec = experimentSpec(config);
  const rows = splitCounts(spec.data.sourceSamples, spec.data);
  const { batchSize } = spec.pretrain;
  const steps = SAMPLE_EPOCHS * stepsPerEpoch(rows.train, batchSize);
  return {
    widths: sourceWidths(spec),
    phases: [{ batchSize, steps, epochs: SAMPLE_EPOCHS, evaluatedRows: rows.test }],
  };
}

function check(costs: MachineCosts, timed: TimedWorkload): AutoCheck {
  const chosen = chooseEngine(costs.gpu, costs.cpu, timedPhase(timed.config));
  const { gpu, cpu } = timed.measured;
  return {
    workload: timed.workload,
    predicted: { gpu: chosen.gpuSeconds / SAMPLE_EPOCHS, cpu: chosen.cpuSeconds / SAMPLE_EPOCHS },
    measured: timed.measured,
    choice: chosen.engine,
    slowdown: timed.measured[chosen.engine] / Math.min(gpu, cpu),
  };
}
