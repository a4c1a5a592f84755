/**
 * Tests for src/config.ts: defaults, the shipped config.yaml, validation errors (one line, naming the
 * key path), YAML syntax error positions, and RANDOM_SEED.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Config,
  defaultConfig,
  loadConfig,
  parseConfig,
  parseDotEnv,
  parseSeed,
} from "../../src/app/config.ts";
import {
  estimateRunBytes,
  estimateRunWork,
  MAX_INPUT_FILE_BYTES,
  MAX_RUN_BYTES,
  MAX_RUN_MULTIPLY_ADDS,
  MAX_RUN_STEPS,
} from "../../src/app/limits.ts";
import { UsageError } from "../../src/core/errors.ts";
import { DOCUMENTED_OPTIMIZER_DEFAULTS } from "../helpers/helpers.ts";

const SHIPPED_CONFIG = fileURLToPath(new URL("../../config.yaml", import.meta.url));

/** The documented defaults, written out independently of src/config.ts. */
function documentedDefaults(): Config {
  return {
    logging: { level: "INFO", file: "logs/app.log", max_bytes: 1048576, backup_count: 3 },
    data: {
      base_n_samples: 2000,
      target_n_samples: 800,
      n_features: 20,
      n_classes: 3,
      target_n_classes: null,
      random_seed: 42,
      test_fraction: 0.2,
      relatedness: 0.9,
      validation_fraction: 0.2,
      shift: "mixed",
      task: "synthetic",
      standardize: null,
      source: null,
      target: null,
    },
    model: { hidden_dim: 32, hidden_dims: null },
    engine: { device: "auto", cpu_kernels: "auto", threads: "auto" },
    training: {
      base_epochs: 20,
      target_epochs: 20,
      learning_rate_base: 0.05,
      learning_rate_target: 0.02,
      batch_size: 32,
      target_steps: null,
      early_stopping_patience: null,
      head_finetune_base_lr_scale: 0.1,
      ...DOCUMENTED_OPTIMIZER_DEFAULTS,
    },
    recipes: {},
  };
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
async function withTempDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "config_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts that `fn` throws a one-line UsageError whose message contains every string in `parts`. */
function assertUsageError(fn: () => unknown, parts: string[], label = parts.join(" ")): UsageError {
  let caught: unknown = undefined;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `${label}: expected a UsageError, nothing was thrown`);
  assert.ok(
    caught instanceof UsageError,
    `${label}: expected a UsageError, got ${
      caught instanceof Error ? `${caught.name}: ${caught.message}` : caught
    }`,
  );
  assert.ok(
    !/[\r\n]/.test(caught.message),
    `${label}: message is not one line: ${JSON.stringify(caught.message)}`,
  );
  for (const part of parts) {
    assert.ok(
      caught.message.includes(part),
      `${label}: message ${JSON.stringify(caught.message)} lacks '${part}'`,
    );
  }
  return caught;
}

/** Asserts that config `text` is rejected with a one-line UsageError naming the file and `keyPath`. */
function assertRejected(text: string, keyPath: string): UsageError {
  return assertUsageError(() => parseConfig(text, "cfg.yaml"), ["cfg.yaml", keyPath], JSON.stringify(text));
}

Deno.test("config: defaultConfig() is the documented defaults", () => {
  assert.deepEqual(defaultConfig(), documentedDefaults());
});

Deno.test("config: an empty document (---, null) gives the documented defaults", () => {
  assert.deepEqual(parseConfig("---\n", "empty.yaml"), documentedDefaults());
  assert.deepEqual(parseConfig("null\n", "empty.yaml"), documentedDefaults());
});

Deno.test("config: an empty file gives the documented defaults", async () => {
  assert.deepEqual(parseConfig("", "empty.yaml"), documentedDefaults());
  assert.deepEqual(parseConfig("\n\n", "empty.yaml"), documentedDefaults());
  await withTempDir((dir) => {
    const path = join(dir, "empty.yaml");
    Deno.writeTextFileSync(path, "");
    assert.deepEqual(loadConfig(path, {}), documentedDefaults());
  });
});

Deno.test("config: a file of comments only gives the documented defaults", () => {
  assert.deepEqual(parseConfig("# only a comment\n# and another\n", "comments.yaml"), documentedDefaults());
});

Deno.test("config: defaultConfig returns an independent copy each time", () => {
  const first = defaultConfig();
  first.data.n_classes = 99;
  first.model.hidden_dims = [1];
  assert.deepEqual(defaultConfig(), documentedDefaults());
});

Deno.test("config: the shipped config.yaml parses to exactly the defaults", () => {
  assert.deepEqual(loadConfig(SHIPPED_CONFIG, {}), documentedDefaults());
});

Deno.test("config: a partial file keeps the defaults for missing keys", () => {
  const text = [
    "data:",
    "  n_classes: 5",
    "  relatedness: 0.25",
    "training:",
    "  batch_size: 8",
    "model:",
    "  hidden_dims: [64, 16]",
    "",
  ].join("\n");
  const expected = documentedDefaults();
  expected.data.n_classes = 5;
  expected.data.relatedness = 0.25;
  expected.training.batch_size = 8;
  expected.model.hidden_dims = [64, 16];
  assert.deepEqual(parseConfig(text, "partial.yaml"), expected);
});

Deno.test("config: valid boundary values are accepted", () => {
  const text = [
    "logging:",
    "  level: DEBUG",
    "  backup_count: 0",
    "  max_bytes: 1",
    "data:",
    "  base_n_samples: 3",
    "  target_n_samples: 3",
    "  test_fraction: 0.34",
    "  validation_fraction: 0.5",
    "  shift: input",
    "  random_seed: 4294967295",
    "  relatedness: 0",
    "  target_n_classes: 2",
    "  n_classes: 2",
    "training:",
    "  base_epochs: 0",
    "  target_epochs: 0",
    "  head_finetune_base_lr_scale: 0",
    "",
  ].join("\n");
  const config = parseConfig(text, "edge.yaml");
  assert.equal(config.logging.level, "DEBUG");
  assert.equal(config.logging.backup_count, 0);
  assert.equal(config.data.random_seed, 4294967295);
  assert.equal(config.data.relatedness, 0);
  assert.equal(config.data.target_n_classes, 2);
  assert.equal(config.training.base_epochs, 0);
  assert.equal(parseConfig("data:\n  relatedness: 1\n  random_seed: 0\n", "x").data.relatedness, 1);
  assert.equal(parseConfig("data:\n  random_seed: 0\n", "x").data.random_seed, 0);
});

Deno.test("config: a YAML syntax error names file:line:column of the problem", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "broken.yaml");
    // A duplicated key on line 5, starting at column 3.
    Deno.writeTextFileSync(path, "# comment\n# comment\nlogging:\n  level: INFO\n  level: DEBUG\n");
    const error = assertUsageError(() => loadConfig(path, {}), [`${path}:5:3`, "YAML"]);
    assert.match(error.message, /duplicated mapping key/);
  });
  // Same error deeper in: line 3, column 5.
  assertUsageError(
    () => parseConfig("data:\n    n_classes: 3\n    n_classes: 4\n", "deep.yaml"),
    ["deep.yaml:3:5"],
  );
  // A tab used for indentation on line 2, column 1.
  assertUsageError(() => parseConfig("data:\n\tn_classes: 3\n", "tab.yaml"), ["tab.yaml:2:1"]);
});

Deno.test("config: an unknown section is rejected, naming it", () => {
  const error = assertRejected("dataa:\n  n_classes: 3\n", "dataa");
  // It lists the known sections, so the user can fix the typo.
  for (const section of ["logging", "data", "model", "engine", "training"]) {
    assert.ok(error.message.includes(section), `${error.message} lists ${section}`);
  }
});

Deno.test("config: an unknown key is rejected, naming its key path", () => {
  const error = assertRejected("data:\n  n_clases: 3\n", "data.n_clases");
  assert.ok(error.message.includes("n_classes"), "the known keys are listed");
  assertRejected("training:\n  learning_rate: 0.1\n", "training.learning_rate");
  assertRejected("model:\n  hidden: 4\n", "model.hidden");
});

Deno.test("config: a section left empty keeps its defaults", () => {
  const expected = documentedDefaults();
  expected.training.batch_size = 4;
  assert.deepEqual(
    parseConfig("data:\n  # all commented out\ntraining:\n  batch_size: 4\n", "x.yaml"),
    expected,
  );
});

Deno.test("config: a file holding two YAML documents is rejected", () => {
  assertUsageError(() => parseConfig("data:\n  n_classes: 3\n---\ndata:\n  n_classes: 4\n", "two.yaml"), [
    "two.yaml",
  ]);
});

Deno.test("config: a top level or section that is not a mapping is rejected", () => {
  assertUsageError(() => parseConfig("- a\n- b\n", "list.yaml"), ["list.yaml", "top level"]);
  assertUsageError(() => parseConfig("just a string\n", "scalar.yaml"), ["scalar.yaml"]);
  assertRejected("data: 5\n", "data");
  assertRejected("training: [1, 2]\n", "training");
});

Deno.test("config: a value of the wrong type is rejected, naming its key path", () => {
  assertRejected('data:\n  base_n_samples: "300"\n', "data.base_n_samples");
  assertRejected("data:\n  n_classes: three\n", "data.n_classes");
  assertRejected("training:\n  batch_size: true\n", "training.batch_size");
  assertRejected('training:\n  learning_rate_base: "0.1"\n', "training.learning_rate_base");
  assertRejected("logging:\n  level: info\n", "logging.level");
  assertRejected("logging:\n  level: VERBOSE\n", "logging.level");
  assertRejected('logging:\n  file: "  "\n', "logging.file");
  assertRejected("logging:\n  file: 5\n", "logging.file");
  assertRejected("data:\n  relatedness: high\n", "data.relatedness");
});

Deno.test("config: n_classes below 2 and batch_size below 1 are rejected", () => {
  assertRejected("data:\n  n_classes: 1\n", "data.n_classes");
  assertRejected("data:\n  n_classes: 0\n", "data.n_classes");
  assertRejected("data:\n  target_n_classes: 1\n", "data.target_n_classes");
  assertRejected("training:\n  batch_size: 0\n", "training.batch_size");
  assertRejected("training:\n  batch_size: -4\n", "training.batch_size");
  assertRejected("training:\n  batch_size: 2.5\n", "training.batch_size");
});

Deno.test("config: learning rates must be positive and finite (0, negative, .inf, .nan rejected)", () => {
  for (const key of ["learning_rate_base", "learning_rate_target"]) {
    for (const value of ["0", "-0.01", ".inf", "-.inf", ".nan"]) {
      assertRejected(`training:\n  ${key}: ${value}\n`, `training.${key}`);
    }
  }
  assertRejected("training:\n  head_finetune_base_lr_scale: -0.1\n", "training.head_finetune_base_lr_scale");
  assertRejected("training:\n  head_finetune_base_lr_scale: .inf\n", "training.head_finetune_base_lr_scale");
});

Deno.test("config: other integer ranges are enforced", () => {
  assertRejected("data:\n  n_features: 0\n", "data.n_features");
  assertRejected("model:\n  hidden_dim: 0\n", "model.hidden_dim");
  assertRejected("training:\n  base_epochs: -1\n", "training.base_epochs");
  assertRejected("training:\n  target_epochs: 1.5\n", "training.target_epochs");
  assertRejected("logging:\n  max_bytes: 0\n", "logging.max_bytes");
  assertRejected("logging:\n  backup_count: -1\n", "logging.backup_count");
  assertRejected("logging:\n  backup_count: 1000000\n", "logging.backup_count"); // each slot is checked up front
  assertRejected("data:\n  base_n_samples: 1\n", "data.base_n_samples");
});

Deno.test("config: sample counts too small to split are rejected", () => {
  // 4 samples x 0.1 rounds to 0 test samples.
  assertRejected("data:\n  base_n_samples: 4\n  test_fraction: 0.1\n", "data.base_n_samples");
  // 3 samples x 0.9 rounds to 3 test samples, leaving no training samples.
  assertRejected("data:\n  target_n_samples: 3\n  test_fraction: 0.9\n", "data.target_n_samples");
  // The default fractions (0.2, then 0.2 of the rest) with 4 samples: 1 test, 1 validation, 2 training...
  parseConfig("data:\n  target_n_samples: 4\n", "cfg.yaml");
  // ... but with 3 samples round(2 x 0.2) = 0 validation samples.
  assertRejected("data:\n  target_n_samples: 3\n", "data.target_n_samples");
  const error = assertRejected(
    "data:\n  base_n_samples: 10\n  validation_fraction: 0.01\n",
    "data.validation_fraction",
  );
  assert.ok(error.message.includes("0 validation"), error.message);
  assert.ok(!error.message.includes("data.target_n_samples"), "it blames the base set, not the target set");
});

Deno.test("config: random_seed must be an integer from 0 to 2^32-1", () => {
  assertRejected("data:\n  random_seed: 1.5\n", "data.random_seed");
  assertRejected("data:\n  random_seed: -1\n", "data.random_seed");
  assertRejected("data:\n  random_seed: 4294967296\n", "data.random_seed");
  assertRejected('data:\n  random_seed: "7"\n', "data.random_seed");
});

Deno.test("config: engine.device accepts auto, gpu and cpu only", () => {
  for (const device of ["auto", "gpu", "cpu"] as const) {
    assert.equal(parseConfig(`engine:\n  device: ${device}\n`, "x").engine.device, device);
  }
  assertRejected("engine:\n  device: tpu\n", "engine.device");
  assertRejected("engine:\n  device: CPU\n", "engine.device");
  assertRejected("engine:\n  devices: cpu\n", "engine.devices");
});

Deno.test("config: engine.cpu_kernels accepts auto, wasm and ts only", () => {
  for (const kernels of ["auto", "wasm", "ts"] as const) {
    assert.equal(parseConfig(`engine:\n  cpu_kernels: ${kernels}\n`, "x").engine.cpu_kernels, kernels);
  }
  assertRejected("engine:\n  cpu_kernels: simd\n", "engine.cpu_kernels");
});

Deno.test("config: engine.threads accepts auto or a whole number from 1 to 64", () => {
  for (const threads of ["auto", 1, 2, 64] as const) {
    assert.equal(parseConfig(`engine:\n  threads: ${threads}\n`, "x").engine.threads, threads);
  }
  for (const bad of ["0", "65", "1.5", "two", "-1", "null"]) {
    assertRejected(`engine:\n  threads: ${bad}\n`, "engine.threads");
  }
});

Deno.test("config: hidden_dims must be null or a non-empty list of integers >= 1", () => {
  assertRejected("model:\n  hidden_dims: []\n", "model.hidden_dims");
  assertRejected("model:\n  hidden_dims: [64, 1.5]\n", "model.hidden_dims");
  assertRejected("model:\n  hidden_dims: [0]\n", "model.hidden_dims");
  assertRejected('model:\n  hidden_dims: ["64"]\n', "model.hidden_dims");
  assertRejected("model:\n  hidden_dims: 64\n", "model.hidden_dims");
  assert.deepEqual(parseConfig("model:\n  hidden_dims: [64, 64]\n", "x").model.hidden_dims, [64, 64]);
  assert.equal(parseConfig("model:\n  hidden_dims: null\n", "x").model.hidden_dims, null);
});

Deno.test("config: test_fraction must be strictly between 0 and 1; relatedness from 0 to 1", () => {
  assertRejected("data:\n  test_fraction: 0\n", "data.test_fraction");
  assertRejected("data:\n  test_fraction: 1\n", "data.test_fraction");
  assertRejected("data:\n  test_fraction: .nan\n", "data.test_fraction");
  assertRejected("data:\n  relatedness: 1.5\n", "data.relatedness");
  assertRejected("data:\n  relatedness: -0.1\n", "data.relatedness");
});

Deno.test("config: the error for .inf/.nan reports the value given, not null", () => {
  // JSON.stringify(Infinity) and JSON.stringify(NaN) are "null": a message saying "got null" for
  // `learning_rate_base: .inf` misdescribes what the user wrote.
  const inf = assertRejected("training:\n  learning_rate_base: .inf\n", "training.learning_rate_base");
  assert.ok(!inf.message.endsWith("got null"), `message: ${inf.message}`);
  const nan = assertRejected("data:\n  relatedness: .nan\n", "data.relatedness");
  assert.ok(!nan.message.endsWith("got null"), `message: ${nan.message}`);
});

Deno.test("config: keys named like Object.prototype members are unknown keys, not crashes", () => {
  // SCHEMA lookups use plain objects, so `constructor`, `toString`, ... resolve to inherited members.
  assertRejected("data:\n  constructor: 1\n", "data.constructor");
  assertRejected("training:\n  toString: 3\n", "training.toString");
  assertRejected("model:\n  hasOwnProperty: 3\n", "model.hasOwnProperty");
});

Deno.test("config: sections named like Object.prototype members are unknown sections", () => {
  assertRejected("constructor: {}\n", "constructor");
  assertRejected("hasOwnProperty:\n  a: 1\n", "hasOwnProperty");
  const error = assertRejected("toString: 1\n", "toString");
  assert.match(error.message, /unknown section/);
});

Deno.test("config: parseSeed accepts integers 0..2^32-1, trimmed", () => {
  assert.equal(parseSeed("7"), 7);
  assert.equal(parseSeed(" 7 "), 7);
  assert.equal(parseSeed("0"), 0);
  assert.equal(parseSeed("4294967295"), 4294967295);
});

Deno.test("config: parseSeed rejects what is not such an integer, naming RANDOM_SEED", () => {
  for (const text of ["abc", "1.5", "-1", "4294967296", "", " ", "7abc", "1e3"]) {
    assertUsageError(() => parseSeed(text), ["RANDOM_SEED"], `parseSeed(${JSON.stringify(text)})`);
  }
});

Deno.test("config: loadConfig applies RANDOM_SEED from env over data.random_seed", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "seeded.yaml");
    Deno.writeTextFileSync(path, "data:\n  random_seed: 123\n  n_classes: 4\n");
    assert.equal(loadConfig(path, {}).data.random_seed, 123);
    assert.equal(loadConfig(path, { RANDOM_SEED: undefined }).data.random_seed, 123);
    const overridden = loadConfig(path, { RANDOM_SEED: "7" });
    assert.equal(overridden.data.random_seed, 7);
    assert.equal(overridden.data.n_classes, 4, "the rest of the file still applies");
    assert.equal(loadConfig(path, { RANDOM_SEED: " 9 " }).data.random_seed, 9);
    assertUsageError(() => loadConfig(path, { RANDOM_SEED: "abc" }), ["RANDOM_SEED", "abc"]);
  });
});

Deno.test("config: loadConfig on a missing file gives a UsageError naming the path", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "does-not-exist.yaml");
    assertUsageError(() => loadConfig(path, {}), [path]);
  });
});

Deno.test("config: loadConfig on a folder gives a UsageError naming the path", async () => {
  await withTempDir((dir) => {
    assertUsageError(() => loadConfig(dir, {}), [dir]);
  });
});

Deno.test("config: loadConfig validates the file it reads", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "bad.yaml");
    Deno.writeTextFileSync(path, "training:\n  batch_size: 0\n");
    assertUsageError(() => loadConfig(path, {}), [path, "training.batch_size"]);
  });
});

// --- "Nothing crashes, nothing is lost": hostile inputs give one short line ---

/** Asserts a UsageError message is short and free of control characters, as well as one line. */
function assertShortClean(error: UsageError, max = 400): void {
  assert.ok(error.message.length < max, `message is ${error.message.length} characters long`);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(error.message, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
}

/** Asserts that `fn` finishes within `ms` milliseconds, returning its result. */
function withinMs<T>(ms: number, fn: () => T): T {
  const start = performance.now();
  const result = fn();
  const took = performance.now() - start;
  assert.ok(took < ms, `took ${took.toFixed(0)} ms, over ${ms} ms`);
  return result;
}

Deno.test("config: loadConfig refuses a symlink to /dev/zero, naming the path, without reading it", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "zero.yaml");
    Deno.symlinkSync("/dev/zero", path);
    const error = withinMs(1000, () => assertUsageError(() => loadConfig(path, {}), [path, "regular file"]));
    assertShortClean(error);
  });
});

Deno.test("config: loadConfig refuses a FIFO instead of hanging on it", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "fifo.yaml");
    const made = await new Deno.Command("python3", {
      args: ["-c", `import os; os.mkfifo(${JSON.stringify(path)})`],
    })
      .output();
    assert.equal(made.code, 0, "python3 made the FIFO");
    withinMs(1000, () => assertUsageError(() => loadConfig(path, {}), [path, "regular file"]));
  });
});

Deno.test("config: loadConfig refuses a file over MAX_INPUT_FILE_BYTES, naming the path and the limit", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "big.yaml");
    Deno.writeTextFileSync(path, `# ${"x".repeat(MAX_INPUT_FILE_BYTES)}\n`);
    assertUsageError(() => loadConfig(path, {}), [path, "over the 1.00 MiB limit"]);
    const fits = join(dir, "fits.yaml");
    Deno.writeTextFileSync(fits, `# ${"x".repeat(MAX_INPUT_FILE_BYTES - 10)}\n`);
    assert.deepEqual(loadConfig(fits, {}), documentedDefaults());
  });
});

Deno.test("config: a huge or control-laden value is quoted short and escaped, on one line", () => {
  const huge = assertRejected(`logging:\n  level: "${"A".repeat(900_000)}"\n`, "logging.level");
  assertShortClean(huge);
  assert.match(huge.message, /…$/);
  const ansi = assertRejected(`logging:\n  level: "IN\\nFO\\e[31m\\u2028"\n`, "logging.level");
  assertShortClean(ansi);
  assert.ok(ansi.message.includes(String.raw`"IN\nFO\u001b[31m\u2028"`), ansi.message);
  const key = assertRejected(`data:\n  "bad\\rkey${"k".repeat(5000)}": 1\n`, "data.bad");
  assertShortClean(key);
});

Deno.test("config: parseSeed quotes a huge or control-laden RANDOM_SEED short and escaped", () => {
  const error = assertUsageError(() => parseSeed(`1\n\u001b[2J${"9".repeat(50_000_000)}`), [
    "RANDOM_SEED",
    String.raw`1\n\u001b[2J`,
  ]);
  assertShortClean(error);
});

/** A document whose `section.key` is nested aliases expanding to 10⁹ strings. */
function billionLaughs(section: string, key: string): string {
  let value = "&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]";
  for (let i = 1; i <= 9; i++) value = `&a${i} [${value}, ${Array(9).fill(`*a${i - 1}`).join(", ")}]`;
  return `${section}:\n  ${key}: ${value}\n`;
}

Deno.test("config: a YAML alias bomb in model.hidden_dims or logging.level is refused at once", () => {
  for (const [section, key] of [["model", "hidden_dims"], ["logging", "level"]]) {
    const error = withinMs(
      1000,
      () =>
        assertUsageError(() => parseConfig(billionLaughs(section, key), "bomb.yaml"), ["bomb.yaml", "alias"]),
    );
    assertShortClean(error);
  }
});

Deno.test("config: a config near the size cap full of unknown keys or deep nesting fails fast", () => {
  const keys = `data:\n${Array.from({ length: 40_000 }, (_, i) => `  key${i}: ${i}`).join("\n")}\n`;
  assert.ok(keys.length < MAX_INPUT_FILE_BYTES);
  withinMs(2000, () => assertUsageError(() => parseConfig(keys, "keys.yaml"), ["keys.yaml"]));
  const deep = `model:\n  hidden_dims: ${"[".repeat(200_000)}${"]".repeat(200_000)}\n`;
  withinMs(2000, () => assertUsageError(() => parseConfig(deep, "deep.yaml"), ["deep.yaml"]));
  const tooLong = `# ${"x".repeat(MAX_INPUT_FILE_BYTES)}`;
  assertUsageError(() => parseConfig(tooLong, "long.yaml"), ["long.yaml", "limit"]);
});

Deno.test("config: sizes that would exhaust memory are refused, naming the keys that drive them", () => {
  const cases: [string, string[]][] = [
    ["model:\n  hidden_dims: [100000, 100000]\n", ["model.hidden_dims", "GiB", "2.00 GiB limit"]],
    ["model:\n  hidden_dims: [25000, 25000]\n", ["model.hidden_dims", "9.42 GiB"]],
    ["model:\n  hidden_dim: 1000000\n", ["lower model.hidden_dim", "limit"]],
    ["data:\n  base_n_samples: 1e9\n", ["data.base_n_samples", "78.2 GiB"]],
    ["data:\n  n_features: 100000000\n", ["data.n_features"]],
    ["training:\n  batch_size: 100000000\n", ["training.batch_size"]],
  ];
  for (const [text, parts] of cases) {
    assertShortClean(
      withinMs(500, () => assertUsageError(() => parseConfig(text, "mem.yaml"), ["mem.yaml", ...parts])),
    );
  }
  assert.deepEqual(parseConfig("model:\n  hidden_dims: [1024, 1024]\n", "ok.yaml").model.hidden_dims, [
    1024,
    1024,
  ]);
});

/**
 * The sizes the estimates are worked out on by hand: 100 source and 50 target samples of 10 features,
 * 3 source and 5 target classes, hidden widths 8 and 4, batches of 16.
 */
function smallSizes() {
  const config = defaultConfig();
  Object.assign(config.data, {
    base_n_samples: 100,
    target_n_samples: 50,
    n_features: 10,
    n_classes: 3,
    target_n_classes: 5,
  });
  config.model.hidden_dims = [8, 4];
  config.training.batch_size = 16;
  return config;
}

Deno.test("config: estimateRunBytes of a small config, computed independently", () => {
  const config = smallSizes();
  const data = 150 * 10 * 4 + 150 * 4 + 2 * 2048 * 10 * 8; // features, labels, the generator's reference sample
  const parameters = (10 * 8 + 8) + (8 * 4 + 4) + (4 * 5 + 5); // the larger head: 5 classes
  const model = parameters * 4 * 4; // float32, 4 copies
  const activations = 256 * (10 + 8 + 4 + 5) * 4 * 2; // max(16, 256) rows
  assert.deepEqual(estimateRunBytes(config), { data, model, activations, total: data + model + activations });
  assert.ok(
    estimateRunBytes(defaultConfig()).total < MAX_RUN_BYTES / 100,
    "the defaults are far below the cap",
  );
});

Deno.test("config: runs that would not end are refused, naming the keys; class counts are capped", () => {
  const cases: [string, string[]][] = [
    ["training:\n  target_epochs: 2000000000\n", ["SGD steps", "training.target_epochs", "1e+8"]],
    ["training:\n  target_steps: 100000001\n", ["SGD steps", "training.target_steps"]],
    ["training:\n  base_epochs: 10000\nmodel:\n  hidden_dims: [4096, 4096]\n", ["multiply-adds", "1e+15"]],
    ["data:\n  n_classes: 1025\n", ["data.n_classes", "from 2 to 1024"]],
    ["data:\n  target_n_classes: 5000\n", ["data.target_n_classes", "from 2 to 1024"]],
  ];
  for (const [text, parts] of cases) {
    assertShortClean(
      withinMs(500, () => assertUsageError(() => parseConfig(text, "work.yaml"), ["work.yaml", ...parts])),
    );
  }
  const long = parseConfig("training:\n  base_epochs: 100000\n", "ok.yaml"); // 6.3 million steps: allowed
  assert.equal(long.training.base_epochs, 100000);
});

Deno.test("config: Adam's settings must survive float32, as the GPU engine holds them", () => {
  const cases: [string, string][] = [
    [
      "training:\n  adam_beta2: 0.99999999999\n",
      "training.adam_beta2 must be a number from 0 to below 1 in float32",
    ],
    ["training:\n  adam_beta1: 1\n", "training.adam_beta1 must be a number from 0 to below 1 in float32"],
    ["training:\n  adam_epsilon: 1.0e-300\n", "training.adam_epsilon must be a number from 1.2e-38"],
  ];
  for (const [text, says] of cases) {
    assertUsageError(() => parseConfig(text, "adam.yaml"), ["adam.yaml", says]);
  }
  const ok = parseConfig("training:\n  adam_beta2: 0.9999999\n  adam_epsilon: 1.0e-30\n", "ok.yaml");
  assert.equal(ok.training.adam_beta2, 0.9999999);
});

Deno.test("config: estimateRunWork of a small config, computed independently", () => {
  const config = smallSizes();
  config.training.base_epochs = 3;
  config.training.target_epochs = 2;
  const weights = (10 * 8 + 8) + (8 * 4 + 4) + (4 * 5 + 5);
  assert.deepEqual(estimateRunWork(config), {
    steps: 3 * 7 + 2 * 4, // ⌈100 / 16⌉ = 7 and ⌈50 / 16⌉ = 4 batches an epoch
    multiplyAdds: 4 * weights * (3 * 100 + 2 * 50),
  });
  config.training.target_steps = 9;
  assert.deepEqual(estimateRunWork(config), { steps: 21 + 9, multiplyAdds: 4 * weights * (300 + 9 * 16) });
  const defaults = estimateRunWork(defaultConfig());
  assert.ok(defaults.steps < MAX_RUN_STEPS / 1000 && defaults.multiplyAdds < MAX_RUN_MULTIPLY_ADDS / 1000);
});

Deno.test("config: parseDotEnv reads KEY=value, export, quotes, comments and blank lines", () => {
  const text =
    "# a comment\n\nOTHER=x\nexport RANDOM_SEED = '7'\n  RANDOM_SEED=\"8\" # later wins\r\nX=1 # c\n";
  assert.deepEqual(parseDotEnv(text), { seed: "8", warnings: [] });
  assert.deepEqual(parseDotEnv("RANDOM_SEED=5"), { seed: "5", warnings: [] });
  assert.deepEqual(parseDotEnv(""), { seed: undefined, warnings: [] });
});

Deno.test("config: parseDotEnv refuses a line that is not KEY=value, naming .env:LINE, escaped", () => {
  for (
    const [text, line] of [["RANDOM_SEED: 5\n", 1], ["A=1\nnot a pair\n", 2], ["\u0000\u0001\u00ff\n", 1], [
      "A='unclosed\n",
      1,
    ]] as const
  ) {
    assertShortClean(assertUsageError(() => parseDotEnv(text), [`.env:${line}:`, "KEY=value"]));
  }
  const binary = assertUsageError(() => parseDotEnv(`\u001b[2J${"x".repeat(10_000)}`), [
    String.raw`\u001b[2J`,
  ]);
  assertShortClean(binary);
});

Deno.test("config: parseDotEnv warns about keys spelt almost like RANDOM_SEED, and ignores them", () => {
  const result = parseDotEnv("random_seed=5\nRandom-Seed=6\nRANDOMSEED=7\nSEED=8\n");
  assert.equal(result.seed, undefined);
  assert.equal(result.warnings.length, 3);
  assert.match(result.warnings[0], /^\.env:1: random_seed is ignored; only RANDOM_SEED/);
  assert.match(result.warnings[1], /^\.env:2: Random-Seed/);
  assert.match(result.warnings[2], /^\.env:3: RANDOMSEED/);
});
