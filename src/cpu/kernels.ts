/**
 * The CPU engine's kernels: plain TypeScript loops over row-major arrays.
 *
 * Every kernel takes `Float32Array` (training) or `Float64Array` (the tests' float64 reference),
 * writes into a caller-owned output and allocates nothing. The matrix products are blocked four
 * output rows at a time, so each loaded value of the other operand is used four times.
 *
 * @module
 */

/** The array types the kernels run on. */
export type Floats = Float32Array | Float64Array;

/** `C[m×n] = A[m×k] · B[k×n]`: the forward product `X W`. */
export function matmul(a: Floats, b: Floats, c: Floats, m: number, k: number, n: number): void {
  c.fill(0, 0, m * n);
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const c0 = i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
    for (let p = 0; p < k; p++) {
      const a0 = a[i * k + p], a1 = a[(i + 1) * k + p], a2 = a[(i + 2) * k + p], a3 = a[(i + 3) * k + p];
      const bRow = p * n;
      for (let j = 0; j < n; j++) {
        const bv = b[bRow + j];
        c[c0 + j] += a0 * bv;
        c[c1 + j] += a1 * bv;
        c[c2 + j] += a2 * bv;
        c[c3 + j] += a3 * bv;
      }
    }
  }
  for (; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += av * b[p * n + j];
    }
  }
}

/** `C[k×n] = Aᵀ · B` with `A[m×k]`, `B[m×n]`: the weight gradient `Xᵀ dY`. */
export function matmulTransA(a: Floats, b: Floats, c: Floats, m: number, k: number, n: number): void {
  c.fill(0, 0, k * n);
  let p = 0;
  for (; p + 4 <= k; p += 4) {
    const c0 = p * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
    for (let i = 0; i < m; i++) {
      const aRow = i * k + p;
      const a0 = a[aRow], a1 = a[aRow + 1], a2 = a[aRow + 2], a3 = a[aRow + 3];
      const bRow = i * n;
      for (let j = 0; j < n; j++) {
        const bv = b[bRow + j];
        c[c0 + j] += a0 * bv;
        c[c1 + j] += a1 * bv;
        c[c2 + j] += a2 * bv;
        c[c3 + j] += a3 * bv;
      }
    }
  }
  for (; p < k; p++) {
    for (let i = 0; i < m; i++) {
      const av = a[i * k + p];
      for (let j = 0; j < n; j++) c[p * n + j] += av * b[i * n + j];
    }
  }
}

/** `C[m×k] = A · Bᵀ` with `A[m×n]`, `B[k×n]`: the input gradient `dY Wᵀ`. */
export function matmulTransB(a: Floats, b: Floats, c: Floats, m: number, n: number, k: number): void {
  for (let i = 0; i < m; i++) {
    const aRow = i * n;
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const b0 = p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < n; j++) {
        const av = a[aRow + j];
        s0 += av * b[b0 + j];
        s1 += av * b[b1 + j];
        s2 += av * b[b2 + j];
        s3 += av * b[b3 + j];
      }
      c[i * k + p] = s0;
      c[i * k + p + 1] = s1;
      c[i * k + p + 2] = s2;
      c[i * k + p + 3] = s3;
    }
    for (; p < k; p++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[aRow + j] * b[p * n + j];
      c[i * k + p] = s;
    }
  }
}

/** `Z[i][j] += b[j]`, then `Z = max(Z, 0)` when `relu`: a hidden layer's bias and activation. */
export function addBias(z: Floats, bias: Floats, m: number, n: number, relu: boolean): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const v = z[i * n + j] + bias[j];
      z[i * n + j] = relu && v < 0 ? 0 : v;
    }
  }
}

/** `dZ[i] = 0` where the ReLU output `Y[i]` was 0: the gradient through `Y = max(Z, 0)`. */
export function reluBackward(grad: Floats, activation: Floats, count: number): void {
  for (let i = 0; i < count; i++) if (activation[i] <= 0) grad[i] = 0;
}

/** `out[j] = Σ_i G[i][j]`: the bias gradient. */
export function columnSums(g: Floats, out: Floats, m: number, n: number): void {
  out.fill(0, 0, n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j] += g[i * n + j];
}

/** `w -= rate · g`: one SGD step. */
export function sgdStep(w: Floats, g: Floats, rate: number): void {
  for (let i = 0; i < w.length; i++) w[i] -= rate * g[i];
}

/** A batch's summed loss and number of rows whose largest logit is the label. */
export interface LossSum {
  loss: number;
  correct: number;
}

/**
 * Softmax cross-entropy over `m` rows of `n` logits, stable for any logit magnitude:
 * `loss_i = log Σ_j exp(z_ij − max_i) − (z_iy − max_i)`. When `grad` is given it receives
 * `(softmax(z_i) − onehot(y_i)) · gradScale`, the gradient of `gradScale · Σ_i loss_i`.
 */
export function softmaxCrossEntropy(
  logits: Floats,
  labels: Uint32Array,
  labelOffset: number,
  m: number,
  n: number,
  grad: Floats | null,
  gradScale: number,
  into: LossSum,
): void {
  into.loss = 0;
  into.correct = 0;
  for (let i = 0; i < m; i++) {
    const row = i * n;
    let best = 0;
    for (let j = 1; j < n; j++) if (logits[row + j] > logits[row + best]) best = j;
    const max = logits[row + best];
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(logits[row + j] - max);
    const label = labels[labelOffset + i];
    into.loss += Math.log(sum) - (logits[row + label] - max);
    if (best === label) into.correct++;
    if (grad === null) continue;
    for (let j = 0; j < n; j++) {
      const p = Math.exp(logits[row + j] - max) / sum;
      grad[row + j] = (p - (j === label ? 1 : 0)) * gradScale;
    }
  }
}

/** Copies rows `order[from..from+count)` of `src` (rows of `width`) into `dst`, packed. */
export function gatherRows(
  src: Floats,
  order: Uint32Array,
  from: number,
  count: number,
  width: number,
  dst: Floats,
): void {
  for (let r = 0; r < count; r++) {
    const at = order[from + r] * width;
    dst.set(src.subarray(at, at + width), r * width);
  }
}
