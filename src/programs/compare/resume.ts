/**
 * `compare --resume` and the checkpoints that make it possible. After each seed finishes (its
 * pretraining and every transfer from it), the run folder's `results.json` is rewritten with every
 * finished seed, marked incomplete and without the statistics; a process killed outright (a preempted
 * array task) thus loses at most the seed it was on. `--resume` reads that file back, checks that it
 * was run with the same config, grid, shard and engine kind, keeps its finished seeds and runs the
 * others; since every run is seeded, the final outputs are those of an uninterrupted run, timings
 * apart.
 *
 * @module
 */

import { join } from "node:path";
import { writeTextFileAtomic } from "../../app/atomic_write.ts";
import type { Config } from "../../app/config.ts";
import { gridRecord, resultsDocument, type RunContext } from "../../app/report/outputs.ts";
import {
  finishedSeeds,
  inSeedOrder,
  readResults,
  runsPerSeed,
  sweepDifference,
} from "../../app/report/results_file.ts";
import type { Shard } from "../../app/shards.ts";
import {
  type Comparison,
  type Grid,
  type Observer,
  type PretrainRecord,
  type RunRecord,
} from "../../core/comparison.ts";
import { UsageError } from "../../core/errors.ts";

/** The finished seeds of an earlier run in the same folder, to keep. */
export interface EarlierRun {
  /** Their pretrainings and transfers. */
  readonly records: Pick<Comparison, "pretrainings" | "runs">;
  /** The seeds they cover. */
  readonly seeds: ReadonlySet<number>;
  /** The engine kind that ran them (`cpu` or `gpu`): the resumed run must use the same. */
  readonly engine: string;
}

/**
 * The finished seeds in `outDir/results.json`, checked against this run's `config`, `grid` and
 * `shard`; null when the folder does not exist or is empty (nothing to resume: the run starts
 * afresh). Throws {@linkcode UsageError} when the folder holds something else or another run.
 */
export function earlierRun(
  outDir: string,
  config: Config,
  grid: Grid,
  shard: Shard | null,
): EarlierRun | null {
  let entries: string[];
  try {
    // A write cut short leaves a hidden temporary file behind (see atomic_write.ts): not a result.
    entries = [...Deno.readDirSync(outDir)].map((entry) => entry.name).filter((name) =>
      !/^\..*\.tmp$/.test(name)
    );
  } catch {
    return null; // missing, or not a folder: the folder checks after this report on it
  }
  if (entries.length === 0) return null;
  const path = join(outDir, "results.json");
  if (!entries.includes("results.json")) {
    throw new UsageError(
      `--resume: ${outDir} holds files but no results.json; give the folder of a compare run`,
    );
  }
  const earlier = readResults(path, "--resume");
  const shardName = (s: { index: number; count: number } | null) =>
    s === null ? "the whole grid" : `shard ${s.index}/${s.count}`;
  if (shardName(shard) !== shardName(earlier.shard)) {
    throw new UsageError(
      `--resume: ${path} was run as ${shardName(earlier.shard)}, this run is ${shardName(shard)}; ` +
        "resume with the same shard, or give a new --out-dir",
    );
  }
  const differs = sweepDifference({ config, grid: gridRecord(grid) }, earlier);
  if (differs !== null) {
    throw new UsageError(
      `--resume: ${path} was run with another ${differs.what} (they differ at ${differs.at}); ` +
        "resume with the same config and flags, or give a new --out-dir",
    );
  }
  const seeds = finishedSeeds(earlier, grid);
  const kept = (record: { seed: number }) => seeds.has(record.seed);
  return {
    records: { pretrainings: earlier.pretrainings.filter(kept), runs: earlier.runs.filter(kept) },
    seeds,
    engine: earlier.engine.name,
  };
}

/**
 * An observer that passes everything on to `inner` and rewrites `outDir/results.json` (incomplete)
 * each time a seed finishes, with `kept` and every seed finished since.
 */
export function checkpointing(
  inner: Observer,
  outDir: string,
  context: RunContext,
  kept: EarlierRun | null,
): Observer {
  const pretrainings: PretrainRecord[] = [], runs: RunRecord[] = [];
  const save = () => {
    const records = inSeedOrder(context.grid.seeds, [kept?.records ?? { pretrainings: [], runs: [] }, {
      pretrainings,
      runs,
    }]);
    const document = resultsDocument({ ...records, complete: false }, context, true);
    writeTextFileAtomic(join(outDir, "results.json"), `${JSON.stringify(document, null, 2)}\n`, "--out-dir");
  };
  return {
    epoch: (at, metrics, epochs) => inner.epoch(at, metrics, epochs),
    pretrained(record) {
      inner.pretrained(record);
      pretrainings.push(record);
      if (record.diverged !== null) save();
    },
    finished(record) {
      inner.finished(record);
      runs.push(record);
      if (runs.filter((run) => run.seed === record.seed).length === runsPerSeed(context.grid)) save();
    },
  };
}
