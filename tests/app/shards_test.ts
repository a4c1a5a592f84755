/**
 * Which share of the seeds a process runs (src/app/shards.ts): `--shard i/n`, each scheduler's
 * variables, their errors, and the seeds of each shard, against the round-robin rule written out here.
 */

import assert from "node:assert/strict";
import { parseShard, resolveShard, type Shard, shardSeeds } from "../../src/app/shards.ts";
import { UsageError } from "../../src/core/errors.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];
const shardOf = (vars: Record<string, string>, count: number | null = null) =>
  resolveShard(null, count, env(vars));
const pair = (shard: Shard | null) => shard === null ? null : [shard.index, shard.count];

Deno.test("--shard i/n: 0-based, below the count; malformed forms say why", () => {
  assert.deepEqual(parseShard("0/3"), { index: 0, count: 3 });
  assert.deepEqual(parseShard(" 2/3 "), { index: 2, count: 3 });
  for (
    const [text, why] of [["3/3", /0-based/], ["1/0", /count must be 1 to/], ["a/3", /i\/n/], ["1", /i\/n/], [
      "-1/3",
      /i\/n/,
    ], ["1/2000", /count/]] as const
  ) {
    const parsed = parseShard(text);
    assert.ok("why" in parsed && why.test(parsed.why), `${text}: ${JSON.stringify(parsed)}`);
  }
});

Deno.test("each scheduler's variables give the shard, and the flag wins over them", () => {
  assert.equal(shardOf({}), null);
  assert.deepEqual(pair(shardOf({ SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "3" })), [2, 3]);
  assert.deepEqual(
    pair(shardOf({ SLURM_ARRAY_TASK_ID: "7", SLURM_ARRAY_TASK_MIN: "5", SLURM_ARRAY_TASK_MAX: "9" })),
    [2, 5],
  );
  const stepped = {
    SLURM_ARRAY_TASK_ID: "14",
    SLURM_ARRAY_TASK_MIN: "10",
    SLURM_ARRAY_TASK_MAX: "16",
    SLURM_ARRAY_TASK_STEP: "2",
  };
  assert.deepEqual(pair(shardOf(stepped)), [2, 4]);
  assert.deepEqual(pair(shardOf({ ...stepped, SLURM_ARRAY_TASK_COUNT: "4" })), [2, 4]);
  assert.deepEqual(pair(shardOf({ JOB_COMPLETION_INDEX: "1" }, 4)), [1, 4]);
  assert.deepEqual(pair(shardOf({ AWS_BATCH_JOB_ARRAY_INDEX: "0", AWS_BATCH_JOB_ARRAY_SIZE: "2" })), [0, 2]);
  const flagged = resolveShard(
    { index: 1, count: 2 },
    null,
    env({ SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "5" }),
  );
  assert.deepEqual(pair(flagged), [1, 2]);
  assert.equal(flagged?.source, "--shard");
  assert.match(shardOf({ SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "3" })!.source, /Slurm job array/);
});

Deno.test("bad or inconsistent shard settings are usage errors that name the culprit", () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => shardOf({ SLURM_ARRAY_TASK_ID: "x", SLURM_ARRAY_TASK_COUNT: "3" }),
      /SLURM_ARRAY_TASK_ID="x": not a whole number/,
    ],
    [
      () => shardOf({ SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "3" }),
      /shard 3 of 3 is out of range/,
    ],
    [() => shardOf({ SLURM_ARRAY_TASK_ID: "1" }), /without SLURM_ARRAY_TASK_COUNT/],
    [
      () =>
        shardOf({
          SLURM_ARRAY_TASK_ID: "1",
          SLURM_ARRAY_TASK_COUNT: "4",
          SLURM_ARRAY_TASK_MIN: "0",
          SLURM_ARRAY_TASK_MAX: "2",
        }),
      /disagrees/,
    ],
    [
      () =>
        shardOf({
          SLURM_ARRAY_TASK_ID: "3",
          SLURM_ARRAY_TASK_MIN: "0",
          SLURM_ARRAY_TASK_MAX: "4",
          SLURM_ARRAY_TASK_STEP: "2",
        }),
      /not on the array's steps/,
    ],
    [
      () => shardOf({ JOB_COMPLETION_INDEX: "1" }),
      /gives the index alone; give the count with --shard-count/,
    ],
    [() => shardOf({ JOB_COMPLETION_INDEX: "4" }, 4), /shard 4 of 4 is out of range/],
    [() => shardOf({ AWS_BATCH_JOB_ARRAY_INDEX: "1" }), /without AWS_BATCH_JOB_ARRAY_SIZE/],
    [
      () => shardOf({ SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "2", JOB_COMPLETION_INDEX: "1" }),
      /2 schedulers at once/,
    ],
    [() => shardOf({}, 3), /--shard-count goes with a Kubernetes Indexed Job/],
    [
      () => shardOf({ AWS_BATCH_JOB_ARRAY_INDEX: "1", AWS_BATCH_JOB_ARRAY_SIZE: "2" }, 3),
      /--shard-count 3 disagrees/,
    ],
    [() => resolveShard({ index: 0, count: 2 }, 3, env({})), /--shard-count 3 disagrees with --shard 0\/2/],
    [() => shardSeeds([1, 2, 3], { index: 0, count: 4, source: "--shard" }), /4 shards for 3 seeds/],
  ];
  for (const [run, message] of cases) {
    assert.throws(
      run,
      (error: Error) => error instanceof UsageError && message.test(error.message),
      String(message),
    );
  }
});

Deno.test("shard i of n runs the seeds at positions i, i + n, ...: each seed exactly once", () => {
  const seeds = Array.from({ length: 11 }, (_, i) => 100 + i);
  for (const count of [1, 2, 3, 5, 11]) {
    const shares = Array.from(
      { length: count },
      (_, index) => shardSeeds(seeds, { index, count, source: "--shard" }),
    );
    shares.forEach((share, index) => {
      const expected: number[] = [];
      for (let p = index; p < seeds.length; p += count) expected.push(seeds[p]);
      assert.deepEqual(share, expected);
    });
    assert.deepEqual(shares.flat().sort((a, b) => a - b), seeds);
  }
  assert.deepEqual(shardSeeds(seeds, null), seeds);
});
