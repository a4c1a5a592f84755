/**
 * The optimizers' contract, for every engine's suite to run: each optimizer and penalty moves the
 * weights exactly as an independent float64 re-implementation of the update rules (written here, from
 * PyTorch's documented `SGD`, `Adam` and `AdamW` algorithms) does, when both are fed the engine's own
 * gradients; a part's state starts fresh whenever the part starts learning; and L2-SP's gradient is
 * that of the penalised loss, by finite differences.
 */

import assert from "node:assert/strict";
import { defaultConfig } from "../../src/app/config.ts";
import type { Engine, PhaseSpec } from "../../src/core/engine.ts";
import { copyLayer, heModel, type Mlp } from "../../src/core/model.ts";
import { type OptimizerSpec, type Penalty, PLAIN_SGD } from "../../src/core/optimizers.ts";
import type { PartRates } from "../../src/core/recipes.ts";
import { Rng } from "../../src/core/rng.ts";
import { experimentOn, rates } from "./helpers.ts";

/**
 * A full-batch phase on 140 source rows (90 training rows, few enough for the GPU's fused kernel to
 * hold them all, with a rank-3 adapter too): each epoch is one step, its gradient the mean over all
 * rows.
 */
export function fullBatch(engine: Engine): { spec: PhaseSpec; start: Mlp } {
  const config = defaultConfig();
  Object.assign(config.data, { base_n_samples: 140, target_n_samples: 100 });
  const data = experimentOn(engine, config);
  const spec: PhaseSpec = {
    train: data.source.train,
    test: data.source.test,
    epochs: 1,
    batchSize: data.source.train.n,
    learningRate: 0.05,
    layerRates: rates([1, 1]),
    shuffleSeed: 3,
  };
  return { spec, start: heModel([20, 12, 3], new Rng(8)) };
}

/** The gradient of the mean training loss at `model`, from one plain SGD step of rate 1: g = w − w′. */
export async function gradientAt(engine: Engine, spec: PhaseSpec, model: Mlp): Promise<Mlp> {
  engine.setModel(model);
  await engine.trainPhase({ ...spec, epochs: 1, learningRate: 1, layerRates: rates(model.map(() => 1)) });
  const after = await engine.readModel();
  return model.map((layer, l) => ({
    ...layer,
    weights: layer.weights.map((w, i) => w - after[l].weights[i]),
    bias: layer.bias.map((b, i) => b - after[l].bias[i]),
  }));
}

/** One part's reference state, in float64. */
export interface RefState {
  m: Float64Array;
  v: Float64Array;
  t: number;
}

/** The reference update of one part, in float64: PyTorch's SGD (momentum, Nesterov), Adam and AdamW. */
export function referenceStep(
  o: OptimizerSpec,
  penalty: Penalty,
  w: Float64Array,
  g: Float32Array,
  w0: Float32Array,
  lr: number,
  s: RefState,
): void {
  s.t += 1;
  for (let i = 0; i < w.length; i++) {
    let grad = g[i] + penalty.decay * w[i] + penalty.anchor * (w[i] - w0[i]);
    if (o.name !== "adamw") grad += o.weightDecay * w[i]; // torch: d_p = d_p + weight_decay * p
    if (o.name === "sgd") w[i] -= lr * grad;
    if (o.name === "momentum") {
      s.m[i] = s.t === 1 ? grad : o.momentum * s.m[i] + grad; // torch: buf = g at the first step
      w[i] -= lr * (o.nesterov ? grad + o.momentum * s.m[i] : s.m[i]);
    }
    if (o.name === "adam" || o.name === "adamw") {
      if (o.name === "adamw") w[i] *= 1 - lr * o.weightDecay; // torch AdamW: p = p (1 − lr λ) first
      s.m[i] = o.beta1 * s.m[i] + (1 - o.beta1) * grad;
      s.v[i] = o.beta2 * s.v[i] + (1 - o.beta2) * grad * grad;
      const mHat = s.m[i] / (1 - o.beta1 ** s.t), vHat = s.v[i] / (1 - o.beta2 ** s.t);
      w[i] -= lr * mHat / (Math.sqrt(vHat) + o.epsilon);
    }
  }
}

/** A phase of the reference run: its per-layer rates, how many full-batch steps, and its own rule if any. */
interface RefPhase {
  readonly layerRates: readonly PartRates[];
  readonly steps: number;
  readonly optimizer?: OptimizerSpec;
}

/**
 * The reference trajectory: `phases` of full-batch steps from `start` with the engine's gradients;
 * a part's state is fresh whenever it starts learning (at the start, or after a phase that froze it)
 * and whenever the rule changes.
 */
async function referenceRun(
  engine: Engine,
  spec: PhaseSpec,
  start: Mlp,
  phases: readonly RefPhase[],
  optimizer: OptimizerSpec,
  penalties: readonly Penalty[],
): Promise<Float64Array[]> {
  const parts = start.flatMap((layer) => [layer.weights, layer.bias]);
  const w = parts.map((p) => Float64Array.from(p));
  const w0 = parts.map((p) => p.slice());
  let state: (RefState | null)[] = parts.map(() => null);
  let rule = optimizer.name;
  for (const phase of phases) {
    const o = phase.optimizer ?? optimizer;
    if (o.name !== rule) state = parts.map(() => null);
    rule = o.name;
    const learning = phase.layerRates.flatMap((r) => [r.weights, r.biases]);
    state = state.map((s, p) =>
      learning[p] === 0
        ? null
        : s ?? { m: new Float64Array(w[p].length), v: new Float64Array(w[p].length), t: 0 }
    );
    for (let step = 0; step < phase.steps; step++) {
      const model = start.map((layer, l) => ({
        ...layer,
        weights: Float32Array.from(w[2 * l]),
        bias: Float32Array.from(w[2 * l + 1]),
      }));
      const g = (await gradientAt(engine, spec, model)).flatMap((layer) => [layer.weights, layer.bias]);
      for (let p = 0; p < parts.length; p++) {
        if (learning[p] === 0) continue;
        referenceStep(
          o,
          penalties[p >> 1],
          w[p],
          g[p],
          w0[p],
          spec.learningRate * learning[p],
          state[p]!,
        );
      }
    }
  }
  return w;
}

/** Runs `phases` on the engine with `optimizer` and compares with the reference, element by element. */
async function checkAgainstReference(
  engine: Engine,
  optimizer: OptimizerSpec,
  phases: readonly RefPhase[],
  penalties: readonly Penalty[] = [{ decay: 0, anchor: 0 }, { decay: 0, anchor: 0 }],
): Promise<void> {
  const { spec, start } = fullBatch(engine);
  const want = await referenceRun(engine, spec, start, phases, optimizer, penalties);
  engine.setModel(start);
  for (const phase of phases) {
    await engine.trainPhase({
      ...spec,
      epochs: phase.steps,
      layerRates: phase.layerRates,
      optimizer: phase.optimizer ?? optimizer,
      penalties,
      anchor: start.map(copyLayer),
    });
  }
  const got = (await engine.readModel()).flatMap((layer) => [layer.weights, layer.bias]);
  got.forEach((part, p) => {
    const scale = Math.max(...want[p].map(Math.abs));
    part.forEach((value, i) => {
      assert.ok(
        Math.abs(value - want[p][i]) <= 2e-4 * scale + 1e-6,
        `${optimizer.name}: part ${p} element ${i}: ${value} vs reference ${want[p][i]}`,
      );
    });
  });
}

const OPTIMIZERS: readonly OptimizerSpec[] = [
  { ...PLAIN_SGD, weightDecay: 0.1 },
  { ...PLAIN_SGD, name: "momentum", momentum: 0.8 },
  { ...PLAIN_SGD, name: "momentum", momentum: 0.8, nesterov: true, weightDecay: 0.05 },
  { ...PLAIN_SGD, name: "adam", beta1: 0.8, beta2: 0.95, epsilon: 1e-6 },
  { ...PLAIN_SGD, name: "adamw", weightDecay: 0.1 },
];

/** Five steps of each optimizer equal the float64 reference fed the same gradients. */
export async function checkOptimizerSteps(engine: Engine): Promise<void> {
  for (const optimizer of OPTIMIZERS) {
    await checkAgainstReference(engine, optimizer, [{ layerRates: rates([1, 1]), steps: 5 }]);
  }
}

/**
 * Across phases, a part that keeps learning keeps its state, and one that starts learning again after
 * a phase that froze it starts afresh (a stale momentum would move it at once): learn, freeze the
 * first layer, learn again; the head's rate also changes.
 */
export async function checkStateAcrossPhases(engine: Engine): Promise<void> {
  const phases = [
    { layerRates: rates([1, 1]), steps: 3 },
    { layerRates: [{ weights: 0, biases: 1 }, { weights: 0.5, biases: 0.5 }], steps: 2 },
    { layerRates: rates([1, 1]), steps: 2 },
  ];
  for (const name of ["momentum", "adam"] as const) {
    await checkAgainstReference(engine, { ...PLAIN_SGD, name, momentum: 0.8 }, phases);
  }
}

/** A stage that changes the rule (momentum, then Adam, then momentum again) starts every part's state afresh. */
export async function checkRuleChange(engine: Engine): Promise<void> {
  const momentum = { ...PLAIN_SGD, name: "momentum" as const, momentum: 0.8 };
  const adam = { ...PLAIN_SGD, name: "adam" as const };
  await checkAgainstReference(engine, momentum, [
    { layerRates: rates([1, 1]), steps: 3 },
    { layerRates: rates([1, 1]), steps: 2, optimizer: adam },
    { layerRates: rates([1, 1]), steps: 2 },
  ]);
}

/** L2-SP: pulls towards the anchor on the first layer and towards 0 on the head, under SGD and Adam. */
export async function checkPenalties(engine: Engine): Promise<void> {
  const penalties = [{ decay: 0, anchor: 0.5 }, { decay: 0.2, anchor: 0 }];
  for (const optimizer of [PLAIN_SGD, { ...PLAIN_SGD, name: "adam" as const }]) {
    await checkAgainstReference(engine, optimizer, [{ layerRates: rates([1, 1]), steps: 4 }], penalties);
  }
}

/**
 * L2-SP's step is a step down the penalised loss `L(w) + α/2 ‖w − w₀‖² + β/2 ‖w_head‖²`: from a model
 * away from its anchor, one SGD step equals −η times that objective's gradient by central differences.
 */
export async function checkPenaltyGradient(engine: Engine): Promise<void> {
  const { spec, start } = fullBatch(engine);
  const anchor = start.map(copyLayer);
  const [alpha, beta, lr] = [0.5, 0.2, 0.05];
  const moved = start.map((layer) => ({
    ...layer,
    weights: layer.weights.map((w, i) => w + 0.1 * Math.sin(i)),
  }));
  const objective = async (model: Mlp) => {
    engine.setModel(model);
    const loss = (await engine.evaluate([spec.train]))[0].loss;
    let penalty = 0;
    model[0].weights.forEach((w, i) => penalty += (alpha / 2) * (w - anchor[0].weights[i]) ** 2);
    model[0].bias.forEach((b, i) => penalty += (alpha / 2) * (b - anchor[0].bias[i]) ** 2);
    model[1].weights.forEach((w) => penalty += (beta / 2) * w * w);
    model[1].bias.forEach((b) => penalty += (beta / 2) * b * b);
    return loss + penalty;
  };
  engine.setModel(moved);
  await engine.trainPhase({
    ...spec,
    learningRate: lr,
    penalties: [{ decay: 0, anchor: alpha }, { decay: beta, anchor: 0 }],
    anchor,
  });
  const stepped = await engine.readModel();
  const h = 1e-2;
  for (const [l, i] of [[0, 0], [0, 17], [0, 101], [1, 3], [1, 30]]) {
    const at = (delta: number) =>
      moved.map((layer, k) => ({
        ...layer,
        weights: k === l ? layer.weights.map((w, j) => j === i ? w + delta : w) : layer.weights,
      }));
    const numeric = ((await objective(at(h))) - (await objective(at(-h)))) / (2 * h);
    const fromStep = (moved[l].weights[i] - stepped[l].weights[i]) / lr;
    assert.ok(
      Math.abs(fromStep - numeric) < 2e-3,
      `layer ${l} weight ${i}: step says ${fromStep}, differences ${numeric}`,
    );
  }
}

/** Every check above with the name its test gets. */
export const OPTIMIZER_CHECKS: readonly (readonly [string, (engine: Engine) => Promise<void>])[] = [
  ["each optimizer's steps equal a float64 reference fed the same gradients", checkOptimizerSteps],
  [
    "optimizer state carries over while a part learns and starts afresh when it learns again",
    checkStateAcrossPhases,
  ],
  ["a change of rule between phases starts every part's state afresh", checkRuleChange],
  ["penalties towards the anchor and towards 0 match the reference", checkPenalties],
  ["an L2-SP step follows the penalised loss's gradient by finite differences", checkPenaltyGradient],
];
