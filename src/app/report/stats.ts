/**
 * The statistics of a comparison over seeds, from first principles (no statistics library):
 *
 * - **Summaries**: the mean, the sample standard deviation (denominator n − 1) and the 95 % interval of the
 *   mean from Student's t, `mean ± t(0.975, n − 1) · sd / √n`, cut to the range the quantity can take
 *   (accuracy in [0, 1], a difference of accuracies in [−1, 1]); `clipped` says when the cut was made.
 *   There is no standard deviation for one value and no interval for fewer than
 *   {@linkcode MIN_INTERVAL_VALUES} values (with two, t(0.975, 1) = 12.7 makes the interval meaningless).
 * - **Student's t**: its CDF through the regularized incomplete beta function
 *   (`P(|T| > t) = I_{ν/(ν+t²)}(ν/2, 1/2)`, the beta function's continued fraction evaluated by Lentz's
 *   method, ln Γ by Lanczos' approximation), and its quantile by Newton's method on that CDF inside a
 *   bisection bracket.
 * - **Paired tests** of per-seed differences `d_i`: the t-test, `t = d̄ / (s / √n)` with n − 1 degrees of
 *   freedom, two-sided p = `P(|T| ≥ |t|)`; and the sign-flip permutation test, which assumes only that,
 *   without a real difference, each `d_i` is as likely to be `−d_i`: p is the share of the 2ⁿ sign
 *   patterns `(±d_1, …, ±d_n)` whose sum is at least as far from 0 as the observed one. Up to
 *   {@linkcode EXACT_SIGN_FLIP_MAX} values every pattern is counted (exactly); beyond, p is estimated from
 *   {@linkcode SIGN_FLIP_DRAWS} random patterns from a fixed seed, as `(1 + hits) / (1 + draws)`. The
 *   observed pattern and its mirror image always count, so with n values p ≥ 2 / 2ⁿ: with 5 seeds no
 *   p-value falls below 0.0625.
 * - **Holm's step-down correction** of a family of m p-values: the i-th smallest becomes
 *   `max over j ≤ i of min(1, (m − j + 1) · p_(j))`; rejecting the corrected p-values below α keeps the
 *   chance of any false rejection in the family at most α, whatever the dependence between the tests.
 * - **Seeds needed**: the smallest n ≥ 2 with `n ≥ ((t(1 − α/2, n − 1) + t(power, n − 1)) · s / |d̄|)²`,
 *   the paired t-test's sample size for the given power when the true mean difference is `d̄` and its
 *   standard deviation `s` (found by search, with the t quantiles at each n, not the normal ones).
 *
 * @module
 */

import { deriveSeed, Rng } from "../../core/rng.ts";

/** Fewer values than this get no confidence interval. */
export const MIN_INTERVAL_VALUES = 3;

/** The most values whose sign-flip p-value is exact (2³⁰ patterns, counted as two halves of 2¹⁵). */
export const EXACT_SIGN_FLIP_MAX = 30;

/** Random sign patterns drawn for the sign-flip p-value of more than {@linkcode EXACT_SIGN_FLIP_MAX} values. */
export const SIGN_FLIP_DRAWS = 100_000;

/** The largest sample size {@linkcode seedsNeeded} searches; a difference needing more gets null. */
export const MAX_SEEDS_NEEDED = 1_000_000;

/** A metric over seeds. */
export interface Summary {
  /** How many values (seeds) were summarised; at least 1. */
  readonly n: number;
  /** Arithmetic mean, in the metric's own unit. */
  readonly mean: number;
  /** Sample standard deviation (denominator n − 1); null for a single value, whose spread is unknown. */
  readonly std: number | null;
  /**
   * 95 % confidence interval for the mean: mean ± t(0.975, n − 1) · std / √n, cut to the metric's possible
   * range when one was given; null for fewer than {@linkcode MIN_INTERVAL_VALUES} values.
   */
  readonly ci95: readonly [low: number, high: number] | null;
  /** True when `ci95` was cut to the possible range (the t interval reached past it). */
  readonly clipped: boolean;
}

/** The arithmetic mean of `xs` (at least one value). */
export function mean(xs: readonly number[]): number {
  requireValues(xs);
  return xs.reduce((sum, x) => sum + x, 0) / xs.length;
}

/** The sample standard deviation of `xs` (denominator n − 1), or 0 for a single value. */
export function sampleStd(xs: readonly number[]): number {
  const m = mean(xs);
  if (xs.length === 1) return 0;
  const squares = xs.reduce((sum, x) => sum + (x - m) ** 2, 0);
  return Math.sqrt(squares / (xs.length - 1));
}

/**
 * Mean, sample standard deviation and 95 % confidence interval of `xs` (at least one value). The interval
 * is cut to `range` when given: `[0, 1]` for an accuracy, `[-1, 1]` for a difference of two.
 */
export function summarize(xs: readonly number[], range?: readonly [low: number, high: number]): Summary {
  const m = mean(xs);
  const n = xs.length;
  if (n === 1) return { n, mean: m, std: null, ci95: null, clipped: false };
  const std = sampleStd(xs);
  if (n < MIN_INTERVAL_VALUES) return { n, mean: m, std, ci95: null, clipped: false };
  const half = studentTQuantile(0.975, n - 1) * std / Math.sqrt(n);
  const [low, high] = [m - half, m + half];
  if (range === undefined) return { n, mean: m, std, ci95: [low, high], clipped: false };
  const ci95 = [Math.max(range[0], low), Math.min(range[1], high)] as const;
  return { n, mean: m, std, ci95, clipped: ci95[0] !== low || ci95[1] !== high };
}

/** `a[i] − b[i]` for each i: the paired differences of two equally long samples. */
export function pairedDifferences(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) {
    throw new RangeError(`paired samples must have the same length, got ${a.length} and ${b.length}`);
  }
  return a.map((x, i) => x - b[i]);
}

// ---------------------------------------------------------------------------------------------------
// Student's t distribution

/** Lanczos' coefficients for g = 7, n = 9: ln Γ to about 15 significant digits for x > 0. */
const LANCZOS = [
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0, by Lanczos' approximation. */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma needs x > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x); // reflection
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * The regularized incomplete beta function I_x(a, b) for a, b > 0 and x in [0, 1]. `complement` may give
 * 1 − x when it is known more precisely than the subtraction would give it (x close to 1).
 */
export function incompleteBeta(x: number, a: number, b: number, complement = 1 - x): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`incompleteBeta needs a, b > 0, got ${a} and ${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`incompleteBeta needs x in [0, 1], got ${x}`);
  if (x === 0) return 0;
  if (complement === 0) return 1;
  const front = Math.exp(
    a * Math.log(x) + b * Math.log(complement) - (lnGamma(a) + lnGamma(b) - lnGamma(a + b)),
  );
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); beyond, use I_x(a, b) = 1 − I_{1−x}(b, a).
  if (x < (a + 1) / (a + b + 2)) return front * betaFraction(x, a, b) / a;
  return 1 - front * betaFraction(complement, b, a) / b;
}

/** The continued fraction of the incomplete beta function, by the modified Lentz method. */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const clamp = (v: number) => (Math.abs(v) < tiny ? tiny : v);
  let c = 1;
  let d = 1 / clamp(1 - (a + b) * x / (a + 1));
  let h = d;
  for (let m = 1; m <= 100_000; m++) {
    const even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 / clamp(1 + even * d);
    c = clamp(1 + even / c);
    h *= d * c;
    const odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 / clamp(1 + odd * d);
    c = clamp(1 + odd / c);
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) return h;
  }
  throw new RangeError(`the incomplete beta fraction did not converge for x ${x}, a ${a}, b ${b}`);
}

/** P(T > t) for Student's t with `df` > 0 degrees of freedom: the upper tail. */
function upperTail(t: number, df: number): number {
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  const t2 = t * t;
  // P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t²); 1 − x = t² / (df + t²) without cancellation.
  const both = incompleteBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2));
  return t >= 0 ? both / 2 : 1 - both / 2;
}

/** The cumulative distribution function of Student's t with `df` > 0 degrees of freedom: P(T ≤ t). */
export function studentTCdf(t: number, df: number): number {
  requireDf(df);
  if (Number.isNaN(t)) throw new RangeError("studentTCdf needs a number, got NaN");
  return 1 - upperTail(t, df);
}

/** The two-sided p-value of a t statistic with `df` degrees of freedom: P(|T| ≥ |t|). */
export function studentTTwoSided(t: number, df: number): number {
  requireDf(df);
  if (Number.isNaN(t)) throw new RangeError("studentTTwoSided needs a number, got NaN");
  return Math.min(1, 2 * upperTail(Math.abs(t), df));
}

/** The density of Student's t with `df` degrees of freedom at `t`. */
function studentTDensity(t: number, df: number): number {
  const log = lnGamma((df + 1) / 2) - lnGamma(df / 2) - 0.5 * Math.log(df * Math.PI) -
    (df + 1) / 2 * Math.log1p(t * t / df);
  return Math.exp(log);
}

const quantiles = new Map<string, number>();

/**
 * The p-quantile of Student's t with `df` > 0 degrees of freedom, p in (0, 1): the t with P(T ≤ t) = p,
 * to about 12 significant digits. Newton's method on {@linkcode studentTCdf}, kept inside a bracket that
 * bisection narrows whenever a Newton step would leave it. Results are cached.
 */
export function studentTQuantile(p: number, df: number): number {
  requireDf(df);
  if (!(p > 0 && p < 1)) throw new RangeError(`a quantile needs p in (0, 1), got ${p}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  const key = `${p}/${df}`;
  const cached = quantiles.get(key);
  if (cached !== undefined) return cached;
  const tail = 1 - p;
  let [low, high] = [0, 1];
  while (upperTail(high, df) > tail) [low, high] = [high, 2 * high];
  let t = (low + high) / 2;
  for (let i = 0; i < 300; i++) {
    const excess = upperTail(t, df) - tail; // > 0: t is too small
    if (excess > 0) low = t;
    else high = t;
    const newton = t + excess / studentTDensity(t, df);
    const next = newton > low && newton < high ? newton : (low + high) / 2;
    if (Math.abs(next - t) <= 1e-13 * Math.max(1, Math.abs(t))) {
      t = next;
      break;
    }
    t = next;
  }
  quantiles.set(key, t);
  return t;
}

// ---------------------------------------------------------------------------------------------------
// Paired tests

/** A paired t-test of differences: the statistic, its degrees of freedom, the two-sided p-value. */
export interface TTest {
  /** `mean / (sd / √n)`; ±Infinity when every difference is the same non-zero value, 0 when all are 0. */
  readonly t: number;
  /** n − 1. */
  readonly df: number;
  /** Two-sided: P(|T| ≥ |t|) with `df` degrees of freedom. */
  readonly p: number;
}

/** The paired t-test of `differences` against a mean of 0; null for fewer than 2 values. */
export function pairedTTest(differences: readonly number[]): TTest | null {
  const n = differences.length;
  if (n < 2) return null;
  const m = mean(differences);
  const sd = sampleStd(differences);
  const df = n - 1;
  if (sd === 0) return m === 0 ? { t: 0, df, p: 1 } : { t: m > 0 ? Infinity : -Infinity, df, p: 0 };
  const t = m / (sd / Math.sqrt(n));
  return { t, df, p: studentTTwoSided(t, df) };
}

/** A sign-flip permutation test's outcome. */
export interface SignFlipTest {
  /** Two-sided p-value: the share of sign patterns whose sum is at least as far from 0 as the observed. */
  readonly p: number;
  /** `exact`: all 2ⁿ patterns counted; `monte-carlo`: {@linkcode SIGN_FLIP_DRAWS} random ones. */
  readonly method: "exact" | "monte-carlo";
  /** How many patterns were counted (2ⁿ) or drawn. */
  readonly patterns: number;
}

/**
 * The two-sided sign-flip permutation test of `differences` (at least one) against "no difference": the
 * share of sign patterns `(±d_1, …, ±d_n)` with `|Σ ±d_i| ≥ |Σ d_i|` (ties within a relative 1e-9 count,
 * so that rounding never decides). Exact up to {@linkcode EXACT_SIGN_FLIP_MAX} values: the pattern sums of
 * each half are listed and sorted, and each sum of the first half is matched against the sorted second half
 * by binary search, which counts all 2ⁿ patterns in O(2^(n/2) · n). Beyond, a seeded Monte Carlo estimate.
 */
export function signFlipTest(differences: readonly number[]): SignFlipTest {
  requireValues(differences);
  if (!differences.every(Number.isFinite)) throw new RangeError("sign-flip differences must be finite");
  const n = differences.length;
  const observed = Math.abs(differences.reduce((sum, d) => sum + d, 0));
  const scale = differences.reduce((sum, d) => sum + Math.abs(d), 0);
  const tolerance = 1e-9 * scale;
  const threshold = observed - tolerance;
  if (threshold <= 0) return { p: 1, method: "exact", patterns: 2 ** n }; // every pattern is as far from 0
  if (n > EXACT_SIGN_FLIP_MAX) return monteCarloSignFlip(differences, threshold);
  const half = n >> 1;
  const left = subsetSums(differences.slice(0, half));
  const right = subsetSums(differences.slice(half)).sort((a, b) => a - b);
  let hits = 0;
  for (const a of left) {
    hits += right.length - lowerBound(right, threshold - a); // a + b ≥ threshold
    hits += upperBound(right, -threshold - a); // a + b ≤ −threshold
  }
  const patterns = 2 ** n;
  return { p: hits / patterns, method: "exact", patterns };
}

/** The sum of every sign pattern of `values`, one per pattern (2^length of them). */
function subsetSums(values: readonly number[]): Float64Array {
  const sums = new Float64Array(2 ** values.length);
  sums[0] = values.reduce((sum, v) => sum + v, 0); // every sign +
  for (let mask = 1; mask < sums.length; mask++) {
    const bit = 31 - Math.clz32(mask & -mask);
    sums[mask] = sums[mask & (mask - 1)] - 2 * values[bit]; // flip one more value to −
  }
  return sums;
}

/** The first index of sorted `xs` whose value is ≥ `v`. */
function lowerBound(xs: Float64Array, v: number): number {
  let [lo, hi] = [0, xs.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index of sorted `xs` whose value is > `v`: how many are ≤ `v`. */
function upperBound(xs: Float64Array, v: number): number {
  let [lo, hi] = [0, xs.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function monteCarloSignFlip(differences: readonly number[], threshold: number): SignFlipTest {
  const rng = new Rng(deriveSeed(differences.length, "sign-flip"));
  let hits = 0;
  for (let draw = 0; draw < SIGN_FLIP_DRAWS; draw++) {
    let sum = 0;
    let bits = 0;
    for (let i = 0; i < differences.length; i++) {
      if (i % 32 === 0) bits = rng.nextU32();
      sum += (bits & 1) === 1 ? differences[i] : -differences[i];
      bits >>>= 1;
    }
    if (Math.abs(sum) >= threshold) hits++;
  }
  // Counting the observed pattern as one more draw keeps the estimate a valid p-value (never 0).
  return { p: (1 + hits) / (1 + SIGN_FLIP_DRAWS), method: "monte-carlo", patterns: SIGN_FLIP_DRAWS };
}

/**
 * Holm's step-down correction of `pValues` as members of a family of `familySize` tests (at least as many
 * as given; the tests not given, which could not be run, count as p = 1). Returns the corrected p-values in
 * the order given: the i-th smallest becomes `max over j ≤ i of min(1, (familySize − j + 1) · p_(j))`.
 */
export function holm(pValues: readonly number[], familySize = pValues.length): number[] {
  if (!(Number.isInteger(familySize) && familySize >= pValues.length)) {
    throw new RangeError(`a family of ${familySize} cannot hold ${pValues.length} p-values`);
  }
  for (const p of pValues) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`a p-value must lie in [0, 1], got ${p}`);
  }
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const corrected = new Array<number>(pValues.length);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (familySize - rank) * p));
    corrected[i] = running;
  });
  return corrected;
}

/**
 * How many seeds a paired t-test at two-sided level `alpha` needs for `power` when the true mean
 * difference is `meanDifference` with standard deviation `sdDifference`: the smallest n ≥ 2 with
 * `n ≥ ((t(1 − alpha/2, n − 1) + t(power, n − 1)) · sd / |mean|)²`. The condition only gets easier as n
 * grows, so the smallest n is found by doubling and then bisection. Null when the mean is 0, or when more
 * than {@linkcode MAX_SEEDS_NEEDED} seeds would be needed.
 */
export function seedsNeeded(
  meanDifference: number,
  sdDifference: number,
  alpha = 0.05,
  power = 0.8,
): number | null {
  if (!(alpha > 0 && alpha < 1 && power > 0 && power < 1)) {
    throw new RangeError(`seedsNeeded needs alpha and power in (0, 1), got ${alpha} and ${power}`);
  }
  if (!(Number.isFinite(meanDifference) && sdDifference >= 0 && Number.isFinite(sdDifference))) {
    throw new RangeError(
      `seedsNeeded needs a finite mean and sd ≥ 0, got ${meanDifference}, ${sdDifference}`,
    );
  }
  if (meanDifference === 0) return null;
  const ratio = sdDifference / Math.abs(meanDifference);
  const enough = (n: number) =>
    n >= ((studentTQuantile(1 - alpha / 2, n - 1) + studentTQuantile(power, n - 1)) * ratio) ** 2;
  if (enough(2)) return 2;
  let [low, high] = [2, 4]; // enough(low) fails
  while (!enough(high)) {
    if (high >= MAX_SEEDS_NEEDED) return null;
    [low, high] = [high, Math.min(2 * high, MAX_SEEDS_NEEDED)];
  }
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    if (enough(mid)) high = mid;
    else low = mid;
  }
  return high;
}

/**
 * The fewest values at which a two-sided sign-flip test can reach p < `level` at all: its smallest
 * p-value with n values is 2 / 2ⁿ.
 */
export function signFlipMinimumValues(level: number): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`level must lie in (0, 1), got ${level}`);
  let n = 1;
  while (2 / 2 ** n >= level) n++;
  return n;
}

function requireDf(df: number): void {
  if (!(df > 0) || df === Infinity) {
    throw new RangeError(`degrees of freedom must be a finite number > 0, got ${df}`);
  }
}

function requireValues(xs: readonly number[]): void {
  if (xs.length === 0) throw new RangeError("cannot summarize an empty list of values");
}
