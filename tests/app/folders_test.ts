/**
 * Relative paths mean what they mean in the user's shell: flags from the folder `deno task` was
 * started in (not the project folder it runs tasks in), paths inside a config from the config's folder.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { besideConfig, defaultConfig, projectFolder } from "../../src/app/folders.ts";

const TINY =
  "data: {base_n_samples: 300, target_n_samples: 200}\ntraining: {base_epochs: 2, target_epochs: 2}\n";

/** Runs `deno task <task> ...args` from `cwd`, as a user in that folder would. */
async function denoTask(cwd: string, task: string, args: string[]) {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  delete env.RANDOM_SEED;
  const output = await new Deno.Command("deno", {
    args: ["task", "-q", task, ...args],
    cwd,
    env: { ...env, NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

/** A fresh folder inside the project (under the git-ignored runs/), so `deno task` finds deno.json. */
async function subfolder(): Promise<string> {
  await Deno.mkdir(join(projectFolder(), "runs"), { recursive: true });
  return await Deno.makeTempDir({ dir: join(projectFolder(), "runs"), prefix: "subfolder-" });
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("folders: a config's relative paths are beside it; absolute ones are kept", () => {
  assert.equal(besideConfig("/home/me/exp/a.yaml", "logs/a.log"), "/home/me/exp/logs/a.log");
  assert.equal(besideConfig("exp/a.yaml", "a.log"), join("exp", "a.log"));
  assert.equal(besideConfig("a.yaml", "a.log"), "a.log");
  assert.equal(besideConfig("/home/me/exp/a.yaml", "/var/log/a.log"), "/var/log/a.log");
});

Deno.test("folders: without --config, ./config.yaml when there is one, else the project's", async () => {
  assert.equal(defaultConfig(), "config.yaml"); // deno test runs in the project folder, which has one
  const empty = await Deno.makeTempDir();
  const here = Deno.cwd();
  try {
    Deno.chdir(empty);
    assert.equal(defaultConfig(), join(projectFolder(), "config.yaml"));
  } finally {
    Deno.chdir(here);
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("folders: deno task run from a subfolder reads and writes relative paths there", async () => {
  const sub = await subfolder();
  try {
    await Deno.mkdir(join(sub, "configs"));
    await Deno.writeTextFile(join(sub, "configs", "a.yaml"), `logging: {file: a.log}\n${TINY}`);
    const run = await denoTask(sub, "run", ["--config", "configs/a.yaml", "--device", "cpu", "-o", "r.json"]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(await exists(join(sub, "r.json")), "--output is relative to the folder run from");
    assert.ok(await exists(join(sub, "configs", "a.log")), "logging.file is relative to the config's folder");
    assert.ok(!(await exists(join(projectFolder(), "r.json"))), "nothing lands in the project folder");
  } finally {
    await Deno.remove(sub, { recursive: true });
  }
});

Deno.test("folders: deno task compare from a subfolder writes its --out-dir there", async () => {
  const sub = await subfolder();
  try {
    await Deno.writeTextFile(join(sub, "config.yaml"), `logging: {file: app.log}\n${TINY}`);
    const args = [
      "--device",
      "cpu",
      "--seeds",
      "2",
      "--out-dir",
      "out",
    ];
    const run = await denoTask(sub, "compare", args);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(await exists(join(sub, "out", "results.json")), "--out-dir is relative to the folder run from");
    assert.ok(await exists(join(sub, "app.log")), "./config.yaml is the default config, its log beside it");
  } finally {
    await Deno.remove(sub, { recursive: true });
  }
});
