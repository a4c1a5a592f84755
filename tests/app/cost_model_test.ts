/**
 * The cost model `--device auto` chooses by (src/app/cost_model.ts) and its calibration
 * (src/app/calibration.ts): predictions against the formula worked out by hand, the default run's
 * workload counted from the config's numbers, the choice on shapes where the answer is clear, and the
 * calibration recovering known costs from an engine that simulates them on a fake clock.
 */

import assert from "node:assert/strict";
import { calibrateEngine, calibrateGpuEngine, FUSED_PROBES } from "../../src/app/calibration.ts";
import { costCachePath, readCachedCosts, writeCachedCosts } from "../../src/app/cost_cache.ts";
import { defaultConfig, experimentSpec } from "../../src/app/config.ts";
import {
  chooseEngine,
  type EngineCosts,
  type GpuCosts,
  predictGpuSeconds,
  predictSeconds,
  runWorkload,
  type Workload,
} from "../../src/app/cost_model.ts";
import { fusedLayout } from "../../src/engines/gpu/fused_mlp.ts";
import { FUSED_MEMORY } from "../../src/engines/gpu/pipelines.ts";
import type { KernelChoice } from "../../src/engines/gpu/engine.ts";
import type { Dataset } from "../../src/core/data.ts";
import type { DatasetHandle, Engine, PhaseSpec } from "../../src/core/engine.ts";
import type { Mlp } from "../../src/core/model.ts";

Deno.test("a prediction is waits·perPhase + epochs·perEpoch + steps·layers·perLayerStep + flops/rate, summed over phases", () => {
  const costs: EngineCosts = { perPhase: 0.01, perEpoch: 0.002, perLayerStep: 1e-4, flopsPerSecond: 1e9 };
  const work: Workload = {
    widths: [20, 32, 3],
    phases: [
      { batchSize: 32, steps: 40, epochs: 1, evaluatedRows: 400, waits: 1, fused: true },
      { batchSize: 16, steps: 10, epochs: 2, evaluatedRows: 100, waits: 4, fused: false },
    ],
  };
  const macs = 20 * 32 + 32 * 3; // 736 multiply-adds per row
  const phase1 = 0.01 + 0.002 + 40 * 2 * 1e-4 + (6 * macs * 40 * 32 + 2 * macs * 400) / 1e9;
  const phase2 = 4 * 0.01 + 2 * 0.002 + 10 * 2 * 1e-4 + (6 * macs * 10 * 16 + 2 * macs * 2 * 100) / 1e9;
  assert.ok(Math.abs(predictSeconds(costs, work) - (phase1 + phase2)) < 1e-12);
  // On the GPU the first phase is charged the fused kernel's costs, the second the general path's.
  const fused: EngineCosts = { perPhase: 0.02, perEpoch: 0.001, perLayerStep: 1e-6, flopsPerSecond: 1e8 };
  const fusedPhase1 = 0.02 + 0.001 + 40 * 2 * 1e-6 + (6 * macs * 40 * 32 + 2 * macs * 400) / 1e8;
  const gpu = predictGpuSeconds({ fused, general: costs }, work);
  // ... its evaluation (2 · 736 · 400 flops) at the general path's rate, whose kernels run it.
  const evaluatedThere = fusedPhase1 - 2 * macs * 400 / 1e8 + 2 * macs * 400 / 1e9;
  assert.ok(Math.abs(gpu - (evaluatedThere + phase2)) < 1e-12, `${gpu}`);
});

Deno.test("the default run's workload: 20 epochs of 1280 source rows, 20 of 512 target rows, batch 32", () => {
  const work = runWorkload(experimentSpec(defaultConfig()));
  // 2000 source samples: 400 test, then 320 validation of the 1600 left; 800 target: 160, 128. Each
  // phase waits once, its three splits' evaluation included.
  assert.deepEqual(work.widths, [20, 32, 3]);
  assert.deepEqual(work.phases, [
    { batchSize: 32, steps: 20 * 40, epochs: 20, evaluatedRows: 400, waits: 1, fused: true },
    { batchSize: 32, steps: 20 * 16, epochs: 20, evaluatedRows: 160, waits: 1, fused: true },
  ]);
  assert.deepEqual(
    runWorkload(experimentSpec(defaultConfig()), 3).phases.slice(1),
    Array(3).fill(work.phases[1]),
  );
  const budget = defaultConfig();
  budget.training.target_steps = 100; // 16 steps an epoch: 6 whole epochs and part of a 7th
  assert.deepEqual(runWorkload(experimentSpec(budget)).phases[1], {
    batchSize: 32,
    steps: 100,
    epochs: 7,
    evaluatedRows: 160,
    waits: 1,
    fused: true,
  });
  const wide = defaultConfig();
  wide.model.hidden_dim = 200; // 2 · (21 · 200 + 201 · 3) floats of parameters alone: 9606 > 3968
  assert.ok(runWorkload(experimentSpec(wide)).phases.every((phase) => !phase.fused));
});

/**
 * Costs like those measured here: a software GPU (llvmpipe) on each path, the WebAssembly kernels;
 * and a hardware GPU as one would expect it (none was at hand): the general path's dispatches
 * costlier a step than the fused kernel's, its products far faster.
 */
const SOFTWARE_GPU: GpuCosts = { // an earlier bench --quick run's, every cost non-zero
  fused: { perPhase: 0.0126, perEpoch: 2.25e-3, perLayerStep: 2.8e-5, flopsPerSecond: 2.1e8 },
  general: { perPhase: 0.0135, perEpoch: 1.54e-3, perLayerStep: 4.4e-4, flopsPerSecond: 1.04e9 },
};
const HARDWARE_GPU: GpuCosts = {
  fused: { perPhase: 0.011, perEpoch: 1e-4, perLayerStep: 1e-6, flopsPerSecond: 1e10 },
  general: { perPhase: 0.011, perEpoch: 1e-4, perLayerStep: 1.5e-5, flopsPerSecond: 2e13 },
};
const CPU: EngineCosts = { perPhase: 2e-4, perEpoch: 5e-6, perLayerStep: 3e-6, flopsPerSecond: 5e10 };

function mlpWork(widths: number[], batchSize: number, steps: number): Workload {
  const fused = fusedLayout(widths, batchSize, 0) !== null;
  return { widths, phases: [{ batchSize, steps, epochs: 1, evaluatedRows: 0, waits: 1, fused }] };
}

Deno.test("the choice where the answer is clear", () => {
  const tiny = runWorkload(experimentSpec(defaultConfig()));
  const huge = mlpWork([1024, 4096, 4096, 10], 1024, 10); // 1.3 TFLOP: 26 s on the CPU
  for (const gpu of [SOFTWARE_GPU, HARDWARE_GPU]) assert.equal(chooseEngine(gpu, CPU, tiny).engine, "cpu");
  assert.equal(chooseEngine(SOFTWARE_GPU, CPU, huge).engine, "cpu");
  const chosen = chooseEngine(HARDWARE_GPU, CPU, huge);
  assert.equal(chosen.engine, "gpu");
  assert.ok(chosen.cpuSeconds > 25 && chosen.gpuSeconds < 0.2, JSON.stringify(chosen));
});

Deno.test("the choice weighs the GPU path that trains the model: a narrow model too deep to fuse stays on the CPU", () => {
  // 9 layers, one over the fused kernel's most: every step is 27 dispatches on the general path.
  const deep = mlpWork([20, 8, 8, 8, 8, 8, 8, 8, 8, 3], 8, 10000);
  assert.equal(deep.phases[0].fused, false);
  const chosen = chooseEngine(HARDWARE_GPU, CPU, deep);
  assert.equal(chosen.engine, "cpu", JSON.stringify(chosen));
  // Charged the fused kernel's step (the one cost set the GPU had before), it would have gone to the GPU.
  const asIfFused = { ...deep, phases: [{ ...deep.phases[0], fused: true }] };
  assert.equal(chooseEngine(HARDWARE_GPU, CPU, asIfFused).engine, "gpu");
});

/**
 * An engine that trains nothing but moves `clock` on by what each phase would cost an engine with
 * `costs`, by the formula worked out here (not the module's). Given a GPU's two sets, it charges a
 * phase the fused kernel's where its `kernels` allow and the model fits that kernel, as the GPU engine
 * chooses, else the general path's.
 */
function simulatedEngine(costs: EngineCosts | GpuCosts, clock: { now: number }): Engine & {
  kernels: KernelChoice;
} {
  const handle = (data: Dataset): DatasetHandle => ({
    n: data.n,
    features: data.features,
    classes: data.classes,
  });
  let widths: number[] = [];
  const engine = {
    name: "simulated",
    description: "simulated",
    kernels: "auto" as KernelChoice,
    upload: handle,
    release: () => {},
    setModel: (model: Mlp) => void (widths = [model[0].inputs, ...model.map((l) => l.outputs)]),
    readModel: () => Promise.reject(new Error("unused")),
    trainPhase: (spec: PhaseSpec) => {
      const fits = engine.kernels !== "general" && fusedLayout(widths, spec.batchSize, 0) !== null;
      const path = "fused" in costs ? (fits ? costs.fused : costs.general) : costs;
      // Evaluations run on the general path's kernels whichever path trains.
      const evaluationRate = "fused" in costs ? costs.general.flopsPerSecond : costs.flopsPerSecond;
      let macs = 0;
      for (let l = 1; l < widths.length; l++) macs += widths[l - 1] * widths[l];
      const steps = Math.ceil(spec.train.n / spec.batchSize) * spec.epochs;
      const training = 6 * macs * spec.train.n * spec.epochs,
        evaluation = 2 * macs * spec.test.n * spec.epochs;
      const seconds = path.perPhase + spec.epochs * path.perEpoch +
        steps * (widths.length - 1) * path.perLayerStep + training / path.flopsPerSecond +
        evaluation / evaluationRate;
      clock.now += 1000 * seconds;
      return Promise.resolve([]);
    },
    evaluate: () => Promise.reject(new Error("unused")),
    logits: () => Promise.reject(new Error("unused")),
    dispose: () => {},
  };
  return engine;
}

/** Asserts that `measured` is `costs`, but for rounding. */
function assertRecovered(what: string, measured: EngineCosts, costs: EngineCosts) {
  for (const part of ["perPhase", "perEpoch", "perLayerStep", "flopsPerSecond"] as const) {
    const ratio = measured[part] / costs[part];
    assert.ok(Math.abs(ratio - 1) < 1e-6, `${what} ${part}: ${measured[part]} for ${costs[part]}`);
  }
}

Deno.test("the calibration recovers an engine's costs from the probes' times, the GPU's on each path", async () => {
  // Exact but for rounding: the tiny probes' own arithmetic is taken out once the rate is known.
  const clock = { now: 0 };
  assertRecovered("cpu", await calibrateEngine(simulatedEngine(CPU, clock), () => clock.now), CPU);
  for (const costs of [SOFTWARE_GPU, HARDWARE_GPU]) {
    const gpu = simulatedEngine(costs, clock);
    const measured = await calibrateGpuEngine(gpu, () => clock.now);
    assertRecovered("fused", measured.fused, costs.fused);
    assertRecovered("general", measured.general, costs.general);
    assert.equal(gpu.kernels, "auto", "the engine's kernel choice is restored");
  }
});

Deno.test("the fused kernel's arithmetic probes fit it, near its workgroup memory", () => {
  for (const { widths, batchSize } of FUSED_PROBES) {
    const layout = fusedLayout(widths, batchSize, 0);
    assert.ok(layout !== null && layout.memory > 0.9 * FUSED_MEMORY, JSON.stringify(layout));
  }
});

Deno.test("the cost cache: its path from the environment, other machines kept, broken files refused with why", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(
    costCachePath(env({ XDG_CACHE_HOME: "/c", HOME: "/h" })),
    "/c/transfer-learning-finetuning/engine-costs.json",
  );
  assert.equal(
    costCachePath(env({ HOME: "/h" })),
    "/h/.cache/transfer-learning-finetuning/engine-costs.json",
  );
  assert.equal(costCachePath(env({})), null);
  const denied = () => {
    throw new Deno.errors.NotCapable("no");
  };
  assert.equal(costCachePath(denied), null);

  const path = `${Deno.makeTempDirSync()}/deeper/engine-costs.json`;
  assert.equal(readCachedCosts(path, "a").costs, null, "no file: nothing cached");
  assert.equal(writeCachedCosts(path, "a", { gpu: SOFTWARE_GPU, cpu: CPU }), null);
  assert.equal(writeCachedCosts(path, "b", { gpu: HARDWARE_GPU, cpu: CPU }), null);
  assert.deepEqual(readCachedCosts(path, "a").costs, { gpu: SOFTWARE_GPU, cpu: CPU });
  assert.deepEqual(readCachedCosts(path, "b").costs, { gpu: HARDWARE_GPU, cpu: CPU });
  const missing = readCachedCosts(path, "c");
  assert.ok(missing.costs === null && /has none for this machine/.test(missing.why));

  const broken: [string, RegExp][] = [
    ["{not json", /unreadable/],
    ["[1, 2]", /unreadable \(not a JSON object\)/],
    [
      JSON.stringify({ a: { gpu: { ...SOFTWARE_GPU, fused: { ...CPU, perPhase: -1 } }, cpu: CPU } }),
      /malformed/,
    ],
    [
      JSON.stringify({ a: { gpu: { ...SOFTWARE_GPU, general: { ...CPU, flopsPerSecond: 0 } }, cpu: CPU } }),
      /malformed/,
    ],
    [
      JSON.stringify({ a: { gpu: SOFTWARE_GPU, cpu: { ...CPU, perEpoch: undefined } } }),
      /malformed or outdated/,
    ],
    [JSON.stringify({ a: { gpu: SOFTWARE_GPU.general, cpu: CPU } }), /malformed or outdated/], // one GPU set: older
    [JSON.stringify({ a: { gpu: SOFTWARE_GPU } }), /malformed/],
    [JSON.stringify({ a: 7 }), /malformed/],
    [JSON.stringify({ a: null }), /malformed/],
  ];
  for (const [text, why] of broken) {
    Deno.writeTextFileSync(path, text);
    const read = readCachedCosts(path, "a");
    assert.ok(read.costs === null && why.test(read.why), `${text}: ${JSON.stringify(read)}`);
  }
  assert.equal(
    writeCachedCosts(path, "a", { gpu: SOFTWARE_GPU, cpu: CPU }),
    null,
    "a broken file is replaced",
  );
  assert.deepEqual(readCachedCosts(path, "a").costs, { gpu: SOFTWARE_GPU, cpu: CPU });
  // This machine's entries from other calibrations (and from before the version was in the key) go.
  const machine = "gpu | cpu | deno 2.9.6";
  Deno.writeTextFileSync(
    path,
    JSON.stringify({
      [machine]: { gpu: SOFTWARE_GPU, cpu: CPU },
      [`${machine} | calibration 1`]: { gpu: SOFTWARE_GPU, cpu: CPU },
      [`other | cpu | deno 2.9.6 | calibration 1`]: { gpu: HARDWARE_GPU, cpu: CPU },
    }),
  );
  assert.equal(writeCachedCosts(path, `${machine} | calibration 2`, { gpu: HARDWARE_GPU, cpu: CPU }), null);
  assert.deepEqual(Object.keys(JSON.parse(Deno.readTextFileSync(path))), [
    "other | cpu | deno 2.9.6 | calibration 1",
    `${machine} | calibration 2`,
  ]);
  const underAFile = writeCachedCosts(`${path}/inside.json`, "a", { gpu: SOFTWARE_GPU, cpu: CPU });
  assert.ok(underAFile !== null, "a cache that cannot be written says why instead of throwing");
});
