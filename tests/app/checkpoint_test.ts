/**
 * Checkpoints: the safetensors writer against the reference implementation's published test vector;
 * models round trip bit for bit; an independent NumPy reader (written here) loads a saved model and
 * computes the logits a float64 forward pass computes; every corruption is one line; and a transfer
 * from a saved pretrained model equals the in-process run bit for bit.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkpointMetadata,
  modelTensors,
  readCheckpoint,
  writeCheckpoint,
} from "../../src/app/checkpoint.ts";
import { defaultConfig } from "../../src/app/config.ts";
import { UsageError } from "../../src/core/errors.ts";
import { heModel, type Mlp } from "../../src/core/model.ts";
import { Rng } from "../../src/core/rng.ts";
import { decodeSafetensors, encodeSafetensors } from "../../src/core/safetensors.ts";
import { bytesOf, runProgram } from "../helpers/helpers.ts";
import { numpyAvailable } from "../helpers/real_data.ts";

const WIDTHS = [20, 32, 3];
const INFO = {
  recipe: "pretrained",
  seed: 42,
  config: defaultConfig(),
  features: Array.from({ length: 20 }, (_, i) => `x${i}`),
  classes: ["0", "1", "2"],
  standardization: null,
};

Deno.test("safetensors: the writer gives the reference implementation's test vector byte for byte", () => {
  // huggingface/safetensors, bindings/python/tests/test_simple.py, test_serialization: an I32 [2, 2]
  // zeros tensor named "test"; the 60-byte header is padded with 4 spaces to 8-byte alignment.
  const header = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}    ';
  const want = new Uint8Array([
    64,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...new TextEncoder().encode(header),
    ...new Array(16).fill(0),
  ]);
  const data = new Int32Array(4);
  assert.deepEqual(encodeSafetensors([["test", { dtype: "I32", shape: [2, 2], data }]]), want);
  data[3] = 1; // the test's second case: data[1, 1] = 1
  const second = encodeSafetensors([["test", { dtype: "I32", shape: [2, 2], data }]]);
  assert.deepEqual([...second.subarray(second.length - 4)], [1, 0, 0, 0]);
  assert.deepEqual(decodeSafetensors(second).tensors.get("test")?.data, data);
});

Deno.test("checkpoint: a model round-trips bit for bit, named and shaped as nn.Sequential of nn.Linear", async () => {
  const dir = await Deno.makeTempDir();
  const model = heModel(WIDTHS, new Rng(4));
  model[1].bias.set([0.5, -0, Number.MIN_VALUE]);
  writeCheckpoint(join(dir, "m.safetensors"), model, INFO, "--save");
  const back = readCheckpoint(join(dir, "m.safetensors"), WIDTHS, "--from").model;
  model.forEach((layer, l) => {
    assert.deepEqual(bytesOf(back[l].weights), bytesOf(layer.weights));
    assert.deepEqual(bytesOf(back[l].bias), bytesOf(layer.bias));
  });
  const file = decodeSafetensors(await Deno.readFile(join(dir, "m.safetensors")));
  assert.deepEqual([...file.tensors].map(([name, t]) => [name, t.shape]), [
    ["0.weight", [32, 20]],
    ["0.bias", [32]],
    ["2.weight", [3, 32]],
    ["2.bias", [3]],
  ]);
  assert.equal(file.tensors.get("0.weight")!.data[1], model[0].weights[32], "W[out][in] = ours[in][out]");
  assert.equal(file.metadata.format, "transfer-learning-finetuning/1");
  assert.deepEqual(JSON.parse(file.metadata.widths), WIDTHS);
  assert.deepEqual(JSON.parse(file.metadata.config), JSON.parse(JSON.stringify(INFO.config)));
  await Deno.remove(dir, { recursive: true });
});

/** The logits of `model` for `x` (rows × features), in float64: ReLU hidden layers, linear head. */
function logits(model: Mlp, x: Float64Array, rows: number): number[][] {
  let a = Array.from(
    { length: rows },
    (_, r) => Array.from(x.subarray(r * model[0].inputs, (r + 1) * model[0].inputs)),
  );
  model.forEach((layer, l) => {
    a = a.map((row) =>
      Array.from({ length: layer.outputs }, (_, j) => {
        let z = layer.bias[j];
        for (let i = 0; i < layer.inputs; i++) z += row[i] * layer.weights[i * layer.outputs + j];
        return l < model.length - 1 ? Math.max(z, 0) : z;
      })
    );
  });
  return a;
}

/** Reads a safetensors file with struct, json and NumPy alone, and prints the logits of the rows given. */
const NUMPY_READER = `
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
t = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4").reshape(v["shape"])
     for k, v in header.items() if k != "__metadata__"}
x = np.array(json.loads(sys.argv[2]), dtype=np.float64)
layers = len(t) // 2
for l in range(layers):
    x = x @ t[f"{2*l}.weight"].astype(np.float64).T + t[f"{2*l}.bias"].astype(np.float64)
    if l < layers - 1:
        x = np.maximum(x, 0)
print(json.dumps(x.tolist()))
`;

Deno.test({
  name: "checkpoint: an independent NumPy reader computes the logits a float64 forward pass does",
  ignore: Deno.env.get("CI") !== "true" && !(await numpyAvailable()),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const model = heModel(WIDTHS, new Rng(9));
    writeCheckpoint(join(dir, "m.safetensors"), model, INFO, "--save");
    const rng = new Rng(2);
    const x = Float64Array.from({ length: 5 * 20 }, () => rng.normal());
    const rows = Array.from({ length: 5 }, (_, r) => Array.from(x.subarray(r * 20, (r + 1) * 20)));
    const out = await new Deno.Command("python3", {
      args: ["-c", NUMPY_READER, join(dir, "m.safetensors"), JSON.stringify(rows)],
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const got: number[][] = JSON.parse(new TextDecoder().decode(out.stdout));
    const want = logits(model, x, 5);
    got.forEach((row, r) =>
      row.forEach((v, j) => assert.ok(Math.abs(v - want[r][j]) < 1e-9, `row ${r} logit ${j}`))
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("checkpoint: every corrupt or mismatching file is one line naming the file and the defect", async () => {
  const dir = await Deno.makeTempDir();
  const model = heModel(WIDTHS, new Rng(5));
  const metadata = checkpointMetadata(model, INFO);
  const saved = (m: Mlp, meta: Record<string, string> = metadata) => encodeSafetensors(modelTensors(m), meta);
  const good = saved(model);
  /** The model with a standardisation of `kind`, mean 0 and `scale` for every feature. */
  const standardized = (kind: string, scale: number) =>
    saved(model, {
      ...metadata,
      standardization: JSON.stringify({ kind, mean: Array(20).fill(0), scale: Array(20).fill(scale) }),
    });
  const header = (
    text: string,
    data = good.subarray(8 + Number(new DataView(good.buffer).getBigUint64(0, true))),
  ) => {
    const json = new TextEncoder().encode(text);
    const out = new Uint8Array(8 + json.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(data, 8 + json.length);
    return out;
  };
  const entry = (name: string, dtype: string, shape: number[], begin: number, end: number) =>
    `"${name}":{"dtype":"${dtype}","shape":[${shape}],"data_offsets":[${begin},${end}]}`;
  const layout = (parts: string[]) =>
    `{${[`"__metadata__":${JSON.stringify(metadata)}`, ...parts].join(",")}}`;
  const sizes = [32 * 20 * 4, 32 * 4, 3 * 32 * 4, 3 * 4];
  const at = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const normal = [
    entry("0.weight", "F32", [32, 20], at[0], at[1]),
    entry("0.bias", "F32", [32], at[1], at[2]),
    entry("2.weight", "F32", [3, 32], at[2], at[3]),
    entry("2.bias", "F32", [3], at[3], at[3] + 12),
  ];
  const cases: [string, Uint8Array, RegExp][] = [
    ["truncated", good.subarray(0, good.length - 5), /data_offsets .* lie outside the/],
    ["too short", good.subarray(0, 5), /5 bytes, too short/],
    [
      "header over the file",
      header("{}".padEnd(8), new Uint8Array(0)).map((b, i) => i === 0 ? 200 : b),
      /the header claims 200 bytes/,
    ],
    ["not JSON", header("{nope"), /the header is not JSON/],
    ["duplicate names", header(layout([...normal, normal[3]])), /names '2\.bias' twice/],
    [
      "overlapping",
      header(layout([normal[0], entry("0.bias", "F32", [32], at[1] - 4, at[2] - 4), normal[2], normal[3]])),
      /overlaps/,
    ],
    [
      "wrong dtype",
      header(layout([normal[0], normal[1], entry("2.weight", "F64", [3, 32], at[2], at[3]), normal[3]])),
      /dtype "F64" is not one of F32, I32/,
    ],
    [
      "shape against offsets",
      header(layout([entry("0.weight", "F32", [32, 19], at[0], at[1]), ...normal.slice(1)])),
      /needs 2432 bytes, its offsets give 2560/,
    ],
    [
      "metadata not strings",
      header(`{"__metadata__":{"seed":42},${normal.join(",")}}`),
      /__metadata__\.seed is not a string/,
    ],
    [
      "missing tensor",
      header(
        layout([normal[0], normal[1], normal[2]]),
        good.subarray(good.length - at[3] - 12, good.length - 12),
      ),
      /bytes .* belong to no tensor|tensor 2\.bias is missing/,
    ],
    [
      "I32 weight",
      header(layout([normal[0], normal[1], entry("2.weight", "I32", [3, 32], at[2], at[3]), normal[3]])),
      /tensor 2\.weight is I32, not F32/,
    ],
    [
      "a model of another width",
      saved(heModel([20, 16, 3], new Rng(1))),
      /tensor 0\.weight has shape \[16, 20\], the model needs \[32, 20\]/,
    ],
    [
      "an extra layer",
      saved(heModel([20, 32, 3, 3], new Rng(1))),
      /tensor 4\.weight is not in the model of 2 layers/,
    ],
    ["no metadata", encodeSafetensors(modelTensors(model)), /format is not transfer-learning-finetuning\/1/],
    ["another format", saved(model, { ...metadata, format: "other/1" }), /format is not/],
    ["widths not JSON", saved(model, { ...metadata, widths: "[20," }), /widths is missing or not JSON/],
    [
      "too few features",
      saved(model, { ...metadata, features: '["x0"]' }),
      /features is not a list of 20 names/,
    ],
    [
      "a class too many",
      saved(model, { ...metadata, classes: '["a","b","c","d"]' }),
      /classes is not a list of 3/,
    ],
    ["a zero scale", standardized("feature", 0), /standardization is not null or \{kind, mean, scale\}/],
    ["an unknown standardization", standardized("minmax", 1), /standardization is not null/],
  ];
  for (const [label, bytes, says] of cases) {
    const path = join(dir, `${label.replaceAll(" ", "_")}.safetensors`);
    await Deno.writeFile(path, bytes);
    assert.throws(
      () => readCheckpoint(path, WIDTHS, "--from"),
      (error: Error) =>
        error instanceof UsageError && error.message.startsWith(`--from ${path}: `) &&
        says.test(error.message) &&
        !error.message.includes("\n"),
      label,
    );
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("CLI: --from a saved pretrained model transfers exactly as the run that saved it; outputs may not collide", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `logging: {file: app.log}\ndata: {base_n_samples: 300, target_n_samples: 200}\ntraining: {base_epochs: 3, target_epochs: 3}\nengine: {device: cpu}\n`,
  );
  const permissions = ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED"];
  const run = (flags: string[]) => runProgram("src/programs/run/main.ts", flags, { cwd: dir, permissions });
  const first = await run(["--save-pretrained", "p.safetensors", "--save", "a.safetensors", "-o", "a.json"]);
  assert.equal(first.code, 0, first.stderr);
  const second = await run(["--from", "p.safetensors", "--save", "b.safetensors", "-o", "b.json"]);
  assert.equal(second.code, 0, second.stderr);
  const [a, b] = await Promise.all(
    ["a.json", "b.json"].map(async (f) => JSON.parse(await Deno.readTextFile(`${dir}/${f}`))),
  );
  assert.deepEqual(b.target, a.target);
  assert.deepEqual(b.history.target, a.history.target);
  assert.deepEqual(b.source, a.source, "the loaded model measures as the pretrained one did");
  const tensors = async (f: string) =>
    [...decodeSafetensors(await Deno.readFile(`${dir}/${f}`)).tensors.values()].map((t) => [...t.data]);
  assert.deepEqual(
    await tensors("b.safetensors"),
    await tensors("a.safetensors"),
    "the fine-tuned models are identical",
  );
  for (
    const flags of [["--save", "config.yaml"], ["--save", "x.json", "-o", "x.json"], [
      "--from",
      "p.safetensors",
      "--save-pretrained",
      "p.safetensors",
    ]]
  ) {
    const refused = await run(flags);
    assert.equal(refused.code, 2, flags.join(" "));
    assert.match(
      refused.stderr,
      /^error: --save(-pretrained)? .* which it would replace; choose another --save(-pretrained)? path\n$|^error: --(save|output) .*\n$/,
    );
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: the standardisation, feature names and classes come back as written, float32 for float32", async () => {
  const dir = await Deno.makeTempDir();
  const rng = new Rng(6);
  const standardization = {
    kind: "feature" as const,
    mean: Float32Array.from({ length: 20 }, () => rng.normal() * 1e3),
    scale: Float32Array.from({ length: 20 }, (_, i) => Math.fround(10 ** (i - 10) * (1 + rng.uniform()))),
  };
  const info = { ...INFO, standardization, classes: ["setosa", "a, b", 'say "hi"'] };
  writeCheckpoint(join(dir, "m.safetensors"), heModel(WIDTHS, rng), info, "--save");
  const back = readCheckpoint(join(dir, "m.safetensors"), null, "--model");
  assert.deepEqual(back.widths, WIDTHS, "the widths come from the metadata when none are given");
  assert.deepEqual(bytesOf(back.info.standardization!.mean), bytesOf(standardization.mean));
  assert.deepEqual(bytesOf(back.info.standardization!.scale), bytesOf(standardization.scale));
  assert.deepEqual(back.info.classes, info.classes);
  assert.deepEqual(back.info.features, INFO.features);
});
