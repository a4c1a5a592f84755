/**
 * LoRA adapters' contract, for every engine's suite to run: a step moves the factors down the loss's
 * gradient with respect to them, by central finite differences; several steps of Adam match a
 * float64 reference fed the engine's own weight gradients (∂A = s G Bᵀ, ∂B = s Aᵀ G); W − W₀ keeps the
 * adapter's rank; the same adapter object goes on from phase to phase exactly as one longer phase.
 */

import assert from "node:assert/strict";
import type { Engine, PhaseSpec } from "../../src/core/engine.ts";
import type { Mlp } from "../../src/core/model.ts";
import { PLAIN_SGD } from "../../src/core/optimizers.ts";
import type { Adapter } from "../../src/core/recipes.ts";
import { Rng } from "../../src/core/rng.ts";
import { sameModel } from "./training_checks.ts";
import { fullBatch, gradientAt, referenceStep, type RefState } from "./optimizer_checks.ts";

/** Only layer 1's adapter learns: its weights through the factors; its bias and the head are frozen. */
const ADAPTER_ONLY = [{ weights: 1, biases: 0 }, { weights: 0, biases: 0 }];

/**
 * An adapter of `rank` on a 20 × 12 layer, both factors drawn (B too, so that both gradients are not
 * zero), its scale α / r with α = 1.5, so that at no rank a check uses is it 1 and a lost scale shows.
 */
function adapter(rank: number, seed: number, bScale = 0.3): Adapter {
  const rng = new Rng(seed);
  const draw = (count: number, scale: number) =>
    Float32Array.from({ length: count }, () => scale * rng.normal());
  return { rank, scale: 1.5 / rank, a: draw(20 * rank, 1 / Math.sqrt(20)), b: draw(rank * 12, bScale) };
}

/** W₀ + s · A · B in float64, A and B row-major (20 × r and r × 12). */
function merged(
  w0: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rank: number,
  scale: number,
): Float64Array {
  const w = Float64Array.from(w0);
  for (let i = 0; i < 20; i++) {
    for (let j = 0; j < 12; j++) {
      let sum = 0;
      for (let p = 0; p < rank; p++) sum += a[i * rank + p] * b[p * 12 + j];
      w[i * 12 + j] += scale * sum;
    }
  }
  return w;
}

/** `model` with layer 1's weights replaced by `weights`. */
function withWeights(model: Mlp, weights: ArrayLike<number>): Mlp {
  return model.map((layer, l) => l === 0 ? { ...layer, weights: Float32Array.from(weights) } : layer);
}

/** Asserts `got` is `want` to within `relative` of the largest |want|, element by element. */
function close(got: ArrayLike<number>, want: ArrayLike<number>, relative: number, what: string): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    assert.ok(
      Math.abs(got[i] - want[i]) <= relative * scale + 1e-7,
      `${what} element ${i}: ${got[i]} vs ${want[i]}`,
    );
  }
}

/**
 * One SGD step of the adapter equals one step down the loss as a function of A and B, its gradient
 * taken by central differences through `evaluate` on every element of both factors.
 */
export async function checkAdapterGradient(engine: Engine): Promise<void> {
  const { spec, start } = fullBatch(engine);
  const [rank, lr] = [2, 0.5];
  const source = adapter(rank, 3);
  const loss = async (a: ArrayLike<number>, b: ArrayLike<number>) => {
    engine.setModel(withWeights(start, merged(start[0].weights, a, b, rank, source.scale)));
    return (await engine.evaluate([spec.train]))[0].loss;
  };
  const h = 1e-3;
  const derivative = async (factor: "a" | "b", i: number) => {
    const at = (delta: number) => {
      const moved = Float64Array.from(source[factor]);
      moved[i] += delta;
      return factor === "a" ? loss(moved, source.b) : loss(source.a, moved);
    };
    return ((await at(h)) - (await at(-h))) / (2 * h);
  };
  const a1 = Float64Array.from(source.a), b1 = Float64Array.from(source.b);
  for (let i = 0; i < a1.length; i++) a1[i] -= lr * await derivative("a", i);
  for (let i = 0; i < b1.length; i++) b1[i] -= lr * await derivative("b", i);
  engine.setModel(start);
  await engine.trainPhase({ ...spec, learningRate: lr, layerRates: ADAPTER_ONLY, adapters: [source, null] });
  const moved = (await engine.readModel())[0].weights;
  const before = merged(start[0].weights, source.a, source.b, rank, source.scale);
  const want = merged(start[0].weights, a1, b1, rank, source.scale);
  close(moved.map((w, i) => w - before[i]), want.map((w, i) => w - before[i]), 0.02, "ΔW after one step");
}

/** Four steps of Adam on the factors equal a float64 reference fed the engine's weight gradients. */
export async function checkAdapterAdam(engine: Engine): Promise<void> {
  const { spec, start } = fullBatch(engine);
  const rank = 3, source = adapter(rank, 5, 0);
  const adam = { ...PLAIN_SGD, name: "adam" as const };
  const a = Float64Array.from(source.a), b = Float64Array.from(source.b);
  const fresh = (n: number): RefState => ({ m: new Float64Array(n), v: new Float64Array(n), t: 0 });
  const [stateA, stateB] = [fresh(a.length), fresh(b.length)];
  const none = { decay: 0, anchor: 0 };
  for (let step = 0; step < 4; step++) {
    const w = merged(start[0].weights, a, b, rank, source.scale);
    const g = (await gradientAt(engine, spec, withWeights(start, w)))[0].weights;
    const gradA = new Float32Array(a.length), gradB = new Float32Array(b.length);
    for (let i = 0; i < 20; i++) {
      for (let p = 0; p < rank; p++) {
        let sum = 0;
        for (let j = 0; j < 12; j++) sum += g[i * 12 + j] * b[p * 12 + j];
        gradA[i * rank + p] = source.scale * sum;
      }
    }
    for (let p = 0; p < rank; p++) {
      for (let j = 0; j < 12; j++) {
        let sum = 0;
        for (let i = 0; i < 20; i++) sum += a[i * rank + p] * g[i * 12 + j];
        gradB[p * 12 + j] = source.scale * sum;
      }
    }
    referenceStep(adam, none, a, gradA, new Float32Array(a.length), spec.learningRate, stateA);
    referenceStep(adam, none, b, gradB, new Float32Array(b.length), spec.learningRate, stateB);
  }
  engine.setModel(start);
  await engine.trainPhase({
    ...spec,
    epochs: 4,
    layerRates: ADAPTER_ONLY,
    optimizer: adam,
    adapters: [source, null],
  });
  const got = (await engine.readModel())[0].weights;
  close(got, merged(start[0].weights, a, b, rank, source.scale), 2e-4, "W after four Adam steps");
}

/** W − W₀ stays of the adapter's rank: with rank 1, every 2 × 2 minor of the change vanishes. */
export async function checkAdapterRank(engine: Engine): Promise<void> {
  const { spec, start } = fullBatch(engine);
  engine.setModel(start);
  const rates = [{ weights: 1, biases: 1 }, { weights: 1, biases: 1 }]; // the head and the biases learn too
  await engine.trainPhase({ ...spec, epochs: 5, layerRates: rates, adapters: [adapter(1, 7, 0), null] });
  const w = (await engine.readModel())[0].weights, w0 = start[0].weights;
  const d = (i: number, j: number) => w[i * 12 + j] - w0[i * 12 + j];
  let largest = 0, worst = 0;
  for (let i = 0; i < 20; i++) for (let j = 0; j < 12; j++) largest = Math.max(largest, Math.abs(d(i, j)));
  assert.ok(largest > 1e-4, "the adapter moved the weights");
  for (let i = 0; i + 1 < 20; i++) {
    for (let j = 0; j + 1 < 12; j++) {
      worst = Math.max(worst, Math.abs(d(i, j) * d(i + 1, j + 1) - d(i, j + 1) * d(i + 1, j)));
    }
  }
  assert.ok(worst < 1e-3 * largest * largest, `a 2 × 2 minor of ΔW is ${worst}, against ${largest ** 2}`);
}

/** The same adapter object given to two phases goes on exactly as one phase of both. */
export async function checkAdapterContinues(engine: Engine): Promise<void> {
  const { spec, start } = fullBatch(engine);
  const source = adapter(2, 9, 0);
  const adam = { ...PLAIN_SGD, name: "adam" as const };
  const phase = (extra: Partial<PhaseSpec>) =>
    engine.trainPhase({
      ...spec,
      layerRates: ADAPTER_ONLY,
      optimizer: adam,
      adapters: [source, null],
      ...extra,
    });
  engine.setModel(start);
  await phase({ epochs: 5 });
  const whole = await engine.readModel();
  engine.setModel(start);
  await phase({ epochs: 2 });
  await phase({ epochs: 3, firstEpoch: 3 });
  assert.ok(sameModel(await engine.readModel(), whole), "two phases with one adapter equal one phase");
}

/** Every check above with the name its test gets. */
export const ADAPTER_CHECKS: readonly (readonly [string, (engine: Engine) => Promise<void>])[] = [
  [
    "an adapter's SGD step follows the loss's gradient in its factors, by finite differences",
    checkAdapterGradient,
  ],
  ["Adam on an adapter's factors equals a float64 reference fed the engine's gradients", checkAdapterAdam],
  ["a rank-1 adapter changes the weights by a rank-1 matrix", checkAdapterRank],
  ["one adapter object goes on from phase to phase exactly as one phase", checkAdapterContinues],
];
