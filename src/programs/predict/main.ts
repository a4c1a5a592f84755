/**
 * `deno task predict --model FILE.safetensors --input data.csv [--output predictions.csv] [--label COLUMN]`:
 * the class of every row of a CSV file, by a model `run --save` (or `--save-pretrained`) wrote, with
 * each class's probability (the softmax of the logits), on either engine. The inputs are standardised
 * as the model's were in training (the transform its checkpoint holds). When the input has the label
 * column, each row's true label is written too and the accuracy logged.
 *
 * @module
 */

import { checkNotOverwriting, checkWritable, writeTextFileAtomic } from "../../app/atomic_write.ts";
import { readCheckpoint } from "../../app/checkpoint.ts";
import { type CsvValue, toCsv } from "../../app/csv_write.ts";
import { clip } from "../../app/limits.ts";
import { inferenceWorkload } from "../../app/cost_model.ts";
import { logRoles, openEngine, openLog, protectedInputs, readConfig, runCommand } from "../../app/setup.ts";
import type { Engine } from "../../core/engine.ts";
import { UsageError } from "../../core/errors.ts";
import { standardize } from "../../core/pool.ts";
import { parsePredictArgs, type PredictOptions } from "./flags.ts";
import { type PredictRows, readPredictRows } from "./inputs.ts";

/** Runs the program with `args`; resolves with the exit code. */
export function main(args: readonly string[]): Promise<number> {
  return runCommand(() => parsePredictArgs(args), predict);
}

async function predict(options: PredictOptions): Promise<void> {
  const config = readConfig(options);
  const inputs = [
    ...protectedInputs(options.config),
    { role: "the model (--model)", path: options.model },
    { role: "the input (--input)", path: options.input },
    ...(options.inputLabels === null
      ? []
      : [{ role: "the labels (--input-labels)", path: options.inputLabels }]),
    ...logRoles(config),
  ];
  if (options.output !== null) {
    checkWritable(options.output, "--output");
    checkNotOverwriting(options.output, "--output", inputs);
  }
  const { model, info } = readCheckpoint(options.model, null, "--model");
  const rows = readPredictRows(options, info.features);
  const truth = rows.labels === null ? null : classIndices(rows, info.classes);
  const x = info.standardization === null ? rows.x : standardize(rows.x, info.standardization);
  const log = openLog(config);
  let engine: Engine | null = null;
  try {
    engine = await openEngine(options, config, log, inferenceWorkload(model, rows.n));
    engine.setModel(model);
    const classes = info.classes.length;
    const data = engine.upload({
      x,
      labels: truth ?? new Uint32Array(rows.n),
      n: rows.n,
      features: x.length / rows.n,
      classes,
    });
    const logits = await engine.logits(data);
    engine.release(data);
    checkFinite(logits, classes, rows);
    const probabilities = softmaxRows(logits, classes);
    const csv = predictionsCsv(probabilities, info.classes, rows.labels);
    if (options.output === null) console.log(csv.trimEnd());
    else writeTextFileAtomic(options.output, csv, "--output");
    const scored = truth === null
      ? ""
      : `; accuracy ${(100 * accuracy(probabilities, truth, classes)).toFixed(1)}%`;
    log.info(`predicted ${rows.n} rows of ${options.input} with ${options.model} on ${engine.name}${scored}`);
  } finally {
    engine?.dispose();
    log.close();
  }
}

/**
 * Refuses logits that are not finite (an input so far outside the training data's range that the
 * float32 arithmetic overflows): its probabilities would be NaN and its class made up.
 */
function checkFinite(logits: Float32Array, classes: number, rows: PredictRows): void {
  const at = logits.findIndex((z) => !Number.isFinite(z));
  if (at < 0) return;
  throw new UsageError(
    `${
      rows.where(Math.floor(at / classes))
    }: the model's outputs for this row overflow float32; its values ` +
      `lie far outside the training data's range, so check the row's scale`,
  );
}

/** Each row's true label as a class index of the model's `classes`; a label the model does not know is refused. */
function classIndices(rows: PredictRows, classes: readonly string[]): Uint32Array<ArrayBuffer> {
  const index = new Map(classes.map((name, k) => [name, k]));
  return Uint32Array.from(rows.labels!, (label, i) => {
    const k = index.get(label);
    if (k !== undefined) return k;
    throw new UsageError(
      `${rows.where(i)}: unknown label '${clip(label)}'${rows.labelsFrom}; the model knows ` +
        `${clip(classes.join(", "))}, so fix the label or give the model's own`,
    );
  });
}

/** The softmax of each row of `logits` (`classes` wide), in float64: `p_k = exp(z_k − max) / Σ exp(z_j − max)`. */
function softmaxRows(logits: Float32Array, classes: number): Float64Array {
  const p = new Float64Array(logits.length);
  for (let row = 0; row < logits.length; row += classes) {
    const z = logits.subarray(row, row + classes);
    const top = Math.max(...z);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += p[row + k] = Math.exp(z[k] - top);
    for (let k = 0; k < classes; k++) p[row + k] /= sum;
  }
  return p;
}

/** The share of rows whose most probable class (the first on ties) is their label. */
function accuracy(p: Float64Array, truth: Uint32Array, classes: number): number {
  return truth.reduce((correct, label, i) => correct + (predicted(p, i, classes) === label ? 1 : 0), 0) /
    truth.length;
}

/** Row `i`'s most probable class, the first on ties. */
function predicted(p: Float64Array, i: number, classes: number): number {
  let best = 0;
  for (let k = 1; k < classes; k++) if (p[i * classes + k] > p[i * classes + best]) best = k;
  return best;
}

/** `row` (1 for the first data row), the true label when known, the class, then `p_<class>` for each. */
function predictionsCsv(
  p: Float64Array,
  classes: readonly string[],
  labels: readonly string[] | null,
): string {
  const header = ["row", ...(labels === null ? [] : ["label"]), "class", ...classes.map((c) => `p_${c}`)];
  const rows = Array.from({ length: p.length / classes.length }, (_, i): CsvValue[] => [
    i + 1,
    ...(labels === null ? [] : [labels[i]]),
    classes[predicted(p, i, classes.length)],
    ...p.subarray(i * classes.length, (i + 1) * classes.length),
  ]);
  return toCsv(header, rows);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
