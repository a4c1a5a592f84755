/**
 * The run program's flags: the shared setup flags (see `app/cli.ts`), `--strategy`, `--output`, and the
 * checkpoints' `--save-pretrained`, `--save` and `--from`.
 *
 * @module
 */

import { InvalidArgumentError, Option } from "commander";
import { type Parsed, parseWith, programWithSetup, type SetupOptions, setupOptions } from "../../app/cli.ts";
import { RECIPE_NAME, STRATEGY_NAMES, type StrategyName } from "../../core/recipes.ts";

/** What the run's flags ask for. */
export interface RunOptions extends SetupOptions {
  /**
   * How to adapt the pretrained model to the target task (`--strategy`): a recipe's name, built in or
   * from the config (checked once the config is read); `full_finetune` by default.
   */
  readonly strategy: StrategyName;
  /** Where to also write the results as JSON (`--output`); null when the flag is absent. */
  readonly output: string | null;
  /** Where to write the pretrained model as safetensors (`--save-pretrained`); null when absent. */
  readonly savePretrained: string | null;
  /** Where to write the fine-tuned model as safetensors (`--save`); null when absent. */
  readonly save: string | null;
  /** A pretrained model to transfer from instead of pretraining (`--from`, safetensors); null when absent. */
  readonly from: string | null;
  /** Whether to print each phase's kernel times and host waits on the GPU engine (`--profile`). */
  readonly profile: boolean;
}

/** Parses the run's `args` (without the program name). Throws {@linkcode UsageError} for bad flags. */
export function parseRunArgs(args: readonly string[]): Parsed<RunOptions> {
  const program = programWithSetup(
    "deno task run",
    "Pretrain a small MLP on a source task (synthetic, or real data from the config), then adapt it to a related target task with one strategy.",
  )
    .addOption(
      new Option(
        "-s, --strategy <name>",
        `the recipe that adapts the pretrained model to the target task: ${
          STRATEGY_NAMES.join(", ")
        }, or one the config's recipes: section defines`,
      )
        .argParser(recipeName)
        .default("full_finetune"),
    )
    .option("-o, --output <path>", "also write the results as JSON to this file (atomically)")
    .option("--save-pretrained <file>", "write the pretrained model to this safetensors file")
    .option("--save <file>", "write the fine-tuned model to this safetensors file")
    .option("--from <file>", "transfer from this pretrained model (safetensors) instead of pretraining")
    .option("--profile", "GPU engine: print each phase's device time per kernel and its host waits");
  return parseWith(program, args, (options): RunOptions => ({
    ...setupOptions(options),
    strategy: options.strategy as StrategyName,
    output: (options.output as string | undefined) ?? null,
    savePretrained: (options.savePretrained as string | undefined) ?? null,
    save: (options.save as string | undefined) ?? null,
    from: (options.from as string | undefined) ?? null,
    profile: options.profile === true,
  }));
}

/** A commander parser for a recipe's name: whether it names a recipe is known only once the config is read. */
function recipeName(value: string): string {
  if (RECIPE_NAME.test(value)) return value;
  throw new InvalidArgumentError(
    "Give a recipe's name: lowercase letters, digits and _, starting with a letter.",
  );
}
