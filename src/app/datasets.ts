/**
 * Reading the real tasks a config asks for (`data.task` digits, csv or idx) into pools, checking them
 * against the config before any work, and the config with the data's widths in it.
 *
 * @module
 */

import { checkRunSize, type Config, MIN_SAMPLES, readInputBytes } from "./config.ts";
import type { TaskFiles } from "./data_config.ts";
import { digitsPool } from "./digits.ts";
import { parseCsvPool } from "./csv_data.ts";
import { idxPool, parseIdx } from "./idx_data.ts";
import { clip, MAX_CLASSES, MAX_PATH_QUOTE } from "./limits.ts";
import { UsageError } from "../core/errors.ts";
import type { LabelledPool, RealTasks } from "../core/pool.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { classSplits, labelledRowsLeft } from "../core/real_data.ts";
import { labelledCounts } from "../core/tasks.ts";

/** The largest data file read, in bytes (512 MiB): the full MNIST training set is 47 MiB. */
export const MAX_DATA_FILE_BYTES = 512 * 1024 ** 2;

/** What {@linkcode loadTasks} gives: the pools, and the config with their widths. */
export interface LoadedTasks {
  /** The pools, or null for synthetic tasks. */
  readonly real: RealTasks | null;
  /** `config` with `data.n_features`, `n_classes` and `target_n_classes` set from the data. */
  readonly config: Config;
  /** Lines for the log: each task's rows, features and classes, and the rows left out. */
  readonly notes: readonly string[];
  /** Lines for the log's WARNING level: what may make the results mislead (tasks sharing rows). */
  readonly warnings: readonly string[];
}

/**
 * Reads the tasks of `config` (its data paths resolved, as `readConfig` does) and checks them: one
 * input width for both tasks, enough rows for the sample counts, every class with at least one row in
 * each split, the run's size. Throws {@linkcode UsageError}.
 */
export async function loadTasks(config: Config): Promise<LoadedTasks> {
  const { data } = config;
  if (data.task === "synthetic") return { real: null, config, notes: [], warnings: [] };
  const notes: string[] = [];
  const source = await loadPool(data.source!, "source", notes);
  const target = await loadPool(data.target!, "target", notes);
  checkWidths(source, target);
  checkCounts(source, data.base_n_samples, config, "source");
  checkCounts(target, data.target_n_samples, config, "target");
  const shaped = withDataShape(config, source, target);
  checkRunSize(shaped, "the data");
  const standardize = data.standardize ?? (data.task === "csv" ? "feature" : "global");
  const warnings = sharedRows(source, target);
  return { real: { source, target, standardize }, config: shaped, notes, warnings };
}

/**
 * A warning when both tasks take rows of the same classes from the same file: the target's test rows
 * may then be rows the model pretrained on, and its accuracy would not be measured on unseen data.
 */
function sharedRows(source: LabelledPool, target: LabelledPool): string[] {
  if (source.origin !== target.origin) return [];
  const shared = target.classNames.filter((name) => source.classNames.includes(name));
  if (shared.length === 0) return [];
  return [
    `data.source and data.target both take rows of class ${clip(shared.join(", "))} from ` +
    `${
      clip(source.origin, MAX_PATH_QUOTE)
    }: the target's test rows may be rows the model pretrained on, so ` +
    `its target accuracy is not measured on unseen data; give the tasks other classes or other files`,
  ];
}

/** A task's feature names and class labels, as a checkpoint stores them. */
export interface TaskNames {
  /** The input's feature names. */
  readonly features: readonly string[];
  /** The output's class labels. */
  readonly classes: readonly string[];
}

/**
 * The names of both tasks' features and classes: the pools', or for synthetic tasks `x0`, `x1`, ...
 * and `0`, `1`, ...
 */
export function taskNames({ real, config }: LoadedTasks): { source: TaskNames; target: TaskNames } {
  if (real !== null) {
    const names = (pool: LabelledPool) => ({ features: pool.featureNames, classes: pool.classNames });
    return { source: names(real.source), target: names(real.target) };
  }
  const { n_features, n_classes, target_n_classes } = config.data;
  const numbered = (count: number, prefix: string) =>
    Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  const features = numbered(n_features, "x");
  return {
    source: { features, classes: numbered(n_classes, "") },
    target: { features, classes: numbered(target_n_classes ?? n_classes, "") },
  };
}

/** What the log says of `real`'s standardisation: fitted, or the one `from` (a checkpoint's path) stored. */
export function standardizationNote(real: RealTasks, from: string | null): string {
  return typeof real.standardize === "object"
    ? `features standardised (${real.standardize.kind}) with the transform stored in ${from}, not refitted`
    : `features standardised (${real.standardize}) with the statistics of the source's training split alone`;
}

/**
 * `real` to transfer from a saved pretrained model: its inputs standardised as the model's were, not
 * refitted. Refuses a checkpoint trained on real data for synthetic tasks and the other way round, or
 * on other features or classes than the config's source task (in order: the head's rows are classes).
 * Throws {@linkcode UsageError}.
 */
export function fromCheckpoint(
  real: RealTasks | null,
  source: TaskNames,
  loaded: Checkpoint,
  task: string,
): RealTasks | null {
  const { features, classes, standardization } = loaded.info;
  if ((real === null) !== (standardization === null)) {
    const trained = standardization === null ? "synthetic" : "real";
    throw new UsageError(
      `--from: the checkpoint was trained on ${trained} data and the config's data.task is ${task}; ` +
        `transfer from a model of the same kind of task`,
    );
  }
  const differs = (what: string, plural: string, saved: readonly string[], wanted: readonly string[]) => {
    const at = firstDifference(saved, wanted);
    if (at < 0) return;
    throw new UsageError(
      `--from: the checkpoint's ${what} ${at + 1} is '${clip(saved[at])}', the config's source task's ` +
        `'${clip(wanted[at])}'; transfer from a model pretrained on the same ${plural} in the same order`,
    );
  };
  differs("feature", "features", features, source.features);
  differs("class", "classes", classes, source.classes);
  return real === null ? null : { ...real, standardize: standardization! };
}

/** One task's pool, read as its `files` say; notes how many rows other labels left out. */
async function loadPool(
  files: TaskFiles,
  side: "source" | "target",
  notes: string[],
): Promise<LabelledPool> {
  const key = `data.${side}`;
  const read = (path: string, what: string, field: string) =>
    readDataBytes(path, `${what} (${key}.${field})`, `give ${key}.${field} a readable file`);
  let loaded: { pool: LabelledPool; skipped: number };
  if (files.kind === "digits") {
    loaded = { pool: await digitsPool(files.classes), skipped: 0 };
  } else if (files.kind === "csv") {
    loaded = parseCsvPool(
      readCsvText(files.file, `the CSV file (${key}.file)`, `give ${key}.file a readable CSV file`),
      files.file,
      files,
      key,
    );
  } else {
    const { images, labels } = files;
    loaded = idxPool(
      parseIdx(read(images, "the images file", "images"), images, MAX_DATA_FILE_BYTES),
      images,
      parseIdx(read(labels, "the labels file", "labels"), labels, MAX_DATA_FILE_BYTES),
      labels,
      files.classes,
      key,
    );
  }
  const { pool, skipped } = loaded;
  const classes = pool.classNames.length <= 10 ? pool.classNames.join(", ") : `${pool.classNames.length}`;
  const features = `${pool.features} feature${pool.features === 1 ? "" : "s"}`;
  notes.push(`${key}: ${pool.n} rows of ${pool.origin}, ${features}, classes ${classes}`);
  if (pool.classNames.length > MAX_CLASSES) {
    throw new UsageError(
      `${
        clip(pool.origin, MAX_PATH_QUOTE)
      }: ${pool.classNames.length} labels, over the ${MAX_CLASSES} classes ` +
        `a task may have; check that ${key}.label names the label column, or list ${key}.classes`,
    );
  }
  if (skipped > 0) {
    notes.push(`${key}: ${skipped} rows of ${pool.origin} have labels outside ${key}.classes; left out`);
  }
  return pool;
}

/**
 * The bytes of the data file at `path` (`what` says whose and `fix` what to do, for messages): a
 * regular file of at most {@linkcode MAX_DATA_FILE_BYTES}. Throws {@linkcode UsageError}.
 */
export function readDataBytes(path: string, what: string, fix: string): Uint8Array {
  return readInputBytes(path, what, fix, MAX_DATA_FILE_BYTES, "split the data, or sample fewer rows");
}

/** The text of the CSV file at `path` as {@linkcode readDataBytes} reads it, in UTF-8. */
export function readCsvText(path: string, what: string, fix: string): string {
  return csvText(readDataBytes(path, what, fix), path, what);
}

/** `bytes` (of the CSV file at `path`, `what` says whose) as UTF-8 text; other bytes are refused. */
export function csvText(bytes: Uint8Array, path: string, what: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(
      `${clip(path, MAX_PATH_QUOTE)}: not UTF-8 text (${what}); save the CSV file as UTF-8`,
    );
  }
}

/** The first index where `a` and `b` hold different names (over `a`'s length), or −1. */
function firstDifference(a: readonly string[], b: readonly string[]): number {
  return a.findIndex((name, i) => name !== b[i]);
}

/** Both tasks must feed one model: the same width, and for CSV the same columns in the same order. */
function checkWidths(source: LabelledPool, target: LabelledPool): void {
  const [s, t] = [clip(source.origin, MAX_PATH_QUOTE), clip(target.origin, MAX_PATH_QUOTE)];
  if (source.features !== target.features) {
    throw new UsageError(
      `${t}: the target task has ${target.features} features, the source task (${s}) ${source.features}; ` +
        `one model reads both, so give the tasks the same feature columns or image size`,
    );
  }
  const f = firstDifference(source.featureNames, target.featureNames);
  if (f >= 0) {
    throw new UsageError(
      `${t}: feature ${f + 1} is '${clip(target.featureNames[f])}', in the source task (${s}) ` +
        `'${
          clip(source.featureNames[f])
        }'; list the same columns in the same order in data.source.features ` +
        `and data.target.features`,
    );
  }
}

/**
 * The task's `n` labelled rows must fit in what the test split leaves, and each class must have at
 * least one row in each split.
 */
function checkCounts(pool: LabelledPool, n: number, config: Config, side: "source" | "target"): void {
  const { test_fraction: testFraction, validation_fraction: validationFraction } = config.data;
  const key = side === "source" ? "data.base_n_samples" : "data.target_n_samples";
  const origin = clip(pool.origin, MAX_PATH_QUOTE);
  const left = labelledRowsLeft(pool, testFraction);
  if (n > left) {
    throw new UsageError(
      `${origin}: ${key} = ${n} labelled rows, but the ${side} task has ${left} left once data.test_fraction = ` +
        `${testFraction} of each class is held out for test; ` +
        (left >= MIN_SAMPLES
          ? `lower ${key} to at most ${left}`
          : `give the task more rows, or lower data.test_fraction`),
    );
  }
  const splits = classSplits(pool, labelledCounts(n, validationFraction), testFraction);
  const short = splits.findIndex((c) => Math.min(c.test, c.validation, c.train) < 1);
  if (short < 0) return;
  const c = splits[short];
  const raise = c.test < 1
    ? "raise data.test_fraction"
    : c.validation < 1
    ? `raise ${key} or data.validation_fraction`
    : `raise ${key}`;
  throw new UsageError(
    `${origin}: too few rows of class '${clip(pool.classNames[short])}' to split: of its ${c.rows} rows in ` +
      `the ${side} task, the splits take ${c.test} for test, ${c.validation} for validation and ${c.train} ` +
      `for training, and each needs at least 1; ${raise}, give more rows of it, or leave it out of ` +
      `data.${side}.classes`,
  );
}

/** `config` with the data's input width and class counts in place of the synthetic keys'. */
function withDataShape(config: Config, source: LabelledPool, target: LabelledPool): Config {
  return {
    ...config,
    data: {
      ...config.data,
      n_features: source.features,
      n_classes: source.classNames.length,
      target_n_classes: target.classNames.length,
    },
  };
}
