/**
 * Summaries of a metric measured over several seeds: the mean, the sample standard deviation and a 95 %
 * confidence interval for the mean from Student's t distribution, which is the right one for the handful of
 * seeds a comparison can afford (with 5 seeds the interval is 2.8 standard errors wide each side, not 1.96).
 *
 * @module
 */

/** A metric over seeds. `ci95` is null for a single seed, where the spread cannot be estimated. */
export interface Summary {
  /** How many values (seeds) were summarised; at least 1. */
  readonly n: number;
  /** Arithmetic mean, in the metric's own unit. */
  readonly mean: number;
  /** Sample standard deviation (denominator n − 1); 0 when n = 1. */
  readonly std: number;
  /** 95 % confidence interval for the mean: mean ± t(n − 1) · std / √n. */
  readonly ci95: readonly [low: number, high: number] | null;
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

/** Degrees of freedom and the 0.975 quantile of Student's t, to 6 decimals (as scipy.stats.t.ppf gives). */
// deno-fmt-ignore
const T_TABLE: readonly (readonly [df: number, t: number])[] = [
  [1, 12.706205], [2, 4.302653], [3, 3.182446], [4, 2.776445], [5, 2.570582],
  [6, 2.446912], [7, 2.364624], [8, 2.306004], [9, 2.262157], [10, 2.228139],
  [11, 2.200985], [12, 2.178813], [13, 2.160369], [14, 2.144787], [15, 2.131450],
  [16, 2.119905], [17, 2.109816], [18, 2.100922], [19, 2.093024], [20, 2.085963],
  [21, 2.079614], [22, 2.073873], [23, 2.068658], [24, 2.063899], [25, 2.059539],
  [26, 2.055529], [27, 2.051831], [28, 2.048407], [29, 2.045230], [30, 2.042272],
  [40, 2.021075], [60, 2.000298], [120, 1.979930], [Infinity, 1.959964],
];

/**
 * The two-sided 95 % critical value of Student's t with `df` degrees of freedom (its 0.975 quantile).
 * Exact (to 6 decimals) for df 1..30, 40, 60 and 120; between those, and between 120 and the normal limit
 * 1.959964, it interpolates linearly in 1/df, along which the quantile is nearly straight (error < 1e-4).
 */
export function tCritical95(df: number): number {
  if (!Number.isInteger(df) || df < 1) {
    throw new RangeError(`degrees of freedom must be a whole number ≥ 1, got ${df}`);
  }
  const upper = T_TABLE.findIndex(([d]) => d >= df);
  const [d1, t1] = T_TABLE[upper];
  if (d1 === df) return t1;
  const [d0, t0] = T_TABLE[upper - 1];
  const w = (1 / d0 - 1 / df) / (1 / d0 - 1 / d1);
  return t0 + w * (t1 - t0);
}

/** Mean, sample standard deviation and 95 % confidence interval of `xs` (at least one value). */
export function summarize(xs: readonly number[]): Summary {
  const m = mean(xs);
  const std = sampleStd(xs);
  if (xs.length < 2) return { n: xs.length, mean: m, std, ci95: null };
  const half = tCritical95(xs.length - 1) * std / Math.sqrt(xs.length);
  return { n: xs.length, mean: m, std, ci95: [m - half, m + half] };
}

/**
 * The summary of `a[i] − b[i]`: how much strategy `a` gains over `b`. Pairing is right when run `i` of both
 * used the same seed and data, since the differences then cancel what the seeds share, which makes the
 * interval narrower than comparing two separate means.
 */
export function pairedGain(a: readonly number[], b: readonly number[]): Summary {
  if (a.length !== b.length) {
    throw new RangeError(`paired samples must have the same length, got ${a.length} and ${b.length}`);
  }
  return summarize(a.map((x, i) => x - b[i]));
}

function requireValues(xs: readonly number[]): void {
  if (xs.length === 0) throw new RangeError("cannot summarize an empty list of values");
}
