/**
 * Every WGSL kernel against a float64 reference on awkward sizes, outputs poisoned with NaN first.
 * Runs on whatever adapter WebGPU gives (Mesa's llvmpipe in CI).
 */

import assert from "node:assert/strict";
import {
  Epilogue,
  MATMUL_TILE,
  MATMUL_VARIANTS,
  type MatmulVariant,
  Pipelines,
  Rows,
} from "../../../src/engines/gpu/pipelines.ts";
import { Rng } from "../../../src/core/rng.ts";
import { dispatch, gpuAvailable, poisoned, storage, uniform, withDevice } from "../../helpers/gpu.ts";
import { readBuffers } from "../../../src/engines/gpu/context.ts";
import { maxRelativeError } from "../../helpers/helpers.ts";

const ignore = !(await gpuAvailable());
const SHAPES: [number, number, number][] = [[1, 1, 1], [37, 53, 29], [129, 65, 257], [64, 32, 96]];

function uniformFloats(count: number, seed: number): Float32Array<ArrayBuffer> {
  const rng = new Rng(seed);
  return Float32Array.from({ length: count }, () => 2 * rng.uniform() - 1);
}

/** Which stored row of A feeds op(A) row (or, transposed, column) r, for each row mode. */
function rowMap(variant: MatmulVariant, offset: number, index: Uint32Array): (r: number) => number {
  if (variant.aRows === Rows.chunk) return (r) => offset + r;
  if (variant.aRows === Rows.shuffled) return (r) => index[offset + r];
  return (r) => r;
}

/**
 * Runs one matmul variant with op(A) m×k, op(B) k×n on `kernels`, checks it against float64 and
 * returns what it wrote (C, then aux for the SGD step, which updates both).
 */
async function checkMatmul(
  kernels: Pipelines,
  variant: MatmulVariant,
  [m, k, n]: [number, number, number],
  seed: number,
): Promise<Float32Array> {
  const device = kernels.device;
  const sgd = variant.epilogue === Epilogue.sgdStep;
  const batch = variant.batchIsK ? k : m;
  const storedRows = variant.transA ? k : m;
  const extraRows = variant.aRows === Rows.direct ? 0 : 7; // a dataset larger than the batch
  const aCols = variant.transA ? m : k;
  const a = uniformFloats((storedRows + extraRows) * aCols, seed);
  const b = uniformFloats(k * n, seed + 1);
  const aux = uniformFloats(variant.epilogue === Epilogue.reluMask ? m * n : n, seed + 2);
  const weights = uniformFloats(m * n, seed + 4); // C's contents before an SGD step
  const [rate, biasRate] = [0.05, 0.03]; // the SGD step's sizes for the weights and for the biases
  const offset = extraRows === 0 ? 0 : 3;
  const index = new Uint32Array(storedRows + extraRows);
  index.forEach((_, i) => index[i] = i);
  new Rng(seed + 3).shuffle(index);
  const row = rowMap(variant, offset, index);
  const opA = (i: number, p: number) => variant.transA ? a[row(p) * m + i] : a[row(i) * k + p];
  const opB = (p: number, j: number) => variant.transB ? b[j * k + p] : b[p * n + j];
  const want = new Float64Array(m * n + (sgd ? n : 0));
  for (let i = 0; i < (sgd ? m + 1 : m); i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += (i < m ? opA(i, p) : 1) * opB(p, j);
      if (variant.epilogue === Epilogue.bias) sum += aux[j];
      if (variant.epilogue === Epilogue.biasRelu) sum = Math.max(0, sum + aux[j]);
      if (variant.epilogue === Epilogue.reluMask && !(aux[i * n + j] > 0)) sum = 0;
      if (sgd) {
        sum = i < m ? weights[i * n + j] - Math.fround(rate) * sum : aux[j] - Math.fround(biasRate) * sum;
      }
      want[i * n + j] = sum;
    }
  }
  const c = sgd ? storage(device, weights) : poisoned(device, m * n);
  const auxBuffer = storage(device, aux);
  const group = kernels.matmulGroup({
    a: storage(device, a),
    b: storage(device, b),
    c,
    aux: auxBuffer,
    rowIndex: storage(device, index),
    dims: uniform(device, [variant.batchIsK ? m : 0, n, variant.batchIsK ? 0 : k, { f32: rate }, {
      f32: biasRate,
    }]),
    step: uniform(device, [offset, batch, 0, { f32: 0 }]),
  });
  const rows = sgd ? m + 1 : m;
  dispatch(device, kernels.matmul(variant), group, [
    Math.ceil(n / MATMUL_TILE),
    Math.ceil(rows / MATMUL_TILE),
  ]);
  const got = new Float32Array(m * n + (sgd ? n : 0));
  got.set(new Float32Array((await readBuffers(device, [c]))[0], 0, m * n));
  if (sgd) got.set(new Float32Array((await readBuffers(device, [auxBuffer]))[0], 0, n), m * n);
  const error = maxRelativeError(got, want);
  const label = `${kernels.schedule} ${JSON.stringify(variant)} ${m}x${k}x${n}`;
  assert.ok(error < 1e-5, `${label}: relative error ${error}`);
  return got;
}

const variants: [string, MatmulVariant][] = [
  ["forward, hidden (bias + ReLU), direct rows", MATMUL_VARIANTS.forward(Rows.direct, true)],
  ["forward, head (bias), direct rows", MATMUL_VARIANTS.forward(Rows.direct, false)],
  ["forward, hidden, rows from a dataset chunk", MATMUL_VARIANTS.forward(Rows.chunk, true)],
  ["forward, head, rows from a dataset chunk", MATMUL_VARIANTS.forward(Rows.chunk, false)],
  ["forward, hidden, shuffled rows gathered by index", MATMUL_VARIANTS.forward(Rows.shuffled, true)],
  ["forward, head, shuffled rows gathered by index", MATMUL_VARIANTS.forward(Rows.shuffled, false)],
  ["SGD step W -= r·AᵀB, b -= r·Σ B", MATMUL_VARIANTS.sgdStep(Rows.direct)],
  ["SGD step over shuffled rows", MATMUL_VARIANTS.sgdStep(Rows.shuffled)],
  ["input gradient (A·Bᵀ) ⊙ [aux > 0]", MATMUL_VARIANTS.inputGrad()],
];

for (const [name, variant] of variants) {
  Deno.test({
    name: `matmul.wgsl ${name}: both schedules match float64 and each other bit for bit`,
    ignore,
    fn: () =>
      withDevice(async (device) => {
        const [tiled, blocked] = [
          await Pipelines.create(device, "tiled"),
          await Pipelines.create(device, "blocked"),
        ];
        for (const [i, shape] of SHAPES.entries()) {
          const fromTiled = await checkMatmul(tiled, variant, shape, 100 * i + 1);
          const fromBlocked = await checkMatmul(blocked, variant, shape, 100 * i + 1);
          assert.deepEqual(fromBlocked, fromTiled, `${name} ${shape}: the schedules differ`);
        }
      }),
  });
}

Deno.test({
  name: "softmax_xent.wgsl: loss sums, correct counts and gradients match float64, both row modes",
  ignore,
  fn: () =>
    withDevice(async (device) => {
      const kernels = await Pipelines.create(device, "tiled");
      for (const [rows, classes, scale] of [[1, 2, 1], [150, 7, 3], [64, 3, 1e4]]) {
        for (const withGrad of [true, false]) {
          const extra = 5, offset = 2;
          const logits = uniformFloats(rows * classes, rows).map((v) => v * scale);
          const rng = new Rng(classes);
          const labels = Uint32Array.from({ length: rows + extra }, () => rng.below(classes));
          const index = Uint32Array.from({ length: rows + extra }, (_, i) => (i * 7 + 3) % (rows + extra));
          const labelOf = (r: number) => withGrad ? labels[index[offset + r]] : labels[offset + r];
          const grad = poisoned(device, rows * classes);
          const metrics = storage(device, new Float32Array([NaN, NaN, 0.5, 0]));
          // Slot 1 starts at (0.5, 0): the kernel must add to it.
          const gradScale = 1 / rows;
          const group = kernels.xentGroup({
            logits: storage(device, logits),
            labels: storage(device, labels),
            rowIndex: storage(device, index),
            grad,
            metrics,
            shape: storage(device, new Uint32Array([classes])),
            step: uniform(device, [offset, rows, 1, { f32: gradScale }]),
          });
          dispatch(device, kernels.softmaxXent(withGrad), group, [1]);
          let loss = 0, correct = 0;
          const wantGrad = new Float64Array(rows * classes);
          for (let r = 0; r < rows; r++) {
            const z = Array.from(logits.subarray(r * classes, (r + 1) * classes));
            const top = Math.max(...z);
            const sum = z.reduce((s, v) => s + Math.exp(v - top), 0);
            const y = labelOf(r);
            loss += Math.log(sum) - (z[y] - top);
            if (z.indexOf(top) === y) correct++;
            z.forEach((v, j) =>
              wantGrad[r * classes + j] = (Math.exp(v - top) / sum - (j === y ? 1 : 0)) * gradScale
            );
          }
          const sums = (await readBuffers(device, [metrics]))[0];
          const gotLoss = new Float32Array(sums, 8, 1)[0] - 0.5;
          assert.ok(
            Math.abs(gotLoss - loss) <= 1e-5 * Math.max(1, loss),
            `${rows}x${classes}: loss ${gotLoss} vs ${loss}`,
          );
          assert.equal(new Uint32Array(sums, 12, 1)[0], correct, "correct count");
          assert.ok(Number.isNaN(new Float32Array(sums, 0, 1)[0]), "slot 0 must be left alone");
          const gotGrad = new Float32Array((await readBuffers(device, [grad]))[0], 0, rows * classes);
          if (withGrad) assert.ok(maxRelativeError(gotGrad, wantGrad) < 1e-5, "gradient");
          else assert.ok(gotGrad.every(Number.isNaN), "evaluation must not write a gradient");
        }
      }
    }),
});
