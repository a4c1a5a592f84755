/**
 * A LoRA adapter on one layer of the CPU engine (Hu et al., 2021): the layer's weights are kept as
 * `W = W₀ + s · A · B`, W₀ frozen, and only the factors learn. With G = ∂L/∂W, the weight gradient the
 * backward pass already forms,
 *
 *     ∂L/∂A = s · G · Bᵀ        ∂L/∂B = s · Aᵀ · G
 *
 * both taken before either factor moves; then the optimizer steps A and B and W is formed again.
 * The products run on the engine's kernels, so the arrays live in its arena.
 *
 * @module
 */

import { isPlainSgd, NO_PENALTY, type OptimizerSpec } from "../../core/optimizers.ts";
import type { Adapter } from "../../core/recipes.ts";
import type { Arena } from "./arena.ts";
import { freshState, optimizerStep, type PartState } from "./optimizer.ts";
import type { Floats, StepKernels } from "./reference_kernels.ts";

/** One layer's adapter: W₀, the factors, their gradients and optimizer state. */
export class CpuAdapter {
  readonly #w0: Float32Array;
  readonly #a: Float32Array;
  readonly #b: Float32Array;
  readonly #gradA: Float32Array;
  readonly #gradB: Float32Array;
  readonly #product: Float32Array;
  #stateA: PartState | null = null;
  #stateB: PartState | null = null;

  /**
   * Attaches `source` to a layer of `inputs` × `outputs` whose weights are now `weights` (they become
   * W₀), with arrays from `arena`; the factors start at `factors` (by default the source's own).
   */
  constructor(
    readonly source: Adapter,
    readonly inputs: number,
    readonly outputs: number,
    weights: Floats,
    arena: Arena,
    factors: { readonly a: Floats; readonly b: Floats } = source,
  ) {
    const alloc = (values: Floats) => {
      const into = arena.alloc(values.length);
      into.set(values);
      return into;
    };
    this.#w0 = alloc(weights);
    this.#a = alloc(factors.a);
    this.#b = alloc(factors.b);
    this.#gradA = arena.alloc(source.a.length);
    this.#gradB = arena.alloc(source.b.length);
    this.#product = arena.alloc(inputs * outputs);
  }

  /**
   * Copies the adapter out of its arena, whose memory the next arena reuses; the function returned
   * puts it, factors and state as they are now, into another.
   */
  detach(): (arena: Arena) => CpuAdapter {
    const [w0, a, b] = [this.#w0.slice(), this.#a.slice(), this.#b.slice()];
    const [stateA, stateB] = [this.#stateA, this.#stateB]; // ordinary arrays, outside the arena
    return (arena) => {
      const moved = new CpuAdapter(this.source, this.inputs, this.outputs, w0, arena, { a, b });
      [moved.#stateA, moved.#stateB] = [stateA, stateB];
      return moved;
    };
  }

  /** Forgets the factors' optimizer state (when the phase's rule changes, or the factors stop learning). */
  resetState(): void {
    [this.#stateA, this.#stateB] = [null, null];
  }

  /**
   * One step: the factors' gradients from the layer's weight gradient `g`, `optimizer` at step size
   * `rate` on each factor, then `weights` ← W₀ + s · A · B.
   */
  step(kernels: StepKernels, g: Floats, weights: Floats, optimizer: OptimizerSpec, rate: number): void {
    const { inputs, outputs, source: { rank, scale } } = this;
    kernels.matmulTransB(g, this.#b, this.#gradA, inputs, outputs, rank); // G · Bᵀ
    kernels.matmulTransA(this.#a, g, this.#gradB, inputs, rank, outputs); // Aᵀ · G
    for (let i = 0; i < this.#gradA.length; i++) this.#gradA[i] *= scale;
    for (let i = 0; i < this.#gradB.length; i++) this.#gradB[i] *= scale;
    if (isPlainSgd(optimizer, NO_PENALTY)) {
      kernels.sgdStep(this.#a, this.#gradA, rate);
      kernels.sgdStep(this.#b, this.#gradB, rate);
    } else {
      this.#stateA ??= freshState(this.#a.length);
      this.#stateB ??= freshState(this.#b.length);
      optimizerStep(optimizer, NO_PENALTY, this.#a, this.#gradA, null, rate, this.#stateA);
      optimizerStep(optimizer, NO_PENALTY, this.#b, this.#gradB, null, rate, this.#stateB);
    }
    this.merge(kernels, weights);
  }

  /** `weights` ← W₀ + s · A · B: after each step, and once when attached (where B is not zero). */
  merge(kernels: StepKernels, weights: Floats): void {
    const { inputs, outputs, source: { rank, scale } } = this;
    kernels.matmul(this.#a, this.#b, this.#product, inputs, rank, outputs);
    for (let i = 0; i < weights.length; i++) weights[i] = this.#w0[i] + scale * this.#product[i];
  }
}
