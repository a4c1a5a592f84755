/** Atomic writes and the early writability check (src/app/atomic_write.ts). */

import assert from "node:assert/strict";
import { join } from "node:path";
import { checkNotOverwriting, checkWritable, writeTextFileAtomic } from "../../src/app/atomic_write.ts";
import { UsageError } from "../../src/core/errors.ts";

/** Runs `fn` in a fresh temporary folder holding one file, `config.yaml`, removed afterwards. */
async function inTempDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "atomic_write_test_" });
  await Deno.writeTextFile(join(dir, "config.yaml"), "");
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function listDir(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
}

/** Asserts that `fn` throws a one-line UsageError mentioning every string in `parts`. */
function assertThrowsUsage(fn: () => unknown, parts: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof UsageError, `expected a UsageError, got ${caught}`);
  assert.ok(!caught.message.includes("\n"), caught.message);
  for (const part of parts) assert.ok(caught.message.includes(part), `'${caught.message}' lacks '${part}'`);
}

Deno.test("results writer: replaces the file and leaves no temporary file", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "out.json");
    await Deno.writeTextFile(path, "old\n");
    checkWritable(path, "--output");
    writeTextFileAtomic(path, "new\n", "--output");
    assert.equal(Deno.readTextFileSync(path), "new\n");
    assert.deepEqual(listDir(dir), ["config.yaml", "out.json"]);
  });
});

Deno.test("results writer: a failed write leaves the existing file as it was", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "out.json");
    await Deno.writeTextFile(path, "old\n");
    // Block the temporary file beside the target (a hidden sibling named after this process and a
    // random number, made 0 here) with a non-empty folder, so that writing the new contents fails.
    const blocker = `.out.json.${Deno.pid}.0.tmp`;
    await Deno.mkdir(join(dir, blocker, "inside"), { recursive: true });
    const random = crypto.getRandomValues;
    crypto.getRandomValues = <T extends ArrayBufferView | null>(array: T): T => array;
    try {
      assertThrowsUsage(() => writeTextFileAtomic(path, "new\n", "--output"), ["--output", path]);
    } finally {
      crypto.getRandomValues = random;
    }
    assert.equal(Deno.readTextFileSync(path), "old\n", "the old results are intact");
    assert.deepEqual(listDir(dir), [blocker, "config.yaml", "out.json"].sort(), "nothing else was written");
  });
});

Deno.test("results writer: a failed rename removes the temporary file", async () => {
  await inTempDir(async (dir) => {
    // The target is a non-empty folder, so the temporary file cannot be renamed over it.
    const path = join(dir, "out.json");
    await Deno.mkdir(join(path, "inside"), { recursive: true });
    assertThrowsUsage(() => writeTextFileAtomic(path, "new\n", "--output"), ["--output", path]);
    assert.deepEqual(listDir(dir), ["config.yaml", "out.json"], "no temporary file left");
    assert.deepEqual(listDir(path), ["inside"]);
  });
});

Deno.test("results writer: checkWritable rejects a missing folder and a folder as the target", async () => {
  await inTempDir((dir) => {
    assertThrowsUsage(() => checkWritable(join(dir, "missing", "out.json"), "--output"), [
      "--output",
      "missing",
    ]);
    assertThrowsUsage(() => checkWritable(dir, "--output"), ["--output", dir]);
    assertThrowsUsage(() => checkWritable(join(dir, "config.yaml", "out.json"), "--output"), ["--output"]);
    checkWritable(join(dir, "new.json"), "--output");
    assert.deepEqual(listDir(dir), ["config.yaml"], "checking writes nothing that stays");
  });
});

Deno.test("results writer: checkWritable refuses an empty path and one ending in a slash", async () => {
  await inTempDir((dir) => {
    assertThrowsUsage(() => checkWritable("", "--output"), ["--output", "empty", "give a file name"]);
    const slashed = join(dir, "newname") + "/";
    assertThrowsUsage(() => checkWritable(slashed, "--output"), ["--output", slashed, "give a file name"]);
    assert.deepEqual(listDir(dir), ["config.yaml"], "nothing created");
  });
});

Deno.test("results writer: a replaced file keeps its mode; a read-only one is refused up front", async () => {
  await inTempDir((dir) => {
    const path = join(dir, "out.json");
    Deno.writeTextFileSync(path, "old\n");
    Deno.chmodSync(path, 0o640);
    checkWritable(path, "--output");
    writeTextFileAtomic(path, "new\n", "--output");
    assert.equal(Deno.readTextFileSync(path), "new\n");
    assert.equal((Deno.statSync(path).mode ?? 0) & 0o777, 0o640, "the mode is kept");

    Deno.chmodSync(path, 0o444);
    assertThrowsUsage(() => checkWritable(path, "--output"), ["--output", path, "read-only"]);
    assert.equal(Deno.readTextFileSync(path), "new\n", "untouched");
  });
});

Deno.test("results writer: checkNotOverwriting sees the same file through links and relative forms", async () => {
  await inTempDir((dir) => {
    const config = join(dir, "config.yaml");
    const link = join(dir, "link.yaml");
    Deno.symlinkSync(config, link);
    const inputs = [{ role: "the config file (--config)", path: config }];
    assertThrowsUsage(() => checkNotOverwriting(link, "--output", inputs), ["--output", link, "config file"]);
    assertThrowsUsage(
      () => checkNotOverwriting(join(dir, "sub", "..", "config.yaml"), "--output", inputs),
      ["config file", config],
    );
    // A file not there yet is compared through its folder.
    const log = [{ role: "the log file (logging.file)", path: join(dir, "app.log") }];
    Deno.symlinkSync(dir, join(dir, "alias"));
    assertThrowsUsage(() => checkNotOverwriting(join(dir, "alias", "app.log"), "--output", log), [
      "log file",
    ]);
    checkNotOverwriting(join(dir, "out.json"), "--output", [...inputs, ...log]);
    assert.equal(Deno.readTextFileSync(config), "", "untouched");
  });
});
