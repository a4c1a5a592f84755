/**
 * The configuration: `config.yaml`, validated against a schema of known keys with defaults, then
 * `RANDOM_SEED` from the environment (or `.env`) over `data.random_seed`.
 *
 * Every problem becomes a one-line {@linkcode UsageError} naming the file, the key path and what is
 * allowed. Keys missing from the file take their defaults, so an older config keeps working.
 *
 * @module
 */

import * as yaml from "js-yaml";
import { type DataSpec, type Shift, SHIFTS, splitCounts } from "../core/data.ts";
import { type RealTasks, STANDARDIZE_KINDS, type StandardizeKind } from "../core/pool.ts";
import { labelledCounts } from "../core/tasks.ts";
import { parseTaskFiles, TASK_KINDS, type TaskFiles, type TaskKind } from "./data_config.ts";
import { errorMessage, UsageError } from "../core/errors.ts";
import { MAX_SEED } from "../core/rng.ts";
import { OPTIMIZER_NAMES, type OptimizerName, type OptimizerSpec } from "../core/optimizers.ts";
import { builtInRecipes, type RecipeDefinition, resolveRecipe, STRATEGY_NAMES } from "../core/recipes.ts";
import { checkRecipeLayers, parseRecipes } from "./recipe_config.ts";
import type { ExperimentSpec } from "../core/train.ts";
import {
  CPU_KERNEL_CHOICES,
  type CpuKernelChoice,
  DEVICE_CHOICES,
  type DeviceChoice,
  MAX_THREADS,
  type ThreadsChoice,
} from "./engine_choices.ts";
import { namesFolder } from "./path_names.ts";
import { LOG_LEVELS, type LogLevel } from "./log_levels.ts";
import {
  clip,
  estimateRunBytes,
  estimateRunWork,
  formatBytes,
  MAX_CLASSES,
  MAX_DOCUMENT_NODES,
  MAX_INPUT_FILE_BYTES,
  MAX_PATH_QUOTE,
  MAX_RUN_BYTES,
  MAX_RUN_MULTIPLY_ADDS,
  MAX_RUN_STEPS,
  show,
  withinNodeBudget,
} from "./limits.ts";

/** The validated configuration; keys are spelt as in `config.yaml`. */
export interface Config {
  /** Where the log goes and how much of it: the level and the rotating log file. */
  logging: {
    /** Messages below this level are dropped: `DEBUG`, `INFO` (the default), `WARNING` or `ERROR`. */
    level: LogLevel;
    /** The log file, appended to across runs, its folder created when missing; `logs/app.log` by default. */
    file: string;
    /** The file rolls over before a line would take it past this many bytes; at least 1, default 1048576. */
    max_bytes: number;
    /** Rolled-over files kept, `<file>.1` the newest; 0 never rolls over. Default 3. */
    backup_count: number;
  };
  /** The two synthetic tasks: their sizes, features, classes, test split, seed and relatedness. */
  data: {
    /** Source task rows, train and test together; at least 2, default 2000. */
    base_n_samples: number;
    /** Target task rows, train and test together; at least 2, default 800. */
    target_n_samples: number;
    /** Input features of both tasks; at least 1, default 20. */
    n_features: number;
    /** Source task classes, and the target's unless `target_n_classes` is set; at least 2, default 3. */
    n_classes: number;
    /** Target task classes, or null (the default) for `n_classes`; another count starts every head fresh. */
    target_n_classes: number | null;
    /** Seed of the data, initial weights and shuffles, 0 to 2³²−1, default 42; `RANDOM_SEED` overrides it. */
    random_seed: number;
    /** Share of each task held out for testing, `round(n × test_fraction)` rows; in (0, 1), default 0.2. */
    test_fraction: number;
    /** 1: exactly the source's labelling rule; 0: an independent one; agreement linear between. Default 0.9. */
    relatedness: number;
    /** Share of the rows left after the test split held out for validation; in (0, 1), default 0.2. */
    validation_fraction: number;
    /** The kind of difference between the tasks: `input`, `feature`, `label` or `mixed` (the default). */
    shift: Shift;
    /** The tasks: `synthetic` (generated; the default), `digits` (handwritten, built in), `csv` or `idx` (files). */
    task: TaskKind;
    /** Real data's standardisation: `feature`, `global`, or null (the default): global for images, feature for csv. */
    standardize: StandardizeKind | null;
    /** Which file and rows form the source task (real data only; see `data_config.ts`); null for synthetic tasks. */
    source: TaskFiles | null;
    /** Which file and rows form the target task, as `source`. */
    target: TaskFiles | null;
  };
  /** The MLP's hidden layers; the input and output widths come from the tasks. */
  model: {
    /** Width of the one hidden layer, used when `hidden_dims` is null; at least 1, default 32. */
    hidden_dim: number;
    /** Hidden layer widths from the input side, e.g. `[64, 64]`, replacing `hidden_dim`; null by default. */
    hidden_dims: number[] | null;
  };
  /** Which engine runs the model; `--device`, `--cpu-kernels` and `--threads` win over these keys. */
  engine: {
    /** `auto` (a hardware GPU when the cost model predicts it faster, else the CPU; the default), `gpu` (any adapter) or `cpu`. */
    device: DeviceChoice;
    /** The CPU engine's kernels: `auto` (WebAssembly SIMD if available; the default), `wasm` or `ts`. */
    cpu_kernels: CpuKernelChoice;
    /** WebAssembly kernels' threads for large products: `auto` (cores, at most 4; the default) or 1 to 64. */
    threads: ThreadsChoice;
  };
  /** Both phases' schedules: epochs, learning rates and batch size. */
  training: {
    /** Source pretraining epochs, default 20; 0 keeps the He initialisation as the pretrained model. */
    base_epochs: number;
    /** Transfer epochs on the target task; at least 0, default 20. */
    target_epochs: number;
    /** SGD learning rate of pretraining; positive, default 0.05. */
    learning_rate_base: number;
    /** SGD learning rate of the transfer, multiplied by each layer's rate from the strategy; default 0.02. */
    learning_rate_target: number;
    /** Rows per minibatch in both phases; an epoch's last, partial batch is used too. Default 32. */
    batch_size: number;
    /**
     * Null (the default): each transfer trains `target_epochs` epochs. A number: each transfer takes
     * exactly this many SGD steps whatever the size of the target set, so that a sample-efficiency sweep
     * compares sizes at one budget.
     */
    target_steps: number | null;
    /**
     * Null (the default): no early stopping. A number: a transfer stops after this many epochs without
     * a lower validation loss, and keeps the weights of its best epoch.
     */
    early_stopping_patience: number | null;
    /** `head_finetune`'s base-layer rate, as a multiple of `learning_rate_target`; >= 0, default 0.1. */
    head_finetune_base_lr_scale: number;
    /** The update rule of both phases: `sgd` (the default), `momentum`, `adam` or `adamw`. */
    optimizer: OptimizerName;
    /** Weight decay: an L2 term in the gradient, decoupled under adamw; >= 0, default 0. */
    weight_decay: number;
    /** momentum's μ; from 0 to below 1, default 0.9. */
    momentum: number;
    /** momentum: Nesterov's form; default false. */
    nesterov: boolean;
    /** adam and adamw: β₁ and β₂ (from 0 to below 1; 0.9 and 0.999) and ε (> 0; 1e-8). */
    adam_beta1: number;
    /** See `adam_beta1`. */
    adam_beta2: number;
    /** See `adam_beta1`. */
    adam_epsilon: number;
    /** `l2_sp`: α of `α/2 ‖w − w_pretrained‖²` on the base; >= 0, default 0.1. */
    l2_sp_alpha: number;
    /** `l2_sp`: β of `β/2 ‖w‖²` on the head; >= 0, default 0.01. */
    l2_sp_beta: number;
    /** `lora`: the adapters' rank r; from 1 to 1024, default 4. */
    lora_rank: number;
    /** `lora`: α, the product being scaled by α / r; > 0, default 8. */
    lora_alpha: number;
  };
  /** Recipes the config defines (`recipes:`), by name, beside the built-in ones; none by default. */
  recipes: Record<string, RecipeDefinition>;
}

/** The most rotated log files `logging.backup_count` may keep: each is checked before a run starts. */
const MAX_LOG_BACKUPS = 1000;

/** A key's default and the test its value must pass, described for error messages. */
interface Field {
  readonly default: unknown;
  readonly allowed: string;
  readonly ok: (value: unknown) => boolean;
}

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => (value: unknown) =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;

function intField(defaultValue: number | null, min: number, max?: number): Field {
  const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  const check = integer(min, max);
  return defaultValue === null
    ? { default: null, allowed: `null or an integer ${range}`, ok: (v) => v === null || check(v) }
    : { default: defaultValue, allowed: `an integer ${range}`, ok: check };
}

function oneOf(defaultValue: string, values: readonly string[]): Field {
  return {
    default: defaultValue,
    allowed: `one of ${values.join(", ")}`,
    ok: (v) => values.includes(v as string),
  };
}

const positiveRate = (defaultValue: number): Field => ({
  default: defaultValue,
  allowed: "a positive finite number",
  ok: (v) => isNumber(v) && v > 0,
});

const fraction = (defaultValue: number, allowed: string, ok: (v: number) => boolean): Field => ({
  default: defaultValue,
  allowed,
  ok: (v) => isNumber(v) && ok(v),
});

/**
 * What a β of Adam may be: below 1 once rounded to float32, as the GPU engine holds it (at most
 * 0.99999994), or `1 − β` would vanish there.
 */
const BETA_ALLOWED = "a number from 0 to below 1 in float32 (at most 0.99999994)";
const betaInFloat32 = (v: number) => v >= 0 && Math.fround(v) < 1;
/** The smallest normal float32: a smaller ε is flushed to 0 on a GPU, and 0 / 0 is NaN. */
const FLOAT32_MIN_NORMAL = 2 ** -126;

/** The fewest samples `data.base_n_samples` and `data.target_n_samples` may ask for. */
export const MIN_SAMPLES = 3;

/** `data.source` and `data.target`: checked as a whole by `parseTaskFiles` once `data.task` is known. */
const TASK_FILES_FIELD: Field = {
  default: null,
  allowed: "null or a mapping (see data.task in docs/DATA.md)",
  ok: (v) => v === null || isMapping(v),
};

/** `data` keys that the data themselves decide when `data.task` is not `synthetic`. */
const SYNTHETIC_ONLY_KEYS = ["n_features", "n_classes", "target_n_classes", "relatedness", "shift"];

/** Every known key, its default, and what it accepts. */
/** The sections of plain keys: every section but `recipes`, whose keys are the recipes' names. */
type KeyedSection = Exclude<keyof Config, "recipes">;

const SCHEMA: Record<KeyedSection, Record<string, Field>> = {
  logging: {
    level: oneOf("INFO", LOG_LEVELS),
    file: {
      default: "logs/app.log",
      allowed: "a non-empty path",
      ok: (v) => typeof v === "string" && v.trim() !== "",
    },
    max_bytes: intField(1_048_576, 1),
    backup_count: intField(3, 0, MAX_LOG_BACKUPS),
  },
  data: {
    base_n_samples: intField(2000, MIN_SAMPLES),
    target_n_samples: intField(800, MIN_SAMPLES),
    n_features: intField(20, 1),
    n_classes: intField(3, 2, MAX_CLASSES),
    target_n_classes: intField(null, 2, MAX_CLASSES),
    random_seed: intField(42, 0, MAX_SEED),
    test_fraction: fraction(0.2, "a number greater than 0 and less than 1", (v) => v > 0 && v < 1),
    relatedness: fraction(0.9, "a number from 0 to 1", (v) => v >= 0 && v <= 1),
    validation_fraction: fraction(0.2, "a number greater than 0 and less than 1", (v) => v > 0 && v < 1),
    shift: oneOf("mixed", SHIFTS),
    task: oneOf("synthetic", TASK_KINDS),
    standardize: {
      default: null,
      allowed: `null, ${STANDARDIZE_KINDS.join(" or ")}`,
      ok: (v) => v === null || (STANDARDIZE_KINDS as readonly unknown[]).includes(v),
    },
    source: TASK_FILES_FIELD,
    target: TASK_FILES_FIELD,
  },
  model: {
    hidden_dim: intField(32, 1),
    hidden_dims: {
      default: null,
      allowed: "null or a non-empty list of integers >= 1, e.g. [64, 64]",
      ok: (v) => v === null || (Array.isArray(v) && v.length > 0 && v.every(integer(1))),
    },
  },
  engine: {
    device: oneOf("auto", DEVICE_CHOICES),
    cpu_kernels: oneOf("auto", CPU_KERNEL_CHOICES),
    threads: {
      default: "auto",
      allowed: `auto or an integer from 1 to ${MAX_THREADS}`,
      ok: (v) => v === "auto" || integer(1, MAX_THREADS)(v),
    },
  },
  training: {
    base_epochs: intField(20, 0),
    target_epochs: intField(20, 0),
    learning_rate_base: positiveRate(0.05),
    learning_rate_target: positiveRate(0.02),
    batch_size: intField(32, 1),
    target_steps: intField(null, 1),
    early_stopping_patience: intField(null, 1),
    head_finetune_base_lr_scale: fraction(0.1, "a finite number >= 0", (v) => v >= 0),
    optimizer: oneOf("sgd", OPTIMIZER_NAMES),
    weight_decay: fraction(0, "a finite number >= 0", (v) => v >= 0),
    momentum: fraction(0.9, "a number from 0 to below 1", (v) => v >= 0 && v < 1),
    nesterov: { default: false, allowed: "true or false", ok: (v) => typeof v === "boolean" },
    adam_beta1: fraction(0.9, BETA_ALLOWED, betaInFloat32),
    adam_beta2: fraction(0.999, BETA_ALLOWED, betaInFloat32),
    adam_epsilon: fraction(
      1e-8,
      "a number from 1.2e-38 (float32's smallest normal) up",
      (v) => Math.fround(v) >= FLOAT32_MIN_NORMAL && Number.isFinite(v),
    ),
    l2_sp_alpha: fraction(0.1, "a finite number >= 0", (v) => v >= 0),
    l2_sp_beta: fraction(0.01, "a finite number >= 0", (v) => v >= 0),
    lora_rank: intField(4, 1, 1024),
    lora_alpha: positiveRate(8),
  },
};

/** The configuration when the file sets nothing. */
export function defaultConfig(): Config {
  const sections = Object.entries(SCHEMA).map(([section, fields]) => [
    section,
    Object.fromEntries(Object.entries(fields).map(([key, field]) => [key, structuredClone(field.default)])),
  ]);
  return { ...Object.fromEntries(sections), recipes: {} } as Config;
}

/**
 * Throws {@linkcode UsageError} unless every one of `names` (given by `flag`) is a recipe of `spec`:
 * a built-in one or one the config defines.
 */
export function checkStrategies(spec: ExperimentSpec, names: readonly string[], flag: string): void {
  const unknown = names.find((name) => !spec.strategies.includes(name));
  if (unknown === undefined) return;
  const own = spec.strategies.filter((name) => !(STRATEGY_NAMES as readonly string[]).includes(name));
  throw new UsageError(
    `${flag}: no recipe '${clip(unknown)}'; the built-in ones are ${STRATEGY_NAMES.join(", ")}` +
      (own.length === 0
        ? ", and the config defines none (see recipes: in docs/RECIPES.md)"
        : `; the config defines ${own.join(", ")}`),
  );
}

/** The optimizer the `training` section asks for. */
function optimizerSpec({ training }: Config): OptimizerSpec {
  return {
    name: training.optimizer,
    weightDecay: training.weight_decay,
    momentum: training.momentum,
    nesterov: training.nesterov,
    beta1: training.adam_beta1,
    beta2: training.adam_beta2,
    epsilon: training.adam_epsilon,
  };
}

/** Hidden layer widths: `model.hidden_dims` when set, else `[model.hidden_dim]`. */
function hiddenDims(config: Config): number[] {
  return config.model.hidden_dims ?? [config.model.hidden_dim];
}

/** The target task's class count: `data.target_n_classes` when set, else `data.n_classes`. */
function targetClasses(config: Config): number {
  return config.data.target_n_classes ?? config.data.n_classes;
}

/**
 * What the configuration asks of the experiment: the tasks, the model, both phases, the strategies.
 * Real data (`data.task` not `synthetic`) come as `real`, read by `datasets.ts`, whose `withDataShape`
 * has set the config's widths to theirs.
 */
export function experimentSpec(config: Config, real: RealTasks | null = null): ExperimentSpec {
  if ((config.data.task === "synthetic") !== (real === null)) {
    throw new Error(`data.task ${config.data.task} needs ${real === null ? "its pools" : "no pools"}`);
  }
  const { training } = config;
  const layers = hiddenDims(config).length + 1;
  return {
    data: dataSpec(config, real),
    hiddenDims: hiddenDims(config),
    pretrain: {
      epochs: training.base_epochs,
      steps: null,
      batchSize: training.batch_size,
      learningRate: training.learning_rate_base,
      patience: null,
      optimizer: optimizerSpec(config),
    },
    transfer: {
      epochs: training.target_epochs,
      steps: training.target_steps,
      batchSize: training.batch_size,
      learningRate: training.learning_rate_target,
      patience: training.early_stopping_patience,
      optimizer: optimizerSpec(config),
    },
    recipes: {
      ...builtInRecipes(layers, {
        headFinetuneBaseScale: training.head_finetune_base_lr_scale,
        l2sp: { alpha: training.l2_sp_alpha, beta: training.l2_sp_beta },
        lora: { rank: training.lora_rank, alpha: training.lora_alpha },
      }),
      ...Object.fromEntries(
        Object.entries(config.recipes).map(([name, r]) => [name, resolveRecipe(r, layers)]),
      ),
    },
    strategies: [...STRATEGY_NAMES, ...Object.keys(config.recipes)],
  };
}

/** What the `data` section asks of the generator (`makeTransferData` in data.ts). */
function dataSpec(config: Config, real: RealTasks | null): DataSpec {
  return {
    sourceSamples: config.data.base_n_samples,
    targetSamples: config.data.target_n_samples,
    features: config.data.n_features,
    sourceClasses: config.data.n_classes,
    targetClasses: targetClasses(config),
    relatedness: config.data.relatedness,
    testFraction: config.data.test_fraction,
    validationFraction: config.data.validation_fraction,
    shift: config.data.shift,
    seed: config.data.random_seed,
    real,
  };
}

/**
 * Reads, parses and validates a config file, then applies `RANDOM_SEED` from `env` when present.
 * Throws {@linkcode UsageError} on any problem.
 */
export function loadConfig(path: string, env: Readonly<Record<string, string | undefined>>): Config {
  const text = readInputFile(path, "the config file", "pass --config with a readable YAML file");
  const config = parseConfig(text, clip(path, MAX_PATH_QUOTE));
  if (env.RANDOM_SEED !== undefined) config.data.random_seed = parseSeed(env.RANDOM_SEED);
  return config;
}

/**
 * Reads a small text file (the config or `.env`): refuses, with a one-line {@linkcode UsageError}
 * naming `path` and ending with `fix`, anything that is not a regular file (after following symlinks:
 * a folder, a FIFO, `/dev/zero`, a path ending in a slash) or is over {@linkcode MAX_INPUT_FILE_BYTES}; errors of `Deno.statSync`
 * such as `NotFound` and `NotCapable` propagate for the caller to word.
 */
export function readInputFile(path: string, what: string, fix: string): string {
  const bytes = readInputBytes(path, what, fix, MAX_INPUT_FILE_BYTES, "a config is a few hundred bytes");
  return new TextDecoder().decode(bytes);
}

/**
 * The bytes of a regular file at most `maxBytes` long (a checkpoint, say); refused with a one-line
 * {@linkcode UsageError} naming `path` and ending with `fix` as {@linkcode readInputFile} refuses,
 * `hint` saying in the size refusal what such a file usually weighs.
 */
export function readInputBytes(
  path: string,
  what: string,
  fix: string,
  maxBytes: number,
  hint: string,
): Uint8Array {
  const where = clip(path, MAX_PATH_QUOTE);
  if (namesFolder(path)) {
    throw new UsageError(`${where}: ${what} ends with a slash or a dot, so it names a folder; ${fix}`);
  }
  let info: Deno.FileInfo;
  let bytes: Uint8Array | undefined;
  try {
    info = Deno.statSync(path);
    if (info.isFile && info.size <= maxBytes) bytes = Deno.readFileSync(path);
  } catch (error) {
    throw new UsageError(`${where}: cannot read ${what} (${clip(errorMessage(error), 200)}); ${fix}`);
  }
  if (!info.isFile) {
    const kind = info.isDirectory ? "a folder" : "not a regular file (a device, FIFO or socket is refused)";
    throw new UsageError(`${where}: ${what} is ${kind}; ${fix}`);
  }
  if (bytes === undefined || bytes.length > maxBytes) {
    throw new UsageError(
      `${where}: ${what} is ${formatBytes(info.size)}, over the ${
        formatBytes(maxBytes)
      } limit; ${fix} (${hint})`,
    );
  }
  return bytes;
}

/** Parses and validates config text; `source` names the file in error messages. */
export function parseConfig(text: string, source: string): Config {
  source = clip(source, MAX_PATH_QUOTE);
  const config = defaultConfig();
  if (text.length > MAX_INPUT_FILE_BYTES) {
    throw new UsageError(
      `${source}: the config is ${text.length} characters, over the ${MAX_INPUT_FILE_BYTES} limit; ` +
        `shorten it (a config is a few hundred bytes)`,
    );
  }
  const document = parseYaml(text, source);
  const given = new Set<string>(); // the data keys the file sets
  if (document === undefined || document === null) return config;
  if (!withinNodeBudget(document)) {
    throw new UsageError(
      `${source}: the document holds more than ${MAX_DOCUMENT_NODES} values (counting each use of a YAML ` +
        `alias *name); a config needs a few dozen, so remove the nested anchors and aliases`,
    );
  }
  if (!isMapping(document)) {
    throw new UsageError(`${source}: the top level must be a mapping of sections (${sectionList()})`);
  }
  for (const [section, values] of Object.entries(document)) {
    if (section === "recipes") {
      config.recipes = parseRecipes(values, source);
      continue;
    }
    if (!Object.hasOwn(SCHEMA, section)) {
      throw new UsageError(
        `${source}: unknown section '${clip(section)}'; known sections are ${sectionList()}`,
      );
    }
    const fields = SCHEMA[section as KeyedSection];
    if (values === null) continue; // a section left empty keeps its defaults
    if (!isMapping(values)) {
      throw new UsageError(
        `${source}: ${section} must be a mapping of keys (${Object.keys(fields).join(", ")})`,
      );
    }
    for (const [key, value] of Object.entries(values)) {
      if (!Object.hasOwn(fields, key)) {
        throw new UsageError(
          `${source}: unknown key ${section}.${clip(key)}; known keys in ${section}: ${
            Object.keys(fields).join(", ")
          }`,
        );
      }
      if (!fields[key].ok(value)) {
        throw new UsageError(
          `${source}: ${section}.${key} must be ${fields[key].allowed}, got ${show(value)}`,
        );
      }
      (config[section as KeyedSection] as Record<string, unknown>)[key] = value;
      if (section === "data") given.add(key);
    }
  }
  checkDataTask(config, given, source);
  checkRecipeLayers(config.recipes, hiddenDims(config).length + 1, source);
  checkSplits(config, source);
  checkRunSize(config, source);
  return config;
}

/**
 * Refuses a config whose run would need too much memory or work (`estimateRunBytes`,
 * `estimateRunWork`); `source` names the file. Real data's loader calls it again with their widths.
 */
export function checkRunSize(config: Config, source: string): void {
  checkMemory(config, source);
  checkWork(config, source);
}

/**
 * Refuses a config whose run would take more than {@linkcode MAX_RUN_STEPS} SGD steps or
 * {@linkcode MAX_RUN_MULTIPLY_ADDS} multiply-adds (see `estimateRunWork`): a run that would not end.
 */
function checkWork(config: Config, source: string): void {
  const need = estimateRunWork(config);
  const lengths = "training.base_epochs, training.target_epochs or training.target_steps";
  if (need.steps > MAX_RUN_STEPS) {
    throw new UsageError(
      `${source}: a run of this config takes about ${
        need.steps.toPrecision(3)
      } SGD steps, over the limit of ` +
        `${MAX_RUN_STEPS.toPrecision(1)}; lower ${lengths}, or raise training.batch_size`,
    );
  }
  if (need.multiplyAdds > MAX_RUN_MULTIPLY_ADDS) {
    throw new UsageError(
      `${source}: a run of this config takes about ${need.multiplyAdds.toPrecision(3)} multiply-adds, over ` +
        `the limit of ${MAX_RUN_MULTIPLY_ADDS.toPrecision(1)} (a day on a laptop); lower ${lengths}, ` +
        `the sample counts or the model's widths`,
    );
  }
}

/** Refuses a config whose run would need more than {@linkcode MAX_RUN_BYTES} (see `estimateRunBytes`). */
function checkMemory(config: Config, source: string): void {
  const need = estimateRunBytes(config);
  if (need.total <= MAX_RUN_BYTES) return;
  const hidden = config.model.hidden_dims === null ? "model.hidden_dim" : "model.hidden_dims";
  const largest = Math.max(need.data, need.model, need.activations);
  const keys = largest === need.data
    ? "data.base_n_samples, data.target_n_samples, data.n_features"
    : largest === need.model
    ? `${hidden}, data.n_features`
    : config.training.batch_size > 256
    ? `training.batch_size, ${hidden}`
    : hidden;
  throw new UsageError(
    `${source}: a run of this config needs about ${formatBytes(need.total)} (data ${
      formatBytes(need.data)
    }, ` +
      `model ${formatBytes(need.model)}, activations ${formatBytes(need.activations)}), over the ` +
      `${formatBytes(MAX_RUN_BYTES)} limit; lower ${keys}`,
  );
}

/** The one YAML document in `text` (undefined when there is none, e.g. only comments). */
function parseYaml(text: string, source: string): unknown {
  let documents: unknown[];
  try {
    documents = yaml.loadAll(text, null, { filename: source });
  } catch (error) {
    if (error instanceof RangeError) {
      throw new UsageError(`${source}: the YAML is nested too deeply to parse; a config needs two levels`);
    }
    if (!(error instanceof yaml.YAMLException)) throw error;
    const mark = error.mark;
    const where = mark ? `${source}:${mark.line + 1}:${mark.column + 1}` : source;
    throw new UsageError(
      `${where}: YAML syntax error: ${clip(String(error.reason), 200)}; fix the YAML at that position`,
    );
  }
  if (documents.length > 1) {
    throw new UsageError(`${source}: holds ${documents.length} YAML documents (separated by ---); keep one`);
  }
  return documents[0];
}

/** Parses `RANDOM_SEED`; throws {@linkcode UsageError} unless it is an integer from 0 to 2³²−1. */
export function parseSeed(text: string): number {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || value > MAX_SEED) {
    throw new UsageError(
      `RANDOM_SEED (environment or .env) must be an integer from 0 to ${MAX_SEED}, got '${clip(text)}'`,
    );
  }
  return value;
}

/** What a `.env` file holds for the programs: `RANDOM_SEED` if set, and warnings about near misses. */
export interface DotEnv {
  /** The value of the last `RANDOM_SEED=` line, unparsed; undefined when there is none. */
  readonly seed: string | undefined;
  /** One line each, for keys spelt almost like `RANDOM_SEED` (e.g. `random_seed`), which are ignored. */
  readonly warnings: string[];
}

const ENV_LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$/;

/**
 * Parses `.env` text: `KEY=value` lines (optionally `export KEY=value`; the value optionally in
 * single or double quotes; unquoted, a ` #` starts a comment), blank lines and `#` comment lines.
 * Any other line is a one-line {@linkcode UsageError} naming `source:LINE`. A key that differs from
 * `RANDOM_SEED` only in case or separators is ignored with a warning.
 */
export function parseDotEnv(text: string, source = ".env"): DotEnv {
  let seed: string | undefined;
  const warnings: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*(#.*)?$/.test(line)) continue;
    const match = ENV_LINE.exec(line);
    const value = match ? envValue(match[2]) : undefined;
    if (!match || value === undefined) {
      throw new UsageError(
        `${source}:${i + 1}: not a KEY=value line (got '${clip(line)}'); write it as KEY=value ` +
          `(e.g. RANDOM_SEED=7, # starts a comment) or remove it`,
      );
    }
    const key = match[1];
    if (key === "RANDOM_SEED") {
      seed = value;
    } else if (key.replace(/[^A-Za-z0-9]/g, "").toUpperCase() === "RANDOMSEED") {
      warnings.push(
        `${source}:${i + 1}: ${
          clip(key)
        } is ignored; only RANDOM_SEED (upper case, one underscore) sets the seed`,
      );
    }
  }
  return { seed, warnings };
}

/** A `.env` value without its quotes or trailing comment; undefined when a quote is not closed. */
function envValue(raw: string): string | undefined {
  const quote = raw[0];
  if (quote === '"' || quote === "'") {
    const end = raw.indexOf(quote, 1);
    if (end < 0 || !/^\s*(#.*)?$/.test(raw.slice(end + 1))) return undefined;
    return raw.slice(1, end);
  }
  return raw.replace(/\s+#.*$/, "").replace(/^#.*$/, "");
}

/**
 * Validates `data.source` and `data.target` for `data.task`, and refuses a key (in `given`) that
 * real data decide themselves.
 */
function checkDataTask(config: Config, given: ReadonlySet<string>, source: string): void {
  const { task } = config.data;
  config.data.source = parseTaskFiles(config.data.source, task, "source", source);
  config.data.target = parseTaskFiles(config.data.target, task, "target", source);
  if (task === "synthetic") {
    if (config.data.standardize !== null) {
      throw new UsageError(`${source}: data.standardize is read only for real data (data.task); remove it`);
    }
    return;
  }
  const decided = SYNTHETIC_ONLY_KEYS.filter((key) => given.has(key)).map((key) => `data.${key}`);
  if (decided.length > 0) {
    throw new UsageError(
      `${source}: ${decided.join(", ")} shape the synthetic tasks alone; with data.task: ${task} the data ` +
        `give the features and classes, and two real tasks have no relatedness or shift, so remove ${
          decided.length === 1 ? "it" : "them"
        }`,
    );
  }
}

function checkSplits(config: Config, source: string): void {
  if (config.data.task !== "synthetic") return checkLabelledSplits(config, source);
  const { test_fraction: testFraction, validation_fraction: validationFraction } = config.data;
  for (const key of ["base_n_samples", "target_n_samples"] as const) {
    const n = config.data[key];
    const counts = splitCounts(n, { testFraction, validationFraction });
    if (Math.min(counts.train, counts.validation, counts.test) < 1) {
      throw new UsageError(
        `${source}: data.${key} = ${n} with data.test_fraction = ${testFraction} and data.validation_fraction = ` +
          `${validationFraction} leaves ${counts.train} training, ${counts.validation} validation and ${counts.test} ` +
          `test samples; raise data.${key} or change the fractions so that each is at least 1`,
      );
    }
  }
}

/** As `checkSplits`, for real data: the labelled rows of each task leave at least 1 to train and 1 to validate. */
function checkLabelledSplits(config: Config, source: string): void {
  const { validation_fraction: validationFraction } = config.data;
  for (const key of ["base_n_samples", "target_n_samples"] as const) {
    const n = config.data[key];
    const counts = labelledCounts(n, validationFraction);
    if (Math.min(counts.train, counts.validation) < 1) {
      throw new UsageError(
        `${source}: data.${key} = ${n} labelled rows with data.validation_fraction = ${validationFraction} leaves ` +
          `${counts.train} training and ${counts.validation} validation rows; raise data.${key} or change the ` +
          `fraction so that each is at least 1`,
      );
    }
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sectionList(): string {
  return [...Object.keys(SCHEMA), "recipes"].join(", ");
}
