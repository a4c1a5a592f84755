/**
 * What every program does around its work: turn errors into exit codes, read the configuration (with
 * `RANDOM_SEED` from the environment or `./.env`), open the log, and choose the engine the flags and
 * the config ask for.
 *
 * @module
 */

import { join } from "node:path";
import { checkNotOverwriting, type PathRole } from "./atomic_write.ts";
import type { Parsed, SetupOptions } from "./cli.ts";
import { besideConfig, enterCallersFolder, projectFolder } from "./folders.ts";
import { RotatingFile } from "./rotating_file.ts";
import { type Config, loadConfig, parseDotEnv, readInputFile } from "./config.ts";
import { resolveTaskFiles, taskFileRoles } from "./data_config.ts";
import type { Engine } from "../core/engine.ts";
import type { Workload } from "./cost_model.ts";
import { errorMessage, UsageError } from "../core/errors.ts";
import { GpuError } from "../engines/gpu/context.ts";
import type { GpuProfiler } from "../engines/gpu/profiler.ts";
import { createLogger, type Logger, type LoggerOptions } from "./logger.ts";
import { checkKernelThreads, selectCpuKernels, selectEngine } from "./select_engine.ts";

/** The exit code for bad input (a {@linkcode UsageError}). */
const USAGE_EXIT_CODE = 2;
/** The exit code for a failure of the GPU ({@linkcode GpuError}). */
const GPU_FAILURE_EXIT_CODE = 1;

/**
 * Enters the folder the program was started from (see `enterCallersFolder`), parses the flags and
 * runs `work` on them (or prints the help), and resolves with the exit code:
 * the one `work` returns (0 when it returns none), or 2 with one line for bad input
 * ({@linkcode UsageError}), or 1 with one line for a GPU failure. Anything else is a bug and
 * propagates with its stack.
 */
export async function runCommand<T>(
  parse: () => Parsed<T>,
  work: (options: T) => Promise<number | void>,
): Promise<number> {
  try {
    enterCallersFolder();
    const parsed = parse();
    if ("print" in parsed) {
      console.log(parsed.print.trimEnd());
      return 0;
    }
    return (await work(parsed.run)) ?? 0;
  } catch (error) {
    if (error instanceof GpuError) {
      console.error(`error: ${error.message}; rerun with --device cpu to use the CPU engine`);
      return GPU_FAILURE_EXIT_CODE;
    }
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}`);
    return USAGE_EXIT_CODE;
  }
}

/**
 * The configuration file `options.config`, with `RANDOM_SEED` applied and a relative `logging.file`
 * and data files resolved against the config file's folder. Throws {@linkcode UsageError}.
 * Near misses of `RANDOM_SEED` in `./.env` (e.g. `random_seed`) are written to stderr as `warning:`
 * lines, since the log is not open yet.
 */
export function readConfig(options: SetupOptions): Config {
  if (options.config.trim() === "") {
    throw new UsageError("--config is empty; give the path of a YAML config file");
  }
  const config = loadConfig(options.config, { RANDOM_SEED: environmentSeed() });
  const beside = (path: string) => besideConfig(options.config, path);
  config.logging.file = beside(config.logging.file);
  config.data.source = resolveTaskFiles(config.data.source, beside);
  config.data.target = resolveTaskFiles(config.data.target, beside);
  const { file, backup_count } = config.logging;
  const inputs = [...protectedInputs(options.config), ...taskFileRoles(config.data)];
  for (const path of [file, ...RotatingFile.rotationSlots(file, backup_count)]) {
    checkNotOverwriting(path, "logging.file", inputs);
  }
  return config;
}

/**
 * What no output of a program (`--output`, `logging.file` and its rotations) may replace: the config
 * in use (when there is one), `./.env`, and the project's own files (its `deno.json`, lock file,
 * default config, and everything in its source, test, docs and CI folders).
 */
export function protectedInputs(configPath: string | null): PathRole[] {
  const project = (name: string, folder = false) => ({
    role: `the project's ${name}`,
    path: join(projectFolder(), name),
    folder,
  });
  return [
    ...(configPath === null ? [] : [{ role: "the config file (--config)", path: configPath }]),
    { role: "the environment file", path: ".env" },
    ...["deno.json", "deno.lock", "config.yaml", ".env.example", "README.md", ".gitignore", "logs/.gitkeep"]
      .map((name) => project(name)),
    ...["src", "shaders", "tests", "tools", "docs", ".ci", ".git"].map((name) => project(name, true)),
  ];
}

/** The log file and its rotations under `config`: what no output of a program may replace. */
export function logRoles(config: Config): PathRole[] {
  const { file, backup_count } = config.logging;
  return [
    { role: "the log file (logging.file)", path: file },
    ...RotatingFile.rotationSlots(file, backup_count).map((path) => ({
      role: "a rotated log file (logging.file, logging.backup_count)",
      path,
    })),
  ];
}

/** The logger the configuration's `logging` section describes, with `console` options when given. */
export function openLog(
  config: Config,
  console: Pick<LoggerOptions, "console" | "consoleLevel"> = {},
): Logger {
  return createLogger({
    level: config.logging.level,
    file: config.logging.file,
    maxBytes: config.logging.max_bytes,
    backupCount: config.logging.backup_count,
    ...console,
  });
}

/**
 * The engine: flags first, then the configuration's `engine` section; `auto` weighs the engines on
 * `workload`. A GPU engine submits and waits through `profiler` when one is given (`run --profile`).
 */
export function openEngine(
  options: SetupOptions,
  config: Config,
  log: Logger,
  workload: Workload,
  profiler: GpuProfiler | null = null,
): Promise<Engine> {
  const choice = options.cpuKernels ?? config.engine.cpu_kernels;
  const threads = options.threads ?? config.engine.threads;
  checkKernelThreads(choice, threads); // before any GPU probe: a conflict is bad input whichever engine runs
  return selectEngine(options.device ?? config.engine.device, log, {
    workload,
    cpuKernels: () => selectCpuKernels(choice, threads, log),
    profiler,
  });
}

/** `RANDOM_SEED` from the environment, else from `./.env` when that file exists, else undefined. */
function environmentSeed(): string | undefined {
  let fromEnvironment: string | undefined;
  try {
    fromEnvironment = Deno.env.get("RANDOM_SEED");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
    throw new UsageError(
      `RANDOM_SEED: no permission to read the environment; run with --allow-env=RANDOM_SEED, as deno task run does`,
    );
  }
  if (fromEnvironment !== undefined) return fromEnvironment;
  try {
    Deno.lstatSync(".env");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof Deno.errors.NotCapable) {
      throw new UsageError(
        `.env: no permission to look for it in the current folder; run with --allow-read, as deno task run does`,
      );
    }
    throw new UsageError(`.env: cannot read (${errorMessage(error)}); fix or remove .env`);
  }
  const dotEnv = parseDotEnv(readInputFile(".env", ".env", "fix or remove .env"));
  for (const warning of dotEnv.warnings) console.error(`warning: ${warning}`);
  return dotEnv.seed;
}
