/**
 * Sharded sweeps (compare --shard, deno task merge, --resume): three shards merged are the unsharded
 * run, timings apart, whether the shard comes from the flag or from a scheduler's variables; a shard
 * killed outright and rerun with --resume merges to the same; GNU parallel runs the documented
 * one-liner; and every inconsistency is one error line.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../../helpers/helpers.ts";
import { assertSameRun, compare, merge, sweepFolder } from "../../helpers/sweep.ts";

const SEEDS = ["--seeds", "5", "--device", "cpu"];

/** The unsharded run of the sweep in `folder` (with `extra` flags); resolves with its stdout. */
async function whole(folder: string, config: string, extra: string[] = []): Promise<string> {
  const run = await compare(folder, ["--config", config, ...SEEDS, ...extra, "--out-dir", "whole"]);
  assert.equal(run.code, 0, run.stderr);
  return run.stdout;
}

Deno.test("three shards, from --shard or from each scheduler's variables, merge into the unsharded run", async () => {
  const { folder, config } = sweepFolder();
  const table = await whole(folder, config);
  const ways: [string, (i: number) => { args: string[]; env: Record<string, string> }][] = [
    ["flag", (i) => ({ args: ["--shard", `${i}/3`], env: {} })],
    [
      "slurm",
      (i) => ({
        args: [],
        env: { SLURM_ARRAY_TASK_ID: `${i + 4}`, SLURM_ARRAY_TASK_MIN: "4", SLURM_ARRAY_TASK_MAX: "6" },
      }),
    ],
    ["kubernetes", (i) => ({ args: ["--shard-count", "3"], env: { JOB_COMPLETION_INDEX: `${i}` } })],
    ["aws", (i) => ({ args: [], env: { AWS_BATCH_JOB_ARRAY_INDEX: `${i}`, AWS_BATCH_JOB_ARRAY_SIZE: "3" } })],
  ];
  for (const [way, shard] of ways) {
    for (const i of [2, 0, 1]) {
      const { args, env } = shard(i);
      const run = await compare(
        folder,
        ["--config", config, ...SEEDS, ...args, "--out-dir", `${way}-${i}`],
        env,
      );
      assert.equal(run.code, 0, `${way} ${i}: ${run.stderr}`);
    }
    const log = Deno.readTextFileSync(join(folder, "app.log"));
    if (way !== "flag") {
      assert.match(
        log,
        new RegExp(
          `shard 1/3 from the ${{ slurm: "Slurm", kubernetes: "Kubernetes", aws: "AWS Batch" }[way]}`,
        ),
      );
    }
    const merged = await merge(folder, [`${way}-merged`, `${way}-1`, `${way}-0`, `${way}-2`]);
    assert.equal(merged.code, 0, merged.stderr);
    assertSameRun(join(folder, "whole"), join(folder, `${way}-merged`), table, merged.stdout);
  }
  const shard0 = JSON.parse(Deno.readTextFileSync(join(folder, "flag-0", "results.json")));
  assert.deepEqual(
    shard0.pretrainings.map((p: { seed: number }) => p.seed),
    [42, 45],
    "shard 0 of 3 runs seeds 1 and 4 of 5",
  );
  assert.deepEqual(shard0.grid.seeds, [42, 43, 44, 45, 46]);
});

Deno.test("a shard killed outright, rerun with --resume, completes the merge", async () => {
  // Larger, and on the TypeScript kernels, so that a seed takes long enough to be killed in the middle.
  const { folder, config } = sweepFolder(1500, 8);
  const kernels = ["--cpu-kernels", "ts"];
  const table = await whole(folder, config, kernels);
  const args = [
    "run",
    "--config",
    `${ROOT}deno.json`,
    "--allow-read",
    "--allow-write",
    "--allow-env",
    `${ROOT}src/programs/compare/main.ts`,
  ];
  const shardArgs = [
    "--config",
    config,
    ...SEEDS,
    ...kernels,
    "--shard",
    "0/2",
    "--resume",
    "--out-dir",
    "s0",
  ];
  const child = new Deno.Command("deno", {
    args: [...args, ...shardArgs],
    cwd: folder,
    env: { INIT_CWD: folder }, // as runProgram: not the folder deno task test was started from
    stdout: "null",
    stderr: "null",
  }).spawn();
  const checkpoint = join(folder, "s0", "results.json");
  const deadline = Date.now() + 120_000; // a slow machine still gets there; the kill comes right after
  while (Date.now() < deadline) {
    try {
      if (JSON.parse(Deno.readTextFileSync(checkpoint)).pretrainings.length >= 1) break;
    } catch { /* not written yet */ }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.kill("SIGKILL");
  await child.status;
  const killed = JSON.parse(Deno.readTextFileSync(checkpoint));
  assert.equal(killed.complete, false, "killed before its last seed");
  assert.ok(killed.pretrainings.length >= 1 && killed.pretrainings.length < 3);

  const early = await merge(folder, ["early", "s0"]);
  assert.equal(early.code, 2);
  assert.match(early.stderr, /^error: s0: shard 0\/2 is incomplete; rerun it with --resume --out-dir s0\n$/);

  const resumed = await compare(folder, shardArgs);
  assert.equal(resumed.code, 0, resumed.stderr);
  const kept = killed.pretrainings.length;
  assert.match(
    Deno.readTextFileSync(join(folder, "app.log")),
    new RegExp(`--resume: kept ${kept} finished seed\\(s\\) from s0; running ${3 - kept}`),
  );
  const final = JSON.parse(Deno.readTextFileSync(checkpoint));
  assert.deepEqual(
    final.pretrainings.slice(0, kept).map((p: { seconds: number }) => p.seconds),
    killed.pretrainings.map((p: { seconds: number }) => p.seconds),
    "the kept seeds were not run again (their timings are the checkpoint's)",
  );
  const other = await compare(folder, [
    "--config",
    config,
    ...SEEDS,
    ...kernels,
    "--shard",
    "1/2",
    "--out-dir",
    "s1",
  ]);
  assert.equal(other.code, 0, other.stderr);
  const merged = await merge(folder, ["merged", "s0", "s1"]);
  assert.equal(merged.code, 0, merged.stderr);
  assertSameRun(join(folder, "whole"), join(folder, "merged"), table, merged.stdout);
});

Deno.test("GNU parallel runs examples/parallel.sh: three shards, two at a time, merged", async () => {
  const { folder, config } = sweepFolder();
  const table = await whole(folder, config);
  try {
    Deno.statSync("/usr/bin/parallel");
  } catch {
    if (Deno.env.get("CI") === "true") {
      throw new Error("/usr/bin/parallel is missing: CI installs Debian's parallel");
    }
    console.warn("GNU parallel test skipped: no /usr/bin/parallel");
    return;
  }
  const output = await new Deno.Command("bash", {
    args: [`${ROOT}examples/parallel.sh`, "--config", config, "--seeds", "5"], // the script gives --device cpu
    cwd: ROOT,
    env: { SWEEP_DIR: join(folder, "sweep"), NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const merged = stdout.slice(stdout.lastIndexOf("strategy  "));
  assertSameRun(join(folder, "whole"), join(folder, "sweep", "merged"), table, merged);
});

Deno.test("merge and --shard: every inconsistency is one error line that names it, exit 2", async () => {
  const { folder, config } = sweepFolder();
  const shard = (i: number, n: number, out: string, seeds = "5") =>
    compare(folder, [
      "--config",
      config,
      "--seeds",
      seeds,
      "--device",
      "cpu",
      "--shard",
      `${i}/${n}`,
      "--out-dir",
      out,
    ]);
  for (const [i, out] of [[0, "a0"], [1, "a1"]] as const) assert.equal((await shard(i, 2, out)).code, 0);
  assert.equal((await shard(1, 2, "b1", "6")).code, 0);
  assert.equal((await compare(folder, ["--config", config, ...SEEDS, "--out-dir", "whole"])).code, 0);
  Deno.mkdirSync(join(folder, "a0copy"));
  for (const entry of Deno.readDirSync(join(folder, "a0"))) {
    Deno.copyFileSync(join(folder, "a0", entry.name), join(folder, "a0copy", entry.name));
  }
  Deno.mkdirSync(join(folder, "used"));
  Deno.writeTextFileSync(join(folder, "used", "x"), "");
  const merges: [string[], RegExp][] = [
    [["m1", "a0"], /^error: shard 1\/2 missing; give every shard's folder$/],
    [["m2", "a0", "a0", "a1"], /^error: a0 is given twice; give each shard's folder once$/],
    [["m2b", "a0", "a0copy", "a1"], /^error: a0copy: shard 0\/2 again \(also a0\); give each once$/],
    [
      ["m3", "a0", "b1"],
      /^error: b1: another grid than a0 \(they differ at seeds.length\); merge the shards of one sweep$/,
    ],
    [["m4", "a0", "whole"], /^error: whole: holds a whole comparison, not a shard/],
    [
      ["used", "a0", "a1"],
      /^error: <out> used: holds files from another run; choose an empty or new folder$/,
    ],
    [["m5", "a0", "nowhere"], /^error: nowhere: cannot read nowhere\/results\.json/],
    [["m6"], /^error: .*missing required argument/],
  ];
  for (const [args, expected] of merges) {
    const run = await merge(folder, args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr.trim(), expected);
  }
  const compares: [string[], Record<string, string>, RegExp][] = [
    [
      ["--shard", "3/3"],
      {},
      /^error: option '--shard <i\/n>' argument '3\/3' is invalid\. '3\/3': the index is 0-based/,
    ],
    [["--shard", "0/6"], {}, /^error: --shard: 6 shards for 5 seeds would leave shards with none/],
    [[], { SLURM_ARRAY_TASK_ID: "1" }, /^error: SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_COUNT/],
    [[], { JOB_COMPLETION_INDEX: "0" }, /^error: JOB_COMPLETION_INDEX=0 gives the index alone/],
    [["--resume"], {}, /^error: --resume continues the run in --out-dir/],
    [
      ["--resume", "--out-dir", "a0", "--shard", "0/3"],
      {},
      /^error: --resume: a0\/results\.json was run as shard 0\/2, this run is shard 0\/3;/,
    ],
    [
      ["--resume", "--out-dir", "a0"],
      {},
      /^error: --resume: a0\/results\.json was run as shard 0\/2, this run is the whole grid;/,
    ],
    [["--resume", "--out-dir", "used"], {}, /^error: --resume: used holds files but no results\.json/],
  ];
  for (const [args, env, expected] of compares) {
    const run = await compare(folder, ["--config", config, ...SEEDS, ...args], env);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr.trim(), expected);
  }
});
