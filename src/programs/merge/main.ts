/**
 * `deno task merge OUT SHARD_DIR...`: the run folders of a sharded comparison (`compare --shard`)
 * merged into one, as if one process had run the whole grid: `results.json`, `results.csv`, the
 * figures and `index.html`, and the table on stdout. It first checks that the shards are one sweep
 * (the same config, grid and shard count, on one engine kind), that each is complete, and that every
 * run of the grid is there exactly once, naming what is missing or repeated. See docs/CLUSTERS.md.
 *
 * @module
 */

import { join } from "node:path";
import { prepareFolder, refuseUsedFolder, writeRunFolder } from "../../app/run_folder.ts";
import { type Parsed, parseWith, program } from "../../app/cli.ts";
import { comparisonOutputs, type ResultsDocument } from "../../app/report/outputs.ts";
import {
  firstDifference,
  inSeedOrder,
  readResults,
  runsPerSeed,
  sweepDifference,
} from "../../app/report/results_file.ts";
import { runCommand } from "../../app/setup.ts";
import { type Grid, gridStrategies, type RunRecord } from "../../core/comparison.ts";
import { UsageError } from "../../core/errors.ts";
import { shardSeeds } from "../../app/shards.ts";

/** What the merge program's arguments ask for. */
export interface MergeOptions {
  /** The merged run's folder: new or empty. */
  readonly out: string;
  /** The shards' run folders, at least one. */
  readonly shards: readonly string[];
}

/** Parses the merge program's `args`. Throws {@linkcode UsageError} for bad ones. */
export function parseMergeArgs(args: readonly string[]): Parsed<MergeOptions> {
  const merge = program(
    "deno task merge",
    "Merge the run folders of a sharded compare (--shard i/n) into one, as if one process had run the whole grid.",
  )
    .argument("<out>", "the merged run's folder: new or empty")
    .argument("<shard-dirs...>", "every shard's --out-dir, in any order");
  return parseWith(merge, args, () => ({ out: merge.args[0], shards: merge.args.slice(1) }));
}

/** Runs the merge with `args`; resolves with the exit code. */
export function main(args: readonly string[]): Promise<number> {
  return runCommand(() => parseMergeArgs(args), mergeShards);
}

/** A shard's results and its folder. */
interface ShardResults {
  readonly folder: string;
  readonly results: ResultsDocument;
}

function mergeShards(options: MergeOptions): Promise<number> {
  const twice = options.shards.find((folder, i) => options.shards.indexOf(folder) !== i);
  if (twice !== undefined) throw new UsageError(`${twice} is given twice; give each shard's folder once`);
  const shards = options.shards.map((folder): ShardResults => ({
    folder,
    results: readResults(join(folder, "results.json"), folder),
  }));
  checkOneSweep(shards);
  const [first] = shards;
  const grid = first.results.grid;
  checkEveryRun(shards, grid);
  prepareOut(options.out, options.shards);
  const records = inSeedOrder(grid.seeds, shards.map((s) => s.results));
  const engine = {
    name: first.results.engine.name,
    description: common(shards.map((s) => s.results.engine.description)),
  };
  const runtime = common(shards.map((s) => s.results.deno_version ?? "none"));
  const outputs = comparisonOutputs(
    { ...records, complete: true },
    { config: first.results.config, engine, grid, runtime, shard: null },
  );
  writeRunFolder(options.out, "<out>", outputs, ` from ${shards.length} shards`);
  return Promise.resolve(0);
}

/** The one value of `values`, or all of them, `; `-separated, when the shards differ (different machines). */
function common(values: readonly string[]): string {
  return [...new Set(values)].join("; ");
}

/**
 * Throws {@linkcode UsageError} unless the shards are one sweep: each a shard, complete, of the same
 * config, grid, shard count and engine kind, the indices 0 to n − 1 each exactly once.
 */
function checkOneSweep(shards: readonly ShardResults[]): void {
  const [first] = shards;
  for (const { folder, results } of shards) {
    if (results.shard === null) {
      throw new UsageError(
        `${folder}: holds a whole comparison, not a shard (compare --shard i/n); merge only shards`,
      );
    }
    if (!results.complete) {
      throw new UsageError(
        `${folder}: shard ${results.shard.index}/${results.shard.count} is incomplete; rerun it with --resume --out-dir ${folder}`,
      );
    }
    const checks: [string, unknown, unknown][] = [
      ["shard count", first.results.shard?.count, results.shard.count],
      ["engine kind", first.results.engine.name, results.engine.name],
    ];
    const sweep = sweepDifference(first.results, results);
    const differs = sweep ??
      checks.map(([what, expected, found]) => ({ what, at: firstDifference(expected, found) }))
        .find((check) => check.at !== null);
    if (differs !== undefined) {
      throw new UsageError(
        `${folder}: another ${differs.what} than ${first.folder} (they differ at ${differs.at}); merge the shards of one sweep`,
      );
    }
  }
  const count = first.results.shard!.count;
  const seen = new Map<number, string>();
  for (const { folder, results } of shards) {
    const index = results.shard!.index;
    if (seen.has(index)) {
      throw new UsageError(
        `${folder}: shard ${index}/${count} again (also ${seen.get(index)}); give each once`,
      );
    }
    seen.set(index, folder);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0) {
    throw new UsageError(
      `shard${missing.length > 1 ? "s" : ""} ${
        missing.map((i) => `${i}/${count}`).join(", ")
      } missing; give every shard's folder`,
    );
  }
}

/** The name of a run, for messages. */
function runName(run: Pick<RunRecord, "seed" | "strategy" | "relatedness" | "targetTrainRows">): string {
  const relatedness = run.relatedness === null ? "" : `, relatedness ${run.relatedness}`;
  return `seed ${run.seed}, ${run.strategy}${relatedness}, ${run.targetTrainRows} target rows`;
}

/**
 * Throws {@linkcode UsageError} unless every seed of `grid` has one pretraining, and one run of each
 * point and strategy (none when its pretraining diverged), in the shard that owns it.
 */
function checkEveryRun(shards: readonly ShardResults[], grid: Grid): void {
  const owner = new Map<number, string>();
  for (const { folder, results } of shards) {
    const { index, count } = results.shard!;
    const own = new Set(shardSeeds(grid.seeds, results.shard));
    for (const p of results.pretrainings) {
      if (!own.has(p.seed)) {
        throw new UsageError(`${folder}: has seed ${p.seed}, which is not shard ${index}/${count}'s`);
      }
      if (owner.has(p.seed)) {
        throw new UsageError(`seed ${p.seed} is pretrained twice (${owner.get(p.seed)}, ${folder})`);
      }
      owner.set(p.seed, folder);
    }
    const transferred = new Set(results.pretrainings.filter((p) => p.diverged === null).map((p) => p.seed));
    const stray = results.runs.find((run) => !transferred.has(run.seed));
    if (stray !== undefined) {
      throw new UsageError(
        `${folder}: the run ${runName(stray)} has no pretraining of its seed there; rerun that shard`,
      );
    }
    const names = new Set<string>();
    for (const run of results.runs) {
      const name = runName(run);
      if (names.has(name)) throw new UsageError(`${folder}: the run ${name} twice`);
      names.add(name);
    }
    const sizes = grid.targetRows ?? [...new Set(results.runs.map((run) => run.targetTrainRows))];
    for (const p of results.pretrainings) {
      if (p.diverged !== null) continue; // its pretraining diverged: no transfer ran, rightly
      const expected = gridStrategies(grid).flatMap((strategy) =>
        grid.relatedness.flatMap((relatedness) =>
          sizes.map((targetTrainRows) => runName({ seed: p.seed, strategy, relatedness, targetTrainRows }))
        )
      );
      const absent = expected.filter((name) => !names.has(name));
      if (absent.length > 0 || expected.length !== runsPerSeed(grid)) {
        throw new UsageError(
          `${folder}: the run ${absent[0] ?? `of seed ${p.seed}`} is missing${
            absent.length > 1 ? ` (and ${absent.length - 1} more)` : ""
          }; ` +
            `rerun the shard with --resume --out-dir ${folder}`,
        );
      }
    }
  }
  const absent = grid.seeds.filter((seed) => !owner.has(seed));
  if (absent.length > 0) {
    throw new UsageError(`seed${absent.length > 1 ? "s" : ""} ${absent.join(", ")} missing from every shard`);
  }
}

/** Checks, before writing, that `out` is none of the shards, and is new or empty. */
function prepareOut(out: string, shards: readonly string[]): void {
  let outPath: string | null = null;
  try {
    outPath = Deno.realPathSync(out);
  } catch { /* a new folder: no shard */ }
  if (shards.some((folder) => Deno.realPathSync(folder) === outPath)) {
    throw new UsageError(`<out> ${out} is one of the shards; give a new folder`);
  }
  refuseUsedFolder(out, "<out>");
  prepareFolder(out, "<out>");
}

if (import.meta.main) Deno.exit(await main(Deno.args));
