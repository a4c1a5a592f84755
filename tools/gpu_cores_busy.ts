/**
 * How many CPU cores the GPU engine keeps busy on llvmpipe, which runs WGSL on the CPU: the process's
 * CPU time (user and system) over the wall time of the whole default experiment, on the fused kernel
 * and on the general path in turn, three rounds (docs/BENCHMARKS.md, "What the open targets would
 * need"). About 1 means the adapter ran the work on one core; 2 on this 2-core machine, on both.
 *
 *     deno run --allow-env --allow-read --allow-write tools/gpu_cores_busy.ts
 *
 * @module
 */

import process from "node:process";
import { defaultConfig, experimentSpec } from "../src/app/config.ts";
import { runComparison } from "../src/core/comparison.ts";
import { GpuContext } from "../src/engines/gpu/context.ts";
import { GpuEngine } from "../src/engines/gpu/engine.ts";

const ROUNDS = 3;
const unobserved = { observer: { epoch() {}, pretrained() {}, finished() {} }, stop: () => false };
const config = defaultConfig();
const grid = { seeds: [config.data.random_seed], relatedness: [config.data.relatedness], targetRows: null };
for (let round = 1; round <= ROUNDS; round++) {
  for (const kernels of ["fused", "general"] as const) {
    const engine = await GpuEngine.create(await GpuContext.acquire(), { kernels });
    const [cpu, started] = [process.cpuUsage(), performance.now()];
    await runComparison(engine, experimentSpec(config), grid, unobserved);
    const wall = (performance.now() - started) / 1000, used = process.cpuUsage(cpu);
    const busy = (used.user + used.system) / 1e6 / wall;
    console.log(`round ${round}, ${kernels}: ${wall.toFixed(3)} s, ${busy.toFixed(2)} cores busy`);
    engine.dispose();
  }
}
