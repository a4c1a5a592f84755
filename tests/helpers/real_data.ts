/**
 * Shared pieces of the real-data suites: CSV tasks written by the tests, a safetensors reader and a
 * float64 forward pass written here (independent of `src/`), and the check of a one-line usage failure.
 */

import assert from "node:assert/strict";
import { Rng } from "../../src/core/rng.ts";
import type { ProgramRun } from "./helpers.ts";

/** One Gaussian blob per class: its label, and each feature's mean. */
export interface Blob {
  readonly label: string;
  readonly mean: readonly number[];
  /** Rows of this class. */
  readonly rows: number;
}

/**
 * CSV text with the header `columns` (the feature columns and `labelColumn`, in that order) and, for
 * each blob in turn interleaved row by row, values `mean + scale · N(0, 1)` written with 6 significant
 * digits. `scales` gives each feature's spread (its unit), `seed` the draw.
 */
export function blobsCsv(
  featureColumns: readonly string[],
  labelColumn: string,
  blobs: readonly Blob[],
  scales: readonly number[],
  seed: number,
): string {
  const rng = new Rng(seed);
  const lines = [[...featureColumns, labelColumn].join(",")];
  const left = blobs.map((b) => b.rows);
  while (left.some((n) => n > 0)) {
    blobs.forEach((blob, k) => {
      if (left[k] === 0) return;
      left[k]--;
      const values = blob.mean.map((m, j) => (m + scales[j] * rng.normal()).toPrecision(6));
      lines.push([...values, blob.label].join(","));
    });
  }
  return `${lines.join("\n")}\n`;
}

/** A CSV file of plain (unquoted) fields: its header and its rows, each a list of strings. */
export interface PlainCsv {
  readonly header: string[];
  readonly rows: string[][];
}

/** Parses CSV text without quotes (what these tests write, and what predict writes for these labels). */
export function parsePlainCsv(text: string): PlainCsv {
  const lines = text.trimEnd().split(/\r?\n/);
  assert.ok(lines.every((line) => !line.includes('"')), "no quoted fields expected");
  return { header: lines[0].split(","), rows: lines.slice(1).map((line) => line.split(",")) };
}

/** The columns `names` of `csv`, each row's values in that order, as float64 numbers. */
export function columnsOf(csv: PlainCsv, names: readonly string[]): number[][] {
  const at = names.map((name) => {
    const i = csv.header.indexOf(name);
    assert.ok(i >= 0, `no column ${name} in ${csv.header}`);
    return i;
  });
  return csv.rows.map((row) => at.map((i) => Number(row[i])));
}

/** A safetensors file read here: F32 tensors as float64 values with their shapes, and the metadata. */
export interface ReadSafetensors {
  readonly tensors: Map<string, { shape: number[]; values: Float64Array }>;
  readonly metadata: Record<string, string>;
}

/**
 * Reads a safetensors file by the format's definition alone: an 8-byte little-endian header length,
 * a JSON header of `{name: {dtype, shape, data_offsets}}` and `__metadata__`, then the data; F32
 * values little-endian.
 */
export function readSafetensorsFile(bytes: Uint8Array): ReadSafetensors {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  const start = 8 + length;
  const tensors = new Map<string, { shape: number[]; values: Float64Array }>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: [begin, end] } = entry as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    assert.equal(dtype, "F32", name);
    const count = shape.reduce((a, b) => a * b, 1);
    assert.equal(end - begin, 4 * count, `${name}: offsets against shape`);
    const values = Float64Array.from(
      { length: count },
      (_, i) => view.getFloat32(start + begin + 4 * i, true),
    );
    tensors.set(name, { shape, values });
  }
  return { tensors, metadata: header.__metadata__ ?? {} };
}

/**
 * Each row's class probabilities by the model in `file`, computed here in float64: the row's values
 * (in the order of the checkpoint's `features`) standardised by its `standardization` metadata, the
 * layers `0.weight` `[out, in]`, `0.bias`, `2.weight`, ... with ReLU between them, and the softmax.
 */
export function referenceProbabilities(file: ReadSafetensors, rows: readonly number[][]): number[][] {
  const s = JSON.parse(file.metadata.standardization) as { mean: number[]; scale: number[] } | null;
  const layers: { w: Float64Array; b: Float64Array; out: number; in: number }[] = [];
  for (let l = 0; file.tensors.has(`${2 * l}.weight`); l++) {
    const w = file.tensors.get(`${2 * l}.weight`)!;
    layers.push({
      w: w.values,
      b: file.tensors.get(`${2 * l}.bias`)!.values,
      out: w.shape[0],
      in: w.shape[1],
    });
  }
  assert.equal(file.tensors.size, 2 * layers.length, "only the layers' tensors");
  return rows.map((row) => {
    let a = s === null ? [...row] : row.map((v, j) => (v - s.mean[j]) * s.scale[j]);
    layers.forEach((layer, l) => {
      assert.equal(a.length, layer.in);
      a = Array.from({ length: layer.out }, (_, o) => {
        let z = layer.b[o];
        for (let i = 0; i < layer.in; i++) z += layer.w[o * layer.in + i] * a[i];
        return l < layers.length - 1 ? Math.max(z, 0) : z;
      });
    });
    const top = Math.max(...a);
    const e = a.map((z) => Math.exp(z - top));
    const sum = e.reduce((x, y) => x + y, 0);
    return e.map((v) => v / sum);
  });
}

/**
 * Asserts a refused run: exit 2, nothing on stdout, exactly one stderr line starting `error: ` that
 * contains each of `mentions`, and no stack trace. Returns the line.
 */
export function assertUsageFailure(result: ProgramRun, label: string, mentions: readonly string[]): string {
  const context = `${label}: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  assert.equal(result.code, 2, context);
  assert.equal(result.stdout, "", `${context}\n(nothing on stdout)`);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${context}\n(one stderr line)`);
  assert.match(lines[0], /^error: /, context);
  assert.doesNotMatch(result.stderr, /^\s*at /m, `${context}\n(no stack trace)`);
  for (const text of mentions) assert.ok(lines[0].includes(text), `${context}\n(mentions '${text}')`);
  return lines[0];
}

/** Whether python3 with NumPy can be run. */
export async function numpyAvailable(): Promise<boolean> {
  try {
    const probe = await new Deno.Command("python3", {
      args: ["-c", "import numpy"],
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.success;
  } catch {
    return false;
  }
}
