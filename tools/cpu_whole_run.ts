/**
 * One whole experiment (pretraining, then the four strategies) on the CPU engine's WebAssembly
 * kernels, printing its training seconds, as the benchmark times it: the unit for comparing two
 * versions of the engine side by side, run alternately from two worktrees (docs/BENCHMARKS.md, "CPU
 * threads"). It uses only modules that older versions have too, so a copy runs in their worktree.
 *
 *     deno run --allow-read --allow-env tools/cpu_whole_run.ts [threads (2)] [default|large (large)]
 *
 * @module
 */

import { defaultConfig, experimentSpec } from "../src/app/config.ts";
import { runComparison } from "../src/core/comparison.ts";
import { CpuEngine } from "../src/engines/cpu/engine.ts";
import { wasmKernels } from "../src/engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../src/engines/cpu/wasm/runtime.ts";
import { defaultWorkload, largeWorkload } from "../src/programs/bench/training_bench.ts";

const [threads, workload] = [Number(Deno.args[0] ?? 2), Deno.args[1] ?? "large"];
const support = detectWasm();
const problem = !("variant" in support)
  ? `no WebAssembly SIMD here (${support.unavailable})`
  : !Number.isInteger(threads) || threads < 1
  ? `threads ${Deno.args[0]} is not a whole number of at least 1`
  : workload !== "default" && workload !== "large"
  ? `workload ${workload} is neither default nor large`
  : null;
if (problem !== null || !("variant" in support)) {
  console.error(`error: ${problem}; usage: tools/cpu_whole_run.ts [threads] [default|large]`);
  Deno.exit(2);
}
const config = (workload === "large" ? largeWorkload : defaultWorkload)(defaultConfig());
const engine = new CpuEngine(await wasmKernels(support.variant, threads));
const grid = { seeds: [config.data.random_seed], relatedness: [config.data.relatedness], targetRows: null };
const observer = { epoch() {}, pretrained() {}, finished() {} };
const { pretrainings, runs } = await runComparison(engine, experimentSpec(config), grid, {
  observer,
  stop: () => false,
});
const seconds = [...pretrainings, ...runs].reduce((sum, phase) => sum + phase.seconds, 0);
console.log(`${workload} on ${engine.description}: ${seconds.toFixed(3)} s of training`);
engine.dispose();
