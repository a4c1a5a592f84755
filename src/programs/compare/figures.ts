/**
 * The comparison's pictures, as SVG (see `svg.ts`): learning curves (target test accuracy per epoch,
 * one line per strategy, a band of ±1 standard deviation over the seeds) at each point of the grid,
 * and when swept, target test accuracy against the target training-set size (sample efficiency) and
 * against relatedness, with 95 % intervals of the mean as bands.
 *
 * @module
 */

import { inPercent } from "../../app/format.ts";
import { STRATEGY_NAMES } from "../../core/strategies.ts";
import type { RunRecord } from "../../core/comparison.ts";
import { mean, sampleStd } from "./stats.ts";
import type { StrategySummary } from "./summary.ts";
import { type ChartSeries, lineChart } from "./svg.ts";

/** One picture: its file name in the run folder, a caption, and the SVG text. */
export interface Figure {
  /** File name in the run folder, e.g. `learning-curves.svg`; unique among the figures. */
  readonly file: string;
  /** What the chart shows, its line and its band, in one sentence: the page's caption and alt text. */
  readonly caption: string;
  /** The whole SVG document, from {@linkcode lineChart}. */
  readonly svg: string;
}

/** Every figure for these runs and their summaries. */
export function comparisonFigures(
  runs: readonly RunRecord[],
  summaries: readonly StrategySummary[],
): Figure[] {
  const relatedness = [...new Set(summaries.map((s) => s.relatedness))];
  const rows = [...new Set(summaries.map((s) => s.targetTrainRows))];
  const single = relatedness.length === 1 && rows.length === 1;
  const curves = relatedness.flatMap((r) =>
    rows.map((n) =>
      learningCurves(runs.filter((run) => run.relatedness === r && run.targetTrainRows === n), single)
    )
  );
  const efficiency = rows.length > 1
    ? relatedness.map((r) =>
      sweepFigure(summaries.filter((s) => s.relatedness === r), "rows", relatedness.length === 1)
    )
    : [];
  const related = relatedness.length > 1
    ? rows.map((n) =>
      sweepFigure(summaries.filter((s) => s.targetTrainRows === n), "relatedness", rows.length === 1)
    )
    : [];
  return [...curves, ...efficiency, ...related];
}

function learningCurves(runs: readonly RunRecord[], single: boolean): Figure {
  const { relatedness, targetTrainRows } = runs[0];
  const seeds = new Set(runs.map((run) => run.seed)).size;
  const series: ChartSeries[] = STRATEGY_NAMES.map((strategy) => {
    const mine = runs.filter((run) => run.strategy === strategy);
    const epochs = Math.min(...mine.map((run) => run.history.length));
    const points = Array.from({ length: mine.length === 0 ? 0 : epochs }, (_, e) => {
      const values = mine.map((run) => inPercent(run.history[e].test.accuracy));
      const [m, sd] = [mean(values), sampleStd(values)];
      return { x: e + 1, y: m, low: m - sd, high: m + sd };
    });
    return { name: strategy, points };
  }).filter((s) => s.points.length > 0);
  const where = `relatedness ${relatedness}, ${targetTrainRows} target training rows`;
  return {
    file: single ? "learning-curves.svg" : `learning-curves-r${relatedness}-n${targetTrainRows}.svg`,
    caption:
      `Target test accuracy per epoch (${where}); line: mean over ${seeds} seeds, band: ±1 standard deviation.`,
    svg: lineChart({
      title: `Learning curves: ${where}`,
      xLabel: "epoch",
      yLabel: "target test accuracy (%)",
      series,
    }),
  };
}

function sweepFigure(
  summaries: readonly StrategySummary[],
  along: "rows" | "relatedness",
  single: boolean,
): Figure {
  const x = (s: StrategySummary) => along === "rows" ? s.targetTrainRows : s.relatedness;
  const fixed = along === "rows"
    ? `relatedness ${summaries[0].relatedness}`
    : `${summaries[0].targetTrainRows} target rows`;
  const series: ChartSeries[] = STRATEGY_NAMES.map((strategy) => ({
    name: strategy,
    points: summaries.filter((s) => s.strategy === strategy).map((s) => ({
      x: x(s),
      y: inPercent(s.accuracy.mean),
      ...(s.accuracy.ci95 ? { low: inPercent(s.accuracy.ci95[0]), high: inPercent(s.accuracy.ci95[1]) } : {}),
    })),
  })).filter((s) => s.points.length > 0);
  const seeds = Math.max(...summaries.map((s) => s.seeds));
  const name = along === "rows" ? "sample-efficiency" : "relatedness";
  const suffix = single
    ? ""
    : along === "rows"
    ? `-r${summaries[0].relatedness}`
    : `-n${summaries[0].targetTrainRows}`;
  return {
    file: `${name}${suffix}.svg`,
    caption:
      `Target test accuracy against ${along === "rows" ? "the target training-set size" : "relatedness"} ` +
      `(${fixed}); line: mean over ${seeds} seeds, band: 95% interval of the mean.`,
    svg: lineChart({
      title: along === "rows" ? `Sample efficiency: ${fixed}` : `Relatedness: ${fixed}`,
      xLabel: along === "rows"
        ? "target training rows"
        : "relatedness (0: unrelated tasks, 1: shared features)",
      yLabel: "target test accuracy (%)",
      xScale: along === "rows" ? "log" : "linear",
      series,
    }),
  };
}
