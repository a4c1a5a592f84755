/**
 * The bounds that keep bad input from hanging or exhausting the programs, and the safe quoting of
 * user text in one-line error messages: the largest config or `.env` file read, the most values a
 * YAML document may hold (aliases counted every time they are used), the memory a run may ask for,
 * and the longest quotation of a value.
 *
 * @module
 */

import { REFERENCE_ROWS } from "../core/data.ts";
import { escapeControl } from "../core/errors.ts";

/** The largest config or `.env` file read, in bytes (1 MiB); a real config is a few hundred bytes. */
export const MAX_INPUT_FILE_BYTES = 1024 * 1024;

/** The most characters of user text quoted in an error message; longer text is cut and ends with `…`. */
export const MAX_QUOTE_CHARS = 80;

/** The most characters of a path quoted in an error message: enough for any path a person types. */
export const MAX_PATH_QUOTE = 200;

/**
 * The most values (mappings, lists and scalars) a config document may hold, counting a YAML alias
 * (`*name`) once for every value it stands for, so that nested aliases ("billion laughs") are refused
 * after this many steps instead of being expanded. A full config holds about 50.
 */
export const MAX_DOCUMENT_NODES = 10_000;

/** The most memory a run's data, model copies and activations may need, by {@linkcode estimateRunBytes} (2 GiB). */
export const MAX_RUN_BYTES = 2 * 1024 ** 3;

/**
 * The most SGD steps a run may take, by {@linkcode estimateRunWork}: a hundred million, hours even
 * when each step is tiny. A bigger count is a typo (`target_epochs: 2000000000`), not an experiment.
 */
export const MAX_RUN_STEPS = 1e8;

/**
 * The most multiply-adds a run's training may need, by {@linkcode estimateRunWork}: 10¹⁵, about a day
 * on a laptop's CPU at ten billion a second.
 */
export const MAX_RUN_MULTIPLY_ADDS = 1e15;

/**
 * The most classes a task may have: half the generator's reference rows, so that its class balancing
 * gives every class at least two of them.
 */
export const MAX_CLASSES: number = REFERENCE_ROWS / 2;

/** Rows of activations the estimate assumes at least (evaluation works in blocks of about this many). */
const MIN_ACTIVATION_ROWS = 256;

/** Copies of the parameters a run holds: the engine's model, a read-back copy, the pretrained copy, gradients. */
const PARAMETER_COPIES = 4;

/** Bytes of a float32 or int32 value. */
const WORD = 4;

/**
 * `text` escaped by {@linkcode escapeControl} and cut to at most `max` characters, ending with `…`
 * when cut; only the first `max` characters of a long text are looked at.
 */
export function clip(text: string, max = MAX_QUOTE_CHARS): string {
  const escaped = escapeControl(text.slice(0, max + 1));
  if (escaped.length <= max && text.length <= max) return escaped;
  let cut = escaped.slice(0, max);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1); // do not split a surrogate pair
  return `${cut}…`;
}

/**
 * A value as the user wrote it, for an error message: numbers as numbers (`Infinity`, `NaN` too),
 * strings quoted, lists and mappings in JSON style, at most {@linkcode MAX_QUOTE_CHARS} characters and
 * one line whatever the value (huge, deeply nested, shared or cyclic).
 */
export function show(value: unknown): string {
  const parts: string[] = [];
  let length = 0;
  const limit = MAX_QUOTE_CHARS + 1;
  const emit = (text: string) => {
    parts.push(text);
    length += text.length;
  };
  const visit = (v: unknown, depth: number): void => {
    if (length > limit) return;
    if (typeof v === "string") return emit(JSON.stringify(v.slice(0, limit)));
    if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return emit(String(v));
    if (v === null) return emit("null");
    if (v === undefined) return emit("undefined");
    if (v instanceof Date) return emit(Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString());
    if (ArrayBuffer.isView(v)) return emit(`<binary, ${v.byteLength} bytes>`);
    if (typeof v !== "object") return emit(`<${typeof v}>`);
    if (depth > 8) return emit("…");
    const isList = Array.isArray(v);
    emit(isList ? "[" : "{");
    let first = true;
    if (isList) {
      for (const item of v) {
        if (length > limit) break;
        if (!first) emit(",");
        first = false;
        visit(item, depth + 1);
      }
    } else {
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        if (length > limit) break;
        if (!first) emit(",");
        first = false;
        emit(`${JSON.stringify(key.slice(0, limit))}:`);
        visit((v as Record<string, unknown>)[key], depth + 1);
      }
    }
    emit(isList ? "]" : "}");
  };
  visit(value, 0);
  return clip(parts.join(""));
}

/**
 * Whether a parsed document holds at most `max` values, counting every visit (a shared or aliased
 * value once per use); stops as soon as the count passes `max`, so a "billion laughs" document is
 * answered in about `max` steps.
 */
export function withinNodeBudget(document: unknown, max = MAX_DOCUMENT_NODES): boolean {
  const stack: unknown[] = [document];
  let count = 0;
  while (stack.length > 0) {
    const value = stack.pop();
    if (++count > max) return false;
    if (typeof value !== "object" || value === null || ArrayBuffer.isView(value) || value instanceof Date) {
      continue;
    }
    if (Array.isArray(value)) {
      if (count + stack.length + value.length > max) return false;
      for (const item of value) stack.push(item);
    } else {
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (count + stack.length >= max) return false;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return true;
}

/** The keys of a configuration that decide how much memory and work a run needs (a `Config` has them all). */
export interface RunSizes {
  /** Sample counts, input width and class counts. */
  readonly data: {
    readonly base_n_samples: number;
    readonly target_n_samples: number;
    readonly n_features: number;
    readonly n_classes: number;
    readonly target_n_classes: number | null;
  };
  /** The hidden widths. */
  readonly model: { readonly hidden_dim: number; readonly hidden_dims: readonly number[] | null };
  /** The minibatch size, and how long each phase trains. */
  readonly training: {
    readonly batch_size: number;
    readonly base_epochs: number;
    readonly target_epochs: number;
    readonly target_steps: number | null;
  };
}

/** The bytes a run needs by {@linkcode estimateRunBytes}, in its three parts. */
export interface RunBytes {
  /**
   * Both tasks as float32 features plus a 4-byte label per row, and the generator's float64 reference
   * sample (`REFERENCE_ROWS` × `n_features`, in two copies) that calibrates the labelling rules.
   */
  readonly data: number;
  /** The parameters, weights and biases as float32, times the copies a run holds (4). */
  readonly model: number;
  /** Activations and deltas of max(batch, 256) rows at every layer width, float32. */
  readonly activations: number;
  /** The sum of the three. */
  readonly total: number;
}

/**
 * An estimate of the memory a run of `config` needs, from its sizes alone:
 * data `(base_n_samples + target_n_samples) × (n_features + 1) × 4 + 2 × REFERENCE_ROWS × n_features × 8`; model
 * `4 copies × Σ (inputs × outputs + outputs) × 4` over the layers from `n_features` through the hidden
 * widths to the larger class count; activations `max(batch_size, 256) × Σ widths × 4 × 2`.
 */
export function estimateRunBytes(config: RunSizes): RunBytes {
  const { data, training } = config;
  const widths = layerWidths(config);
  const reference = 2 * REFERENCE_ROWS * data.n_features * 8;
  const dataBytes = (data.base_n_samples + data.target_n_samples) * (data.n_features + 1) * WORD + reference;
  const modelBytes = PARAMETER_COPIES * parameterCount(widths) * WORD;
  const rows = Math.max(training.batch_size, MIN_ACTIVATION_ROWS);
  const activationBytes = rows * widths.reduce((sum, width) => sum + width, 0) * WORD * 2;
  return {
    data: dataBytes,
    model: modelBytes,
    activations: activationBytes,
    total: dataBytes + modelBytes + activationBytes,
  };
}

/** The work a run needs by {@linkcode estimateRunWork}. */
export interface RunWork {
  /** SGD steps of pretraining and of one transfer. */
  readonly steps: number;
  /** Multiply-adds of those steps and of the evaluation after each epoch. */
  readonly multiplyAdds: number;
}

/**
 * An estimate of the work of one run of `config` (pretraining and one transfer): steps
 * `base_epochs · ⌈base_n_samples / batch⌉ + (target_steps or target_epochs · ⌈target_n_samples / batch⌉)`,
 * an upper bound since part of each task is held out; multiply-adds `4 · P` per sample an epoch sees
 * (forward `P`, backward `2P`, evaluation `P`, for `P` weights), the last batch of a step budget full.
 */
export function estimateRunWork(config: RunSizes): RunWork {
  const { data, training } = config;
  const weights = parameterCount(layerWidths(config));
  const batches = (samples: number) => Math.ceil(samples / training.batch_size);
  const targetSteps = training.target_steps ?? training.target_epochs * batches(data.target_n_samples);
  const targetSamples = training.target_steps === null
    ? training.target_epochs * data.target_n_samples
    : training.target_steps * training.batch_size;
  return {
    steps: training.base_epochs * batches(data.base_n_samples) + targetSteps,
    multiplyAdds: 4 * weights * (training.base_epochs * data.base_n_samples + targetSamples),
  };
}

/** The widths of a run's layers: the input, the hidden widths, the larger class count. */
function layerWidths({ data, model }: RunSizes): number[] {
  const classes = Math.max(data.n_classes, data.target_n_classes ?? data.n_classes);
  return [data.n_features, ...(model.hidden_dims ?? [model.hidden_dim]), classes];
}

/** Weights and biases of the layers between `widths`. */
function parameterCount(widths: readonly number[]): number {
  let parameters = 0;
  for (let i = 1; i < widths.length; i++) parameters += widths[i - 1] * widths[i] + widths[i];
  return parameters;
}

/** Bytes as `1.5 GiB`, `12 MiB` and so on. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${value.toPrecision(3)} ${units[unit]}`;
}
