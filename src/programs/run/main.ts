/**
 * The command-line program:
 * `deno task run [--strategy NAME] [--config FILE] [--output FILE] [--device auto|gpu|cpu]
 * [--cpu-kernels auto|wasm|ts] [--threads auto|N]`.
 *
 * @module
 */

import { type CliOptions, parseArgs } from "../../app/cli.ts";
import { dataSpec } from "../../app/config.ts";
import { makeTransferData } from "../../core/data.ts";
import type { Engine } from "../../core/engine.ts";
import { checkWritable, writeTextFileAtomic } from "../../app/atomic_write.ts";
import { formatSummary, makeResults } from "./results.ts";
import { openEngine, openLog, readConfig, runCommand } from "../../app/setup.ts";
import { pretrain, transfer, uploadData } from "../../core/train.ts";

/** Runs the program with `args`; resolves with the exit code. */
export function main(args: readonly string[]): Promise<number> {
  return runCommand(() => parseArgs(args), run);
}

async function run(options: CliOptions): Promise<void> {
  const config = readConfig(options);
  if (options.output !== null) checkWritable(options.output, "--output");
  const log = openLog(config);
  let engine: Engine | null = null;
  try {
    engine = await openEngine(options, config, log);
    log.info(
      `engine ${engine.name}: ${engine.description}; seed ${config.data.random_seed}; strategy ${options.strategy}`,
    );
    const data = uploadData(engine, makeTransferData(dataSpec(config)));
    const pretrained = await pretrain(engine, data, config, log);
    const transferred = await transfer(engine, data, pretrained.model, options.strategy, config, log);
    const results = makeResults(options.strategy, engine, config, pretrained, transferred);
    console.log(formatSummary(results));
    if (options.output !== null) {
      writeTextFileAtomic(options.output, `${JSON.stringify(results, null, 2)}\n`, "--output");
      log.info(`results written to ${options.output}`);
    }
  } finally {
    engine?.dispose();
    log.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
