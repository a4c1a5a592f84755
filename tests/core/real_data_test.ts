/** The stratified split of a real task's pool, and the standardisation fitted on a training split. */

import assert from "node:assert/strict";
import { fitStandardization, type LabelledPool, standardize } from "../../src/core/pool.ts";
import { classSplits, labelledRowsLeft, splitPool } from "../../src/core/real_data.ts";
import type { Dataset } from "../../src/core/data.ts";
import { Rng } from "../../src/core/rng.ts";

/** A pool of `counts[k]` rows of class k, 2 features each: row i holds (i, label). */
function pool(counts: readonly number[]): LabelledPool {
  const labels = counts.flatMap((n, k) => Array<number>(n).fill(k));
  const x = Float32Array.from(labels.flatMap((label, i) => [i, label]));
  return {
    x,
    labels: Uint32Array.from(labels),
    n: labels.length,
    features: 2,
    classNames: counts.map((_, k) => `c${k}`),
    featureNames: ["row", "label"],
    origin: "test",
  };
}

/** The pool rows (their first feature) a split holds, in order. */
const rowsOf = (d: Dataset) => Array.from({ length: d.n }, (_, i) => d.x[2 * i]);
const countOf = (d: Dataset, k: number) => d.labels.filter((label) => label === k).length;

Deno.test("classSplits: each class's test share first, then the labelled counts in proportion to the rows left", () => {
  // 10, 20, 30 rows; test 20% → 2, 4, 6; left 8, 16, 24 (in 1 : 2 : 3).
  const splits = classSplits(pool([10, 20, 30]), { train: 12, validation: 6 }, 0.2);
  assert.deepEqual(splits, [
    { rows: 10, test: 2, validation: 1, train: 2 },
    { rows: 20, test: 4, validation: 2, train: 4 },
    { rows: 30, test: 6, validation: 3, train: 6 },
  ]);
  assert.equal(labelledRowsLeft(pool([10, 20, 30]), 0.2), 48);
  // Equal classes and 5 rows to give: 5/3 each, the two remainders to the lower classes.
  assert.deepEqual(classSplits(pool([4, 4, 4]), { train: 5, validation: 0 }, 0.25).map((c) => c.train), [
    2,
    2,
    1,
  ]);
  assert.throws(
    () => classSplits(pool([5, 5]), { train: 9, validation: 0 }, 0.2),
    /cannot draw 9 rows from 8/,
  );
});

Deno.test("splitPool: disjoint splits of the pool's rows, labels kept, the test rows fixed by the seed alone", () => {
  const p = pool([30, 50, 20]);
  const small = splitPool(p, { train: 20, validation: 10 }, 0.2, 7, "target");
  const large = splitPool(p, { train: 60, validation: 10 }, 0.2, 7, "target");
  const all = [small.train, small.validation, small.test].flatMap(rowsOf);
  assert.equal(new Set(all).size, all.length, "no row in two splits");
  for (const d of [small.train, small.validation, small.test, large.train]) {
    rowsOf(d).forEach((row, i) => assert.equal(d.labels[i], p.labels[row], "each row keeps its label"));
  }
  assert.deepEqual(rowsOf(small.test), rowsOf(large.test), "the same test rows at every labelled size");
  assert.deepEqual(rowsOf(small.validation), rowsOf(large.validation), "and the same validation rows");
  const other = splitPool(p, { train: 20, validation: 10 }, 0.2, 8, "target");
  assert.notDeepEqual(rowsOf(other.test), rowsOf(small.test), "another seed, other test rows");
  assert.notDeepEqual(
    rowsOf(splitPool(p, { train: 20, validation: 10 }, 0.2, 7, "source").test),
    rowsOf(small.test),
    "each task draws its own stream",
  );
  assert.deepEqual([0, 1, 2].map((k) => countOf(small.test, k)), [6, 10, 4]);
});

Deno.test("splitPool: every first k training rows hold each class within one row of its share", () => {
  const p = pool([30, 50, 20]);
  const { train } = splitPool(p, { train: 60, validation: 10 }, 0.2, 3, "source");
  const shares = [0, 1, 2].map((k) => countOf(train, k) / train.n);
  for (let k = 1; k <= train.n; k++) {
    const prefix = { ...train, labels: train.labels.subarray(0, k), n: k };
    shares.forEach((share, c) =>
      assert.ok(Math.abs(countOf(prefix, c) - share * k) <= 1, `class ${c} in ${k} rows`)
    );
  }
});

Deno.test("fitStandardization: per-feature and global means and population spreads, as float64 says", () => {
  const rng = new Rng(11);
  const n = 50, features = 3;
  const x = Float32Array.from(
    { length: n * features },
    (_, i) => (i % 3 === 2 ? 4 : rng.normal() * (1 + 99 * (i % 3))),
  );
  const column = (f: number) => Array.from({ length: n }, (_, i) => x[i * features + f]);
  const moments = (v: number[]) => {
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return [mean, Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length)];
  };
  const perFeature = fitStandardization(x, n, features, "feature");
  for (let f = 0; f < features; f++) {
    const [mean, sd] = moments(column(f));
    assert.ok(Math.abs(perFeature.mean[f] - mean) <= 1e-6 * (1 + Math.abs(mean)));
    const scale = sd > 0 ? 1 / sd : 1; // the constant column is only centred
    assert.ok(Math.abs(perFeature.scale[f] - scale) <= 1e-6 * scale, `scale of feature ${f}`);
  }
  const [mean, sd] = moments(Array.from(x));
  const global = fitStandardization(x, n, features, "global");
  assert.ok(global.mean.every((m) => Math.abs(m - mean) <= 1e-5 * (1 + Math.abs(mean))));
  assert.ok(global.scale.every((s) => Math.abs(s - 1 / sd) <= 1e-6 / sd));
  const z = standardize(x, perFeature);
  assert.ok(Math.abs(z[4] - (x[4] - perFeature.mean[1]) * perFeature.scale[1]) < 1e-6);
  assert.equal(z[5], 0, "a constant column becomes 0");
});
