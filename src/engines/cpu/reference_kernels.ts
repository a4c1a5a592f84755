/**
 * The CPU engine's kernels: plain TypeScript loops over row-major arrays.
 *
 * Every kernel takes `Float32Array` (training) or `Float64Array` (the tests' float64 reference),
 * writes into a caller-owned output and allocates nothing. The three matrix products are one
 * register-blocked kernel, {@linkcode gemm}, read through different strides.
 *
 * @module
 */

/** The array types the kernels run on. */
export type Floats = Float32Array | Float64Array;

/**
 * `C[m×n] = A · B` where element (i, p) of A is `a[i·aRow + p·aCol]` and element (p, j) of B is
 * `b[p·bRow + j·bCol]`: strides express the transposed forms without copying. Each 4×4 block of C
 * is summed in sixteen locals over the whole of k, so every loaded value serves four products and
 * C is written once; edge rows and columns take a plain loop.
 */
export function gemm(
  a: Floats,
  aRow: number,
  aCol: number,
  b: Floats,
  bRow: number,
  bCol: number,
  c: Floats,
  m: number,
  k: number,
  n: number,
): void {
  const m4 = m - (m % 4), n4 = n - (n % 4);
  for (let i = 0; i < m4; i += 4) {
    const r0 = i * aRow, r1 = r0 + aRow, r2 = r1 + aRow, r3 = r2 + aRow;
    for (let j = 0; j < n4; j += 4) {
      const s0 = j * bCol, s1 = s0 + bCol, s2 = s1 + bCol, s3 = s2 + bCol;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let p = 0; p < k; p++) {
        const ap = p * aCol, bp = p * bRow;
        const a0 = a[r0 + ap], a1 = a[r1 + ap], a2 = a[r2 + ap], a3 = a[r3 + ap];
        const b0 = b[bp + s0], b1 = b[bp + s1], b2 = b[bp + s2], b3 = b[bp + s3];
        c00 += a0 * b0, c01 += a0 * b1, c02 += a0 * b2, c03 += a0 * b3;
        c10 += a1 * b0, c11 += a1 * b1, c12 += a1 * b2, c13 += a1 * b3;
        c20 += a2 * b0, c21 += a2 * b1, c22 += a2 * b2, c23 += a2 * b3;
        c30 += a3 * b0, c31 += a3 * b1, c32 += a3 * b2, c33 += a3 * b3;
      }
      const o0 = i * n + j, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
      c[o0] = c00, c[o0 + 1] = c01, c[o0 + 2] = c02, c[o0 + 3] = c03;
      c[o1] = c10, c[o1 + 1] = c11, c[o1 + 2] = c12, c[o1 + 3] = c13;
      c[o2] = c20, c[o2 + 1] = c21, c[o2 + 2] = c22, c[o2 + 3] = c23;
      c[o3] = c30, c[o3 + 1] = c31, c[o3 + 2] = c32, c[o3 + 3] = c33;
    }
  }
  for (let i = 0; i < m; i++) {
    for (let j = i < m4 ? n4 : 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[i * aRow + p * aCol] * b[p * bRow + j * bCol];
      c[i * n + j] = sum;
    }
  }
}

/** `C[m×n] = A[m×k] · B[k×n]`: the forward product `X W`. */
export function matmul(a: Floats, b: Floats, c: Floats, m: number, k: number, n: number): void {
  gemm(a, k, 1, b, n, 1, c, m, k, n);
}

/** `C[k×n] = Aᵀ · B` with `A[m×k]`, `B[m×n]`: the weight gradient `Xᵀ dY`. */
export function matmulTransA(a: Floats, b: Floats, c: Floats, m: number, k: number, n: number): void {
  gemm(a, 1, k, b, n, 1, c, k, m, n);
}

/** `C[m×k] = A · Bᵀ` with `A[m×n]`, `B[k×n]`: the input gradient `dY Wᵀ`. */
export function matmulTransB(a: Floats, b: Floats, c: Floats, m: number, n: number, k: number): void {
  gemm(a, n, 1, b, 1, n, c, m, n, k);
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

/**
 * `Y = X · W + b`, then `Y = max(Y, 0)` when `relu`: a layer's forward pass, {@linkcode matmul} then
 * {@linkcode addBias} (the WebAssembly kernels add the bias in the product's epilogue instead).
 */
export function linear(
  x: Floats,
  w: Floats,
  bias: Floats,
  out: Floats,
  m: number,
  k: number,
  n: number,
  relu: boolean,
): void {
  matmul(x, w, out, m, k, n);
  addBias(out, bias, m, n, relu);
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
  /** Cross-entropy summed over the batch's rows, in nats; each call overwrites it. */
  loss: number;
  /** Rows whose largest logit (the first, on ties) is the label; each call overwrites it. */
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
    const label = labels[i];
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

/**
 * Every operation of a training step, so that another implementation (the WebAssembly kernels) can
 * stand in for the TypeScript ones above on arrays it owns.
 */
export interface StepKernels {
  /** `C[m×n] = A[m×k] · B[k×n]`, the forward product (see {@linkcode matmul}). */
  readonly matmul: typeof matmul;
  /** `C[k×n] = Aᵀ · B` with `A[m×k]`, `B[m×n]`, the weight gradient (see {@linkcode matmulTransA}). */
  readonly matmulTransA: typeof matmulTransA;
  /** `C[m×k] = A · Bᵀ` with `A[m×n]`, `B[k×n]`, the input gradient (see {@linkcode matmulTransB}). */
  readonly matmulTransB: typeof matmulTransB;
  /** `out[m×n] = X · W + b`, then ReLU when asked: a layer's forward pass (see {@linkcode linear}). */
  readonly linear: typeof linear;
  /** Zeroes the gradient in place where the ReLU output was 0 (see {@linkcode reluBackward}). */
  readonly reluBackward: typeof reluBackward;
  /** Sums `G[m×n]` over its rows into `n` values, the bias gradient (see {@linkcode columnSums}). */
  readonly columnSums: typeof columnSums;
  /** `w -= rate · g` in place over all of `w` (see {@linkcode sgdStep}). */
  readonly sgdStep: typeof sgdStep;
  /**
   * The summed loss and correct count of `m` rows into a {@linkcode LossSum}, and the scaled gradient
   * when given an array for it (see {@linkcode softmaxCrossEntropy}).
   */
  readonly softmaxCrossEntropy: typeof softmaxCrossEntropy;
}

/** The TypeScript kernels: the readable reference, for any array. */
export const TS_STEP_KERNELS: StepKernels = {
  matmul,
  matmulTransA,
  matmulTransB,
  linear,
  reluBackward,
  columnSums,
  sgdStep,
  softmaxCrossEntropy,
};
