/**
 * End-to-end tests: src/programs/run/main.ts run as a subprocess (`deno run`), each in its own temporary folder
 * with a small config whose log file lies inside that folder.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DOCUMENTED_OPTIMIZER_DEFAULTS, exists, ROOT, runProgram } from "../../helpers/helpers.ts";

const STRATEGIES = ["feature_extractor", "head_finetune", "full_finetune", "scratch"] as const;

const BASE_EPOCHS = 3;
const TARGET_EPOCHS = 4;
const LOG_FILE = "run-logs/app.log";

/** A small, fast config; every value differs from its default so that the JSON shows it was read. */
const SMALL_CONFIG = `# a small config for tests
logging:
  level: INFO
  file: ${LOG_FILE}
  max_bytes: 100000
  backup_count: 2
data:
  base_n_samples: 300
  target_n_samples: 200
  n_features: 12
  n_classes: 3
  random_seed: 123
  test_fraction: 0.25
  relatedness: 0.7
model:
  hidden_dim: 16
engine:
  device: cpu
training:
  base_epochs: ${BASE_EPOCHS}
  target_epochs: ${TARGET_EPOCHS}
  learning_rate_base: 0.1
  learning_rate_target: 0.03
  batch_size: 16
  head_finetune_base_lr_scale: 0.2
`;

/** SMALL_CONFIG as the program should report it, written out independently. */
const SMALL_CONFIG_EFFECTIVE = {
  logging: { level: "INFO", file: LOG_FILE, max_bytes: 100000, backup_count: 2 },
  data: {
    base_n_samples: 300,
    target_n_samples: 200,
    n_features: 12,
    n_classes: 3,
    target_n_classes: null,
    random_seed: 123,
    test_fraction: 0.25,
    relatedness: 0.7,
    validation_fraction: 0.2,
    shift: "mixed",
    task: "synthetic",
    standardize: null,
    source: null,
    target: null,
  },
  model: { hidden_dim: 16, hidden_dims: null },
  engine: { device: "cpu", cpu_kernels: "auto", threads: "auto" },
  training: {
    base_epochs: BASE_EPOCHS,
    target_epochs: TARGET_EPOCHS,
    learning_rate_base: 0.1,
    learning_rate_target: 0.03,
    batch_size: 16,
    target_steps: null,
    early_stopping_patience: null,
    head_finetune_base_lr_scale: 0.2,
    ...DOCUMENTED_OPTIMIZER_DEFAULTS,
  },
  recipes: {},
};

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface RunOptions {
  /** Extra environment variables; RANDOM_SEED is removed from the inherited environment. */
  readonly env?: Record<string, string>;
  /** `--allow-write` value; by default writing is allowed everywhere. */
  readonly allowWrite?: string;
}

/** Runs the program in `cwd` with `flags`. */
function runCli(cwd: string, flags: string[], options: RunOptions = {}): Promise<RunResult> {
  const write = options.allowWrite === undefined ? "--allow-write" : `--allow-write=${options.allowWrite}`;
  return runProgram("src/programs/run/main.ts", flags, {
    cwd,
    permissions: ["--allow-read", write, "--allow-env=RANDOM_SEED"],
    env: options.env,
  });
}

/** A fresh temporary folder holding `config.yaml` (SMALL_CONFIG unless given). */
async function makeWorkDir(config = SMALL_CONFIG): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cli_test_" });
  await Deno.writeTextFile(join(dir, "config.yaml"), config);
  return dir;
}

/** Runs `fn` with `count` fresh work folders, removed afterwards. */
async function withWorkDirs(count: number, fn: (dirs: string[]) => void | Promise<void>): Promise<void> {
  const dirs = await Promise.all(Array.from({ length: count }, () => makeWorkDir()));
  try {
    await fn(dirs);
  } finally {
    await Promise.all(dirs.map((dir) => Deno.remove(dir, { recursive: true })));
  }
}

function listDir(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
}

// deno-lint-ignore no-explicit-any
type Json = any;

function readJson(path: string): Json {
  return JSON.parse(Deno.readTextFileSync(path));
}

/** The results document without the fields that change from run to run. */
function withoutTimings(results: Json): Json {
  const copy = structuredClone(results);
  delete copy.timings_ms;
  return copy;
}

/** Asserts a failed run: exit 2, nothing on stdout, and exactly one `error:` line on stderr, no stack. */
function assertUsageFailure(result: RunResult, label: string, mentions: string[]): string {
  const context = `${label}: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  assert.equal(result.code, 2, context);
  assert.equal(result.stdout, "", `${context}\n(nothing is printed on stdout)`);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${context}\n(one stderr line)`);
  assert.ok(result.stderr.endsWith("\n"), context);
  assert.match(lines[0], /^error: /, context);
  assert.doesNotMatch(result.stderr, /^\s*at /m, `${context}\n(no stack trace)`);
  for (const text of mentions) assert.ok(lines[0].includes(text), `${context}\n(mentions '${text}')`);
  return lines[0];
}

function assertMetrics(value: Json, label: string): void {
  assert.equal(typeof value, "object", label);
  assert.equal(typeof value.loss, "number", `${label}.loss`);
  assert.ok(Number.isFinite(value.loss) && value.loss >= 0, `${label}.loss = ${value.loss}`);
  assert.equal(typeof value.accuracy, "number", `${label}.accuracy`);
  assert.ok(value.accuracy >= 0 && value.accuracy <= 1, `${label}.accuracy = ${value.accuracy}`);
}

function assertHistory(history: Json, epochs: number, label: string): void {
  assert.ok(Array.isArray(history), label);
  assert.equal(history.length, epochs, `${label} has one entry per epoch`);
  history.forEach((entry: Json, i: number) => {
    assert.equal(entry.epoch, i + 1, `${label}[${i}].epoch`);
    assertMetrics(entry.train, `${label}[${i}].train`);
    assertMetrics(entry.test, `${label}[${i}].test`);
  });
}

Deno.test("cli: each strategy exits 0, prints the summary, writes the JSON and the log", async () => {
  await withWorkDirs(STRATEGIES.length, async (dirs) => {
    const results = await Promise.all(
      STRATEGIES.map((strategy, i) =>
        runCli(dirs[i], ["--strategy", strategy, "--config", "config.yaml", "--output", "out.json"])
      ),
    );
    const documents: Json[] = [];
    for (const [i, strategy] of STRATEGIES.entries()) {
      const { code, stdout, stderr } = results[i];
      assert.equal(code, 0, `${strategy}: exit ${code}\n${stderr}`);
      const json = readJson(join(dirs[i], "out.json"));
      documents.push(json);

      // The document.
      assert.equal(json.strategy, strategy);
      assert.equal(json.engine.name, "cpu", "engine.device cpu in the config selects the CPU engine");
      assert.equal(typeof json.engine.description, "string");
      assert.equal(json.seed, 123, "seed from data.random_seed");
      assert.deepEqual(json.config, SMALL_CONFIG_EFFECTIVE, "the effective config is the file's");
      for (const task of ["source", "target"]) {
        for (const split of ["train", "test"]) {
          assertMetrics(json[task][split], `${strategy} ${task}.${split}`);
        }
      }
      assertHistory(json.history.source, BASE_EPOCHS, `${strategy} history.source`);
      assertHistory(json.history.target, TARGET_EPOCHS, `${strategy} history.target`);
      const t = json.timings_ms;
      for (const key of ["pretrain", "transfer", "total"]) {
        assert.equal(typeof t[key], "number", `timings_ms.${key}`);
        assert.ok(Number.isFinite(t[key]) && t[key] >= 0, `timings_ms.${key} = ${t[key]}`);
      }
      assert.ok(Math.abs(t.total - (t.pretrain + t.transfer)) < 1e-6, "total = pretrain + transfer");
      assert.equal(typeof json.deno_version, "string");
      assert.match(json.deno_version, /^\d+\.\d+\.\d+/);
      // The final metrics are those of the last epoch's test evaluation.
      assert.deepEqual(json.target.test, json.history.target[TARGET_EPOCHS - 1].test);
      assert.deepEqual(json.source.test, json.history.source[BASE_EPOCHS - 1].test);

      // The summary on stdout agrees with the document.
      const lines = stdout.split("\n");
      assert.ok(lines[0].includes(`strategy ${strategy}`), stdout);
      assert.ok(lines[0].includes("seed 123"), stdout);
      for (
        const [label, metrics] of [
          ["source train", json.source.train],
          ["source validation", json.source.validation],
          ["source test", json.source.test],
          ["target train", json.target.train],
          ["target validation", json.target.validation],
          ["target test", json.target.test],
        ] as const
      ) {
        const row = lines.find((line) => line.startsWith(label));
        assert.ok(row !== undefined, `${strategy}: no '${label}' row in\n${stdout}`);
        assert.ok(row.includes(metrics.loss.toFixed(4)), `${strategy}: '${row}' shows loss ${metrics.loss}`);
      }
      assert.doesNotMatch(stdout, /\d{4}-\d{2}-\d{2}T.* INFO /, "log lines stay off stdout");

      // The log file is at logging.file and holds the same lines as the console (stderr).
      const logPath = join(dirs[i], LOG_FILE);
      assert.ok(exists(logPath), `${strategy}: no log at ${logPath}; folder has ${listDir(dirs[i])}`);
      const logLines = Deno.readTextFileSync(logPath).trimEnd().split("\n");
      assert.ok(
        logLines.length >= BASE_EPOCHS + TARGET_EPOCHS,
        `${strategy}: log has ${logLines.length} lines`,
      );
      assert.ok(
        logLines.every((line) => /^\S+Z (DEBUG|INFO|WARNING|ERROR) /.test(line)),
        logLines.join("\n"),
      );
      assert.ok(logLines.some((line) => line.includes(strategy)), "the log names the strategy");
      assert.ok(logLines.some((line) => line.includes("out.json")), "the log records the results file");
      assert.deepEqual(stderr.trimEnd().split("\n"), logLines, "console lines and file lines agree");
      assert.deepEqual(listDir(dirs[i]), ["config.yaml", "out.json", "run-logs"], "no stray files");
    }
    // Pretraining does not depend on the strategy: the source results are the same for all four.
    for (const json of documents.slice(1)) {
      assert.deepEqual(json.source, documents[0].source);
      assert.deepEqual(json.history.source, documents[0].history.source);
    }
  });
});

Deno.test("cli: two runs with the same config give identical results apart from timings", async () => {
  await withWorkDirs(2, async (dirs) => {
    const runs = await Promise.all(dirs.map((dir) => runCli(dir, ["--output", "out.json"])));
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    const [first, second] = dirs.map((dir) => readJson(join(dir, "out.json")));
    assert.equal(first.strategy, "full_finetune", "the default strategy");
    assert.ok("timings_ms" in first);
    assert.deepEqual(withoutTimings(first), withoutTimings(second));
  });
});

Deno.test("cli: --help exits 0 and describes every flag and strategy", async () => {
  await withWorkDirs(1, async ([dir]) => {
    const { code, stdout, stderr } = await runCli(dir, ["--help"]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    for (
      const text of [
        "--strategy",
        "--config",
        "--output",
        "--device",
        "--cpu-kernels",
        "--help",
        ...STRATEGIES,
        "RANDOM_SEED",
      ]
    ) {
      assert.ok(stdout.includes(text), `--help lacks '${text}':\n${stdout}`);
    }
    assert.deepEqual(listDir(dir), ["config.yaml"], "--help writes nothing");
  });
});

Deno.test("cli: bad input exits 2 with one stderr line and no stack trace", async () => {
  await withWorkDirs(8, async (dirs) => {
    await Deno.writeTextFile(join(dirs[2], "bad.yaml"), "data:\n  n_classes: 3\n  n_classes: 4\n");
    await Deno.writeTextFile(join(dirs[5], ".env"), "RANDOM_SEED=seven\n");
    await Deno.writeTextFile(
      join(dirs[6], "config.yaml"),
      SMALL_CONFIG.replace("batch_size: 16", "batch_size: 0"),
    );
    await Deno.writeTextFile(join(dirs[7], "config.yaml"), SMALL_CONFIG + "extra:\n  key: 1\n");
    const cases: [string, string[], RunOptions, string[]][] = [
      ["bad strategy", ["--strategy", "bogus"], {}, ["bogus", ...STRATEGIES]],
      ["missing config", ["--config", "nope.yaml"], {}, ["nope.yaml"]],
      ["bad YAML", ["--config", "bad.yaml"], {}, ["bad.yaml:3:3"]],
      ["unknown flag", ["--frobnicate"], {}, ["--frobnicate"]],
      ["bad RANDOM_SEED in env", [], { env: { RANDOM_SEED: "abc" } }, ["RANDOM_SEED", "abc"]],
      ["bad RANDOM_SEED in .env", [], {}, ["RANDOM_SEED", "seven"]],
      ["invalid config value", [], {}, ["config.yaml", "training.batch_size"]],
      ["unknown config section", [], {}, ["config.yaml", "extra"]],
    ];
    const results = await Promise.all(cases.map(([, flags, options], i) => runCli(dirs[i], flags, options)));
    for (const [i, [label, , , mentions]] of cases.entries()) {
      assertUsageFailure(results[i], label, mentions);
      assert.ok(!exists(join(dirs[i], "run-logs")), `${label}: no log is started`);
    }
  });
});

Deno.test("cli: RANDOM_SEED from the environment or ./.env sets the seed; the environment wins", async () => {
  await withWorkDirs(4, async ([plain, fromEnv, fromDotEnv, both]) => {
    await Deno.writeTextFile(join(fromDotEnv, ".env"), "# seed for this folder\nRANDOM_SEED=7\n");
    await Deno.writeTextFile(join(both, ".env"), "RANDOM_SEED=7\n");
    const flags = ["--output", "out.json"];
    const runs = await Promise.all([
      runCli(plain, flags),
      runCli(fromEnv, flags, { env: { RANDOM_SEED: "7" } }),
      runCli(fromDotEnv, flags),
      runCli(both, flags, { env: { RANDOM_SEED: "9" } }),
    ]);
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    const [p, e, d, b] = [plain, fromEnv, fromDotEnv, both].map((dir) => readJson(join(dir, "out.json")));
    assert.equal(p.seed, 123, "without RANDOM_SEED, data.random_seed");
    assert.equal(e.seed, 7, "RANDOM_SEED in the environment");
    assert.equal(e.config.data.random_seed, 7);
    assert.equal(d.seed, 7, "RANDOM_SEED in .env");
    assert.equal(b.seed, 9, "the environment wins over .env");
    assert.ok(runs[1].stdout.split("\n")[0].includes("seed 7"), runs[1].stdout);
    // The same seed from either place gives the same run; a different seed a different one.
    assert.deepEqual(withoutTimings(e), withoutTimings(d));
    assert.notDeepEqual(withoutTimings(p).history, withoutTimings(e).history);
  });
});

Deno.test("cli: --output into a missing folder exits 2 before training and leaves nothing", async () => {
  await withWorkDirs(1, async ([dir]) => {
    const result = await runCli(dir, ["--output", "missing/out.json"]);
    assertUsageFailure(result, "missing output folder", ["--output", "missing/out.json"]);
    assert.deepEqual(listDir(dir), ["config.yaml"], "no log, no folder, no results");
  });
});

Deno.test("cli: --output naming a folder exits 2 and leaves the folder as it was", async () => {
  await withWorkDirs(1, async ([dir]) => {
    const folder = join(dir, "results");
    await Deno.mkdir(folder);
    await Deno.writeTextFile(join(folder, "keep.txt"), "keep me\n");
    const result = await runCli(dir, ["--output", "results"]);
    assertUsageFailure(result, "output is a folder", ["--output", "results"]);
    assert.ok(Deno.statSync(folder).isDirectory, "still a folder");
    assert.deepEqual(listDir(folder), ["keep.txt"]);
    assert.equal(Deno.readTextFileSync(join(folder, "keep.txt")), "keep me\n");
    assert.deepEqual(listDir(dir), ["config.yaml", "results"], "nothing else written");
  });
});

Deno.test("cli: a failed results write leaves the existing results file intact", async () => {
  await withWorkDirs(1, async ([dir]) => {
    const previous = '{"previous": "results"}\n';
    await Deno.writeTextFile(join(dir, "out.json"), previous);
    // Writing is allowed only in the log folder, so no file can be written beside out.json.
    const result = await runCli(dir, ["--output", "out.json"], { allowWrite: join(dir, "run-logs") });
    assert.equal(result.code, 2, result.stderr);
    const lastLine = result.stderr.trimEnd().split("\n").at(-1) ?? "";
    assert.match(lastLine, /^error: --output out\.json: /);
    assert.ok(lastLine.includes("write"), lastLine);
    assert.doesNotMatch(result.stderr, /^\s*at /m, "no stack trace");
    assert.equal(Deno.readTextFileSync(join(dir, "out.json")), previous, "the old results are intact");
    assert.deepEqual(listDir(dir).filter((name) => name.endsWith(".tmp")), [], "no temporary file left");
  });
});

Deno.test("cli: a config file of comments only runs with the default configuration", async () => {
  await withWorkDirs(1, async ([dir]) => {
    await Deno.writeTextFile(join(dir, "config.yaml"), "# every key takes its default\n");
    // --device cpu: engine.device defaults to auto, which would take a GPU on a machine that has one.
    const result = await runCli(dir, ["--strategy", "scratch", "--device", "cpu", "--output", "out.json"]);
    assert.equal(result.code, 0, result.stderr);
    const json = readJson(join(dir, "out.json"));
    assert.equal(json.config.data.base_n_samples, 2000);
    assert.equal(json.config.training.base_epochs, 20);
    assert.equal(json.seed, 42);
    assert.equal(json.config.engine.device, "auto", "the file's (default) engine.device is reported");
    assert.equal(json.engine.name, "cpu", "--device cpu wins over engine.device");
    assert.ok(exists(join(dir, "logs", "app.log")), "the default log file, relative to the working folder");
  });
});

Deno.test("cli: a config key named like an Object.prototype member exits 2 with one line", async () => {
  await withWorkDirs(1, async ([dir]) => {
    await Deno.writeTextFile(join(dir, "config.yaml"), "data:\n  constructor: 1\n");
    const result = await runCli(dir, []);
    assertUsageFailure(result, "data.constructor", ["data.constructor"]);
  });
});

// The results writer, in process: failures that a subprocess cannot easily provoke.

Deno.test("cli: without permission to read the environment or the folder, one line names the flag to add", async () => {
  await withWorkDirs(1, async ([dir]) => {
    const cases = [
      [[], "RANDOM_SEED: no permission to read the environment; run with --allow-env=RANDOM_SEED"],
      [
        ["--allow-env=RANDOM_SEED"],
        ".env: no permission to look for it in the current folder; run with --allow-read",
      ],
    ] as const;
    for (const [permissions, message] of cases) {
      const run = await runProgram("src/programs/run/main.ts", ["--device", "cpu"], {
        cwd: dir,
        permissions,
      });
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stderr, `error: ${message}, as deno task run does\n`);
    }
  });
});

Deno.test("cli: a diverging run writes what it has, then exits 2 with one line naming the rate to lower", async () => {
  const config = SMALL_CONFIG.replace("learning_rate_base: 0.1", "learning_rate_base: 1000");
  const dir = await makeWorkDir(config);
  try {
    const { code, stdout, stderr } = await runCli(dir, ["--output", "out.json"]);
    assert.equal(code, 2, stderr);
    const errors = stderr.split("\n").filter((line) => line.startsWith("error:"));
    assert.equal(errors.length, 1, stderr);
    assert.match(
      errors[0],
      /^error: pretraining diverged at epoch \d+ \(train loss (NaN|-?Infinity)\); lower training\.learning_rate_base \(now 1000\)$/,
    );
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    const json = readJson(join(dir, "out.json"));
    assert.equal(json.diverged.phase, "pretrain");
    assert.equal(json.history.source.length, json.diverged.epoch, "no epoch after the divergence");
    assert.equal(json.target, null, "no transfer from a diverged model");
    assert.match(stdout, /target test +not run/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: training.target_steps gives the transfer exactly that budget of SGD steps", async () => {
  // 200 target rows: 50 test, 30 validation, 120 training rows = 8 minibatches of 16 per epoch.
  const dir = await makeWorkDir(
    SMALL_CONFIG.replace("  batch_size: 16\n", "  batch_size: 16\n  target_steps: 20\n"),
  );
  try {
    const { code, stderr } = await runCli(dir, ["--output", "out.json"]);
    assert.equal(code, 0, stderr);
    const json = readJson(join(dir, "out.json"));
    assert.equal(json.config.training.target_steps, 20);
    assert.equal(json.history.target.length, 3, "8 + 8 + 4 steps: three epochs, the last a partial one");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: a blow-up in an epoch's last step is caught by the test loss after it, and named", async () => {
  // One step at a huge rate: the epoch's training loss (measured before the update) is still finite.
  const config = SMALL_CONFIG.replace("learning_rate_target: 0.03", "learning_rate_target: 1.0e+30")
    .replace("  batch_size: 16\n", "  batch_size: 16\n  target_steps: 1\n");
  const dir = await makeWorkDir(config);
  try {
    const { code, stderr } = await runCli(dir, ["--output", "out.json"]);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      /^error: the full_finetune transfer diverged at epoch 1 .*lower training\.learning_rate_target/m,
    );
    const json = readJson(join(dir, "out.json"));
    assert.equal(json.diverged.phase, "transfer");
    assert.ok(
      Number.isFinite(json.history.target[0].train.loss),
      "the training loss alone would have missed it",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: with early stopping the summary says which epoch's weights were kept", async () => {
  const config = SMALL_CONFIG.replace(
    "  batch_size: 16\n",
    "  batch_size: 16\n  early_stopping_patience: 1\n",
  )
    .replace(`target_epochs: ${TARGET_EPOCHS}`, "target_epochs: 30").replace(
      "learning_rate_target: 0.03",
      "learning_rate_target: 0.5",
    );
  const dir = await makeWorkDir(config);
  try {
    const { code, stdout, stderr } = await runCli(dir, ["--output", "out.json"]);
    assert.equal(code, 0, stderr);
    const { early_stop } = readJson(join(dir, "out.json"));
    assert.ok(early_stop.best_epoch <= early_stop.last_epoch && early_stop.last_epoch <= 30);
    assert.ok(
      stdout.includes(
        `early stop: kept epoch ${early_stop.best_epoch}, stopped after epoch ${early_stop.last_epoch}`,
      ),
      stdout,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: --output naming a file the run reads or writes exits 2 before training, the file intact", async () => {
  const cases: { label: string; output: string; setup?: (dir: string) => void; role: string }[] = [
    { label: "the config file", output: "config.yaml", role: "config file" },
    { label: "the config through ./", output: "./sub/../config.yaml", role: "config file" },
    {
      label: "a link to the config",
      output: "link.yaml",
      setup: (dir) => Deno.symlinkSync(join(dir, "config.yaml"), join(dir, "link.yaml")),
      role: "config file",
    },
    {
      label: ".env",
      output: ".env",
      setup: (dir) => Deno.writeTextFileSync(join(dir, ".env"), "RANDOM_SEED=5\n"),
      role: ".env",
    },
    { label: "the log file", output: LOG_FILE, role: "log file" },
    { label: "a rotated log file", output: `${LOG_FILE}.2`, role: "rotated log file" },
  ];
  await withWorkDirs(cases.length, async (dirs) => {
    const before: Map<string, string>[] = [];
    for (const [i, item] of cases.entries()) {
      Deno.mkdirSync(join(dirs[i], "sub"));
      Deno.mkdirSync(join(dirs[i], "run-logs"));
      Deno.writeTextFileSync(join(dirs[i], LOG_FILE), "an old log line\n");
      Deno.writeTextFileSync(join(dirs[i], `${LOG_FILE}.2`), "an older log line\n");
      item.setup?.(dirs[i]);
      const files = new Map<string, string>();
      for (const name of ["config.yaml", ".env", LOG_FILE, `${LOG_FILE}.2`]) {
        if (exists(join(dirs[i], name))) files.set(name, Deno.readTextFileSync(join(dirs[i], name)));
      }
      before.push(files);
    }
    const results = await Promise.all(cases.map((item, i) => runCli(dirs[i], ["--output", item.output])));
    for (const [i, item] of cases.entries()) {
      assertUsageFailure(results[i], item.label, ["--output", item.output, item.role]);
      for (const [name, text] of before[i]) {
        assert.equal(Deno.readTextFileSync(join(dirs[i], name)), text, `${item.label}: ${name} intact`);
      }
      assert.ok(!exists(join(dirs[i], `${LOG_FILE}.1`)), `${item.label}: nothing logged, nothing rotated`);
    }
  });
});

Deno.test("cli: --output keeps an existing file's mode, and a read-only one exits 2 before training", async () => {
  await withWorkDirs(2, async ([kept, readOnly]) => {
    Deno.writeTextFileSync(join(kept, "out.json"), "{}\n");
    Deno.chmodSync(join(kept, "out.json"), 0o640);
    Deno.writeTextFileSync(join(readOnly, "out.json"), "{}\n");
    Deno.chmodSync(join(readOnly, "out.json"), 0o444);
    const [ok, refused] = await Promise.all([
      runCli(kept, ["--output", "out.json"]),
      runCli(readOnly, ["--output", "out.json"]),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((Deno.statSync(join(kept, "out.json")).mode ?? 0) & 0o777, 0o640, "mode kept");
    assert.equal(readJson(join(kept, "out.json")).seed, 123, "results written");
    assertUsageFailure(refused, "read-only output", ["--output", "out.json", "read-only"]);
    assert.equal(Deno.readTextFileSync(join(readOnly, "out.json")), "{}\n", "read-only file intact");
    assert.deepEqual(listDir(readOnly), ["config.yaml", "out.json"], "no log: refused before training");
  });
});

Deno.test("cli: an empty --output or one ending in a slash exits 2 before training", async () => {
  await withWorkDirs(2, async (dirs) => {
    const [empty, slashed] = await Promise.all([
      runCli(dirs[0], ["--output", ""]),
      runCli(dirs[1], ["--output", "newname/"]),
    ]);
    assertUsageFailure(empty, "empty --output", ["--output", "give a file name"]);
    assertUsageFailure(slashed, "--output newname/", ["--output", "newname/", "give a file name"]);
    for (const dir of dirs) assert.deepEqual(listDir(dir), ["config.yaml"], "nothing written, no log");
  });
});

Deno.test("cli: a folder in a log rotation slot exits 2 before training; a log failing mid-run loses no results", async () => {
  const tiny = SMALL_CONFIG.replace("max_bytes: 100000", "max_bytes: 200");
  const [slot, midRun] = await Promise.all([makeWorkDir(), makeWorkDir(tiny)]);
  try {
    Deno.mkdirSync(join(slot, `${LOG_FILE}.1`), { recursive: true });
    Deno.writeTextFileSync(join(slot, `${LOG_FILE}.1`, "keep.txt"), "keep\n");
    const refused = await runCli(slot, ["--output", "out.json"]);
    assertUsageFailure(refused, "folder in a rotation slot", ["logging.file", `${LOG_FILE}.1`, "folder"]);
    assert.equal(Deno.readTextFileSync(join(slot, `${LOG_FILE}.1`, "keep.txt")), "keep\n");
    assert.deepEqual(listDir(slot), ["config.yaml", "run-logs"], "no results, nothing trained");

    // The log opens, but rolling it over is denied: the first rollover fails mid-run.
    const result = await runProgram("src/programs/run/main.ts", ["--output", "out.json"], {
      cwd: midRun,
      permissions: [
        "--allow-read",
        "--allow-write",
        "--allow-env=RANDOM_SEED",
        `--deny-write=${join(midRun, `${LOG_FILE}.1`)}`,
      ],
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\S/, "the summary is printed");
    assert.equal(readJson(join(midRun, "out.json")).seed, 123, "results written");
    assert.equal(result.stderr.match(/ WARNING logging\.file: /g)?.length, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /^\s*at /m, "no stack trace");
  } finally {
    await Promise.all([slot, midRun].map((dir) => Deno.remove(dir, { recursive: true })));
  }
});

Deno.test("cli: concurrent runs sharing one small rotating log all succeed and lose no log line", async () => {
  const shared = await Deno.makeTempDir({ prefix: "cli_shared_log_" });
  const logFile = join(shared, "app.log");
  const config = SMALL_CONFIG.replace(`file: ${LOG_FILE}`, `file: ${logFile}`)
    .replace("max_bytes: 100000", "max_bytes: 300")
    .replace("backup_count: 2", "backup_count: 500");
  const dirs = await Promise.all(Array.from({ length: 4 }, () => makeWorkDir(config)));
  try {
    const results = await Promise.all(dirs.map((dir) => runCli(dir, ["--output", "out.json"])));
    const expected = new Map<string, number>();
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /WARNING logging\.file/, result.stderr);
      for (const line of result.stderr.split("\n").filter((line) => line !== "")) {
        expected.set(line, (expected.get(line) ?? 0) + 1);
      }
    }
    const logged = new Map<string, number>();
    for (const entry of Deno.readDirSync(shared)) {
      for (
        const line of Deno.readTextFileSync(join(shared, entry.name)).split("\n").filter((line) =>
          line !== ""
        )
      ) {
        logged.set(line, (logged.get(line) ?? 0) + 1);
      }
    }
    assert.ok(!exists(`${logFile}.500`), "enough backups");
    assert.deepEqual(logged, expected, "every console line is in the log files exactly as often");
  } finally {
    await Promise.all([shared, ...dirs].map((dir) => Deno.remove(dir, { recursive: true })));
  }
});

Deno.test("cli: no output or log may replace the config or a project file; each refusal is one line, nothing changed", async () => {
  const dir = await makeWorkDir();
  const projectFile = `${ROOT}deno.json`, before = await Deno.readTextFile(projectFile);
  try {
    const cases: [string[], string, RegExp][] = [
      [["--output", projectFile], SMALL_CONFIG, /--output .*deno\.json is the project's deno\.json/],
      [["--output", `${ROOT}src/core/results.json`], SMALL_CONFIG, /is inside the project's src/],
      [["--output", `${ROOT}.gitignore`], SMALL_CONFIG, /is the project's \.gitignore/],
      [["--output", `${ROOT}logs/.gitkeep`], SMALL_CONFIG, /is the project's logs\/\.gitkeep/],
      [
        [],
        SMALL_CONFIG.replace(`file: ${LOG_FILE}`, "file: config.yaml"),
        /logging\.file config\.yaml is the config file/,
      ],
      [
        [],
        SMALL_CONFIG.replace(`file: ${LOG_FILE}`, `file: ${projectFile}`),
        /logging\.file .*deno\.json is the project's/,
      ],
    ];
    for (const [flags, config, message] of cases) {
      await Deno.writeTextFile(join(dir, "config.yaml"), config);
      const { code, stderr } = await runCli(dir, flags);
      assert.equal(code, 2, stderr);
      const errors = stderr.split("\n").filter((line) => line.startsWith("error:"));
      assert.equal(errors.length, 1, stderr);
      assert.match(errors[0], message);
      assert.equal(await Deno.readTextFile(join(dir, "config.yaml")), config, "the config is untouched");
    }
    assert.equal(await Deno.readTextFile(projectFile), before, "deno.json is untouched");
  } finally {
    await Deno.writeTextFile(projectFile, before);
    await Deno.remove(dir, { recursive: true });
  }
});
