/**
 * The cost of evaluating a task's three splits after a phase on the GPU engine, side by side in one
 * process: in one `evaluate` call (one submission, one host wait) and in one call per split (three of
 * each), alternating, 20 timed rounds after one untimed (docs/BENCHMARKS.md, "Evaluating the splits
 * together").
 *
 *     deno run --allow-env --allow-read --allow-write tools/evaluate_waits.ts
 *
 * @module
 */

import { defaultConfig, experimentSpec } from "../src/app/config.ts";
import { makeTransferData } from "../src/core/data.ts";
import { uploadTask } from "../src/core/engine.ts";
import { heModel } from "../src/core/model.ts";
import { Rng } from "../src/core/rng.ts";
import { sourceWidths } from "../src/core/train.ts";
import { GpuContext } from "../src/engines/gpu/context.ts";
import { GpuEngine } from "../src/engines/gpu/engine.ts";

const ROUNDS = 20;

const spec = experimentSpec(defaultConfig());
const engine = await GpuEngine.create(await GpuContext.acquire());
const source = uploadTask(engine, makeTransferData(spec.data).source);
engine.setModel(heModel(sourceWidths(spec), new Rng(1)));
const splits = [source.train, source.validation, source.test];
const together: number[] = [], apart: number[] = [];
for (let round = 0; round <= ROUNDS; round++) {
  let start = performance.now();
  await engine.evaluate(splits);
  if (round > 0) together.push(performance.now() - start);
  start = performance.now();
  for (const split of splits) await engine.evaluate([split]);
  if (round > 0) apart.push(performance.now() - start);
}
const median = (ms: number[]) => ms.sort((a, b) => a - b)[ms.length >> 1].toFixed(1);
console.log(`engine: ${engine.description}`);
console.log(
  `the default source task's three splits: ${median(together)} ms in one call, ${
    median(apart)
  } ms in one call each (medians of ${ROUNDS})`,
);
engine.dispose();
