/**
 * From runs to what a learner reads: per point of the grid and strategy, the target test accuracy
 * and loss over the seeds (mean, standard deviation, 95 % interval), the gain over `scratch` paired by
 * seed, and which strategy is best; as a console table, table rows for the page, and CSV rows.
 *
 * @module
 */

import { percent, percentDigits } from "../../app/format.ts";
import { STRATEGY_NAMES, type StrategyName } from "../../core/strategies.ts";
import { textTable } from "../../app/text_table.ts";
import type { CsvValue } from "./csv.ts";
import type { RunRecord } from "../../core/comparison.ts";
import { mean, pairedGain, summarize, type Summary } from "./stats.ts";

/** One strategy at one point of the grid, over the seeds that finished. */
export interface StrategySummary {
  /** The point's task relatedness, from 0 to 1. */
  readonly relatedness: number;
  /** The point's target training-set size, in rows. */
  readonly targetTrainRows: number;
  /** The strategy these runs adapted with. */
  readonly strategy: StrategyName;
  /** Runs summarised: one per seed whose run of this strategy at this point finished. */
  readonly seeds: number;
  /** Target test accuracy, as a fraction. */
  readonly accuracy: Summary;
  /** Target test loss (mean cross-entropy). */
  readonly loss: Summary;
  /** Mean source test accuracy of these runs' pretrained models, as a fraction. */
  readonly sourceAccuracy: number;
  /** Mean transfer training seconds. */
  readonly seconds: number;
  /** Accuracy minus scratch's on the same seeds, as a fraction; null for scratch or without pairs. */
  readonly gainOverScratch: Summary | null;
  /** The highest mean accuracy at its point. */
  readonly best: boolean;
}

/** A point of the grid: its relatedness and target training rows. */
const pointOf = (r: { relatedness: number; targetTrainRows: number }) =>
  `${r.relatedness}/${r.targetTrainRows}`;

/** Every strategy at every point of `runs`, in grid order. */
export function summarizeRuns(runs: readonly RunRecord[]): StrategySummary[] {
  const points = [...new Set(runs.map(pointOf))];
  return points.flatMap((point) => {
    const here = runs.filter((run) => pointOf(run) === point);
    const summaries = STRATEGY_NAMES.filter((s) => here.some((run) => run.strategy === s))
      .map((strategy) => summarizeStrategy(here, strategy));
    const bestMean = Math.max(...summaries.map((s) => s.accuracy.mean));
    return summaries.map((s) => ({ ...s, best: s.accuracy.mean === bestMean }));
  });
}

function summarizeStrategy(here: readonly RunRecord[], strategy: StrategyName): StrategySummary {
  const mine = here.filter((run) => run.strategy === strategy);
  const scratchBySeed = new Map(
    here.filter((run) => run.strategy === "scratch").map((run) => [run.seed, run]),
  );
  const paired = mine.filter((run) => scratchBySeed.has(run.seed));
  const gain = strategy === "scratch" || paired.length === 0 ? null : pairedGain(
    paired.map((run) => run.target.test.accuracy),
    paired.map((run) => scratchBySeed.get(run.seed)!.target.test.accuracy),
  );
  return {
    relatedness: mine[0].relatedness,
    targetTrainRows: mine[0].targetTrainRows,
    strategy,
    seeds: mine.length,
    accuracy: summarize(mine.map((run) => run.target.test.accuracy)),
    loss: summarize(mine.map((run) => run.target.test.loss)),
    sourceAccuracy: mean(mine.map((run) => run.sourceTest.accuracy)),
    seconds: mean(mine.map((run) => run.seconds)),
    gainOverScratch: gain,
    best: false,
  };
}

const interval = (s: Summary, scale: number, digits: number) =>
  s.ci95 === null ? "" : ` [${(scale * s.ci95[0]).toFixed(digits)}, ${(scale * s.ci95[1]).toFixed(digits)}]`;

/** The columns of the table, for the console and the page; the sweep columns only when swept. */
export function tableRows(
  summaries: readonly StrategySummary[],
  engine: string,
): { header: string[]; rows: string[][] } {
  const swept = (key: "relatedness" | "targetTrainRows") => new Set(summaries.map((s) => s[key])).size > 1;
  const [byRelatedness, byRows] = [swept("relatedness"), swept("targetTrainRows")];
  const header = [
    ...(byRelatedness ? ["relatedness"] : []),
    ...(byRows ? ["target rows"] : []),
    "strategy",
    "target test accuracy % (mean ± sd [95% CI])",
    "target test loss",
    "gain over scratch, points [95% CI]",
    "source test %",
    "train s",
    "engine",
  ];
  const rows = summaries.map((s) => [
    ...(byRelatedness ? [String(s.relatedness)] : []),
    ...(byRows ? [String(s.targetTrainRows)] : []),
    `${s.strategy}${s.best ? " *" : ""}`,
    `${percentDigits(s.accuracy.mean)} ± ${percentDigits(s.accuracy.std)}${interval(s.accuracy, 100, 1)}`,
    `${s.loss.mean.toFixed(3)} ± ${s.loss.std.toFixed(3)}`,
    s.gainOverScratch === null
      ? "-"
      : `${signed(100 * s.gainOverScratch.mean)}${interval(s.gainOverScratch, 100, 1)}`,
    percentDigits(s.sourceAccuracy),
    s.seconds.toFixed(3),
    engine,
  ]);
  return { header, rows };
}

/** The best strategy at each point, and by how much it beats scratch. */
export function verdicts(summaries: readonly StrategySummary[]): string[] {
  return summaries.filter((s) => s.best).map((s) => {
    const where = summaries.length > STRATEGY_NAMES.length
      ? ` at relatedness ${s.relatedness}, ${s.targetTrainRows} target rows`
      : "";
    const gain = s.gainOverScratch;
    const best = `best${where}: ${s.strategy} (${percent(s.accuracy.mean)})`;
    if (s.strategy === "scratch") return `${best}: no strategy beats training from scratch`;
    if (gain === null) return `${best}: no scratch run finished to compare with`;
    const significant = gain.ci95 !== null && gain.ci95[0] > 0 ? "significant" : "not significant";
    return `best${where}: ${s.strategy} (${percent(s.accuracy.mean)}), ${
      signed(100 * gain.mean)
    } points over scratch` +
      `${interval(gain, 100, 1)}, paired over ${gain.n} seed${
        gain.n === 1 ? "" : "s"
      }: ${significant} at 95%`;
  });
}

/** The console report: the table and the verdicts. */
export function formatComparison(summaries: readonly StrategySummary[], engine: string): string {
  const { header, rows } = tableRows(summaries, engine);
  return [textTable(header, rows), "* best mean accuracy at its point", ...verdicts(summaries)].join("\n");
}

/** The CSV's header, one column per field of a run (see {@linkcode csvRow}). */
export const CSV_HEADER = [
  "seed",
  "relatedness",
  "target_train_rows",
  "strategy",
  "engine",
  "source_test_accuracy",
  "source_test_loss",
  "target_train_accuracy",
  "target_train_loss",
  "target_test_accuracy",
  "target_test_loss",
  "epochs",
  "train_seconds",
] as const;

/** One run as a CSV row, in {@linkcode CSV_HEADER}'s order. */
export function csvRow(run: RunRecord, engine: string): CsvValue[] {
  return [
    run.seed,
    run.relatedness,
    run.targetTrainRows,
    run.strategy,
    engine,
    run.sourceTest.accuracy,
    run.sourceTest.loss,
    run.target.train.accuracy,
    run.target.train.loss,
    run.target.test.accuracy,
    run.target.test.loss,
    run.history.length,
    run.seconds,
  ];
}

function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(1)}`;
}
