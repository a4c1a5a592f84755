/**
 * Reading a comparison's `results.json` back, for `compare --resume` and `deno task merge`: the
 * document checked for the fields they use, a run's seeds told finished or not, and records from
 * several runs put back in the grid's order. JSON has no NaN, so the losses of a diverged run, written
 * as null, are read back as NaN: the outputs rebuilt from them are the ones first written.
 *
 * @module
 */

import { UsageError } from "../../core/errors.ts";
import {
  type Comparison,
  type Grid,
  gridStrategies,
  type PretrainRecord,
  type RunRecord,
} from "../../core/comparison.ts";
import type { Config } from "../config.ts";
import type { ResultsDocument } from "./outputs.ts";

/** `results.json` at `path` (`what` names it in messages). Throws {@linkcode UsageError} when it cannot be used. */
export function readResults(path: string, what: string): ResultsDocument {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${what}: cannot read ${path} (${why}); is it a compare run folder?`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text, (key, value) => (key === "loss" && value === null ? NaN : value));
  } catch (error) {
    throw new UsageError(
      `${what}: ${path} is not JSON (${(error as Error).message}); it was damaged, rerun that run`,
    );
  }
  const fields = document as Record<string, unknown> | null;
  const shapes: [string, (value: unknown) => boolean][] = [
    ["complete", (v) => typeof v === "boolean"],
    ["engine", (v) => typeof (v as { name?: unknown } | null)?.name === "string"],
    ["config", (v) => typeof v === "object" && v !== null],
    ["grid", (v) => Array.isArray((v as { seeds?: unknown } | null)?.seeds)],
    ["shard", (v) => v === null || typeof (v as { index?: unknown }).index === "number"],
    ["pretrainings", Array.isArray],
    ["runs", Array.isArray],
  ];
  const bad = shapes.find(([key, ok]) =>
    typeof fields !== "object" || fields === null || !(key in fields) || !ok(fields[key])
  );
  if (bad !== undefined) {
    throw new UsageError(
      `${what}: ${path} has no valid "${bad[0]}"; it is not the results of this version's compare (rerun it)`,
    );
  }
  return document as ResultsDocument;
}

/**
 * The first place where `a` and `b`, two JSON values, differ, as a dotted path (`data.relatedness`,
 * `seeds[3]`), or null when they are equal.
 */
export function firstDifference(a: unknown, b: unknown, at = ""): string | null {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) {
    return at || "(the whole value)";
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${at}.length`;
    for (let i = 0; i < a.length; i++) {
      const found = firstDifference(a[i], b[i], `${at}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (typeof a === "object" && a !== null) {
    const left = a as Record<string, unknown>, right = b as Record<string, unknown>;
    for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
      const found = firstDifference(left[key], right[key], at === "" ? key : `${at}.${key}`);
      if (found !== null) return found;
    }
    return null;
  }
  return Object.is(a, b) ? null : at || "(the whole value)";
}

/**
 * The part of `config` that decides the results, as JSON: everything but `logging` (where the log
 * goes) and `engine` (the engine kind is checked on its own; kernels and threads change only rounding).
 */
export function resultsConfig(config: Config): unknown {
  const { logging: _logging, engine: _engine, ...rest } = config;
  return JSON.parse(JSON.stringify(rest));
}

/**
 * The first part in which two runs' sweeps differ, `config` (as {@linkcode resultsConfig} has it)
 * or `grid` (as `results.json` records it), and where in it; null when they are one sweep.
 */
export function sweepDifference(
  a: Pick<ResultsDocument, "config" | "grid">,
  b: Pick<ResultsDocument, "config" | "grid">,
): { what: "config" | "grid"; at: string } | null {
  const config = firstDifference(resultsConfig(a.config), resultsConfig(b.config));
  if (config !== null) return { what: "config", at: config };
  const grid = firstDifference(a.grid, b.grid);
  return grid === null ? null : { what: "grid", at: grid };
}

/** How many transfers a seed of `grid` runs when its pretraining does not diverge. */
export function runsPerSeed(grid: Grid): number {
  return gridStrategies(grid).length * grid.relatedness.length * (grid.targetRows?.length ?? 1);
}

/**
 * The seeds of `records` that are finished: pretrained, and then diverged (no transfer follows) or
 * with every transfer of `grid` recorded.
 */
export function finishedSeeds(records: Pick<Comparison, "pretrainings" | "runs">, grid: Grid): Set<number> {
  const finished = new Set<number>();
  for (const pretraining of records.pretrainings) {
    const runs = records.runs.filter((run) => run.seed === pretraining.seed).length;
    if (pretraining.diverged !== null || runs === runsPerSeed(grid)) finished.add(pretraining.seed);
  }
  return finished;
}

/** The records of `seeds` in `records`, in the order `seeds` lists them (each seed's runs in their order). */
export function inSeedOrder(
  seeds: readonly number[],
  records: readonly Pick<Comparison, "pretrainings" | "runs">[],
): { pretrainings: PretrainRecord[]; runs: RunRecord[] } {
  const all = records.flatMap((r) => r.pretrainings), runs = records.flatMap((r) => r.runs);
  return {
    pretrainings: seeds.flatMap((seed) => all.filter((p) => p.seed === seed)),
    runs: seeds.flatMap((seed) => runs.filter((run) => run.seed === seed)),
  };
}
