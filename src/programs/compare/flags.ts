/**
 * The compare program's flags: the shared setup flags (see `app/cli.ts`) and `--seeds`,
 * `--strategies`, `--target-samples`, `--relatedness`, `--out-dir`; and the exit codes its help names.
 *
 * `--strategies` always runs {@linkcode BASELINE} (`scratch`): every other strategy is compared with it,
 * so a list that leaves it out gets it added (`baselineAdded` says so, and the program says so on stderr)
 * rather than refused: what the user asked to see still runs, and the table shows the baseline's row as
 * it always does. A list of the baseline alone compares nothing and is refused.
 *
 * @module
 */

import { InvalidArgumentError, Option } from "commander";
import {
  type Parsed,
  parseWith,
  programWithSetup,
  type SetupOptions,
  setupOptions,
  wholeNumber,
} from "../../app/cli.ts";
import { checkStrategies } from "../../app/config.ts";
import { CLASSIC_STRATEGIES, RECIPE_NAME, STRATEGY_NAMES, type StrategyName } from "../../core/recipes.ts";
import type { ExperimentSpec } from "../../core/train.ts";
import { BASELINE } from "../../app/report/analysis.ts";
import { MAX_SHARDS, parseShard } from "../../app/shards.ts";

/** The most seeds one comparison runs (`--seeds`). */
export const MAX_SEEDS = 1000;

/** Seeds run when `--seeds` is not given: enough for the sign-flip test to reach p < 0.05 after Holm. */
export const DEFAULT_SEEDS = 10;

/** The exit code after a Ctrl-C that kept the finished runs. */
export const INTERRUPTED_EXIT_CODE = 130;

/** The exit code after a SIGTERM that kept the finished runs (128 + 15, as a shell reports it). */
export const TERMINATED_EXIT_CODE = 143;

/** What the compare flags ask for. */
export interface CompareOptions extends SetupOptions {
  /** How many seeds to run (`--seeds`), counting up from the configured seed; 1 to 1000, default 10. */
  readonly seeds: number;
  /**
   * The strategies to run (`--strategies`), as given, unique, {@linkcode BASELINE}
   * always among them, and at least one other; `CLASSIC_STRATEGIES` by default.
   */
  readonly strategies: StrategyName[];
  /** Whether `--strategies` left out {@linkcode BASELINE}, which was then added. */
  readonly baselineAdded: boolean;
  /** Target training-set sizes to sweep (`--target-samples`), sorted, unique; null: the configured split. */
  readonly targetSamples: number[] | null;
  /** Relatedness values to sweep (`--relatedness`), sorted, unique; null: `data.relatedness` alone. */
  readonly relatedness: number[] | null;
  /** The run folder (`--out-dir`); null for `runs/<date-time>`, the start time in UTC. */
  readonly outDir: string | null;
  /** `--shard i/n`: the share of the seeds to run; null: from the scheduler's environment, if any. */
  readonly shard: { readonly index: number; readonly count: number } | null;
  /** `--shard-count`: the shard count a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` goes with; null when absent. */
  readonly shardCount: number | null;
  /** `--resume`: continue the run in `--out-dir`, keeping its finished seeds. */
  readonly resume: boolean;
}

/** Parses the compare flags (without the program name). Throws {@linkcode UsageError} for bad flags. */
export function parseCompareArgs(args: readonly string[]): Parsed<CompareOptions> {
  const program = programWithSetup(
    "deno task compare",
    `Pretrain once per seed, then run each strategy (${BASELINE} always among them) from the same weights on the same data; compare them with ${BASELINE}.`,
    `${INTERRUPTED_EXIT_CODE} stopped by Ctrl-C, ${TERMINATED_EXIT_CODE} by SIGTERM (the finished runs are written)`,
  )
    .addOption(
      new Option("-n, --seeds <count>", `seeds, from the configured seed up: 1 to ${MAX_SEEDS}`).default(
        DEFAULT_SEEDS,
      )
        .argParser((value) => wholeNumber(value, 1, MAX_SEEDS)),
    )
    .addOption(
      new Option(
        "--strategies <list>",
        `strategies to run, comma-separated, from ${STRATEGY_NAMES.join(", ")}; ` +
          `${BASELINE}, the baseline, always runs (added when left out)`,
      )
        .default(strategyList([...CLASSIC_STRATEGIES]), CLASSIC_STRATEGIES.join(","))
        .argParser(parseStrategies),
    )
    .addOption(
      new Option(
        "--target-samples <list>",
        "sweep the target training-set size at one budget of SGD steps (training.target_steps, else what target_epochs take at the configured size), e.g. 25,50,100,200,400,800",
      )
        .argParser(
          list("a whole number from 1 to 1000000", (v) => Number.isInteger(v) && v >= 1 && v <= 1e6),
        ),
    )
    .addOption(
      new Option("--relatedness <list>", "sweep the relatedness of the tasks, e.g. 0,0.25,0.5,0.75,1")
        .argParser(list("a number from 0 to 1", (v) => v >= 0 && v <= 1)),
    )
    .option(
      "-o, --out-dir <folder>",
      "a new or empty folder for the results and figures [default: runs/<date-time>]",
    )
    .addOption(
      new Option(
        "--shard <i/n>",
        "run shard i (0-based) of n: the seeds at positions i, i+n, ... [default: from SLURM_ARRAY_TASK_*, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_*, else all]",
      ).argParser(parseShardFlag),
    )
    .addOption(
      new Option(
        "--shard-count <n>",
        "the number of shards, for a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (the Job's completions)",
      ).argParser((value) => wholeNumber(value, 1, MAX_SHARDS)),
    )
    .option(
      "--resume",
      "continue the run in --out-dir (same config, seeds and shard, checked): keep its finished seeds, run the rest",
    );
  return parseWith(program, args, (options): CompareOptions => ({
    ...setupOptions(options),
    seeds: options.seeds as number,
    strategies: (options.strategies as StrategyList).strategies,
    baselineAdded: (options.strategies as StrategyList).baselineAdded,
    targetSamples: (options.targetSamples as number[] | undefined) ?? null,
    relatedness: (options.relatedness as number[] | undefined) ?? null,
    outDir: (options.outDir as string | undefined) ?? null,
    shard: (options.shard as { index: number; count: number } | undefined) ?? null,
    shardCount: (options.shardCount as number | undefined) ?? null,
    resume: options.resume === true,
  }));
}

/** A commander parser for `--shard`. */
function parseShardFlag(value: string): { index: number; count: number } {
  const shard = parseShard(value);
  if ("why" in shard) throw new InvalidArgumentError(`'${value.slice(0, 40)}': ${shard.why}.`);
  return shard;
}

/**
 * A commander parser for a comma-separated list of numbers that `ok` accepts, each given once; returns
 * them sorted (`-0` as 0). `what` names an accepted value in the complaint.
 */
function list(what: string, ok: (value: number) => boolean) {
  return (value: string): number[] => {
    const values = value.split(",").map((item) => item.trim());
    const bad = values.find((item) => item === "" || !Number.isFinite(Number(item)) || !ok(Number(item)));
    if (bad !== undefined) {
      throw new InvalidArgumentError(`'${bad}' is not ${what}; give a comma-separated list.`);
    }
    const numbers = values.map((item) => Number(item) + 0); // + 0: -0 becomes 0
    const twice = values.find((item, i) => numbers.indexOf(Number(item)) !== i);
    if (twice !== undefined) {
      throw new InvalidArgumentError(`'${twice}' is given twice; give each value once.`);
    }
    return numbers.sort((a, b) => a - b);
  };
}

/** What `--strategies` asks for: the strategies, {@linkcode BASELINE} among them; whether it was added. */
interface StrategyList {
  readonly strategies: StrategyName[];
  readonly baselineAdded: boolean;
}

/** `names` (unique) with {@linkcode BASELINE} added when missing. */
function strategyList(names: readonly StrategyName[]): StrategyList {
  const baselineAdded = !names.includes(BASELINE);
  return { strategies: baselineAdded ? [...names, BASELINE] : [...names], baselineAdded };
}

/**
 * `options.strategies` put in the order `spec` shows its recipes (built-in ones first, then the
 * config's). Throws {@linkcode UsageError} for a name that is no recipe of `spec`.
 */
export function orderedStrategies(spec: ExperimentSpec, options: CompareOptions): StrategyName[] {
  checkStrategies(spec, options.strategies, "--strategies");
  return spec.strategies.filter((name) => options.strategies.includes(name));
}

/**
 * A commander parser for `--strategies`: a comma-separated list of recipe names, each given once
 * (items trimmed, as the number lists'); refuses an empty or malformed item, a repeated one, and the
 * baseline alone. Whether each names a recipe is checked once the config is read ({@linkcode orderedStrategies}).
 */
function parseStrategies(value: string): StrategyList {
  const items = value.split(",").map((item) => item.trim());
  const bad = items.find((item) => !RECIPE_NAME.test(item));
  if (bad !== undefined) {
    throw new InvalidArgumentError(
      `'${bad}' is no recipe's name (${
        STRATEGY_NAMES.join(", ")
      }, or one of the config's recipes); give a comma-separated list.`,
    );
  }
  const twice = items.find((item, i) => items.indexOf(item) !== i);
  if (twice !== undefined) {
    throw new InvalidArgumentError(`'${twice}' is given twice; give each strategy once.`);
  }
  if (items.every((item) => item === BASELINE)) {
    throw new InvalidArgumentError(
      `'${BASELINE}' alone compares nothing (it is the baseline); add a strategy to compare with it.`,
    );
  }
  return strategyList(items as StrategyName[]);
}
