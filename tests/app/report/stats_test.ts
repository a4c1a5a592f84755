/**
 * Seed statistics, each against something independent of the code under test: Student's t against
 * published table values and closed forms, the sign-flip test against a brute-force enumeration written
 * here, Holm against a hand-worked example, the sample size against published power tables.
 */

import assert from "node:assert/strict";
import { Rng } from "../../../src/core/rng.ts";
import {
  EXACT_SIGN_FLIP_MAX,
  holm,
  incompleteBeta,
  lnGamma,
  mean,
  pairedDifferences,
  pairedTTest,
  sampleStd,
  seedsNeeded,
  signFlipMinimumValues,
  signFlipTest,
  studentTCdf,
  studentTQuantile,
  studentTTwoSided,
  summarize,
} from "../../../src/app/report/stats.ts";

const close = (actual: number, expected: number, tolerance = 1e-9, what = "") =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what} ${actual} is not within ${tolerance} of ${expected}`,
  );

Deno.test("mean and sample standard deviation of a hand-computed set", () => {
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  assert.equal(mean(xs), 5);
  // Squared deviations sum to 32, over n − 1 = 7.
  close(sampleStd(xs), Math.sqrt(32 / 7));
  assert.equal(sampleStd([3]), 0);
});

Deno.test("Student's t quantiles match the published table (to its 3 decimals)", () => {
  // Two-sided 5 %, 10 %, 1 % and 0.1 % critical values and an 80 % one, as printed in any t table.
  const table: [p: number, df: number, t: number][] = [
    [0.975, 1, 12.706],
    [0.975, 2, 4.303],
    [0.975, 3, 3.182],
    [0.975, 4, 2.776],
    [0.975, 9, 2.262],
    [0.975, 10, 2.228],
    [0.975, 29, 2.045],
    [0.975, 30, 2.042],
    [0.975, 120, 1.980],
    [0.95, 10, 1.812],
    [0.95, 1, 6.314],
    [0.995, 5, 4.032],
    [0.9995, 10, 4.587],
    [0.8, 9, 0.883],
    [0.9, 20, 1.325],
  ];
  for (const [p, df, t] of table) {
    close(studentTQuantile(p, df), t, 5e-4, `t(${p}, ${df})`);
    close(studentTQuantile(1 - p, df), -t, 5e-4, `t(${1 - p}, ${df})`);
  }
  close(studentTQuantile(0.975, 1e6), 1.960, 5e-4, "the normal limit");
  assert.equal(studentTQuantile(0.5, 7), 0);
});

Deno.test("Student's t CDF matches its closed forms for 1 and 2 degrees of freedom", () => {
  // 1 df is the Cauchy distribution; for 2 df, F(t) = 1/2 + t / (2 √(2 + t²)).
  for (const t of [-30, -4, -1.5, -0.3, 0, 0.01, 0.7, 1, 2.5, 12.706, 100]) {
    close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-12, `F(${t}; 1)`);
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-12, `F(${t}; 2)`);
  }
  assert.equal(studentTCdf(Infinity, 5), 1);
  assert.equal(studentTCdf(-Infinity, 5), 0);
});

Deno.test("two-sided t p-values at the published critical values", () => {
  close(studentTTwoSided(2.262, 9), 0.05, 5e-4, "t = 2.262, 9 df");
  close(studentTTwoSided(-2.262, 9), 0.05, 5e-4, "t = -2.262, 9 df");
  close(studentTTwoSided(2.228, 10), 0.05, 5e-4, "t = 2.228, 10 df");
  close(studentTTwoSided(1.812, 10), 0.10, 5e-4, "t = 1.812, 10 df");
  close(studentTTwoSided(3.169, 10), 0.01, 5e-5, "t = 3.169, 10 df");
  close(studentTTwoSided(12.706, 1), 0.05, 5e-5, "t = 12.706, 1 df");
  assert.equal(studentTTwoSided(0, 4), 1);
});

Deno.test("the quantile inverts the CDF", () => {
  for (const df of [1, 2, 3, 5, 9, 29, 100, 999]) {
    for (const p of [0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.99, 0.9999]) {
      close(studentTCdf(studentTQuantile(p, df), df), p, 1e-10, `p ${p}, df ${df}`);
    }
  }
});

Deno.test("ln Γ and the incomplete beta function at known values", () => {
  close(lnGamma(1), 0, 1e-13);
  close(lnGamma(5), Math.log(24), 1e-13);
  close(lnGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-13);
  close(lnGamma(0.1), Math.log(9.513507698668732), 1e-12);
  close(lnGamma(100), 359.1342053695754, 1e-9);
  // I_x(a, 1) = x^a and I_x(1, b) = 1 − (1 − x)^b.
  for (const x of [0.01, 0.3, 0.5, 0.9, 0.999]) {
    close(incompleteBeta(x, 3.5, 1), x ** 3.5, 1e-13);
    close(incompleteBeta(x, 1, 2.5), 1 - (1 - x) ** 2.5, 1e-13);
  }
  assert.equal(incompleteBeta(0, 2, 3), 0);
  assert.equal(incompleteBeta(1, 2, 3), 1);
});

Deno.test("summarize: the t interval, cut to the possible range and marked so", () => {
  const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(s.n, 8);
  assert.equal(s.mean, 5);
  close(s.std!, Math.sqrt(32 / 7));
  // t(0.975, 7) = 2.365 in the published table.
  const half = 2.365 * Math.sqrt(32 / 7) / Math.sqrt(8);
  close(s.ci95![0], 5 - half, 1e-3);
  close(s.ci95![1], 5 + half, 1e-3);
  assert.equal(s.clipped, false);
  const high = summarize([0.99, 1, 0.9], [0, 1]);
  assert.equal(high.ci95![1], 1, "an accuracy interval ends at 100 %");
  assert.ok(high.ci95![0] > 0.7 && high.ci95![0] < 0.9);
  assert.equal(high.clipped, true);
  const unclipped = summarize([0.99, 1, 0.9]);
  assert.ok(unclipped.ci95![1] > 1, "without a range the interval passes 1");
  const gains = summarize([-0.95, -1, -0.5], [-1, 1]);
  assert.equal(gains.ci95![0], -1);
});

Deno.test("summarize: no sd for one value, no interval under three", () => {
  assert.deepEqual(summarize([0.8]), { n: 1, mean: 0.8, std: null, ci95: null, clipped: false });
  const two = summarize([0.5, 0.7]);
  assert.equal(two.ci95, null);
  close(two.std!, Math.sqrt(0.02));
  assert.ok(summarize([0.5, 0.7, 0.6]).ci95 !== null);
});

Deno.test("the paired t-test of differences", () => {
  // d = 1, 2, 3, 4, 5: mean 3, sd √2.5, t = 3 / (√2.5 / √5) = 4.2426, 4 df.
  const test = pairedTTest([1, 2, 3, 4, 5])!;
  close(test.t, 3 / Math.sqrt(2.5 / 5), 1e-12);
  assert.equal(test.df, 4);
  // Between the published two-sided 1 % (4.604) and 2 % (3.747) points of t with 4 df.
  assert.ok(test.p > 0.01 && test.p < 0.02, `${test.p}`);
  assert.equal(pairedTTest([0.1]), null);
  assert.deepEqual(pairedTTest([0, 0, 0]), { t: 0, df: 2, p: 1 });
  assert.deepEqual(pairedTTest([0.2, 0.2]), { t: Infinity, df: 1, p: 0 });
  assert.deepEqual(pairedDifferences([0.9, 0.8], [0.7, 0.8]).map((d) => Number(d.toFixed(12))), [0.2, 0]);
});

/** The sign-flip p-value by listing every sign pattern, one by one: the definition, slowly. */
function bruteForceSignFlip(integers: readonly number[]): number {
  const observed = Math.abs(integers.reduce((a, b) => a + b, 0));
  let hits = 0;
  const visit = (i: number, sum: number): void => {
    if (i === integers.length) {
      if (Math.abs(sum) >= observed) hits++;
      return;
    }
    visit(i + 1, sum + integers[i]);
    visit(i + 1, sum - integers[i]);
  };
  visit(0, 0);
  return hits / 2 ** integers.length;
}

Deno.test("the sign-flip p-value matches a brute-force enumeration of every sign pattern", () => {
  const rng = new Rng(2024);
  for (let n = 1; n <= 16; n++) {
    for (let trial = 0; trial < 4; trial++) {
      // Accuracy differences on a test set of 160 rows are multiples of 1/160: ties and zeros happen.
      const counts = Array.from({ length: n }, () => rng.below(41) - 15 - trial);
      const differences = counts.map((k) => k / 160);
      const { p, method, patterns } = signFlipTest(differences);
      assert.equal(method, "exact");
      assert.equal(p, bruteForceSignFlip(counts), `n ${n}: ${counts.join(" ")}`);
      assert.equal(patterns, 2 ** n);
    }
  }
});

Deno.test("with 5 seeds the smallest two-sided sign-flip p is 2/32 = 0.0625: nothing can be significant", () => {
  assert.equal(signFlipTest([0.1, 0.2, 0.15, 0.3, 0.05]).p, 2 / 32);
  assert.equal(signFlipTest([-0.4, -0.4, -0.4, -0.4, -0.4]).p, 0.0625);
  assert.equal(signFlipTest([0.01, 0.01, 0.01, 0.01, 0.01, 0.01]).p, 2 / 64);
  assert.equal(signFlipMinimumValues(0.05), 6, "2/2^5 = 0.0625 ≥ 0.05 > 2/2^6");
  assert.equal(signFlipMinimumValues(0.05 / 3), 7, "2/2^6 = 0.031 ≥ 0.0167 > 2/2^7");
  assert.equal(signFlipTest([0, 0, 0]).p, 1);
  assert.equal(signFlipTest([0.1]).p, 1);
});

Deno.test("beyond the exact limit the sign-flip p is a seeded Monte Carlo estimate of the exact one", () => {
  // 40 differences of ±1, 14 of them negative, sum 12. A sign pattern's sum is 2K − 40, K ~ Binomial(40, 1/2)
  // the number of + signs; |2K − 40| ≥ 12 when K ≥ 26 or K ≤ 14, so the exact p is 2 · P(K ≥ 26).
  const n = 40;
  const differences = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1 : 1));
  let choose = 1, upper = 0;
  for (let k = 0; k <= n; k++) {
    if (k >= 26) upper += choose;
    choose = choose * (n - k) / (k + 1);
  }
  const exact = 2 * upper / 2 ** n;
  const first = signFlipTest(differences);
  assert.ok(n > EXACT_SIGN_FLIP_MAX);
  assert.equal(first.method, "monte-carlo");
  close(first.p, exact, 4 * Math.sqrt(exact * (1 - exact) / first.patterns), "Monte Carlo p");
  assert.deepEqual(signFlipTest(differences), first, "the same differences give the same p");
});

Deno.test("Holm's correction of a hand-worked example", () => {
  // Sorted: 0.005 × 4 = 0.02; 0.01 × 3 = 0.03; 0.03 × 2 = 0.06; 0.04 × 1 = 0.04, raised to 0.06 (monotone).
  const corrected = holm([0.01, 0.04, 0.03, 0.005]);
  [0.03, 0.06, 0.06, 0.02].forEach((want, i) => close(corrected[i], want, 1e-15));
  // A family of 4 of which only 2 were run: the missing ones count as p = 1 and go last.
  const partial = holm([0.02, 0.01], 4);
  close(partial[0], 0.06, 1e-15);
  close(partial[1], 0.04, 1e-15);
  assert.deepEqual(holm([0.5, 0.6]), [1, 1], "never above 1");
  assert.deepEqual(holm([]), []);
  assert.throws(() => holm([0.1, 0.2], 1), RangeError);
  assert.throws(() => holm([1.5]), RangeError);
});

Deno.test("seeds needed agrees with published power tables for the paired t-test", () => {
  // G*Power, t-test of a mean against a constant, two-sided α = 0.05, power 0.8: effect size d = mean / sd.
  assert.equal(seedsNeeded(0.5, 1), 34);
  assert.equal(seedsNeeded(0.8, 1), 15);
  assert.equal(seedsNeeded(0.2, 1), 199);
  assert.equal(seedsNeeded(-5, 10), 34, "the sign and the unit do not matter");
  assert.equal(seedsNeeded(0.3, 0), 2, "no spread: the smallest test");
  assert.equal(seedsNeeded(0, 1), null, "no difference to find");
  assert.equal(seedsNeeded(1e-5, 1), null, "more than a million seeds");
});

Deno.test("seeds needed gives about the planned power in a simulation", () => {
  const n = seedsNeeded(0.8, 1)!;
  const rng = new Rng(77);
  const trials = 4000;
  let rejected = 0;
  for (let i = 0; i < trials; i++) {
    const sample = Array.from({ length: n }, () => 0.8 + rng.normal());
    if (pairedTTest(sample)!.p < 0.05) rejected++;
  }
  // The exact power at n = 15 is 0.82; the binomial sd of the estimate is 0.006.
  const power = rejected / trials;
  assert.ok(power > 0.79 && power < 0.86, `power ${power}`);
});

Deno.test("errors: empty input, unequal pairs, impossible parameters", () => {
  assert.throws(() => mean([]), RangeError);
  assert.throws(() => sampleStd([]), RangeError);
  assert.throws(() => summarize([]), RangeError);
  assert.throws(() => signFlipTest([]), RangeError);
  assert.throws(() => pairedDifferences([1, 2], [1]), /same length/);
  for (const df of [0, -1, NaN, Infinity]) {
    assert.throws(() => studentTQuantile(0.9, df), RangeError, `df ${df}`);
  }
  for (const p of [0, 1, -0.1, NaN]) assert.throws(() => studentTQuantile(p, 3), RangeError, `p ${p}`);
  assert.throws(() => seedsNeeded(0.5, 1, 0), RangeError);
});
