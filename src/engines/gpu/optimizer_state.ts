/**
 * The GPU engine's optimizer for one layer, for every update but plain SGD (which matmul.wgsl fuses
 * into the gradient's product): the layer's gradient buffer, its resident optimizer state (`m`, `v`)
 * and anchor, the `Params` uniform of `shaders/optimizer.wgsl`, and each part's step count.
 *
 * A part's state starts fresh (zeroed, t = 0) when it starts learning, after `reset` (a new model)
 * or after a phase that froze it, and carries over between phases while it learns: the rule the CPU
 * engine follows too (see `PhaseSpec.optimizer`).
 *
 * @module
 */

import type { Layer } from "../../core/model.ts";
import { decayTerms, type OptimizerSpec, type Penalty } from "../../core/optimizers.ts";
import type { PartRates } from "../../core/recipes.ts";
import { optimizerParams, type Pipelines, RULE_KIND } from "./pipelines.ts";

const { STORAGE, UNIFORM, COPY_DST, COPY_SRC } = GPUBufferUsage;

/** Makes a device buffer the engine owns (and frees with the rest). */
export type MakeBuffer = (bytes: number, usage: number) => GPUBuffer;

/** One layer's optimizer buffers and step counts. */
export class LayerOptimizer {
  /** `[∂W; ∂b]`, (inputs + 1) × outputs floats: what matmul.wgsl's gradient epilogue writes. */
  readonly grad: GPUBuffer;
  readonly #m: GPUBuffer;
  readonly #v: GPUBuffer;
  readonly #anchor: GPUBuffer;
  readonly #params: GPUBuffer;
  /** Steps each part has taken since its state was fresh; null while it is not learning. */
  #counts: { weights: number | null; biases: number | null } = { weights: null, biases: null };
  #anchored: Layer | null = null;
  #idle = true;

  /** Buffers for a layer of `inputs` × `outputs` weights on `device`, made with `make`. */
  constructor(
    readonly device: GPUDevice,
    readonly inputs: number,
    readonly outputs: number,
    make: MakeBuffer,
  ) {
    const bytes = (inputs + 1) * outputs * 4;
    this.grad = make(bytes, STORAGE);
    this.#m = make(bytes, STORAGE | COPY_DST | COPY_SRC); // the fused kernel's copies read them
    this.#v = make(bytes, STORAGE | COPY_DST | COPY_SRC);
    this.#anchor = make(bytes, STORAGE | COPY_DST | COPY_SRC);
    this.#params = make(64, UNIFORM | COPY_DST);
  }

  /** Every buffer this optimizer made, for the engine to free with the layer. */
  buffers(): GPUBuffer[] {
    return [this.grad, this.#m, this.#v, this.#anchor, this.#params];
  }

  /** Forgets every part's state: the next phase starts it fresh. */
  reset(): void {
    this.#counts = { weights: null, biases: null };
  }

  /**
   * Readies a phase: zeroes the state of each part that starts learning, drops that of each part
   * frozen now, copies `anchor` in when the penalty pulls towards it, and writes the `Params`.
   */
  prepare(optimizer: OptimizerSpec, penalty: Penalty, stepSizes: PartRates, anchor: Layer | null): void {
    const weights = this.inputs * this.outputs;
    const fresh = (rate: number, count: number | null, offset: number, length: number) => {
      if (rate === 0) return null;
      if (count !== null) return count;
      for (const state of [this.#m, this.#v]) {
        this.device.queue.writeBuffer(state, offset * 4, new Float32Array(length));
      }
      return 0;
    };
    this.#idle = stepSizes.weights === 0 && stepSizes.biases === 0;
    this.#counts = {
      weights: fresh(stepSizes.weights, this.#counts.weights, 0, weights),
      biases: fresh(stepSizes.biases, this.#counts.biases, weights, this.outputs),
    };
    if (penalty.anchor !== 0 && anchor !== null && anchor !== this.#anchored) {
      this.device.queue.writeBuffer(this.#anchor, 0, anchor.weights);
      this.device.queue.writeBuffer(this.#anchor, weights * 4, anchor.bias);
      this.#anchored = anchor;
    }
    if (penalty.anchor !== 0 && anchor === null) {
      throw new Error("a penalty with an anchor needs the anchor's values");
    }
    const { coupled, decoupled } = decayTerms(optimizer, penalty);
    this.device.queue.writeBuffer(
      this.#params,
      0,
      optimizerParams({
        weights,
        count: weights + this.outputs,
        kind: RULE_KIND[optimizer.name],
        nesterov: optimizer.nesterov,
        rateW: stepSizes.weights,
        rateB: stepSizes.biases,
        mu: optimizer.momentum,
        beta1: optimizer.beta1,
        beta2: optimizer.beta2,
        epsilon: optimizer.epsilon,
        coupled,
        decoupled,
        anchor: penalty.anchor,
        t0W: this.#counts.weights ?? 0,
        t0B: this.#counts.biases ?? 0,
      }),
    );
  }

  /** The moments and the anchor, each laid out `[W; b]`: what the fused kernel copies in and out. */
  get state(): { m: GPUBuffer; v: GPUBuffer; anchor: GPUBuffer } {
    return { m: this.#m, v: this.#v, anchor: this.#anchor };
  }

  /** Steps each part took since its state was fresh (0 for one not learning): its t before this phase. */
  get steps(): { weights: number; biases: number } {
    return { weights: this.#counts.weights ?? 0, biases: this.#counts.biases ?? 0 };
  }

  /** Whether the phase `prepare` readied leaves both parts frozen, so that its dispatch would change nothing. */
  get idle(): boolean {
    return this.#idle;
  }

  /** Counts `steps` more steps for each learning part (after a phase, the steps it submitted). */
  advance(steps: number): void {
    const { weights, biases } = this.#counts;
    this.#counts = {
      weights: weights === null ? null : weights + steps,
      biases: biases === null ? null : biases + steps,
    };
  }

  /** The optimizer dispatch's bind group, on the layer's `weights` and `bias` and the step records. */
  group(pipelines: Pipelines, weights: GPUBuffer, bias: GPUBuffer, step: GPUBuffer): GPUBindGroup {
    return pipelines.optimizerGroup({
      weights,
      bias,
      grad: this.grad,
      m: this.#m,
      v: this.#v,
      anchor: this.#anchor,
      params: this.#params,
      step,
    });
  }

  /** Workgroups of 64 over the layer's (inputs + 1) × outputs parameters. */
  workgroups(): [number, number] {
    return [Math.ceil(((this.inputs + 1) * this.outputs) / 64), 1];
  }
}
