/**
 * `deno task compare` on a CSV task, run as a subprocess with `deno task`'s permissions: a small
 * sweep finishes and writes its results; the sweeps that real data cannot take are refused with one
 * line before any folder is made.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, runProgram } from "../../helpers/helpers.ts";
import { assertUsageFailure, type Blob, blobsCsv } from "../../helpers/real_data.ts";

const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED,XDG_RUNTIME_DIR,INIT_CWD"];
const FEATURES = ["a", "b", "c"];
const blobs = (labels: string[], rows: number): Blob[] =>
  labels.map((label, k) => ({ label, mean: [k, 100 * k, -k], rows }));

/** 30 rows of each target class, 20% held out for test: 24 left each, 72 in all. */
const CONFIG = `logging: {file: app.log}
data:
  task: csv
  base_n_samples: 80
  target_n_samples: 60
  random_seed: 5
  source: {file: source.csv}
  target: {file: target.csv}
model: {hidden_dim: 8}
engine: {device: cpu}
training: {base_epochs: 2, target_epochs: 2, batch_size: 16}
`;

async function withTask(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "compare_real_" });
  try {
    Deno.writeTextFileSync(join(dir, "config.yaml"), CONFIG);
    Deno.writeTextFileSync(
      join(dir, "source.csv"),
      blobsCsv(FEATURES, "label", blobs(["p", "q", "r"], 40), [1, 50, 1], 3),
    );
    Deno.writeTextFileSync(
      join(dir, "target.csv"),
      blobsCsv(FEATURES, "label", blobs(["u", "v", "w"], 30), [1, 50, 1], 4),
    );
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const compare = (dir: string, args: string[]) =>
  runProgram("src/programs/compare/main.ts", args, { cwd: dir, permissions: PERMISSIONS });

// deno-lint-ignore no-explicit-any
type Json = any;

Deno.test("compare on a CSV task: two seeds and a sweep up to the largest training set the target allows", async () => {
  await withTask(async (dir) => {
    // Room for training rows: 72 left after the test split, less round(60 · 0.2) = 12 for validation.
    const result = await compare(dir, ["--seeds", "2", "--target-samples", "20,60", "--out-dir", "out"]);
    assert.equal(result.code, 0, result.stderr);
    const results: Json = JSON.parse(Deno.readTextFileSync(join(dir, "out", "results.json")));
    assert.equal(results.complete, true);
    assert.equal(results.config.data.task, "csv");
    assert.equal(results.config.data.n_features, 3);
    assert.equal(results.runs.length, 2 * 4 * 2, "2 seeds × 4 strategies × 2 sizes");
    assert.deepEqual([...new Set(results.runs.map((r: Json) => r.seed))], [5, 6]);
    assert.deepEqual([...new Set(results.runs.map((r: Json) => r.targetTrainRows))].sort(), [20, 60]);
    assert.ok(results.runs.some((r: Json) => r.strategy === "scratch"), "the baseline ran");
    for (const run of results.runs) {
      assert.equal(run.diverged, null);
      for (const split of ["train", "validation", "test"]) {
        const { accuracy, loss } = run.target[split];
        assert.ok(accuracy >= 0 && accuracy <= 1 && Number.isFinite(loss), `${run.strategy} ${split}`);
      }
      // One pretraining per seed: every strategy starts from the same model.
      const same = results.runs.find((r: Json) => r.seed === run.seed);
      assert.deepEqual(run.sourceTest, same.sourceTest);
    }
    const csv = Deno.readTextFileSync(join(dir, "out", "results.csv")).trimEnd().split("\n");
    assert.equal(csv.length, 1 + results.runs.length, "a header and a row per run");
  });
});

Deno.test("compare on a CSV task: --relatedness and a --target-samples beyond the target's rows are refused with one line", async () => {
  await withTask(async (dir) => {
    const related = await compare(dir, ["--seeds", "2", "--relatedness", "0,1", "--out-dir", "out"]);
    assertUsageFailure(related, "--relatedness with a CSV task", ["--relatedness", "data.task is csv"]);
    const large = await compare(dir, ["--seeds", "2", "--target-samples", "20,61", "--out-dir", "out"]);
    assertUsageFailure(large, "--target-samples over the room", ["--target-samples", "61", "at most 60"]);
    assert.ok(!exists(join(dir, "out")), "no folder made");
    assert.ok(!exists(join(dir, "runs")), "no run folder made");
  });
});

Deno.test("compare on a CSV task: no relatedness anywhere, since real data have none", async () => {
  await withTask(async (dir) => {
    // Two sizes, so that figure names and verdicts name their point (a single point names none).
    const result = await compare(dir, ["--seeds", "2", "--target-samples", "20,60", "--out-dir", "out"]);
    assert.equal(result.code, 0, result.stderr);
    const out = join(dir, "out");
    const results: Json = JSON.parse(Deno.readTextFileSync(join(out, "results.json")));
    assert.equal(results.runs.length, 2 * 4 * 2);
    for (const run of results.runs) assert.equal(run.relatedness, null, `${run.seed} ${run.strategy}`);
    for (const point of results.summary.points) assert.equal(point.relatedness, null);
    const csv = Deno.readTextFileSync(join(out, "results.csv")).trimEnd().split("\n").map((l) =>
      l.split(",")
    );
    const column = csv[0].indexOf("relatedness");
    assert.ok(column >= 0, "the CSV keeps its relatedness column");
    assert.deepEqual(csv.slice(1).map((row) => row[column]), results.runs.map(() => ""), "left empty");
    const files = [...Deno.readDirSync(out)].map((entry) => entry.name).sort();
    assert.ok(
      files.includes("learning-curves-n20.svg") && files.includes("sample-efficiency.svg"),
      `${files}`,
    );
    assert.deepEqual(files.filter((name) => name.includes("-r")), [], "no file name carries a relatedness");
    assert.ok(!files.some((name) => name.startsWith("relatedness")), "no figure against relatedness");
    const texts = [
      ["stdout", result.stdout],
      ["stderr", result.stderr],
      ...files.filter((name) => /\.(svg|html)$/.test(name)).map((
        name,
      ) => [name, Deno.readTextFileSync(join(out, name))]),
    ];
    for (const [where, text] of texts) {
      for (const line of text.split("\n")) {
        assert.ok(!/relatedness 0\.9|\br 0\.9/.test(line), `${where}: ${line}`);
        assert.ok(!/relatedness null|\br null/.test(line), `${where}: ${line}`);
      }
    }
    // The verdicts name the point by its size alone.
    assert.match(result.stdout, /^at 20 target training rows: /m);
  });
});
