/**
 * examples/slurm/compare_array.sbatch on a real, single-node Slurm: the test starts munged, slurmctld
 * and slurmd (Debian's packages) in the foreground with a configuration of its own in a temporary
 * folder (`ProctrackType=proctrack/linuxproc`, `TaskPlugin=task/none`: no systemd or cgroups needed),
 * submits a 3-task array with `sbatch --wait`, merges the shards and compares them with the unsharded
 * run. It stops the daemons it started, by their PIDs. Outside CI it skips without Slurm; in CI it
 * fails instead.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../../helpers/helpers.ts";
import { assertSameRun, compare, merge, sweepFolder } from "../../helpers/sweep.ts";

const DAEMONS = [
  "/usr/sbin/munged",
  "/usr/sbin/slurmctld",
  "/usr/sbin/slurmd",
  "/usr/bin/sbatch",
  "/usr/sbin/mungekey",
];

function haveSlurm(): boolean {
  const missing = DAEMONS.filter((path) => {
    try {
      Deno.statSync(path);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return true;
  if (Deno.env.get("CI") === "true") {
    throw new Error(`${missing.join(", ")} missing: CI installs slurmctld, slurmd, slurm-client and munge`);
  }
  console.warn(`Slurm test skipped: no ${missing.join(", ")}`);
  return false;
}

/** Runs `command` with `args` and resolves once it succeeded; throws with its stderr otherwise. */
async function succeed(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  cwd = ROOT,
): Promise<string> {
  const output = await new Deno.Command(command, { args, env, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  if (!output.success) {
    throw new Error(`${command} ${args.join(" ")}: ${decode(output.stderr)}${decode(output.stdout)}`);
  }
  return decode(output.stdout);
}

/** A single-node cluster in `folder`: its config file and the daemons, each a child of this process. */
async function startCluster(folder: string): Promise<{ conf: string; daemons: Deno.ChildProcess[] }> {
  const munge = join(folder, "munge"), host = Deno.hostname();
  Deno.mkdirSync(munge, { recursive: true, mode: 0o700 });
  for (const sub of ["state", "spool"]) Deno.mkdirSync(join(folder, sub));
  await succeed("mungekey", ["--create", "--keyfile", join(munge, "munge.key"), "--bits", "1024"]);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const conf = join(folder, "slurm.conf");
  Deno.writeTextFileSync(
    conf,
    [
      "ClusterName=tlf",
      `SlurmctldHost=${host}`,
      "SlurmUser=root",
      "AuthType=auth/munge",
      `AuthInfo=socket=${join(munge, "socket")}`,
      "CredType=cred/munge",
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      `StateSaveLocation=${join(folder, "state")}`,
      `SlurmdSpoolDir=${join(folder, "spool")}`,
      `SlurmctldPidFile=${join(folder, "slurmctld.pid")}`,
      `SlurmdPidFile=${join(folder, "slurmd.pid")}`,
      `SlurmctldLogFile=${join(folder, "slurmctld.log")}`,
      `SlurmdLogFile=${join(folder, "slurmd.log")}`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core",
      "ReturnToService=2",
      "MpiDefault=none",
      `NodeName=${host} CPUs=${navigator.hardwareConcurrency} State=UNKNOWN`,
      "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4",
      "",
    ].join("\n"),
  );
  const spawn = (command: string, args: string[]) =>
    new Deno.Command(command, { args, env: { SLURM_CONF: conf }, stdout: "null", stderr: "null" }).spawn();
  const daemons = [
    spawn("munged", [
      "--foreground",
      "--force",
      `--socket=${join(munge, "socket")}`,
      `--key-file=${join(munge, "munge.key")}`,
      `--pid-file=${join(munge, "pid")}`,
      `--log-file=${join(munge, "log")}`,
      `--seed-file=${join(munge, "seed")}`,
    ]),
  ];
  await waitFor(() => exists(join(munge, "socket")), "munged's socket");
  daemons.push(spawn("slurmctld", ["-D"]), spawn("slurmd", ["-D"]));
  await waitFor(
    async () => /idle/.test(await succeed("sinfo", ["-h", "-o", "%T"], { SLURM_CONF: conf }).catch(() => "")),
    "an idle node",
  );
  return { conf, daemons };
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Polls `ready` every 100 ms for up to 30 s. */
async function waitFor(ready: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test({
  name: "Slurm: a 3-task job array of examples/slurm/compare_array.sbatch, merged, is the unsharded run",
  ignore: !haveSlurm(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { folder, config } = sweepFolder();
    const args = ["--config", config, "--seeds", "5", "--device", "cpu"];
    const whole = await compare(folder, [...args, "--out-dir", "whole"]);
    assert.equal(whole.code, 0, whole.stderr);
    const cluster = await startCluster(join(folder, "cluster"));
    try {
      const sweep = join(folder, "sweep");
      const env = { SLURM_CONF: cluster.conf, SWEEP_DIR: sweep, NO_COLOR: "1" };
      await succeed("sbatch", [
        "--array=0-2",
        "--wait",
        `--output=${join(folder, "task-%a.out")}`,
        `${ROOT}examples/slurm/compare_array.sbatch`,
        "--config",
        config,
        "--seeds",
        "5", // the script gives --device cpu
      ], env);
      for (const i of [0, 1, 2]) {
        const log = Deno.readTextFileSync(join(sweep, `shard-${i}`, "results.json"));
        assert.match(log, new RegExp(`"source": "the Slurm job array \\(SLURM_ARRAY_TASK_ID, _COUNT\\)"`));
      }
      const merged = await merge(folder, [
        join(sweep, "merged"),
        ...[0, 1, 2].map((i) => join(sweep, `shard-${i}`)),
      ]);
      assert.equal(merged.code, 0, merged.stderr);
      assertSameRun(join(folder, "whole"), join(sweep, "merged"), whole.stdout, merged.stdout);
    } finally {
      for (const daemon of cluster.daemons.reverse()) {
        daemon.kill("SIGTERM");
        await daemon.status;
      }
    }
  },
});
