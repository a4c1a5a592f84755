/**
 * Transfer strategies as data: for each layer, where its initial weights come from and how fast it
 * learns. The training loop reads a plan; it never branches on a strategy's name.
 *
 * | strategy            | base (hidden layers)                 | head (last layer)    |
 * |---------------------|--------------------------------------|----------------------|
 * | `feature_extractor` | pretrained, rate 0 (frozen)          | fresh, rate 1        |
 * | `head_finetune`     | pretrained, rate `baseLrScale`       | fresh, rate 1        |
 * | `full_finetune`     | pretrained, rate 1                   | pretrained, rate 1   |
 * | `scratch`           | fresh, rate 1                        | fresh, rate 1        |
 *
 * Rates multiply `training.learning_rate_target`.
 *
 * @module
 */

import { copyLayer, heLayer, type Layer, type Mlp } from "./model.ts";
import type { Rng } from "./rng.ts";

/** The four strategy names, in the order they are shown. */
export const STRATEGY_NAMES = ["feature_extractor", "head_finetune", "full_finetune", "scratch"] as const;

/** One of {@linkcode STRATEGY_NAMES}. */
export type StrategyName = typeof STRATEGY_NAMES[number];

/** How one group of layers starts and learns. */
export interface LayerPlan {
  /** `pretrained` copies the source model's layer (when its shape fits); `fresh` draws a new He layer. */
  readonly init: "pretrained" | "fresh";
  /** Multiplier of the target learning rate; 0 freezes the layer. */
  readonly rate: number;
}

/** A strategy's plan for the base (every hidden layer) and the head (the last layer). */
export interface StrategyPlan {
  /** Applies to every layer but the last. */
  readonly base: LayerPlan;
  /** Applies to the last layer, which {@linkcode startTransfer} sizes for the target's classes. */
  readonly head: LayerPlan;
}

/** Every strategy's plan; `baseLrScale` is `training.head_finetune_base_lr_scale`. */
export function strategyPlans(baseLrScale: number): Record<StrategyName, StrategyPlan> {
  return {
    feature_extractor: { base: { init: "pretrained", rate: 0 }, head: { init: "fresh", rate: 1 } },
    head_finetune: { base: { init: "pretrained", rate: baseLrScale }, head: { init: "fresh", rate: 1 } },
    full_finetune: { base: { init: "pretrained", rate: 1 }, head: { init: "pretrained", rate: 1 } },
    scratch: { base: { init: "fresh", rate: 1 }, head: { init: "fresh", rate: 1 } },
  };
}

/** Rate 1 for each of `layers` layers: every layer learns at the phase's learning rate (pretraining). */
export function uniformRates(layers: number): number[] {
  return Array.from({ length: layers }, () => 1);
}

/** Each of `layers` layers' rate under `plan`: the last layer is the head, the others the base. */
export function planRates(plan: StrategyPlan, layers: number): number[] {
  return Array.from({ length: layers }, (_, l) => (l === layers - 1 ? plan.head : plan.base).rate);
}

/** The target model a plan starts from, its per-layer rates, and what had to deviate from the plan. */
export interface TransferStart {
  /** New arrays throughout: pretrained layers are copies, so training it leaves `pretrained` intact. */
  readonly model: Mlp;
  /** One per layer, input to output: the base's rate, then the head's (see {@linkcode planRates}). */
  readonly layerRates: number[];
  /** Why a layer planned as pretrained starts fresh (its shape changed); empty when none. */
  readonly notes: string[];
}

/**
 * Builds the target model: each layer is a copy of the pretrained one or a fresh He layer as the
 * plan says, with the target's head width. A pretrained layer whose shape no longer fits (the head,
 * when the class counts differ) starts fresh instead, and a note says so.
 */
export function startTransfer(
  plan: StrategyPlan,
  pretrained: Mlp,
  targetClasses: number,
  rng: Rng,
): TransferStart {
  const notes: string[] = [];
  const head = pretrained.length - 1;
  const model = pretrained.map((layer, l): Layer => {
    const { init } = l === head ? plan.head : plan.base;
    const outputs = l === head ? targetClasses : layer.outputs;
    const fresh = heLayer(layer.inputs, outputs, rng); // drawn for every layer so streams stay aligned
    if (init === "fresh") return fresh;
    if (outputs !== layer.outputs) {
      notes.push(
        `layer ${
          l + 1
        } (head) starts fresh: the source task has ${layer.outputs} classes, the target ${outputs}`,
      );
      return fresh;
    }
    return copyLayer(layer);
  });
  const layerRates = planRates(plan, pretrained.length);
  return { model, layerRates, notes };
}
