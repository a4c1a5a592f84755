/**
 * Tests for src/logger.ts and src/rotating_file.ts: level filtering, line format, the log file, folder
 * creation, size-based rotation, and unwritable paths.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "../../src/core/errors.ts";
import { exists } from "../helpers/helpers.ts";
import { createLogger, type LoggerOptions } from "../../src/app/logger.ts";
import { RotatingFile } from "../../src/app/rotating_file.ts";

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
async function withTempDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "logging_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A logger whose console lines are collected in `lines`. */
function capturingLogger(options: Omit<LoggerOptions, "console">) {
  const lines: string[] = [];
  const log = createLogger({ ...options, console: (line) => lines.push(line) });
  return { log, lines };
}

/** The lines of a text file, without the empty string after the final newline. */
function fileLines(path: string): string[] {
  const text = Deno.readTextFileSync(path);
  assert.ok(text === "" || text.endsWith("\n"), `${path} ends with a newline`);
  return text === "" ? [] : text.slice(0, -1).split("\n");
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

Deno.test("logger: at INFO, DEBUG lines are dropped and the rest kept in order", () => {
  const { log, lines } = capturingLogger({ level: "INFO", file: null, maxBytes: 1000, backupCount: 1 });
  log.debug("hidden detail");
  log.info("first");
  log.debug("another hidden detail");
  log.warning("second");
  log.error("third");
  log.close();
  assert.equal(lines.length, 3);
  assert.ok(lines.every((line) => !line.includes("hidden")));
  assert.deepEqual(lines.map((line) => line.split(" ").slice(1).join(" ")), [
    "INFO first",
    "WARNING second",
    "ERROR third",
  ]);
});

Deno.test("logger: each level passes exactly the levels at or above it", () => {
  const all = ["DEBUG", "INFO", "WARNING", "ERROR"] as const;
  for (const [index, level] of all.entries()) {
    const { log, lines } = capturingLogger({ level, file: null, maxBytes: 1000, backupCount: 1 });
    log.debug("d");
    log.info("i");
    log.warning("w");
    log.error("e");
    log.close();
    assert.deepEqual(lines.map((line) => line.split(" ")[1]), all.slice(index), `threshold ${level}`);
  }
});

Deno.test("logger: a line is '<ISO time> <LEVEL> <message>'", () => {
  const { log, lines } = capturingLogger({ level: "DEBUG", file: null, maxBytes: 1000, backupCount: 1 });
  const before = Date.now();
  log.warning("disk is 90% full: /data");
  log.debug("x = 1");
  const after = Date.now();
  log.close();
  assert.equal(lines.length, 2);
  const [time, level, ...rest] = lines[0].split(" ");
  assert.match(time, ISO_TIME);
  const when = Date.parse(time);
  // The ISO time has millisecond resolution, so it lies within the window.
  assert.ok(when >= before && when <= after, `time ${time} between ${before} and ${after}`);
  assert.equal(level, "WARNING");
  assert.equal(rest.join(" "), "disk is 90% full: /data");
  assert.match(lines[1], /^\S+ DEBUG x = 1$/);
});

Deno.test("logger: the file receives the same lines as the console", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.log");
    const { log, lines } = capturingLogger({
      level: "INFO",
      file: path,
      maxBytes: 1_000_000,
      backupCount: 2,
    });
    log.info("alpha");
    log.debug("not written");
    log.warning("beta");
    log.error("gamma");
    log.close();
    assert.equal(lines.length, 3);
    assert.deepEqual(fileLines(path), lines);
    assert.ok(!Deno.readTextFileSync(path).includes("not written"));
  });
});

Deno.test("logger: the log folder is created when missing", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "a", "b", "c", "app.log");
    assert.ok(!exists(join(dir, "a")));
    const { log, lines } = capturingLogger({
      level: "INFO",
      file: path,
      maxBytes: 1_000_000,
      backupCount: 2,
    });
    log.info("made it");
    log.close();
    assert.ok(Deno.statSync(join(dir, "a", "b", "c")).isDirectory);
    assert.deepEqual(fileLines(path), lines);
    assert.equal(lines.length, 1);
  });
});

Deno.test("logger: appending to an existing log keeps what was there", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.log");
    Deno.writeTextFileSync(path, "an earlier line\n");
    const { log, lines } = capturingLogger({
      level: "INFO",
      file: path,
      maxBytes: 1_000_000,
      backupCount: 2,
    });
    log.info("a later line");
    log.close();
    assert.deepEqual(fileLines(path), ["an earlier line", ...lines]);
  });
});

Deno.test("logger: an unwritable log path gives a UsageError naming logging.file", async () => {
  await withTempDir((dir) => {
    const blocker = join(dir, "regular-file");
    Deno.writeTextFileSync(blocker, "I am a file, not a folder\n");
    const path = join(blocker, "logs", "app.log");
    let caught: unknown;
    try {
      createLogger({ level: "INFO", file: path, maxBytes: 1000, backupCount: 1, console: () => {} });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof UsageError, `expected a UsageError, got ${caught}`);
    assert.ok(caught.message.includes("logging.file"), caught.message);
    assert.ok(caught.message.includes(path), caught.message);
    assert.ok(!/[\r\n]/.test(caught.message), "one line");
    assert.equal(Deno.readTextFileSync(blocker), "I am a file, not a folder\n", "the file is untouched");
  });
});

Deno.test("logger: a log path that is a folder gives a UsageError naming logging.file", async () => {
  await withTempDir((dir) => {
    let caught: unknown;
    try {
      createLogger({ level: "INFO", file: dir, maxBytes: 1000, backupCount: 1, console: () => {} });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof UsageError, `expected a UsageError, got ${caught}`);
    assert.ok(caught.message.includes("logging.file"), caught.message);
  });
});

Deno.test("logger: a device or system path is refused in one line that names no Deno flag", () => {
  const cases: [string, RegExp][] = [["/dev/null", /is not a regular file/]]; // a character device
  try {
    Deno.statSync("/proc/self/status");
  } catch (error) { // Deno grants /proc only to --allow-all, and says so in its error
    if (error instanceof Deno.errors.NotCapable) cases.push(["/proc/self/status", /device or system path/]);
  }
  for (const [path, says] of cases) {
    let caught: unknown;
    try {
      createLogger({ level: "INFO", file: path, maxBytes: 1000, backupCount: 1, console: () => {} });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof UsageError, `${path}: expected a UsageError, got ${caught}`);
    assert.match(caught.message, says);
    assert.match(caught.message, /set logging\.file to the path of a regular file$/);
    assert.doesNotMatch(
      caught.message,
      /run again with/,
      "Deno's advice to widen permissions is not the fix",
    );
  }
});

/** Fixed-width numbered messages, so that every log line has the same length. */
const message = (i: number) => `line-${String(i).padStart(5, "0")}`;
/** `<24-char ISO time> INFO line-NNNNN\n` */
const LINE_BYTES = 24 + 1 + "INFO".length + 1 + message(0).length + 1;

/** Logs `count` numbered INFO lines to `path`; returns the lines as the console saw them. */
function logNumbered(path: string, count: number, maxBytes: number, backupCount: number): string[] {
  const { log, lines } = capturingLogger({ level: "INFO", file: path, maxBytes, backupCount });
  for (let i = 0; i < count; i++) log.info(message(i));
  log.close();
  assert.equal(lines.length, count);
  assert.ok(lines.every((line) => new TextEncoder().encode(`${line}\n`).length === LINE_BYTES));
  return lines;
}

Deno.test("rotation: backupCount 2 keeps app.log, .1, .2, never .3, none over maxBytes, no line lost", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.log");
    const perFile = 5;
    const maxBytes = perFile * LINE_BYTES + 3; // room for 5 lines, not 6
    const count = 53;
    const written = logNumbered(path, count, maxBytes, 2);

    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((entry) => entry.name).sort(),
      ["app.log", "app.log.1", "app.log.2"],
    );
    assert.ok(!exists(`${path}.3`));
    for (const file of [path, `${path}.1`, `${path}.2`]) {
      const size = Deno.statSync(file).size;
      assert.ok(size <= maxBytes, `${file} is ${size} bytes, over maxBytes ${maxBytes}`);
      assert.ok(size > 0, `${file} is empty`);
    }
    const oldest = fileLines(`${path}.2`);
    const older = fileLines(`${path}.1`);
    const current = fileLines(path);
    // A file rolls over only when the next line would not fit, so each backup is full.
    assert.equal(oldest.length, perFile, "app.log.2 holds a full file of lines");
    assert.equal(older.length, perFile, "app.log.1 holds a full file of lines");
    assert.equal(current.length, count % perFile === 0 ? perFile : count % perFile);
    // Oldest to newest, the kept lines are exactly the newest lines written, in order.
    const kept = [...oldest, ...older, ...current];
    assert.deepEqual(kept, written.slice(written.length - kept.length));
  });
});

Deno.test("rotation: lines of varying length are never lost at a rollover", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.log");
    const maxBytes = 400;
    const { log, lines } = capturingLogger({ level: "INFO", file: path, maxBytes, backupCount: 3 });
    for (let i = 0; i < 120; i++) log.info(`${i} ${"x".repeat((i * 37) % 90)}`);
    log.close();
    const files = [`${path}.3`, `${path}.2`, `${path}.1`, path];
    assert.ok(!exists(`${path}.4`));
    const contents = files.map(fileLines);
    for (const [i, file] of files.entries()) {
      assert.ok(Deno.statSync(file).size <= maxBytes, `${file} over maxBytes`);
      if (i + 1 < files.length) {
        // It rolled over because the next file's first line did not fit.
        const nextLine = new TextEncoder().encode(`${contents[i + 1][0]}\n`).length;
        assert.ok(Deno.statSync(file).size + nextLine > maxBytes, `${file} rolled over before it was full`);
      }
    }
    const kept = contents.flat();
    assert.ok(kept.length > 0);
    assert.deepEqual(kept, lines.slice(lines.length - kept.length));
  });
});

Deno.test("rotation: backupCount 0 never rolls over", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.log");
    const maxBytes = 2 * LINE_BYTES;
    const written = logNumbered(path, 30, maxBytes, 0);
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["app.log"]);
    assert.deepEqual(fileLines(path), written);
    assert.ok(Deno.statSync(path).size > maxBytes);
  });
});

Deno.test("rotation: backupCount 1 keeps just app.log.1", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.log");
    const written = logNumbered(path, 20, 3 * LINE_BYTES, 1);
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name).sort(), ["app.log", "app.log.1"]);
    const kept = [...fileLines(`${path}.1`), ...fileLines(path)];
    assert.equal(fileLines(`${path}.1`).length, 3);
    assert.deepEqual(kept, written.slice(written.length - kept.length));
  });
});

Deno.test("rotation: the size of an existing file counts towards maxBytes", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.log");
    const existing = "x".repeat(LINE_BYTES * 2 - 1) + "\n"; // 2 * LINE_BYTES bytes
    Deno.writeTextFileSync(path, existing);
    // Room for exactly one more line: the first line fits, the second rolls the file over.
    const written = logNumbered(path, 2, 3 * LINE_BYTES, 2);
    assert.equal(Deno.readTextFileSync(`${path}.1`), `${existing}${written[0]}\n`);
    assert.deepEqual(fileLines(path), [written[1]]);
    assert.ok(!exists(`${path}.2`));
  });
});

Deno.test("rotation: an existing file already at maxBytes rolls over on the first line", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.log");
    const existing = "old\n".repeat(LINE_BYTES);
    Deno.writeTextFileSync(path, existing);
    const written = logNumbered(path, 1, new TextEncoder().encode(existing).length, 2);
    assert.equal(Deno.readTextFileSync(`${path}.1`), existing);
    assert.deepEqual(fileLines(path), written);
  });
});

Deno.test("rotation: RotatingFile writes text exactly and reopens a fresh file after rolling", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "raw.log");
    const file = new RotatingFile(path, 10, 2);
    file.write("12345");
    file.write("67890"); // exactly 10 bytes: fits
    file.write("abc"); // would pass 10: rolls over
    file.write("é"); // 2 bytes in UTF-8
    file.close();
    assert.equal(Deno.readTextFileSync(`${path}.1`), "1234567890");
    assert.equal(Deno.readTextFileSync(path), "abcé");
  });
});

Deno.test("logger: a folder in a rotation slot is refused when the log opens, before any work", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.log");
    Deno.mkdirSync(`${path}.2`);
    let caught: unknown;
    try {
      createLogger({ level: "INFO", file: path, maxBytes: 10, backupCount: 3, console: () => {} });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof UsageError, `expected a UsageError, got ${caught}`);
    assert.ok(caught.message.includes(`${path}.2`), caught.message);
    assert.ok(caught.message.includes("folder"), caught.message);
    assert.ok(!/[\r\n]/.test(caught.message), "one line");
    // A slot beyond backup_count is never renamed into, so it does not matter.
    createLogger({ level: "INFO", file: path, maxBytes: 10, backupCount: 1, console: () => {} }).close();
  });
});

Deno.test("logger: a log file that fails during the run gives one WARNING and logging goes on", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.log");
    const lines: string[] = [];
    const log = createLogger({
      level: "INFO",
      file: path,
      maxBytes: 60,
      backupCount: 1,
      console: (line) => lines.push(line),
    });
    log.info("first line, before the slot is blocked");
    Deno.mkdirSync(`${path}.1`); // appears after the check: the rollover now fails
    Deno.writeTextFileSync(join(`${path}.1`, "keep.txt"), "keep\n");
    for (let i = 0; i < 5; i++) log.info(`line ${i} that would roll the file over`);
    log.close();
    const warnings = lines.filter((line) => / WARNING logging\.file: /.test(line));
    assert.equal(warnings.length, 1, lines.join("\n"));
    assert.ok(warnings[0].includes(path), warnings[0]);
    assert.equal(
      lines.filter((line) => line.includes(" INFO line ")).length,
      5,
      "the console still gets every line",
    );
    assert.equal(Deno.readTextFileSync(join(`${path}.1`, "keep.txt")), "keep\n");
    assert.match(Deno.readTextFileSync(path), /first line/);
  });
});

Deno.test("rotation: concurrent processes sharing one small log lose no line and never crash", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "shared.log");
    const writers = 4, count = 3000, maxBytes = 2000, backups = 100; // 12 bytes a line: ~72 files
    const start = `${Date.now() + 2000}`;
    const fixture = new URL("../helpers/fixtures/log_writer.ts", import.meta.url).pathname;
    const outputs = await Promise.all(
      Array.from({ length: writers }, (_, id) =>
        new Deno.Command("deno", {
          args: [
            "run",
            `--allow-read=${dir}`,
            `--allow-write=${dir}`,
            fixture,
            path,
            `w${id}`,
            `${count}`,
            `${maxBytes}`,
            `${backups}`,
            start,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output()),
    );
    for (const output of outputs) assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const seen = new Map<string, number>();
    for (const entry of Deno.readDirSync(dir)) {
      const text = Deno.readTextFileSync(join(dir, entry.name));
      assert.ok(text === "" || text.endsWith("\n"), `${entry.name} ends with a whole line`);
      for (const line of text.split("\n").filter((line) => line !== "")) {
        seen.set(line, (seen.get(line) ?? 0) + 1);
      }
      assert.ok(new TextEncoder().encode(text).length <= maxBytes, `${entry.name} stays within max_bytes`);
    }
    assert.ok(!exists(`${path}.${backups}`), "enough backups for every line");
    for (let id = 0; id < writers; id++) {
      for (let i = 0; i < count; i++) {
        const line = `w${id} ${String(i).padStart(5, "0")}`;
        assert.equal(seen.get(line), 1, `'${line}' appears exactly once`);
      }
    }
    assert.equal(seen.size, writers * count, "no other lines");
  });
});
