/**
 * The cost of measuring a task's three splits after a phase on the GPU engine, side by side in one
 * process, alternating, 20 timed rounds after one untimed (docs/BENCHMARKS.md, "Evaluating the splits
 * together"):
 *
 * - the splits alone: in one `evaluate` call (one submission, one host wait) against one call per
 *   split (three of each);
 * - a one-epoch phase and the splits: measured in the phase's own wait (`PhaseSpec.after`) against an
 *   `evaluate` call after the phase (two waits).
 *
 *     deno run --allow-env --allow-read --allow-write tools/evaluate_waits.ts
 *
 * @module
 */

import { defaultConfig, experimentSpec } from "../src/app/config.ts";
import { makeTransferData } from "../src/core/data.ts";
import { type Engine, uploadTask } from "../src/core/engine.ts";
import { heModel } from "../src/core/model.ts";
import { Rng } from "../src/core/rng.ts";
import { sourceWidths } from "../src/core/train.ts";
import { GpuContext } from "../src/engines/gpu/context.ts";
import { GpuEngine } from "../src/engines/gpu/engine.ts";
import { summarizeTimings } from "../src/programs/bench/timing.ts";

const ROUNDS = 20;

/** Median milliseconds of each of `ways`, run alternately `ROUNDS` times after one untimed round. */
async function sideBySide(ways: readonly (() => Promise<unknown>)[]): Promise<string[]> {
  const times: number[][] = ways.map(() => []);
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [w, way] of ways.entries()) {
      const start = performance.now();
      await way();
      if (round > 0) times[w].push(performance.now() - start);
    }
  }
  return times.map((ms) => summarizeTimings(ms).median.toFixed(1));
}

const spec = experimentSpec(defaultConfig());
const engine: Engine = await GpuEngine.create(await GpuContext.acquire());
const source = uploadTask(engine, makeTransferData(spec.data).source);
const start = heModel(sourceWidths(spec), new Rng(1));
engine.setModel(start);
const splits = [source.train, source.validation, source.test];
const [together, apart] = await sideBySide([
  () => engine.evaluate(splits),
  async () => {
    for (const split of splits) await engine.evaluate([split]);
  },
]);
const phase = {
  train: source.train,
  test: source.test,
  epochs: 1,
  batchSize: spec.pretrain.batchSize,
  learningRate: spec.pretrain.learningRate,
  layerRates: start.map(() => ({ weights: 1, biases: 1 })),
  shuffleSeed: 1,
};
const [within, after] = await sideBySide([
  () => (engine.setModel(start), engine.trainPhase({ ...phase, after: { sets: splits, report: () => {} } })),
  async () => {
    engine.setModel(start);
    await engine.trainPhase(phase);
    await engine.evaluate(splits);
  },
]);
console.log(`engine: ${engine.description}; medians of ${ROUNDS}, the default source task`);
console.log(`its three splits: ${together} ms in one call, ${apart} ms in one call each`);
console.log(
  `an epoch, then the splits: ${within} ms in the phase's wait, ${after} ms in a wait of their own`,
);
engine.dispose();
