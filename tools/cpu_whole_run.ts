/**
 * One whole experiment (pretraining, then the four strategies) on the CPU engine's WebAssembly
 * kernels, printing its training seconds, as the benchmark times it: the unit for comparing two
 * versions of the engine side by side, run alternately from two worktrees (docs/BENCHMARKS.md, "CPU
 * threads"). It uses only modules that older versions have too, so a copy runs in their worktree.
 *
 * With `--kernels`, every kernel call is timed too, and for each kernel and product shape a table
 * gives its calls, its arithmetic (2 flops a multiply-add), its seconds in all, its rate and the 10th,
 * 50th and 90th percentile of one call's milliseconds (docs/BENCHMARKS.md, "What the open targets
 * would need"); timing each call slows the run a little.
 *
 *     deno run --allow-read --allow-env tools/cpu_whole_run.ts [threads (2)] [default|large (large)] [--kernels]
 *
 * @module
 */

import { defaultConfig, experimentSpec } from "../src/app/config.ts";
import { runComparison } from "../src/core/comparison.ts";
import type { Arena, KernelSet } from "../src/engines/cpu/arena.ts";
import { CpuEngine } from "../src/engines/cpu/engine.ts";
import type { StepKernels } from "../src/engines/cpu/reference_kernels.ts";
import { wasmKernels } from "../src/engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../src/engines/cpu/wasm/runtime.ts";
import { defaultWorkload, largeWorkload } from "../src/programs/bench/training_bench.ts";

/** For each product kernel, the positions of m, k and n among its arguments (see `StepKernels`). */
const PRODUCT_DIMS: Partial<Record<keyof StepKernels, [number, number, number]>> = {
  matmul: [3, 4, 5], // (a, b, c, m, k, n): C[m×n] = A[m×k] · B[k×n]
  matmulTransA: [3, 4, 5], // (a, b, c, m, k, n): C[k×n] = Aᵀ · B
  matmulTransB: [3, 4, 5], // (a, b, c, m, n, k): C[m×k] = A · Bᵀ, m·n·k all the same
  linear: [4, 5, 6], // (x, w, bias, out, m, k, n, relu)
};

/** One kernel and shape's calls: how many multiply-adds each, and each call's milliseconds. */
interface Calls {
  readonly macs: number;
  readonly ms: number[];
}

/** `set` with every kernel of its arenas timed into `calls`, by kernel name and product shape. */
function timed(set: KernelSet, calls: Map<string, Calls>): KernelSet {
  const wrap = (arena: Arena): Arena => {
    const kernels = Object.fromEntries(
      Object.entries(arena.kernels).map(([name, kernel]) => {
        const dims = PRODUCT_DIMS[name as keyof StepKernels];
        return [name, (...args: number[]) => {
          const started = performance.now();
          const result = (kernel as (...a: number[]) => unknown)(...args);
          const ms = performance.now() - started;
          const shape = dims?.map((at) => args[at]) ?? [];
          const key = shape.length === 0 ? name : `${name} ${shape.join("x")}`;
          const macs = dims === undefined ? 0 : shape.reduce((product, d) => product * d, 1);
          const entry = calls.get(key) ?? { macs, ms: [] };
          entry.ms.push(ms);
          calls.set(key, entry);
          return result;
        }];
      }),
    ) as unknown as StepKernels;
    return { alloc: arena.alloc, kernels };
  };
  return {
    description: set.description,
    arena: (shape) => wrap(set.arena(shape)),
    dispose: () => set.dispose(),
  };
}

/** Each kernel and shape's calls, arithmetic, seconds, rate and per-call percentiles, one line each. */
function printKernelTable(calls: ReadonlyMap<string, Calls>): void {
  const percentile = (sorted: number[], p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  let [flopsInAll, secondsInAll] = [0, 0];
  for (const [key, { macs, ms }] of calls) {
    const sorted = ms.toSorted((a, b) => a - b), total = ms.reduce((sum, t) => sum + t, 0) / 1000;
    const flops = 2 * macs * ms.length;
    [flopsInAll, secondsInAll] = [flopsInAll + flops, secondsInAll + total];
    const rate = macs === 0 ? "" : `  ${(flops / total / 1e9).toFixed(1)} GFLOP/s`;
    const spread = [0.1, 0.5, 0.9].map((p) => percentile(sorted, p).toFixed(3)).join(" / ");
    console.log(
      `${key.padEnd(28)} ${String(ms.length).padStart(6)} calls  ${
        (flops / 1e9).toFixed(1).padStart(6)
      } GFLOP  ` +
        `${total.toFixed(3)} s${rate}  (ms a call, p10 / p50 / p90: ${spread})`,
    );
  }
  console.log(`kernels: ${(flopsInAll / 1e9).toFixed(1)} GFLOP in ${secondsInAll.toFixed(3)} s`);
}

const byKernel = Deno.args.includes("--kernels");
const positional = Deno.args.filter((arg) => arg !== "--kernels");
const [threads, workload] = [Number(positional[0] ?? 2), positional[1] ?? "large"];
const support = detectWasm();
const problem = !("variant" in support)
  ? `no WebAssembly SIMD here (${support.unavailable})`
  : !Number.isInteger(threads) || threads < 1
  ? `threads ${positional[0]} is not a whole number of at least 1`
  : workload !== "default" && workload !== "large"
  ? `workload ${workload} is neither default nor large`
  : positional.length > 2
  ? `${positional[2]} is not an option`
  : null;
if (problem !== null || !("variant" in support)) {
  console.error(`error: ${problem}; usage: tools/cpu_whole_run.ts [threads] [default|large] [--kernels]`);
  Deno.exit(2);
}
const config = (workload === "large" ? largeWorkload : defaultWorkload)(defaultConfig());
const calls = new Map<string, Calls>();
const kernels = await wasmKernels(support.variant, threads);
const engine = new CpuEngine(byKernel ? timed(kernels, calls) : kernels);
const grid = { seeds: [config.data.random_seed], relatedness: [config.data.relatedness], targetRows: null };
const observer = { epoch() {}, pretrained() {}, finished() {} };
const { pretrainings, runs } = await runComparison(engine, experimentSpec(config), grid, {
  observer,
  stop: () => false,
});
const seconds = [...pretrainings, ...runs].reduce((sum, phase) => sum + phase.seconds, 0);
console.log(`${workload} on ${engine.description}: ${seconds.toFixed(3)} s of training`);
engine.dispose();
if (byKernel) printKernelTable(calls);
