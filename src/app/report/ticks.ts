/**
 * Axis ticks at round numbers: steps of 1, 2 or 5 times a power of ten on a linear axis, and the 1, 2, 5
 * of each decade on a log axis, so that a reader can interpolate between labels in their head.
 *
 * @module
 */

/**
 * About `approxCount` evenly spaced round ticks that cover [min, max]: the first tick is at or below `min` and
 * the last at or above `max`, so they also give the axis its domain. The step is the 1, 2 or 5 × 10^k
 * nearest, on a log scale, to (max − min) / approxCount. Requires finite min < max and approxCount ≥ 1.
 */
export function niceTicks(min: number, max: number, approxCount: number): number[] {
  if (!(Number.isFinite(min) && Number.isFinite(max) && min < max)) {
    throw new RangeError(`ticks need finite min < max, got ${min} and ${max}`);
  }
  if (!(approxCount >= 1)) throw new RangeError(`ticks need approxCount ≥ 1, got ${approxCount}`);
  const step = niceStep((max - min) / approxCount);
  // The tolerance keeps a bound that is a multiple of the step, give or take rounding, from adding a tick.
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  return Array.from({ length: last - first + 1 }, (_, i) => roundTo(step, (first + i) * step));
}

/**
 * Ticks for a log axis covering [min, max] (0 < min < max): 1, 2 and 5 times each power of ten, from the
 * largest at or below `min` to the smallest at or above `max`. Beyond 10 ticks, only the powers of ten.
 */
export function logTicks(min: number, max: number): number[] {
  if (!(Number.isFinite(min) && Number.isFinite(max) && 0 < min && min < max)) {
    throw new RangeError(`log ticks need finite 0 < min < max, got ${min} and ${max}`);
  }
  const ticks = covering(decades(min, max, [1, 2, 5]), min, max);
  return ticks.length <= 10 ? ticks : covering(decades(min, max, [1]), min, max);
}

/** The 1/2/5 × 10^k step nearest to `raw` on a log scale. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const ratio = raw / power;
  // The thresholds are the geometric means of neighbouring steps: √(1·2), √(2·5), √(5·10).
  if (ratio >= Math.sqrt(50)) return 10 * power;
  if (ratio >= Math.sqrt(10)) return 5 * power;
  if (ratio >= Math.sqrt(2)) return 2 * power;
  return power;
}

/** `value` without the float noise of its computation (0.30000000000000004 → 0.3), given the tick step. */
function roundTo(step: number, value: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return Number(value.toFixed(Math.min(decimals, 100)));
}

/** `m × 10^k` for every multiplier and every decade around [min, max], in increasing order. */
function decades(min: number, max: number, multipliers: readonly number[]): number[] {
  // One decade of margin each side, in case log10 rounds across a power of ten.
  const low = Math.floor(Math.log10(min)) - 1;
  const high = Math.ceil(Math.log10(max)) + 1;
  const values: number[] = [];
  for (let k = low; k <= high; k++) {
    for (const m of multipliers) values.push(Number((m * 10 ** k).toPrecision(12)));
  }
  return values;
}

/** The shortest run of the sorted `values` that covers [min, max]. */
function covering(values: readonly number[], min: number, max: number): number[] {
  const first = values.findLastIndex((v) => v <= min);
  const last = values.findIndex((v) => v >= max);
  return values.slice(first, last + 1);
}
