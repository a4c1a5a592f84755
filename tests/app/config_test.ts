/**
 * Tests for src/config.ts: defaults, the shipped config.yaml, validation errors (one line, naming the
 * key path), YAML syntax error positions, and RANDOM_SEED.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Config, defaultConfig, loadConfig, parseConfig, parseSeed } from "../../src/app/config.ts";
import { UsageError } from "../../src/core/errors.ts";

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
    },
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
