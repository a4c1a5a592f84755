/**
 * `predict` on IDX input (MNIST's format): a model trained on the 100-digit fixture classifies the
 * fixture's images as a float64 forward pass of the saved file does, and IDX inputs and labels that
 * do not fit are refused in one line.
 */

import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { runProgram } from "../../helpers/helpers.ts";
import {
  assertUsageFailure,
  parsePlainCsv,
  readSafetensorsFile,
  referenceProbabilities,
} from "../../helpers/real_data.ts";

const FIXTURE = new URL("../../fixtures/", import.meta.url).pathname;
const IMAGES = join(FIXTURE, "digits-100-images-idx3-ubyte.gz");
const LABELS = join(FIXTURE, "digits-100-labels-idx1-ubyte.gz");
const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED,XDG_RUNTIME_DIR,INIT_CWD"];

/** Digits 3, 4, 5 of the fixture as the target (10 rows each: 6 labelled after the test rows). */
const CONFIG = `logging: {file: app.log}
data:
  task: idx
  base_n_samples: 20
  target_n_samples: 20
  test_fraction: 0.2
  source: {images: ${IMAGES}, labels: ${LABELS}, classes: [0, 1, 2]}
  target: {images: ${IMAGES}, labels: ${LABELS}, classes: [3, 4, 5]}
model: {hidden_dim: 16}
engine: {device: cpu}
training: {base_epochs: 3, target_epochs: 3, batch_size: 8}
`;

function program(name: "run" | "predict", dir: string, args: readonly string[]) {
  return runProgram(`src/programs/${name}/main.ts`, args, { cwd: dir, permissions: PERMISSIONS });
}

/** An IDX uint8 file of `dims`, every value `fill`, unzipped. */
function idxBytes(dims: number[], fill: number): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(4 + 4 * dims.length + count).fill(fill);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x0800 + dims.length); // 00 00 08 (uint8) then the dimension count
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  return bytes;
}

Deno.test("predict: an IDX input's rows, read as the model's pixels, get the probabilities a float64 pass gives", async () => {
  const dir = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(join(dir, "config.yaml"), CONFIG);
    const trained = await program("run", dir, ["--save", "model.safetensors"]);
    assert.equal(trained.code, 0, trained.stderr);
    const run = await program("predict", dir, [
      "--model",
      "model.safetensors",
      "--input",
      IMAGES,
      "-o",
      "p.csv",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const out = parsePlainCsv(Deno.readTextFileSync(join(dir, "p.csv")));
    assert.deepEqual(out.header, ["row", "class", "p_3", "p_4", "p_5"]);
    assert.equal(out.rows.length, 100);
    const pixels = gunzipSync(Deno.readFileSync(IMAGES)).subarray(16); // 16 header bytes: [100, 28, 28]
    const rows = Array.from({ length: 100 }, (_, r) => Array.from(pixels.subarray(r * 784, (r + 1) * 784)));
    const want = referenceProbabilities(
      readSafetensorsFile(Deno.readFileSync(join(dir, "model.safetensors"))),
      rows,
    );
    out.rows.forEach((row, r) => {
      assert.equal(row[0], String(r + 1));
      row.slice(2).map(Number).forEach((p, k) =>
        assert.ok(Math.abs(p - want[r][k]) < 1e-5, `row ${r + 1} class ${k}`)
      );
      const best = want[r].indexOf(Math.max(...want[r]));
      assert.equal(row[1], ["3", "4", "5"][best]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("predict: IDX labels the model does not know, of another length, or inputs of another shape are refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(join(dir, "config.yaml"), CONFIG);
    assert.equal((await program("run", dir, ["--save", "model.safetensors"])).code, 0);
    Deno.writeFileSync(join(dir, "short-labels.idx"), idxBytes([99], 3));
    Deno.writeFileSync(join(dir, "narrow.idx"), idxBytes([5, 10], 1));
    Deno.writeTextFileSync(join(dir, "rows.csv"), "a\n1\n");
    const model = ["--model", "model.safetensors"];
    const cases: [string, string[], string[]][] = [
      ["labels the model lacks", ["--input", IMAGES, "--input-labels", LABELS], [
        "row 1:",
        "unknown label '0'",
        "3, 4, 5",
      ]],
      ["labels of another length", ["--input", IMAGES, "--input-labels", "short-labels.idx"], [
        "short-labels.idx",
        "[99]",
        "100 rows",
      ]],
      ["inputs of another shape", ["--input", "narrow.idx"], ["narrow.idx", "10 values", "784 pixels"]],
      ["--label with an IDX input", ["--input", IMAGES, "--label", "y"], ["--label", "--input-labels"]],
      ["--input-labels with a CSV input", ["--input", "rows.csv", "--input-labels", LABELS], [
        "--input-labels",
        "--label",
      ]],
    ];
    for (const [label, args, mentions] of cases) {
      assertUsageFailure(await program("predict", dir, [...model, ...args]), label, mentions);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
