/**
 * The two tasks a {@linkcode DataSpec} asks for: generated (`data.ts`) or split from real pools
 * (`real_data.ts`, standardised by statistics of the source's training split alone).
 *
 * @module
 */

import {
  type DataSpec,
  makeTransferData,
  splitCounts,
  type TaskData,
  type TransferData,
  validationCount,
  withTrainRows,
} from "./data.ts";
import { fitStandardization, type RealTasks, type Standardization, standardize } from "./pool.ts";
import { type LabelledCounts, splitPool } from "./real_data.ts";

/** Both tasks of `spec`, bit-identical for the same spec (and, for real data, the same pools). */
export function transferData(spec: DataSpec): TransferData {
  return spec.real === null ? makeTransferData(spec) : realTransferData(spec, spec.real, null);
}

/**
 * The target task at each training-set size, with one validation and one test set of the configured
 * sizes for all: made once with as many training rows as the largest size, then cut down (the rows
 * are in random order, so each cut is a random sample, and the smaller sets nest in the larger).
 * With `sizes` null, the configured target task alone.
 */
export function targetSets(spec: DataSpec, sizes: readonly number[] | null): [number, TaskData][] {
  if (sizes === null) {
    const { target } = transferData(spec);
    return [[target.train.n, target]];
  }
  const largest = Math.max(...sizes);
  let target: TaskData;
  if (spec.real === null) {
    const { validation, test } = splitCounts(spec.targetSamples, spec);
    const total = largest + validation + test;
    const fractions = { testFraction: test / total, validationFraction: validation / (total - test) };
    target = makeTransferData({ ...spec, targetSamples: total, ...fractions }).target;
  } else {
    target = realTransferData(spec, spec.real, largest).target;
  }
  return sizes.map((rows) => [rows, withTrainRows(target, rows)]);
}

/** The source task's training rows under `spec`. */
export function sourceTrainRows(spec: DataSpec): number {
  return spec.real === null
    ? splitCounts(spec.sourceSamples, spec).train
    : labelledCounts(spec.sourceSamples, spec.validationFraction).train;
}

/** The target task's training rows under `spec` (before any sample-efficiency sweep cuts them). */
export function targetTrainRows(spec: DataSpec): number {
  return spec.real === null
    ? splitCounts(spec.targetSamples, spec).train
    : labelledCounts(spec.targetSamples, spec.validationFraction).train;
}

/** The labelled rows `n` of a real task split as the config's validation fraction says. */
export function labelledCounts(n: number, validationFraction: number): LabelledCounts {
  const validation = validationCount(n, validationFraction);
  return { train: n - validation, validation };
}

/** Real tasks split and standardised; `targetTrain`, when given, replaces the target's training rows. */
function realTransferData(spec: DataSpec, real: RealTasks, targetTrain: number | null): TransferData {
  const { testFraction, validationFraction, seed } = spec;
  const source = splitPool(
    real.source,
    labelledCounts(spec.sourceSamples, validationFraction),
    testFraction,
    seed,
    "source",
  );
  const counts = labelledCounts(spec.targetSamples, validationFraction);
  const target = splitPool(
    real.target,
    { ...counts, train: targetTrain ?? counts.train },
    testFraction,
    seed,
    "target",
  );
  const s = typeof real.standardize === "object"
    ? real.standardize
    : fitStandardization(source.train.x, source.train.n, source.train.features, real.standardize);
  return { source: standardized(source, s), target: standardized(target, s), standardization: s };
}

/** Every split of `task` standardised by `s`. */
function standardized(task: TaskData, s: Standardization): TaskData {
  const each = (d: TaskData["train"]) => ({ ...d, x: standardize(d.x, s) });
  return { train: each(task.train), validation: each(task.validation), test: each(task.test) };
}
