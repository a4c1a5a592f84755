/**
 * The comparison's pictures, as SVG (see `svg.ts`): learning curves (target test accuracy per epoch,
 * one line per strategy, a band of ±1 standard deviation over the seeds) at each point of the grid,
 * and when swept, target test accuracy against the target training-set size (sample efficiency) and
 * against relatedness, with 95 % intervals of the mean as bands. The lines are the run's strategies, in
 * the summary's order. Real data have no relatedness (null): their figures' words and file names leave it
 * out, and no figure is drawn against it. Every figure uses the seeds its point's
 * numbers use (see `analysis.ts`), says how much each transfer trained, and keeps its y axis and bands
 * within [0, 100] %: a band that would reach past them is cut there, and none is drawn for fewer seeds
 * than it needs (2 for a standard deviation, 3 for an interval).
 *
 * @module
 */

import { inPercent } from "../format.ts";
import type { StrategyName } from "../../core/recipes.ts";
import type { RunRecord } from "../../core/comparison.ts";
import type { ComparisonSummary, PointSummary } from "./analysis.ts";
import { pointName } from "./summary.ts";
import { mean, sampleStd } from "./stats.ts";
import { type ChartPoint, type ChartSeries, lineChart } from "./svg.ts";

/** One picture: its file name in the run folder, a caption, and the SVG text. */
export interface Figure {
  /** File name in the run folder, e.g. `learning-curves.svg`; unique among the figures. */
  readonly file: string;
  /** What the chart shows, its line and its band, in one sentence: the page's caption and alt text. */
  readonly caption: string;
  /** The whole SVG document, from {@linkcode lineChart}. */
  readonly svg: string;
}

/** Accuracy in percent lies here, and so does every axis and band of the figures. */
const PERCENT_RANGE = [0, 100] as const;

const clampPercent = (v: number) => Math.min(PERCENT_RANGE[1], Math.max(PERCENT_RANGE[0], v));

/**
 * Every figure for these runs and their summary; `budget` (from `budgetNote`) is each figure's subtitle.
 * Points without a used seed get no figure.
 */
export function comparisonFigures(
  runs: readonly RunRecord[],
  summary: ComparisonSummary,
  budget: string,
): Figure[] {
  const points = summary.points.filter((p) => p.seedsUsed.length > 0);
  const relatedness = [...new Set(points.map((p) => p.relatedness))];
  const rows = [...new Set(points.map((p) => p.targetTrainRows))];
  const single = relatedness.length === 1 && rows.length === 1;
  const { strategies } = summary;
  const curves = points.map((point) => learningCurves(runs, strategies, point, single, budget));
  const numeric = relatedness.filter((r) => r !== null);
  const efficiency = rows.length > 1
    ? relatedness.map((r) =>
      sweepFigure(
        points.filter((p) => p.relatedness === r),
        strategies,
        "rows",
        relatedness.length === 1,
        budget,
      )
    )
    : [];
  // Never against a null relatedness: real data have none to draw.
  const related = numeric.length > 1
    ? rows.map((n) =>
      sweepFigure(
        points.filter((p) => p.targetTrainRows === n && p.relatedness !== null),
        strategies,
        "relatedness",
        rows.length === 1,
        budget,
      )
    )
    : [];
  return [...curves, ...efficiency, ...related];
}

function learningCurves(
  runs: readonly RunRecord[],
  strategies: readonly StrategyName[],
  point: PointSummary,
  single: boolean,
  budget: string,
): Figure {
  const { relatedness, targetTrainRows, seedsUsed } = point;
  const here = runs.filter((run) =>
    run.relatedness === relatedness && run.targetTrainRows === targetTrainRows && seedsUsed.includes(run.seed)
  );
  const series: ChartSeries[] = strategies.map((strategy) => {
    const mine = here.filter((run) => run.strategy === strategy);
    const epochs = mine.length === 0 ? 0 : Math.min(...mine.map((run) => run.history.length));
    const points = Array.from({ length: epochs }, (_, e): ChartPoint => {
      const values = mine.map((run) => inPercent(run.history[e].test.accuracy));
      const m = mean(values);
      if (values.length < 2) return { x: e + 1, y: m };
      const sd = sampleStd(values);
      return { x: e + 1, y: m, low: clampPercent(m - sd), high: clampPercent(m + sd) };
    });
    return { name: strategy, points };
  }).filter((s) => s.points.length > 0);
  const where = pointName(point);
  const seeds = seedsUsed.length;
  const band = seeds < 2 ? "no band with one seed" : "band: ±1 standard deviation, cut to [0, 100] %";
  return {
    file: single ? "learning-curves.svg" : `learning-curves${rSuffix(relatedness)}-n${targetTrainRows}.svg`,
    caption: `Target test accuracy per epoch (${where}; ${budget}); line: mean over ${seeds} seed${
      seeds === 1 ? "" : "s"
    }, ${band}.`,
    svg: lineChart({
      title: `Learning curves: ${where}`,
      subtitle: budget,
      xLabel: "epoch",
      yLabel: "target test accuracy (%)",
      yRange: PERCENT_RANGE,
      series,
    }),
  };
}

function sweepFigure(
  points: readonly PointSummary[],
  strategies: readonly StrategyName[],
  along: "rows" | "relatedness",
  single: boolean,
  budget: string,
): Figure {
  // The relatedness figure gets only points with a relatedness (see comparisonFigures).
  const x = (p: PointSummary) => along === "rows" ? p.targetTrainRows : p.relatedness ?? NaN;
  const fixed = along === "rows"
    ? points[0].relatedness === null ? null : `relatedness ${points[0].relatedness}`
    : `${points[0].targetTrainRows} target rows`;
  const series: ChartSeries[] = strategies.map((strategy) => ({
    name: strategy,
    points: points.flatMap((p) =>
      p.strategies.filter((s) => s.strategy === strategy).map((s): ChartPoint => {
        const ci = s.accuracy.ci95;
        const y = inPercent(s.accuracy.mean);
        if (ci === null) return { x: x(p), y };
        return { x: x(p), y, low: clampPercent(inPercent(ci[0])), high: clampPercent(inPercent(ci[1])) };
      })
    ),
  })).filter((s) => s.points.length > 0);
  const counts = [...new Set(points.map((p) => p.seedsUsed.length))].sort((a, b) => a - b);
  const seeds = counts.length === 1 ? `${counts[0]}` : `${counts[0]} to ${counts[counts.length - 1]}`;
  const name = along === "rows" ? "sample-efficiency" : "relatedness";
  const suffix = single
    ? ""
    : along === "rows"
    ? rSuffix(points[0].relatedness)
    : `-n${points[0].targetTrainRows}`;
  const title = along === "rows" ? "Sample efficiency" : "Relatedness";
  const context = fixed === null ? budget : `${fixed}; ${budget}`;
  return {
    file: `${name}${suffix}.svg`,
    caption:
      `Target test accuracy against ${along === "rows" ? "the target training-set size" : "relatedness"} ` +
      `(${context}); line: mean over ${seeds} seeds, band: 95% interval of the mean, ` +
      `cut to [0, 100] % (none under 3 seeds).`,
    svg: lineChart({
      title: fixed === null ? title : `${title}: ${fixed}`,
      subtitle: budget,
      xLabel: along === "rows"
        ? "target training rows"
        : "relatedness (0: unrelated tasks, 1: shared features)",
      yLabel: "target test accuracy (%)",
      xScale: along === "rows" ? "log" : "linear",
      yRange: PERCENT_RANGE,
      series,
    }),
  };
}

/** `-r<relatedness>` for a figure's file name; empty without a relatedness (real data). */
function rSuffix(relatedness: number | null): string {
  return relatedness === null ? "" : `-r${relatedness}`;
}
