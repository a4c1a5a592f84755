/**
 * The comparison as a learner reads it: the table (per point of the grid and strategy, the seeds used,
 * validation and test accuracy, test loss, the gain over `scratch` with its sign-flip p-value), the notes
 * that say how to read it (which seeds count, the training budget, how intervals and significance are
 * made, what was left out and why), one verdict per comparison with scratch, and CSV rows. The numbers
 * come from `analysis.ts`.
 *
 * @module
 */

import { percent, percentDigits } from "../format.ts";
import type { Config } from "../config.ts";
import type { RunRecord } from "../../core/comparison.ts";
import { textTable } from "../text_table.ts";
import type { CsvValue } from "../csv_write.ts";
import {
  BASELINE,
  type BaselineComparison,
  type ComparisonSummary,
  type GridPoint,
  type PointSummary,
} from "./analysis.ts";
import { signFlipMinimumValues, type Summary } from "./stats.ts";

/** The marker of an interval that was cut to the possible range. */
export const CLIPPED_MARK = "†";

/** The training keys that set how much each transfer trains. */
export type TransferBudget = Pick<
  Config["training"],
  "target_epochs" | "target_steps" | "early_stopping_patience"
>;

/**
 * How much each transfer trains, in words: `fixed budget: N SGD steps per transfer` when
 * `training.target_steps` is set, else `E epochs per transfer (the number of SGD steps grows with the
 * target set)`; and early stopping when it is on.
 */
export function budgetNote(training: TransferBudget): string {
  const budget = training.target_steps === null
    ? `${training.target_epochs} epochs per transfer (the number of SGD steps grows with the target set)`
    : `fixed budget: ${training.target_steps} SGD step${training.target_steps === 1 ? "" : "s"} per transfer`;
  const patience = training.early_stopping_patience;
  return patience === null
    ? budget
    : `${budget}; early stopping ends a transfer after ${patience} epochs without a lower validation loss`;
}

/**
 * A point in words: `relatedness 0.9, 480 target training rows`; without a relatedness (real data),
 * `480 target training rows`.
 */
export function pointName(point: GridPoint): string {
  const rows = `${point.targetTrainRows} target training rows`;
  return point.relatedness === null ? rows : `relatedness ${point.relatedness}, ${rows}`;
}

/** Seeds in words, runs of consecutive seeds shortened: `42–46, 48`. */
export function seedList(seeds: readonly number[]): string {
  const sorted = [...seeds].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(
      j === i ? String(sorted[i]) : j === i + 1 ? `${sorted[i]}, ${sorted[j]}` : `${sorted[i]}–${sorted[j]}`,
    );
    i = j + 1;
  }
  return parts.join(", ");
}

/** A p-value as shown: three decimals, or `<0.001`. */
export function formatP(p: number): string {
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

function signed(value: number, digits = 1): string {
  const text = value.toFixed(digits);
  return Number(text) === 0 ? (0).toFixed(digits) : `${value > 0 ? "+" : ""}${text}`;
}

/** ` [low, high]` in percent or points, with the clipped mark; empty without an interval. */
function interval(s: Summary, sign = false): string {
  if (s.ci95 === null) return "";
  const show = (v: number) => sign ? signed(100 * v) : (100 * v).toFixed(1);
  return ` [${show(s.ci95[0])}, ${show(s.ci95[1])}]${s.clipped ? CLIPPED_MARK : ""}`;
}

/** `mean ± sd [low, high]` in percent: no ± for one seed, no interval under three. */
function accuracyCell(s: Summary): string {
  const spread = s.std === null ? "" : ` ± ${percentDigits(s.std)}`;
  return `${percentDigits(s.mean)}${spread}${interval(s)}`;
}

function lossCell(s: Summary): string {
  return s.std === null ? s.mean.toFixed(3) : `${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}`;
}

/** Whether the points vary in relatedness and in training rows. */
function sweeps(points: readonly GridPoint[]) {
  const swept = (key: keyof GridPoint) => new Set(points.map((p) => p[key])).size > 1;
  return { relatedness: swept("relatedness"), rows: swept("targetTrainRows") };
}

/** The table for the console and the page; `best` holds the indices of the rows marked best. */
export function tableRows(
  summary: ComparisonSummary,
  engine: string,
): { header: string[]; rows: string[][]; best: number[] } {
  const points = summary.points.filter((p) => p.strategies.length > 0);
  const swept = sweeps(points);
  const header = [
    ...(swept.relatedness ? ["relatedness"] : []),
    ...(swept.rows ? ["target rows"] : []),
    "strategy",
    "seeds",
    "validation %",
    "test accuracy % (mean ± sd [95% CI])",
    "test loss",
    `gain over ${BASELINE}, points [95% CI]`,
    "sign-flip p (Holm)",
    "source test %",
    "train s",
    "engine",
  ];
  const rows: string[][] = [];
  const best: number[] = [];
  for (const point of points) {
    for (const s of point.strategies) {
      const comparison = point.comparisons.find((c) => c.strategy === s.strategy);
      if (s.best) best.push(rows.length);
      rows.push([
        ...(swept.relatedness ? [String(point.relatedness ?? "")] : []),
        ...(swept.rows ? [String(point.targetTrainRows)] : []),
        `${s.strategy}${s.best ? " *" : ""}`,
        String(point.seedsUsed.length),
        percentDigits(s.validationAccuracy.mean),
        accuracyCell(s.accuracy),
        lossCell(s.loss),
        comparison === undefined
          ? "-"
          : `${signed(100 * comparison.gain.mean)}${interval(comparison.gain, true)}`,
        comparison === undefined
          ? "-"
          : `${formatP(comparison.signFlip.p)} (${formatP(comparison.signFlip.pHolm)})`,
        percentDigits(s.sourceAccuracy),
        s.seconds.toFixed(3),
        engine,
      ]);
    }
  }
  return { header, rows, best };
}

/**
 * How to read the table: which seeds count, the training budget, what the mark and the intervals mean,
 * which test the verdicts use; then what was left out (seeds cut short, diverged runs, points with nothing
 * to compare).
 */
export function readingNotes(summary: ComparisonSummary, training: TransferBudget): string[] {
  const shown = summary.points.filter((p) => p.strategies.length > 0);
  const counts = new Set(shown.map((p) => p.seedsUsed.join(",")));
  const uniform = counts.size === 1 && shown.length > 0;
  const seeds = uniform
    ? `seeds ${seedList(shown[0].seedsUsed)} (${shown[0].seedsUsed.length})${
      shown.length > 1 ? " at every point" : ""
    }: ` +
      "the seeds where every strategy finished and none diverged"
    : `seeds: at each point, those where every strategy finished and none diverged (the "seeds" column)`;
  const clipped = shown.some((p) =>
    p.strategies.some((s) => s.accuracy.clipped) || p.comparisons.some((c) => c.gain.clipped)
  );
  const m = summary.familySize;
  const compared = summary.strategies.length - 1;
  const gridPoints = compared === 0 ? 0 : m / compared;
  const tests = `${m === 1 ? "the 1 comparison" : `all ${m} comparisons`} (${compared} strateg${
    compared === 1 ? "y" : "ies"
  } × ${gridPoints} grid point${gridPoints === 1 ? "" : "s"})`;
  if (shown.length === 0) return [budgetNote(training), ...exclusions(summary)];
  return [
    `${seeds}; every number of a point uses exactly these`,
    budgetNote(training),
    "* the highest mean validation accuracy at its point: chosen on the validation split, reported on the " +
    "test split; no significance claim rests on the choice",
    "95% CI: Student's t interval of the mean over the seeds, shown from 3 seeds up (no ± sd for a single " +
    "seed), cut to the possible range: [0, 100] % for accuracy, [-100, 100] points for a gain" +
    (clipped ? ` (${CLIPPED_MARK}: cut)` : ""),
    `significance: each strategy against ${BASELINE}, declared in advance, by the exact two-sided sign-flip ` +
    `test of the per-seed differences, Holm-corrected over ${tests} of this run; significant when the ` +
    `corrected p < ${summary.alpha} (the paired t-test's p-values are in the verdicts and results.json)`,
    ...exclusions(summary),
  ];
}

/** What was left out, and why: one line per point with something left out. */
function exclusions(summary: ComparisonSummary): string[] {
  const several = summary.points.length > 1;
  const at = (p: PointSummary) => several ? ` at ${pointName(p)}` : "";
  const lines = summary.pretrainingDiverged.map(({ seed, epoch }) =>
    `seed ${seed}: pretraining diverged at epoch ${epoch}; the seed has no runs`
  );
  for (const point of summary.points) {
    for (const { seed, finished } of point.incomplete) {
      lines.push(
        `left out${
          at(point)
        }: seed ${seed}, interrupted after ${finished.length} of ${summary.strategies.length} ` +
          `strategies (${finished.join(", ")})`,
      );
    }
    if (point.diverged.length > 0) {
      const seeds = new Set(point.diverged.map((d) => d.seed)).size;
      const total = new Set([...point.seedsUsed, ...point.diverged.map((d) => d.seed)]).size;
      const which = summary.strategies.flatMap((strategy) => {
        const mine = point.diverged.filter((d) => d.strategy === strategy);
        return mine.length === 0 ? [] : [
          `${strategy} on ${mine.length === 1 ? "seed" : "seeds"} ${seedList(mine.map((d) => d.seed))} ` +
          `(epoch ${[...new Set(mine.map((d) => d.epoch))].sort((a, b) => a - b).join(", ")})`,
        ];
      });
      lines.push(
        `diverged${at(point)}: ${which.join("; ")}; ${seeds} of ${total} seeds left out for every strategy`,
      );
    }
    if (point.seedsUsed.length === 0) {
      lines.push(
        `nothing to compare${at(point)}: no seed where every strategy finished without diverging`,
      );
    }
  }
  return lines;
}

/** One verdict per comparison with scratch, then the best strategy at each point. */
export function verdicts(summary: ComparisonSummary): string[] {
  const several = summary.points.filter((p) => p.strategies.length > 0).length > 1;
  const level = summary.alpha / summary.familySize;
  const levelText = summary.familySize === 1 ? `${summary.alpha}` : `${summary.alpha}/${summary.familySize}`;
  const lines: string[] = [];
  for (const point of summary.points) {
    if (point.strategies.length === 0) continue;
    const where = several ? `at ${pointName(point)}: ` : "";
    for (const c of point.comparisons) {
      lines.push(`${where}${verdict(c, summary.alpha, level, levelText, summary.power)}`);
    }
    const best = point.strategies.filter((s) => s.best);
    const tests = best.map((s) => percent(s.accuracy.mean)).join(" and ");
    const validation = percent(best[0].validationAccuracy.mean);
    lines.push(
      best.length === 1
        ? `${where}best by validation: ${best[0].strategy} (validation ${validation}, test ${tests})`
        : `${where}best by validation: ${best.map((s) => s.strategy).join(" and ")} tie ` +
          `(validation ${validation}; test ${tests})`,
    );
  }
  return lines;
}

function verdict(
  c: BaselineComparison,
  alpha: number,
  level: number,
  levelText: string,
  power: number,
): string {
  const seeds = `${c.seeds} seed${c.seeds === 1 ? "" : "s"}`;
  const t = c.tTest === null
    ? "no t-test under 2 seeds"
    : `t-test p ${formatP(c.tTest.p)} (Holm ${formatP(c.tTest.pHolm)})`;
  const head = `${c.strategy} vs ${BASELINE}: ${signed(100 * c.gain.mean)} points${interval(c.gain, true)} ` +
    `over ${seeds}; sign-flip p ${formatP(c.signFlip.p)} (Holm ${formatP(c.signFlip.pHolm)}), ${t}`;
  if (c.significant) {
    return `${head}: ${c.gain.mean > 0 ? "significant gain" : `significantly worse than ${BASELINE}`}`;
  }
  const open = `${head}: not significant (which shows neither a difference nor its absence)`;
  if (c.seeds === 1) return `${open}; one seed has no spread to plan more seeds with`;
  if (c.gain.mean === 0) return `${open}; the seeds differ by 0 on average`;
  const smallest = `2/2^${c.seeds} = ${Number((2 / 2 ** c.seeds).toPrecision(4))}`;
  const cannot = c.seeds < signFlipMinimumValues(alpha)
    ? `; with ${seeds} the sign-flip test cannot reach p < ${alpha} at all (its smallest p is ${smallest})`
    : c.seeds < signFlipMinimumValues(level)
    ? `; with ${seeds} its smallest possible p, ${smallest}, is not below Holm's strictest level ${levelText}`
    : "";
  const size = Math.abs(100 * c.gain.mean).toFixed(1);
  const need = c.seedsNeeded === null
    ? `a true difference of ${size} points with this spread would need more than a million seeds`
    : `a true difference of ${size} points with this spread would need about ${c.seedsNeeded} seeds ` +
      `(paired t-test at α = ${levelText}, ${Math.round(100 * power)}% power)`;
  return `${open}${cannot}; ${need}`;
}

/** The console report: the table, how to read it, and the verdicts. */
export function formatComparison(
  summary: ComparisonSummary,
  engine: string,
  training: TransferBudget,
): string {
  const { header, rows } = tableRows(summary, engine);
  const table = rows.length > 0 ? [textTable(header, rows)] : []; // the notes say why a point has nothing
  const judged = verdicts(summary);
  return [...table, ...readingNotes(summary, training), ...(judged.length > 0 ? ["", ...judged] : [])].join(
    "\n",
  );
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
  "target_validation_accuracy",
  "target_validation_loss",
  "target_test_accuracy",
  "target_test_loss",
  "epochs",
  "train_seconds",
  "diverged",
  "diverged_epoch",
  "used",
] as const;

/**
 * One run as a CSV row, in {@linkcode CSV_HEADER}'s order. `diverged` is true or false and
 * `diverged_epoch` the epoch it diverged at (empty when it did not); `used` says whether the run's seed
 * is among those its point's numbers use (see `analysis.ts`).
 */
export function csvRow(run: RunRecord, engine: string, used: boolean): CsvValue[] {
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
    run.target.validation.accuracy,
    run.target.validation.loss,
    run.target.test.accuracy,
    run.target.test.loss,
    run.history.length,
    run.seconds,
    run.diverged !== null,
    run.diverged?.epoch ?? null,
    used,
  ];
}
