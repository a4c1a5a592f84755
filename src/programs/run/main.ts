/**
 * The command-line program:
 * `deno task run [--strategy NAME] [--config FILE] [--output FILE] [--device auto|gpu|cpu]
 * [--cpu-kernels auto|wasm|ts] [--threads auto|N]`.
 *
 * @module
 */

import { parseRunArgs, type RunOptions } from "./flags.ts";
import { checkStrategies, experimentSpec } from "../../app/config.ts";
import { divergenceMessage, trainingLog } from "../../app/training_log.ts";
import { UsageError } from "../../core/errors.ts";
import { makeTransferData } from "../../core/data.ts";
import { type Engine, uploadTask } from "../../core/engine.ts";
import {
  checkNotOverwriting,
  checkWritable,
  type PathRole,
  writeTextFileAtomic,
} from "../../app/atomic_write.ts";
import { RotatingFile } from "../../app/rotating_file.ts";
import { formatSummary, makeResults } from "./results.ts";
import { openEngine, openLog, protectedInputs, readConfig, runCommand } from "../../app/setup.ts";
import { pretrain, type TrainingListener, transfer } from "../../core/train.ts";

/** Runs the program with `args`; resolves with the exit code. */
export function main(args: readonly string[]): Promise<number> {
  return runCommand(() => parseRunArgs(args), run);
}

async function run(options: RunOptions): Promise<void> {
  const config = readConfig(options);
  const spec = experimentSpec(config);
  checkStrategies(spec, [options.strategy], "--strategy");
  if (options.output !== null) {
    checkWritable(options.output, "--output");
    checkNotOverwriting(options.output, "--output", pathsUsed(options, config));
  }
  const log = openLog(config);
  let engine: Engine | null = null;
  try {
    engine = await openEngine(options, config, log);
    log.info(
      `engine ${engine.name}: ${engine.description}; seed ${config.data.random_seed}; strategy ${options.strategy}`,
    );
    const data = makeTransferData(spec.data);
    let divergence: string | null = null;
    const training: TrainingListener = {
      ...trainingLog(log),
      diverged: (phase, diverged) => void (divergence = divergenceMessage(phase, diverged)),
    };
    const pretrained = await pretrain(engine, uploadTask(engine, data.source), spec, training);
    const target = uploadTask(engine, data.target);
    const transferred = pretrained.diverged === null
      ? await transfer(engine, target, pretrained.model, options.strategy, spec, training)
      : null;
    const results = makeResults(options.strategy, engine, config, pretrained, transferred);
    console.log(formatSummary(results));
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

/** Every file the run reads or writes besides its results: none of them may be the `--output`. */
/** What the run's `--output` must not replace: every input, and the log and its rotations. */
function pathsUsed(options: RunOptions, config: ReturnType<typeof readConfig>): PathRole[] {
  const { file, backup_count } = config.logging;
  const log: PathRole[] = [
    { role: "the log file (logging.file)", path: file },
    ...RotatingFile.rotationSlots(file, backup_count).map((path) => ({
      role: "a rotated log file (logging.file, logging.backup_count)",
      path,
    })),
  ];
  return [...protectedInputs(options.config), ...log];
}

if (import.meta.main) Deno.exit(await main(Deno.args));
