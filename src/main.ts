/**
 * The command-line program:
 * `deno task run [--strategy NAME] [--config FILE] [--output FILE] [--device auto|gpu|cpu]
 * [--cpu-kernels auto|wasm|ts] [--threads auto|N]`.
 *
 * @module
 */

import { parseEnv } from "node:util";
import { type CliOptions, parseArgs } from "./cli.ts";
import { dataSpec, loadConfig } from "./config.ts";
import { makeTransferData } from "./data.ts";
import type { Engine } from "./engine.ts";
import { USAGE_EXIT_CODE, UsageError } from "./errors.ts";
import { GpuError } from "./gpu/context.ts";
import { selectCpuKernels, selectEngine } from "./select_engine.ts";
import { checkWritable, writeTextFileAtomic } from "./atomic_write.ts";
import { createLogger } from "./logger.ts";
import { formatSummary, makeResults } from "./results.ts";
import { pretrain, transfer, uploadData } from "./train.ts";

/** Runs the program with `args`; resolves with the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  try {
    const parsed = parseArgs(args);
    if ("print" in parsed) {
      console.log(parsed.print.trimEnd());
      return 0;
    }
    await run(parsed.run);
    return 0;
  } catch (error) {
    if (error instanceof GpuError) {
      console.error(`error: ${error.message}; rerun with --device cpu to use the CPU engine`);
      return 1;
    }
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}`);
    return USAGE_EXIT_CODE;
  }
}

async function run(options: CliOptions): Promise<void> {
  const config = loadConfig(options.config, { RANDOM_SEED: environmentSeed() });
  if (options.output !== null) checkWritable(options.output, "--output");
  const log = createLogger({
    level: config.logging.level,
    file: config.logging.file,
    maxBytes: config.logging.max_bytes,
    backupCount: config.logging.backup_count,
  });
  let engine: Engine | null = null;
  try {
    const kernels = () =>
      selectCpuKernels(
        options.cpuKernels ?? config.engine.cpu_kernels,
        options.threads ?? config.engine.threads,
        log,
      );
    engine = await selectEngine(options.device ?? config.engine.device, log, navigator.gpu, kernels);
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

/** `RANDOM_SEED` from the environment, else from `./.env` when that file exists, else undefined. */
function environmentSeed(): string | undefined {
  const fromEnvironment = Deno.env.get("RANDOM_SEED");
  if (fromEnvironment !== undefined) return fromEnvironment;
  let text: string;
  try {
    text = Deno.readTextFileSync(".env");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new UsageError(
      `.env: cannot read (${error instanceof Error ? error.message : error}); fix or remove .env`,
    );
  }
  return parseEnv(text).RANDOM_SEED;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
