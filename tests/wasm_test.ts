/** The WebAssembly SIMD kernel: committed bytes match the generator, results match float64, detection falls back. */

import assert from "node:assert/strict";
import { WASM_FILES } from "../src/cpu/wasm/build.ts";
import { gemmModule, type GemmVariant } from "../src/cpu/wasm/gemm.ts";
import { detectWasm, readModule, WasmGemm } from "../src/cpu/wasm/runtime.ts";
import { maxRelativeError, randomFloats, referenceProduct } from "./helpers.ts";

const VARIANTS: GemmVariant[] = ["relaxed", "simd"];
// 1×1×1 and others under one 6×8 block, exact blocks, blocks with ragged edges, k not a multiple of 4.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [7, 13, 5],
  [6, 5, 8],
  [12, 3, 16],
  [13, 17, 23],
  [37, 53, 29],
  [64, 64, 64],
];

Deno.test("the committed .wasm files are exactly what the generator builds (deno task wasm)", () => {
  for (const variant of VARIANTS) {
    assert.deepEqual(
      readModule(variant),
      gemmModule(variant),
      `${WASM_FILES[variant]} is stale: run deno task wasm`,
    );
  }
});

for (const variant of VARIANTS) {
  Deno.test({
    name: `wasm gemm (${variant}) matches float64 on awkward shapes, writes C alone`,
    fn: () => {
      for (const [m, k, n] of SHAPES) {
        const kernel = new WasmGemm(variant, 1 << 20);
        const a = kernel.alloc(m * k), b = kernel.alloc(k * n);
        const before = kernel.alloc(4), c = kernel.alloc(m * n), after = kernel.alloc(4);
        const panel = kernel.alloc(8 * k);
        a.set(randomFloats(m * k, m + k));
        b.set(randomFloats(k * n, k + n));
        for (const guard of [before, c, after]) guard.fill(NaN);
        kernel.gemm(a, b, c, m, k, n, panel);
        const want = referenceProduct(a, b, m, k, n, (i, p) => i * k + p, (p, j) => p * n + j);
        const error = maxRelativeError(c, want);
        assert.ok(error < 1e-5, `${variant} ${m}x${k}x${n}: relative error ${error}`);
        assert.ok(before.every(Number.isNaN) && after.every(Number.isNaN), "wrote outside C");
      }
    },
  });
}

Deno.test("feature detection: relaxed SIMD, else plain SIMD, else none", () => {
  const same = (x: Uint8Array, y: Uint8Array) => x.length === y.length && x.every((byte, i) => byte === y[i]);
  const refuse = (refused: GemmVariant[]) => (bytes: Uint8Array<ArrayBuffer>) =>
    !refused.some((variant) => same(bytes, gemmModule(variant)));
  assert.equal(detectWasm(readModule, refuse([])), "relaxed");
  assert.equal(detectWasm(readModule, refuse(["relaxed"])), "simd");
  assert.equal(detectWasm(readModule, refuse(["relaxed", "simd"])), null);
  assert.equal(detectWasm(), "relaxed", "Deno 2.9 accepts relaxed SIMD");
});
