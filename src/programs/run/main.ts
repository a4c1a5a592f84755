/**
 * The command-line program:
 * `deno task run [--strategy NAME] [--config FILE] [--output FILE] [--device auto|gpu|cpu]
 * [--cpu-kernels auto|wasm|ts] [--threads auto|N]`.
 *
 * @module
 */

import { parseRunArgs, type RunOptions } from "./flags.ts";
import { readCheckpoint, writeCheckpoint } from "../../app/checkpoint.ts";
import { checkStrategies, experimentSpec } from "../../app/config.ts";
import { divergenceMessage, trainingLog } from "../../app/training_log.ts";
import { UsageError } from "../../core/errors.ts";
import { transferData } from "../../core/tasks.ts";
import { GpuProfiler } from "../../engines/gpu/profiler.ts";
import { fromCheckpoint, loadTasks, standardizationNote, taskNames } from "../../app/datasets.ts";
import { taskFileRoles } from "../../app/data_config.ts";
import { type Engine, uploadTask } from "../../core/engine.ts";
import {
  checkNotOverwriting,
  checkWritable,
  type PathRole,
  writeTextFileAtomic,
} from "../../app/atomic_write.ts";
import { formatSummary, makeResults } from "./results.ts";
import { StageProfiles } from "./stage_profiles.ts";
import { runWorkload } from "../../app/cost_model.ts";
import { logRoles, openEngine, openLog, protectedInputs, readConfig, runCommand } from "../../app/setup.ts";
import {
  evaluatePretrained,
  pretrain,
  sourceWidths,
  type TrainingListener,
  transfer,
} from "../../core/train.ts";

/** Runs the program with `args`; resolves with the exit code. */
export function main(args: readonly string[]): Promise<number> {
  return runCommand(() => parseRunArgs(args), run);
}

async function run(options: RunOptions): Promise<void> {
  const tasks = await loadTasks(readConfig(options));
  const { config } = tasks;
  const names = taskNames(tasks);
  checkOutputs(options, config);
  const loaded = options.from === null
    ? null
    : readCheckpoint(options.from, sourceWidths(experimentSpec(config, tasks.real)), "--from");
  const real = loaded === null
    ? tasks.real
    : fromCheckpoint(tasks.real, names.source, loaded, config.data.task);
  const spec = experimentSpec(config, real);
  checkStrategies(spec, [options.strategy], "--strategy");
  const log = openLog(config);
  tasks.notes.forEach((note) => log.info(note));
  tasks.warnings.forEach((warning) => log.warning(warning));
  if (real !== null) log.info(standardizationNote(real, options.from));
  let engine: Engine | null = null;
  const profiler = options.profile ? new GpuProfiler() : null;
  try {
    engine = await openEngine(options, config, log, runWorkload(spec), profiler);
    if (profiler !== null && engine.name !== "gpu") {
      log.info("--profile: the CPU engine runs no device kernels, so there is nothing to profile");
    }
    const profiles = profiler !== null && engine.name === "gpu"
      ? new StageProfiles(profiler, options.strategy)
      : null;
    log.info(
      `engine ${engine.name}: ${engine.description}; seed ${config.data.random_seed}; strategy ${options.strategy}`,
    );
    const data = transferData(spec.data);
    let divergence: string | null = null;
    const logged = trainingLog(log);
    const training: TrainingListener = {
      ...logged,
      started: (phase) => {
        logged.started?.(phase);
        profiles?.started(phase);
      },
      diverged: (phase, diverged) => void (divergence = divergenceMessage(phase, diverged)),
    };
    const source = uploadTask(engine, data.source);
    const pretrained = loaded === null
      ? await pretrain(engine, source, spec, training)
      : await evaluatePretrained(engine, source, loaded.model);
    if (loaded !== null) log.info(`pretrained model read from ${options.from}; no pretraining`);
    if (loaded !== null && loaded.info.recipe !== "pretrained") {
      log.warning(
        `--from ${options.from} holds a model fine-tuned by ${loaded.info.recipe}, not a pretrained one; ` +
          `transferring from it as if it were (save one with --save-pretrained)`,
      );
    }
    profiles?.take(loaded === null ? "pretraining" : "the pretrained model's evaluation");
    const info = { seed: config.data.random_seed, config, standardization: data.standardization };
    if (options.savePretrained !== null && pretrained.diverged === null) {
      writeCheckpoint(
        options.savePretrained,
        pretrained.model,
        { ...info, ...names.source, recipe: "pretrained" },
        "--save-pretrained",
      );
      log.info(`pretrained model written to ${options.savePretrained}`);
    }
    const target = uploadTask(engine, data.target);
    const transferred = pretrained.diverged === null
      ? await transfer(engine, target, pretrained.model, options.strategy, spec, training)
      : null;
    if (options.save !== null && transferred !== null && transferred.diverged === null) {
      writeCheckpoint(
        options.save,
        await engine.readModel(),
        { ...info, ...names.target, recipe: options.strategy },
        "--save",
      );
      log.info(`fine-tuned model written to ${options.save}`);
    }
    if (transferred !== null) profiles?.transferred();
    const results = makeResults(options.strategy, engine, config, pretrained, transferred);
    console.log(formatSummary(results));
    for (const profile of await profiles?.formatted() ?? []) console.log(`\n${profile}`);
    if (options.output !== null) {
      writeTextFileAtomic(options.output, `${JSON.stringify(results, null, 2)}\n`, "--output");
      log.info(`results written to ${options.output}`);
    }
    if (divergence !== null) throw new UsageError(divergence); // after writing what there is
  } finally {
    engine?.dispose();
    log.close();
  }
}

/**
 * Checks, before any work, that every output (`--output`, `--save-pretrained`, `--save`) can be
 * written and replaces no input, no log file and no other output. Throws {@linkcode UsageError}.
 */
function checkOutputs(options: RunOptions, config: ReturnType<typeof readConfig>): void {
  const outputs: [string, string | null][] = [
    ["--output", options.output],
    ["--save-pretrained", options.savePretrained],
    ["--save", options.save],
  ];
  const used = pathsUsed(options, config);
  for (const [flag, path] of outputs) {
    if (path === null) continue;
    checkWritable(path, flag);
    const others = outputs.filter(([other, p]) => other !== flag && p !== null).map(([other, p]) => ({
      role: `the ${other} file`,
      path: p!,
    }));
    checkNotOverwriting(path, flag, [...used, ...others]);
  }
}

/** What no output of the run may replace: every input (`--from` and the data files included), and the log. */
function pathsUsed(options: RunOptions, config: ReturnType<typeof readConfig>): PathRole[] {
  const from = options.from === null ? [] : [{ role: "the checkpoint (--from)", path: options.from }];
  return [...protectedInputs(options.config), ...taskFileRoles(config.data), ...from, ...logRoles(config)];
}

if (import.meta.main) Deno.exit(await main(Deno.args));
