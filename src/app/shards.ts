/**
 * Which share of a comparison's seeds one process runs, so that a sweep splits across processes or
 * machines (see docs/CLUSTERS.md). Shard `i` of `n` (0-based) runs the grid's seeds at positions
 * `i, i + n, i + 2n, ...`: each seed, with its one pretraining and every transfer from it, in exactly
 * one shard. The shard comes from `--shard i/n`, else from the scheduler's environment:
 *
 * - Slurm job arrays: `SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`, or with
 *   `SLURM_ARRAY_TASK_MIN` and `SLURM_ARRAY_TASK_MAX` (and `SLURM_ARRAY_TASK_STEP`, 1 by default);
 * - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX`, the count from `--shard-count` (the Job's
 *   completions), which the environment does not give;
 * - AWS Batch array jobs: `AWS_BATCH_JOB_ARRAY_INDEX` with `AWS_BATCH_JOB_ARRAY_SIZE`.
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";

/** One process's share of the seeds. */
export interface Shard {
  /** 0-based: shard `index` runs the seeds at positions `index, index + count, ...`. */
  readonly index: number;
  /** How many shards split the seeds. */
  readonly count: number;
  /** Where it came from, for the log: `--shard`, or the scheduler and its variables. */
  readonly source: string;
}

/** The environment variables a shard is read from; the compare task may read them. */
export const SHARD_VARIABLES = [
  "SLURM_ARRAY_TASK_ID",
  "SLURM_ARRAY_TASK_COUNT",
  "SLURM_ARRAY_TASK_MIN",
  "SLURM_ARRAY_TASK_MAX",
  "SLURM_ARRAY_TASK_STEP",
  "JOB_COMPLETION_INDEX",
  "AWS_BATCH_JOB_ARRAY_INDEX",
  "AWS_BATCH_JOB_ARRAY_SIZE",
] as const;

/** The most shards a grid may be split into (one seed each at most, and compare runs at most 1000 seeds). */
export const MAX_SHARDS = 1000;

/** `i/n` from `--shard`: 0 ≤ i < n ≤ {@linkcode MAX_SHARDS}; null with why when malformed. */
export function parseShard(text: string): { index: number; count: number } | { why: string } {
  const match = /^(\d{1,4})\/(\d{1,4})$/.exec(text.trim());
  if (match === null) return { why: "give it as i/n, e.g. 0/3 for the first of three shards" };
  const index = Number(match[1]), count = Number(match[2]);
  if (count < 1 || count > MAX_SHARDS) return { why: `the count must be 1 to ${MAX_SHARDS}` };
  if (index >= count) {
    return { why: `the index is 0-based, so it must be below the count (0 to ${count - 1})` };
  }
  return { index, count };
}

/** A variable's value as a whole number, or a usage error naming it. */
function whole(name: string, value: string): number {
  if (!/^\d{1,9}$/.test(value.trim())) {
    throw new UsageError(
      `${name}=${JSON.stringify(value.slice(0, 40))}: not a whole number; fix the job's environment`,
    );
  }
  return Number(value);
}

/** A shard read from the environment, checked: `index` in range. */
function checked(index: number, count: number, source: string): Shard {
  if (count < 1 || count > MAX_SHARDS) {
    throw new UsageError(`${source}: ${count} shards; a comparison splits into 1 to ${MAX_SHARDS}`);
  }
  if (index < 0 || index >= count) {
    throw new UsageError(`${source}: shard ${index} of ${count} is out of range (0 to ${count - 1})`);
  }
  return { index, count, source };
}

/** A Slurm job array's shard: the task's position among the array's tasks. */
function slurmShard(get: (name: string) => string | undefined): Shard {
  const id = whole("SLURM_ARRAY_TASK_ID", get("SLURM_ARRAY_TASK_ID")!);
  const count = get("SLURM_ARRAY_TASK_COUNT"), min = get("SLURM_ARRAY_TASK_MIN");
  const max = get("SLURM_ARRAY_TASK_MAX"),
    step = whole("SLURM_ARRAY_TASK_STEP", get("SLURM_ARRAY_TASK_STEP") ?? "1");
  if (count === undefined && (min === undefined || max === undefined)) {
    throw new UsageError(
      "SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MIN and _MAX; give --shard i/n",
    );
  }
  const first = min === undefined ? 0 : whole("SLURM_ARRAY_TASK_MIN", min);
  const offset = id - first;
  if (step < 1 || offset % step !== 0) {
    throw new UsageError(
      `SLURM_ARRAY_TASK_ID=${id} is not on the array's steps from ${first} by ${step}; give --shard i/n`,
    );
  }
  const fromRange = max === undefined ? null : (whole("SLURM_ARRAY_TASK_MAX", max) - first) / step + 1;
  if (fromRange !== null && !Number.isInteger(fromRange)) {
    throw new UsageError(
      `SLURM_ARRAY_TASK_MAX=${max} is not on the array's steps from ${first} by ${step}; give --shard i/n`,
    );
  }
  const total = count === undefined ? fromRange! : whole("SLURM_ARRAY_TASK_COUNT", count);
  if (fromRange !== null && fromRange !== total) {
    throw new UsageError(
      `SLURM_ARRAY_TASK_COUNT=${total} disagrees with SLURM_ARRAY_TASK_MIN=${first}, _MAX=${max} and _STEP=${step}; ` +
        "give --shard i/n",
    );
  }
  const names = count === undefined ? "SLURM_ARRAY_TASK_ID, _MIN, _MAX" : "SLURM_ARRAY_TASK_ID, _COUNT";
  return checked(offset / step, total, `the Slurm job array (${names})`);
}

/**
 * The shard to run: `--shard` (`flag`) when given, else the scheduler's variables read by `get`, else
 * null (the whole grid). `shardCount` is `--shard-count`, which only a Kubernetes Indexed Job needs.
 * Throws {@linkcode UsageError} for variables that are malformed or disagree, for two schedulers at
 * once, and for a `--shard-count` with nothing to go with it.
 */
export function resolveShard(
  flag: { index: number; count: number } | null,
  shardCount: number | null,
  get: (name: string) => string | undefined,
): Shard | null {
  if (flag !== null) {
    if (shardCount !== null && shardCount !== flag.count) {
      throw new UsageError(
        `--shard-count ${shardCount} disagrees with --shard ${flag.index}/${flag.count}; give one`,
      );
    }
    return { ...flag, source: "--shard" };
  }
  const present = (name: string) => get(name) !== undefined && get(name) !== "";
  const indices = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"].filter(
    present,
  );
  if (indices.length > 1) {
    throw new UsageError(
      `the environment names shards of ${indices.length} schedulers at once (${
        indices.join(", ")
      }); give --shard i/n`,
    );
  }
  const schedulers = indices.map((name) => ({
    SLURM_ARRAY_TASK_ID: "slurm",
    JOB_COMPLETION_INDEX: "kubernetes",
    AWS_BATCH_JOB_ARRAY_INDEX: "aws",
  }[name]));
  let shard: Shard | null = null;
  if (schedulers[0] === "slurm") shard = slurmShard(get);
  if (schedulers[0] === "kubernetes") {
    if (shardCount === null) {
      throw new UsageError(
        `JOB_COMPLETION_INDEX=${
          get("JOB_COMPLETION_INDEX")
        } gives the index alone; give the count with --shard-count N ` +
          "(the Job's completions)",
      );
    }
    const index = whole("JOB_COMPLETION_INDEX", get("JOB_COMPLETION_INDEX")!);
    shard = checked(index, shardCount, "the Kubernetes Indexed Job (JOB_COMPLETION_INDEX, --shard-count)");
  }
  if (schedulers[0] === "aws") {
    const size = get("AWS_BATCH_JOB_ARRAY_SIZE");
    if (size === undefined) {
      throw new UsageError(
        "AWS_BATCH_JOB_ARRAY_INDEX is set without AWS_BATCH_JOB_ARRAY_SIZE; give --shard i/n",
      );
    }
    const index = whole("AWS_BATCH_JOB_ARRAY_INDEX", get("AWS_BATCH_JOB_ARRAY_INDEX")!);
    shard = checked(
      index,
      whole("AWS_BATCH_JOB_ARRAY_SIZE", size),
      "the AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX, _SIZE)",
    );
  }
  if (shard === null && shardCount !== null) {
    throw new UsageError(
      "--shard-count goes with a Kubernetes Indexed Job's JOB_COMPLETION_INDEX, which is not set; give --shard i/n",
    );
  }
  if (shard !== null && shardCount !== null && shardCount !== shard.count) {
    throw new UsageError(
      `--shard-count ${shardCount} disagrees with ${shard.source}, which gives ${shard.count} shards`,
    );
  }
  return shard;
}

/**
 * The seeds of `seeds` that `shard` runs (all of them without a shard). Throws {@linkcode UsageError}
 * when the shard would run none: more shards than seeds.
 */
export function shardSeeds(seeds: readonly number[], shard: Shard | null): number[] {
  if (shard === null) return [...seeds];
  if (shard.count > seeds.length) {
    throw new UsageError(
      `${shard.source}: ${shard.count} shards for ${seeds.length} seeds would leave shards with none; ` +
        `use at most ${seeds.length} shards, or more --seeds`,
    );
  }
  return seeds.filter((_, position) => position % shard.count === shard.index);
}
