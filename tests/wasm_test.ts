/**
 * The WebAssembly SIMD kernel: committed bytes match the generator, results match float64 and the
 * TypeScript engine, the choice falls back when SIMD is refused.
 */

import assert from "node:assert/strict";
import { WASM_FILES } from "../src/cpu/wasm/build.ts";
import { gemmModule, type GemmVariant } from "../src/cpu/wasm/gemm.ts";
import { detectWasm, readModule, WasmGemm } from "../src/cpu/wasm/runtime.ts";
import { TS_KERNELS } from "../src/cpu/arena.ts";
import { CpuEngine } from "../src/cpu/engine.ts";
import { wasmKernels } from "../src/cpu/wasm/kernels.ts";
import { defaultConfig } from "../src/config.ts";
import { UsageError } from "../src/errors.ts";
import { createLogger } from "../src/logger.ts";
import { selectCpuKernels } from "../src/select_engine.ts";
import { STRATEGY_NAMES } from "../src/strategies.ts";
import { pretrain, transfer, uploadData } from "../src/train.ts";
import {
  dataFor,
  maxRelativeError,
  quietLogger,
  randomFloats,
  referenceProduct,
  runProgram,
} from "./helpers.ts";

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
  assert.notEqual(detectWasm(), null, "Deno 2.9 accepts WebAssembly SIMD");
});

Deno.test("CPU engine on the WebAssembly kernels agrees with the TypeScript kernels for every strategy", async () => {
  const run = async (engine: CpuEngine) => {
    const config = defaultConfig();
    const data = uploadData(engine, dataFor(config));
    const source = await pretrain(engine, data, config, quietLogger());
    const results = [source.metrics];
    for (const strategy of STRATEGY_NAMES) {
      results.push((await transfer(engine, data, source.model, strategy, config, quietLogger())).metrics);
    }
    return results;
  };
  const [reference, fast] = [await run(new CpuEngine()), await run(new CpuEngine(wasmKernels("relaxed")))];
  fast.forEach((metrics, i) => {
    for (const split of ["train", "test"] as const) {
      const [got, want] = [metrics[split], reference[i][split]];
      assert.ok(
        Math.abs(got.loss - want.loss) <= 1e-4 * want.loss,
        `run ${i} ${split} loss ${got.loss} vs ${want.loss}`,
      );
      assert.ok(Math.abs(got.accuracy - want.accuracy) <= 0.01, `run ${i} ${split} accuracy`);
    }
  });
});

Deno.test("CPU kernel choice: auto falls back to TypeScript with one line, wasm demands SIMD, ts never asks", () => {
  const lines: string[] = [];
  const log = createLogger({
    level: "INFO",
    file: null,
    maxBytes: 1,
    backupCount: 0,
    console: (l) => lines.push(l),
  });
  assert.equal(selectCpuKernels("auto", log, () => "relaxed").description, "WebAssembly relaxed SIMD matmul");
  assert.equal(selectCpuKernels("auto", log, () => "simd").description, "WebAssembly SIMD matmul");
  assert.deepEqual(lines, []);
  assert.equal(selectCpuKernels("auto", log, () => null), TS_KERNELS);
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /INFO WebAssembly SIMD is not available; the CPU engine uses the TypeScript kernels/,
  );
  assert.throws(
    () => selectCpuKernels("wasm", log, () => null),
    (error: Error) =>
      error instanceof UsageError && /--cpu-kernels wasm: .*no WebAssembly SIMD/.test(error.message),
  );
  let asked = false;
  assert.equal(selectCpuKernels("ts", log, () => (asked = true, "relaxed")), TS_KERNELS);
  assert.equal(asked, false);
});

Deno.test("CLI --cpu-kernels names the kernels in the results", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `logging: {file: ${dir}/app.log}\ndata: {base_n_samples: 300, target_n_samples: 200}\ntraining: {base_epochs: 2, target_epochs: 2}\n`,
  );
  for (
    const [kernels, description] of [["ts", "TypeScript kernels, 1 thread"], [
      "wasm",
      "WebAssembly relaxed SIMD matmul, 1 thread",
    ]]
  ) {
    const run = await runProgram("src/main.ts", [
      "--device",
      "cpu",
      "--cpu-kernels",
      kernels,
      "--output",
      "out.json",
    ], {
      cwd: dir,
      permissions: ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/out.json`)).engine.description, description);
  }
  await Deno.remove(dir, { recursive: true });
});
