/**
 * The safetensors format (https://github.com/huggingface/safetensors), written and read without any
 * I/O: 8 bytes of little-endian header length N; N bytes of JSON, padded with spaces so that the data
 * starts on an 8-byte boundary: `{"__metadata__": {string: string}, name: {"dtype", "shape",
 * "data_offsets": [begin, end]}, ...}`; then the tensors' little-endian bytes, back to back, offsets
 * counted from the end of the header. Only `F32` and `I32` tensors are written or read.
 *
 * Reading trusts nothing: every length, offset, shape and name is checked, and any defect is a
 * {@linkcode SafetensorsError} naming it, never a wrong tensor.
 *
 * @module
 */

/** The element types this module writes and reads, with their byte widths. */
export const DTYPES = { F32: 4, I32: 4 } as const;

/** One of {@linkcode DTYPES}. */
export type Dtype = keyof typeof DTYPES;

/** A tensor: its element type, shape (row-major) and values. */
export interface Tensor {
  /** `F32` for Float32Array data, `I32` for Int32Array. */
  readonly dtype: Dtype;
  /** Sizes of each dimension; their product is `data.length`. */
  readonly shape: readonly number[];
  /** The values, row-major. */
  readonly data: Float32Array | Int32Array;
}

/** What a file holds: its tensors by name, in header order, and its metadata. */
export interface Safetensors {
  /** By name, in the order of the header. */
  readonly tensors: Map<string, Tensor>;
  /** `__metadata__`: strings by key; empty when absent. */
  readonly metadata: Record<string, string>;
}

/** A file that is not valid safetensors, or not one this module reads; the message says where. */
export class SafetensorsError extends Error {
  /** Names the class in stack traces. */
  override name = "SafetensorsError";
}

/** The largest header read (the reference implementation's limit): 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA = "__metadata__";

/** The file for `tensors` (written in the order given) and `metadata`. */
export function encodeSafetensors(
  tensors: readonly (readonly [string, Tensor])[],
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA] = metadata;
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const bytes = tensor.data.length * DTYPES[tensor.dtype];
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  let at = 8 + text.length;
  for (const [, tensor] of tensors) {
    const view = new DataView(out.buffer, at, tensor.data.length * 4);
    tensor.data.forEach((value, i) =>
      tensor.dtype === "F32" ? view.setFloat32(4 * i, value, true) : view.setInt32(4 * i, value, true)
    );
    at += tensor.data.length * 4;
  }
  return out;
}

/** The tensors and metadata of `bytes`. Throws {@linkcode SafetensorsError} for any defect. */
export function decodeSafetensors(bytes: Uint8Array): Safetensors {
  if (bytes.length < 8) {
    throw new SafetensorsError(`${bytes.length} bytes, too short for the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getBigUint64(0, true);
  if (size > BigInt(MAX_HEADER_BYTES) || size > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(
      `the header claims ${size} bytes, more than the file's ${bytes.length - 8} after its length`,
    );
  }
  const headerBytes = Number(size);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerBytes));
  } catch {
    throw new SafetensorsError("the header is not UTF-8");
  }
  const names = topLevelKeys(text);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new SafetensorsError(`the header names '${clipName(twice)}' twice`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    throw new SafetensorsError("the header is not JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError("the header is not a JSON object");
  }
  const data = bytes.subarray(8 + headerBytes);
  const entries = Object.entries(header as Record<string, unknown>);
  const metadata = readMetadata((header as Record<string, unknown>)[METADATA]);
  const spans: [number, number, string][] = [];
  const tensors = new Map<string, Tensor>();
  for (const [name, entry] of entries) {
    if (name === METADATA) continue;
    const { dtype, shape, begin, end } = readEntry(name, entry, data.length);
    spans.push([begin, end, name]);
    const count = (end - begin) / DTYPES[dtype];
    const values = new DataView(data.buffer, data.byteOffset + begin, end - begin);
    const out = dtype === "F32" ? new Float32Array(count) : new Int32Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = dtype === "F32" ? values.getFloat32(4 * i, true) : values.getInt32(4 * i, true);
    }
    tensors.set(name, { dtype, shape, data: out });
  }
  checkCoverage(spans, data.length);
  return { tensors, metadata };
}

/** One tensor's header entry, checked against the data's length. */
function readEntry(name: string, entry: unknown, dataBytes: number) {
  const where = `tensor '${clipName(name)}'`;
  if (typeof entry !== "object" || entry === null) {
    throw new SafetensorsError(`${where}: its entry is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== "string" || !Object.hasOwn(DTYPES, dtype)) {
    throw new SafetensorsError(
      `${where}: dtype ${JSON.stringify(dtype)?.slice(0, 20)} is not one of ${
        Object.keys(DTYPES).join(", ")
      }`,
    );
  }
  const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new SafetensorsError(`${where}: its shape is not a list of sizes`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw new SafetensorsError(`${where}: its data_offsets are not [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataBytes) {
    throw new SafetensorsError(
      `${where}: its data_offsets [${begin}, ${end}] lie outside the ${dataBytes} bytes of data`,
    );
  }
  const elements = shape.reduce((product: number, n: number) => product * n, 1);
  if (elements * DTYPES[dtype as Dtype] !== end - begin) {
    throw new SafetensorsError(
      `${where}: shape [${shape.join(", ")}] needs ${elements * 4} bytes, its offsets give ${end - begin}`,
    );
  }
  return { dtype: dtype as Dtype, shape: shape as number[], begin, end };
}

/** Refuses spans that overlap or leave bytes of the data unclaimed (as the reference reader does). */
function checkCoverage(spans: [number, number, string][], dataBytes: number): void {
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin < at) throw new SafetensorsError(`tensor '${clipName(name)}' overlaps the one before it`);
    if (begin > at) throw new SafetensorsError(`bytes ${at} to ${begin} of the data belong to no tensor`);
    at = end;
  }
  if (at !== dataBytes) {
    throw new SafetensorsError(`bytes ${at} to ${dataBytes} of the data belong to no tensor`);
  }
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SafetensorsError("__metadata__ is not an object of strings");
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw new SafetensorsError(`__metadata__.${clipName(key)} is not a string`);
  }
  return value as Record<string, string>;
}

/** The keys of the top-level object of JSON `text`, duplicates kept (which JSON.parse would drop). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (depth === 1 && /^\s*:/.test(text.slice(j + 1, j + 64))) {
        try {
          keys.push(JSON.parse(text.slice(i, j + 1)));
        } catch { /* malformed: JSON.parse of the whole header will say so */ }
      }
      i = j;
    }
  }
  return keys;
}

function clipName(name: string): string {
  return name.length > 60 ? `${name.slice(0, 60)}…` : name;
}
