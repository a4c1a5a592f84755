/**
 * The config's `recipes:` section: recipes a person defines, beside the built-in ones, validated with
 * the same one-line errors as the rest of the config. Each is a {@linkcode RecipeDefinition}:
 *
 *     recipes:
 *       probe_then_tune:
 *         init: {head: fresh}               # all, base, head or a layer number: pretrained | fresh
 *         stages:
 *           - share: 0.3
 *             train: {head: both}           # both | weights | biases | none; unnamed layers: none
 *           - share: 0.7
 *             train: {all: both}
 *             rate: {base: 0.1}             # multipliers of learning_rate_target; 1 where unnamed
 *             optimizer: adam               # this stage's update rule (training.optimizer otherwise)
 *         l2_sp: {alpha: 0.1, beta: 0.01}   # optional: pull the base to its pretrained values, the head to 0
 *         adapters: {base: {rank: 4, alpha: 8}}  # optional: LoRA; the base's weights learn through it
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";
import { OPTIMIZER_NAMES, type OptimizerName } from "../core/optimizers.ts";
import {
  type AdapterShape,
  type Init,
  type PartRates,
  type Recipe,
  RECIPE_NAME,
  type RecipeDefinition,
  resolveRecipe,
  type StageDefinition,
  STRATEGY_NAMES,
  TRAINS,
  type Trains,
} from "../core/recipes.ts";
import { clip, show } from "./limits.ts";

/** The most stages a recipe may have. */
const MAX_STAGES = 32;
/** How far a recipe's shares may sum from 1. */
const SHARE_TOLERANCE = 1e-9;
const INITS: readonly Init[] = ["pretrained", "fresh"];
const RECIPE_KEYS = ["init", "stages", "l2_sp", "adapters"];
/** The largest LoRA rank a recipe may ask for (as `training.lora_rank`). */
const MAX_RANK = 1024;
const STAGE_KEYS = ["share", "train", "rate", "optimizer"];

/** The recipes `value` (the `recipes` section) defines, by name. Throws {@linkcode UsageError}. */
export function parseRecipes(value: unknown, source: string): Record<string, RecipeDefinition> {
  if (value === null) return {};
  const recipes = mapping(value, `${source}: recipes`, "a mapping of recipe names to recipes");
  return Object.fromEntries(
    Object.entries(recipes).map(([name, recipe]) => {
      const where = `${source}: recipes.${clip(name)}`;
      if (!RECIPE_NAME.test(name)) {
        throw new UsageError(
          `${where}: a recipe's name is lowercase letters, digits and _, starting with a letter`,
        );
      }
      if ((STRATEGY_NAMES as readonly string[]).includes(name)) {
        throw new UsageError(`${where}: is a built-in recipe; give yours another name`);
      }
      return [name, parseRecipe(recipe, where)];
    }),
  );
}

/**
 * Refuses, once the `model` section is known (`layers` layers, counted from 1), a selector naming a
 * layer the model does not have, a stage in which nothing learns, and a layer that starts fresh but
 * whose weights never learn (its random output would be noise). Throws {@linkcode UsageError}.
 */
export function checkRecipeLayers(
  recipes: Readonly<Record<string, RecipeDefinition>>,
  layers: number,
  source: string,
): void {
  for (const [name, recipe] of Object.entries(recipes)) {
    const rules = [
      ["init", recipe.init],
      ["adapters", recipe.adapters ?? {}],
      ...recipe.stages.flatMap((
        stage,
        s,
      ) => [[`stages[${s + 1}].train`, stage.train], [`stages[${s + 1}].rate`, stage.rate]]),
    ] as const;
    for (const [key, rule] of rules) {
      const layer = Object.keys(rule).find((selector) => /^\d+$/.test(selector) && Number(selector) > layers);
      if (layer !== undefined) {
        throw new UsageError(
          `${source}: recipes.${name}.${key}: layer ${clip(layer)} does not exist, the model has ${layers} ` +
            `(1 to ${layers}, or all, base, head)`,
        );
      }
    }
    checkLearning(name, resolveRecipe(recipe, layers), source);
  }
}

/** Refuses a stage of `recipe` in which nothing learns, and a fresh layer whose weights never learn. */
function checkLearning(name: string, recipe: Recipe, source: string): void {
  const learns = (rates: PartRates) => rates.weights > 0 || rates.biases > 0;
  const idle = recipe.stages.findIndex((stage) => !stage.rates.some(learns));
  if (idle >= 0) {
    throw new UsageError(
      `${source}: recipes.${name}.stages[${
        idle + 1
      }]: nothing learns in it; train some layer (e.g. train: {head: both}) or remove the stage`,
    );
  }
  const frozen = recipe.init.findIndex((init, l) =>
    init === "fresh" && recipe.stages.every((stage) => stage.rates[l].weights === 0)
  );
  if (frozen >= 0) {
    throw new UsageError(
      `${source}: recipes.${name}: layer ${
        frozen + 1
      } starts fresh but its weights never learn, so its output would be noise; train them in some stage or start it pretrained`,
    );
  }
}

function parseRecipe(value: unknown, where: string): RecipeDefinition {
  const recipe = mapping(value, where, `a mapping of ${RECIPE_KEYS.join(", ")}`);
  knownKeys(recipe, RECIPE_KEYS, where);
  if (!Array.isArray(recipe.stages) || recipe.stages.length === 0 || recipe.stages.length > MAX_STAGES) {
    throw new UsageError(
      `${where}.stages must be a list of 1 to ${MAX_STAGES} stages, got ${show(recipe.stages)}`,
    );
  }
  const stages = recipe.stages.map((stage, s) => parseStage(stage, `${where}.stages[${s + 1}]`));
  const sum = stages.reduce((total, stage) => total + stage.share, 0);
  if (Math.abs(sum - 1) > SHARE_TOLERANCE) {
    throw new UsageError(
      `${where}.stages: the shares sum to ${Number(sum.toPrecision(12))}; make them sum to 1`,
    );
  }
  const init = selectors(
    recipe.init ?? {},
    `${where}.init`,
    (v): v is Init => INITS.includes(v as Init),
    INITS.join(" or "),
  );
  const adapters = recipe.adapters === undefined ? {} : {
    adapters: selectors(
      recipe.adapters,
      `${where}.adapters`,
      isAdapterShape,
      `{rank: 1 to ${MAX_RANK}, alpha: a positive number}`,
    ),
  };
  return {
    init,
    stages,
    ...(recipe.l2_sp === undefined ? {} : { l2sp: parseL2sp(recipe.l2_sp, `${where}.l2_sp`) }),
    ...adapters,
  };
}

function parseStage(value: unknown, where: string): StageDefinition {
  const stage = mapping(value, where, `a mapping of ${STAGE_KEYS.join(", ")}`);
  knownKeys(stage, STAGE_KEYS, where);
  if (typeof stage.share !== "number" || !(stage.share > 0 && stage.share <= 1)) {
    throw new UsageError(`${where}.share must be a number above 0 and at most 1, got ${show(stage.share)}`);
  }
  if (stage.train === undefined) {
    throw new UsageError(`${where}.train is missing; say what learns, e.g. {all: both}`);
  }
  const isTrains = (v: unknown): v is Trains => TRAINS.includes(v as Trains);
  const train = selectors(stage.train, `${where}.train`, isTrains, TRAINS.join(", "));
  const isRate = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
  const rate = selectors(stage.rate ?? {}, `${where}.rate`, isRate, "a finite number >= 0");
  if (stage.optimizer !== undefined && !OPTIMIZER_NAMES.includes(stage.optimizer as OptimizerName)) {
    throw new UsageError(
      `${where}.optimizer must be one of ${OPTIMIZER_NAMES.join(", ")}, got ${show(stage.optimizer)}`,
    );
  }
  return {
    share: stage.share,
    train,
    rate,
    ...(stage.optimizer === undefined ? {} : { optimizer: stage.optimizer as OptimizerName }),
  };
}

function isAdapterShape(v: unknown): v is AdapterShape {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const { rank, alpha, ...rest } = v as Record<string, unknown>;
  return Object.keys(rest).length === 0 && Number.isInteger(rank) && (rank as number) >= 1 &&
    (rank as number) <= MAX_RANK && typeof alpha === "number" && Number.isFinite(alpha) && alpha > 0;
}

function parseL2sp(value: unknown, where: string): { alpha: number; beta: number } {
  const l2sp = mapping(value, where, "a mapping of alpha and beta");
  knownKeys(l2sp, ["alpha", "beta"], where);
  const strength = (key: "alpha" | "beta") => {
    const v = l2sp[key];
    if (v === undefined) throw new UsageError(`${where}.${key} is missing; give both alpha and beta`);
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new UsageError(`${where}.${key} must be a finite number >= 0, got ${show(v)}`);
    }
    return v;
  };
  return { alpha: strength("alpha"), beta: strength("beta") };
}

/** A mapping of layer selectors (`all`, `base`, `head`, a layer number) to values that pass `ok`. */
function selectors<T>(
  value: unknown,
  where: string,
  ok: (v: unknown) => v is T,
  allowed: string,
): Record<string, T> {
  const rules = mapping(value, where, "a mapping of layers (all, base, head or a number from 1) to values");
  for (const [selector, v] of Object.entries(rules)) {
    if (!/^(all|base|head|[1-9]\d{0,2})$/.test(selector)) {
      throw new UsageError(
        `${where}: unknown layer '${clip(selector)}'; use all, base, head or a layer number from 1`,
      );
    }
    if (!ok(v)) throw new UsageError(`${where}.${selector} must be ${allowed}, got ${show(v)}`);
  }
  return rules as Record<string, T>;
}

function mapping(value: unknown, where: string, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${where} must be ${what}, got ${show(value)}`);
  }
  return value as Record<string, unknown>;
}

function knownKeys(value: Record<string, unknown>, known: readonly string[], where: string): void {
  const unknown = Object.keys(value).find((key) => !known.includes(key));
  if (unknown !== undefined) {
    throw new UsageError(`${where}: unknown key '${clip(unknown)}'; known keys: ${known.join(", ")}`);
  }
}
