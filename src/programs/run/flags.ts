/**
 * The run program's flags: the shared setup flags (see `app/cli.ts`) and `--strategy`, `--output`.
 *
 * @module
 */

import { Option } from "commander";
import { type Parsed, parseWith, programWithSetup, type SetupOptions, setupOptions } from "../../app/cli.ts";
import { STRATEGY_NAMES, type StrategyName } from "../../core/recipes.ts";

/** What the run's flags ask for. */
export interface RunOptions extends SetupOptions {
  /** How to adapt the pretrained model to the target task (`--strategy`); `full_finetune` by default. */
  readonly strategy: StrategyName;
  /** Where to also write the results as JSON (`--output`); null when the flag is absent. */
  readonly output: string | null;
}

/** Parses the run's `args` (without the program name). Throws {@linkcode UsageError} for bad flags. */
export function parseRunArgs(args: readonly string[]): Parsed<RunOptions> {
  const program = programWithSetup(
    "deno task run",
    "Pretrain a small MLP on a synthetic source task, then adapt it to a related target task with one strategy.",
  )
    .addOption(
      new Option("-s, --strategy <name>", "how to adapt the pretrained model to the target task")
        .choices(STRATEGY_NAMES)
        .default("full_finetune"),
    )
    .option("-o, --output <path>", "also write the results as JSON to this file (atomically)");
  return parseWith(program, args, (options) => ({
    ...setupOptions(options),
    strategy: options.strategy as StrategyName,
    output: (options.output as string | undefined) ?? null,
  }));
}
