/**
 * The GPU engine's two ways of training, side by side in one process: the whole default experiment
 * (pretraining and the four strategies, as the benchmark's whole-run part times it) on the fully
 * fused kernel and on the general path, alternating, 5 runs each after one untimed run of each
 * (docs/BENCHMARKS.md, "A fully fused kernel on llvmpipe"). Prints each one's median training seconds.
 *
 *     deno run --allow-env --allow-read --allow-write tools/fused_vs_general.ts
 *
 * @module
 */

import { defaultConfig } from "../src/app/config.ts";
import { GpuContext } from "../src/engines/gpu/context.ts";
import { GpuEngine } from "../src/engines/gpu/engine.ts";
import { benchWholeRun } from "../src/programs/bench/whole_run_bench.ts";
import { summarizeTimings } from "../src/programs/bench/timing.ts";
import { defaultWorkload } from "../src/programs/bench/training_bench.ts";

const RUNS = 5;
const kernels = ["fused", "general"] as const;
const seconds: Record<string, number[]> = { fused: [], general: [] };
const config = defaultWorkload(defaultConfig());
for (let round = 0; round <= RUNS; round++) {
  for (const choice of kernels) {
    const engine = await GpuEngine.create(await GpuContext.acquire(), { kernels: choice });
    const run = await benchWholeRun("default", config, engine, choice, 1);
    if (round > 0) seconds[choice].push(run.seconds!.median);
  }
}
for (const choice of kernels) {
  console.log(
    `${choice}: ${summarizeTimings(seconds[choice]).median.toFixed(3)} s (${
      seconds[choice].map((s) => s.toFixed(3)).join(", ")
    })`,
  );
}
