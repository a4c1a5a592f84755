/**
 * A saved model loads into PyTorch's `nn.Sequential` of `nn.Linear` and `nn.ReLU` with a strict
 * `load_state_dict`, as it is, and predicts what `deno task predict` does. Runs where Debian's
 * `python3-torch` is installed (it is not required, even in CI: the NumPy tests read the same bytes).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { writeCheckpoint } from "../../../src/app/checkpoint.ts";
import { defaultConfig } from "../../../src/app/config.ts";
import { heModel } from "../../../src/core/model.ts";
import { Rng } from "../../../src/core/rng.ts";
import { runProgram } from "../../helpers/helpers.ts";

/** Where Debian's python3-torch lives: the system Python, which a PATH python3 (a pyenv, say) may not be. */
const PYTHONS = ["python3", "/usr/bin/python3"];

/** The first Python that imports torch, or null. */
async function torchPython(): Promise<string | null> {
  for (const python of PYTHONS) {
    try {
      const probe = await new Deno.Command(python, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      })
        .output();
      if (probe.success) return python;
    } catch {
      // not installed, or not allowed to run: try the next
    }
  }
  return null;
}

/** Reads the safetensors file by hand, loads it strictly into nn.Sequential, prints softmax rows as JSON. */
const TORCH_PREDICT = String.raw`
import json, struct, sys, torch
path, widths, rows = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
blob = open(path, "rb").read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n])
meta = header.pop("__metadata__")
state = {}
for name, t in header.items():
    begin, end = t["data_offsets"]
    data = bytearray(blob[8 + n + begin:8 + n + end])
    state[name] = torch.frombuffer(data, dtype=torch.float32).reshape(t["shape"]).clone()
layers = []
for i in range(len(widths) - 1):
    layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
    if i < len(widths) - 2:
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers)
model.load_state_dict(state, strict=True)
s = json.loads(meta["standardization"])
x = (torch.tensor(rows, dtype=torch.float64) - torch.tensor(s["mean"], dtype=torch.float64)) * torch.tensor(s["scale"], dtype=torch.float64)
with torch.no_grad():
    p = torch.softmax(model.double()(x), dim=1)
print(json.dumps(p.tolist()))
`;

const python = await torchPython();

Deno.test({
  name:
    "predict: PyTorch loads the checkpoint into nn.Sequential strictly and predicts the same probabilities",
  ignore: python === null,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const widths = [4, 8, 6, 3], rng = new Rng(21);
    const standardization = {
      kind: "feature" as const,
      mean: Float32Array.from([1, -2, 300, 0.5]),
      scale: Float32Array.from([0.5, 2, 0.01, 1]),
    };
    const info = {
      recipe: "full_finetune",
      seed: 1,
      config: defaultConfig(),
      features: ["a", "b", "c", "d"],
      classes: ["x", "y", "z"],
      standardization,
    };
    writeCheckpoint(join(dir, "m.safetensors"), heModel(widths, rng), info, "--save");
    const rows = Array.from(
      { length: 7 },
      () => [rng.normal() + 1, rng.normal() * 3, 300 + rng.normal() * 90, 0],
    );
    await Deno.writeTextFile(join(dir, "c.yaml"), "logging: {file: app.log}\n");
    await Deno.writeTextFile(
      join(dir, "in.csv"),
      `d,c,b,a\n${rows.map((r) => [...r].reverse().join(",")).join("\n")}\n`,
    );
    const run = await runProgram(
      "src/programs/predict/main.ts",
      ["--model", "m.safetensors", "--input", "in.csv", "--device", "cpu", "--config", join(dir, "c.yaml")],
      { cwd: dir, permissions: ["--allow-read", "--allow-write", "--allow-env"] },
    );
    assert.equal(run.code, 0, run.stderr);
    const ours = run.stdout.trim().split("\n").slice(1).map((line) => line.split(",").slice(2).map(Number));
    const out = await new Deno.Command(python!, {
      args: ["-c", TORCH_PREDICT, join(dir, "m.safetensors"), JSON.stringify(widths), JSON.stringify(rows)],
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const theirs: number[][] = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(ours.length, rows.length);
    ours.forEach((row, i) =>
      row.forEach((p, k) =>
        assert.ok(Math.abs(p - theirs[i][k]) < 1e-5, `row ${i + 1}, class ${k}: ${p} vs ${theirs[i][k]}`)
      )
    );
  },
});
