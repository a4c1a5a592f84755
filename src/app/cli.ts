/**
 * Command-line flags, parsed with commander: the flags every program shares (configuration and
 * engine), and one way to turn bad flags into one-line {@linkcode UsageError}s. Each program adds its
 * own flags in its folder.
 *
 * @module
 */

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { UsageError } from "../core/errors.ts";
import { DEFAULT_CONFIG_HELP, defaultConfig } from "./folders.ts";
import { clip } from "./limits.ts";
import {
  CPU_KERNEL_CHOICES,
  type CpuKernelChoice,
  DEVICE_CHOICES,
  type DeviceChoice,
  MAX_AUTO_THREADS,
  MAX_THREADS,
  type ThreadsChoice,
} from "./engine_choices.ts";

/**
 * A commander program (commander's `Command`), as {@linkcode program} and {@linkcode programWithSetup}
 * build it and {@linkcode parseWith} parses it.
 */
export type Program = Command;

/** The configuration file and the engine flags; a flag given wins over its config key. */
export interface SetupOptions {
  /** Path of the YAML configuration file (`--config`); by default `./config.yaml`, else the project's. */
  readonly config: string;
  /** The engine (`--device`); null when the flag is absent, so `engine.device` decides. */
  readonly device: DeviceChoice | null;
  /** The CPU engine's kernels (`--cpu-kernels`); null when absent, so `engine.cpu_kernels` decides. */
  readonly cpuKernels: CpuKernelChoice | null;
  /** Threads of the WebAssembly kernels (`--threads`); null when absent, so `engine.threads` decides. */
  readonly threads: ThreadsChoice | null;
}

/** The longest complaint about flags that an error line repeats (it quotes the flag's value). */
const MAX_COMPLAINT_CHARS = 300;

/** The outcome of parsing: options to run with, or text (help) to print and exit 0. */
export type Parsed<T> = { readonly run: T } | { readonly print: string };

/** What a program's help says after its flags. */
export interface HelpNotes {
  /** A line on the environment the program reads, if any. */
  readonly environment?: string;
  /** Exit codes of this program besides 0, 1 and 2, e.g. `130 stopped by Ctrl-C`. */
  readonly exitCodes?: string;
}

/** A program with `--help`, whose help ends with the exit codes every program shares and `notes`. */
export function program(name: string, description: string, notes: HelpNotes = {}): Program {
  const exitCodes = "Exit codes: 0 success, 2 bad input (flags, config, files, environment), " +
    `1 a GPU failure or a bug${notes.exitCodes ? `; ${notes.exitCodes}` : ""}.`;
  const environment = notes.environment ? `${notes.environment}\n` : "";
  return new Command(name)
    .description(description)
    .helpOption("-h, --help", "show this help and exit")
    .addHelpText("after", `\n${environment}${exitCodes}`);
}

/** A program with `--config`, `--device`, `--cpu-kernels`, `--threads` and `--help`. */
export function programWithSetup(name: string, description: string, exitCodes?: string): Program {
  const environment =
    "Environment: RANDOM_SEED (or a RANDOM_SEED line in ./.env) overrides data.random_seed.";
  return program(name, description, { environment, exitCodes })
    .option("-c, --config <path>", `YAML configuration file [default: ${DEFAULT_CONFIG_HELP}]`)
    .addOption(
      new Option(
        "-d, --device <kind>",
        "engine: auto (a hardware GPU when predicted faster, else the CPU), gpu (any adapter, software too), or cpu [default: engine.device]",
      ).choices(DEVICE_CHOICES),
    )
    .addOption(
      new Option(
        "-k, --cpu-kernels <kind>",
        "CPU engine's kernels: auto (WebAssembly SIMD when the runtime has it), wasm, or ts [default: engine.cpu_kernels]",
      ).choices(CPU_KERNEL_CHOICES),
    )
    .addOption(
      new Option(
        "-t, --threads <count>",
        `threads for the WebAssembly kernels' large products: auto (the machine's cores, at most ${MAX_AUTO_THREADS}) or 1 to ${MAX_THREADS} [default: engine.threads]`,
      ).argParser(parseThreads),
    );
}

/**
 * Parses `args` (without the program name) with `program`, then `read` its options. Throws
 * {@linkcode UsageError} with commander's complaint on one line for bad flags.
 */
export function parseWith<T>(
  program: Program,
  args: readonly string[],
  read: (options: Record<string, unknown>) => T,
): Parsed<T> {
  let printed = "", complaint = "";
  program.exitOverride().configureOutput({
    writeOut: (text) => printed += text,
    writeErr: (text) => complaint += text,
    outputError: (text) => complaint += text,
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
  const given = countOptions(program);
  try {
    program.parse([...args], { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return { print: printed };
    throw new UsageError(`${oneLine(complaint || error.message)}; see --help`);
  }
  const repeated = [...given].find(([, count]) => count > 1);
  if (repeated) {
    throw new UsageError(`${repeated[0]} is given ${repeated[1]} times; give it once`);
  }
  return { run: read(program.opts()) };
}

/** The shared options out of commander's parsed options. */
export function setupOptions(options: Record<string, unknown>): SetupOptions {
  return {
    config: (options.config as string | undefined) ?? defaultConfig(),
    device: (options.device as DeviceChoice | undefined) ?? null,
    cpuKernels: (options.cpuKernels as CpuKernelChoice | undefined) ?? null,
    threads: (options.threads as ThreadsChoice | undefined) ?? null,
  };
}

/** A flag's value as a whole number from `min` to `max`; else an error for commander, naming `or` as an alternative. */
export function wholeNumber(value: string, min: number, max: number, or = ""): number {
  const n = Number(value);
  if (/^\d+$/.test(value) && n >= min && n <= max) return n;
  throw new InvalidArgumentError(`Use ${or}a whole number from ${min} to ${max}.`);
}

function parseThreads(value: string): ThreadsChoice {
  return value === "auto" ? value : wholeNumber(value, 1, MAX_THREADS, "auto or ");
}

/**
 * How many times each of `program`'s options is given, by its long flag, counted as commander parses:
 * commander itself lets the last one win, which would silently drop the others.
 */
function countOptions(program: Program): Map<string, number> {
  const given = new Map<string, number>();
  for (const option of program.options) {
    const flag = option.long ?? option.short ?? option.name();
    program.on(`option:${option.name()}`, () => given.set(flag, (given.get(flag) ?? 0) + 1));
  }
  return given;
}

/** commander's complaint as one line: whitespace folded, control characters escaped, long ones cut. */
function oneLine(text: string): string {
  return clip(
    text.replace(/^error:\s*/, "").replace(/\s+/g, " ").trim().replace(/\.$/, ""),
    MAX_COMPLAINT_CHARS,
  );
}
