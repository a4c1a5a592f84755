/**
 * A user's IDX files (the format of MNIST: an images file and a labels file) as a
 * {@linkcode LabelledPool}. The app layer reads the bytes; this module only parses.
 *
 * An IDX file is a 4-byte magic number (two zero bytes, a type byte and a count of dimensions), that
 * many big-endian uint32 sizes, then the values, big-endian and row-major. Type bytes: `0x08` uint8,
 * `0x09` int8, `0x0B` int16, `0x0C` int32, `0x0D` float32, `0x0E` float64. A file that begins with
 * gzip's magic bytes (`1f 8b`, as the `.gz` files of MNIST) is unzipped first.
 *
 * Every problem is a one-line {@linkcode UsageError} `FILE: what is wrong; how to fix it`, naming the
 * byte offset where one applies.
 *
 * @module
 */

import { gunzipSync } from "node:zlib";
import { errorMessage, UsageError } from "../core/errors.ts";
import type { LabelledPool } from "../core/pool.ts";
import { listedClasses } from "./csv_data.ts";
import { clip, formatBytes, MAX_PATH_QUOTE } from "./limits.ts";

/** The element types of IDX, by name. */
export type IdxType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** An IDX file's contents: its sizes and its values, converted to float32. */
export interface IdxArray {
  /** The size of each dimension, outermost first (for MNIST's images `[60000, 28, 28]`). */
  readonly dims: readonly number[];
  /** Every value in row-major order, `dims`' product of them. */
  readonly values: Float32Array<ArrayBuffer>;
  /** The element type the file stores. */
  readonly type: IdxType;
}

/** Each type byte's type and bytes per value. */
const TYPES: ReadonlyMap<number, { readonly type: IdxType; readonly size: number }> = new Map([
  [0x08, { type: "uint8", size: 1 }],
  [0x09, { type: "int8", size: 1 }],
  [0x0b, { type: "int16", size: 2 }],
  [0x0c, { type: "int32", size: 4 }],
  [0x0d, { type: "float32", size: 4 }],
  [0x0e, { type: "float64", size: 8 }],
]);

/** The largest finite float32; a float64 value beyond it would become an infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Labels must lie below 2²⁴, where float32 stops holding every whole number; class numbers are far smaller. */
const MAX_LABEL = 2 ** 24;

/** Two bytes as `1f 8b`, for messages. */
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");

/**
 * Parses IDX bytes, gunzipping first when they start with gzip's magic 1f 8b. `file` names the file
 * in messages; `maxBytes` bounds both the bytes given and what they unzip to. Throws
 * {@linkcode UsageError} for a corrupt or oversized gzip stream, a file that is not IDX, an unknown
 * type byte, no dimensions or a size of 0, a file shorter or longer than its header promises, and a
 * float value that is not finite or lies beyond float32's range.
 */
export function parseIdx(bytes: Uint8Array, file: string, maxBytes: number): IdxArray {
  const where = clip(file, MAX_PATH_QUOTE);
  const data = unzipped(bytes, where, maxBytes);
  const gz = data === bytes ? "" : " (unzipped)";
  const header = readIdxHeader(data, where, gz);
  checkDataLength(data.length, header, where, gz);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const values = decode(view, header.bytes, header.count, header.kind.type, where);
  return { dims: header.dims, values, type: header.kind.type };
}

/** What an IDX header says: the element type, the sizes, their product, and the header's length in bytes. */
interface IdxHeader {
  readonly kind: { readonly type: IdxType; readonly size: number };
  readonly dims: number[];
  readonly count: number;
  readonly bytes: number;
}

/** The feature names of an input of `count` values (an image's pixels, flattened): `pixel0`, `pixel1`, ... */
export function pixelNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `pixel${i}`);
}

/** Whether `bytes` start as gzip does (1f 8b). */
function gzipped(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Whether `bytes` start as an IDX file (two zero bytes) or as gzip (which IDX files often are). */
export function looksLikeIdx(bytes: Uint8Array): boolean {
  return (bytes.length >= 2 && bytes[0] === 0 && bytes[1] === 0) || gzipped(bytes);
}

/**
 * `bytes`, gunzipped when they start with gzip's magic 1f 8b; throws when they, or what they unzip
 * to, exceed `maxBytes`, or when they do not unzip. `where` is the quoted file.
 */
function unzipped(bytes: Uint8Array, where: string, maxBytes: number): Uint8Array {
  const limit = `the limit of ${formatBytes(maxBytes)}`;
  if (bytes.length > maxBytes) {
    throw new UsageError(
      `${where}: holds ${formatBytes(bytes.length)}, over ${limit}; use a smaller file`,
    );
  }
  if (!gzipped(bytes)) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: Math.max(1, Math.floor(maxBytes)) });
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new UsageError(
        `${where}: unzips to more than ${limit}; use a smaller file (or one that is not a zip bomb)`,
      );
    }
    throw new UsageError(
      `${where}: starts like a gzip file but does not unzip (${
        clip(errorMessage(error))
      }); download it again, or give the file unzipped`,
    );
  }
}

/**
 * The header at the start of `data`: the magic number, type byte, count of dimensions and their
 * sizes, checked. `where` is the quoted file; `gz` marks, in messages, bytes that were unzipped.
 */
function readIdxHeader(data: Uint8Array, where: string, gz: string): IdxHeader {
  if (data.length < 4 || data[0] !== 0 || data[1] !== 0) {
    throw new UsageError(
      `${where}: is not an IDX file: it begins ${
        data.length === 0 ? "with nothing" : hex(data.subarray(0, 4))
      }${gz}, not 00 00 then a type byte; give an IDX file such as MNIST's train-images-idx3-ubyte(.gz)`,
    );
  }
  const kind = TYPES.get(data[2]);
  if (kind === undefined) {
    throw new UsageError(
      `${where}: byte 2 is the IDX type 0x${hex(data.subarray(2, 3))}, which is unknown; the types are ` +
        `08 uint8, 09 int8, 0b int16, 0c int32, 0d float32, 0e float64`,
    );
  }
  const rank = data[3];
  if (rank === 0) {
    throw new UsageError(`${where}: byte 3, the count of dimensions, is 0; an IDX file has at least 1`);
  }
  const bytes = 4 + 4 * rank;
  if (data.length < bytes) {
    throw new UsageError(
      `${where}: truncated: the header's ${rank} dimension sizes need ${bytes} bytes, the file${gz} ` +
        `holds ${data.length}; download the file again`,
    );
  }
  const dims = readDims(new DataView(data.buffer, data.byteOffset, data.byteLength), rank, where);
  return { kind, dims, count: dims.reduce((a, b) => a * b, 1), bytes };
}

/** The `rank` dimension sizes that follow the magic number in `view`; throws for a size of 0. */
function readDims(view: DataView, rank: number, where: string): number[] {
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) {
    const size = view.getUint32(4 + 4 * d);
    if (size === 0) {
      throw new UsageError(
        `${where}: dimension ${d + 1} of ${rank} has size 0 (byte offset ${4 + 4 * d}); an IDX file ` +
          `with no values holds no data, give one that does`,
      );
    }
    dims.push(size);
  }
  return dims;
}

/** Throws unless the `length` bytes of the file hold exactly the data that `header` promises. */
function checkDataLength(length: number, header: IdxHeader, where: string, gz: string): void {
  const { kind, dims } = header;
  const promised = header.count * kind.size;
  const held = length - header.bytes;
  if (promised > held) {
    throw new UsageError(
      `${where}: truncated: the header promises ${promised} bytes of data (${kind.type} [${
        dims.join(", ")
      }]), ` +
        `the file${gz} holds ${held}; download the file again`,
    );
  }
  if (promised < held) {
    throw new UsageError(
      `${where}: ${held - promised} trailing bytes beyond the data, from byte offset ${
        header.bytes + promised
      }` +
        `${gz} (the header promises ${promised} bytes: ${kind.type} [${dims.join(", ")}]); give an ` +
        `unmodified IDX file`,
    );
  }
}

/** `count` values of `type` from `view` at byte `offset`, big-endian, as float32. */
function decode(
  view: DataView,
  offset: number,
  count: number,
  type: IdxType,
  where: string,
): Float32Array<ArrayBuffer> {
  const values = new Float32Array(count);
  switch (type) {
    case "uint8":
      values.set(new Uint8Array(view.buffer, view.byteOffset + offset, count));
      break;
    case "int8":
      values.set(new Int8Array(view.buffer, view.byteOffset + offset, count));
      break;
    case "int16":
      for (let i = 0; i < count; i++) values[i] = view.getInt16(offset + 2 * i);
      break;
    case "int32":
      for (let i = 0; i < count; i++) values[i] = view.getInt32(offset + 4 * i);
      break;
    case "float32":
      for (let i = 0; i < count; i++) {
        const v = view.getFloat32(offset + 4 * i);
        if (!Number.isFinite(v)) refuseFloat(v, i, offset + 4 * i, where);
        values[i] = v;
      }
      break;
    case "float64":
      for (let i = 0; i < count; i++) {
        const v = view.getFloat64(offset + 8 * i);
        if (!(Math.abs(v) <= FLOAT32_MAX)) refuseFloat(v, i, offset + 8 * i, where);
        values[i] = v;
      }
      break;
  }
  return values;
}

/** Throws the {@linkcode UsageError} for value `index`, `v`, at byte `offset`, which float32 cannot hold. */
function refuseFloat(v: number, index: number, offset: number, where: string): never {
  const what = Number.isFinite(v)
    ? `${v}, beyond float32's range (±3.4028235e38)`
    : `${v}, not a finite number`;
  throw new UsageError(
    `${where}: value ${index} (byte offset ${offset}) is ${what}; fix or drop the data that produced it`,
  );
}

/**
 * The task that an IDX images file and its labels file hold: `images` of dims `[n, ...]` (each row
 * the product of the other sizes, flattened as `pixel0`, `pixel1`, ...), `labels` of dims `[n]`, an
 * integer type, with whole values from 0. Class names are the label values in decimal; `classes`
 * (the config key `keyPath` + ".classes") selects and orders them as in the CSV reader, null for
 * every label present, sorted numerically. Rows with other labels are skipped and counted. The pool
 * shares `images.values` when no row is skipped. Throws {@linkcode UsageError} for mismatched
 * shapes or counts, bad labels, a badly listed class or one that has no rows.
 */
export function idxPool(
  images: IdxArray,
  imagesFile: string,
  labels: IdxArray,
  labelsFile: string,
  classes: readonly string[] | null,
  keyPath: string,
): { pool: LabelledPool; skipped: number } {
  const labelsWhere = clip(labelsFile, MAX_PATH_QUOTE);
  const classesKey = `${keyPath}.classes`;
  checkShapes(images, clip(imagesFile, MAX_PATH_QUOTE), labels, labelsWhere);
  const values = labels.values;
  checkLabelValues(values, labelsWhere);
  const classNames = classes === null
    ? presentClasses(values, labelsWhere)
    : [...listedClasses(classes, labelsWhere, classesKey).keys()];
  const { classOf, rowLabels } = classIds(values, classNames, labelsWhere, classesKey);
  const n = values.length, kept = rowLabels.length;
  const features = images.dims.slice(1).reduce((a, b) => a * b, 1);
  return {
    pool: {
      x: kept === n ? images.values : keptRows(images.values, features, values, classOf, kept),
      labels: rowLabels,
      n: kept,
      features,
      classNames,
      featureNames: pixelNames(features),
      origin: imagesFile,
    },
    skipped: n - kept,
  };
}

/** Throws unless `images` is `[n, ...]` and `labels` is `[n]` of an integer type. */
function checkShapes(images: IdxArray, imagesWhere: string, labels: IdxArray, labelsWhere: string): void {
  if (images.dims.length < 2) {
    throw new UsageError(
      `${imagesWhere}: holds ${images.type} [${images.dims.join(", ")}], one dimension; an images file ` +
        `has the image count then each image's sizes (like [60000, 28, 28]); check that it is not the labels file`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new UsageError(
      `${labelsWhere}: holds ${labels.type} [${labels.dims.join(", ")}]; a labels file has one dimension ` +
        `(like [60000]); check that it is not the images file`,
    );
  }
  if (labels.type === "float32" || labels.type === "float64") {
    throw new UsageError(
      `${labelsWhere}: holds ${labels.type} values; labels are class numbers of an integer type ` +
        `(uint8, int8, int16 or int32)`,
    );
  }
  const n = images.dims[0];
  if (labels.dims[0] !== n) {
    throw new UsageError(
      `${labelsWhere}: holds ${labels.dims[0]} labels but ${imagesWhere} holds ${n} images; give the ` +
        `labels file that belongs to these images`,
    );
  }
}

/** Throws unless every label in `values` is a whole number from 0 to below {@linkcode MAX_LABEL}. */
function checkLabelValues(values: Float32Array, labelsWhere: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v < MAX_LABEL && Number.isInteger(v))) {
      throw new UsageError(
        `${labelsWhere}: label ${i} is ${v}; labels are whole class numbers from 0 to below 2^24 ` +
          `(${MAX_LABEL}); check that this is a labels file`,
      );
    }
  }
}

/** Every label in `values`, sorted numerically, in decimal; throws when there are fewer than 2. */
function presentClasses(values: Float32Array, labelsWhere: string): string[] {
  const present = [...new Set(values)].sort((a, b) => a - b);
  if (present.length < 2) {
    throw new UsageError(
      `${labelsWhere}: every row is labelled ${present[0]}; a task needs at least 2 classes, so give ` +
        `a labels file with more`,
    );
  }
  return present.map(String);
}

/**
 * The class id of each row whose label in `values` is one of `classNames` (a name that is not a
 * label in decimal, like `01`, matches none), in row order, and each such label's id; throws when
 * a class has no rows.
 */
function classIds(
  values: Float32Array,
  classNames: readonly string[],
  labelsWhere: string,
  classesKey: string,
): { classOf: Map<number, number>; rowLabels: Uint32Array<ArrayBuffer> } {
  const classOf = new Map<number, number>();
  classNames.forEach((name, k) => {
    if (/^(0|[1-9]\d*)$/.test(name)) classOf.set(Number(name), k);
  });
  const counts = new Array<number>(classNames.length).fill(0);
  const rowLabels = new Uint32Array(values.length);
  let kept = 0;
  for (let i = 0; i < values.length; i++) {
    const k = classOf.get(values[i]);
    if (k === undefined) continue;
    counts[k]++;
    rowLabels[kept++] = k;
  }
  const missing = counts.indexOf(0);
  if (missing >= 0) {
    throw new UsageError(
      `${labelsWhere}: ${classesKey} lists '${clip(classNames[missing])}' but ${labelsWhere} has no row ` +
        `labelled so; remove it from ${classesKey} (labels are written in decimal, like 7)`,
    );
  }
  return { classOf, rowLabels: kept === values.length ? rowLabels : rowLabels.slice(0, kept) };
}

/** The `kept` rows of `images` (each `features` values) whose label in `values` has a class id in `classOf`. */
function keptRows(
  images: Float32Array,
  features: number,
  values: Float32Array,
  classOf: ReadonlyMap<number, number>,
  kept: number,
): Float32Array<ArrayBuffer> {
  const x = new Float32Array(kept * features);
  let row = 0;
  for (let i = 0; i < values.length; i++) {
    if (classOf.has(values[i])) {
      x.set(images.subarray(i * features, (i + 1) * features), row * features);
      row++;
    }
  }
  return x;
}
