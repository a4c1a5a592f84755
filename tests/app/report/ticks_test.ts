/** Axis ticks: round steps on linear axes, 1-2-5 decades on log axes. */

import assert from "node:assert/strict";
import { logTicks, niceTicks } from "../../../src/app/report/ticks.ts";

Deno.test("niceTicks: the usual axes of a comparison", () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]); // relatedness
  assert.deepEqual(niceTicks(1, 20, 6), [0, 5, 10, 15, 20]); // epochs
  assert.deepEqual(niceTicks(25, 800, 6), [0, 100, 200, 300, 400, 500, 600, 700, 800]); // sample counts
  assert.deepEqual(niceTicks(0.61, 0.93, 5), [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]); // accuracy
});

Deno.test("niceTicks: the ticks cover the range, evenly, with a 1/2/5 × 10^k step and no float noise", () => {
  const cases: [number, number, number][] = [[-0.06, 0.14, 5], [0.1, 0.3, 4], [-1234, 5678, 7], [
    1e-7,
    3e-7,
    5,
  ]];
  for (const [min, max, count] of cases) {
    const ticks = niceTicks(min, max, count);
    assert.ok(ticks[0] <= min && ticks[ticks.length - 1] >= max, `${ticks} covers [${min}, ${max}]`);
    const step = ticks[1] - ticks[0];
    const mantissa = Number((step / 10 ** Math.floor(Math.log10(step))).toPrecision(6));
    assert.ok([1, 2, 5].includes(mantissa), `step ${step}`);
    for (const t of ticks) assert.ok(String(t).length < 12, `tick ${t} is printed without noise`);
  }
  assert.deepEqual(niceTicks(0.1, 0.3, 4), [0.1, 0.15, 0.2, 0.25, 0.3]);
});

Deno.test("niceTicks: bounds that are multiples of the step add no extra tick", () => {
  // 0.3 / 0.1 is 2.9999999999999996 and 0.9 / 0.1 is 9.000000000000002 in floating point.
  assert.deepEqual(niceTicks(0.3, 0.9, 6), [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  assert.deepEqual(niceTicks(0.2, 0.8, 3), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(niceTicks(-10, 10, 4), [-10, -5, 0, 5, 10]);
});

Deno.test("logTicks: 1, 2 and 5 of each decade, from below the minimum to above the maximum", () => {
  assert.deepEqual(logTicks(25, 800), [20, 50, 100, 200, 500, 1000]);
  assert.deepEqual(logTicks(100, 1000), [100, 200, 500, 1000]);
  assert.deepEqual(logTicks(0.003, 0.04), [0.002, 0.005, 0.01, 0.02, 0.05]);
});

Deno.test("logTicks: over many decades only the powers of ten", () => {
  assert.deepEqual(logTicks(3, 200000), [1, 10, 100, 1000, 10000, 100000, 1000000]);
});

Deno.test("ticks reject empty, reversed or non-finite ranges", () => {
  assert.throws(() => niceTicks(1, 1, 5), RangeError);
  assert.throws(() => niceTicks(2, 1, 5), RangeError);
  assert.throws(() => niceTicks(0, NaN, 5), RangeError);
  assert.throws(() => niceTicks(0, 1, 0), RangeError);
  assert.throws(() => logTicks(0, 10), RangeError);
  assert.throws(() => logTicks(10, 10), RangeError);
  assert.throws(() => logTicks(1, Infinity), RangeError);
});
