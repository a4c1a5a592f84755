/**
 * The GPU engine end to end against the CPU engine, and the run program on a machine with and
 * without a GPU. Runs on whatever adapter WebGPU gives (Mesa's llvmpipe in CI).
 */

import assert from "node:assert/strict";
import { defaultConfig } from "../../../src/app/config.ts";
import { CpuEngine } from "../../../src/engines/cpu/engine.ts";
import type { Engine } from "../../../src/core/engine.ts";
import { GpuError } from "../../../src/engines/gpu/context.ts";
import { heModel } from "../../../src/core/model.ts";
import { Rng } from "../../../src/core/rng.ts";
import { STRATEGY_NAMES } from "../../../src/core/recipes.ts";
import { type PhaseResult, pretrain, transfer } from "../../../src/core/train.ts";
import { countingPhase, gpuAvailable, withGpuEngine } from "../../helpers/gpu.ts";
import { TRAINING_CHECKS } from "../../helpers/training_checks.ts";
import { countGpuWork, submitEachDispatch } from "../../../src/programs/bench/gpu_work.ts";
import { bytesOf, experimentOn, runProgram } from "../../helpers/helpers.ts";

const ignore = !(await gpuAvailable());

async function everyStrategy(engine: Engine) {
  const config = defaultConfig();
  const data = experimentOn(engine, config);
  const source = await pretrain(engine, data.source, data.spec);
  const target: Record<string, PhaseResult & { model: Awaited<ReturnType<Engine["readModel"]>> }> = {};
  for (const strategy of STRATEGY_NAMES) {
    const result = await transfer(engine, data.target, source.model, strategy, data.spec);
    target[strategy] = { ...result, model: await engine.readModel() };
  }
  return { source, target };
}

Deno.test({
  name: "GPU and CPU engines agree for every strategy at the defaults; frozen layers stay bit-identical",
  ignore,
  fn: async () => {
    const onGpu = await withGpuEngine(everyStrategy, { kernels: "general" }); // fused_test.ts: the fused kernel
    const onCpu = await everyStrategy(new CpuEngine());
    const close = (what: string, got: number, want: number) =>
      assert.ok(Math.abs(got - want) <= 1e-3 * Math.abs(want), `${what}: GPU ${got} vs CPU ${want}`);
    close("source test loss", onGpu.source.metrics.test.loss, onCpu.source.metrics.test.loss);
    for (const strategy of STRATEGY_NAMES) {
      const [g, c] = [onGpu.target[strategy], onCpu.target[strategy]];
      for (const split of ["train", "test"] as const) {
        close(`${strategy} ${split} loss`, g.metrics[split].loss, c.metrics[split].loss);
        const gap = Math.abs(g.metrics[split].accuracy - c.metrics[split].accuracy);
        assert.ok(gap <= 0.01, `${strategy} ${split} accuracy differs by ${gap}`);
      }
      assert.equal(g.history.length, c.history.length);
      close(
        `${strategy} last epoch's running loss`,
        g.history.at(-1)!.train.loss,
        c.history.at(-1)!.train.loss,
      );
    }
    const frozen = onGpu.target.feature_extractor.model[0];
    const pretrained = onGpu.source.model[0];
    assert.deepEqual(
      bytesOf(frozen.weights),
      bytesOf(pretrained.weights),
      "frozen weights changed on the GPU",
    );
    assert.deepEqual(bytesOf(frozen.bias), bytesOf(pretrained.bias), "frozen bias changed on the GPU");
    assert.notDeepEqual(bytesOf(onGpu.target.head_finetune.model[0].weights), bytesOf(pretrained.weights));
  },
});

Deno.test({
  name: "GPU engine: partial batches, two hidden layers, more target classes, a batch bigger than the data",
  ignore,
  fn: async () => {
    for (
      const change of [
        (
          c: ReturnType<typeof defaultConfig>,
        ) => (c.model.hidden_dims = [48, 17], c.data.target_n_classes = 5),
        (c: ReturnType<typeof defaultConfig>) => (c.training.batch_size = 1500, c.model.hidden_dim = 70),
      ]
    ) {
      const run = async (engine: Engine) => {
        const config = defaultConfig();
        config.data.base_n_samples = 1237; // 792 training rows (after 247 test, 198 validation): the last batch is partial
        config.training.base_epochs = 3;
        config.training.target_epochs = 3;
        change(config);
        const data = experimentOn(engine, config);
        const source = await pretrain(engine, data.source, data.spec);
        const target = await transfer(engine, data.target, source.model, "head_finetune", data.spec);
        return [source.metrics.test.loss, target.metrics.train.loss, target.metrics.test.loss];
      };
      const results = [await withGpuEngine(run), await run(new CpuEngine())];
      results[0].forEach((got, i) => {
        assert.ok(
          Math.abs(got - results[1][i]) <= 1e-3 * results[1][i],
          `metric ${i}: ${got} vs ${results[1][i]}`,
        );
      });
    }
  },
});

Deno.test({
  name: "GPU engine: release frees a dataset's device buffers; the others stay usable",
  ignore,
  fn: async () => {
    const config = defaultConfig();
    await withGpuEngine(async (engine) => {
      const data = experimentOn(engine, config);
      engine.setModel(heModel([20, 32, 3], new Rng(1)));
      assert.ok((await engine.evaluate([data.target.test]))[0].loss > 0, "usable before its release");
      engine.release(data.target.test);
      // A destroyed buffer in a submission is a validation error: the release really freed it.
      await assert.rejects(engine.evaluate([data.target.test]), GpuError);
    });
    await withGpuEngine(async (engine) => {
      const data = experimentOn(engine, config);
      engine.setModel(heModel([20, 32, 3], new Rng(1)));
      const want = await engine.evaluate([data.source.test]);
      engine.release(data.target.train);
      engine.release(data.target.test);
      assert.deepEqual(await engine.evaluate([data.source.test]), want, "other datasets are untouched");
    });
  },
});

Deno.test({
  name:
    "GPU engine: one host wait per phase, 3 dispatches per layer and step; the naive mode agrees bit for bit",
  ignore,
  fn: async () => {
    const runs = [];
    for (const naive of [false, true]) {
      runs.push(
        await withGpuEngine(async (engine) => {
          const counts = countGpuWork();
          const spec = countingPhase(engine), before = { ...counts };
          const history = await engine.trainPhase(spec);
          const waits = counts.waits - before.waits;
          const dispatches = counts.dispatches - before.dispatches;
          const model = await engine.readModel();
          const cut = await engine.trainPhase(countingPhase(engine, (m) => m.epoch < 2));
          return { history, waits, dispatches, model, cut };
        }, naive ? { submit: submitEachDispatch, kernels: "general" } : { kernels: "general" }),
      );
    }
    const [fast, naive] = runs;
    // Per step: 3 forward + loss + 2 SGD steps + 1 input gradient (layer 2 into layer 1) = 7;
    // per evaluation chunk: 3 forward + loss = 4; 7 steps and 1 chunk per epoch.
    assert.equal(fast.dispatches, 3 * (7 * 7 + 4));
    assert.equal(fast.waits, 1, "one wait for the whole phase of 3 epochs");
    assert.deepEqual(fast.cut, fast.history.slice(0, 2), "onEpoch's false at epoch 2 ends the reports there");
    assert.equal(naive.dispatches, fast.dispatches);
    assert.ok(naive.waits >= naive.dispatches, "the naive mode waits after every operation");
    assert.deepEqual(naive.history, fast.history);
    naive.model.forEach((layer, l) =>
      assert.deepEqual(bytesOf(layer.weights), bytesOf(fast.model[l].weights))
    );
  },
});

async function cli(args: string[], preloadNoGpu: boolean) {
  const dir = await Deno.makeTempDir();
  const config = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    config,
    `logging: {file: ${dir}/app.log}\ndata: {base_n_samples: 300, target_n_samples: 200}\ntraining: {base_epochs: 2, target_epochs: 2}\n`,
  );
  const output = await runProgram(
    "src/programs/run/main.ts",
    ["--config", config, "--output", `${dir}/out.json`, ...args],
    {
      cwd: dir,
      permissions: ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED"],
      preload: preloadNoGpu ? "tests/helpers/fixtures/no_gpu.ts" : undefined,
    },
  );
  const stderr = output.stderr;
  const results = output.code === 0 ? JSON.parse(await Deno.readTextFile(`${dir}/out.json`)) : null;
  await Deno.remove(dir, { recursive: true });
  return { code: output.code, stderr, results };
}

Deno.test("CLI on a machine without a GPU: auto runs on the CPU, --device gpu exits 2 with one line", async () => {
  const auto = await cli([], true);
  assert.equal(auto.code, 0, auto.stderr);
  assert.equal(auto.results.engine.name, "cpu");
  assert.match(auto.stderr, /no usable GPU \(no WebGPU adapter/);
  const forced = await cli(["--device", "gpu"], true);
  assert.equal(forced.code, 2);
  const errors = forced.stderr.split("\n").filter((l) => l.startsWith("error:"));
  assert.equal(errors.length, 1);
  assert.match(errors[0], /--device gpu: no WebGPU adapter/);
  assert.doesNotMatch(forced.stderr, /\n\s+at /, "no stack trace");
});

Deno.test({
  name: "CLI --device gpu records the engine and the adapter in the results",
  ignore,
  fn: async () => {
    const run = await cli(["--device", "gpu"], false);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.results.engine.name, "gpu");
    assert.match(run.results.engine.description, /^WebGPU on \S/);
    assert.equal(run.results.history.target.length, 2);
  },
});

Deno.test({
  name: "GPU readModel returns each layer at its exact size (buffers are padded on the device)",
  ignore,
  fn: async () => {
    const model = heModel([5, 7, 3], new Rng(3));
    const back = await withGpuEngine(async (engine) => {
      engine.setModel(model);
      return await engine.readModel();
    });
    back.forEach((layer, l) => {
      assert.equal(layer.weights.length, model[l].weights.length);
      assert.equal(layer.bias.length, model[l].bias.length);
      assert.deepEqual(bytesOf(layer.weights), bytesOf(model[l].weights));
      assert.deepEqual(bytesOf(layer.bias), bytesOf(model[l].bias));
    });
  },
});

Deno.test({
  name: "GPU on Linux: Vulkan alone unless DENO_WEBGPU_BACKEND says otherwise, so Mesa's EGL is never loaded",
  ignore: ignore || Deno.build.os !== "linux",
  fn: async () => {
    const backends = async (env: Record<string, string>) => {
      const run = await runProgram("tests/helpers/fixtures/webgpu_backends.ts", [], {
        cwd: Deno.cwd(),
        permissions: ["--allow-all"], // Deno lets only --allow-all read /proc/self/maps
        env,
        unset: Object.keys(env).length === 0 ? ["DENO_WEBGPU_BACKEND"] : [],
      });
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout);
    };
    assert.deepEqual(await backends({}), { backend: "vulkan", egl: false });
    const given = { DENO_WEBGPU_BACKEND: "vulkan,metal" }; // Vulkan on Linux, spelt otherwise: kept as given
    assert.deepEqual(await backends(given), { backend: "vulkan,metal", egl: false });
  },
});

// The general path's kernels (tests/engines/gpu/fused_test.ts runs the checks on the fused kernel).
for (const [name, check] of TRAINING_CHECKS) {
  Deno.test({
    name: `training (GPU engine): ${name}`,
    ignore,
    fn: () => withGpuEngine(check, { kernels: "general" }),
  });
}

Deno.test({
  name: "GPU: a successful run prints no error line, even without a usable XDG_RUNTIME_DIR for Mesa",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      `logging: {file: ${dir}/app.log}\ndata: {base_n_samples: 300, target_n_samples: 200}\ntraining: {base_epochs: 2, target_epochs: 2}\n`,
    );
    const run = await runProgram("src/programs/run/main.ts", ["--device", "gpu"], {
      cwd: dir,
      permissions: ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED,XDG_RUNTIME_DIR"],
      env: { XDG_RUNTIME_DIR: `${dir}/missing` },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stderr.split("\n").filter((line) => line.startsWith("error:")), []);
    await Deno.remove(dir, { recursive: true });
  },
});
