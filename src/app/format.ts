/**
 * Numbers as the programs print them.
 *
 * @module
 */

/** A fraction as a percentage with one decimal, e.g. `0.8125` → `"81.3%"`. */
export function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(1)}%`;
}
