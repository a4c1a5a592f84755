/**
 * What the product promises: at the default settings pretraining pays on the target task, and on
 * unrelated tasks (relatedness 0) it does not. Means over several seeds, same data for every strategy.
 */

import assert from "node:assert/strict";
import { defaultConfig } from "../../src/app/config.ts";
import { CpuEngine } from "../../src/engines/cpu/engine.ts";
import { STRATEGY_NAMES, type StrategyName } from "../../src/core/strategies.ts";
import { pretrain, transfer } from "../../src/core/train.ts";
import { experimentOn } from "../helpers/helpers.ts";

const SEEDS = [1, 2, 3, 4, 5];

/** Mean target test accuracy of each strategy over SEEDS. */
async function meanAccuracies(relatedness: number): Promise<Record<StrategyName, number>> {
  const sums = Object.fromEntries(STRATEGY_NAMES.map((s) => [s, 0])) as Record<StrategyName, number>;
  for (const seed of SEEDS) {
    const config = defaultConfig();
    config.data.random_seed = seed;
    config.data.relatedness = relatedness;
    const engine = new CpuEngine();
    const data = experimentOn(engine, config);
    const { model } = await pretrain(engine, data.source, data.spec);
    for (const strategy of STRATEGY_NAMES) {
      const result = await transfer(engine, data.target, model, strategy, data.spec);
      sums[strategy] += result.metrics.test.accuracy / SEEDS.length;
    }
  }
  return sums;
}

Deno.test("at the defaults every transfer strategy beats scratch on the target test set", async () => {
  const mean = await meanAccuracies(defaultConfig().data.relatedness);
  for (const strategy of ["feature_extractor", "head_finetune", "full_finetune"] as const) {
    const gain = mean[strategy] - mean.scratch;
    assert.ok(gain > 0.03, `${strategy} gains only ${(100 * gain).toFixed(1)} points over scratch`);
  }
});

Deno.test("at relatedness 0 no transfer strategy beats scratch", async () => {
  const mean = await meanAccuracies(0);
  for (const strategy of ["feature_extractor", "head_finetune", "full_finetune"] as const) {
    const gain = mean[strategy] - mean.scratch;
    assert.ok(
      gain < 0.01,
      `${strategy} gains ${(100 * gain).toFixed(1)} points over scratch on unrelated tasks`,
    );
  }
});
