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

/** The outputs of `comparison`, run on `engine` over `grid` with `config`; `runtime` is the Deno version, or null. */
export function comparisonOutputs(
  comparison: Comparison,
  config: Config,
  engine: EngineInfo,
  grid: Grid,
  runtime: string | null,
): ComparisonOutputs {
  const summary = analyzeComparison(comparison.runs, {
    pretrainings: comparison.pretrainings,
    declaredPoints: grid.relatedness.length * (grid.targetRows?.length ?? 1),
    strategies: gridStrategies(grid),
  });
  const budget = budgetNote(config.training);
  const status = comparison.complete
    ? `${comparison.runs.length} runs`
    : `interrupted: kept the ${comparison.runs.length} runs that finished`;
  const noRuns = comparison.runs.length === 0 ? "no run finished\n" : "";
  const results = {
    complete: comparison.complete,
    engine: { name: engine.name, description: engine.description },
    deno_version: runtime,
    config,
    pretrainings: comparison.pretrainings,
    runs: comparison.runs,
    summary: { ...summary, budget },
  };
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
