/**
 * `deno task bench`'s whole-experiment part alone, for the CPU engine's WebAssembly kernels and the
 * NumPy baseline: pretraining and the four strategies on the `default` and `large` workloads (5 and
 * 3 rounds, each engine running once per round in turn), side by side in one process
 * (docs/BENCHMARKS.md, "Against NumPy").
 *
 *     deno run --allow-read --allow-env --allow-run=python3 tools/whole_run_vs_numpy.ts
 *
 * @module
 */

import { defaultConfig } from "../src/app/config.ts";
import { CpuEngine } from "../src/engines/cpu/engine.ts";
import { wasmKernels } from "../src/engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../src/engines/cpu/wasm/runtime.ts";
import { defaultWorkload, largeWorkload } from "../src/programs/bench/training_bench.ts";
import { benchWholeRuns, engineContender, numpyContender } from "../src/programs/bench/whole_run_bench.ts";

const support = detectWasm();
if (!("variant" in support)) throw new Error(`no WebAssembly SIMD: ${support.unavailable}`);
const base = defaultConfig();
const workloads = [["default", defaultWorkload(base), 5], ["large", largeWorkload(base), 3]] as const;
for (const [name, config, repeats] of workloads) {
  const engine = async (threads: number) => new CpuEngine(await wasmKernels(support.variant, threads));
  const rows = await benchWholeRuns(name, [
    engineContender(config, await engine(1), "cpu-wasm"),
    engineContender(config, await engine(2), "cpu-wasm-2t"),
    numpyContender(config, 1),
    numpyContender(config, 2),
  ], repeats);
  for (const row of rows) {
    const s = row.seconds;
    const time = s === null
      ? row.unavailable
      : `${s.median.toFixed(3)} s [${s.min.toFixed(3)}-${s.max.toFixed(3)}]`;
    console.log(`${name.padEnd(8)} ${row.engine.padEnd(12)} ${time} ${row.detail ?? ""}`);
  }
}
