/**
 * Matrix-multiply throughput: the CPU engine's kernels against each GPU schedule, on the shapes of a
 * training step and on squares. Every kernel's output is checked against a float64 reference on
 * sampled elements before it is timed.
 *
 * GPU time comes from timestamp queries around each repetition's compute pass when the device has
 * them; otherwise from the host clock around one submission of many repetitions and a single wait.
 *
 * @module
 */

import { type KernelSet, TS_KERNELS } from "../../engines/cpu/arena.ts";
import { wasmKernels } from "../../engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../../engines/cpu/wasm/runtime.ts";
import { type GpuContext, readBuffers } from "../../engines/gpu/context.ts";
import {
  bufferBytes,
  MATMUL_SCHEDULES,
  MATMUL_VARIANTS,
  matmulDims,
  type MatmulVariant,
  matmulWorkgroups,
  Pipelines,
  Rows,
  STEP_BYTES,
  writeStep,
} from "../../engines/gpu/pipelines.ts";
import { Rng } from "../../core/rng.ts";
import { mapTimings, summarizeTimings, type TimingSummary } from "./timing.ts";

/** `AB`: C = A·B (forward); `AtB`: C = Aᵀ·B (weight gradient); `ABt`: C = A·Bᵀ (input gradient). */
export type Form = "AB" | "AtB" | "ABt";

/** One product to time: C is m×n, the sum runs over k. */
export interface MatmulCase {
  /** For people: the workload, layer and product (`default layer 1 forward`), or `square N`. */
  readonly label: string;
  /** Which operand, if either, is read transposed. */
  readonly form: Form;
  /** Rows of C. */
  readonly m: number;
  /** Length of each dot product: the dimension summed over. */
  readonly k: number;
  /** Columns of C. */
  readonly n: number;
  /** Timed on the GPU schedules alone: a product the CPU kernels would take minutes over. */
  readonly gpuOnly?: boolean;
}

/** One kernel's result on one case. */
export interface KernelResult {
  /** `cpu`, `cpu-wasm-<variant>`, `cpu-wasm-<variant>-<N>t` (on N threads) or `gpu-<schedule>`. */
  readonly kernel: string;
  /**
   * Throughput over {@linkcode REPETITIONS} timed runs, counting 2·m·k·n flops a run; GPU runs are
   * timed by timestamp queries when the device has them, else on the host clock.
   */
  readonly gflops: TimingSummary;
  /** Largest `|got − want| / max(1, |want|)` over the sampled outputs. */
  readonly maxError: number;
  /** Whether `maxError` is below 1e-4. */
  readonly correct: boolean;
}

/** Repetitions timed per kernel and case, after one untimed run (which is also the correctness check). */
export const REPETITIONS = 5;
/** Untimed runs of a CPU kernel before timing, at most, and the most time they may take. */
const WARM_UP_CALLS = 50, WARM_UP_SECONDS = 0.3;

/** The three products of each layer of a training step with `batch` rows. */
export function stepCases(name: string, batch: number, widths: readonly number[]): MatmulCase[] {
  return widths.slice(1).flatMap((outputs, l) => {
    const inputs = widths[l];
    return [
      { label: `${name} layer ${l + 1} forward`, form: "AB", m: batch, k: inputs, n: outputs },
      { label: `${name} layer ${l + 1} weight grad`, form: "AtB", m: inputs, k: batch, n: outputs },
      { label: `${name} layer ${l + 1} input grad`, form: "ABt", m: batch, k: outputs, n: inputs },
    ] satisfies MatmulCase[];
  });
}

/** Square products `size³` in the forward form. */
export function squareCases(sizes: readonly number[]): MatmulCase[] {
  return sizes.map((size) => ({ label: `square ${size}`, form: "AB", m: size, k: size, n: size }));
}

/**
 * Times the CPU engine's TypeScript kernels, its WebAssembly SIMD kernels on one thread and on
 * `threads` when the runtime has them, and, when `gpu` is given, both GPU schedules, on every case.
 */
export async function benchMatmul(
  cases: readonly MatmulCase[],
  gpu: GpuContext | null,
  threads = 2,
): Promise<(MatmulCase & { kernels: KernelResult[] })[]> {
  const schedules = gpu === null
    ? []
    : await Promise.all(MATMUL_SCHEDULES.map((schedule) => Pipelines.create(gpu.device, schedule)));
  const support = detectWasm();
  const wasm = "variant" in support ? support.variant : null;
  const cpuSets: [string, KernelSet][] = [["cpu", TS_KERNELS]];
  if (wasm !== null) cpuSets.push([`cpu-wasm-${wasm}`, await wasmKernels(wasm)]);
  if (wasm !== null && threads > 1) {
    cpuSets.push([`cpu-wasm-${wasm}-${threads}t`, await wasmKernels(wasm, threads)]);
  }
  const results = [];
  try {
    for (const c of cases) {
      const operands = makeOperands(c);
      const kernels = c.gpuOnly ? [] : cpuSets.map(([label, set]) => timeCpu(label, set, c, operands));
      for (const k of schedules) kernels.push(await timeGpu(c, operands, k, gpu!));
      results.push({ ...c, kernels });
    }
  } finally {
    for (const [, set] of cpuSets) set.dispose();
  }
  return results;
}

/** Random operands of a case, and float64 values of sampled outputs to check a kernel against. */
export interface Operands {
  /** A as stored for the case's form (see {@linkcode makeOperands}), random values between −1 and 1. */
  readonly a: Float32Array<ArrayBuffer>;
  /** B as stored for the case's form, random values between −1 and 1. */
  readonly b: Float32Array<ArrayBuffer>;
  /** Sampled output positions and their float64 values. */
  readonly samples: { readonly at: number; readonly want: number }[];
}

/** Stored shapes: AB has A m×k, B k×n; AtB has A k×m, B k×n; ABt has A m×k, B n×k. */
export function makeOperands(c: MatmulCase): Operands {
  const rng = new Rng(c.m * 7919 + c.k * 104729 + c.n);
  const fill = (count: number) => Float32Array.from({ length: count }, () => 2 * rng.uniform() - 1);
  const a = fill(c.m * c.k), b = fill(c.k * c.n);
  const opA = (i: number, p: number) => c.form === "AtB" ? a[p * c.m + i] : a[i * c.k + p];
  const opB = (p: number, j: number) => c.form === "ABt" ? b[j * c.k + p] : b[p * c.n + j];
  const samples = Array.from({ length: Math.min(64, c.m * c.n) }, () => {
    const at = rng.below(c.m * c.n);
    const [i, j] = [Math.floor(at / c.n), at % c.n];
    let want = 0;
    for (let p = 0; p < c.k; p++) want += opA(i, p) * opB(p, j);
    return { at, want };
  });
  return { a, b, samples };
}

/** The largest `|got − want| / max(1, |want|)` over the sampled outputs; a NaN counts as infinite. */
export function sampledError(got: Float32Array, operands: Operands): number {
  return Math.max(...operands.samples.map(({ at, want }) => {
    const error = Math.abs(got[at] - want) / Math.max(1, Math.abs(want));
    return Number.isNaN(error) ? Infinity : error;
  }));
}

function check(
  kernel: string,
  c: MatmulCase,
  got: Float32Array,
  operands: Operands,
  seconds: number[],
): KernelResult {
  const maxError = sampledError(got, operands);
  const flops = 2 * c.m * c.k * c.n;
  return {
    kernel,
    gflops: mapTimings(summarizeTimings(seconds), (s) => flops / s / 1e9),
    maxError,
    correct: maxError < 1e-4,
  };
}

/** Runs `run` once for its output (a copy of `out`), then times REPETITIONS more runs on the host clock. */
function runAndTime(run: () => void, out: Float32Array): [Float32Array, number[]] {
  run();
  const snapshot = out.slice();
  // Warm up for up to WARM_UP_CALLS calls or WARM_UP_SECONDS, whichever ends first: until V8 has
  // compiled the kernel and a worker's hand-off loop, threaded products run hundreds of µs slower.
  for (let call = 1, started = performance.now(); call < WARM_UP_CALLS; call++) {
    if (performance.now() - started > 1000 * WARM_UP_SECONDS) break;
    run();
  }
  const seconds = Array.from({ length: REPETITIONS }, () => {
    const started = performance.now();
    run();
    return (performance.now() - started) / 1000;
  });
  return [snapshot, seconds];
}

/**
 * One of the CPU engine's kernel sets, with its operands in the set's arena, through the products
 * the engine calls.
 */
function timeCpu(label: string, set: KernelSet, c: MatmulCase, { a, b, ...rest }: Operands): KernelResult {
  const arena = set.arena({
    longestSum: Math.max(c.m, c.k, c.n),
  });
  const [storedA, storedB, out] = [arena.alloc(a.length), arena.alloc(b.length), arena.alloc(c.m * c.n)];
  storedA.set(a);
  storedB.set(b);
  const { matmul, matmulTransA, matmulTransB } = arena.kernels;
  const run = () => {
    if (c.form === "AB") matmul(storedA, storedB, out, c.m, c.k, c.n);
    else if (c.form === "AtB") matmulTransA(storedA, storedB, out, c.k, c.m, c.n);
    else matmulTransB(storedA, storedB, out, c.m, c.k, c.n);
  };
  const [snapshot, seconds] = runAndTime(run, out);
  return check(label, c, snapshot, { a, b, ...rest }, seconds);
}

/** The engine's kernel for each form, with an epilogue that leaves the plain product. */
function variantFor(form: Form): MatmulVariant {
  if (form === "AB") return MATMUL_VARIANTS.forward(Rows.direct, false); // + a zero bias
  if (form === "ABt") return MATMUL_VARIANTS.inputGrad(); // masked by an all-positive aux
  return MATMUL_VARIANTS.sgdStep(Rows.direct); // W = 0 − (−1)·P: the product itself
}

async function timeGpu(
  c: MatmulCase,
  operands: Operands,
  pipelines: Pipelines,
  gpu: GpuContext,
): Promise<KernelResult> {
  const { device } = gpu;
  const { STORAGE, UNIFORM, COPY_DST, COPY_SRC } = GPUBufferUsage;
  const make = (data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>, usage: number) => {
    const buffer = device.createBuffer({
      size: bufferBytes(data.byteLength),
      usage: usage | COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const variant = variantFor(c.form);
  const sgd = c.form === "AtB";
  const aux = c.form === "ABt" ? new Float32Array(c.m * c.n).fill(1) : new Float32Array(c.n);
  const dims = matmulDims(sgd ? c.m : 0, c.n, sgd ? 0 : c.k, -1); // the SGD step's rate: W − (−1)·P
  const step = new ArrayBuffer(STEP_BYTES);
  writeStep(step, 0, { rowOffset: 0, rows: sgd ? c.k : c.m, slot: 0, gradScale: 0, index: 0 });
  const buffers = {
    a: make(operands.a, STORAGE),
    b: make(operands.b, STORAGE),
    c: make(new Float32Array(c.m * c.n), STORAGE | COPY_SRC),
    aux: make(aux, STORAGE),
    rowIndex: make(new Uint32Array(4), STORAGE),
    dims: make(dims, UNIFORM),
    step: make(new Uint32Array(step), UNIFORM),
  };
  const group = pipelines.matmulGroup(buffers);
  const pipeline = pipelines.matmul(variant);
  const workgroups = matmulWorkgroups(c.m, c.n, sgd);
  const encodeRun = (pass: GPUComputePassEncoder) => {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group, [0]);
    pass.dispatchWorkgroups(...workgroups);
  };
  await submitAndWait(device, [encodeRun]);
  const [out] = await readBuffers(device, [buffers.c]);
  const got = new Float32Array(out, 0, c.m * c.n);
  const seconds = device.features.has("timestamp-query")
    ? await timestampSeconds(device, encodeRun)
    : await hostSeconds(device, encodeRun);
  for (const buffer of Object.values(buffers)) buffer.destroy();
  return check(`gpu-${pipelines.schedule}`, c, got, operands, seconds);
}

async function submitAndWait(
  device: GPUDevice,
  runs: ((pass: GPUComputePassEncoder) => void)[],
): Promise<void> {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const run of runs) run(pass);
  pass.end();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
}

/** Each repetition in its own pass, timed on the device by timestamp queries. */
async function timestampSeconds(
  device: GPUDevice,
  run: (pass: GPUComputePassEncoder) => void,
): Promise<number[]> {
  const querySet = device.createQuerySet({ type: "timestamp", count: 2 * REPETITIONS });
  const resolved = device.createBuffer({
    size: 16 * REPETITIONS,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const encoder = device.createCommandEncoder();
  for (let r = 0; r < REPETITIONS; r++) {
    const pass = encoder.beginComputePass({
      timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * r, endOfPassWriteIndex: 2 * r + 1 },
    });
    run(pass);
    pass.end();
  }
  encoder.resolveQuerySet(querySet, 0, 2 * REPETITIONS, resolved, 0);
  device.queue.submit([encoder.finish()]);
  const ticks = new BigUint64Array((await readBuffers(device, [resolved]))[0]);
  querySet.destroy();
  resolved.destroy();
  return Array.from({ length: REPETITIONS }, (_, r) => Number(ticks[2 * r + 1] - ticks[2 * r]) / 1e9);
}

/**
 * Host time around one submission of `count` repetitions and one wait, per repetition; sampled
 * REPETITIONS times.
 */
async function hostSeconds(device: GPUDevice, run: (pass: GPUComputePassEncoder) => void): Promise<number[]> {
  const count = 10;
  const seconds = [];
  for (let r = 0; r < REPETITIONS; r++) {
    const started = performance.now();
    await submitAndWait(device, Array.from({ length: count }, () => run));
    seconds.push((performance.now() - started) / 1000 / count);
  }
  return seconds;
}
