/**
 * Numbers as the programs print them.
 *
 * @module
 */

/** A fraction in hundredths, e.g. `0.8125` → `81.25`. */
export function inPercent(fraction: number): number {
  return 100 * fraction;
}

/** A fraction as a percentage with one decimal and no sign, e.g. `0.8125` → `"81.3"`. */
export function percentDigits(fraction: number): string {
  return inPercent(fraction).toFixed(1);
}

/** A fraction as a percentage with one decimal, e.g. `0.8125` → `"81.3%"`. */
export function percent(fraction: number): string {
  return `${percentDigits(fraction)}%`;
}
