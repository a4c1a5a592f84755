/**
 * Every WGSL kernel against a float64 reference on awkward sizes, outputs poisoned with NaN first.
 * Runs on whatever adapter WebGPU gives (Mesa's llvmpipe in CI).
 */

import assert from "node:assert/strict";
import { Epilogue, MATMUL_TILE, MATMUL_VARIANTS, type MatmulVariant, Rows } from "../src/gpu/kernels.ts";
import { Rng } from "../src/rng.ts";
import { dispatch, gpuForTests, poisoned, readBack, storage, uniform } from "./gpu_helpers.ts";
import { maxRelativeError } from "./helpers.ts";

const gpu = await gpuForTests();
const ignore = gpu === null;
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

/** Checks one matmul variant with op(A) m×k, op(B) k×n, against float64. */
async function checkMatmul(variant: MatmulVariant, m: number, k: number, n: number, seed: number) {
  const { device } = gpu!.context;
  const batch = variant.batchIsK ? k : m;
  const storedRows = variant.transA ? k : m;
  const extraRows = variant.aRows === Rows.direct ? 0 : 7; // a dataset larger than the batch
  const aCols = variant.transA ? m : k;
  const a = uniformFloats((storedRows + extraRows) * aCols, seed);
  const b = uniformFloats(k * n, seed + 1);
  const aux = uniformFloats(variant.epilogue === Epilogue.reluMask ? m * n : n, seed + 2);
  const offset = extraRows === 0 ? 0 : 3;
  const index = new Uint32Array(storedRows + extraRows);
  index.forEach((_, i) => index[i] = i);
  new Rng(seed + 3).shuffle(index);
  const row = rowMap(variant, offset, index);
  const opA = (i: number, p: number) => variant.transA ? a[row(p) * m + i] : a[row(i) * k + p];
  const opB = (p: number, j: number) => variant.transB ? b[j * k + p] : b[p * n + j];
  const want = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += opA(i, p) * opB(p, j);
      if (variant.epilogue === Epilogue.bias) sum += aux[j];
      if (variant.epilogue === Epilogue.biasRelu) sum = Math.max(0, sum + aux[j]);
      if (variant.epilogue === Epilogue.reluMask && !(aux[i * n + j] > 0)) sum = 0;
      want[i * n + j] = sum;
    }
  }
  const c = poisoned(device, m * n);
  const { kernels } = gpu!;
  const group = kernels.bindGroup(kernels.layouts.matmul, [
    storage(device, a),
    storage(device, b),
    c,
    storage(device, aux),
    storage(device, index),
    uniform(device, [variant.batchIsK ? m : 0, n, variant.batchIsK ? 0 : k]),
    uniform(device, [offset, batch, 0, { f32: 0 }]),
  ], 6);
  dispatch(device, kernels.matmul(variant), group, [Math.ceil(n / MATMUL_TILE), Math.ceil(m / MATMUL_TILE)]);
  const got = new Float32Array(await readBack(device, c), 0, m * n);
  const error = maxRelativeError(got, want);
  assert.ok(error < 1e-5, `${JSON.stringify(variant)} ${m}x${k}x${n}: relative error ${error}`);
}

const variants: [string, MatmulVariant][] = [
  ["forward, hidden (bias + ReLU), direct rows", MATMUL_VARIANTS.forward(Rows.direct, true)],
  ["forward, head (bias), direct rows", MATMUL_VARIANTS.forward(Rows.direct, false)],
  ["forward, hidden, rows from a dataset chunk", MATMUL_VARIANTS.forward(Rows.chunk, true)],
  ["forward, head, rows from a dataset chunk", MATMUL_VARIANTS.forward(Rows.chunk, false)],
  ["forward, hidden, shuffled rows gathered by index", MATMUL_VARIANTS.forward(Rows.shuffled, true)],
  ["forward, head, shuffled rows gathered by index", MATMUL_VARIANTS.forward(Rows.shuffled, false)],
  ["weight gradient Aᵀ·B", MATMUL_VARIANTS.weightGrad(Rows.direct)],
  ["weight gradient Aᵀ·B over shuffled rows", MATMUL_VARIANTS.weightGrad(Rows.shuffled)],
  ["input gradient (A·Bᵀ) ⊙ [aux > 0]", MATMUL_VARIANTS.inputGrad()],
];

for (const [name, variant] of variants) {
  Deno.test({
    name: `matmul.wgsl ${name} matches float64`,
    ignore,
    fn: async () => {
      for (const [i, [m, k, n]] of SHAPES.entries()) await checkMatmul(variant, m, k, n, 100 * i + 1);
    },
  });
}

Deno.test({
  name: "softmax_xent.wgsl: loss sums, correct counts and gradients match float64, both row modes",
  ignore,
  fn: async () => {
    const { device } = gpu!.context;
    const { kernels } = gpu!;
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
        new Uint32Array(1); // slot 1 starts at (0.5, 0): the kernel must add to it
        const gradScale = 1 / rows;
        const group = kernels.bindGroup(kernels.layouts.xent, [
          storage(device, logits),
          storage(device, labels),
          storage(device, index),
          grad,
          metrics,
          uniform(device, [classes]),
          uniform(device, [offset, rows, 1, { f32: gradScale }]),
        ], 6);
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
        const sums = await readBack(device, metrics);
        const gotLoss = new Float32Array(sums, 8, 1)[0] - 0.5;
        assert.ok(
          Math.abs(gotLoss - loss) <= 1e-5 * Math.max(1, loss),
          `${rows}x${classes}: loss ${gotLoss} vs ${loss}`,
        );
        assert.equal(new Uint32Array(sums, 12, 1)[0], correct, "correct count");
        assert.ok(Number.isNaN(new Float32Array(sums, 0, 1)[0]), "slot 0 must be left alone");
        const gotGrad = new Float32Array(await readBack(device, grad), 0, rows * classes);
        if (withGrad) assert.ok(maxRelativeError(gotGrad, wantGrad) < 1e-5, "gradient");
        else assert.ok(gotGrad.every(Number.isNaN), "evaluation must not write a gradient");
      }
    }
  },
});

Deno.test({
  name: "column_sums.wgsl: bias gradients match float64 for tall and wide matrices",
  ignore,
  fn: async () => {
    const { device } = gpu!.context;
    const { kernels } = gpu!;
    for (const [rows, n] of [[1, 1], [37, 17], [300, 65], [1024, 3]]) {
      const g = uniformFloats(rows * n, rows + n);
      const out = poisoned(device, n);
      const group = kernels.bindGroup(kernels.layouts.columnSums, [
        storage(device, g),
        out,
        uniform(device, [n]),
        uniform(device, [0, rows, 0, { f32: 0 }]),
      ], 3);
      dispatch(device, kernels.columnSums, group, [Math.ceil(n / 16)]);
      const want = Array.from({ length: n }, (_, j) => {
        let s = 0;
        for (let r = 0; r < rows; r++) s += g[r * n + j];
        return s;
      });
      const got = new Float32Array(await readBack(device, out), 0, n);
      assert.ok(maxRelativeError(got, want) < 1e-5, `${rows}x${n}: ${maxRelativeError(got, want)}`);
    }
  },
});

Deno.test({
  name: "sgd_update.wgsl: w -= rate · scale · g for every weight and bias, nothing past the end",
  ignore,
  fn: async () => {
    const { device } = gpu!.context;
    const { kernels } = gpu!;
    const weights = 37 * 29, biases = 29;
    const w = uniformFloats(weights + 3, 1), gw = uniformFloats(weights, 2);
    const b = uniformFloats(biases + 3, 3), gb = uniformFloats(biases, 4);
    const [wBuffer, bBuffer] = [storage(device, w), storage(device, b)];
    const [rate, scale] = [0.05, 0.1];
    const group = kernels.bindGroup(kernels.layouts.update, [
      wBuffer,
      storage(device, gw),
      bBuffer,
      storage(device, gb),
      uniform(device, [{ f32: rate }, { f32: scale }, weights, biases]),
    ]);
    dispatch(device, kernels.update, group, [Math.ceil((weights + biases) / 256)], false);
    const step = Math.fround(Math.fround(rate) * Math.fround(scale));
    const check = (got: Float32Array, before: Float32Array, g: Float32Array, count: number) => {
      for (let i = 0; i < before.length; i++) {
        const want = i < count ? before[i] - step * g[i] : before[i];
        assert.ok(Math.abs(got[i] - want) <= 1e-7, `element ${i}: ${got[i]} vs ${want}`);
      }
    };
    check(new Float32Array(await readBack(device, wBuffer), 0, w.length), w, gw, weights);
    check(new Float32Array(await readBack(device, bBuffer), 0, b.length), b, gb, biases);
  },
});
