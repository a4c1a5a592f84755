/**
 * The CPU engine's optimizer step (see `core/optimizers.ts` for the rules): one part's update in
 * float64 per element, each stored value rounded to float32, with the part's state beside it. Plain
 * SGD goes through the kernel set's `sgdStep` instead, which both kernel sets make fast.
 *
 * @module
 */

import { decayTerms, type OptimizerSpec, type Penalty } from "../../core/optimizers.ts";
import type { Floats } from "./reference_kernels.ts";

/** The optimizer state of one part (weights or biases of a layer). */
export interface PartState {
  /** First moment (adam) or velocity (momentum); zeros when fresh. */
  readonly m: Float32Array;
  /** Second moment (adam); zeros when fresh. */
  readonly v: Float32Array;
  /** Steps taken since the state was fresh. */
  t: number;
}

/** Fresh (zero) state for a part of `count` values. */
export function freshState(count: number): PartState {
  return { m: new Float32Array(count), v: new Float32Array(count), t: 0 };
}

/**
 * One step of `optimizer` on a part: `w` (updated in place) with gradient `g`, step size `rate`,
 * `penalty` towards `anchor` (the pretrained values; unread when `penalty.anchor` is 0), and `state`
 * (advanced in place).
 */
export function optimizerStep(
  optimizer: OptimizerSpec,
  penalty: Penalty,
  w: Floats,
  g: Floats,
  anchor: Floats | null,
  rate: number,
  state: PartState,
): void {
  const { name, momentum: mu, beta1, beta2, epsilon } = optimizer;
  const { coupled, decoupled } = decayTerms(optimizer, penalty);
  if (penalty.anchor !== 0 && anchor === null) {
    throw new Error("a penalty with an anchor needs the anchor's values");
  }
  const t = ++state.t;
  const [correct1, correct2] = [1 - beta1 ** t, 1 - beta2 ** t];
  const { m, v } = state;
  for (let i = 0; i < w.length; i++) {
    const wi = w[i];
    let gi = g[i] + coupled * wi;
    if (penalty.anchor !== 0) gi += penalty.anchor * (wi - anchor![i]);
    if (name === "sgd") {
      w[i] = wi - rate * gi;
    } else if (name === "momentum") {
      m[i] = mu * m[i] + gi;
      w[i] = wi - rate * (optimizer.nesterov ? gi + mu * m[i] : m[i]);
    } else {
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      w[i] = wi - rate * decoupled * wi - rate * (m[i] / correct1) / (Math.sqrt(v[i] / correct2) + epsilon);
    }
  }
}
