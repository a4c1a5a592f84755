/**
 * `--device auto` with a hardware adapter (src/app/select_engine.ts): it calibrates both engines once,
 * caches the costs per machine, and takes the engine the cost model predicts faster. This machine has
 * no hardware GPU, so the software adapter is dressed up as one: the real GPU engine runs on it, only
 * `isFallbackAdapter` is hidden.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultConfig, experimentSpec } from "../../src/app/config.ts";
import { type EngineCosts, type GpuCosts, runWorkload, type Workload } from "../../src/app/cost_model.ts";
import { selectEngine } from "../../src/app/select_engine.ts";
import { wasmKernels } from "../../src/engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../../src/engines/cpu/wasm/runtime.ts";
import { gpuAvailable } from "../helpers/gpu.ts";
import { recordingLogger } from "../helpers/helpers.ts";

/** The WebAssembly kernels this runtime runs (the CPU engine `auto` weighs is the fast one). */
function detectedVariant() {
  const support = detectWasm();
  if (!("variant" in support)) throw new Error(support.unavailable);
  return support.variant;
}

/** `navigator.gpu`, its adapter reporting itself as hardware. */
const disguisedGpu = {
  async requestAdapter(options?: GPURequestAdapterOptions): Promise<GPUAdapter | null> {
    const adapter = await navigator.gpu.requestAdapter(options);
    if (adapter === null) return null;
    const { vendor, architecture, device, description } = adapter.info;
    const info = {
      vendor,
      architecture,
      device,
      description: `${description} (disguised)`,
      isFallbackAdapter: false,
    };
    return new Proxy(adapter, {
      get: (target, key) => {
        if (key === "info") return info;
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  },
} as unknown as GPU;

const DEFAULT_RUN = runWorkload(experimentSpec(defaultConfig()));

/** Picks an engine for `work` with the cache at `cache`; resolves with its name and the log lines. */
async function pick(work: Workload, cache: string | null): Promise<{ engine: string; lines: string[] }> {
  const lines: string[] = [];
  const engine = await selectEngine("auto", recordingLogger(lines), {
    workload: work,
    gpu: disguisedGpu,
    cpuKernels: () => wasmKernels(detectedVariant(), 1),
    costCache: cache,
  });
  engine.dispose();
  return { engine: engine.name, lines };
}

const haveGpu = await gpuAvailable();

Deno.test({
  name: "auto calibrates once, caches, keeps the default run on the CPU, and follows the cached costs",
  ignore: !haveGpu,
  async fn() {
    const cache = join(Deno.makeTempDirSync(), "sub", "engine-costs.json"); // its folder is made
    const first = await pick(DEFAULT_RUN, cache);
    assert.equal(first.engine, "cpu");
    assert.equal(first.lines.length, 2, first.lines.join("\n"));
    assert.match(first.lines[0], /INFO auto: calibrating both engines for this machine \(.* has none/);
    assert.match(
      first.lines[1],
      /INFO auto: the CPU engine, predicted to take .* s on the CPU and .* s on/,
    );
    const stored = JSON.parse(Deno.readTextFileSync(cache));
    const [[key, entry]] = Object.entries(stored) as [string, { gpu: GpuCosts; cpu: EngineCosts }][];
    // Every cost is measured and stored (how the two compare is the benchmark's to report, not a test's:
    // on llvmpipe the fused kernel's step and a noisy WebAssembly call can come within a few times).
    for (const costs of [entry.gpu.fused, entry.gpu.general, entry.cpu]) {
      for (const value of Object.values(costs)) {
        assert.ok(Number.isFinite(value) && value >= 0, JSON.stringify(entry));
      }
    }
    for (const path of [entry.gpu.fused, entry.gpu.general]) { // each host wait, ≥ 10 ms in Deno
      assert.ok(path.perPhase > 0.005, JSON.stringify(entry));
    }
    const again = await pick(DEFAULT_RUN, cache);
    assert.equal(again.engine, "cpu");
    assert.equal(again.lines.length, 1, "a cached calibration is not measured again");

    const fast: EngineCosts = { perPhase: 0, perEpoch: 0, perLayerStep: 0, flopsPerSecond: 1e15 };
    const fastGpu: GpuCosts = { fused: fast, general: fast };
    const slowCpu: EngineCosts = { perPhase: 1, perEpoch: 1, perLayerStep: 1, flopsPerSecond: 1 };
    Deno.writeTextFileSync(cache, JSON.stringify({ [key]: { gpu: fastGpu, cpu: slowCpu } }));
    const faked = await pick(DEFAULT_RUN, cache);
    assert.equal(faked.engine, "gpu");
    assert.equal(faked.lines.length, 1, faked.lines.join("\n"));
    assert.match(faked.lines[0], /auto: the GPU engine/);

    const older = key.replace(/calibration \d+$/, "calibration 1");
    assert.notEqual(older, key, key);
    Deno.writeTextFileSync(cache, JSON.stringify({ [older]: { gpu: fastGpu, cpu: slowCpu } }));
    const remeasured = await pick(DEFAULT_RUN, cache);
    assert.equal(remeasured.engine, "cpu", "an older calibration's costs are not used");
    assert.match(remeasured.lines[0], /calibrating both engines for this machine/, remeasured.lines[0]);

    Deno.writeTextFileSync(cache, "{not json");
    const redone = await pick(DEFAULT_RUN, cache);
    assert.equal(redone.engine, "cpu");
    assert.match(redone.lines[0], /calibrating both engines for this machine .*unreadable/, redone.lines[0]);
    assert.ok(key in JSON.parse(Deno.readTextFileSync(cache)), "the cache is rewritten");

    const uncached = await pick(DEFAULT_RUN, null);
    assert.match(uncached.lines[0], /calibrating both engines for this machine \(nowhere to cache it/);
  },
});
