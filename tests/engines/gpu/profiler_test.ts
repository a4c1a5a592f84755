/** The GPU profiler: every dispatch timed and counted by kernel, waits counted, results unchanged. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { GpuContext } from "../../../src/engines/gpu/context.ts";
import { GpuEngine, type GpuEngineOptions } from "../../../src/engines/gpu/engine.ts";
import { GpuProfiler } from "../../../src/engines/gpu/profiler.ts";
import { countingPhase, gpuAvailable } from "../../helpers/gpu.ts";
import { bytesOf, experimentOn, rates, runProgram } from "../../helpers/helpers.ts";
import { defaultConfig } from "../../../src/app/config.ts";
import { heModel } from "../../../src/core/model.ts";
import { Rng } from "../../../src/core/rng.ts";

const ignore = !(await gpuAvailable());

/**
 * Three epochs of a 3-layer model with a frozen first layer, on an engine profiled by `profiler` when
 * given (its profile taken twice before the engine's device goes).
 */
async function phase(profiler: GpuProfiler | null, kernels: "general" | "fused" = "general") {
  // By default the general path's kernels, whose counts the tests check (auto would fuse them).
  const options: GpuEngineOptions = profiler === null
    ? { kernels }
    : { submit: profiler.submit, waited: profiler.waited, kernels };
  const engine = await GpuEngine.create(
    await GpuContext.acquire(navigator.gpu, { timestamps: true }),
    options,
  );
  try {
    const history = await engine.trainPhase(countingPhase(engine));
    const model = await engine.readModel();
    const timesKernels = GpuProfiler.timesKernels(engine.context.device);
    return { history, model, timesKernels, profile: await profiler?.take(), again: await profiler?.take() };
  } finally {
    engine.dispose();
  }
}

Deno.test({
  name:
    "GPU profiler: each kernel's dispatches counted and timed, one wait per phase, the same bits as unprofiled",
  ignore,
  fn: async () => {
    const profiled = await phase(new GpuProfiler());
    const plain = await phase(null);
    assert.deepEqual(profiled.history, plain.history, "profiling changes no metric");
    profiled.model.forEach((layer, l) =>
      assert.deepEqual(bytesOf(layer.weights), bytesOf(plain.model[l].weights))
    );
    const profile = profiled.profile!;
    assert.equal(profile.waits, 2, "the phase's one wait, then readModel's");
    assert.ok(profile.waitSeconds > 0);
    // llvmpipe, which CI runs, has timestamp queries; elsewhere an adapter without them times waits only.
    assert.ok(profiled.timesKernels || Deno.env.get("CI") !== "true", "CI's adapter times kernels");
    if (!profiled.timesKernels) return;
    const count = (kernel: string) => profile.kernels.find((k) => k.kernel === kernel)?.dispatches ?? 0;
    // Per step (7 an epoch, 3 epochs): forward ×3 (layer 1 on the shuffled rows, then ReLU, bias), the
    // loss with its gradient, SGD steps for layers 2 and 3 (the first is frozen), 1 input gradient. Per
    // evaluation (1 chunk an epoch): forward ×3 (layer 1 on the chunk's rows) and the loss.
    assert.equal(
      count("matmul.wgsl biasRelu, shuffled rows"),
      21,
      "layer 1's forward over the shuffled batch",
    );
    assert.equal(
      count("matmul.wgsl biasRelu, direct rows"),
      21 + 3,
      "layer 2's forward, and in each evaluation",
    );
    assert.equal(
      count("matmul.wgsl bias, direct rows"),
      21 + 3,
      "the head's forward, and in each evaluation",
    );
    assert.equal(count("softmax_xent.wgsl loss and gradient"), 21);
    assert.equal(count("matmul.wgsl sgdStep, direct rows"), 42, "layers 2 and 3 learn");
    assert.equal(count("matmul.wgsl sgdStep, shuffled rows"), 0, "the frozen first layer takes no step");
    assert.equal(count("matmul.wgsl reluMask, direct rows"), 21, "one input gradient, into layer 2");
    assert.equal(count("matmul.wgsl biasRelu, chunk rows"), 3, "layer 1 in each epoch's evaluation");
    assert.equal(count("softmax_xent.wgsl loss"), 3);
    const total = profile.kernels.reduce((sum, k) => sum + k.dispatches, 0);
    assert.equal(total, 3 * (7 * 7 + 4), "nothing else ran");
    assert.ok(profile.kernels.every((k) => k.seconds > 0), "every kernel took some device time");
    assert.deepEqual(
      profiled.again,
      { kernels: [], timed: null, waits: 0, waitSeconds: 0 },
      "a take starts afresh: nothing submitted since",
    );
  },
});

/**
 * `run` with `--profile` and `args`, in a fresh folder with a small config of `targetEpochs` transfer
 * epochs; resolves with its output.
 */
async function profiledRun(args: string[], targetEpochs: number) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "c.yaml"),
      "logging: {file: app.log}\ndata: {base_n_samples: 200, target_n_samples: 100}\n" +
        `training: {base_epochs: 2, target_epochs: ${targetEpochs}}\n`,
    );
    return await runProgram("src/programs/run/main.ts", ["--config", "c.yaml", "--profile", ...args], {
      cwd: dir,
      permissions: ["--allow-read", "--allow-write", "--allow-env"],
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "run --profile prints each phase's kernels and waits on the GPU engine, and one INFO line on the CPU",
  ignore,
  fn: async () => {
    const gpu = await profiledRun(["--device", "gpu"], 2);
    assert.equal(gpu.code, 0, gpu.stderr);
    assert.match(gpu.stdout, /\nprofile of pretraining: .*\nkernel +dispatches +device ms +share\n/);
    assert.match(gpu.stdout, /\nprofile of the transfer \(full_finetune\): /);
    assert.match(
      gpu.stdout,
      /fused_mlp\.wgsl train +\d+ +[\d.]+ +[\d.]+%/,
      "auto trains on the fused kernel",
    );
    assert.match(gpu.stdout, /host waits \(every read-back, evaluations included\): \d+ \([\d.]+ ms\)/);
    assert.match(gpu.stdout, /softmax_xent\.wgsl loss +\d+/, "the evaluations' kernels are profiled too");
    const cpu = await profiledRun(["--device", "cpu"], 2);
    assert.equal(cpu.code, 0, cpu.stderr);
    assert.doesNotMatch(cpu.stdout, /profile of/);
    assert.match(cpu.stderr, /INFO --profile: the CPU engine runs no device kernels/);
  },
});

Deno.test({
  name: "run --profile: a recipe of two stages (lp_ft) gets a profile for each, its own waits in each",
  ignore,
  fn: async () => {
    const run = await profiledRun(["--device", "gpu", "--strategy", "lp_ft"], 4);
    assert.equal(run.code, 0, run.stderr);
    const profiles = [...run.stdout.matchAll(/\nprofile of ([^:]+):[^]*?host waits [^:]*: (\d+) /g)];
    assert.deepEqual(profiles.map((p) => p[1]), [
      "pretraining",
      "the transfer (lp_ft), stage 1 of 2",
      "the transfer (lp_ft), stage 2 of 2",
    ]);
    for (const [, phase, waits] of profiles) assert.ok(Number(waits) >= 1, `${phase}: ${waits} waits`);
  },
});

Deno.test({
  name:
    "GPU profiler: an epoch of more than 2048 dispatches (4096 queries, WebGPU's most a set) is timed whole",
  ignore,
  fn: async () => {
    const profiler = new GpuProfiler();
    const context = await GpuContext.acquire(navigator.gpu, { timestamps: true });
    const engine = await GpuEngine.create(context, {
      submit: profiler.submit,
      waited: profiler.waited,
      kernels: "general",
    });
    try {
      const config = defaultConfig();
      config.data.base_n_samples = 700; // 140 test, 112 validation, 448 training rows
      config.model.hidden_dims = [16, 8];
      const data = experimentOn(engine, config);
      engine.setModel(heModel([20, 16, 8, 3], new Rng(1)));
      // Minibatches of 1 with the first layer frozen: 448 steps of 7 dispatches, then one evaluation of 4.
      await engine.trainPhase({
        train: data.source.train,
        test: data.source.test,
        epochs: 1,
        batchSize: 1,
        learningRate: 0.01,
        layerRates: rates([0, 1, 1]),
        shuffleSeed: 1,
      });
      const profile = await profiler.take();
      assert.equal(profile.kernels.reduce((sum, k) => sum + k.dispatches, 0), 448 * 7 + 4);
    } finally {
      engine.dispose();
    }
  },
});

Deno.test({
  name:
    "GPU profiler: work run unprofiled (auto's calibration) is neither timed nor counted; what follows is",
  ignore,
  fn: async () => {
    const profiler = new GpuProfiler();
    const engine = await GpuEngine.create(await GpuContext.acquire(navigator.gpu, { timestamps: true }), {
      submit: profiler.submit,
      waited: profiler.waited,
      kernels: "general",
    });
    try {
      const history = await profiler.unprofiled(() => engine.trainPhase(countingPhase(engine)));
      assert.equal(history.length, 3, "the unprofiled phase trains");
      const hidden = await profiler.take();
      assert.deepEqual(hidden, { kernels: [], timed: null, waits: 0, waitSeconds: 0 });
      await engine.trainPhase(countingPhase(engine));
      const seen = await profiler.take();
      assert.equal(seen.waits, 1, "the profiled phase's one wait");
      assert.ok(!GpuProfiler.timesKernels(engine.context.device) || seen.kernels.length > 0);
    } finally {
      engine.dispose();
    }
  },
});

Deno.test({
  name: "GPU profiler: the fused kernel profiled gives the same bits, each epoch's dispatch timed as its own",
  ignore,
  fn: async () => {
    const profiled = await phase(new GpuProfiler(), "fused");
    const plain = await phase(null, "fused");
    assert.deepEqual(profiled.history, plain.history, "profiling changes no metric");
    profiled.model.forEach((layer, l) => {
      assert.deepEqual(bytesOf(layer.weights), bytesOf(plain.model[l].weights));
      assert.deepEqual(bytesOf(layer.bias), bytesOf(plain.model[l].bias));
    });
    const profile = profiled.profile!;
    assert.equal(profile.waits, 2, "the phase's one wait, then readModel's");
    if (!profiled.timesKernels) return;
    const train = profile.kernels.find((k) => k.kernel === "fused_mlp.wgsl train");
    assert.equal(train?.dispatches, 3, "one dispatch for each of the 3 epochs of 7 steps");
    assert.ok(train!.seconds > 0);
  },
});
