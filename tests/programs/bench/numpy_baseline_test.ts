/** The NumPy baseline: the spec a config gives, and (where Python has NumPy) the script's results. */

import assert from "node:assert/strict";
import { defaultConfig, experimentSpec } from "../../../src/app/config.ts";
import {
  type BaselinePhase,
  type BaselineSpec,
  baselineSpec,
  type NumpyResult,
  runNumpyBaseline,
} from "../../../src/programs/bench/numpy_baseline.ts";
import { CLASSIC_STRATEGIES } from "../../../src/core/recipes.ts";

/** Whether `python3` runs and imports NumPy: probed once, so those tests are skipped, not failed. */
async function hasNumpy(): Promise<boolean> {
  try {
    const probe = new Deno.Command("python3", {
      args: ["-c", "import numpy"],
      stdout: "null",
      stderr: "null",
    });
    return (await probe.output()).success;
  } catch {
    return false;
  }
}
const NO_NUMPY = !(await hasNumpy());
const NEEDS_NUMPY = NO_NUMPY ? " (skipped: optional baseline, python3 with numpy not found)" : "";

function phase(overrides: Partial<BaselinePhase> = {}): BaselinePhase {
  return {
    name: "tiny",
    trainRows: 32,
    validationRows: 12,
    testRows: 20,
    widths: [8, 64, 4],
    batchSize: 8,
    epochs: 3,
    stepSizes: [0.1, 0.1],
    ...overrides,
  };
}

function available(result: NumpyResult | { unavailable: string }): NumpyResult {
  if ("unavailable" in result) assert.fail(`the baseline did not run: ${result.unavailable}`);
  return result;
}

Deno.test("baselineSpec: pretraining then each strategy, with the default config's shapes and rates", () => {
  const config = defaultConfig();
  const spec = baselineSpec(experimentSpec(config));
  assert.equal(spec.seed, 42);
  assert.equal(spec.evalRows, 256, "the CPU engine's evaluation batch");
  assert.deepEqual(spec.phases.map((p) => p.name), ["pretrain", ...CLASSIC_STRATEGIES]);
  const [pretrain, ...transfers] = spec.phases;
  assert.deepEqual(pretrain, {
    name: "pretrain",
    trainRows: 1280, // as the engines train: 2000 less 400 test rows, less 320 (a fifth of 1600) validation
    validationRows: 320,
    testRows: 400,
    widths: [20, 32, 3],
    batchSize: 32,
    epochs: 20,
    stepSizes: [0.05, 0.05],
  });
  for (const p of transfers) {
    assert.deepEqual([p.trainRows, p.validationRows, p.testRows], [512, 128, 160]);
    assert.deepEqual(p.widths, [20, 32, 3]);
    assert.equal(p.epochs, 20);
  }
  // Each layer steps by learning_rate_target (0.02) times the strategy's rate for it.
  const steps = Object.fromEntries(transfers.map((p) => [p.name, p.stepSizes]));
  assert.deepEqual(steps, {
    feature_extractor: [0, 0.02],
    head_finetune: [config.training.head_finetune_base_lr_scale * 0.02, 0.02],
    full_finetune: [0.02, 0.02],
    scratch: [0.02, 0.02],
  });
});

Deno.test("baselineSpec: deep bases, a new class count, the data split's rounding, chosen strategies", () => {
  const config = defaultConfig();
  config.model.hidden_dims = [16, 8];
  config.data.target_n_classes = 5;
  config.data.base_n_samples = 1002;
  config.data.test_fraction = 0.25; // 250.5 test rows: rounded up, as src/data.ts does
  config.training.head_finetune_base_lr_scale = 0.3;
  const [pretrain, head] = baselineSpec(experimentSpec(config), ["head_finetune"]).phases;
  // 1002 rows: 251 test, then round(751 · 0.2) = 150 validation, 601 training.
  assert.deepEqual([pretrain.trainRows, pretrain.validationRows, pretrain.testRows], [601, 150, 251]);
  assert.deepEqual(pretrain.widths, [20, 16, 8, 3]);
  assert.deepEqual(pretrain.stepSizes, [0.05, 0.05, 0.05]);
  assert.equal(head.name, "head_finetune");
  assert.deepEqual(head.widths, [20, 16, 8, 5]);
  assert.deepEqual(head.stepSizes, [0.3 * 0.02, 0.3 * 0.02, 0.02]);
});

Deno.test("runNumpyBaseline: a missing interpreter is reported, not thrown", async () => {
  const result = await runNumpyBaseline(
    baselineSpec(experimentSpec(defaultConfig())),
    1,
    "python3-that-does-not-exist",
  );
  assert.deepEqual(result, { unavailable: "python3-that-does-not-exist not found" });
});

Deno.test({
  name:
    `runNumpyBaseline: timed phases with finite metrics; a long phase memorises random labels${NEEDS_NUMPY}`,
  ignore: NO_NUMPY,
  fn: async () => {
    const spec: BaselineSpec = {
      seed: 7,
      evalRows: 16,
      phases: [
        phase({ name: "memorise", epochs: 300 }),
        phase({ name: "frozen base", stepSizes: [0, 0.1] }),
        phase({ name: "deep", widths: [8, 16, 8, 4], stepSizes: [0.01, 0.01, 0.1], batchSize: 5 }),
      ],
    };
    const result = available(await runNumpyBaseline(spec, 1));
    assert.match(result.numpy, /^\d+\.\d+/);
    assert.equal(typeof result.blas, "string");
    assert.deepEqual(result.phases.map((p) => p.name), ["memorise", "frozen base", "deep"]);
    for (const p of result.phases) {
      assert.ok(p.seconds > 0, `${p.name}: ${p.seconds} s`);
      assert.ok(Number.isFinite(p.finalTrainLoss), `${p.name}: train loss ${p.finalTrainLoss}`);
      assert.ok(p.finalTestAccuracy! >= 0 && p.finalTestAccuracy! <= 1, `${p.name}: ${p.finalTestAccuracy}`);
    }
    const total = result.phases.reduce((sum, p) => sum + p.seconds, 0);
    assert.ok(Math.abs(result.seconds - total) < 1e-9, `${result.seconds} s against ${total} s`);
    // Random labels cannot be learnt, only memorised: 32 rows and 64 hidden units get well below
    // ln(4), the loss of a uniform guess.
    const memorised = result.phases[0].finalTrainLoss!;
    assert.ok(memorised < Math.log(4) / 2, `train loss ${memorised} after 300 epochs`);
  },
});

Deno.test({
  name: `runNumpyBaseline: a run that fails is reported with the script's message${NEEDS_NUMPY}`,
  ignore: NO_NUMPY,
  fn: async () => {
    const result = await runNumpyBaseline(
      { seed: 1, evalRows: 256, phases: [phase({ stepSizes: [0.1] })] },
      1,
    );
    assert.deepEqual(result, {
      unavailable:
        "python3 numpy_baseline.py exited with code 2: ValueError: phase tiny: 1 step sizes for 2 layers",
    });
  },
});

Deno.test({
  name: `runNumpyBaseline: phases without epochs report null metrics${NEEDS_NUMPY}`,
  ignore: NO_NUMPY,
  fn: async () => {
    const result = available(
      await runNumpyBaseline({ seed: 1, evalRows: 256, phases: [phase({ epochs: 0 })] }, 1),
    );
    assert.equal(result.phases[0].finalTrainLoss, null);
    assert.equal(result.phases[0].finalTestAccuracy, null);
  },
});
