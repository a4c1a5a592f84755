/**
 * Backpropagation against central finite differences, every parameter, in float64; then the float32
 * training path against that float64 gradient; then the promise that frozen layers get no work.
 */

import assert from "node:assert/strict";
import type { Floats, LossSum } from "../../../src/engines/cpu/reference_kernels.ts";
import { backward, forward, type LayerParams, Workspace } from "../../../src/engines/cpu/mlp.ts";
import { Rng } from "../../../src/core/rng.ts";

const WIDTHS = [5, 6, 4, 3]; // two hidden layers, so gradients pass through a ReLU twice
const ROWS = 7;

interface Problem {
  model: LayerParams[];
  x: Float64Array;
  labels: Uint32Array;
}

function problem(): Problem {
  const rng = new Rng(2024);
  const model = WIDTHS.slice(1).map((outputs, l) => {
    const inputs = WIDTHS[l];
    return {
      inputs,
      outputs,
      weights: Float64Array.from({ length: inputs * outputs }, () => rng.normal() / Math.sqrt(inputs)),
      bias: Float64Array.from({ length: outputs }, () => 0.1 * rng.normal()),
    };
  });
  const x = Float64Array.from({ length: ROWS * WIDTHS[0] }, () => rng.normal());
  const labels = Uint32Array.from({ length: ROWS }, () => rng.below(WIDTHS[WIDTHS.length - 1]));
  return { model, x, labels };
}

function workspaceFor(p: Problem, alloc: (n: number) => Floats): Workspace {
  const ws = new Workspace(WIDTHS, ROWS, alloc);
  ws.activations[0].set(p.x);
  ws.labels.set(p.labels);
  return ws;
}

/** Mean loss of the batch, and the gradients when `needsGrad` asks for them. */
function lossAndGrads(ws: Workspace, model: LayerParams[], needsGrad: boolean[]): number {
  const sum: LossSum = { loss: 0, correct: 0 };
  forward(ws, model, ROWS);
  backward(ws, model, ROWS, { learns: needsGrad, lowest: needsGrad.indexOf(true) }, sum);
  return sum.loss / ROWS;
}

Deno.test("every gradient matches central finite differences in float64", () => {
  const p = problem();
  const ws = workspaceFor(p, (n) => new Float64Array(n));
  const all = WIDTHS.slice(1).map(() => true);
  lossAndGrads(ws, p.model, all);
  const analytic = p.model.map((_, l) => ({ w: ws.weightGrads[l].slice(), b: ws.biasGrads[l].slice() }));
  const h = 1e-6;
  const none = all.map(() => false);
  let checked = 0;
  p.model.forEach((layer, l) => {
    for (const [values, grads] of [[layer.weights, analytic[l].w], [layer.bias, analytic[l].b]] as const) {
      for (let i = 0; i < values.length; i++) {
        const saved = values[i];
        values[i] = saved + h;
        const up = lossAndGrads(ws, p.model, none);
        values[i] = saved - h;
        const down = lossAndGrads(ws, p.model, none);
        values[i] = saved;
        const numeric = (up - down) / (2 * h);
        assert.ok(
          Math.abs(grads[i] - numeric) < 1e-7 * Math.max(1, Math.abs(numeric)),
          `layer ${l} ${values === layer.bias ? "bias" : "weight"} ${i}: ${grads[i]} vs ${numeric}`,
        );
        checked++;
      }
    }
  });
  assert.equal(checked, 5 * 6 + 6 + 6 * 4 + 4 + 4 * 3 + 3);
});

Deno.test("the float32 training path gives the float64 gradient to float32 precision", () => {
  const p = problem();
  const ws64 = workspaceFor(p, (n) => new Float64Array(n));
  const all = WIDTHS.slice(1).map(() => true);
  lossAndGrads(ws64, p.model, all);
  const model32 = p.model.map((l) => ({
    ...l,
    weights: Float32Array.from(l.weights),
    bias: Float32Array.from(l.bias),
  }));
  const ws32 = workspaceFor(p, (n) => new Float32Array(n));
  lossAndGrads(ws32, model32, all);
  model32.forEach((_, l) => {
    for (
      const [got, want] of [[ws32.weightGrads[l], ws64.weightGrads[l]], [
        ws32.biasGrads[l],
        ws64.biasGrads[l],
      ]]
    ) {
      for (let i = 0; i < want.length; i++) {
        assert.ok(
          Math.abs(got[i] - want[i]) < 1e-5 * Math.max(1, Math.abs(want[i])),
          `layer ${l} element ${i}`,
        );
      }
    }
  });
});

Deno.test("backward computes nothing for layers whose gradient nothing needs", () => {
  const p = problem();
  const ws = workspaceFor(p, (n) => new Float64Array(n));
  const untouched = [
    ws.weightGrads[0],
    ws.biasGrads[0],
    ws.weightGrads[1],
    ws.biasGrads[1],
    ws.deltas[1],
    ws.deltas[2],
  ];
  for (const buffer of untouched) buffer.fill(NaN);
  lossAndGrads(ws, p.model, [false, false, true]); // only the head learns: a frozen base
  for (const buffer of untouched) {
    assert.ok(buffer.every(Number.isNaN), "a frozen layer's buffers were written");
  }
  assert.ok(ws.weightGrads[2].every(Number.isFinite) && ws.biasGrads[2].every(Number.isFinite));
});
