/**
 * Sharded sweeps for the tests: a small config, the compare and merge programs run as a user runs
 * them, and the comparison of two run folders with the timings masked (every `seconds` in
 * results.json, the CSV's `train_seconds`, the table's and the page's `train s` column).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type ProgramRun, runProgram } from "./helpers.ts";

/**
 * A folder with `config.yaml`: a sweep small enough to run many times (5 seeds take about a second),
 * or `samples` source samples (and half as many target ones) for `epochs` epochs.
 */
export function sweepFolder(samples = 300, epochs = 3): { folder: string; config: string } {
  const folder = Deno.makeTempDirSync({ prefix: "sweep-" });
  const config = join(folder, "config.yaml");
  Deno.writeTextFileSync(
    config,
    [
      `data: {base_n_samples: ${samples}, target_n_samples: ${samples / 2}}`,
      `training: {base_epochs: ${epochs}, target_epochs: ${epochs}}`,
      `logging: {file: ${JSON.stringify(join(folder, "app.log"))}}`,
    ].join("\n"),
  );
  return { folder, config };
}

/** The compare task's permissions, as deno.json gives them. */
const COMPARE_PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env"];

/** `deno task compare` with `args` in `cwd`, with `env` added. */
export function compare(
  cwd: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<ProgramRun> {
  return runProgram("src/programs/compare/main.ts", args, { cwd, permissions: COMPARE_PERMISSIONS, env });
}

/** `deno task merge` with `args` in `cwd`. */
export function merge(cwd: string, args: readonly string[]): Promise<ProgramRun> {
  return runProgram("src/programs/merge/main.ts", args, {
    cwd,
    permissions: ["--allow-read", "--allow-write", "--allow-env=INIT_CWD"],
  });
}

/** `text` with the timings masked: `"seconds": …` values, and a number followed by the engine's name at a line's or a cell's end. */
function maskTimes(text: string): string {
  return text
    .replace(/("seconds": )[-0-9.e]+/g, "$1#")
    .replace(/\d+\.\d+(\s+(cpu|gpu)\s*$)/gm, "#$1")
    .replace(/<td>\d+\.\d+<\/td>(<td>(cpu|gpu)<\/td>)/g, "<td>#</td>$1");
}

/** `csv` with its `train_seconds` column masked. */
function maskCsvTimes(csv: string): string {
  const lines = csv.trimEnd().split("\n");
  const column = lines[0].split(",").indexOf("train_seconds");
  assert.ok(column >= 0, "results.csv has a train_seconds column");
  return lines.map((line, i) =>
    i === 0 ? line : line.split(",").map((v, c) => c === column ? "#" : v).join(",")
  ).join("\n");
}

/**
 * Asserts that run folders `a` and `b` hold the same files with the same contents, timings apart, and
 * that `tableA` and `tableB` (the programs' stdout) show the same table.
 */
export function assertSameRun(a: string, b: string, tableA: string, tableB: string): void {
  const names = (folder: string) => [...Deno.readDirSync(folder)].map((e) => e.name).sort();
  assert.deepEqual(names(a), names(b));
  for (const name of names(a)) {
    const [left, right] = [a, b].map((folder) => Deno.readTextFileSync(join(folder, name)));
    if (name === "results.csv") assert.equal(maskCsvTimes(left), maskCsvTimes(right), name);
    else assert.equal(maskTimes(left), maskTimes(right), name);
  }
  const table = (out: string) =>
    maskTimes(out.split("\n").filter((line) => !/results in /.test(line)).join("\n"));
  assert.equal(table(tableA), table(tableB));
}
