/**
 * End-to-end tests of `deno task predict` (src/programs/predict/main.ts) on a CSV task: `run` trains
 * and saves a model on Gaussian blobs whose features come in very different units, then `predict`
 * is run as a subprocess with `deno task`'s permissions. Its probabilities are checked against a
 * float64 forward pass written here and against NumPy, each reading the safetensors file and the CSV
 * itself; then the output's shape, the input's columns, every refusal (one line, nothing written),
 * and `run --from` with a real task.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { gpuAvailable } from "../../helpers/gpu.ts";
import { type ProgramRun, runProgram } from "../../helpers/helpers.ts";
import {
  assertUsageFailure,
  type Blob,
  blobsCsv,
  columnsOf,
  numpyAvailable,
  parsePlainCsv,
  type PlainCsv,
  readSafetensorsFile,
  referenceProbabilities,
} from "../../helpers/real_data.ts";

/** The permissions `deno task run` and `deno task predict` give (deno.json). */
const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED,XDG_RUNTIME_DIR,INIT_CWD"];

const FEATURES = ["x0", "x1", "x2", "x3"];
/** Each feature's unit: without standardisation the second would swamp the others. */
const SCALES = [1, 1000, 0.01, 50];
const SOURCE_BLOBS: Blob[] = [
  { label: "north", mean: [0, -2000, 5.0, 100], rows: 50 },
  { label: "south", mean: [1.5, 0, 5.02, 160], rows: 50 },
  { label: "east", mean: [3, 2000, 5.04, 220], rows: 50 },
];
const TARGET_BLOBS: Blob[] = [
  { label: "red", mean: [0.5, -1500, 5.01, 130], rows: 30 },
  { label: "green", mean: [2, 500, 5.03, 190], rows: 30 },
  { label: "blue", mean: [3.5, 2500, 5.05, 250], rows: 30 },
];
/** The target's labels as classes: every label in the file, sorted by code unit. */
const TARGET_CLASSES = ["blue", "green", "red"];

const CONFIG = `logging: {file: app.log}
data:
  task: csv
  base_n_samples: 100
  target_n_samples: 60
  random_seed: 5
  source: {file: source.csv, label: species}
  target: {file: target.csv, label: species}
model: {hidden_dims: [8, 6]}
engine: {device: cpu}
training: {base_epochs: 8, target_epochs: 8, batch_size: 16, learning_rate_base: 0.1, learning_rate_target: 0.1}
`;

/** A synthetic task of the same widths (4 features x0..x3, layers 8 and 6, 3 classes). */
const SYNTHETIC_CONFIG = `logging: {file: app.log}
data: {base_n_samples: 100, target_n_samples: 60, n_features: 4, n_classes: 3}
model: {hidden_dims: [8, 6]}
engine: {device: cpu}
training: {base_epochs: 2, target_epochs: 2}
`;

/** Predict the target file with the fine-tuned model, scored by its species column, on the CPU engine. */
const LABELLED_ON_CPU = [
  "--model",
  "ft.safetensors",
  "--input",
  "target.csv",
  "--label",
  "species",
  "--device",
  "cpu",
];

/** A program of the project run in `dir` with `args`, as `deno task` runs it. */
function program(name: "run" | "predict", dir: string, args: readonly string[]): Promise<ProgramRun> {
  return runProgram(`src/programs/${name}/main.ts`, args, { cwd: dir, permissions: PERMISSIONS });
}

/** The folder where `run` trained the models once for every test: ft.safetensors, pre.safetensors, a.json. */
let trainedDir: Promise<string> | null = null;

function trained(): Promise<string> {
  trainedDir ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "predict_test_" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    Deno.writeTextFileSync(join(dir, "config.yaml"), CONFIG);
    Deno.writeTextFileSync(join(dir, "source.csv"), blobsCsv(FEATURES, "species", SOURCE_BLOBS, SCALES, 1));
    Deno.writeTextFileSync(join(dir, "target.csv"), blobsCsv(FEATURES, "species", TARGET_BLOBS, SCALES, 2));
    const run = await program("run", dir, [
      "--save",
      "ft.safetensors",
      "--save-pretrained",
      "pre.safetensors",
      "-o",
      "a.json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    return dir;
  })();
  return trainedDir;
}

/** A fresh folder holding copies of the trained folder's files, for a test that writes. */
async function workDir(): Promise<string> {
  const from = await trained();
  const dir = await Deno.makeTempDir({ prefix: "predict_work_" });
  for (const entry of Deno.readDirSync(from)) {
    if (entry.isFile) Deno.copyFileSync(join(from, entry.name), join(dir, entry.name));
  }
  return dir;
}

/** Row `i`'s class by `p`: the first most probable. */
function argmax(p: readonly number[]): number {
  return p.reduce((best, v, k) => (v > p[best] ? k : best), 0);
}

/**
 * Checks predictions `csv` of the rows of `input` by the model `model` (files in `dir`): the header,
 * the row numbers and labels, each probability within `tolerance` of the float64 reference, each row
 * summing to 1, the class the first most probable. Returns the probabilities read.
 */
function checkPredictions(
  dir: string,
  model: string,
  input: string,
  csv: PlainCsv,
  tolerance: number,
  labelColumn: string | null = "species",
): number[][] {
  const file = readSafetensorsFile(Deno.readFileSync(join(dir, model)));
  const classes: string[] = JSON.parse(file.metadata.classes);
  const features: string[] = JSON.parse(file.metadata.features);
  assert.deepEqual(features, FEATURES, "the checkpoint names the CSV's feature columns");
  const data = parsePlainCsv(Deno.readTextFileSync(join(dir, input)));
  const withLabel = labelColumn !== null && data.header.includes(labelColumn);
  assert.deepEqual(csv.header, [
    "row",
    ...(withLabel ? ["label"] : []),
    "class",
    ...classes.map((c) => `p_${c}`),
  ]);
  assert.equal(csv.rows.length, data.rows.length, "one prediction per row");
  const want = referenceProbabilities(file, columnsOf(data, features));
  const first = withLabel ? 3 : 2;
  return csv.rows.map((row, i) => {
    assert.equal(row[0], String(i + 1), "rows are numbered from 1");
    if (withLabel) {
      assert.equal(row[1], data.rows[i][data.header.indexOf(labelColumn!)], `row ${i + 1}: label`);
    }
    const p = row.slice(first).map(Number);
    assert.equal(p.length, classes.length);
    p.forEach((v, k) =>
      assert.ok(
        Math.abs(v - want[i][k]) <= tolerance,
        `row ${i + 1}: p_${classes[k]} = ${v}, the float64 reference ${want[i][k]}`,
      )
    );
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12, `row ${i + 1} sums to 1`);
    assert.equal(row[first - 1], classes[argmax(p)], `row ${i + 1}: the class is the most probable`);
    return p;
  });
}

/**
 * Runs predict in `dir` with `args` and `--output out`, expecting success; the predictions read.
 * `engine`, when given, is the engine the log must name.
 */
async function predictTo(
  dir: string,
  out: string,
  args: readonly string[],
  engine: "cpu" | "gpu" | null = null,
): Promise<PlainCsv> {
  const result = await program("predict", dir, [...args, "--output", out]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "", "with --output nothing goes to stdout");
  if (engine !== null) assert.match(result.stderr, new RegExp(` on ${engine}(;|\n)`), result.stderr);
  return parsePlainCsv(Deno.readTextFileSync(join(dir, out)));
}

Deno.test("predict --device cpu: every probability is the float64 forward pass of the saved model on the standardised CSV", async () => {
  const dir = await workDir();
  try {
    const args = LABELLED_ON_CPU;
    const result = await program("predict", dir, [...args, "--output", "pred.csv"]);
    assert.equal(result.code, 0, result.stderr);
    const csv = parsePlainCsv(Deno.readTextFileSync(join(dir, "pred.csv")));
    const file = readSafetensorsFile(Deno.readFileSync(join(dir, "ft.safetensors")));
    assert.deepEqual(JSON.parse(file.metadata.classes), TARGET_CLASSES);
    const s = JSON.parse(file.metadata.standardization);
    assert.equal(s.kind, "feature", "CSV columns are standardised per feature");
    assert.ok(s.scale[1] < 0.01 && s.scale[2] > 10, `the scales undo the units: ${s.scale}`);
    const p = checkPredictions(dir, "ft.safetensors", "target.csv", csv, 1e-5);

    // The accuracy logged is the share of rows whose most probable class is their label.
    const correct = csv.rows.filter((row, i) => TARGET_CLASSES[argmax(p[i])] === row[1]).length;
    const logged = `accuracy ${(100 * correct / csv.rows.length).toFixed(1)}%`;
    assert.ok(result.stderr.includes(logged), `stderr says ${logged}:\n${result.stderr}`);
    assert.ok(
      correct / csv.rows.length > 0.5,
      "the model learned the blobs (a useful check needs varied rows)",
    );
    assert.ok(new Set(csv.rows.map((row) => row[2])).size > 1, "more than one class predicted");

    // The pretrained model predicts the source's classes on the source file.
    const pre = await predictTo(dir, "pre.csv", [
      "--model",
      "pre.safetensors",
      "--input",
      "source.csv",
      "--label",
      "species",
      "--device",
      "cpu",
    ]);
    assert.deepEqual(pre.header.slice(3), ["p_east", "p_north", "p_south"]);
    checkPredictions(dir, "pre.safetensors", "source.csv", pre, 1e-5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "predict --device gpu: the same probabilities within float32 rounding",
  ignore: !(await gpuAvailable()),
  fn: async () => {
    const dir = await workDir();
    try {
      const args = ["--model", "ft.safetensors", "--input", "target.csv", "--label", "species"];
      const gpu = await predictTo(dir, "gpu.csv", [...args, "--device", "gpu"], "gpu");
      const cpu = await predictTo(dir, "cpu.csv", [...args, "--device", "cpu"], "cpu");
      const p = checkPredictions(dir, "ft.safetensors", "target.csv", gpu, 1e-5);
      cpu.rows.forEach((row, i) =>
        row.slice(3).forEach((v, k) => assert.ok(Math.abs(Number(v) - p[i][k]) <= 1e-5, `row ${i + 1}`))
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Reads the safetensors file and the CSV with struct, json, csv and NumPy alone; prints the probabilities. */
const NUMPY_PREDICT = `
import csv, json, struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
meta = header.pop("__metadata__")
data = raw[8 + n:]
t = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4")
        .reshape(v["shape"]).astype(np.float64) for k, v in header.items()}
features = json.loads(meta["features"])
s = json.loads(meta["standardization"])
with open(sys.argv[2], newline="") as f:
    rows = list(csv.DictReader(f))
x = np.array([[float(r[c]) for c in features] for r in rows], dtype=np.float64)
x = (x - np.array(s["mean"], dtype=np.float64)) * np.array(s["scale"], dtype=np.float64)
layers = len(t) // 2
for l in range(layers):
    x = x @ t[f"{2*l}.weight"].T + t[f"{2*l}.bias"]
    if l < layers - 1:
        x = np.maximum(x, 0)
e = np.exp(x - x.max(axis=1, keepdims=True))
print(json.dumps({"classes": json.loads(meta["classes"]), "p": (e / e.sum(axis=1, keepdims=True)).tolist()}))
`;

Deno.test({
  name: "predict: an independent NumPy reader of the checkpoint and the CSV computes the same probabilities",
  ignore: Deno.env.get("CI") !== "true" && !(await numpyAvailable()),
  fn: async () => {
    const dir = await workDir();
    try {
      const csv = await predictTo(dir, "pred.csv", [
        "--model",
        "ft.safetensors",
        "--input",
        "target.csv",
        "--device",
        "cpu",
      ]);
      const out = await new Deno.Command("python3", {
        args: ["-c", NUMPY_PREDICT, join(dir, "ft.safetensors"), join(dir, "target.csv")],
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const numpy: { classes: string[]; p: number[][] } = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.deepEqual(numpy.classes, TARGET_CLASSES);
      assert.deepEqual(
        csv.header,
        ["row", "class", ...TARGET_CLASSES.map((c) => `p_${c}`)],
        "no label column",
      );
      assert.equal(csv.rows.length, numpy.p.length);
      csv.rows.forEach((row, i) => {
        row.slice(2).forEach((v, k) =>
          assert.ok(
            Math.abs(Number(v) - numpy.p[i][k]) <= 1e-5,
            `row ${i + 1}: ${v} against NumPy ${numpy.p[i][k]}`,
          )
        );
        assert.equal(row[1], numpy.classes[argmax(numpy.p[i])], `row ${i + 1}: NumPy's most probable class`);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("predict without --output writes the CSV alone to stdout, the log lines to stderr, and no file", async () => {
  const dir = await workDir();
  try {
    const args = LABELLED_ON_CPU;
    await predictTo(dir, "file.csv", args);
    const before = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    const log = Deno.readTextFileSync(join(dir, "app.log"));
    const result = await program("predict", dir, args);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      Deno.readTextFileSync(join(dir, "file.csv")),
      "stdout is the CSV, nothing else",
    );
    assert.ok(result.stdout.startsWith("row,label,class,p_blue,p_green,p_red\n"));
    const lines = result.stderr.trimEnd().split("\n");
    assert.ok(
      lines.length >= 1 && lines.every((line) => /^\S+Z (DEBUG|INFO|WARNING) /.test(line)),
      result.stderr,
    );
    assert.ok(lines.some((line) => line.includes("predicted 90 rows")), result.stderr);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), before, "no file written");
    assert.ok(Deno.readTextFileSync(join(dir, "app.log")).startsWith(log), "the log is appended to");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("predict: columns in another order and extra columns give the same predictions; without the label column, no label", async () => {
  const dir = await workDir();
  try {
    const original = parsePlainCsv(Deno.readTextFileSync(join(dir, "target.csv")));
    const columns = ["note", "x3", "species", "x1", "extra", "x0", "x2"];
    const value = (row: string[], name: string, i: number) =>
      name === "note" ? `n${i}` : name === "extra" ? String(i * 1e6) : row[original.header.indexOf(name)];
    const shuffled = [
      columns.join(","),
      ...original.rows.map((row, i) => columns.map((c) => value(row, c, i)).join(",")),
    ];
    Deno.writeTextFileSync(join(dir, "shuffled.csv"), shuffled.join("\n") + "\n");
    const unlabelled = [FEATURES.join(","), ...original.rows.map((row) => row.slice(0, 4).join(","))];
    Deno.writeTextFileSync(join(dir, "unlabelled.csv"), unlabelled.join("\r\n") + "\r\n");

    const args = (input: string, label = ["--label", "species"]) => [
      "--model",
      "ft.safetensors",
      "--input",
      input,
      ...label,
      "--device",
      "cpu",
    ];
    const plain = await predictTo(dir, "plain.csv", args("target.csv"));
    const moved = await predictTo(dir, "moved.csv", args("shuffled.csv"));
    assert.deepEqual(moved, plain, "the same rows, labels and probabilities, bit for bit");

    const bare = await predictTo(dir, "bare.csv", args("unlabelled.csv", [])); // no label column, none asked for
    assert.deepEqual(bare.header, ["row", "class", ...TARGET_CLASSES.map((c) => `p_${c}`)]);
    assert.deepEqual(bare.rows, plain.rows.map((row) => [row[0], ...row.slice(2)]), "the same but the label");
    checkPredictions(dir, "ft.safetensors", "unlabelled.csv", bare, 1e-5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("predict: bad input, models and outputs exit 2 with one line naming the culprit, the existing output untouched", async () => {
  const dir = await workDir();
  try {
    const target = Deno.readTextFileSync(join(dir, "target.csv")).trimEnd().split("\n");
    const edit = (name: string, line: number, change: (fields: string[]) => string[]) => {
      const lines = [...target];
      lines[line - 1] = change(lines[line - 1].split(",")).join(",");
      Deno.writeTextFileSync(join(dir, name), lines.join("\n") + "\n");
    };
    Deno.writeTextFileSync(
      join(dir, "no-x2.csv"),
      target.map((line) => line.split(",").filter((_, j) => j !== 2).join(",")).join("\n") + "\n",
    );
    edit("bad-label.csv", 7, (f) => [...f.slice(0, 4), "purple"]);
    edit("bad-value.csv", 12, (f) => [f[0], "abc", ...f.slice(2)]);
    edit("empty-value.csv", 5, (f) => [f[0], f[1], f[2], " ", f[4]]);
    edit("huge.csv", 9, (f) => [f[0], "3e38", "3e38", "3e38", f[4]]);
    Deno.writeTextFileSync(join(dir, "cr.csv"), target.join("\r") + "\r");
    const keep = "precious, not predictions\n";
    Deno.writeTextFileSync(join(dir, "keep.csv"), keep);
    const model = Deno.readFileSync(join(dir, "ft.safetensors"));
    const input = Deno.readTextFileSync(join(dir, "target.csv"));

    const cases: [string, string[], string[]][] = [
      ["a missing feature column", ["--model", "ft.safetensors", "--input", "no-x2.csv", "-o", "keep.csv"], [
        "no-x2.csv:1:",
        "no column 'x2'",
        "--input",
      ]],
      ["an unknown label", [
        "--model",
        "ft.safetensors",
        "--input",
        "bad-label.csv",
        "--label",
        "species",
        "-o",
        "keep.csv",
      ], [
        "bad-label.csv:7:",
        "'purple'",
        "species",
      ]],
      ["a value that is no number", [
        "--model",
        "ft.safetensors",
        "--input",
        "bad-value.csv",
        "-o",
        "keep.csv",
      ], [
        "bad-value.csv:12:",
        "column 'x1'",
        "'abc'",
      ]],
      ["an empty value", ["--model", "ft.safetensors", "--input", "empty-value.csv", "-o", "keep.csv"], [
        "empty-value.csv:5:",
        "column 'x3'",
        "empty",
      ]],
      ["a model that is a CSV file", ["--model", "target.csv", "--input", "target.csv", "-o", "keep.csv"], [
        "--model target.csv",
        "not a valid safetensors file",
      ]],
      ["a missing model file", ["--model", "none.safetensors", "--input", "target.csv", "-o", "keep.csv"], [
        "none.safetensors",
        "--model",
      ]],
      [
        "a row whose outputs overflow",
        ["--model", "ft.safetensors", "--input", "huge.csv", "-o", "keep.csv"],
        [
          "huge.csv:9:",
          "overflow",
        ],
      ],
      ["a --label that names no column", [
        "--model",
        "ft.safetensors",
        "--input",
        "target.csv",
        "--label",
        "specis",
        "-o",
        "keep.csv",
      ], ["--label specis", "no such column"]],
      ["bare CR line ends", ["--model", "ft.safetensors", "--input", "cr.csv", "-o", "keep.csv"], [
        "cr.csv:1:",
        "CR alone",
      ]],
      ["--output is the input", ["--model", "ft.safetensors", "--input", "target.csv", "-o", "target.csv"], [
        "--output",
        "target.csv",
        "--input",
      ]],
      ["--output is the model", [
        "--model",
        "ft.safetensors",
        "--input",
        "target.csv",
        "-o",
        "ft.safetensors",
      ], [
        "--output",
        "ft.safetensors",
        "--model",
      ]],
      ["no --model", ["--input", "target.csv", "-o", "keep.csv"], ["--model"]],
      ["no --input", ["--model", "ft.safetensors", "-o", "keep.csv"], ["--input"]],
    ];
    for (const [label, args, mentions] of cases) {
      const result = await program("predict", dir, [...args, "--device", "cpu"]);
      assertUsageFailure(result, label, mentions);
      assert.equal(Deno.readTextFileSync(join(dir, "keep.csv")), keep, `${label}: --output untouched`);
      assert.deepEqual(
        Deno.readFileSync(join(dir, "ft.safetensors")),
        model,
        `${label}: the model untouched`,
      );
      assert.equal(Deno.readTextFileSync(join(dir, "target.csv")), input, `${label}: the input untouched`);
    }
    const stray = [...Deno.readDirSync(dir)].map((e) => e.name).filter((name) => name.includes(".tmp"));
    assert.deepEqual(stray, [], "no temporary file left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// deno-lint-ignore no-explicit-any
type Json = any;

Deno.test("run --from a pretrained model of the CSV task transfers exactly as the run that saved it; a synthetic one is refused", async () => {
  const dir = await workDir();
  try {
    const again = await program("run", dir, ["--from", "pre.safetensors", "-o", "b.json"]);
    assert.equal(again.code, 0, again.stderr);
    const [a, b]: Json[] = ["a.json", "b.json"].map((f) => JSON.parse(Deno.readTextFileSync(join(dir, f))));
    assert.deepEqual(b.target, a.target, "the target metrics, bit for bit");
    assert.deepEqual(b.history.target, a.history.target);
    assert.deepEqual(b.source, a.source, "the loaded model measures as the pretrained one did");
    assert.equal(a.config.data.task, "csv");
    assert.equal(a.config.data.n_features, 4);

    // With other source values the model's own standardisation is applied, not one refitted on them:
    // the transfer is still the same, bit for bit, while the source measures differently.
    const source = Deno.readTextFileSync(join(dir, "source.csv")).trimEnd().split("\n");
    const shifted = source.map((line, i) =>
      i === 0 ? line : line.split(",").map((v, j) => (j < 4 ? String(2 * Number(v) + 1) : v)).join(",")
    );
    Deno.writeTextFileSync(join(dir, "shifted.csv"), shifted.join("\n") + "\n");
    Deno.writeTextFileSync(
      join(dir, "shifted.yaml"),
      CONFIG.replace("file: source.csv", "file: shifted.csv"),
    );
    const moved = await program("run", dir, [
      "--config",
      "shifted.yaml",
      "--from",
      "pre.safetensors",
      "-o",
      "c.json",
    ]);
    assert.equal(moved.code, 0, moved.stderr);
    const c: Json = JSON.parse(Deno.readTextFileSync(join(dir, "c.json")));
    assert.deepEqual(c.target, a.target, "the checkpoint's standardisation, not the shifted source's");
    assert.deepEqual(c.history.target, a.history.target);
    assert.notDeepEqual(c.source, a.source, "the source task did change");

    // A model of synthetic tasks of the same widths and feature names.
    Deno.writeTextFileSync(join(dir, "synthetic.yaml"), SYNTHETIC_CONFIG);
    const synthetic = await program("run", dir, [
      "--config",
      "synthetic.yaml",
      "--save-pretrained",
      "syn.safetensors",
      "--save",
      "syn-ft.safetensors",
    ]);
    assert.equal(synthetic.code, 0, synthetic.stderr);
    assert.doesNotMatch(synthetic.stderr, /WARNING/);
    // A fine-tuned model of the same classes is accepted as the pretrained one, with a warning.
    const fromTuned = await program("run", dir, [
      "--config",
      "synthetic.yaml",
      "--from",
      "syn-ft.safetensors",
    ]);
    assert.equal(fromTuned.code, 0, fromTuned.stderr);
    assert.match(
      fromTuned.stderr,
      /WARNING --from syn-ft\.safetensors holds a model fine-tuned by full_finetune/,
    );
    Deno.writeTextFileSync(join(dir, "keep.json"), "{}\n");
    const refused = await program("run", dir, ["--from", "syn.safetensors", "-o", "keep.json"]);
    assertUsageFailure(refused, "--from a synthetic model on a CSV task", [
      "--from",
      "synthetic",
      "data.task is csv",
    ]);
    const back = await program("run", dir, [
      "--config",
      "synthetic.yaml",
      "--from",
      "pre.safetensors",
      "-o",
      "keep.json",
    ]);
    assertUsageFailure(back, "--from a CSV model on synthetic tasks", [
      "--from",
      "real",
      "data.task is synthetic",
    ]);
    // The same features, but the source's classes in another order: the saved head's rows would be read
    // as the wrong classes.
    Deno.writeTextFileSync(
      join(dir, "reordered.yaml"),
      CONFIG.replace(
        "file: source.csv, label: species",
        "file: source.csv, label: species, classes: [south, north, east]",
      ),
    );
    const reordered = await program("run", dir, [
      "--config",
      "reordered.yaml",
      "--from",
      "pre.safetensors",
      "-o",
      "keep.json",
    ]);
    assertUsageFailure(reordered, "--from a model of other source classes", [
      "--from",
      "class 1",
      "'east'",
      "'south'",
    ]);
    assert.equal(Deno.readTextFileSync(join(dir, "keep.json")), "{}\n", "--output untouched");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
