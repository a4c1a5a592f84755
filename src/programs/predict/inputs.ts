/**
 * The rows `predict` classifies: a CSV file with a column per feature (and, optionally, the label
 * column), or an IDX file of inputs such as MNIST's `t10k-images-idx3-ubyte.gz` (and, optionally, an IDX
 * file of labels), told apart by their first bytes.
 *
 * @module
 */

import { parseCsvRows } from "../../app/csv_data.ts";
import { csvText, MAX_DATA_FILE_BYTES, readDataBytes } from "../../app/datasets.ts";
import { looksLikeIdx, parseIdx, pixelNames } from "../../app/idx_data.ts";
import { clip, MAX_PATH_QUOTE } from "../../app/limits.ts";
import { UsageError } from "../../core/errors.ts";
import type { PredictOptions } from "./flags.ts";

/** The column of true labels read from a CSV when `--label` is absent, if the input has it. */
const DEFAULT_LABEL = "label";

/** Rows to predict, with their true labels when the input has them. */
export interface PredictRows {
  /** `n × features` values, in the model's feature order, not yet standardised. */
  readonly x: Float32Array<ArrayBuffer>;
  /** Rows. */
  readonly n: number;
  /** Each row's true label, or null when the input gives none. */
  readonly labels: readonly string[] | null;
  /** Where the labels come from, for messages: ` (column 'species')` for a CSV, empty for IDX labels. */
  readonly labelsFrom: string;
  /** Where row `i` is, for messages: `FILE:LINE` of a CSV, `FILE row N` of an IDX file. */
  readonly where: (i: number) => string;
}

/**
 * The rows of `options.input` for a model of `features`: an IDX file when it starts as one (two zero
 * bytes) or as gzip, else a CSV. Throws {@linkcode UsageError}.
 */
export function readPredictRows(options: PredictOptions, features: readonly string[]): PredictRows {
  const bytes = readDataBytes(
    options.input,
    "the input (--input)",
    "give --input a readable CSV or IDX file",
  );
  return looksLikeIdx(bytes) ? idxRows(options, bytes, features) : csvRows(options, bytes, features);
}

function csvRows(options: PredictOptions, bytes: Uint8Array, features: readonly string[]): PredictRows {
  if (options.inputLabels !== null) {
    throw new UsageError(
      `--input-labels: the input is a CSV file, whose labels are a column; name it with --label instead`,
    );
  }
  const text = csvText(bytes, options.input, "the input (--input)");
  const label = options.label ?? DEFAULT_LABEL;
  const rows = parseCsvRows(text, options.input, features, label, "--input");
  if (options.label !== null && rows.labels === null) {
    throw new UsageError(
      `--label ${clip(options.label)}: ${clip(options.input, MAX_PATH_QUOTE)} has no such column; name its ` +
        `column of true labels, or leave --label out`,
    );
  }
  const file = clip(options.input, MAX_PATH_QUOTE);
  return {
    x: rows.x,
    n: rows.n,
    labels: rows.labels,
    labelsFrom: ` (column '${clip(label)}')`,
    where: (i) => `${file}:${rows.lines[i]}`,
  };
}

function idxRows(options: PredictOptions, bytes: Uint8Array, features: readonly string[]): PredictRows {
  if (options.label !== null) {
    throw new UsageError(
      `--label: the input is an IDX file, which has no columns; give --input-labels instead`,
    );
  }
  const file = clip(options.input, MAX_PATH_QUOTE);
  const images = parseIdx(bytes, options.input, MAX_DATA_FILE_BYTES);
  const width = images.dims.slice(1).reduce((a, b) => a * b, 1);
  const pixels = pixelNames(features.length).every((name, i) => name === features[i]);
  if (images.dims.length < 2 || width !== features.length || !pixels) {
    throw new UsageError(
      `${file}: holds inputs of ${width} values ([${images.dims.join(", ")}]), but the model reads ` +
        `${pixels ? `${features.length} pixels` : `the CSV columns ${clip(features.join(", "))}`}; give an ` +
        `input of the model's shape`,
    );
  }
  const n = images.dims[0];
  return {
    x: images.values,
    n,
    labels: idxLabels(options, n),
    labelsFrom: "",
    where: (i) => `${file} row ${i + 1}`,
  };
}

/** The labels of `--input-labels` (an IDX file of `n` integers), as text; null without the flag. */
function idxLabels(options: PredictOptions, n: number): string[] | null {
  if (options.inputLabels === null) return null;
  const path = options.inputLabels;
  const bytes = readDataBytes(path, "the labels (--input-labels)", "give --input-labels a readable IDX file");
  const labels = parseIdx(bytes, path, MAX_DATA_FILE_BYTES);
  if (labels.dims.length !== 1 || labels.dims[0] !== n) {
    throw new UsageError(
      `${clip(path, MAX_PATH_QUOTE)}: holds labels of shape [${labels.dims.join(", ")}], but the input has ` +
        `${n} rows; give the labels file that belongs to --input`,
    );
  }
  return Array.from(labels.values, String);
}
