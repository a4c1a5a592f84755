/** Seed statistics: mean, sample standard deviation, Student's t critical values, intervals, paired gains. */

import assert from "node:assert/strict";
import { mean, pairedGain, sampleStd, summarize, tCritical95 } from "../../../src/programs/compare/stats.ts";

const close = (actual: number, expected: number, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);

Deno.test("mean and sample standard deviation of a hand-computed set", () => {
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  assert.equal(mean(xs), 5);
  // Squared deviations sum to 32, over n − 1 = 7.
  close(sampleStd(xs), Math.sqrt(32 / 7));
  close(sampleStd(xs), 2.138089935299395);
  assert.equal(sampleStd([3]), 0);
});

Deno.test("summarize: the 95 % interval is mean ± t(n − 1) · std / √n", () => {
  const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(s.n, 8);
  assert.equal(s.mean, 5);
  close(s.std, 2.138089935299395);
  assert.ok(s.ci95 !== null);
  const half = 2.364624 * 2.138089935299395 / Math.sqrt(8);
  close(s.ci95[0], 5 - half);
  close(s.ci95[1], 5 + half);
  close(s.ci95[0], 3.2125122719500583);
});

Deno.test("summarize: one value has no interval; two equal values have a zero-width one", () => {
  assert.deepEqual(summarize([0.8]), { n: 1, mean: 0.8, std: 0, ci95: null });
  assert.deepEqual(summarize([0.5, 0.5]), { n: 2, mean: 0.5, std: 0, ci95: [0.5, 0.5] });
});

Deno.test("tCritical95: table values", () => {
  const table: [number, number][] = [
    [1, 12.706205],
    [2, 4.302653],
    [4, 2.776445],
    [7, 2.364624],
    [10, 2.228139],
    [30, 2.042272],
    [40, 2.021075],
    [60, 2.000298],
    [120, 1.97993],
  ];
  for (const [df, t] of table) assert.equal(tCritical95(df), t, `df ${df}`);
});

Deno.test("tCritical95: interpolation in 1/df stays within 1e-4 of the exact quantile and tends to 1.959964", () => {
  // Exact 0.975 quantiles from scipy.stats.t.ppf.
  close(tCritical95(35), 2.030108, 1e-4);
  close(tCritical95(50), 2.008559, 1e-4);
  close(tCritical95(200), 1.971896, 1e-4);
  close(tCritical95(1000), 1.962339, 1e-4);
  close(tCritical95(1e9), 1.959964, 1e-6);
  // Halfway between 1/40 and 1/60 in 1/df is df 48.
  close(tCritical95(48), (2.021075 + 2.000298) / 2);
});

Deno.test("tCritical95 decreases strictly with the degrees of freedom", () => {
  for (let df = 1; df < 2000; df++) assert.ok(tCritical95(df + 1) < tCritical95(df), `df ${df}`);
  assert.ok(tCritical95(2000) > 1.959964);
});

Deno.test("pairedGain summarizes the element-wise differences", () => {
  const a = [0.9, 0.8, 0.85];
  const b = [0.7, 0.75, 0.8];
  assert.deepEqual(pairedGain(a, b), summarize([0.9 - 0.7, 0.8 - 0.75, 0.85 - 0.8]));
  assert.deepEqual(pairedGain([1], [0.25]), { n: 1, mean: 0.75, std: 0, ci95: null });
});

Deno.test("errors: empty input, unequal pairs, impossible degrees of freedom", () => {
  assert.throws(() => mean([]), RangeError);
  assert.throws(() => sampleStd([]), RangeError);
  assert.throws(() => summarize([]), RangeError);
  assert.throws(() => pairedGain([1, 2], [1]), /same length/);
  for (const df of [0, -1, 1.5, NaN, Infinity]) assert.throws(() => tCritical95(df), RangeError, `df ${df}`);
});
