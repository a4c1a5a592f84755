/**
 * `Engine.logits` on every engine (the CPU one with each kernel set, and the GPU one): against a
 * float64 forward pass, and its argmax against `evaluate`'s accuracy; and `evaluate` of several
 * datasets at once against the float64 cross-entropy and accuracy of each (one host wait on the GPU).
 */

import assert from "node:assert/strict";
import type { Dataset } from "../../src/core/data.ts";
import type { Engine } from "../../src/core/engine.ts";
import { heModel, type Mlp } from "../../src/core/model.ts";
import { Rng } from "../../src/core/rng.ts";
import { EVAL_BATCH_ROWS } from "../../src/engines/cpu/engine.ts";
import { countGpuWork } from "../../src/programs/bench/gpu_work.ts";
import { gpuAvailable, withGpuEngine } from "../helpers/gpu.ts";
import { onEveryCpuKernelSet, randomFloats } from "../helpers/helpers.ts";

/** Two hidden layers. */
const WIDTHS = [16, 32, 24, 5];
/**
 * More rows than one chunk on either engine, and a whole number of neither: the CPU forwards
 * `EVAL_BATCH_ROWS` (256) rows at a time, the GPU `EVAL_CHUNK_ROWS` (1024), so 2500 is 9 CPU chunks
 * and a partial one, 2 GPU chunks and a partial one.
 */
const ROWS = 2500;
/** Rows of the second dataset: less than one chunk. */
const FEW_ROWS = 7;

/** He weights with nonzero biases, so that a dropped bias shows. */
function testModel(): Mlp {
  const rng = new Rng(11);
  return heModel(WIDTHS, rng).map((layer) => ({
    ...layer,
    bias: Float32Array.from(layer.bias, () => 0.5 * rng.normal()),
  }));
}

/** `x · W + b` layer by layer, ReLU between layers, in float64: `n × classes`, row-major. */
function referenceLogits(model: Mlp, x: Float32Array, n: number): Float64Array {
  let input = Float64Array.from(x);
  model.forEach((layer, l) => {
    const out = new Float64Array(n * layer.outputs);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < layer.outputs; j++) {
        let sum = layer.bias[j];
        for (let i = 0; i < layer.inputs; i++) {
          sum += input[r * layer.inputs + i] * layer.weights[i * layer.outputs + j];
        }
        out[r * layer.outputs + j] = l < model.length - 1 ? Math.max(sum, 0) : sum;
      }
    }
    input = out;
  });
  return input;
}

/** The index of each row's largest value, the first on ties. */
function argmaxRows(values: ArrayLike<number>, n: number, classes: number): Uint32Array<ArrayBuffer> {
  const best = new Uint32Array(n);
  for (let r = 0; r < n; r++) {
    for (let j = 1; j < classes; j++) {
      if (values[r * classes + j] > values[r * classes + best[r]]) best[r] = j;
    }
  }
  return best;
}

/** `n` random rows, labelled by the model's own prediction two times in three and at random otherwise. */
function testData(model: Mlp, n: number, seed: number): Dataset {
  const features = WIDTHS[0], classes = WIDTHS[WIDTHS.length - 1];
  const x = Float32Array.from(randomFloats(n * features, seed));
  const predicted = argmaxRows(referenceLogits(model, x, n), n, classes);
  const rng = new Rng(seed + 1);
  const labels = predicted.map((label) => rng.below(3) === 0 ? rng.below(classes) : label);
  return { x, labels, n, features, classes };
}

/** Logits within float32 rounding of the float64 pass, and argmax accuracy equal to `evaluate`'s, which it returns. */
async function checkLogits(engine: Engine, model: Mlp, data: Dataset): Promise<number> {
  engine.setModel(model);
  const handle = engine.upload(data);
  try {
    const classes = data.classes;
    const got = await engine.logits(handle);
    const want = referenceLogits(model, data.x, data.n);
    assert.equal(got.length, data.n * classes, "n × classes values");
    for (let i = 0; i < want.length; i++) {
      const error = Math.abs(got[i] - want[i]);
      const what = `row ${Math.floor(i / classes)}, class ${i % classes}: ${got[i]} vs ${want[i]}`;
      assert.ok(error <= 1e-5 * Math.abs(want[i]) + 1e-5, what);
    }
    const predicted = argmaxRows(got, data.n, classes);
    const correct = predicted.filter((label, r) => label === data.labels[r]).length;
    const [{ accuracy }] = await engine.evaluate([handle]);
    assert.equal(correct / data.n, accuracy, "argmax of the logits is evaluate's prediction");
    return accuracy;
  } finally {
    engine.release(handle);
  }
}

/** Several chunks with a partial last one, then one partial chunk, on the same engine. */
async function checkEveryRow(engine: Engine): Promise<void> {
  const model = testModel();
  const accuracy = await checkLogits(engine, model, testData(model, ROWS, 5));
  assert.ok(accuracy > 0.5 && accuracy < 1, `the labels are neither all right nor random: ${accuracy}`);
  await checkLogits(engine, model, testData(model, FEW_ROWS, 6));
}

/** Mean float64 cross-entropy and argmax accuracy of `model` on `data`. */
function referenceMetrics(model: Mlp, data: Dataset): { loss: number; accuracy: number } {
  const logits = referenceLogits(model, data.x, data.n), classes = data.classes;
  const predicted = argmaxRows(logits, data.n, classes);
  let loss = 0, correct = 0;
  for (let r = 0; r < data.n; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const top = Math.max(...row);
    loss += Math.log(row.reduce((sum, z) => sum + Math.exp(z - top), 0)) - (row[data.labels[r]] - top);
    if (predicted[r] === data.labels[r]) correct++;
  }
  return { loss: loss / data.n, accuracy: correct / data.n };
}

/**
 * Three datasets (several chunks, a partial one, one row) evaluated in one call: each one's loss
 * within float32 rounding of the float64 cross-entropy, its accuracy exactly the float64 argmax's, and
 * the same numbers as evaluating it alone. Given the GPU's `counts`, the call waits on the host once.
 */
async function checkEvaluateTogether(engine: Engine, counts?: { readonly waits: number }): Promise<void> {
  const model = testModel();
  engine.setModel(model);
  const sets = [testData(model, ROWS, 7), testData(model, FEW_ROWS, 8), testData(model, 1, 9)];
  const handles = sets.map((data) => engine.upload(data));
  try {
    const before = counts?.waits ?? 0;
    const together = await engine.evaluate(handles);
    if (counts) assert.equal(counts.waits - before, 1, "one host wait for all three");
    assert.equal(together.length, sets.length);
    sets.forEach((data, i) => {
      const want = referenceMetrics(model, data);
      const error = Math.abs(together[i].loss - want.loss);
      assert.ok(error <= 1e-5 * want.loss + 1e-6, `dataset ${i}: loss ${together[i].loss} vs ${want.loss}`);
      assert.equal(together[i].accuracy, want.accuracy, `dataset ${i}'s accuracy`);
    });
    for (const [i, handle] of handles.entries()) {
      assert.deepEqual(await engine.evaluate([handle]), [together[i]], `dataset ${i} alone`);
    }
    assert.deepEqual(await engine.evaluate([]), [], "nothing to evaluate");
  } finally {
    handles.forEach((handle) => engine.release(handle));
  }
}

Deno.test("logits test: the row count crosses chunks on both engines and fills neither's last", () => {
  assert.ok(ROWS > 1024 && ROWS % 1024 !== 0, "the GPU's EVAL_CHUNK_ROWS");
  assert.ok(ROWS > EVAL_BATCH_ROWS && ROWS % EVAL_BATCH_ROWS !== 0, "the CPU's EVAL_BATCH_ROWS");
});

onEveryCpuKernelSet("logits", [
  ["every row's logits match a float64 forward pass", checkEveryRow],
  ["evaluate of three datasets at once matches float64 cross-entropy on each", checkEvaluateTogether],
]);

const ignore = !(await gpuAvailable());

Deno.test({
  name: "logits (GPU engine): every row's logits match a float64 forward pass",
  ignore,
  fn: () => withGpuEngine(checkEveryRow),
});

Deno.test({
  name: "evaluate (GPU engine): three datasets at once match float64 cross-entropy on each, in one host wait",
  ignore,
  fn: () => withGpuEngine((engine) => checkEvaluateTogether(engine, countGpuWork())),
});
