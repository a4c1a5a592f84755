/**
 * What the product promises, as behaviour that must hold on any seeds, not on one lucky set: each
 * claim is checked on three disjoint sets of five seeds, with every transfer at one fixed budget of
 * SGD steps (so that target sizes are compared at equal work), the same data for every strategy.
 *
 * - Related tasks and scarce target data: every transfer strategy beats scratch.
 * - Unrelated tasks (r = 0, `mixed` shift): none does.
 * - A covariate shift only (`input`, the same labelling rule): transfer helps even at r = 0.
 * - The gain shrinks as the target set grows.
 * - Under an input shift, tuning the first layer (`surgical`) beats tuning only a fresh head.
 */

import assert from "node:assert/strict";
import { type Config, defaultConfig, experimentSpec } from "../../src/app/config.ts";
import { type Comparison, type Grid, runComparison } from "../../src/core/comparison.ts";
import type { Shift } from "../../src/core/data.ts";
import type { StrategyName } from "../../src/core/recipes.ts";
import { CpuEngine } from "../../src/engines/cpu/engine.ts";
import { wasmKernels } from "../../src/engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../../src/engines/cpu/wasm/runtime.ts";

const SEED_SETS = [[1, 2, 3, 4, 5], [101, 102, 103, 104, 105], [1001, 1002, 1003, 1004, 1005]];
const TRANSFERS = ["feature_extractor", "head_finetune", "full_finetune"] as const;
/** SGD steps of every transfer, whatever the size of the target set. */
const BUDGET = 200;
const SCARCE = 25, PLENTY = 400;

/** `grid` of `config` on `engine`, reporting nothing; the engine is disposed of afterwards. */
async function comparisonOn(engine: CpuEngine, config: Config, grid: Grid): Promise<Comparison> {
  const silent = { observer: { epoch() {}, pretrained() {}, finished() {} }, stop: () => false };
  try {
    return await runComparison(engine, experimentSpec(config), grid, silent);
  } finally {
    engine.dispose();
  }
}

/** One seed set's comparison at relatedness 0 and 0.9 and both sizes, on the CPU engine. */
async function compareOn(seeds: number[], shift: Shift): Promise<Comparison> {
  const config = defaultConfig();
  config.data.shift = shift;
  config.training.target_steps = BUDGET;
  const support = detectWasm();
  const engine = new CpuEngine("variant" in support ? await wasmKernels(support.variant) : undefined);
  return await comparisonOn(engine, config, { seeds, relatedness: [0, 0.9], targetRows: [SCARCE, PLENTY] });
}

/** Mean accuracy of `strategy` on `split`, in percent, over the 5 seeds at one relatedness and size. */
function meanAccuracy(
  comparison: Comparison,
  strategy: StrategyName,
  split: "train" | "test",
  relatedness: number,
  rows: number,
): number {
  const runs = comparison.runs.filter((run) =>
    run.strategy === strategy && run.relatedness === relatedness && run.targetTrainRows === rows
  );
  assert.equal(runs.length, 5);
  return 100 * runs.reduce((sum, run) => sum + run.target[split].accuracy, 0) / runs.length;
}

/** Mean test-accuracy gain of `strategy` over scratch, in points, at one relatedness and size. */
function gain(comparison: Comparison, strategy: StrategyName, relatedness: number, rows: number): number {
  return meanAccuracy(comparison, strategy, "test", relatedness, rows) -
    meanAccuracy(comparison, "scratch", "test", relatedness, rows);
}

const mixed = await Promise.all(SEED_SETS.map((seeds) => compareOn(seeds, "mixed")));

for (const [i, seeds] of SEED_SETS.entries()) {
  const label = `seeds ${seeds[0]}-${seeds.at(-1)}`;

  Deno.test(`transfer (${label}): related tasks and ${SCARCE} target rows, every strategy beats scratch by 5+ points`, () => {
    for (const strategy of TRANSFERS) {
      const points = gain(mixed[i], strategy, 0.9, SCARCE);
      assert.ok(points > 5, `${strategy}: ${points.toFixed(1)} points`);
    }
  });

  Deno.test(`transfer (${label}): unrelated tasks (r = 0), no strategy gains 3 points over scratch`, () => {
    for (const strategy of TRANSFERS) {
      for (const rows of [SCARCE, PLENTY]) {
        const points = gain(mixed[i], strategy, 0, rows);
        assert.ok(points < 3, `${strategy} at ${rows} rows: ${points.toFixed(1)} points`);
      }
    }
  });

  Deno.test(`transfer (${label}): at one step budget the gain shrinks as the target set grows`, () => {
    const [few, many] = [
      gain(mixed[i], "full_finetune", 0.9, SCARCE),
      gain(mixed[i], "full_finetune", 0.9, PLENTY),
    ];
    assert.ok(
      few > many + 5,
      `full_finetune gains ${few.toFixed(1)} at ${SCARCE} rows, ${many.toFixed(1)} at ${PLENTY}`,
    );
  });
}

Deno.test("transfer: under a covariate shift alone (the same labelling rule) fine-tuning helps even at r = 0", async () => {
  for (const seeds of SEED_SETS) {
    const points = gain(await compareOn(seeds, "input"), "full_finetune", 0, SCARCE);
    assert.ok(points > 10, `seeds ${seeds[0]}-: ${points.toFixed(1)} points`);
  }
});

/**
 * Surgical fine-tuning's pattern (Lee et al., 2023), the half this project's tasks show: under an
 * input shift, tuning the first layer beats tuning only a fresh head, at the defaults (20 epochs on
 * 512 target rows). The other half (under a label shift the head wins) is not a claim: measured over
 * seeds 42-51 it is a non-significant −2.4 points at r = 0 and reverses at r = 0.5 (docs/RECIPES.md).
 */
Deno.test("surgical: under an input shift, tuning the first layer beats tuning only the head", async () => {
  for (const seeds of SEED_SETS) {
    const config = defaultConfig();
    config.data.shift = "input";
    const strategies = ["feature_extractor", "scratch", "surgical"];
    const comparison = await comparisonOn(new CpuEngine(), config, {
      seeds,
      relatedness: [0],
      targetRows: null,
      strategies,
    });
    const rows = comparison.runs[0].targetTrainRows;
    const points = gain(comparison, "surgical", 0, rows) - gain(comparison, "feature_extractor", 0, rows);
    assert.ok(points > 1.5, `seeds ${seeds[0]}-: surgical − feature_extractor ${points.toFixed(1)} points`);
  }
});

/**
 * LoRA at full rank (r = 20, the first layer's smaller side; α = 2r) can fit what full fine-tuning
 * fits: on 128 target rows over 60 epochs its training accuracy is at least full fine-tuning's less a
 * point (measured: 2.5 to 4.1 points above it on these seed sets), although the base's biases stay frozen.
 */
Deno.test("lora: at full rank it fits the training set as well as full fine-tuning", async () => {
  for (const seeds of SEED_SETS) {
    const config = defaultConfig();
    config.data.target_n_samples = 200;
    Object.assign(config.training, { target_epochs: 60, lora_rank: 20, lora_alpha: 40 });
    const strategies = ["full_finetune", "lora", "scratch"];
    const comparison = await comparisonOn(new CpuEngine(), config, {
      seeds,
      relatedness: [0.5],
      targetRows: null,
      strategies,
    });
    const rows = comparison.runs[0].targetTrainRows;
    const [lora, full] = ["lora", "full_finetune"].map((name) =>
      meanAccuracy(comparison, name, "train", 0.5, rows)
    );
    assert.ok(lora >= full - 1, `seeds ${seeds[0]}-: lora ${lora} vs ${full}`);
  }
});
