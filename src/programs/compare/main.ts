/**
 * `deno task compare`: the chosen strategies (`--strategies`, by default the four classic ones), `scratch`
 * always among them, over several seeds (10 by default) and optional sweeps; a table with means, standard
 * deviations and 95 % intervals, each strategy tested against `scratch` (an exact sign-flip test,
 * Holm-corrected over the run: see `analysis.ts`), and a run folder with `results.json` (every run, every
 * epoch, the statistics, the strategies run), `results.csv` (a row per run), SVG figures and an
 * `index.html`.
 *
 *     deno task compare [--seeds N] [--strategies NAME,...] [--target-samples 25,50,...]
 *                       [--relatedness 0,0.5,1] [--out-dir DIR] [--config FILE] [--device ...]
 *                       [--cpu-kernels ...] [--threads ...]
 *
 * The first Ctrl-C (or SIGTERM) stops at the next epoch boundary, drops the run it cut short and still
 * writes everything finished (exit code 130 after Ctrl-C, 143 after SIGTERM); a second quits at once.
 * `--out-dir` must be a new or empty folder, so that one run's files never mix with another's.
 *
 * @module
 */

import { labelledCounts, targetTrainRows } from "../../core/tasks.ts";
import { labelledRowsLeft } from "../../core/real_data.ts";
import type { RealTasks } from "../../core/pool.ts";
import { type LoadedTasks, loadTasks, standardizationNote } from "../../app/datasets.ts";
import { stepsPerEpoch } from "../../core/engine.ts";
import { join } from "node:path";
import { folderError, prepareFolder, refuseUsedFolder, writeRunFolder } from "../../app/run_folder.ts";
import { type Config, experimentSpec } from "../../app/config.ts";
import { trainingLog } from "../../app/training_log.ts";
import type { Engine } from "../../core/engine.ts";
import { UsageError } from "../../core/errors.ts";
import { MAX_SEED } from "../../core/rng.ts";
import { runWorkload } from "../../app/cost_model.ts";
import { openEngine, openLog, readConfig, runCommand } from "../../app/setup.ts";
import {
  type CompareOptions,
  INTERRUPTED_EXIT_CODE,
  orderedStrategies,
  parseCompareArgs,
  TERMINATED_EXIT_CODE,
} from "./flags.ts";
import type { StrategyName } from "../../core/recipes.ts";
import {
  type Comparison,
  type Grid,
  gridStrategies,
  runComparison,
  totalEpochs,
} from "../../core/comparison.ts";
import { ProgressReport } from "./progress.ts";
import { comparisonOutputs, type RunContext } from "../../app/report/outputs.ts";
import { inSeedOrder, runsPerSeed } from "../../app/report/results_file.ts";
import { resolveShard, shardSeeds } from "../../app/shards.ts";
import { checkpointing, earlierRun } from "./resume.ts";
import { BASELINE } from "../../app/report/analysis.ts";

/** Runs the comparison with `args`; resolves with the exit code. */
export function main(args: readonly string[]): Promise<number> {
  return runCommand(
    () => parseCompareArgs(args),
    compare,
  );
}

/**
 * The comparison; resolves with the exit code: 0, or that of the signal that cut it short (what finished
 * is still written).
 */
async function compare(options: CompareOptions): Promise<number> {
  const tasks = await loadTasks(readConfig(options));
  checkRealSweep(tasks, options);
  const config = sweepBudget(tasks.config, tasks.real, options);
  const spec = experimentSpec(config, tasks.real);
  const grid = gridOf(config, options, orderedStrategies(spec, options));
  const shard = resolveShard(options.shard, options.shardCount, shardVariable);
  const shardSeedList = shardSeeds(grid.seeds, shard);
  if (options.resume && options.outDir === null) {
    throw new UsageError(
      "--resume continues the run in --out-dir; give the --out-dir of the run to continue",
    );
  }
  // Before the log, the engine or any folder:
  const earlier = options.resume ? earlierRun(options.outDir!, config, grid, shard) : null;
  if (!options.resume && options.outDir !== null) refuseUsedFolder(options.outDir, "--out-dir");
  const toRun: Grid = { ...grid, seeds: shardSeedList.filter((seed) => !earlier?.seeds.has(seed)) };
  const terminal = Deno.stderr.isTerminal();
  const progress = new ProgressReport(totalEpochs(spec, toRun), {
    terminal,
    write: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
    width: terminal ? terminalWidth : undefined,
  });
  const log = openLog(config, { consoleLevel: "WARNING", console: (line) => progress.message(line) });
  tasks.notes.forEach((note) => log.info(note));
  tasks.warnings.forEach((warning) => log.warning(warning));
  if (tasks.real !== null) log.info(standardizationNote(tasks.real, null));
  let stoppedBy: number | null = null;
  const stopOn = (code: number, name: string) => () => {
    if (stoppedBy !== null) Deno.exit(stoppedBy);
    stoppedBy = code;
    progress.message(
      `${name}: stopping at the next epoch, dropping the run it cuts short (again to quit at once)`,
    );
  };
  const listeners = signalListeners([
    ["SIGINT", stopOn(INTERRUPTED_EXIT_CODE, "Ctrl-C")],
    ["SIGTERM", stopOn(TERMINATED_EXIT_CODE, "SIGTERM")],
  ]);
  let engine: Engine | null = null;
  try {
    engine = await openEngine(options, config, log, runWorkload(spec, runsPerSeed(grid)));
    // Only now, when every input has been checked, so that bad input leaves no empty folder behind.
    const outDir = options.outDir ?? claimRunFolder(new Date());
    prepareFolder(outDir, "--out-dir");
    if (earlier !== null && earlier.engine !== engine.name) {
      throw new UsageError(
        `--resume: ${outDir} was run on the ${earlier.engine} engine, this run is on ${engine.name}; give --device ${earlier.engine}`,
      );
    }
    log.info(
      `compare on ${engine.name} (${engine.description}): seeds ${grid.seeds.join(", ")}; ` +
        `strategies ${gridStrategies(grid).join(", ")}`,
    );
    // Logged, and on the console too: a shard from the environment, say, must not pass unseen.
    const say = (note: string) => (log.info(note), progress.message(note));
    if (shard !== null) {
      say(`shard ${shard.index}/${shard.count} from ${shard.source}: seeds ${shardSeedList.join(", ")}`);
    }
    if (options.resume) {
      say(
        earlier === null
          ? `--resume: nothing to resume in ${outDir}; starting afresh`
          : `--resume: kept ${earlier.seeds.size} finished seed(s) from ${outDir}; running ${toRun.seeds.length}`,
      );
    }
    if (options.baselineAdded) {
      say(`--strategies: added ${BASELINE}, the baseline every strategy is compared with`);
    }
    const context: RunContext = { config, engine, grid, runtime: Deno.version.deno, shard };
    const observer = checkpointing(progress, outDir, context, earlier);
    const hooks = { observer, stop: () => stoppedBy !== null, training: trainingLog(log) };
    const fresh = await runComparison(engine, spec, toRun, hooks);
    progress.done();
    const records = inSeedOrder(grid.seeds, [earlier?.records ?? { pretrainings: [], runs: [] }, fresh]);
    writeOutputs(outDir, { ...records, complete: fresh.complete }, context);
    return fresh.complete ? 0 : stoppedBy ?? INTERRUPTED_EXIT_CODE;
  } finally {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    engine?.dispose();
    log.close();
  }
}

/**
 * `config` as a sweep over target sizes runs it: with a fixed budget of SGD steps for every size, so
 * that sizes are compared at equal work and not at equal epochs (25 rows for 20 epochs is 20 steps).
 * When `training.target_steps` is unset, the budget is what `target_epochs` epochs take at the
 * configured target size; the results' config and every table and figure say so.
 */
function sweepBudget(config: Config, real: RealTasks | null, options: CompareOptions): Config {
  const { target_steps, target_epochs } = config.training;
  if (options.targetSamples === null || target_steps !== null || target_epochs === 0) return config;
  const rows = targetTrainRows(experimentSpec(config, real).data);
  const steps = target_epochs * stepsPerEpoch(rows, config.training.batch_size);
  return { ...config, training: { ...config.training, target_steps: steps } };
}

/**
 * Real data have no relatedness to sweep, and a sweep's largest training set must fit in the target's
 * rows left after its test and validation splits. Throws {@linkcode UsageError}.
 */
function checkRealSweep({ real, config }: LoadedTasks, options: CompareOptions): void {
  if (real === null) return;
  if (options.relatedness !== null) {
    throw new UsageError(
      `--relatedness: sweeps the synthetic tasks' relatedness; data.task is ${config.data.task}, so remove it`,
    );
  }
  if (options.targetSamples === null) return;
  const { test_fraction, validation_fraction, target_n_samples } = config.data;
  const room = labelledRowsLeft(real.target, test_fraction) -
    labelledCounts(target_n_samples, validation_fraction).validation;
  const largest = Math.max(...options.targetSamples);
  if (largest > room) {
    throw new UsageError(
      `--target-samples: ${largest} training rows, but the target task has ${room} left beside its test and ` +
        `validation splits; give sizes of at most ${room}`,
    );
  }
}

/** The seeds and sweep points the options and config give, for `strategies`. */
function gridOf(config: Config, options: CompareOptions, strategies: readonly StrategyName[]): Grid {
  const first = config.data.random_seed;
  if (first + options.seeds - 1 > MAX_SEED) {
    throw new UsageError(
      `--seeds ${options.seeds}: seeds from ${first} would pass ${MAX_SEED}; use fewer or a smaller seed`,
    );
  }
  return {
    strategies,
    seeds: Array.from({ length: options.seeds }, (_, i) => first + i),
    // Real data have no relatedness (checkRealSweep refuses --relatedness for them): null, shown nowhere.
    relatedness: config.data.task === "synthetic" ? options.relatedness ?? [config.data.relatedness] : [null],
    targetRows: options.targetSamples,
  };
}

/**
 * A new folder `<parent>/<date-time>` for a run started at `now`, or `<date-time>-2`, `-3`, … when a
 * run started in the same second already took it: creating it without `recursive` fails when it
 * exists, so two runs never share (and overwrite) one folder.
 */
export function claimRunFolder(now: Date, parent = "runs"): string {
  const stamp = join(parent, now.toISOString().replace(/:/g, "-").replace(/\..*/, ""));
  prepareFolder(parent, "--out-dir");
  for (let n = 1;; n++) {
    const folder = n === 1 ? stamp : `${stamp}-${n}`;
    try {
      Deno.mkdirSync(folder);
      return folder;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw folderError(folder, "--out-dir", error);
    }
  }
}

/**
 * An environment variable a shard may be read from; undefined when unset or not readable (a program
 * run with narrower permissions than the task's is taken to be no array job).
 */
function shardVariable(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
    return undefined;
  }
}

/** The terminal's width in columns, or null when it cannot be read. */
function terminalWidth(): number | null {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return null;
  }
}

/** Adds each listener it can (SIGTERM cannot be listened for on Windows); returns those added. */
function signalListeners(
  wanted: readonly [Deno.Signal, () => void][],
): [Deno.Signal, () => void][] {
  return wanted.filter(([signal, listener]) => {
    try {
      Deno.addSignalListener(signal, listener);
      return true;
    } catch {
      return false;
    }
  });
}

/** Prints the table and writes every file of the run folder, each atomically. */
function writeOutputs(outDir: string, comparison: Comparison, context: RunContext): void {
  writeRunFolder(outDir, "--out-dir", comparisonOutputs(comparison, context));
}

if (import.meta.main) Deno.exit(await main(Deno.args));
