/** Atomic writes and the early writability check (src/app/atomic_write.ts). */

import assert from "node:assert/strict";
import { join } from "node:path";
import { checkWritable, writeTextFileAtomic } from "../../src/app/atomic_write.ts";
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
    // Block the temporary file beside the target (a hidden sibling named after this process) with
    // a non-empty folder, so that writing the new contents fails.
    const blocker = `.out.json.${Deno.pid}.tmp`;
    await Deno.mkdir(join(dir, blocker, "inside"), { recursive: true });
    assertThrowsUsage(() => writeTextFileAtomic(path, "new\n", "--output"), ["--output", path]);
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
