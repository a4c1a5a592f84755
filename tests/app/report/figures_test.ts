/**
 * The figures from made-up runs: axes and bands within [0, 100] %, no band without the seeds for one, the
 * budget as the subtitle, and only the seeds the numbers use.
 */

import assert from "node:assert/strict";
import type { RunRecord } from "../../../src/core/comparison.ts";
import { CLASSIC_STRATEGIES, type StrategyName } from "../../../src/core/recipes.ts";
import { analyzeComparison } from "../../../src/app/report/analysis.ts";
import { comparisonFigures } from "../../../src/app/report/figures.ts";
import { budgetNote } from "../../../src/app/report/summary.ts";

function run(
  seed: number,
  strategy: StrategyName,
  accuracy: number,
  rows = 480,
  diverged = false,
): RunRecord {
  const metrics = { loss: 1 - accuracy, accuracy };
  return {
    seed,
    relatedness: 0.9,
    targetTrainRows: rows,
    strategy,
    sourceTest: metrics,
    target: { train: metrics, validation: metrics, test: metrics },
    history: [1, 2, 3].map((epoch) => ({ epoch, train: metrics, test: metrics })),
    seconds: 0,
    notes: [],
    diverged: diverged ? { epoch: 3, loss: NaN } : null,
    earlyStop: null,
  };
}

const BUDGET = budgetNote({ target_epochs: 20, target_steps: 300, early_stopping_patience: null });

/** Every number drawn in the chart's y-axis labels. */
const yTicks = (svg: string) =>
  [...svg.matchAll(/text-anchor="end">([^<]+)<\/text>/g)].map((m) => Number(m[1]));

/** The y pixel of every band vertex, and the pixel rows of the plot's top and bottom. */
function bandExtent(svg: string): { ys: number[]; top: number; bottom: number } {
  const ys = [...svg.matchAll(/<polygon points="([^"]+)"/g)].flatMap((m) =>
    m[1].split(" ").map((xy) => Number(xy.split(",")[1]))
  );
  const axis = svg.match(
    /<g class="axes"[^>]*>\n<line [^>]*\/>\n<line x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="([\d.]+)"/,
  )!;
  return { ys, top: Number(axis[1]), bottom: Number(axis[2]) };
}

Deno.test("near 100 % the learning curves' axis ends at 100 and their band is cut there", () => {
  const runs = [1, 2, 3].flatMap((seed) =>
    CLASSIC_STRATEGIES.map((s) => run(seed, s, [1, 1, 0.85][seed - 1]))
  );
  const [curves] = comparisonFigures(runs, analyzeComparison(runs), BUDGET);
  assert.equal(curves.file, "learning-curves.svg");
  assert.equal(Math.max(...yTicks(curves.svg)), 100);
  const { ys, top, bottom } = bandExtent(curves.svg);
  assert.ok(
    ys.length > 0 && ys.every((y) => y >= top - 0.01 && y <= bottom + 0.01),
    `${ys} in [${top}, ${bottom}]`,
  );
  assert.match(curves.caption, /band: ±1 standard deviation, cut to \[0, 100\] %/);
  assert.ok(curves.svg.includes(`>${BUDGET}</text>`), "the budget is the subtitle");
});

Deno.test("with one seed the figures draw no band", () => {
  const runs = [25, 100].flatMap((rows) => CLASSIC_STRATEGIES.map((s) => run(1, s, 0.8, rows)));
  const figures = comparisonFigures(runs, analyzeComparison(runs), BUDGET);
  assert.deepEqual(figures.map((f) => f.file), [
    "learning-curves-r0.9-n25.svg",
    "learning-curves-r0.9-n100.svg",
    "sample-efficiency.svg",
  ]);
  for (const figure of figures) assert.doesNotMatch(figure.svg, /<polygon|stroke-width="8"/, figure.file);
  assert.match(figures[0].caption, /mean over 1 seed, no band with one seed/);
});

Deno.test("the sample-efficiency figure says the budget, and its bands stay within [0, 100] %", () => {
  const runs = [1, 2, 3, 4].flatMap((seed) =>
    [25, 100].flatMap((rows) =>
      CLASSIC_STRATEGIES.map((s) => run(seed, s, rows === 100 ? [1, 1, 1, 0.8][seed - 1] : 0.02 * seed, rows))
    )
  );
  const efficiency = comparisonFigures(runs, analyzeComparison(runs), BUDGET).find((f) =>
    f.file === "sample-efficiency.svg"
  )!;
  assert.ok(efficiency.svg.includes(">Sample efficiency: relatedness 0.9</text>"));
  assert.ok(efficiency.svg.includes(">fixed budget: 300 SGD steps per transfer</text>"));
  const ticks = yTicks(efficiency.svg);
  assert.ok(ticks.every((t) => t >= 0 && t <= 100) && ticks.includes(0) && ticks.includes(100), `${ticks}`);
  const { ys, top, bottom } = bandExtent(efficiency.svg);
  assert.ok(ys.every((y) => y >= top - 0.01 && y <= bottom + 0.01));
  assert.match(efficiency.caption, /fixed budget: 300 SGD steps per transfer\); line: mean over 4 seeds/);
});

Deno.test("the figures use only the seeds the numbers use", () => {
  const runs = [1, 2, 3].flatMap((seed) =>
    CLASSIC_STRATEGIES.map((s) => run(seed, s, 0.8, 480, seed === 2 && s === "scratch"))
  );
  const [curves] = comparisonFigures(runs, analyzeComparison(runs), BUDGET);
  assert.match(curves.caption, /mean over 2 seeds/);
  const none = comparisonFigures(
    runs.map((r) => ({ ...r, diverged: { epoch: 1, loss: NaN } })),
    analyzeComparison(runs.map((r) => ({ ...r, diverged: { epoch: 1, loss: NaN } }))),
    BUDGET,
  );
  assert.deepEqual(none, [], "a point with nothing to compare gets no figure");
});

Deno.test("every figure has one series per strategy of the run, in the summary's order", () => {
  const three: StrategyName[] = ["scratch", "bitfit", "surgical"];
  const runs = [1, 2, 3].flatMap((seed) =>
    [25, 100].flatMap((rows) => three.map((s) => run(seed, s, 0.5 + 0.1 * seed, rows)))
  );
  const figures = comparisonFigures(runs, analyzeComparison(runs, { strategies: three }), BUDGET);
  assert.equal(figures.length, 3, figures.map((f) => f.file).join(" "));
  for (const figure of figures) {
    const names = [...figure.svg.matchAll(/<g class="series" data-name="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(names, three, figure.file);
    const legend = [...figure.svg.matchAll(/<g class="legend-entry"/g)].length;
    assert.equal(legend, 3, figure.file);
  }
});

Deno.test("without a relatedness (real data) the figures' names and words leave it out", () => {
  const runs = [1, 2, 3].flatMap((seed) =>
    [100, 200].flatMap((rows) =>
      CLASSIC_STRATEGIES.map((s) => ({ ...run(seed, s, 0.5 + 0.1 * seed, rows), relatedness: null }))
    )
  );
  const figures = comparisonFigures(runs, analyzeComparison(runs), BUDGET);
  assert.deepEqual(figures.map((f) => f.file), [
    "learning-curves-n100.svg",
    "learning-curves-n200.svg",
    "sample-efficiency.svg",
  ]);
  for (const f of figures) {
    assert.ok(!/relatedness|null/.test(`${f.caption}\n${f.svg}`), f.file);
  }
  assert.match(figures[0].svg, /<title>Learning curves: 100 target training rows<\/title>/);
  assert.match(figures[2].svg, /<title>Sample efficiency<\/title>/);
  assert.ok(
    figures[2].caption.startsWith(`Target test accuracy against the target training-set size (${BUDGET});`),
  );
});
