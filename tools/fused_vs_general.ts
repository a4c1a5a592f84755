/**
 * The GPU engine's two ways of training, side by side in one process: the whole default experiment
 * (pretraining and the four strategies, as the benchmark's whole-run part runs it) on the fully
 * fused kernel and on the general path, alternating, 5 runs each after one untimed run of each
 * (docs/BENCHMARKS.md, "A fully fused kernel on llvmpipe"). Prints each one's median training
 * seconds in all, then per phase.
 *
 *     deno run --allow-env --allow-read --allow-write tools/fused_vs_general.ts
 *
 * @module
 */

import { defaultConfig, experimentSpec } from "../src/app/config.ts";
import { runComparison } from "../src/core/comparison.ts";
import { GpuContext } from "../src/engines/gpu/context.ts";
import { GpuEngine } from "../src/engines/gpu/engine.ts";
import { summarizeTimings } from "../src/programs/bench/timing.ts";
import { defaultWorkload } from "../src/programs/bench/training_bench.ts";

const RUNS = 5;
const config = defaultWorkload(defaultConfig());
const grid = { seeds: [config.data.random_seed], relatedness: [config.data.relatedness], targetRows: null };
const unobserved = { observer: { epoch() {}, pretrained() {}, finished() {} }, stop: () => false };
const engines = {
  fused: await GpuEngine.create(await GpuContext.acquire(), { kernels: "fused" }),
  general: await GpuEngine.create(await GpuContext.acquire(), { kernels: "general" }),
};
/** Per engine, per run, each phase's training seconds: pretraining, then the four transfers. */
const phases: Record<string, number[][]> = { fused: [], general: [] };
for (let round = 0; round <= RUNS; round++) {
  for (const [name, engine] of Object.entries(engines)) {
    const { pretrainings, runs } = await runComparison(engine, experimentSpec(config), grid, unobserved);
    if (round > 0) phases[name].push([...pretrainings, ...runs].map((phase) => phase.seconds));
  }
}
Object.values(engines).forEach((engine) => engine.dispose());
const median = (values: number[]) => summarizeTimings(values).median.toFixed(3);
for (const [name, runs] of Object.entries(phases)) {
  const perPhase = runs[0].map((_, p) => median(runs.map((run) => run[p])));
  const total = median(runs.map((run) => run.reduce((sum, s) => sum + s, 0)));
  console.log(
    `${name}: ${total} s in all; pretraining ${perPhase[0]} s, transfers ${perPhase.slice(1).join(", ")} s`,
  );
}
