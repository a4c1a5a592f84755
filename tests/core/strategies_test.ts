/** Each strategy's semantics on the CPU engine: where layers start, which learn, and how fast. */

import assert from "node:assert/strict";
import { defaultConfig } from "../../src/app/config.ts";
import { CpuEngine } from "../../src/engines/cpu/engine.ts";
import type { Mlp } from "../../src/core/model.ts";
import { Rng } from "../../src/core/rng.ts";
import { startTransfer, type StrategyName, strategyPlans } from "../../src/core/strategies.ts";
import { pretrain, transfer } from "../../src/core/train.ts";
import { bytesOf, experimentOn } from "../helpers/helpers.ts";

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

async function pretrainedAndTransferred(strategy: StrategyName, config = smallConfig()) {
  const engine = new CpuEngine();
  const data = experimentOn(engine, config);
  const { model: pretrained } = await pretrain(engine, data.source, data.spec);
  const result = await transfer(engine, data.target, pretrained, strategy, data.spec);
  return { pretrained, transferred: await engine.readModel(), notes: result.notes };
}

function start(strategy: StrategyName, pretrained: Mlp, classes: number, scale = 0.1) {
  return startTransfer(strategyPlans(scale)[strategy], pretrained, classes, new Rng(5));
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
  const expectPretrained: Record<StrategyName, boolean[]> = {
    feature_extractor: [true, true, false],
    head_finetune: [true, true, false],
    full_finetune: [true, true, true],
    scratch: [false, false, false],
  };
  for (const [strategy, expected] of Object.entries(expectPretrained) as [StrategyName, boolean[]][]) {
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

Deno.test("layer rates: frozen base, scaled base, full rate", () => {
  const plans = strategyPlans(0.25);
  const rates = (s: StrategyName) => [plans[s].base.rate, plans[s].head.rate];
  assert.deepEqual(rates("feature_extractor"), [0, 1]);
  assert.deepEqual(rates("head_finetune"), [0.25, 1]);
  assert.deepEqual(rates("full_finetune"), [1, 1]);
  assert.deepEqual(rates("scratch"), [1, 1]);
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
    const oneStep = async (learningRate: number, layerRates: number[]) => {
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
    const unitStep = await oneStep(1, [1, 1, 1]);
    const after = await oneStep(config.training.learning_rate_target, begin.layerRates);
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
