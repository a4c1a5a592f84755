/**
 * The bench program's flags: `--quick`, `--output` and `--help` (it reads no config, so it has none
 * of the shared setup flags).
 *
 * @module
 */

import { type Parsed, parseWith, program } from "../../app/cli.ts";

/** What the benchmark's flags ask for. */
export interface BenchOptions {
  /** Tiny sizes (`--quick`), for CI: checks that everything runs, measures little. */
  readonly quick: boolean;
  /** Where to also write the results as JSON (`--output`); null when the flag is absent. */
  readonly output: string | null;
}

/** Parses the benchmark's flags (without the program name). Throws {@linkcode UsageError} for bad flags. */
export function parseBenchArgs(args: readonly string[]): Parsed<BenchOptions> {
  const bench = program(
    "deno task bench",
    "Benchmark the CPU and GPU engines: kernels, end to end, whole experiment, scaling.",
    { exitCodes: "also 1 when a kernel computed a wrong product" },
  )
    .option("--quick", "tiny sizes (for CI): checks that everything runs, measures little")
    .option("-o, --output <path>", "also write the results as JSON to this file (atomically)");
  return parseWith(bench, args, (options): BenchOptions => ({
    quick: Boolean(options.quick),
    output: (options.output as string | undefined) ?? null,
  }));
}
