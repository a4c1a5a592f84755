/**
 * The WebAssembly kernels: the committed module matches its generator; every kernel matches float64
 * and (for the step kernels) the TypeScript kernels bit for bit; products are bit-identical across
 * thread counts; the engine agrees with the TypeScript engine; detection says why SIMD is refused.
 */

import assert from "node:assert/strict";
import { CpuEngine } from "../../../src/engines/cpu/engine.ts";
import {
  addBias,
  type Floats,
  type StepKernels,
  TS_STEP_KERNELS,
} from "../../../src/engines/cpu/reference_kernels.ts";
import { WASM_FILES } from "../../../src/engines/cpu/wasm/build.ts";
import type { GemmVariant } from "../../../src/engines/cpu/wasm/gemm.ts";
import { chunking, wasmKernels } from "../../../src/engines/cpu/wasm/kernel_set.ts";
import { kernelModule } from "../../../src/engines/cpu/wasm/module.ts";
import { detectWasm, readModule, WasmRuntime } from "../../../src/engines/cpu/wasm/runtime.ts";
import { defaultConfig } from "../../../src/app/config.ts";
import { UsageError } from "../../../src/core/errors.ts";
import { STRATEGY_NAMES } from "../../../src/core/recipes.ts";
import { pretrain, transfer } from "../../../src/core/train.ts";
import { experimentOn, maxRelativeError, randomFloats, referenceProduct } from "../../helpers/helpers.ts";

const VARIANTS: GemmVariant[] = ["relaxed", "simd"];
// 1×1×1 and others under one 6×8 block, exact blocks, blocks with ragged edges, k not a multiple of 8.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [7, 13, 5],
  [6, 5, 8],
  [12, 3, 16],
  [13, 17, 23],
  [37, 53, 29],
  [64, 64, 64],
  [32, 20, 3],
];
const FORMS = ["AB", "AtB", "ABt"] as const;

/**
 * `C[m×n]` of the product in `form` on `kernels`: A is m×k (AB, ABt) or stored k×m (AtB), B is k×n
 * (AB, AtB) or stored n×k (ABt).
 */
function formProduct(
  kernels: StepKernels,
  form: typeof FORMS[number],
  a: Floats,
  b: Floats,
  c: Floats,
  m: number,
  k: number,
  n: number,
) {
  if (form === "AB") kernels.matmul(a, b, c, m, k, n);
  else if (form === "AtB") kernels.matmulTransA(a, b, c, k, m, n);
  else kernels.matmulTransB(a, b, c, m, k, n);
}

/** `values` copied into a fresh allocation of `alloc`, with a NaN guard allocated on each side. */
function guarded(alloc: (count: number) => Float32Array, values: ArrayLike<number>) {
  const before = alloc(4), array = alloc(values.length), after = alloc(4);
  before.fill(NaN);
  after.fill(NaN);
  array.set(values);
  return { array, untouched: () => before.every(Number.isNaN) && after.every(Number.isNaN) };
}

Deno.test("the committed .wasm files are exactly what the generator builds (deno task wasm)", () => {
  for (const variant of VARIANTS) {
    assert.deepEqual(
      readModule(variant),
      kernelModule(variant),
      `${WASM_FILES[variant]} is stale: run deno task wasm`,
    );
  }
});

for (const variant of VARIANTS) {
  Deno.test(`wasm products (${variant}) match float64 in every form on awkward shapes, writing C alone`, async () => {
    const set = await wasmKernels(variant);
    for (const [m, k, n] of SHAPES) {
      for (const form of FORMS) {
        const arena = set.arena({ longestSum: Math.max(m, k, n) });
        // AB: A m×k, B k×n. AtB: A stored k×m. ABt: B stored n×k.
        const a = guarded(arena.alloc, randomFloats(m * k, m + k));
        const b = guarded(arena.alloc, randomFloats(k * n, k + n));
        const c = guarded(arena.alloc, new Float32Array(m * n).fill(NaN));
        formProduct(arena.kernels, form, a.array, b.array, c.array, m, k, n);
        const want = referenceProduct(
          a.array,
          b.array,
          m,
          k,
          n,
          form === "AtB" ? (i, p) => p * m + i : (i, p) => i * k + p,
          form === "ABt" ? (p, j) => j * k + p : (p, j) => p * n + j,
        );
        const error = maxRelativeError(c.array, want);
        assert.ok(error < 1e-5, `${variant} ${form} ${m}x${k}x${n}: relative error ${error}`);
        assert.ok(a.untouched() && b.untouched() && c.untouched(), `${form} ${m}x${k}x${n} wrote outside C`);
      }
    }
    set.dispose();
  });
}

/** Runs `step` on `kernels` over arrays from `alloc` holding `inputs`; returns the arrays after. */
function runStep(
  kernels: StepKernels,
  alloc: (count: number) => Floats,
  inputs: Float32Array[],
  step: (kernels: StepKernels, arrays: Floats[]) => void,
): Floats[] {
  const arrays = inputs.map((values) => {
    const array = alloc(values.length);
    array.set(values);
    return array;
  });
  step(kernels, arrays);
  return arrays;
}

/** A step kernel to compare: its inputs for an m×n case, the call, and how far off float64 it may be. */
interface StepCase {
  readonly name: string;
  readonly tolerance: number;
  readonly inputs: (m: number, n: number) => Float32Array[];
  readonly step: (kernels: StepKernels, arrays: Floats[], m: number, n: number) => void;
}

const STEP_CASES: StepCase[] = [{
  name: "reluBackward",
  tolerance: 0,
  inputs: (m, n) => [randomFloats(m * n, 5), randomFloats(m * n, 6)],
  step: (k, [g, a], m, n) => k.reluBackward(g, a, m * n),
}, {
  name: "columnSums",
  tolerance: 1e-5,
  inputs: (m, n) => [randomFloats(m * n, 7), new Float32Array(n).fill(NaN)],
  step: (k, [g, out], m, n) => k.columnSums(g, out, m, n),
}, {
  name: "sgdStep",
  tolerance: 1e-6,
  inputs: (m, n) => [randomFloats(m * n, 8), randomFloats(m * n, 9)],
  step: (k, [w, g]) => k.sgdStep(w, g, 0.05),
}];

for (const variant of VARIANTS) {
  Deno.test(`wasm step kernels (${variant}) equal the TypeScript ones bit for bit and float64 closely`, async () => {
    const set = await wasmKernels(variant);
    for (const { name, tolerance, inputs, step } of STEP_CASES) {
      for (const [m, n] of [[1, 1], [3, 5], [7, 13], [32, 32], [9, 4]]) {
        const arena = set.arena({ longestSum: 1 });
        const values = inputs(m, n);
        const run = (kernels: StepKernels, alloc: (count: number) => Floats) =>
          runStep(kernels, alloc, values, (k, x) => step(k, x, m, n));
        const wasm = run(arena.kernels, arena.alloc);
        const ts = run(TS_STEP_KERNELS, (count) => new Float32Array(count));
        const f64 = run(TS_STEP_KERNELS, (count) => new Float64Array(count));
        wasm.forEach((array, i) => {
          assert.deepEqual(array, ts[i], `${name} ${m}x${n}: array ${i} differs from TypeScript`);
          const error = maxRelativeError(array, f64[i]);
          assert.ok(error <= tolerance, `${name} ${m}x${n}: array ${i} off float64 by ${error}`);
        });
      }
    }
    set.dispose();
  });

  Deno.test(`wasm softmax cross-entropy (${variant}) equals the TypeScript one bit for bit`, async () => {
    const set = await wasmKernels(variant);
    for (const [m, n, scale] of [[1, 1, 1], [9, 4, 3], [33, 3, 10], [5, 10, 1e4]]) {
      const arena = set.arena({ longestSum: n });
      const logits = randomFloats(m * n, m * n).map((v) => scale * v);
      const labelValues = Uint32Array.from({ length: m }, (_, i) => (i * 7) % n);
      const labelSpace = arena.alloc(m),
        labels = new Uint32Array(labelSpace.buffer, labelSpace.byteOffset, m);
      labels.set(labelValues);
      for (const withGrad of [true, false]) {
        const [wasmLogits, wasmGrad] = [arena.alloc(m * n), arena.alloc(m * n).fill(NaN)];
        wasmLogits.set(logits);
        const [got, want] = [{ loss: 0, correct: 0 }, { loss: 0, correct: 0 }];
        arena.kernels.softmaxCrossEntropy(wasmLogits, labels, m, n, withGrad ? wasmGrad : null, 1 / m, got);
        const tsGrad = new Float32Array(m * n).fill(NaN);
        TS_STEP_KERNELS.softmaxCrossEntropy(logits, labelValues, m, n, withGrad ? tsGrad : null, 1 / m, want);
        assert.deepEqual(got, want, `${m}x${n} loss and correct count`);
        assert.deepEqual(wasmGrad, tsGrad, `${m}x${n} gradient`);
      }
    }
    set.dispose();
  });
}

// C narrow (cut along rows) and wide (cut along columns, for 2 and 3 threads: the test below checks
// which), with ragged last blocks, bands and chunks either way.
const THREAD_SHAPES = [[150, 70, 90], [37, 53, 29], [7, 5, 3], [256, 64, 10], [64, 40, 203], [20, 9, 400]];

Deno.test("products are cut along C's columns when it is wide, else along its rows, in whole blocks", () => {
  assert.deepEqual(chunking(256, 512, 2), { alongColumns: true, chunk: 16, chunks: 32 });
  assert.deepEqual(chunking(256, 10, 2), { alongColumns: false, chunk: 36, chunks: 8 }); // 36 = 6 blocks
  assert.deepEqual(chunking(7, 3, 2), { alongColumns: false, chunk: 6, chunks: 2 });
  assert.deepEqual(chunking(5, 3, 4), { alongColumns: false, chunk: 6, chunks: 1 }); // one block: no split
  for (const threads of [2, 3]) {
    const along = THREAD_SHAPES.map(([m, , n]) => chunking(m, n, threads).alongColumns);
    assert.deepEqual(along, [false, false, false, false, true, true], `${threads} threads`);
  }
});

Deno.test("wasm products are bit-identical on 1, 2 and 3 threads in every form, writing C alone", async () => {
  const results = await Promise.all([1, 2, 3].map(async (threads) => {
    const set = await wasmKernels("relaxed", threads, 1);
    const outputs = [];
    for (const form of FORMS) {
      for (const [m, k, n] of THREAD_SHAPES) {
        const arena = set.arena({ longestSum: 256 });
        const a = guarded(arena.alloc, randomFloats(m * k, 1)),
          b = guarded(arena.alloc, randomFloats(k * n, 2));
        const c = guarded(arena.alloc, new Float32Array(m * n).fill(NaN));
        formProduct(arena.kernels, form, a.array, b.array, c.array, m, k, n);
        const untouched = a.untouched() && b.untouched() && c.untouched();
        assert.ok(untouched, `${threads} threads, ${form} ${m}x${k}x${n} wrote outside C`);
        assert.ok(!c.array.some(Number.isNaN), `${threads} threads, ${form} ${m}x${k}x${n} left C unwritten`);
        outputs.push(c.array.slice());
      }
    }
    const split = set.splitProducts;
    set.dispose();
    return { outputs, split };
  }));
  assert.equal(results[0].split, 0);
  const products = FORMS.length * THREAD_SHAPES.length;
  for (const other of results.slice(1)) {
    assert.equal(other.split, products, "every product was cut into chunks for the threads");
    assert.deepEqual(other.outputs, results[0].outputs);
  }
});

Deno.test("the fused bias and ReLU equal the product then the TypeScript bias pass, bit for bit, on 1-3 threads", async () => {
  for (const [variant, threads] of VARIANTS.flatMap((v) => [1, 2, 3].map((t) => [v, t] as const))) {
    const set = await wasmKernels(variant, threads, 1);
    for (const [m, k, n] of [...SHAPES, [20, 9, 400], [64, 40, 203]]) {
      for (const relu of [false, true]) {
        const arena = set.arena({ longestSum: Math.max(m, k, n) });
        const inputs = [randomFloats(m * k, m), randomFloats(k * n, k), randomFloats(n, n)];
        const [x, w, bias] = inputs.map((values) => guarded(arena.alloc, values));
        const out = guarded(arena.alloc, new Float32Array(m * n).fill(NaN));
        arena.kernels.linear(x.array, w.array, bias.array, out.array, m, k, n, relu);
        const want = arena.alloc(m * n);
        arena.kernels.matmul(x.array, w.array, want, m, k, n);
        addBias(want, bias.array, m, n, relu);
        const shape = `${variant}, ${threads} threads, ${m}x${k}x${n}${relu ? " + ReLU" : ""}`;
        const untouched = [x, w, bias, out].every((guard) => guard.untouched());
        assert.ok(untouched, `${shape} wrote outside its output`);
        assert.deepEqual(out.array, want, shape);
      }
    }
    set.dispose();
  }
});

Deno.test("a product that fails on the threads throws, and the next one is whole and right", async () => {
  const [one, two] = [await wasmKernels("relaxed", 1), await wasmKernels("relaxed", 2, 1)];
  const product = (set: typeof one) => {
    const arena = set.arena({ longestSum: 64 });
    const [a, b, c] = [arena.alloc(64 * 48), arena.alloc(48 * 40), arena.alloc(64 * 40)];
    a.set(randomFloats(64 * 48, 3));
    b.set(randomFloats(48 * 40, 4));
    arena.kernels.matmul(a, b, c, 64, 48, 40);
    return c.slice();
  };
  const broken = two.arena({ longestSum: 64 });
  const [a, b, c] = [broken.alloc(8), broken.alloc(64), broken.alloc(8)];
  // A and C run far past the end of memory: every chunk traps, on whichever thread claims it.
  assert.throws(() => broken.kernels.matmul(a, b, c, 1 << 22, 8, 8));
  assert.deepEqual(product(two), product(one));
  one.dispose();
  two.dispose();
});

/** The CPU engine's metrics after pretraining and every strategy, on `kernels`. */
async function everyStrategy(engine: CpuEngine) {
  const config = defaultConfig();
  const data = experimentOn(engine, config);
  const source = await pretrain(engine, data.source, data.spec);
  const results = [source.metrics];
  for (const strategy of STRATEGY_NAMES) {
    results.push((await transfer(engine, data.target, source.model, strategy, data.spec)).metrics);
  }
  engine.dispose();
  return results;
}

Deno.test("CPU engine on the WebAssembly kernels agrees with the TypeScript kernels for every strategy", async () => {
  const [reference, fast] = [
    await everyStrategy(new CpuEngine()),
    await everyStrategy(new CpuEngine(await wasmKernels("relaxed"))),
  ];
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

Deno.test("CPU engine results are identical on 1 and 2 threads, and between runs", async () => {
  const run = async () => everyStrategy(new CpuEngine(await wasmKernels("relaxed", 2, 1)));
  const [one, two, again] = [
    await everyStrategy(new CpuEngine(await wasmKernels("relaxed", 1))),
    await run(),
    await run(),
  ];
  assert.deepEqual(two, one);
  assert.deepEqual(again, two);
});

Deno.test("a model beyond the WebAssembly memory is a one-line usage error, and the allocator survives it", () => {
  const runtime = new WasmRuntime("relaxed");
  const first = runtime.alloc(4);
  assert.throws(
    () => runtime.alloc(2 ** 30 + 1),
    (error: Error) =>
      error instanceof UsageError && !error.message.includes("\n") &&
      /more than the WebAssembly kernels' memory can hold.*use --cpu-kernels ts/.test(error.message),
  );
  assert.equal(runtime.alloc(4).byteOffset, first.byteOffset + 16, "the failed allocation took no space");
});

Deno.test("feature detection: relaxed SIMD, else plain SIMD, else none", () => {
  const same = (x: Uint8Array, y: Uint8Array) => x.length === y.length && x.every((byte, i) => byte === y[i]);
  const refuse = (refused: GemmVariant[]) => (bytes: Uint8Array<ArrayBuffer>) =>
    !refused.some((variant) => same(bytes, kernelModule(variant)));
  assert.deepEqual(detectWasm(readModule, refuse([])), { variant: "relaxed" });
  assert.deepEqual(detectWasm(readModule, refuse(["relaxed"])), { variant: "simd" });
  assert.deepEqual(detectWasm(readModule, refuse(["relaxed", "simd"])), {
    unavailable:
      "this runtime accepts neither kernels_relaxed.wasm nor kernels_simd.wasm (no WebAssembly SIMD)",
  });
  assert.ok("variant" in detectWasm(), "Deno 2.9 accepts WebAssembly SIMD");
  const unreadable = () => {
    throw new Deno.errors.NotCapable('Requires read access to "kernels_relaxed.wasm"');
  };
  assert.deepEqual(detectWasm(unreadable), {
    unavailable: 'cannot read kernels_relaxed.wasm (Requires read access to "kernels_relaxed.wasm")',
  });
});
