/**
 * The predict program's flags: the shared setup flags (see `app/cli.ts`), the required `--model` and
 * `--input`, and `--output` and `--label`.
 *
 * @module
 */

import { type Parsed, parseWith, programWithSetup, type SetupOptions, setupOptions } from "../../app/cli.ts";

/** What the predict program's flags ask for. */
export interface PredictOptions extends SetupOptions {
  /** The model to predict with (`--model`): a safetensors file `run --save` or `--save-pretrained` wrote. */
  readonly model: string;
  /** The rows to predict (`--input`): a CSV file with a column for each of the model's features. */
  readonly input: string;
  /** Where to write the predictions as CSV (`--output`); null: to standard output. */
  readonly output: string | null;
  /**
   * The input's column of true labels (`--label`), which must then exist; null when the flag is absent,
   * so that a column named `label` is read when there is one.
   */
  readonly label: string | null;
  /** An IDX input's labels (`--input-labels`, an IDX file of integers), to score the predictions; null when absent. */
  readonly inputLabels: string | null;
}

/** Parses the predict program's `args` (without the program name). Throws {@linkcode UsageError} for bad flags. */
export function parsePredictArgs(args: readonly string[]): Parsed<PredictOptions> {
  const program = programWithSetup(
    "deno task predict",
    "Predict the class of every row of a CSV or IDX file with a saved model: the class and each class's probability.",
  )
    .requiredOption(
      "--model <file>",
      "the model: a safetensors file written by deno task run --save or --save-pretrained",
    )
    .requiredOption(
      "--input <file>",
      "a CSV file with a header and a column for each of the model's features, or an IDX file of inputs (gzip or not)",
    )
    .option(
      "-o, --output <file>",
      "write the predictions to this CSV file (atomically) instead of standard output",
    )
    .option(
      "--label <column>",
      "the input's column of true labels, to score the predictions (default: a column named label, if any)",
    )
    .option(
      "--input-labels <file>",
      "an IDX input's true labels (an IDX file of integers), to score the predictions",
    );
  return parseWith(program, args, (options): PredictOptions => ({
    ...setupOptions(options),
    model: options.model as string,
    input: options.input as string,
    output: (options.output as string | undefined) ?? null,
    label: (options.label as string | undefined) ?? null,
    inputLabels: (options.inputLabels as string | undefined) ?? null,
  }));
}
