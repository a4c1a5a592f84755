/**
 * Summaries of repeated timings: the median, and the range as the spread.
 *
 * @module
 */

/** The median and range of a set of measurements. */
export interface TimingSummary {
  /** The middle value, or the mean of the two middle ones for an even count. */
  readonly median: number;
  /** Lower end of the spread, which the report prints as `[min-max]`. */
  readonly min: number;
  /** Upper end of the spread, which the report prints as `[min-max]`. */
  readonly max: number;
  /** How many measurements. */
  readonly n: number;
}

/** Median, minimum and maximum of `values` (at least one). */
export function summarizeTimings(values: readonly number[]): TimingSummary {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/**
 * Every value of a summary mapped through `f` (e.g. seconds to GFLOP/s); `f` may reverse the order,
 * so min and max are re-sorted.
 */
export function mapTimings(s: TimingSummary, f: (value: number) => number): TimingSummary {
  const [a, b] = [f(s.min), f(s.max)];
  return { median: f(s.median), min: Math.min(a, b), max: Math.max(a, b), n: s.n };
}
