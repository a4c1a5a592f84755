/**
 * Real data: every labelled row of a task as read from a file ({@linkcode LabelledPool}), the two
 * tasks of a transfer ({@linkcode RealTasks}), and the standardisation fitted on the source's training
 * split ({@linkcode Standardization}). `real_data.ts` splits the pools; this module imports nothing,
 * so the synthetic generator's spec can name these types without a cycle.
 *
 * @module
 */

/** Every labelled row of one real task, before any split: the features as read, unstandardised. */
export interface LabelledPool {
  /** `n × features` values, row-major, as in the file. */
  readonly x: Float32Array<ArrayBuffer>;
  /** `n` class indices into `classNames`. */
  readonly labels: Uint32Array<ArrayBuffer>;
  /** Rows. */
  readonly n: number;
  /** Values per row. */
  readonly features: number;
  /** Each class's label as the file spells it; class `k` is `classNames[k]`. */
  readonly classNames: readonly string[];
  /** Each feature's name (a CSV column, or `pixel<i>` for an image), `features` of them. */
  readonly featureNames: readonly string[];
  /** Where the rows came from, for messages: a file's path, or `the digits package`. */
  readonly origin: string;
}

/**
 * How features are standardised (`data.standardize`): `feature` gives each column its own mean and
 * spread (tabular columns come in their own units); `global` one mean and spread for every value
 * (an image's pixels share one unit, and a nearly constant border pixel must not be blown up).
 */
export const STANDARDIZE_KINDS = ["feature", "global"] as const;
/** One of {@linkcode STANDARDIZE_KINDS}. */
export type StandardizeKind = typeof STANDARDIZE_KINDS[number];

/** The source and target pools of a real-data transfer, and how their features are standardised. */
export interface RealTasks {
  /** The rows the model pretrains on (split into train, validation and test). */
  readonly source: LabelledPool;
  /** The rows it transfers to; as wide as the source. */
  readonly target: LabelledPool;
  /**
   * How the standardisation is fitted on the source's training split, or the one to apply as it is
   * (a saved model's, to transfer from it).
   */
  readonly standardize: StandardizeKind | Standardization;
}

/** The affine map `x' = (x − mean) · scale`, per feature, applied to every split of both tasks. */
export interface Standardization {
  /** How it was fitted. */
  readonly kind: StandardizeKind;
  /** `features` values subtracted. */
  readonly mean: Float32Array<ArrayBuffer>;
  /** `features` values multiplied by: 1 / the spread (1 where the spread is 0). */
  readonly scale: Float32Array<ArrayBuffer>;
}

/**
 * Fits a {@linkcode Standardization} on `n` rows of `x` (`features` wide): the mean and population
 * standard deviation, in float64, of each column (`feature`) or of all values (`global`).
 */
export function fitStandardization(
  x: Float32Array,
  n: number,
  features: number,
  kind: StandardizeKind,
): Standardization {
  const sum = new Float64Array(features), squares = new Float64Array(features);
  for (let i = 0; i < n * features; i++) sum[i % features] += x[i];
  const columnMean = sum.map((s) => s / n);
  for (let i = 0; i < n * features; i++) squares[i % features] += (x[i] - columnMean[i % features]) ** 2;
  let mean: Float64Array, variance: Float64Array;
  if (kind === "feature") {
    [mean, variance] = [columnMean, squares.map((s) => s / n)];
  } else {
    const all = columnMean.reduce((a, m) => a + m, 0) / features;
    // Σ (x − all)² = Σ_f [Σ (x − m_f)² + n (m_f − all)²]
    const spread = squares.reduce((a, s, f) => a + s + n * (columnMean[f] - all) ** 2, 0) / (n * features);
    [mean, variance] = [new Float64Array(features).fill(all), new Float64Array(features).fill(spread)];
  }
  return {
    kind,
    mean: Float32Array.from(mean),
    scale: Float32Array.from(variance, (v) => (v > 0 ? 1 / Math.sqrt(v) : 1)),
  };
}

/** `x` (rows of `s.mean.length` values) standardised by `s`, as a new array. */
export function standardize(x: Float32Array, s: Standardization): Float32Array<ArrayBuffer> {
  const features = s.mean.length, out = new Float32Array(x.length);
  // A loop row by row: Float32Array.from with a callback took half a second for the digits' rows.
  for (let row = 0; row < x.length; row += features) {
    for (let f = 0; f < features; f++) out[row + f] = (x[row + f] - s.mean[f]) * s.scale[f];
  }
  return out;
}
