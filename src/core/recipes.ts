/**
 * Fine-tuning recipes as data: for each layer, whether it starts pretrained or fresh, then a list of
 * stages, each a share of the transfer's budget with, for every layer, the rate at which its weights
 * and its biases learn (0 freezes that part: its bytes never change). The training loop runs the
 * stages; it never branches on a recipe's name.
 *
 * | recipe              | starts                      | stages (rates multiply `training.learning_rate_target`)          |
 * |---------------------|-----------------------------|-------------------------------------------------------------------|
 * | `feature_extractor` | base pretrained, head fresh | head only                                                         |
 * | `head_finetune`     | base pretrained, head fresh | base at `baseLrScale`, head at 1                                  |
 * | `full_finetune`     | all pretrained              | every layer at 1                                                  |
 * | `scratch`           | all fresh                   | every layer at 1                                                  |
 * | `lp_ft`             | base pretrained, head fresh | half the budget head only (a linear probe), then every layer at 1 |
 * | `discriminative_lr` | all pretrained              | head at 1, each layer below at the rate above / `decay` (2.6)     |
 * | `gradual_unfreeze`  | base pretrained, head fresh | L equal stages: the top 1, 2, …, L layers, at discriminative rates |
 * | `l2_sp`             | all pretrained              | every layer at 1, the base pulled to its pretrained values (α), the head to 0 (β) |
 * | `bitfit`            | base pretrained, head fresh | the base's biases and the whole head                              |
 * | `surgical`          | all pretrained              | the first layer only                                              |
 * | `lora`              | base pretrained, head fresh | low-rank adapters on the base (W = W₀ + α/r · A B, W₀ frozen), and the head |
 *
 * Where each comes from, and what it found: docs/RECIPES.md.
 *
 * @module
 */

import { copyLayer, heLayer, type Layer, type Mlp } from "./model.ts";
import type { OptimizerName, Penalty } from "./optimizers.ts";
import type { Rng } from "./rng.ts";

/** Every built-in recipe's name, in the order they are shown. */
export const STRATEGY_NAMES = [
  "feature_extractor",
  "head_finetune",
  "full_finetune",
  "scratch",
  "lp_ft",
  "discriminative_lr",
  "gradual_unfreeze",
  "l2_sp",
  "bitfit",
  "surgical",
  "lora",
] as const;

/** One of {@linkcode STRATEGY_NAMES}: a built-in recipe. */
export type BuiltInStrategy = typeof STRATEGY_NAMES[number];

/** A recipe's name: a built-in one, or one a config defines (`recipes:`). */
export type StrategyName = string;

/** What a recipe's name may be: lowercase letters, digits and `_`, starting with a letter, at most 40. */
export const RECIPE_NAME: RegExp = /^[a-z][a-z0-9_]{0,39}$/;

/** The four textbook strategies, which `compare` runs unless told otherwise. */
export const CLASSIC_STRATEGIES: readonly BuiltInStrategy[] = [
  "feature_extractor",
  "head_finetune",
  "full_finetune",
  "scratch",
];

/** Where a layer's first weights come from. */
export type Init = "pretrained" | "fresh";

/** Multipliers of a phase's learning rate for one layer's weights and for its biases; 0 freezes that part. */
export interface PartRates {
  /** The weight matrix's multiplier. */
  readonly weights: number;
  /** The bias vector's multiplier. */
  readonly biases: number;
}

/** One stage of a recipe. */
export interface Stage {
  /** Its share of the transfer's budget (epochs, or steps under `training.target_steps`); a recipe's shares sum to 1. */
  readonly share: number;
  /** One per layer, input to output. */
  readonly rates: readonly PartRates[];
  /** The update rule for this stage instead of the phase's (`training.optimizer`), its settings kept. */
  readonly optimizer?: OptimizerName;
}

/** A recipe for a model of a given depth: where each layer starts, then its stages in order. */
export interface Recipe {
  /** One per layer, input to output. */
  readonly init: readonly Init[];
  /** At least one; every stage has a rate for every layer. */
  readonly stages: readonly Stage[];
  /** One per layer, in every stage: its pulls besides the loss (L2-SP's); none when absent. */
  readonly penalties?: readonly Penalty[];
  /**
   * One per layer: a low-rank adapter that learns in place of the layer's weights (LoRA), whose
   * `weights` rate is then the adapter's; null (or absent) where the weights themselves learn.
   */
  readonly adapters?: readonly (AdapterShape | null)[];
}

/** A LoRA adapter as a phase hands it to an engine: its rank, its scale α / r, and its first factors. */
export interface Adapter {
  /** r: A is inputs × r, B is r × outputs. */
  readonly rank: number;
  /** α / r, which multiplies A · B. */
  readonly scale: number;
  /** A's first values, row-major. */
  readonly a: Float32Array;
  /** B's first values, row-major (zeros, for a layer that starts at W₀). */
  readonly b: Float32Array;
}

/** A LoRA adapter's size: W = W₀ + (alpha / rank) · A · B, with A inputs × rank and B rank × outputs. */
export interface AdapterShape {
  /** r, the inner width of A · B. */
  readonly rank: number;
  /** α: the product is scaled by α / r, so that a change of rank needs no change of learning rate. */
  readonly alpha: number;
}

/** The settings built-in recipes take from the config. */
export interface RecipeSettings {
  /** `head_finetune`'s base rate (`training.head_finetune_base_lr_scale`). */
  readonly headFinetuneBaseScale: number;
  /** `l2_sp`'s α, towards the pretrained base, and β, towards 0 for the head (`training.l2_sp_alpha`, `_beta`). */
  readonly l2sp: { readonly alpha: number; readonly beta: number };
  /** `lora`'s adapters on every base layer (`training.lora_rank`, `training.lora_alpha`). */
  readonly lora: AdapterShape;
}

/** ULMFiT's factor between the rates of adjacent layers: layer l−1 learns at layer l's rate / 2.6. */
export const DISCRIMINATIVE_DECAY = 2.6;

/** Both parts of a layer at `rate`. */
const both = (rate: number): PartRates => ({ weights: rate, biases: rate });
const FROZEN = both(0);

/** Every built-in recipe, for a model of `layers` layers (the last is the head). */
export function builtInRecipes(layers: number, settings: RecipeSettings): Record<BuiltInStrategy, Recipe> {
  const head = layers - 1;
  const perLayer = <T>(f: (l: number) => T): T[] => Array.from({ length: layers }, (_, l) => f(l));
  const headFresh = perLayer((l): Init => (l === head ? "fresh" : "pretrained"));
  const allPretrained = perLayer((): Init => "pretrained");
  const oneStage = (rates: (l: number) => PartRates): Stage[] => [{ share: 1, rates: perLayer(rates) }];
  const discriminative = (l: number) => both(DISCRIMINATIVE_DECAY ** (l - head));
  return {
    feature_extractor: { init: headFresh, stages: oneStage((l) => l === head ? both(1) : FROZEN) },
    head_finetune: {
      init: headFresh,
      stages: oneStage((l) => both(l === head ? 1 : settings.headFinetuneBaseScale)),
    },
    full_finetune: { init: allPretrained, stages: oneStage(() => both(1)) },
    scratch: { init: perLayer((): Init => "fresh"), stages: oneStage(() => both(1)) },
    lp_ft: {
      init: headFresh,
      stages: [
        { share: 0.5, rates: perLayer((l) => l === head ? both(1) : FROZEN) },
        { share: 0.5, rates: perLayer(() => both(1)) },
      ],
    },
    discriminative_lr: { init: allPretrained, stages: oneStage(discriminative) },
    gradual_unfreeze: {
      init: headFresh,
      stages: perLayer((s) => ({
        share: 1 / layers,
        rates: perLayer((l) => l >= head - s ? discriminative(l) : FROZEN),
      })),
    },
    l2_sp: {
      init: allPretrained,
      stages: oneStage(() => both(1)),
      penalties: l2spPenalties(layers, settings.l2sp),
    },
    bitfit: { init: headFresh, stages: oneStage((l) => l === head ? both(1) : { weights: 0, biases: 1 }) },
    surgical: { init: allPretrained, stages: oneStage((l) => l === 0 ? both(1) : FROZEN) },
    lora: {
      init: headFresh,
      stages: oneStage((l) => l === head ? both(1) : { weights: 1, biases: 0 }),
      adapters: perLayer((l) => l === head ? null : settings.lora),
    },
  };
}

/**
 * Which layers a rule in a {@linkcode RecipeDefinition} names: `all`, `base` (every layer but the
 * last), `head` (the last), or a layer's 1-based number as a string (`"1"` is the first).
 */
export type LayerSelector = string;

/** What of a layer learns under a {@linkcode RecipeDefinition}'s stage. */
export type Trains = "both" | "weights" | "biases" | "none";

/** The values {@linkcode Trains} takes. */
export const TRAINS: readonly Trains[] = ["both", "weights", "biases", "none"];

/** One stage of a {@linkcode RecipeDefinition}. */
export interface StageDefinition {
  /** Its share of the transfer's budget. */
  readonly share: number;
  /** What learns, by selector; a layer no selector names is frozen. */
  readonly train: Readonly<Record<LayerSelector, Trains>>;
  /** Rate multipliers, by selector; 1 where none is given. */
  readonly rate: Readonly<Record<LayerSelector, number>>;
  /** The stage's update rule, when it is not the phase's. */
  readonly optimizer?: OptimizerName;
}

/**
 * A recipe written for any depth, as a config's `recipes:` section gives it: where layers start and
 * what learns in each stage, by selector (see {@linkcode LayerSelector}); for each layer the most
 * specific selector that names it wins: its number over `base` or `head` (whichever it is), and those over `all`.
 */
export interface RecipeDefinition {
  /** Where layers start, by selector; pretrained where none is given. */
  readonly init: Readonly<Record<LayerSelector, Init>>;
  /** At least one. */
  readonly stages: readonly StageDefinition[];
  /** L2-SP's pulls: α towards the pretrained base, β towards 0 for the head; none when absent. */
  readonly l2sp?: { readonly alpha: number; readonly beta: number };
  /** LoRA adapters, by selector: a layer with one learns through it wherever its weights learn. */
  readonly adapters?: Readonly<Record<LayerSelector, AdapterShape>>;
}

/** The value `rules` gives layer `l` of `layers`, the most specific selector winning; `fallback` when none names it. */
export function selectLayer<T>(
  rules: Readonly<Record<LayerSelector, T>>,
  l: number,
  layers: number,
  fallback: T,
): T {
  const head = layers - 1;
  const names = ["all", ...(l === head ? ["head"] : ["base"]), `${l + 1}`].filter((name) =>
    Object.hasOwn(rules, name)
  );
  return names.length === 0 ? fallback : rules[names[names.length - 1]];
}

/** The recipe `definition` describes, for a model of `layers` layers. */
export function resolveRecipe(definition: RecipeDefinition, layers: number): Recipe {
  const perLayer = <T>(f: (l: number) => T): T[] => Array.from({ length: layers }, (_, l) => f(l));
  const stages = definition.stages.map((stage): Stage => ({
    share: stage.share,
    rates: perLayer((l) => {
      const rate = selectLayer(stage.rate, l, layers, 1);
      const trains = selectLayer(stage.train, l, layers, "none");
      return {
        weights: trains === "both" || trains === "weights" ? rate : 0,
        biases: trains === "both" || trains === "biases" ? rate : 0,
      };
    }),
    ...(stage.optimizer ? { optimizer: stage.optimizer } : {}),
  }));
  const { l2sp } = definition;
  return {
    init: perLayer((l) => selectLayer(definition.init, l, layers, "pretrained")),
    stages,
    ...(l2sp ? { penalties: l2spPenalties(layers, l2sp) } : {}),
    ...(definition.adapters
      ? { adapters: perLayer((l) => selectLayer<AdapterShape | null>(definition.adapters!, l, layers, null)) }
      : {}),
  };
}

/** L2-SP's penalties on `layers` layers: α towards the pretrained values on the base, β towards 0 on the head. */
function l2spPenalties(layers: number, { alpha, beta }: { alpha: number; beta: number }): Penalty[] {
  return Array.from(
    { length: layers },
    (_, l) => l === layers - 1 ? { decay: beta, anchor: 0 } : { decay: 0, anchor: alpha },
  );
}

/** Rate 1 for both parts of each of `layers` layers: every layer learns at the phase's rate (pretraining). */
export function uniformRates(layers: number): PartRates[] {
  return Array.from({ length: layers }, () => both(1));
}

/**
 * The budget of each stage: `total` (epochs or steps) cut at `round(total × cumulative share)`, the
 * last stage ending at `total`. A stage may get 0 when the budget is small.
 */
export function stageBudgets(stages: readonly Pick<Stage, "share">[], total: number): number[] {
  let cumulative = 0, start = 0;
  return stages.map((stage, s) => {
    cumulative += stage.share;
    const end = s === stages.length - 1 ? total : Math.min(total, Math.round(total * cumulative));
    const budget = end - start;
    start = end;
    return budget;
  });
}

/** The target model a recipe starts from, its stages, and what had to deviate from the recipe. */
export interface TransferStart {
  /** New arrays throughout: pretrained layers are copies, so training it leaves `pretrained` intact. */
  readonly model: Mlp;
  /** The recipe's penalties, if any; their anchor is `model` as it starts. */
  readonly penalties?: readonly Penalty[];
  /** Per layer, its adapter's first factors (A random, B zero, so W starts at W₀), or null; absent without adapters. */
  readonly adapters?: readonly (Adapter | null)[];
  /** The recipe's stages, except that a layer that had to start fresh learns at 1 where it was frozen. */
  readonly stages: readonly Stage[];
  /** Why a layer planned as pretrained starts fresh (its shape changed); empty when none. */
  readonly notes: string[];
}

/**
 * Builds the target model: each layer is a copy of the pretrained one or a fresh He layer as the
 * recipe says, with the target's head width. A pretrained layer whose shape no longer fits (the head,
 * when the class counts differ) starts fresh instead, a note says so, and it learns (rate 1) in every
 * stage that would have frozen it: a frozen random layer would turn what reaches it into noise. So
 * does the head when `otherClasses` says why the target's classes are not the source's (real tasks
 * with other labels: the source's readout of digit 0 means nothing for digit 5).
 */
export function startTransfer(
  recipe: Recipe,
  pretrained: Mlp,
  targetClasses: number,
  rng: Rng,
  otherClasses: string | null = null,
): TransferStart {
  const notes: string[] = [];
  const head = pretrained.length - 1;
  const forcedFresh = new Set<number>();
  const model = pretrained.map((layer, l): Layer => {
    const outputs = l === head ? targetClasses : layer.outputs;
    const fresh = heLayer(layer.inputs, outputs, rng); // drawn for every layer so streams stay aligned
    if (recipe.init[l] === "fresh") return fresh;
    const reason = outputs !== layer.outputs
      ? `the source task has ${layer.outputs} classes, the target ${outputs}`
      : l === head
      ? otherClasses
      : null;
    if (reason !== null) {
      notes.push(`layer ${l + 1} (head) starts fresh: ${reason}`);
      forcedFresh.add(l);
      return fresh;
    }
    return copyLayer(layer);
  });
  const learns = (rates: PartRates) => rates.weights > 0 || rates.biases > 0;
  const stages = recipe.stages.map((stage) => ({
    ...stage,
    rates: stage.rates.map((rates, l) => forcedFresh.has(l) && !learns(rates) ? both(1) : rates),
  }));
  return {
    model,
    stages,
    notes,
    ...(recipe.penalties ? { penalties: recipe.penalties } : {}),
    ...(recipe.adapters ? { adapters: startAdapters(recipe.adapters, model, rng) } : {}),
  };
}

/**
 * Each adapter's first factors, drawn after every layer (so recipes without adapters draw as before):
 * A (inputs × rank) from N(0, 1/inputs), B (rank × outputs) zero, so that A · B = 0 and the layer
 * starts exactly at its W₀ (Hu et al. draw A at random and start B at zero).
 */
function startAdapters(shapes: readonly (AdapterShape | null)[], model: Mlp, rng: Rng): (Adapter | null)[] {
  return shapes.map((shape, l) => {
    if (shape === null) return null;
    const { inputs, outputs } = model[l];
    const a = Float32Array.from({ length: inputs * shape.rank }, () => rng.normal() / Math.sqrt(inputs));
    return {
      rank: shape.rank,
      scale: shape.alpha / shape.rank,
      a,
      b: new Float32Array(shape.rank * outputs),
    };
  });
}

/**
 * How many parameters learn in some stage of a transfer with `stages` and `adapters` on a model of
 * layer widths `widths`: a layer's weights (or its adapter's rank · (inputs + outputs) in their place)
 * and its biases, each counted when its rate is above 0 in any stage.
 */
export function trainableParameters(
  stages: readonly Stage[],
  widths: readonly number[],
  adapters: readonly (AdapterShape | null)[] = [],
): number {
  let count = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const [inputs, outputs] = [widths[l], widths[l + 1]];
    const adapter = adapters[l] ?? null;
    if (stages.some((stage) => stage.rates[l].weights > 0)) {
      count += adapter === null ? inputs * outputs : adapter.rank * (inputs + outputs);
    }
    if (stages.some((stage) => stage.rates[l].biases > 0)) count += outputs;
  }
  return count;
}
