/**
 * Checks of the training contract that every engine must pass (run on the CPU engine in
 * tests/core/train_test.ts and on the GPU engine in tests/engines/gpu/engine_test.ts): divergence
 * stops a phase, a phase run epoch by epoch equals the phase run whole, a step budget takes exactly
 * that many steps, early stopping keeps the weights of the epoch a reference loop picks, a frozen
 * part (weights or biases) keeps its bytes, a phase's `after` measures what `evaluate` would, and a
 * transfer's metrics are its final model's.
 */

import assert from "node:assert/strict";
import { defaultConfig } from "../../src/app/config.ts";
import type { Engine, EpochMetrics, Metrics, PhaseSpec } from "../../src/core/engine.ts";
import { heModel, type Mlp } from "../../src/core/model.ts";
import { OPTIMIZER_NAMES, type OptimizerSpec, PLAIN_SGD } from "../../src/core/optimizers.ts";
import type { Adapter } from "../../src/core/recipes.ts";
import { Rng } from "../../src/core/rng.ts";
import { phaseSeeds, pretrain, transfer } from "../../src/core/train.ts";
import { countGpuWork } from "../../src/programs/bench/gpu_work.ts";
import { bytesOf, experimentOn, rates } from "./helpers.ts";

/** A small config: 300 source rows (192 training), 3 pretraining epochs. */
function smallConfig() {
  const config = defaultConfig();
  Object.assign(config.data, { base_n_samples: 300, target_n_samples: 200 });
  Object.assign(config.training, { base_epochs: 3, target_epochs: 3, batch_size: 32 });
  return config;
}

/** Whether two models hold the same bytes, layer by layer. */
export function sameModel(a: Mlp, b: Mlp): boolean {
  const same = (x: Float32Array, y: Float32Array) =>
    x.length === y.length && bytesOf(x).every((byte, i) => byte === bytesOf(y)[i]);
  return a.length === b.length &&
    a.every((layer, l) => same(layer.weights, b[l].weights) && same(layer.bias, b[l].bias));
}

/** A learning rate of 1000 makes the loss non-finite: the phase stops at that epoch and says where. */
export async function checkDivergenceStops(engine: Engine): Promise<void> {
  const config = smallConfig();
  config.training.learning_rate_base = 1000;
  config.training.base_epochs = 10;
  const data = experimentOn(engine, config);
  const result = await pretrain(engine, data.source, data.spec);
  assert.ok(result.diverged !== null, "a rate of 1000 diverges");
  const { epoch } = result.diverged;
  assert.equal(result.history.length, epoch, "no epoch is reported after the one that diverged");
  assert.ok(!Number.isFinite(result.history[epoch - 1].train.loss));
  result.history.slice(0, -1).forEach((m) => assert.ok(Number.isFinite(m.train.loss), `epoch ${m.epoch}`));
  assert.ok(epoch < 10, "it stopped before the last epoch");
  assert.ok(
    !(await engine.readModel()).every((l) => l.weights.every(Number.isFinite)),
    "the weights are gone",
  );
}

/** The source phase of the small config as a PhaseSpec on `engine`, from fixed He weights. */
function sourcePhase(engine: Engine): { spec: PhaseSpec; start: Mlp } {
  const data = experimentOn(engine, smallConfig());
  const start = heModel([20, 32, 3], new Rng(3));
  const spec = {
    train: data.source.train,
    test: data.source.test,
    epochs: 3,
    batchSize: 32,
    learningRate: 0.05,
    layerRates: rates([1, 1]),
    shuffleSeed: 11,
  };
  return { spec, start };
}

/**
 * Three epochs run whole, run one at a time (`firstEpoch`), and as a budget of 3 · 6 steps give the
 * same bytes; 2.5 epochs of steps equal two epochs, then the first half of the third epoch's batches.
 */
export async function checkEpochsAndSteps(engine: Engine): Promise<void> {
  const { spec, start } = sourcePhase(engine);
  const whole = Math.ceil(spec.train.n / spec.batchSize); // 6 minibatches of the 192 rows
  engine.setModel(start);
  const history = await engine.trainPhase(spec);
  const wholeRun = await engine.readModel();
  engine.setModel(start);
  for (let epoch = 1; epoch <= 3; epoch++) await engine.trainPhase({ ...spec, epochs: 1, firstEpoch: epoch });
  assert.ok(sameModel(await engine.readModel(), wholeRun), "epoch by epoch equals whole");
  engine.setModel(start);
  const budget = await engine.trainPhase({ ...spec, steps: 3 * whole });
  assert.ok(
    sameModel(await engine.readModel(), wholeRun),
    "a budget of three epochs' steps equals three epochs",
  );
  assert.deepEqual(budget, history);
  engine.setModel(start);
  const partial = await engine.trainPhase({ ...spec, steps: 2 * whole + 3 });
  assert.deepEqual(partial.map((m) => m.epoch), [1, 2, 3]);
  engine.setModel(start);
  await engine.trainPhase({ ...spec, epochs: 2 });
  const third = await engine.trainPhase({ ...spec, epochs: 1, firstEpoch: 3, steps: 3 });
  const afterParts = await engine.readModel();
  engine.setModel(start);
  await engine.trainPhase({ ...spec, steps: 2 * whole + 3 });
  assert.ok(
    sameModel(await engine.readModel(), afterParts),
    "2.5 epochs of steps: two epochs and three steps",
  );
  assert.deepEqual(partial[2].train, third[0].train, "the partial epoch averages over the rows it saw");
}

/**
 * Early stopping against a reference loop written here: epoch by epoch, the validation loss after
 * each, the best kept, stop after `patience` epochs without a new best.
 */
export async function checkEarlyStopping(engine: Engine): Promise<void> {
  const config = smallConfig();
  Object.assign(config.training, { base_epochs: 12, learning_rate_base: 0.6, early_stopping_patience: 2 });
  const data = experimentOn(engine, config);
  const spec = { ...data.spec, pretrain: { ...data.spec.pretrain, patience: 2 } };
  const result = await pretrain(engine, data.source, spec);
  const kept = await engine.readModel();
  // The reference: the same phase without early stopping, one epoch at a time.
  const none = { ...spec, pretrain: { ...spec.pretrain, patience: null, epochs: 1 } };
  await pretrain(engine, data.source, none); // epoch 1, from the same He initialisation
  const losses = [(await engine.evaluate([data.source.validation]))[0].loss];
  const models = [await engine.readModel()];
  for (let epoch = 2; epoch <= 12; epoch++) {
    await engine.trainPhase({
      train: data.source.train,
      test: data.source.test,
      epochs: 1,
      firstEpoch: epoch,
      batchSize: 32,
      learningRate: 0.6,
      layerRates: rates([1, 1]),
      shuffleSeed: phaseSeeds(config.data.random_seed, "source").shuffle,
    });
    losses.push((await engine.evaluate([data.source.validation]))[0].loss);
    models.push(await engine.readModel());
  }
  let best = 0, last = 0;
  for (let e = 0; e < losses.length; e++) {
    last = e;
    if (losses[e] < losses[best]) best = e;
    else if (e - best >= 2) break;
  }
  assert.ok(last + 1 < 12, `this setup stops early (validation losses ${losses.map((l) => l.toFixed(3))})`);
  assert.deepEqual(result.earlyStop, { bestEpoch: best + 1, lastEpoch: last + 1 });
  assert.equal(result.history.length, last + 1);
  assert.ok(sameModel(kept, models[best]), "the best epoch's weights are kept");
}

/** Every optimizer, each with weight decay, to show that none of them moves a frozen part. */
const EVERY_OPTIMIZER: readonly OptimizerSpec[] = OPTIMIZER_NAMES.map((name) => ({
  ...PLAIN_SGD,
  name,
  weightDecay: 0.1,
}));

/**
 * A frozen part is never written, nor its optimizer state read: with the first layer's weights and
 * the head's biases frozen, under every optimizer with weight decay and penalties towards 0 and
 * towards the start, and at a learning rate high enough to overflow (so that any write of `w − 0 · g`
 * with a non-finite g would show), their bytes stay those of the start while the other parts move.
 */
export async function checkFrozenParts(engine: Engine): Promise<void> {
  const { spec, start } = sourcePhase(engine);
  const layerRates = [{ weights: 0, biases: 1 }, { weights: 1, biases: 0 }];
  const penalties = [{ decay: 0.1, anchor: 0.1 }, { decay: 0.1, anchor: 0.1 }];
  const same = (a: Float32Array, b: Float32Array) => bytesOf(a).every((byte, i) => byte === bytesOf(b)[i]);
  for (const optimizer of [PLAIN_SGD, ...EVERY_OPTIMIZER]) {
    for (const learningRate of [0.05, 1e38]) {
      const what = `${optimizer.name} (decay ${optimizer.weightDecay}) at rate ${learningRate}`;
      engine.setModel(start);
      await engine.trainPhase({
        ...spec,
        epochs: 10,
        learningRate,
        layerRates,
        optimizer,
        penalties,
        anchor: start,
      });
      const [first, head] = await engine.readModel();
      if (learningRate > 1) {
        assert.ok(!head.weights.every(Number.isFinite), `${what}: the learning parts diverged`);
      }
      assert.ok(same(first.weights, start[0].weights), `${what}: frozen weights kept their bytes`);
      assert.ok(same(head.bias, start[1].bias), `${what}: frozen biases kept their bytes`);
      assert.ok(!same(first.bias, start[0].bias), `${what}: the first layer's biases learned`);
      assert.ok(!same(head.weights, start[1].weights), `${what}: the head's weights learned`);
    }
  }
}

/**
 * A phase's `after` reports, once, the metrics `evaluate` gives of the same datasets after the same
 * phase, bit for bit: after 3 epochs, after reports that ended early, after 0 epochs, and after a
 * step budget of Adam on a LoRA adapter. On the GPU
 * the phase, `after` included, waits on the host once.
 */
export async function checkMeasuredAfter(engine: Engine): Promise<void> {
  const { spec, start } = sourcePhase(engine);
  const sets = [spec.train, spec.test, spec.train];
  const counts = countGpuWork();
  const rng = new Rng(5), draw = (n: number) => Float32Array.from({ length: n }, () => 0.1 * rng.normal());
  const lora: Adapter = { rank: 2, scale: 1, a: draw(20 * 2), b: draw(2 * 32) };
  const adam: OptimizerSpec = { ...PLAIN_SGD, name: "adam" };
  const variants: Partial<PhaseSpec>[] = [
    {},
    { onEpoch: (m: EpochMetrics) => m.epoch < 2 },
    { epochs: 0 },
    { steps: 14, optimizer: adam, adapters: [lora, null] }, // a budget ending the last epoch early
  ];
  for (const variant of variants) {
    const reports: Metrics[][] = [];
    engine.setModel(start);
    const waits = counts.waits;
    await engine.trainPhase({ ...spec, ...variant, after: { sets, report: (m) => reports.push(m) } });
    if (engine.name === "gpu" && variant.epochs !== 0) assert.equal(counts.waits - waits, 1, "one wait");
    assert.equal(reports.length, 1, "reported once");
    assert.deepEqual(reports[0], await engine.evaluate(sets), JSON.stringify(variant));
  }
}

/**
 * A transfer's metrics are its final model's, as `evaluate` measures it afterwards: for `lp_ft`'s two
 * stages (the splits measured with the second), and under step budgets of 1 and of 7 steps, which
 * leave the second stage with none or part of an epoch.
 */
export async function checkFinalMetrics(engine: Engine): Promise<void> {
  for (const steps of [null, 1, 7]) {
    const config = smallConfig();
    config.training.target_steps = steps;
    const data = experimentOn(engine, config);
    const source = await pretrain(engine, data.source, data.spec);
    const result = await transfer(engine, data.target, source.model, "lp_ft", data.spec);
    const [train, validation, test] = await engine.evaluate([
      data.target.train,
      data.target.validation,
      data.target.test,
    ]);
    assert.deepEqual(result.metrics, { train, validation, test }, `target_steps ${steps}`);
  }
}

/** Every check above with the name its test gets, for each engine's suite to run. */
export const TRAINING_CHECKS: readonly (readonly [string, (engine: Engine) => Promise<void>])[] = [
  ["a non-finite loss stops the phase at that epoch and says where", checkDivergenceStops],
  ["a phase run whole, epoch by epoch, or as a step budget takes the same steps", checkEpochsAndSteps],
  ["early stopping keeps the epoch a reference loop picks on the validation loss", checkEarlyStopping],
  ["a frozen weight or bias is never written, even when the rest diverges", checkFrozenParts],
  ["a phase's after-measurement is evaluate's, in the phase's one wait on a GPU", checkMeasuredAfter],
  ["a transfer's metrics are its final model's, whichever stage trained last", checkFinalMetrics],
];
