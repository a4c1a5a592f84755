/**
 * The config's real-data keys: `data.task` picks the tasks, and for `csv`, `idx` and `digits` the
 * mappings `data.source` and `data.target` say which file and which rows form each task:
 *
 *     data:
 *       task: csv                    # synthetic (the default), digits, csv or idx
 *       source: {file: source.csv, label: species, features: null, classes: null}
 *       target: {file: target.csv, label: species}
 *     # idx:    {images: train-images-idx3-ubyte.gz, labels: train-labels-idx1-ubyte.gz, classes: [0, 1, 2, 3, 4]}
 *     # digits: {classes: [0, 1, 2, 3, 4]}   (optional: source 0–4 and target 5–9 by default)
 *
 * Paths are read relative to the config file's folder. `classes` picks the labels that form the task,
 * in class order (the rows with other labels are left out); null takes every label in the file.
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";
import { clip, show } from "./limits.ts";

/** The kinds of task (`data.task`): generated, the built-in digits, or a user's CSV or IDX files. */
export const TASK_KINDS = ["synthetic", "digits", "csv", "idx"] as const;
/** One of {@linkcode TASK_KINDS}. */
export type TaskKind = typeof TASK_KINDS[number];

/** What `data.source` or `data.target` says of one real task, validated for its `data.task`. */
export type TaskFiles =
  | { readonly kind: "digits"; readonly classes: readonly string[] }
  | {
    readonly kind: "csv";
    /** The CSV file. */
    readonly file: string;
    /** The label column's name. */
    readonly label: string;
    /** The feature columns, or null for every column but the label. */
    readonly features: readonly string[] | null;
    /** The labels that form the task, in class order, or null for every label in the file. */
    readonly classes: readonly string[] | null;
  }
  | {
    readonly kind: "idx";
    /** The IDX file of the inputs, `[n, ...]`. */
    readonly images: string;
    /** The IDX file of the labels, `[n]`. */
    readonly labels: string;
    /** As for csv. */
    readonly classes: readonly string[] | null;
  };

/** The digits each task takes when `data.task` is `digits` and the config names none. */
export const DIGITS_CLASSES: Readonly<Record<"source" | "target", readonly string[]>> = {
  source: ["0", "1", "2", "3", "4"],
  target: ["5", "6", "7", "8", "9"],
};

const KEYS: Record<Exclude<TaskKind, "synthetic">, readonly string[]> = {
  digits: ["classes"],
  csv: ["file", "label", "features", "classes"],
  idx: ["images", "labels", "classes"],
};

/**
 * `value`, the config's `data.<side>` (`side` is `source` or `target`), validated for `task`: null
 * for synthetic tasks, else the task's files. Throws {@linkcode UsageError} naming `source` (the
 * config file) and the key path.
 */
export function parseTaskFiles(
  value: unknown,
  task: TaskKind,
  side: "source" | "target",
  source: string,
): TaskFiles | null {
  const where = `${source}: data.${side}`;
  if (task === "synthetic") {
    if (value === null || value === undefined) return null;
    throw new UsageError(
      `${where} is read only when data.task is digits, csv or idx; remove it or set data.task`,
    );
  }
  if (value === null || value === undefined) {
    if (task === "digits") return { kind: "digits", classes: DIGITS_CLASSES[side] };
    throw new UsageError(`${where} is missing; data.task: ${task} needs {${KEYS[task].join(", ")}}`);
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(`${where} must be a mapping with keys ${KEYS[task].join(", ")}, got ${show(value)}`);
  }
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !KEYS[task].includes(key));
  if (unknown !== undefined) {
    throw new UsageError(
      `${where}: unknown key ${clip(unknown)} for data.task: ${task}; known keys: ${KEYS[task].join(", ")}`,
    );
  }
  const classes = names(fields.classes, `${where}.classes`, "class labels, e.g. [0, 1, 2]");
  if (task === "digits") return { kind: "digits", classes: digitClasses(classes, where) };
  if (task === "idx") {
    return {
      kind: "idx",
      images: path(fields.images, `${where}.images`),
      labels: path(fields.labels, `${where}.labels`),
      classes,
    };
  }
  return {
    kind: "csv",
    file: path(fields.file, `${where}.file`),
    label: fields.label === undefined ? "label" : text(fields.label, `${where}.label`, "a column name"),
    features: names(fields.features, `${where}.features`, "column names"),
    classes,
  };
}

/** A required, non-empty path. */
function path(value: unknown, where: string): string {
  if (value === undefined) throw new UsageError(`${where} is missing; give the file's path`);
  return text(value, where, "a file's path (relative to the config's folder)");
}

/** A non-empty string. */
function text(value: unknown, where: string, what: string): string {
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  throw new UsageError(`${where} must be ${what}, got ${show(value)}`);
}

/**
 * Null, or a non-empty list of distinct names. A number becomes its shortest decimal text as YAML read
 * it (`3` is "3", but `1.50` is "1.5"): a label such as `1.50` must be quoted to match the file's text.
 */
function names(value: unknown, where: string, what: string): string[] | null {
  if (value === null || value === undefined) return null;
  const ok = Array.isArray(value) && value.length > 0 &&
    value.every((v) => (typeof v === "string" && v.trim() !== "") || Number.isFinite(v));
  if (!ok) throw new UsageError(`${where} must be null or a non-empty list of ${what}, got ${show(value)}`);
  const list = (value as (string | number)[]).map((v) => String(v).trim());
  const repeated = list.find((v, i) => list.indexOf(v) !== i);
  if (repeated !== undefined) {
    throw new UsageError(`${where} lists '${clip(repeated)}' twice; list each once`);
  }
  return list;
}

/** The digits task's classes: at least two of the digits 0 to 9. */
function digitClasses(classes: string[] | null, where: string): string[] {
  if (classes === null) throw new UsageError(`${where}.classes must list digits, e.g. [0, 1, 2, 3, 4]`);
  const bad = classes.find((c) => !/^[0-9]$/.test(c));
  if (bad !== undefined || classes.length < 2) {
    throw new UsageError(
      `${where}.classes must list at least two of the digits 0 to 9, got ${show(classes)}`,
    );
  }
  return classes;
}

/** `files` with each path resolved by `resolve` (against the config's folder). */
export function resolveTaskFiles(
  files: TaskFiles | null,
  resolve: (path: string) => string,
): TaskFiles | null {
  if (files === null || files.kind === "digits") return files;
  return files.kind === "csv"
    ? { ...files, file: resolve(files.file) }
    : { ...files, images: resolve(files.images), labels: resolve(files.labels) };
}

/** The data files the tasks read, with their config keys: inputs that no output may replace. */
export function taskFileRoles(
  tasks: Readonly<Record<"source" | "target", TaskFiles | null>>,
): { role: string; path: string }[] {
  return (["source", "target"] as const).flatMap((side) => {
    const files = tasks[side];
    const role = (key: string) => `the data file (data.${side}.${key})`;
    if (files === null || files.kind === "digits") return [];
    return files.kind === "csv"
      ? [{ role: role("file"), path: files.file }]
      : [{ role: role("images"), path: files.images }, { role: role("labels"), path: files.labels }];
  });
}
