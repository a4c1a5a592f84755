/**
 * Command-line flags, parsed with commander. Bad flags become one-line {@linkcode UsageError}s.
 *
 * @module
 */

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { UsageError } from "./errors.ts";
import {
  CPU_KERNEL_CHOICES,
  type CpuKernelChoice,
  DEVICE_CHOICES,
  type DeviceChoice,
  MAX_THREADS,
  type ThreadsChoice,
} from "./select_engine.ts";
import { STRATEGY_NAMES, type StrategyName } from "./strategies.ts";

/** What the flags ask for. */
export interface CliOptions {
  readonly strategy: StrategyName;
  readonly config: string;
  readonly output: string | null;
  /** `--device`, when given; it wins over `engine.device`. */
  readonly device: DeviceChoice | null;
  /** `--cpu-kernels`, when given; it wins over `engine.cpu_kernels`. */
  readonly cpuKernels: CpuKernelChoice | null;
  /** `--threads`, when given; it wins over `engine.threads`. */
  readonly threads: ThreadsChoice | null;
}

/** The outcome of parsing: options to run with, or text (help) to print and exit 0. */
export type ParsedArgs = { readonly run: CliOptions } | { readonly print: string };

/** Parses `args` (without the program name). Throws {@linkcode UsageError} for bad flags. */
export function parseArgs(args: readonly string[]): ParsedArgs {
  let printed = "";
  let complaint = "";
  const program = new Command("transfer-learning-finetuning")
    .description(
      "Pretrain a small MLP on a synthetic source task, then adapt it to a related target task with one strategy.",
    )
    .addOption(
      new Option("-s, --strategy <name>", "how to adapt the pretrained model to the target task")
        .choices(STRATEGY_NAMES)
        .default("full_finetune"),
    )
    .option("-c, --config <path>", "YAML configuration file", "config.yaml")
    .option("-o, --output <path>", "also write the results as JSON to this file (atomically)")
    .addOption(
      new Option(
        "-d, --device <kind>",
        "engine: auto (a hardware GPU when usable, else the CPU), gpu (any adapter, software too), or cpu [default: engine.device]",
      )
        .choices(DEVICE_CHOICES),
    )
    .addOption(
      new Option(
        "-k, --cpu-kernels <kind>",
        "CPU engine's matrix products: auto (WebAssembly SIMD when the runtime has it), wasm, or ts [default: engine.cpu_kernels]",
      )
        .choices(CPU_KERNEL_CHOICES),
    )
    .addOption(
      new Option(
        "-t, --threads <count>",
        `threads for the WebAssembly kernels' large products: auto (the machine's cores, at most 4) or 1 to ${MAX_THREADS} [default: engine.threads]`,
      )
        .argParser(parseThreads),
    )
    .helpOption("-h, --help", "show this help and exit")
    .addHelpText(
      "after",
      "\nEnvironment: RANDOM_SEED (or a RANDOM_SEED line in ./.env) overrides data.random_seed.\n" +
        "Exit codes: 0 success, 2 bad input (flags, config, files, environment), 1 a GPU failure or a bug.",
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => printed += text,
      writeErr: (text) => complaint += text,
      outputError: (text) => complaint += text,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  try {
    program.parse([...args], { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return { print: printed };
    throw new UsageError(`${oneLine(complaint || error.message)}; see --help`);
  }
  const options = program.opts<
    {
      strategy: StrategyName;
      config: string;
      output?: string;
      device?: DeviceChoice;
      cpuKernels?: CpuKernelChoice;
      threads?: ThreadsChoice;
    }
  >();
  return {
    run: {
      strategy: options.strategy,
      config: options.config,
      output: options.output ?? null,
      device: options.device ?? null,
      cpuKernels: options.cpuKernels ?? null,
      threads: options.threads ?? null,
    },
  };
}

function parseThreads(value: string): ThreadsChoice {
  if (value === "auto") return value;
  const count = Number(value);
  if (/^\d+$/.test(value) && count >= 1 && count <= MAX_THREADS) return count;
  throw new InvalidArgumentError(`Use auto or a whole number from 1 to ${MAX_THREADS}.`);
}

function oneLine(text: string): string {
  return text.replace(/^error:\s*/, "").replace(/\s+/g, " ").trim().replace(/\.$/, "");
}
