/**
 * Each recipe's semantics on the CPU engine: where layers start, which parts learn in which stage,
 * and how fast, checked against tables written out here rather than against the recipes' code.
 */

import assert from "node:assert/strict";
import { defaultConfig, parseConfig } from "../../src/app/config.ts";
import { CpuEngine } from "../../src/engines/cpu/engine.ts";
import type { Mlp } from "../../src/core/model.ts";
import { Rng } from "../../src/core/rng.ts";
import type { PhaseSpec } from "../../src/core/engine.ts";
import { PLAIN_SGD } from "../../src/core/optimizers.ts";
import {
  builtInRecipes,
  type BuiltInStrategy,
  DISCRIMINATIVE_DECAY,
  type PartRates,
  stageBudgets,
  startTransfer,
  STRATEGY_NAMES,
  type StrategyName,
  trainableParameters,
} from "../../src/core/recipes.ts";
import { phaseSegments, pretrain, transfer } from "../../src/core/train.ts";
import { bytesOf, experimentOn, rates } from "../helpers/helpers.ts";

function smallConfig() {
  const config = defaultConfig();
  config.data.base_n_samples = 400;
  config.data.target_n_samples = 200;
  config.model.hidden_dims = [16, 8]; // two base layers, so "every hidden layer" is exercised
  config.training.base_epochs = 3;
  config.training.target_epochs = 3;
  return config;
}

const same = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && bytesOf(a).every((byte, i) => byte === bytesOf(b)[i]);

/** The CPU engine, recording the layer rates and epochs of every phase it is asked to train. */
class RecordingEngine extends CpuEngine {
  readonly phases: Pick<PhaseSpec, "layerRates" | "firstEpoch" | "epochs" | "steps">[] = [];
  override trainPhase(spec: PhaseSpec) {
    this.phases.push({
      layerRates: spec.layerRates,
      firstEpoch: spec.firstEpoch,
      epochs: spec.epochs,
      steps: spec.steps,
    });
    return super.trainPhase(spec);
  }
}

async function pretrainedAndTransferred(strategy: StrategyName, config = smallConfig()) {
  const engine = new RecordingEngine();
  const data = experimentOn(engine, config);
  const { model: pretrained } = await pretrain(engine, data.source, data.spec);
  engine.phases.length = 0;
  const result = await transfer(engine, data.target, pretrained, strategy, data.spec);
  return { pretrained, transferred: await engine.readModel(), notes: result.notes, phases: engine.phases };
}

function start(strategy: BuiltInStrategy, pretrained: Mlp, classes: number, scale = 0.1) {
  return startTransfer(
    builtInRecipes(3, {
      headFinetuneBaseScale: scale,
      l2sp: { alpha: 0.1, beta: 0.01 },
      lora: { rank: 2, alpha: 4 },
    })[strategy],
    pretrained,
    classes,
    new Rng(5),
  );
}

Deno.test("feature_extractor: every base layer keeps its exact bytes; a fresh head learns", async () => {
  const { pretrained, transferred } = await pretrainedAndTransferred("feature_extractor");
  for (const l of [0, 1]) {
    assert.ok(same(transferred[l].weights, pretrained[l].weights), `layer ${l} weights changed`);
    assert.ok(same(transferred[l].bias, pretrained[l].bias), `layer ${l} bias changed`);
  }
  const fresh = start("feature_extractor", pretrained, 3).model[2];
  assert.ok(!same(fresh.weights, pretrained[2].weights), "the head must start fresh");
  assert.ok(!same(transferred[2].weights, fresh.weights), "the head must learn");
});

Deno.test("head_finetune, full_finetune and scratch change every layer", async () => {
  for (const strategy of ["head_finetune", "full_finetune", "scratch"] as const) {
    const { pretrained, transferred } = await pretrainedAndTransferred(strategy);
    for (const l of [0, 1, 2]) {
      assert.ok(!same(transferred[l].weights, pretrained[l].weights), `${strategy}: layer ${l} did not move`);
    }
  }
});

Deno.test("initial weights: pretrained or fresh He layers, as each plan says", async () => {
  const { pretrained } = await pretrainedAndTransferred("scratch");
  const expectPretrained: Record<BuiltInStrategy, boolean[]> = {
    feature_extractor: [true, true, false],
    head_finetune: [true, true, false],
    full_finetune: [true, true, true],
    scratch: [false, false, false],
    lp_ft: [true, true, false],
    discriminative_lr: [true, true, true],
    gradual_unfreeze: [true, true, false],
    l2_sp: [true, true, true],
    bitfit: [true, true, false],
    surgical: [true, true, true],
    lora: [true, true, false],
  };
  for (const [strategy, expected] of Object.entries(expectPretrained) as [BuiltInStrategy, boolean[]][]) {
    const { model, notes } = start(strategy, pretrained, 3);
    assert.deepEqual(model.map((layer, l) => same(layer.weights, pretrained[l].weights)), expected, strategy);
    assert.deepEqual(notes, []);
    for (const [l, isPretrained] of expected.entries()) {
      if (isPretrained) continue;
      const w = model[l].weights;
      const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
      const he = Math.sqrt(2 / model[l].inputs);
      assert.ok(Math.abs(std - he) < 0.35 * he, `${strategy} layer ${l}: std ${std} vs He ${he}`);
      assert.ok(model[l].bias.every((b) => b === 0));
    }
  }
});

/** Each recipe for a model of three layers (two hidden, the head): each stage's share and rates, by hand. */
const d = DISCRIMINATIVE_DECAY;
const SCHEDULES: Record<BuiltInStrategy, [number, PartRates[]][]> = {
  feature_extractor: [[1, rates([0, 0, 1])]],
  head_finetune: [[1, rates([0.25, 0.25, 1])]],
  full_finetune: [[1, rates([1, 1, 1])]],
  scratch: [[1, rates([1, 1, 1])]],
  lp_ft: [[0.5, rates([0, 0, 1])], [0.5, rates([1, 1, 1])]],
  discriminative_lr: [[1, rates([1 / (d * d), 1 / d, 1])]],
  gradual_unfreeze: [[1 / 3, rates([0, 0, 1])], [1 / 3, rates([0, 1 / d, 1])], [
    1 / 3,
    rates([1 / (d * d), 1 / d, 1]),
  ]],
  l2_sp: [[1, rates([1, 1, 1])]],
  bitfit: [[1, [{ weights: 0, biases: 1 }, { weights: 0, biases: 1 }, { weights: 1, biases: 1 }]]],
  surgical: [[1, rates([1, 0, 0])]],
  lora: [[1, [{ weights: 1, biases: 0 }, { weights: 1, biases: 0 }, { weights: 1, biases: 1 }]]], // the base's weights through adapters
};

Deno.test("recipes: every built-in recipe's stages, shares and rates, as written out by hand", () => {
  const recipes = builtInRecipes(3, {
    headFinetuneBaseScale: 0.25,
    l2sp: { alpha: 0.3, beta: 0.02 },
    lora: { rank: 2, alpha: 4 },
  });
  assert.deepEqual(Object.keys(recipes), [...STRATEGY_NAMES]);
  for (const name of STRATEGY_NAMES) {
    const got = recipes[name].stages;
    const want = SCHEDULES[name];
    assert.equal(got.length, want.length, name);
    got.forEach((stage, s) => {
      assert.ok(Math.abs(stage.share - want[s][0]) < 1e-12, `${name} stage ${s + 1} share`);
      stage.rates.forEach((r, l) => {
        assert.ok(
          Math.abs(r.weights - want[s][1][l].weights) < 1e-12,
          `${name} stage ${s + 1} layer ${l} weights`,
        );
        assert.ok(
          Math.abs(r.biases - want[s][1][l].biases) < 1e-12,
          `${name} stage ${s + 1} layer ${l} biases`,
        );
      });
    });
    assert.ok(
      Math.abs(got.reduce((sum, stage) => sum + stage.share, 0) - 1) < 1e-12,
      `${name}: shares sum to 1`,
    );
  }
});

Deno.test("recipes: a budget is cut at the rounded cumulative shares, the last stage taking the rest", () => {
  assert.deepEqual(stageBudgets([{ share: 1 }], 20), [20]);
  assert.deepEqual(stageBudgets([{ share: 0.5 }, { share: 0.5 }], 20), [10, 10]);
  assert.deepEqual(stageBudgets([{ share: 0.5 }, { share: 0.5 }], 5), [3, 2]); // round(2.5) = 3
  const thirds = [{ share: 1 / 3 }, { share: 1 / 3 }, { share: 1 / 3 }];
  assert.deepEqual(stageBudgets(thirds, 20), [7, 6, 7]); // cuts at round(6.67) = 7 and round(13.33) = 13
  assert.deepEqual(stageBudgets(thirds, 1), [0, 1, 0]);
  assert.deepEqual(stageBudgets(thirds, 0), [0, 0, 0]);
});

Deno.test("recipes: under a step budget each stage gets its share of the steps, epochs numbered on", () => {
  const schedule = {
    epochs: 99,
    steps: 25,
    batchSize: 10,
    learningRate: 0.1,
    patience: null,
    optimizer: PLAIN_SGD,
  };
  const stages = [{ share: 0.5, rates: rates([0, 1]) }, { share: 0.5, rates: rates([1, 1]) }];
  // 40 rows: 4 steps an epoch. 13 steps take 4 epochs (the last of 1 step), then 12 steps take 3.
  assert.deepEqual(
    phaseSegments(schedule, 40, stages).map(({ firstEpoch, epochs, steps }) => [firstEpoch, epochs, steps]),
    [
      [1, 4, 13],
      [5, 3, 12],
    ],
  );
  const byEpochs = phaseSegments({ ...schedule, steps: null, epochs: 9 }, 40, stages);
  assert.deepEqual(byEpochs.map(({ firstEpoch, epochs, steps }) => [firstEpoch, epochs, steps]), [
    [1, 5, undefined],
    [6, 4, undefined],
  ]);
});

Deno.test("recipes: the transfer runs each stage as a phase of its own rates, epochs numbered on", async () => {
  const config = smallConfig();
  config.training.target_epochs = 6;
  for (const name of ["lp_ft", "gradual_unfreeze", "bitfit"] as const) {
    const { phases } = await pretrainedAndTransferred(name, config);
    const want = SCHEDULES[name];
    assert.equal(phases.length, want.length, name);
    let firstEpoch = 1;
    phases.forEach((phase, s) => {
      assert.equal(phase.firstEpoch, firstEpoch, `${name} stage ${s + 1} starts where the last ended`);
      assert.equal(phase.epochs, 6 / want.length, `${name} stage ${s + 1} epochs`);
      assert.deepEqual(phase.layerRates.map((r) => r.weights > 0), want[s][1].map((r) => r.weights > 0));
      assert.deepEqual(phase.layerRates.map((r) => r.biases > 0), want[s][1].map((r) => r.biases > 0));
      firstEpoch += phase.epochs;
    });
  }
});

Deno.test("bitfit keeps every base weight's bytes and moves the base biases; surgical moves only layer 1", async () => {
  const bitfit = await pretrainedAndTransferred("bitfit");
  for (const l of [0, 1]) {
    assert.ok(
      same(bitfit.transferred[l].weights, bitfit.pretrained[l].weights),
      `bitfit: layer ${l} weights`,
    );
    assert.ok(
      !same(bitfit.transferred[l].bias, bitfit.pretrained[l].bias),
      `bitfit: layer ${l} biases learn`,
    );
  }
  const surgical = await pretrainedAndTransferred("surgical");
  assert.ok(
    !same(surgical.transferred[0].weights, surgical.pretrained[0].weights),
    "surgical: layer 1 learns",
  );
  for (const l of [1, 2]) {
    assert.ok(
      same(surgical.transferred[l].weights, surgical.pretrained[l].weights),
      `surgical: layer ${l + 1}`,
    );
    assert.ok(
      same(surgical.transferred[l].bias, surgical.pretrained[l].bias),
      `surgical: layer ${l + 1} bias`,
    );
  }
});

Deno.test("a head that must start fresh learns even where the recipe froze it (surgical, new class count)", async () => {
  const config = smallConfig();
  config.data.target_n_classes = 5;
  const { transferred, notes, phases } = await pretrainedAndTransferred("surgical", config);
  assert.match(notes[0], /head.*fresh/);
  assert.deepEqual(phases[0].layerRates, rates([1, 0, 1]));
  assert.equal(transferred[2].outputs, 5);
});

Deno.test("lora: adapters start at W₀ (B zero, A ~ N(0, 1/inputs)); trainable parameters counted by hand", async () => {
  const { pretrained } = await pretrainedAndTransferred("scratch");
  const begin = start("lora", pretrained, 3);
  const [first, second, head] = begin.adapters!;
  assert.equal(head, null);
  for (const [l, adapter] of [[0, first], [1, second]] as const) {
    const { inputs, outputs } = pretrained[l];
    assert.equal(adapter!.a.length, inputs * 2);
    assert.ok(adapter!.b.length === 2 * outputs && adapter!.b.every((v) => v === 0), "B starts at zero");
    assert.equal(adapter!.scale, 2); // α / r = 4 / 2
    const std = Math.sqrt(adapter!.a.reduce((sum, v) => sum + v * v, 0) / adapter!.a.length);
    assert.ok(Math.abs(std - 1 / Math.sqrt(inputs)) < 0.3 / Math.sqrt(inputs), `layer ${l} A std ${std}`);
  }
  // widths 20 → 16 → 8 → 3: adapters of rank 2 on both base layers, the whole head.
  assert.equal(
    trainableParameters(begin.stages, [20, 16, 8, 3], [{ rank: 2, alpha: 4 }, { rank: 2, alpha: 4 }, null]),
    2 * (20 + 16) + 2 * (16 + 8) + (8 * 3 + 3),
  );
  const full = start("full_finetune", pretrained, 3);
  assert.equal(trainableParameters(full.stages, [20, 16, 8, 3]), 20 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3);
  const bitfit = start("bitfit", pretrained, 3);
  assert.equal(trainableParameters(bitfit.stages, [20, 16, 8, 3]), 16 + 8 + 8 * 3 + 3);
});

Deno.test("lora: the base's weights move only by a low-rank product; its biases stay", async () => {
  const { pretrained, transferred } = await pretrainedAndTransferred("lora");
  for (const l of [0, 1]) {
    assert.ok(same(transferred[l].bias, pretrained[l].bias), `layer ${l} bias frozen`);
    assert.ok(
      !same(transferred[l].weights, pretrained[l].weights),
      `layer ${l} weights moved through the adapter`,
    );
  }
});

Deno.test("head_finetune moves the base by exactly scale × rate × gradient in one step", async () => {
  for (const scale of [0.1, 1]) {
    const config = smallConfig();
    config.training.batch_size = 160; // the whole target training split: one step per epoch
    config.training.target_epochs = 1;
    config.training.head_finetune_base_lr_scale = scale;
    const engine = new CpuEngine();
    const data = experimentOn(engine, config);
    const { model: pretrained } = await pretrain(engine, data.source, data.spec);
    const begin = start("head_finetune", pretrained, 3, scale);
    // The gradient at the start, from one plain step at rate 1 on every layer.
    const oneStep = async (learningRate: number, layerRates: readonly PartRates[]) => {
      engine.setModel(begin.model);
      const { train, test } = data.target;
      await engine.trainPhase({
        train,
        test,
        epochs: 1,
        batchSize: 160,
        learningRate,
        layerRates,
        shuffleSeed: 0,
      });
      return await engine.readModel();
    };
    const unitStep = await oneStep(1, rates([1, 1, 1]));
    const after = await oneStep(config.training.learning_rate_target, begin.stages[0].rates);
    for (const l of [0, 1, 2]) {
      const rate = config.training.learning_rate_target * (l === 2 ? 1 : scale);
      const w0 = begin.model[l].weights, w1 = after[l].weights, unit = unitStep[l].weights;
      for (let i = 0; i < w0.length; i++) {
        const gradient = w0[i] - unit[i];
        assert.ok(
          Math.abs((w0[i] - w1[i]) - rate * gradient) < 1e-6,
          `scale ${scale} layer ${l} weight ${i}`,
        );
      }
    }
  }
});

Deno.test("full_finetune with a different class count: fresh head, pretrained base, and a note", async () => {
  const config = smallConfig();
  config.data.target_n_classes = 5;
  const { pretrained, transferred, notes } = await pretrainedAndTransferred("full_finetune", config);
  assert.equal(transferred[2].outputs, 5);
  assert.equal(notes.length, 1);
  assert.match(notes[0], /head.*fresh.*3 classes.*5/);
  const begin = start("full_finetune", pretrained, 5);
  assert.ok(
    same(begin.model[0].weights, pretrained[0].weights) &&
      same(begin.model[1].weights, pretrained[1].weights),
  );
});

Deno.test("stages: an empty stage touches nothing, and early stopping ends a stage, not the transfer", async () => {
  // Adam over 4 epochs with shares 0.45 / 0.1 / 0.45: the middle stage rounds to 0 epochs. With
  // early stopping that never fires, every epoch must train as without it.
  const text = `training: {target_epochs: 4, optimizer: adam}\nrecipes:\n  gap:\n    stages:\n` +
    `      - {share: 0.45, train: {all: both}}\n      - {share: 0.1, train: {head: both}}\n      - {share: 0.45, train: {all: both}}\n`;
  const losses = async (patience: number | null) => {
    const config = parseConfig(text, "gap.yaml");
    Object.assign(config.data, { base_n_samples: 400, target_n_samples: 200 });
    config.training.early_stopping_patience = patience;
    const engine = new CpuEngine();
    const data = experimentOn(engine, config);
    const { model } = await pretrain(engine, data.source, data.spec);
    const result = await transfer(engine, data.target, model, "gap", data.spec);
    return { losses: result.history.map((m) => m.train.loss), earlyStop: result.earlyStop };
  };
  assert.deepEqual((await losses(100)).losses, (await losses(null)).losses);
  // lp_ft with patience 1 over 30 epochs: whatever the probe does, the fine-tuning stage (epochs 16-30) runs.
  const config = smallConfig();
  Object.assign(config.training, { target_epochs: 30, early_stopping_patience: 1 });
  const { phases } = await pretrainedAndTransferred("lp_ft", config);
  assert.ok(
    phases.some((phase) => (phase.firstEpoch ?? 1) >= 16 && phase.layerRates[0].weights > 0),
    "stage 2 ran",
  );
});
