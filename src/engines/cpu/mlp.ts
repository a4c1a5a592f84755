/**
 * Forward and backward passes of the MLP over one minibatch, on preallocated buffers.
 *
 * Forward: `a[0] = X`, `a[l+1] = relu(a[l] W_l + b_l)` for hidden layers, logits without ReLU.
 * Loss: mean softmax cross-entropy, so `dLogits = (softmax − onehot) / rows`.
 * Backward, for layer l from the head down: `dW_l = a[l]ᵀ d[l+1]`, `db_l = Σ_rows d[l+1]`,
 * `d[l] = (d[l+1] W_lᵀ) ⊙ [a[l] > 0]`. It stops at the lowest layer that needs a gradient, and skips
 * `dW`/`db` of layers that do not: a frozen base costs no backward work.
 *
 * @module
 */

import type { GradientPlan } from "../../core/engine.ts";
import { type Floats, type LossSum, type StepKernels, TS_STEP_KERNELS } from "./reference_kernels.ts";

/** The parameters of one layer, in either float width. */
export interface LayerParams {
  /** Width of the layer's input: rows of `weights`. */
  readonly inputs: number;
  /** Width of the layer's output: columns of `weights`, and the length of `bias`. */
  readonly outputs: number;
  /** `inputs × outputs`, row-major. */
  readonly weights: Floats;
  /** `outputs` values. */
  readonly bias: Floats;
}

/** All buffers one minibatch of up to `capacity` rows needs, allocated once. */
export class Workspace {
  /** `activations[0]` is the input batch; `activations[l + 1]` is layer l's output. */
  readonly activations: Floats[];
  /** `deltas[l]` is the loss gradient with respect to `activations[l]` (l ≥ 1). */
  readonly deltas: Floats[];
  /** `weightGrads[l]` is layer l's `inputs × outputs` weight gradient; {@linkcode backward} fills it. */
  readonly weightGrads: Floats[];
  /** `biasGrads[l]` is layer l's `outputs`-long bias gradient; {@linkcode backward} fills it. */
  readonly biasGrads: Floats[];
  /** The batch's labels, gathered alongside the input rows (in the arena, for kernels that need that). */
  readonly labels: Uint32Array;

  /** Sizes every buffer for `capacity` rows of a model with these layer widths. */
  constructor(readonly widths: readonly number[], readonly capacity: number, alloc: (n: number) => Floats) {
    this.activations = widths.map((w) => alloc(capacity * w));
    this.deltas = widths.map((w, l) => alloc(l === 0 ? 0 : capacity * w));
    this.weightGrads = widths.slice(1).map((w, l) => alloc(widths[l] * w));
    this.biasGrads = widths.slice(1).map((w) => alloc(w));
    const labels = alloc(capacity);
    this.labels = new Uint32Array(labels.buffer, labels.byteOffset, capacity);
  }
}

/** Runs `rows` rows of `ws.activations[0]` through the model; the logits end in the last activation. */
export function forward(
  ws: Workspace,
  model: readonly LayerParams[],
  rows: number,
  kernels: StepKernels = TS_STEP_KERNELS,
): void {
  const last = model.length - 1;
  model.forEach((layer, l) => {
    const { inputs, outputs, weights, bias } = layer;
    kernels.linear(ws.activations[l], weights, bias, ws.activations[l + 1], rows, inputs, outputs, l < last);
  });
}

/**
 * The mean loss's gradients after {@linkcode forward}: fills `ws.weightGrads[l]` and
 * `ws.biasGrads[l]` for every layer that `plan` says learns, and touches no other layer's buffers.
 * `lossSum` receives the batch's summed loss and correct count.
 */
export function backward(
  ws: Workspace,
  model: readonly LayerParams[],
  rows: number,
  plan: GradientPlan,
  lossSum: LossSum,
  kernels: StepKernels = TS_STEP_KERNELS,
): void {
  const depth = model.length;
  const { learns, lowest } = plan;
  kernels.softmaxCrossEntropy(
    ws.activations[depth],
    ws.labels,
    rows,
    model[depth - 1].outputs,
    lowest < 0 ? null : ws.deltas[depth],
    1 / rows,
    lossSum,
  );
  if (lowest < 0) return;
  for (let l = depth - 1; l >= lowest; l--) {
    const { inputs, outputs, weights } = model[l];
    const delta = ws.deltas[l + 1];
    if (learns[l]) {
      kernels.matmulTransA(ws.activations[l], delta, ws.weightGrads[l], rows, inputs, outputs);
      kernels.columnSums(delta, ws.biasGrads[l], rows, outputs);
    }
    if (l > lowest) {
      kernels.matmulTransB(delta, weights, ws.deltas[l], rows, outputs, inputs);
      kernels.reluBackward(ws.deltas[l], ws.activations[l], rows * inputs);
    }
  }
}
