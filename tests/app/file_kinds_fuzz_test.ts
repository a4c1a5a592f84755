/**
 * Seeded property-based fuzzing of file kinds (fast-check, in-process) for every path a program reads
 * or writes: the config (`loadConfig`), `.env` (`parseDotEnv` of `readInputFile`), an output
 * (`checkWritable`, `checkNotOverwriting`, then `writeTextFileAtomic`), the log file (readConfig's
 * overwrite check, then `createLogger`, one line, close), compare's `--out-dir` (the program itself,
 * in-process) and the run folders' parent (`claimRunFolder`). In a fresh temp folder per case the path
 * is made one of: missing, empty, random bytes (invalid UTF-8, NUL, BOM, CRLF), valid text, just over
 * `MAX_INPUT_FILE_BYTES`, an empty or a non-empty folder, a FIFO, the config in use, a symlink to any of
 * these, a dangling symlink, a symlink loop, a symlink to /dev/zero or /dev/null; each as it is, with a
 * trailing slash, or as the parent of the path (`file/x`).
 *
 * Property: the call either succeeds, and then an output holds exactly what was written and nothing in
 * the temp folder but the output (and what it points to) changed; or it throws a UsageError whose
 * message is one line under 600 characters, without control characters, naming the path, and nothing
 * in the temp folder changed. Nothing else may be thrown. A table test then lists every kind × role
 * outcome, accepted or refused: the policy at a glance.
 *
 * A last test gives every role a path whose name holds a newline, an escape sequence or U+2028.
 *
 * Opening a FIFO can block for ever, so the output role on a FIFO runs only in a subprocess that is
 * killed when it hangs; the other roles refuse a FIFO by `stat` before opening anything, in-process.
 * A FIFO is made once per test (with python3) and hard-linked into each case's folder.
 */

import assert from "node:assert/strict";
import { dirname, isAbsolute, join, normalize, relative } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import {
  checkNotOverwriting,
  checkWritable,
  type PathRole,
  writeTextFileAtomic,
} from "../../src/app/atomic_write.ts";
import { loadConfig, parseDotEnv, readInputFile } from "../../src/app/config.ts";
import { MAX_INPUT_FILE_BYTES } from "../../src/app/limits.ts";
import { escapeControl } from "../../src/core/errors.ts";
import { createLogger } from "../../src/app/logger.ts";
import { RotatingFile } from "../../src/app/rotating_file.ts";
import { protectedInputs } from "../../src/app/setup.ts";
import { UsageError } from "../../src/core/errors.ts";
import { claimRunFolder, main as compareMain } from "../../src/programs/compare/main.ts";
import { ROOT } from "../helpers/helpers.ts";

/** The longest error message accepted. */
const MAX_MESSAGE = 600;
const SEED = 42;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A small valid config: the one in use, and the "valid text" kind for the config, output and log. */
const VALID_YAML = "data:\n  random_seed: 7\nmodel:\n  hidden_dim: 4\n";
/** The "valid text" kind for the `.env` role. */
const VALID_ENV = "# the seed\nRANDOM_SEED=7\n";
/** What the output role writes. */
const OUTPUT_JSON = `${JSON.stringify({ accuracy: 0.5, note: "é\u0000" }, null, 2)}\n`;
/** What the log role logs. */
const LOG_LINE = "file kinds: one line";

/** What is at the path before the call (`devZero`, `devNull` and `loop` are symlinks themselves). */
const BASES = [
  "missing",
  "empty",
  "bytes",
  "valid",
  "oversize",
  "folder",
  "fullFolder",
  "fifo",
  "inUse",
  "devZero",
  "devNull",
  "loop",
] as const;
type Base = typeof BASES[number];

/** One path to try: `base` at `name`, reached directly or through a symlink, then `suffix`. */
interface Kind {
  readonly base: Base;
  readonly via: "direct" | "link";
  /** `/` for a trailing slash, `/x` to use the thing as the path's parent. */
  readonly suffix: "" | "/" | "/x";
  /** The contents of a `bytes` file. */
  readonly bytes: Uint8Array;
  readonly name: string;
}

const ROLES = ["config", "env", "output", "log", "outDir", "runsParent"] as const;
type Role = typeof ROLES[number];

type Outcome = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** Fixed paths of one case's temp folder, and the compare program's own config (outside it). */
interface Scene {
  readonly root: string;
  /** The config in use: protected from every output. */
  readonly config: string;
  /** The log in use: protected from `--output`. */
  readonly log: string;
  /** A FIFO to hard-link (cheaper than a python3 per case), or null where none could be made. */
  readonly fifo: string | null;
  /** compare's config: a tiny CPU run logging outside `root`. */
  readonly compareConfig: string;
}

const encode = (text: string) => new TextEncoder().encode(text);
const concat = (parts: readonly Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/** The `bytes` kind of the table: a BOM, CRLF, a NUL and bytes that are not UTF-8. */
const TABLE_BYTES = concat([
  Uint8Array.of(0xef, 0xbb, 0xbf),
  encode("data:\r\n  random_seed: 1\r\n"),
  Uint8Array.of(0, 0xff, 0xfe, 0xc3, 0x28, 0x0a),
]);

// ---------------------------------------------------------------------------------------------
// Building a kind, and looking at the folder

/** Makes a FIFO at `path` with python3 (the tests may run only deno and python3); false when it cannot. */
async function mkfifo(path: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("python3", {
      args: ["-c", "import os,sys; os.mkfifo(sys.argv[1])", path],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** Creates `kind` in `scene.root`; returns the path to give the role. */
function build(scene: Scene, kind: Kind, role: Role): string {
  const { root } = scene;
  Deno.mkdirSync(dirname(scene.config), { recursive: true });
  Deno.writeTextFileSync(scene.config, VALID_YAML);
  Deno.writeTextFileSync(scene.log, "2026-01-01T00:00:00.000Z INFO an earlier run\n");
  Deno.writeTextFileSync(join(root, "bystander.txt"), "not to be touched\n");
  let entry = join(root, kind.name);
  switch (kind.base) {
    case "missing":
      break;
    case "empty":
      Deno.writeFileSync(entry, new Uint8Array());
      break;
    case "bytes":
      Deno.writeFileSync(entry, kind.bytes);
      break;
    case "valid":
      Deno.writeTextFileSync(entry, role === "env" ? VALID_ENV : VALID_YAML);
      break;
    case "oversize":
      Deno.writeFileSync(entry, encode("data:\n"));
      Deno.truncateSync(entry, MAX_INPUT_FILE_BYTES + 1);
      break;
    case "folder":
      Deno.mkdirSync(entry);
      break;
    case "fullFolder":
      Deno.mkdirSync(entry);
      Deno.writeTextFileSync(join(entry, "inside.txt"), "from another run\n");
      break;
    case "fifo":
      assert.ok(scene.fifo !== null, "no FIFO to link");
      Deno.linkSync(scene.fifo, entry);
      break;
    case "inUse":
      entry = scene.config;
      break;
    case "devZero":
      Deno.symlinkSync("/dev/zero", entry);
      break;
    case "devNull":
      Deno.symlinkSync("/dev/null", entry);
      break;
    case "loop":
      Deno.symlinkSync(`${kind.name}-b`, entry);
      Deno.symlinkSync(kind.name, `${entry}-b`);
      break;
  }
  let path = entry;
  if (kind.via === "link") {
    path = join(root, `link-${kind.name}`);
    Deno.symlinkSync(relative(root, entry), path);
  }
  return path + kind.suffix;
}

type Entry =
  | { readonly type: "file"; readonly bytes: Uint8Array }
  | { readonly type: "dir" }
  | { readonly type: "link"; readonly target: string }
  | { readonly type: "other" };

/** Every entry under `root` by relative path, without following symlinks or opening anything else. */
function snapshot(root: string, rel = "", into = new Map<string, Entry>()): Map<string, Entry> {
  for (const item of Deno.readDirSync(join(root, rel))) {
    const path = rel === "" ? item.name : `${rel}/${item.name}`;
    const full = join(root, path);
    if (item.isSymlink) {
      into.set(path, { type: "link", target: Deno.readLinkSync(full) });
    } else if (item.isDirectory) {
      into.set(path, { type: "dir" });
      snapshot(root, path, into);
    } else if (item.isFile) {
      into.set(path, { type: "file", bytes: Deno.readFileSync(full) });
    } else {
      into.set(path, { type: "other" }); // a FIFO: never opened
    }
  }
  return into;
}

function sameEntry(a: Entry | undefined, b: Entry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.type !== b.type) return false;
  if (a.type === "link") return a.target === (b as typeof a).target;
  if (a.type !== "file") return true;
  const other = (b as typeof a).bytes;
  return a.bytes.length === other.length && a.bytes.every((byte, i) => byte === other[i]);
}

/** The relative paths whose entries differ between two snapshots. */
function changes(before: Map<string, Entry>, after: Map<string, Entry>): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((path) => !sameEntry(before.get(path), after.get(path))).sort();
}

/** Where `rel` leads inside `root` once symlinks are followed; null when it leaves `root` or loops. */
function resolveInside(root: string, rel: string, hops = 0): string | null {
  const parts = rel.split("/").filter((part) => part !== "");
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join("/");
    let target: string;
    try {
      target = Deno.readLinkSync(join(root, prefix));
    } catch {
      continue; // not a link
    }
    if (hops >= 8) return null;
    const joined = isAbsolute(target) ? relative(root, target) : normalize(join(dirname(prefix), target));
    if (joined.startsWith("..") || isAbsolute(joined)) return null;
    return resolveInside(root, [joined, ...parts.slice(i)].join("/"), hops + 1);
  }
  return parts.join("/");
}

/** The relative paths an output at `path` may change (with everything under them). */
function mayChange(root: string, path: string, role: Role): string[] {
  if (role === "config" || role === "env") return [];
  const rel = relative(root, path).replace(/\/+$/, "");
  const paths = [rel, resolveInside(root, rel)].filter((p): p is string => p !== null);
  if (role === "log") paths.push(...RotatingFile.rotationSlots(rel, 1));
  return paths;
}

/** Asserts that only `allowed` (what is under them, and new folders above them) changed. */
function assertOnlyChanged(before: Map<string, Entry>, after: Map<string, Entry>, allowed: string[]) {
  for (const path of changes(before, after)) {
    const inside = allowed.some((a) => path === a || path.startsWith(`${a}/`));
    const newParent = before.get(path) === undefined && after.get(path)?.type === "dir" &&
      allowed.some((a) => a.startsWith(`${path}/`));
    assert.ok(inside || newParent, `${path} changed; only ${allowed.join(", ") || "nothing"} may`);
  }
}

/** A refusal's message: one line, short, clean, naming the path. */
function assertCleanRefusal(message: string, path: string): void {
  assert.ok(
    message.length < MAX_MESSAGE,
    `message of ${message.length} characters: ${message.slice(0, 200)}`,
  );
  assert.doesNotMatch(message, CONTROL, JSON.stringify(message));
  const named = message.includes(path) || message.includes(escapeControl(path));
  assert.ok(named, `message does not name ${JSON.stringify(path)}: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// The roles

/** Runs `fn`: its UsageError is a refusal, anything else thrown fails the test. */
async function refusal(fn: () => unknown): Promise<Outcome> {
  try {
    await fn();
    return { ok: true };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return { ok: false, message: error.message };
  }
}

/** compare with `--out-dir path`, in-process and silent; its exit code 2 is a refusal. */
async function compareOutDir(scene: Scene, path: string): Promise<Outcome> {
  const errors: string[] = [];
  const saved = { log: console.log, error: console.error, write: Deno.stderr.writeSync, cwd: Deno.cwd() };
  const savedEnv = { RANDOM_SEED: Deno.env.get("RANDOM_SEED"), INIT_CWD: Deno.env.get("INIT_CWD") };
  console.log = () => {};
  console.error = (...args: unknown[]) => void errors.push(args.join(" "));
  Deno.stderr.writeSync = (bytes: Uint8Array) => bytes.length; // the progress report
  Deno.env.set("RANDOM_SEED", "7"); // neither the caller's seed nor ./.env
  Deno.env.delete("INIT_CWD"); // set by deno task: the program would enter it
  let code: number;
  try {
    code = await compareMain(["--config", scene.compareConfig, "--seeds", "1", "--out-dir", path]);
  } finally {
    Object.assign(console, { log: saved.log, error: saved.error });
    Deno.stderr.writeSync = saved.write;
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
    Deno.chdir(saved.cwd);
  }
  if (code === 0) {
    JSON.parse(Deno.readTextFileSync(join(path, "results.json")));
    return { ok: true };
  }
  const lines = errors.filter((line) => line.startsWith("error: "));
  assert.equal(code, 2, `compare exited ${code}: ${errors.join("\n")}`);
  assert.equal(lines.length, 1, errors.join("\n"));
  return { ok: false, message: lines[0].slice("error: ".length) };
}

/** What the output role protects: the config in use, `.env`, the project's files, the log in use. */
function outputInputs(scene: Scene): PathRole[] {
  return [...protectedInputs(scene.config), { role: "the log file (logging.file)", path: scene.log }];
}

/** Runs `role` on `path`; checks what a success must have done. */
function perform(scene: Scene, role: Role, path: string): Promise<Outcome> {
  switch (role) {
    case "config":
      return refusal(() => loadConfig(path, {}));
    case "env":
      return refusal(() => parseDotEnv(readInputFile(path, ".env", "fix or remove .env"), path));
    case "output":
      return refusal(() => {
        checkWritable(path, "--output");
        checkNotOverwriting(path, "--output", outputInputs(scene));
        writeTextFileAtomic(path, OUTPUT_JSON, "--output");
        assert.equal(Deno.readTextFileSync(path), OUTPUT_JSON, "the output holds what was written");
      });
    case "log":
      return refusal(() => {
        const inputs = protectedInputs(scene.config);
        for (const p of [path, ...RotatingFile.rotationSlots(path, 1)]) {
          checkNotOverwriting(p, "logging.file", inputs);
        }
        const lines: string[] = [];
        const log = createLogger({
          level: "INFO",
          file: path,
          maxBytes: MAX_INPUT_FILE_BYTES,
          backupCount: 1,
          console: (line) => lines.push(line),
        });
        try {
          log.info(LOG_LINE);
        } finally {
          log.close();
        }
        assert.deepEqual(lines.filter((line) => !line.endsWith(` INFO ${LOG_LINE}`)), [], "no warning");
        assert.ok(Deno.readTextFileSync(path).endsWith(` INFO ${LOG_LINE}\n`), "the log ends with the line");
      });
    case "outDir":
      return compareOutDir(scene, path);
    case "runsParent":
      return refusal(() => {
        const folder = claimRunFolder(new Date(0), path);
        assert.ok(Deno.statSync(folder).isDirectory, `${folder} is a folder`);
      });
  }
}

/** The child of {@linkcode outputInSubprocess}: the output role on `Deno.args`, its outcome as JSON. */
const OUTPUT_CHILD = `
import { checkNotOverwriting, checkWritable, writeTextFileAtomic } from "${
  pathToFileURL(join(ROOT, "src/app/atomic_write.ts")).href
}";
import { UsageError } from "${pathToFileURL(join(ROOT, "src/core/errors.ts")).href}";
const [path, text, inputs] = Deno.args;
console.log("calling");
try {
  checkWritable(path, "--output");
  checkNotOverwriting(path, "--output", JSON.parse(inputs));
  writeTextFileAtomic(path, text, "--output");
  console.log(JSON.stringify({ ok: true }));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.log(JSON.stringify({ ok: false, message: error.message }));
}
`;

/** How long the subprocess may take to start, and then the call to return, before it counts as a hang. */
const STARTUP_MS = 60_000;
const HANG_MS = 2_000;

/** The output role in a subprocess, killed when the call has not returned after {@linkcode HANG_MS}. */
async function outputInSubprocess(scene: Scene, path: string): Promise<Outcome | "hang"> {
  const inputs = JSON.stringify(outputInputs(scene));
  const child = new Deno.Command("deno", {
    args: ["eval", "--config", join(ROOT, "deno.json"), OUTPUT_CHILD, path, OUTPUT_JSON, inputs],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = (ms: number) => {
    clearTimeout(timer);
    return new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms));
  };
  let text = "";
  let calling = false;
  let expired = false;
  try {
    let deadline = expiry(STARTUP_MS);
    for (;;) {
      if (!calling && text.includes("calling\n")) {
        calling = true;
        deadline = expiry(HANG_MS);
      }
      const chunk = await Promise.race([lines.read(), deadline]);
      if (chunk === null) {
        expired = true;
        child.kill("SIGKILL");
        break;
      }
      if (chunk.done) break;
      text += chunk.value;
    }
  } finally {
    clearTimeout(timer);
    await lines.cancel();
  }
  const status = await child.status;
  const errors = await stderr;
  assert.ok(calling, `the subprocess did not start: ${text}${errors}`);
  if (expired) return "hang";
  assert.ok(status.success, `the subprocess failed: ${errors}`);
  const answer = text.split("\n").filter((line) => line.startsWith("{"));
  assert.equal(answer.length, 1, text + errors);
  return JSON.parse(answer[0]) as Outcome;
}

// ---------------------------------------------------------------------------------------------
// One case, and the folders every case shares

/** What every case of a test shares: a FIFO to hard-link and compare's config. */
interface Shared {
  readonly folder: string;
  readonly fifo: string | null;
  readonly compareConfig: string;
}

async function withShared(fn: (shared: Shared) => Promise<void>): Promise<void> {
  const folder = await Deno.makeTempDir({ prefix: "file_kinds_shared_" });
  try {
    const fifo = join(folder, "fifo");
    const compareConfig = join(folder, "compare.yaml");
    Deno.writeTextFileSync(
      compareConfig,
      `logging: {file: ${JSON.stringify(join(folder, "compare.log"))}}\n` +
        "data: {base_n_samples: 20, target_n_samples: 20, n_features: 2}\nmodel: {hidden_dim: 2}\n" +
        "training: {base_epochs: 1, target_epochs: 1}\nengine: {device: cpu, cpu_kernels: ts}\n",
    );
    await fn({ folder, fifo: await mkfifo(fifo) ? fifo : null, compareConfig });
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

/** Builds `kind` in a fresh temp folder, runs `role` on it and checks the property; the outcome. */
async function runCase(shared: Shared, kind: Kind, role: Role): Promise<Outcome | "hang"> {
  const root = await Deno.makeTempDir({ prefix: "file_kinds_" });
  try {
    const scene: Scene = {
      root,
      config: join(root, "in-use", "config.yaml"),
      log: join(root, "in-use", "app.log"),
      fifo: shared.fifo,
      compareConfig: shared.compareConfig,
    };
    const path = build(scene, kind, role);
    const context = `${JSON.stringify({ ...kind, bytes: [...kind.bytes] })} as ${role}: ${path}`;
    const allowed = mayChange(root, path, role);
    const before = snapshot(root);
    const outcome = role === "output" && kind.base === "fifo" && kind.suffix === ""
      ? await outputInSubprocess(scene, path)
      : await perform(scene, role, path);
    const after = snapshot(root);
    if (outcome === "hang" || !outcome.ok) {
      if (outcome !== "hang") assertCleanRefusal(outcome.message, path);
      assert.deepEqual(changes(before, after), [], `${context}: refused, yet the folder changed`);
    } else {
      assertOnlyChanged(before, after, allowed);
    }
    return outcome;
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The fuzzer

/** File contents: raw bytes mixed with BOMs, CRLFs, NULs, invalid UTF-8 and bits of configs and .env. */
const contents = fc.array(
  fc.oneof(
    fc.uint8Array({ maxLength: 24 }),
    fc.constantFrom(
      ...[
        "\uFEFF",
        "\r\n",
        "\n",
        "\u0000",
        "RANDOM_SEED=3",
        "data:",
        "  random_seed: 5",
        "#",
        "'",
        ": ",
        "- ",
      ]
        .map(encode),
      Uint8Array.of(0xff),
      Uint8Array.of(0xc3),
      Uint8Array.of(0xed, 0xa0, 0x80),
    ),
  ),
  { maxLength: 8 },
).map(concat);

const NAMES = ["target", "with space", "ünïcødé", "-dash", "x.yaml", ".hidden"];

const kinds: fc.Arbitrary<Kind> = fc.record({
  base: fc.constantFrom(...BASES),
  via: fc.constantFrom("direct" as const, "link" as const),
  suffix: fc.constantFrom("" as const, "" as const, "/" as const, "/x" as const),
  bytes: contents,
  name: fc.constantFrom(...NAMES),
});

Deno.test("fuzz: every file kind in every role is used as asked, or refused in one clean line changing nothing", async () => {
  await withShared(async (shared) => {
    const cases = fc.tuple(kinds, fc.constantFrom(...ROLES)).filter(([kind, role]) =>
      kind.base !== "fifo" || (shared.fifo !== null && !(role === "output" && kind.suffix === ""))
    ); // the output role on a FIFO may hang: the table test runs it in a subprocess
    await fc.assert(
      fc.asyncProperty(cases, async ([kind, role]) => void await runCase(shared, kind, role)),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The policy table

/** The table's roles, in its column order. */
const COLUMNS = "config  env  output  log  outDir  runsParent";

/**
 * Every kind × role outcome a demanding user expects, in {@linkcode COLUMNS} order: `ok` accepted,
 * `no` refused with one clean line (a hang counts as neither). `link →` is a relative symlink.
 */
const POLICY: readonly (readonly [label: string, kind: Partial<Kind>, outcomes: string])[] = [
  // outcomes:                                                   config env output log outDir runsParent
  ["missing", { base: "missing" }, "no no ok ok ok ok"],
  ["missing/x (no parent folder)", { base: "missing", suffix: "/x" }, "no no no ok ok ok"],
  ["missing/ (trailing slash)", { base: "missing", suffix: "/" }, "no no no no ok ok"],
  ["empty file", { base: "empty" }, "ok ok ok ok no no"],
  ["bytes: BOM, CRLF, NUL, not UTF-8", { base: "bytes" }, "no no ok ok no no"],
  ["valid text (YAML; KEY=value for .env)", { base: "valid" }, "ok ok ok ok no no"],
  ["one byte over MAX_INPUT_FILE_BYTES", { base: "oversize" }, "no no ok ok no no"],
  ["empty folder", { base: "folder" }, "no no no no ok ok"],
  ["non-empty folder", { base: "fullFolder" }, "no no no no no ok"],
  ["FIFO", { base: "fifo" }, "no no no no no no"],
  ["the config in use", { base: "inUse" }, "ok no no no no no"],
  ["link → valid text", { base: "valid", via: "link" }, "ok ok ok ok no no"],
  ["link → over the size cap", { base: "oversize", via: "link" }, "no no ok ok no no"],
  ["link → empty folder", { base: "folder", via: "link" }, "no no no no ok ok"],
  ["link → non-empty folder", { base: "fullFolder", via: "link" }, "no no no no no ok"],
  ["link → FIFO", { base: "fifo", via: "link" }, "no no no no no no"],
  ["link → the config in use", { base: "inUse", via: "link" }, "ok no no no no no"],
  ["dangling link", { base: "missing", via: "link" }, "no no ok no no no"],
  ["link loop a → b → a", { base: "loop" }, "no no ok no no no"],
  ["link → /dev/zero", { base: "devZero" }, "no no no no no no"],
  ["link → /dev/null", { base: "devNull" }, "no no no no no no"],
  ["file/x (parent is a file)", { base: "valid", suffix: "/x" }, "no no no no no no"],
  ["file/ (trailing slash)", { base: "valid", suffix: "/" }, "no no no no no no"],
  ["folder/ (trailing slash)", { base: "folder", suffix: "/" }, "no no no no ok ok"],
  ["folder/x (a new file in a folder)", { base: "folder", suffix: "/x" }, "no no ok ok ok ok"],
];

Deno.test("file kinds: the policy table of every kind × role holds", async () => {
  await withShared(async (shared) => {
    const roles = COLUMNS.split(/\s+/) as Role[];
    assert.deepEqual(roles, [...ROLES]);
    const rows: string[] = [];
    const wrong: string[] = [];
    for (const [label, partial, outcomes] of POLICY) {
      const kind: Kind = {
        base: "missing",
        via: "direct",
        suffix: "",
        bytes: TABLE_BYTES,
        name: "it",
        ...partial,
      };
      const expected = outcomes.split(" ");
      const actual: string[] = [];
      for (const [i, role] of roles.entries()) {
        const outcome = kind.base === "fifo" && shared.fifo === null
          ? expected[i] // no python3: nothing to test with
          : await runCase(shared, kind, role);
        const got = typeof outcome === "string" ? outcome : outcome.ok ? "ok" : "no";
        actual.push(got);
        if (got !== expected[i]) wrong.push(`${label} × ${role}: expected ${expected[i]}, got ${got}`);
      }
      rows.push(`${label.padEnd(40)} ${actual.map((a) => a.padEnd(6)).join(" ")}`);
    }
    const table = `${"".padEnd(40)} ${roles.map((r) => r.padEnd(6)).join(" ")}\n${rows.join("\n")}`;
    assert.deepEqual(wrong, [], `outcomes against the policy:\n${table}`);
  });
});

/** Path names a one-line message must escape: a newline, a terminal escape, a line separator. */
const HOSTILE_NAMES = ["new\nline", "esc\u001b[2Jred", "sep\u2028arator"];

Deno.test("file kinds: a refused path with control characters in its name is quoted on one clean line", async () => {
  await withShared(async (shared) => {
    const unclean = new Map<Role, string>();
    for (const name of HOSTILE_NAMES) {
      for (const role of ROLES) {
        const base = role === "outDir" || role === "runsParent" ? "valid" : "folder";
        const kind: Kind = { base, via: "direct", suffix: "", bytes: TABLE_BYTES, name };
        try {
          const outcome = await runCase(shared, kind, role);
          assert.ok(
            outcome !== "hang" && !outcome.ok,
            `${role} took a ${base} named ${JSON.stringify(name)}`,
          );
        } catch (error) {
          if (!(error instanceof assert.AssertionError)) throw error;
          unclean.set(role, error.message.split("\n")[0]);
        }
      }
    }
    const found = ROLES.filter((role) => unclean.has(role));
    assert.deepEqual(found, [], [...unclean].map(([role, why]) => `${role}: ${why}`).join("\n"));
  });
});
