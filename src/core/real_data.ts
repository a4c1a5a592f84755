/**
 * Splitting a real task's pool into train, validation and test, stratified by class.
 *
 * The test split is held out first: `round(count · testFraction)` rows of each class, chosen by the
 * seed alone, so every labelled-set size of one seed is tested on the same rows. The labelled rows
 * (train + validation) are drawn from the rest, each class in proportion to its rows there.
 *
 * @module
 */

import type { Dataset, TaskData } from "./data.ts";
import type { LabelledPool } from "./pool.ts";
import { deriveSeed, Rng } from "./rng.ts";

/** How many labelled rows to draw from a pool, after its test split. */
export interface LabelledCounts {
  /** Rows to train on. */
  readonly train: number;
  /** Rows held out for validation. */
  readonly validation: number;
}

/** Per class, the rows of a pool and how a split takes them. */
export interface ClassSplit {
  /** Rows of this class in the pool. */
  readonly rows: number;
  /** Held out for test. */
  readonly test: number;
  /** Held out for validation. */
  readonly validation: number;
  /** Trained on. */
  readonly train: number;
}

/**
 * Each class's share of a split: the test rows per class, then `counts` spread over the classes in
 * proportion to the rows left (largest remainders first). Throws a plain `Error` when the pool has
 * fewer rows left than `counts` asks for; the caller checks {@linkcode labelledRowsLeft} first.
 */
export function classSplits(pool: LabelledPool, counts: LabelledCounts, testFraction: number): ClassSplit[] {
  return splitsOf(classRows(pool), counts, testFraction);
}

/** {@linkcode classSplits} of a pool whose rows, by class, are `byClass`. */
function splitsOf(
  byClass: readonly Uint32Array[],
  counts: LabelledCounts,
  testFraction: number,
): ClassSplit[] {
  const rows = byClass.map((r) => r.length);
  const test = rows.map((n) => Math.round(n * testFraction));
  const left = rows.map((n, c) => n - test[c]);
  const validation = allocate(counts.validation, left);
  const train = allocate(counts.train, left.map((n, c) => n - validation[c]));
  return rows.map((n, c) => ({ rows: n, test: test[c], validation: validation[c], train: train[c] }));
}

/** The rows of `pool` left for train and validation once each class's test rows are held out. */
export function labelledRowsLeft(pool: LabelledPool, testFraction: number): number {
  return classRows(pool).reduce((sum, r) => sum + r.length - Math.round(r.length * testFraction), 0);
}

/**
 * `pool` split as {@linkcode classSplits} says, the rows of each class shuffled by `seed` (a stream
 * per `task`) and taken in the order test, validation, train: the test rows depend on the seed alone
 * and the validation rows on the validation count too, never on `counts.train`. Each split's rows
 * interleave the classes in proportion, so any first rows of the training split are stratified too
 * (`withTrainRows` takes such a prefix).
 */
export function splitPool(
  pool: LabelledPool,
  counts: LabelledCounts,
  testFraction: number,
  seed: number,
  task: string,
): TaskData {
  const byClass = classRows(pool);
  const splits = splitsOf(byClass, counts, testFraction);
  const rng = new Rng(deriveSeed(seed, `pool:${task}`));
  const parts = byClass.map((rows, c) => {
    rng.shuffle(rows);
    const { test, validation, train } = splits[c];
    return {
      test: rows.subarray(0, test),
      validation: rows.subarray(test, test + validation),
      train: rows.subarray(test + validation, test + validation + train),
    };
  });
  const gather = (part: "train" | "validation" | "test") =>
    rowsOf(pool, interleave(parts.map((p) => p[part])));
  return { train: gather("train"), validation: gather("validation"), test: gather("test") };
}

/** Each class's row indices, in row order. */
function classRows(pool: LabelledPool): Uint32Array[] {
  const counts = new Array<number>(pool.classNames.length).fill(0);
  for (const label of pool.labels) counts[label]++;
  const rows = counts.map((n) => new Uint32Array(n)), filled = counts.map(() => 0);
  pool.labels.forEach((label, i) => (rows[label][filled[label]++] = i));
  return rows;
}

/**
 * `total` spread over slots in proportion to `capacity` (largest remainder, the lower slot first on
 * ties), never over a slot's capacity.
 */
function allocate(total: number, capacity: readonly number[]): number[] {
  const room = capacity.reduce((a, b) => a + b, 0);
  if (total > room) throw new Error(`cannot draw ${total} rows from ${room}`);
  if (total === 0) return capacity.map(() => 0);
  const quota = capacity.map((c) => (total * c) / room);
  const out = quota.map(Math.floor);
  const order = quota.map((_, c) => c).sort((a, b) => (quota[b] - out[b]) - (quota[a] - out[a]) || a - b);
  for (let k = 0, left = total - out.reduce((a, b) => a + b, 0); left > 0; k++) {
    const c = order[k % order.length];
    if (out[c] < capacity[c]) [out[c], left] = [out[c] + 1, left - 1];
  }
  return out;
}

/** The rows of every list, ordered by their position within their own list ((j + ½) / length). */
function interleave(lists: readonly Uint32Array[]): Uint32Array {
  const keyed = lists.flatMap((list, c) =>
    Array.from(list, (row, j) => ({ row, c, key: (j + 0.5) / list.length }))
  );
  keyed.sort((a, b) => a.key - b.key || a.c - b.c);
  return Uint32Array.from(keyed, (k) => k.row);
}

/** A dataset of `pool`'s rows `rows`, in that order. */
function rowsOf(pool: LabelledPool, rows: Uint32Array): Dataset {
  const { features } = pool;
  const x = new Float32Array(rows.length * features);
  rows.forEach((row, i) => x.set(pool.x.subarray(row * features, (row + 1) * features), i * features));
  const labels = Uint32Array.from(rows, (row) => pool.labels[row]);
  return { x, labels, n: rows.length, features, classes: pool.classNames.length };
}
