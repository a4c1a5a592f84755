/**
 * Everything a comparison produces, as text: the table the console shows and the run folder's files
 * (`results.json`, `results.csv`, the SVG figures, `index.html`). It reads no file and no runtime
 * state, so the playground builds byte for byte the files `deno task compare` writes, in a browser.
 *
 * @module
 */

import type { Config } from "../config.ts";
import { toCsv } from "../csv_write.ts";
import { type Comparison, type Grid, gridStrategies } from "../../core/comparison.ts";
import type { Shard } from "../shards.ts";
import { analyzeComparison, isUsed } from "./analysis.ts";
import { comparisonFigures } from "./figures.ts";
import { indexPage } from "./html.ts";
import {
  budgetNote,
  CSV_HEADER,
  csvRow,
  formatComparison,
  readingNotes,
  seedList,
  tableRows,
  verdicts,
} from "./summary.ts";

/** The engine that ran the comparison, as the results name it. */
export interface EngineInfo {
  /** `cpu` or `gpu`. */
  readonly name: string;
  /** What it ran on, for people. */
  readonly description: string;
}

/** One file of the run folder. */
export interface OutputFile {
  /** Its name in the folder, e.g. `results.json`. */
  readonly name: string;
  /** Its contents. */
  readonly text: string;
}

/** What a comparison shows and writes. */
export interface ComparisonOutputs {
  /** The console's table, with a line saying why when no run finished. */
  readonly table: string;
  /** `N runs`, or that it was interrupted and how many runs it kept. */
  readonly status: string;
  /** The run folder's files, `results.json` first. */
  readonly files: readonly OutputFile[];
}

/** What a comparison ran with, besides its records. */
export interface RunContext {
  /** The config it ran with, as the results record it. */
  readonly config: Config;
  /** The engine that ran it. */
  readonly engine: EngineInfo;
  /** The whole grid, every seed of it, even when this run is one shard of it. */
  readonly grid: Grid;
  /** The Deno version that ran it, or null (the playground). */
  readonly runtime: string | null;
  /** The share of `grid`'s seeds this run holds; null for all of them. */
  readonly shard: Shard | null;
}

/** `results.json`: every record, what they ran with, and the statistics. */
export interface ResultsDocument {
  /** True when every point of the (shard's) grid ran. */
  readonly complete: boolean;
  /** The engine that ran the records. */
  readonly engine: EngineInfo;
  /** The Deno version that ran them; null in the playground. */
  readonly deno_version: string | null;
  /** The config they ran with. */
  readonly config: Config;
  /** The whole grid: its seeds, strategies, relatedness values and target sizes. */
  readonly grid: Grid;
  /** Null, or which share of the grid's seeds the records are. */
  readonly shard: Shard | null;
  /** One per finished seed, in the grid's order. */
  readonly pretrainings: Comparison["pretrainings"];
  /** Every finished transfer, by seed, relatedness, size, then strategy. */
  readonly runs: Comparison["runs"];
  /** The analysis (`analysis.ts`) with the budget note; null in a checkpoint. */
  readonly summary: unknown;
}

/** `grid` as `results.json` records it: its strategies spelled out even when they are the default ones. */
export function gridRecord(grid: Grid): Grid {
  return { ...grid, strategies: gridStrategies(grid) };
}

/** The statistics of `comparison` under `context`. */
function summaryOf(comparison: Comparison, context: RunContext) {
  const { grid } = context;
  return analyzeComparison(comparison.runs, {
    pretrainings: comparison.pretrainings,
    declaredPoints: grid.relatedness.length * (grid.targetRows?.length ?? 1),
    strategies: gridStrategies(grid),
  });
}

/**
 * The `results.json` document of `comparison` under `context`; a checkpoint (`compare`'s, after each
 * seed) leaves out the statistics, which the final document has, to keep each rewrite cheap.
 */
export function resultsDocument(
  comparison: Comparison,
  context: RunContext,
  checkpoint = false,
): ResultsDocument {
  return documentOf(comparison, context, checkpoint ? null : summaryOf(comparison, context));
}

function documentOf(
  comparison: Comparison,
  { config, engine, grid, runtime, shard }: RunContext,
  summary: ReturnType<typeof summaryOf> | null,
): ResultsDocument {
  return {
    complete: comparison.complete,
    engine: { name: engine.name, description: engine.description },
    deno_version: runtime,
    config,
    grid: gridRecord(grid),
    shard,
    pretrainings: comparison.pretrainings,
    runs: comparison.runs,
    summary: summary === null ? null : { ...summary, budget: budgetNote(config.training) },
  };
}

/** Everything `comparison` shows and writes under `context`. */
export function comparisonOutputs(comparison: Comparison, context: RunContext): ComparisonOutputs {
  const { config, engine } = context;
  const summary = summaryOf(comparison, context);
  const budget = budgetNote(config.training);
  const share = context.shard === null ? "" : ` of shard ${context.shard.index}/${context.shard.count}`;
  const status = comparison.complete
    ? `${comparison.runs.length} runs${share}`
    : `interrupted: kept the ${comparison.runs.length} runs${share} that finished`;
  const noRuns = comparison.runs.length === 0 ? "no run finished\n" : "";
  const results = documentOf(comparison, context, summary);
  const csv = comparison.runs.map((run) => csvRow(run, engine.name, isUsed(summary, run)));
  const figures = comparisonFigures(comparison.runs, summary, budget);
  const { header, rows, best } = tableRows(summary, engine.name);
  const page = indexPage({
    title: "Transfer strategies compared",
    intro: `Seeds ${seedList(comparison.pretrainings.map((p) => p.seed))}; engine ${engine.description}; ` +
      `${status}. Rows marked * (highlighted) have the best mean validation accuracy at their point.`,
    table: { header, rows, highlightRows: best },
    figures,
    notes: [
      ...readingNotes(summary, config.training),
      ...verdicts(summary),
      "results.json has every run and epoch and the statistics; results.csv a row per run.",
    ],
  });
  return {
    table: noRuns + formatComparison(summary, engine.name, config.training), // with no runs: why, if known
    status,
    files: [
      { name: "results.json", text: `${JSON.stringify(results, null, 2)}\n` },
      { name: "results.csv", text: toCsv(CSV_HEADER, csv) },
      ...figures.map((figure) => ({ name: figure.file, text: figure.svg })),
      { name: "index.html", text: page },
    ],
  };
}
