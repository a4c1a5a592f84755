/**
 * Optimizers and penalties as data: which update rule a phase uses and with what settings. The rules
 * (the CPU engine's `optimizer.ts` computes them, the GPU engine's `shaders/optimizer.wgsl` too):
 *
 * For a parameter w with gradient g of the minibatch's mean loss, its step size η (the learning
 * rate times its part's rate), and its penalty (`decay` λ pulling towards 0, `anchor` α pulling
 * towards the pretrained w₀, as L2-SP does):
 *
 *     g ← g + (λ + c) · w + α · (w − w₀)         c = weightDecay, except under adamw (decoupled)
 *     sgd       w ← w − η g
 *     momentum  v ← μ v + g;  w ← w − η (nesterov ? g + μ v : v)
 *     adam      m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;  w ← w − η m̂ / (√v̂ + ε),
 *               m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), t the part's step count from 1
 *     adamw     w ← w − η · weightDecay · w, then as adam
 *
 * (the conventions of PyTorch's `torch.optim.SGD`, `Adam` and `AdamW`). A part whose η is 0 is
 * frozen: neither it nor its optimizer state is read or written.
 *
 * @module
 */

/** The optimizers, in the order they are documented. */
export const OPTIMIZER_NAMES = ["sgd", "momentum", "adam", "adamw"] as const;

/** One of {@linkcode OPTIMIZER_NAMES}. */
export type OptimizerName = typeof OPTIMIZER_NAMES[number];

/** An optimizer and its settings (`training.optimizer` and the keys beside it). */
export interface OptimizerSpec {
  /** Which update rule. */
  readonly name: OptimizerName;
  /** Weight decay: an L2 term `weightDecay · w` in the gradient, or decoupled under adamw. */
  readonly weightDecay: number;
  /** momentum's μ. */
  readonly momentum: number;
  /** momentum: Nesterov's look-ahead form. */
  readonly nesterov: boolean;
  /** adam and adamw: β₁, the first moment's decay. */
  readonly beta1: number;
  /** adam and adamw: β₂, the second moment's decay. */
  readonly beta2: number;
  /** adam and adamw: ε, added to √v̂. */
  readonly epsilon: number;
}

/** Plain SGD, with every other setting at its documented default. */
export const PLAIN_SGD: OptimizerSpec = {
  name: "sgd",
  weightDecay: 0,
  momentum: 0.9,
  nesterov: false,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
};

/** Pulls on one layer's parameters besides the loss: towards 0 (`decay`) and towards the pretrained values (`anchor`). */
export interface Penalty {
  /** λ of `λ/2 ‖w‖²`. */
  readonly decay: number;
  /** α of `α/2 ‖w − w₀‖²`, w₀ the pretrained parameters. */
  readonly anchor: number;
}

/** No pull at all. */
export const NO_PENALTY: Penalty = { decay: 0, anchor: 0 };

/**
 * The pulls towards 0 in a step: `coupled` (added to the gradient as `coupled · w`: L2 weight decay
 * and the penalty's decay) and `decoupled` (adamw's `w ← w − η · decoupled · w`).
 */
export function decayTerms(
  optimizer: OptimizerSpec,
  penalty: Penalty,
): { coupled: number; decoupled: number } {
  const adamw = optimizer.name === "adamw";
  return {
    coupled: penalty.decay + (adamw ? 0 : optimizer.weightDecay),
    decoupled: adamw ? optimizer.weightDecay : 0,
  };
}

/** Whether `optimizer` and `penalty` make the update plain `w ← w − η g` (which engines may fuse). */
export function isPlainSgd(optimizer: OptimizerSpec, penalty: Penalty): boolean {
  return optimizer.name === "sgd" && optimizer.weightDecay === 0 && penalty.decay === 0 &&
    penalty.anchor === 0;
}
