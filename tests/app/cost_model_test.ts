/**
 * The cost model `--device auto` chooses by (src/app/cost_model.ts) and its calibration
 * (src/app/calibration.ts): predictions against the formula worked out by hand, the default run's
 * workload counted from the config's numbers, the choice on shapes where the answer is clear, and the
 * calibration recovering known costs from an engine that simulates them on a fake clock.
 */

import assert from "node:assert/strict";
import { calibrateEngine } from "../../src/app/calibration.ts";
import { costCachePath, readCachedCosts, writeCachedCosts } from "../../src/app/cost_cache.ts";
import { defaultConfig, experimentSpec } from "../../src/app/config.ts";
import {
  chooseEngine,
  type EngineCosts,
  predictSeconds,
  runWorkload,
  type Workload,
} from "../../src/app/cost_model.ts";
import type { Dataset } from "../../src/core/data.ts";
import type { DatasetHandle, Engine, PhaseSpec } from "../../src/core/engine.ts";

Deno.test("a prediction is waits·perPhase + epochs·perEpoch + steps·layers·perLayerStep + flops/rate, summed over phases", () => {
  const costs: EngineCosts = { perPhase: 0.01, perEpoch: 0.002, perLayerStep: 1e-4, flopsPerSecond: 1e9 };
  const work: Workload = {
    widths: [20, 32, 3],
    phases: [
      { batchSize: 32, steps: 40, epochs: 1, evaluatedRows: 400, waits: 1 },
      { batchSize: 16, steps: 10, epochs: 2, evaluatedRows: 100, waits: 4 },
    ],
  };
  const macs = 20 * 32 + 32 * 3; // 736 multiply-adds per row
  const phase1 = 0.01 + 0.002 + 40 * 2 * 1e-4 + (6 * macs * 40 * 32 + 2 * macs * 400) / 1e9;
  const phase2 = 4 * 0.01 + 2 * 0.002 + 10 * 2 * 1e-4 + (6 * macs * 10 * 16 + 2 * macs * 2 * 100) / 1e9;
  assert.ok(Math.abs(predictSeconds(costs, work) - (phase1 + phase2)) < 1e-12);
});

Deno.test("the default run's workload: 20 epochs of 1280 source rows, 20 of 512 target rows, batch 32", () => {
  const work = runWorkload(experimentSpec(defaultConfig()));
  // 2000 source samples: 400 test, then 320 validation of the 1600 left; 800 target: 160, 128. Each
  // phase waits once, its three splits' evaluation included.
  assert.deepEqual(work.widths, [20, 32, 3]);
  assert.deepEqual(work.phases, [
    { batchSize: 32, steps: 20 * 40, epochs: 20, evaluatedRows: 400, waits: 1 },
    { batchSize: 32, steps: 20 * 16, epochs: 20, evaluatedRows: 160, waits: 1 },
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
  });
});

/** Costs like those measured here: a software GPU (llvmpipe), a hardware one, the WebAssembly kernels. */
const SOFTWARE_GPU: EngineCosts = {
  perPhase: 0.012,
  perEpoch: 2.3e-3,
  perLayerStep: 1.2e-4,
  flopsPerSecond: 4e9,
};
const HARDWARE_GPU: EngineCosts = {
  perPhase: 0.011,
  perEpoch: 1e-4,
  perLayerStep: 1.5e-5,
  flopsPerSecond: 2e13,
};
const CPU: EngineCosts = { perPhase: 2e-4, perEpoch: 5e-6, perLayerStep: 3e-6, flopsPerSecond: 5e10 };

function mlpWork(widths: number[], batchSize: number, steps: number): Workload {
  return { widths, phases: [{ batchSize, steps, epochs: 1, evaluatedRows: 0, waits: 1 }] };
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

/**
 * An engine that trains nothing but moves `clock` on by what each phase would cost an engine with
 * `costs`, by the formula worked out here (not the module's).
 */
function simulatedEngine(costs: EngineCosts, clock: { now: number }): Engine {
  const handle = (data: Dataset): DatasetHandle => ({
    n: data.n,
    features: data.features,
    classes: data.classes,
  });
  let widths: number[] = [];
  return {
    name: "simulated",
    description: "simulated",
    upload: handle,
    release: () => {},
    setModel: (model) => void (widths = [model[0].inputs, ...model.map((l) => l.outputs)]),
    readModel: () => Promise.reject(new Error("unused")),
    trainPhase: (spec: PhaseSpec) => {
      let macs = 0;
      for (let l = 1; l < widths.length; l++) macs += widths[l - 1] * widths[l];
      const steps = Math.ceil(spec.train.n / spec.batchSize) * spec.epochs;
      const flops = 6 * macs * spec.train.n * spec.epochs + 2 * macs * spec.test.n * spec.epochs;
      const seconds = costs.perPhase + spec.epochs * costs.perEpoch +
        steps * (widths.length - 1) * costs.perLayerStep + flops / costs.flopsPerSecond;
      clock.now += 1000 * seconds;
      return Promise.resolve([]);
    },
    evaluate: () => Promise.reject(new Error("unused")),
    logits: () => Promise.reject(new Error("unused")),
    dispose: () => {},
  };
}

Deno.test("the calibration recovers an engine's costs from the probes' times", async () => {
  for (const costs of [SOFTWARE_GPU, HARDWARE_GPU, CPU]) {
    const clock = { now: 0 };
    const measured = await calibrateEngine(simulatedEngine(costs, clock), () => clock.now);
    // Exact but for rounding: the tiny probes' own arithmetic is taken out once the rate is known.
    for (const part of ["perPhase", "perEpoch", "perLayerStep", "flopsPerSecond"] as const) {
      const ratio = measured[part] / costs[part];
      assert.ok(Math.abs(ratio - 1) < 1e-6, `${part}: ${measured[part]} for ${costs[part]}`);
    }
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
    [JSON.stringify({ a: { gpu: { ...SOFTWARE_GPU, perPhase: -1 }, cpu: CPU } }), /malformed/],
    [JSON.stringify({ a: { gpu: { ...SOFTWARE_GPU, flopsPerSecond: 0 }, cpu: CPU } }), /malformed/],
    [
      JSON.stringify({ a: { gpu: { ...SOFTWARE_GPU, perEpoch: undefined }, cpu: CPU } }),
      /malformed or outdated/,
    ],
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
  const underAFile = writeCachedCosts(`${path}/inside.json`, "a", { gpu: SOFTWARE_GPU, cpu: CPU });
  assert.ok(underAFile !== null, "a cache that cannot be written says why instead of throwing");
});
