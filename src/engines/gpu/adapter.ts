/**
 * A LoRA adapter on one layer of the GPU engine (the maths of the CPU engine's `adapter.ts`): W₀ and
 * the factors A (inputs × rank) and B (rank × outputs) resident on the device, each factor with an
 * optimizer of its own (`optimizer_state.ts`). A step, after the layer's weight gradient G is in its
 * optimizer's gradient buffer, is five dispatches:
 *
 *     ∂A = s · G Bᵀ     ∂B = s · Aᵀ G      (matmul.wgsl's scaled epilogue, static shapes)
 *     A, B ← optimizer  (optimizer.wgsl, once per factor)
 *     W = W₀ + s · A B  (matmul.wgsl's merge epilogue)
 *
 * @module
 */

import { NO_PENALTY, type OptimizerSpec } from "../../core/optimizers.ts";
import type { Adapter } from "../../core/recipes.ts";
import { LayerOptimizer, type MakeBuffer } from "./optimizer_state.ts";
import {
  MATMUL_VARIANTS,
  matmulDims,
  type MatmulVariant,
  matmulWorkgroups,
  type Pipelines,
} from "./pipelines.ts";

const { STORAGE, UNIFORM, COPY_DST, COPY_SRC } = GPUBufferUsage;

/** One dispatch an adapter records: what runs, on which bind group, over how many workgroups. */
export interface AdapterDispatch {
  /** A matmul variant or the optimizer. */
  readonly pipeline: GPUComputePipeline;
  /** Its bind group, whose step binding the caller offsets. */
  readonly group: GPUBindGroup;
  /** Workgroup counts. */
  readonly workgroups: readonly [number, number];
}

/** A layer's adapter as the fused kernel packs it (`fused_mlp.ts`). */
export interface AdapterResidence {
  /** r. */
  readonly rank: number;
  /** s = α / r. */
  readonly scale: number;
  /** The frozen weights W₀, inputs × outputs. */
  readonly w0: GPUBuffer;
  /** A, inputs × r. */
  readonly a: GPUBuffer;
  /** B, r × outputs. */
  readonly b: GPUBuffer;
  /** A's moments (laid out as A, from 0). */
  readonly stateA: { readonly m: GPUBuffer; readonly v: GPUBuffer };
  /** B's moments. */
  readonly stateB: { readonly m: GPUBuffer; readonly v: GPUBuffer };
  /** Steps the factors took since their state was fresh. */
  readonly steps: number;
}

/** One layer's adapter buffers, and its factors' optimizers. */
export class GpuAdapter {
  readonly #w0: GPUBuffer;
  readonly #a: GPUBuffer;
  readonly #b: GPUBuffer;
  /** Bound where the optimizer expects a bias: the factors have none, so it is never written. */
  readonly #noBias: GPUBuffer;
  readonly #dims: { gradA: GPUBuffer; gradB: GPUBuffer; merge: GPUBuffer };
  readonly #optimizerA: LayerOptimizer;
  readonly #optimizerB: LayerOptimizer;
  /** Whether the phase `prepare` readied freezes the factors. */
  #frozen = false;

  /**
   * Buffers for `source` on a layer of `inputs` × `outputs` whose weights are `weights`: W₀ is
   * copied from them (on the device), the factors from the source.
   */
  constructor(
    readonly device: GPUDevice,
    readonly source: Adapter,
    readonly inputs: number,
    readonly outputs: number,
    weights: GPUBuffer,
    make: MakeBuffer,
  ) {
    const { rank, scale } = source;
    const filled = (values: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>, usage: number) => {
      const buffer = make(values.byteLength, usage | COPY_DST);
      device.queue.writeBuffer(buffer, 0, values);
      return buffer;
    };
    this.#w0 = make(inputs * outputs * 4, STORAGE | COPY_DST | COPY_SRC); // the fused kernel copies them
    this.#a = filled(Float32Array.from(source.a), STORAGE | COPY_SRC);
    this.#b = filled(Float32Array.from(source.b), STORAGE | COPY_SRC);
    this.#noBias = make(16, STORAGE);
    this.#dims = {
      gradA: filled(matmulDims(inputs, rank, outputs, scale), UNIFORM),
      gradB: filled(matmulDims(rank, outputs, inputs, scale), UNIFORM),
      merge: filled(matmulDims(inputs, outputs, rank, scale), UNIFORM),
    };
    this.#optimizerA = new LayerOptimizer(device, inputs, rank, make);
    this.#optimizerB = new LayerOptimizer(device, rank, outputs, make);
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(weights, 0, this.#w0, 0, inputs * outputs * 4);
    device.queue.submit([encoder.finish()]);
  }

  /** Every buffer this adapter made, for the engine to free. */
  buffers(): GPUBuffer[] {
    return [
      this.#w0,
      this.#a,
      this.#b,
      this.#noBias,
      ...Object.values(this.#dims),
      ...this.#optimizerA.buffers(),
      ...this.#optimizerB.buffers(),
    ];
  }

  /** W₀, the factors and their state, for the fused kernel's copies (`steps`: the factors' t so far). */
  get residence(): AdapterResidence {
    return {
      rank: this.source.rank,
      scale: this.source.scale,
      w0: this.#w0,
      a: this.#a,
      b: this.#b,
      stateA: this.#optimizerA.state,
      stateB: this.#optimizerB.state,
      steps: this.#optimizerA.steps.weights,
    };
  }

  /** Readies a phase whose factors learn at step size `rate` (0 freezes them) under `optimizer`. */
  prepare(optimizer: OptimizerSpec, rate: number, ruleChanged: boolean): void {
    this.#frozen = rate === 0;
    for (const factor of [this.#optimizerA, this.#optimizerB]) {
      if (ruleChanged) factor.reset();
      factor.prepare(optimizer, NO_PENALTY, { weights: rate, biases: 0 }, null);
    }
  }

  /** Counts `steps` more steps for the factors' state. */
  advance(steps: number): void {
    this.#optimizerA.advance(steps);
    this.#optimizerB.advance(steps);
  }

  /**
   * A step's dispatches, after the layer's weight gradient is in `gradient` (the layer optimizer's
   * buffer, `[∂W; ∂b]`): the factors' gradients (both from the factors before they move), their
   * updates, then W from W₀ and the new factors; none when the phase freezes the factors.
   */
  dispatches(
    pipelines: Pipelines,
    gradient: GPUBuffer,
    weights: GPUBuffer,
    rowIndex: GPUBuffer,
    step: GPUBuffer,
  ): AdapterDispatch[] {
    if (this.#frozen) return []; // W stays exactly as it is: no merge rewrites it
    const { inputs, outputs, source: { rank } } = this;
    const scaled = (
      variant: MatmulVariant,
      [a, b, c]: GPUBuffer[],
      dims: GPUBuffer,
      [m, n]: [number, number],
    ): AdapterDispatch => ({
      pipeline: pipelines.matmul(variant),
      group: pipelines.matmulGroup({ a, b, c, aux: this.#noBias, rowIndex, dims, step }),
      workgroups: matmulWorkgroups(m, n),
    });
    const update = (optimizer: LayerOptimizer, factor: GPUBuffer): AdapterDispatch => ({
      pipeline: pipelines.optimizer(),
      group: optimizer.group(pipelines, factor, this.#noBias, step),
      workgroups: optimizer.workgroups(),
    });
    const { gradA, gradB } = this.#dims;
    return [
      scaled(MATMUL_VARIANTS.adapterGradA(), [gradient, this.#b, this.#optimizerA.grad], gradA, [
        inputs,
        rank,
      ]),
      scaled(MATMUL_VARIANTS.adapterGradB(), [this.#a, gradient, this.#optimizerB.grad], gradB, [
        rank,
        outputs,
      ]),
      update(this.#optimizerA, this.#a),
      update(this.#optimizerB, this.#b),
      this.mergeDispatch(pipelines, weights, rowIndex, step),
    ];
  }

  /** `weights` ← W₀ + s · A · B: after each step, and once when attached (where B is not zero). */
  mergeDispatch(
    pipelines: Pipelines,
    weights: GPUBuffer,
    rowIndex: GPUBuffer,
    step: GPUBuffer,
  ): AdapterDispatch {
    return {
      pipeline: pipelines.matmul(MATMUL_VARIANTS.adapterMerge()),
      group: pipelines.matmulGroup({
        a: this.#a,
        b: this.#b,
        c: weights,
        aux: this.#w0,
        rowIndex,
        dims: this.#dims.merge,
        step,
      }),
      workgroups: matmulWorkgroups(this.inputs, this.outputs),
    };
  }
}
