/** The CPU kernels against float64 textbook references, on awkward shapes, outputs poisoned first. */

import assert from "node:assert/strict";
import {
  addBias,
  columnSums,
  matmul,
  matmulTransA,
  matmulTransB,
  reluBackward,
  softmaxCrossEntropy,
} from "../../../src/engines/cpu/reference_kernels.ts";
import { maxRelativeError, randomFloats, referenceProduct } from "../../helpers/helpers.ts";

const SHAPES: [number, number, number][] = [[1, 1, 1], [4, 4, 4], [5, 3, 7], [37, 53, 29], [129, 65, 33]];

function poisoned(count: number): Float32Array {
  return new Float32Array(count).fill(NaN);
}

Deno.test("matmul: C = A·B matches float64 for awkward shapes", () => {
  for (const [m, k, n] of SHAPES) {
    const a = randomFloats(m * k, 1), b = randomFloats(k * n, 2), c = poisoned(m * n);
    matmul(a, b, c, m, k, n);
    const want = referenceProduct(a, b, m, k, n, (i, p) => i * k + p, (p, j) => p * n + j);
    assert.ok(maxRelativeError(c, want) < 1e-5, `${m}x${k}x${n}: ${maxRelativeError(c, want)}`);
  }
});

Deno.test("matmulTransA: C = Aᵀ·B matches float64 for awkward shapes", () => {
  for (const [m, k, n] of SHAPES) {
    // A is m×k, B is m×n, C is k×n: reduce over the m rows.
    const a = randomFloats(m * k, 3), b = randomFloats(m * n, 4), c = poisoned(k * n);
    matmulTransA(a, b, c, m, k, n);
    const want = referenceProduct(a, b, k, m, n, (i, p) => p * k + i, (p, j) => p * n + j);
    assert.ok(maxRelativeError(c, want) < 1e-5, `${m}x${k}x${n}: ${maxRelativeError(c, want)}`);
  }
});

Deno.test("matmulTransB: C = A·Bᵀ matches float64 for awkward shapes", () => {
  for (const [m, n, k] of SHAPES) {
    // A is m×n, B is k×n, C is m×k.
    const a = randomFloats(m * n, 5), b = randomFloats(k * n, 6), c = poisoned(m * k);
    matmulTransB(a, b, c, m, n, k);
    const want = referenceProduct(a, b, m, n, k, (i, p) => i * n + p, (p, j) => j * n + p);
    assert.ok(maxRelativeError(c, want) < 1e-5, `${m}x${n}x${k}: ${maxRelativeError(c, want)}`);
  }
});

Deno.test("addBias with and without ReLU, reluBackward and columnSums", () => {
  const m = 7, n = 5;
  const z = randomFloats(m * n, 7), bias = randomFloats(n, 8);
  const linear = z.slice(), rectified = z.slice();
  addBias(linear, bias, m, n, false);
  addBias(rectified, bias, m, n, true);
  for (let i = 0; i < m * n; i++) {
    const want = z[i] + bias[i % n];
    assert.equal(linear[i], Math.fround(want));
    assert.equal(rectified[i], Math.fround(Math.max(0, want)));
  }
  const grad = randomFloats(m * n, 9), masked = grad.slice();
  reluBackward(masked, rectified, m * n);
  for (let i = 0; i < m * n; i++) assert.equal(masked[i], rectified[i] > 0 ? grad[i] : 0);
  const sums = poisoned(n);
  columnSums(grad, sums, m, n);
  for (let j = 0; j < n; j++) {
    let want = 0;
    for (let i = 0; i < m; i++) want += grad[i * n + j];
    assert.ok(Math.abs(sums[j] - want) < 1e-5, `column ${j}`);
  }
});

Deno.test("softmax cross-entropy: loss, gradient and correct count match float64", () => {
  const m = 9, n = 4;
  const logits = randomFloats(m * n, 10).map((v) => 3 * v);
  const labels = Uint32Array.from({ length: m }, (_, i) => (i * 7) % n);
  const grad = poisoned(m * n);
  const sum = { loss: 0, correct: 0 };
  softmaxCrossEntropy(logits, labels, m, n, grad, 1 / m, sum);
  let loss = 0, correct = 0;
  for (let i = 0; i < m; i++) {
    const row = Array.from(logits.subarray(i * n, (i + 1) * n));
    const denominator = row.reduce((s, z) => s + Math.exp(z), 0);
    loss += -Math.log(Math.exp(row[labels[i]]) / denominator);
    if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
    for (let j = 0; j < n; j++) {
      const want = (Math.exp(row[j]) / denominator - (j === labels[i] ? 1 : 0)) / m;
      assert.ok(Math.abs(grad[i * n + j] - want) < 1e-7, `grad ${i},${j}`);
    }
  }
  assert.ok(Math.abs(sum.loss - loss) < 1e-9 * m);
  assert.equal(sum.correct, correct);
});

Deno.test("softmax cross-entropy is finite and exact for logits of magnitude 1e4", () => {
  const logits = new Float32Array([1e4, -1e4, 0, 1e4, 1e4 - 1, -1e4]);
  const labels = new Uint32Array([1, 1]);
  const grad = poisoned(6);
  const sum = { loss: 0, correct: 0 };
  softmaxCrossEntropy(logits, labels, 2, 3, grad, 1, sum);
  // Row 0: log-sum-exp is 1e4 (the other terms underflow), minus z_1 = -1e4.
  // Row 1: log(e^0 + e^-1 + e^-2e4) + 1 = log1p(e^-1) + 1, taken relative to the max.
  const want = 2e4 + Math.log1p(Math.exp(-1)) + 1;
  assert.ok(Number.isFinite(sum.loss));
  assert.ok(Math.abs(sum.loss - want) < 1e-9 * want, `${sum.loss} vs ${want}`);
  assert.ok(grad.every(Number.isFinite));
  assert.ok(Math.abs(grad[0] + grad[1] + grad[2]) < 1e-7, "a row's gradient sums to zero");
  assert.ok(Math.abs(grad[0] - 1) < 1e-7 && Math.abs(grad[1] + 1) < 1e-7);
});
