/**
 * The GPU engine's two ways of training, side by side in one process (docs/BENCHMARKS.md, "A fully
 * fused kernel on llvmpipe"). First the whole default experiment (pretraining and the four
 * strategies, as the benchmark's whole-run part runs it) on the fully fused kernel and on the
 * general path, alternating, 5 runs each after one untimed run of each: each one's median training
 * seconds in all, then per phase, and its host waits a run. Then models that fit the fused kernel, 5 + 5
 * epochs, 3 runs each after an untimed one: the medians and their ratio.
 *
 *     deno run --allow-env --allow-read --allow-write tools/fused_vs_general.ts
 *
 * @module
 */

import { type Config, defaultConfig, experimentSpec } from "../src/app/config.ts";
import { runComparison } from "../src/core/comparison.ts";
import { GpuContext } from "../src/engines/gpu/context.ts";
import { GpuEngine } from "../src/engines/gpu/engine.ts";
import { fusedLayout } from "../src/engines/gpu/fused_mlp.ts";
import { summarizeTimings } from "../src/programs/bench/timing.ts";
import { defaultWorkload } from "../src/programs/bench/training_bench.ts";

/** Timed runs of the default experiment on each engine, after one untimed. */
const DEFAULT_RUNS = 5;
const unobserved = { observer: { epoch() {}, pretrained() {}, finished() {} }, stop: () => false };
/** Per engine, the host waits for the device so far. */
const waits: Record<string, number> = { fused: 0, general: 0 };
/** A GPU engine on `kernels` that counts its waits. */
async function counting(kernels: "fused" | "general"): Promise<GpuEngine> {
  const waited = <T>(wait: Promise<T>): Promise<T> => {
    waits[kernels]++;
    return wait;
  };
  return await GpuEngine.create(await GpuContext.acquire(), { kernels, waited });
}
const engines = { fused: await counting("fused"), general: await counting("general") };

/** Per engine, per timed run of `config`'s experiment, each phase's training seconds, in turns. */
async function phaseSeconds(config: Config, runs: number): Promise<Record<string, number[][]>> {
  const grid = { seeds: [config.data.random_seed], relatedness: [config.data.relatedness], targetRows: null };
  const phases: Record<string, number[][]> = { fused: [], general: [] };
  for (let round = 0; round <= runs; round++) {
    for (const [name, engine] of Object.entries(engines)) {
      const { pretrainings, runs } = await runComparison(engine, experimentSpec(config), grid, unobserved);
      if (round > 0) phases[name].push([...pretrainings, ...runs].map((phase) => phase.seconds));
    }
  }
  return phases;
}

const median = (values: number[]) => summarizeTimings(values).median;
const total = (run: number[]) => run.reduce((sum, s) => sum + s, 0);

for (
  const [name, runs] of Object.entries(await phaseSeconds(defaultWorkload(defaultConfig()), DEFAULT_RUNS))
) {
  const perPhase = runs[0].map((_, p) => median(runs.map((run) => run[p])).toFixed(3));
  console.log(
    `${name}: ${median(runs.map(total)).toFixed(3)} s in all; pretraining ${perPhase[0]} s, ` +
      `transfers ${perPhase.slice(1).join(", ")} s; ${
        (waits[name] / (DEFAULT_RUNS + 1)).toFixed(1)
      } host waits a run`,
  );
}

/** Models that fit the fused kernel, the default one first: hidden widths, classes, batch. */
const SHAPES: readonly { hidden: number[]; classes: number; batch: number }[] = [
  { hidden: [32], classes: 3, batch: 32 },
  { hidden: [16, 16], classes: 3, batch: 32 },
  { hidden: [48], classes: 3, batch: 16 },
  { hidden: [24], classes: 10, batch: 16 },
  { hidden: [32], classes: 3, batch: 8 },
  { hidden: [8], classes: 3, batch: 4 },
];
for (const { hidden, classes, batch } of SHAPES) {
  const config = defaultConfig();
  config.model.hidden_dims = hidden;
  config.data.n_classes = classes;
  Object.assign(config.training, { batch_size: batch, base_epochs: 5, target_epochs: 5 });
  const widths = [config.data.n_features, ...hidden, classes];
  if (fusedLayout(widths, batch, 0) === null) {
    throw new Error(`${widths.join("-")} does not fit the fused kernel`);
  }
  const runs = await phaseSeconds(config, 3);
  const [fused, general] = [median(runs.fused.map(total)), median(runs.general.map(total))];
  const model = widths.join("-");
  const times = `fused ${fused.toFixed(3)} s, general ${general.toFixed(3)} s`;
  console.log(`${model} at batch ${batch}: ${times}, ${(fused / general).toFixed(2)} of its time`);
}
Object.values(engines).forEach((engine) => engine.dispose());
