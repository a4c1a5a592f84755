/**
 * The GPU engine's fully fused kernel (fused_mlp.wgsl) against its general path and the CPU engine:
 * every recipe, the engine's training, optimizer, penalty and LoRA contracts, depths of 1 to 4 hidden
 * layers with partial batches, epochs cut into several dispatches, the workgroup-memory limit and
 * one float over it, a layer over its most layers (both trained on the general path), and one host
 * wait per phase.
 */

import assert from "node:assert/strict";
import { type Config, defaultConfig, experimentSpec } from "../../../src/app/config.ts";
import { runWorkload } from "../../../src/app/cost_model.ts";
import type { Dataset } from "../../../src/core/data.ts";
import type { DatasetHandle, Engine, PhaseSpec } from "../../../src/core/engine.ts";
import { heModel, type Mlp } from "../../../src/core/model.ts";
import { type OptimizerSpec, PLAIN_SGD } from "../../../src/core/optimizers.ts";
import { type Adapter, type PartRates, STRATEGY_NAMES } from "../../../src/core/recipes.ts";
import { Rng } from "../../../src/core/rng.ts";
import { pretrain, transfer } from "../../../src/core/train.ts";
import { CpuEngine } from "../../../src/engines/cpu/engine.ts";
import { GpuEngine, type KernelChoice } from "../../../src/engines/gpu/engine.ts";
import { fusedLayout } from "../../../src/engines/gpu/fused_mlp.ts";
import { FUSED_MEMORY } from "../../../src/engines/gpu/pipelines.ts";
import { countGpuWork } from "../../../src/programs/bench/gpu_work.ts";
import { countingPhase, gpuAvailable, withGpuEngine } from "../../helpers/gpu.ts";
import { bytesOf, experimentOn, maxRelativeError, rates } from "../../helpers/helpers.ts";
import { ADAPTER_CHECKS } from "../../helpers/adapter_checks.ts";
import { OPTIMIZER_CHECKS } from "../../helpers/optimizer_checks.ts";
import { TRAINING_CHECKS } from "../../helpers/training_checks.ts";

const ignore = !(await gpuAvailable());

/**
 * `engine` as an Engine whose every phase asserts that the GPU engine's kernels for it are `want`'s
 * (the fused kernel, or the general path for phases it does not take) and counts them.
 */
function recording(engine: GpuEngine, want: (spec: PhaseSpec) => "fused" | "general"): Engine & {
  fused: number;
} {
  const wrapper = {
    name: engine.name,
    description: engine.description,
    fused: 0,
    upload: (data: Dataset) => engine.upload(data),
    release: (data: DatasetHandle) => engine.release(data),
    setModel: (model: Mlp) => engine.setModel(model),
    readModel: () => engine.readModel(),
    trainPhase: (spec: PhaseSpec) => {
      const path = engine.kernelsFor(spec);
      assert.equal(
        path,
        want(spec),
        `a phase of ${spec.epochs} epochs, rates ${JSON.stringify(spec.layerRates)}`,
      );
      if (path === "fused") wrapper.fused++;
      return engine.trainPhase(spec);
    },
    evaluate: (sets: readonly DatasetHandle[]) => engine.evaluate(sets),
    logits: (data: DatasetHandle) => engine.logits(data),
    dispose: () => engine.dispose(),
  };
  return wrapper;
}

/** Every phase that trains anything is fused (each test's shapes fit the kernel). */
const fusedWhereItCan = (spec: PhaseSpec) =>
  spec.epochs > 0 && spec.layerRates.some((r) => r.weights > 0 || r.biases > 0) ? "fused" : "general";

/** Runs `fn` on a GPU engine with `kernels`, every phase checked by {@linkcode recording}. */
function withKernels<T>(
  kernels: KernelChoice,
  fn: (engine: Engine & { fused: number }) => Promise<T>,
): Promise<T> {
  const want = kernels === "general" ? () => "general" as const : fusedWhereItCan;
  return withGpuEngine((engine) => fn(recording(engine, want)), { kernels });
}

async function everyRecipe(engine: Engine) {
  const config = defaultConfig();
  const data = experimentOn(engine, config);
  const source = await pretrain(engine, data.source, data.spec);
  const target = [];
  for (const strategy of STRATEGY_NAMES) {
    const result = await transfer(engine, data.target, source.model, strategy, data.spec);
    target.push({ strategy, result, model: await engine.readModel() });
  }
  return { source, target };
}

Deno.test({
  name: "fused kernel: every recipe at the defaults agrees with the general path and the CPU engine",
  ignore,
  fn: async () => {
    const fused = await withKernels(
      "fused",
      async (engine) => ({ ...await everyRecipe(engine), n: engine.fused }),
    );
    const general = await withKernels("general", everyRecipe);
    const cpu = await everyRecipe(new CpuEngine());
    assert.ok(fused.n >= STRATEGY_NAMES.length, `${fused.n} fused phases`);
    const close = (what: string, got: number, want: number) =>
      assert.ok(Math.abs(got - want) <= 1e-3 * Math.abs(want), `${what}: fused ${got} vs ${want}`);
    close("source test loss", fused.source.metrics.test.loss, cpu.source.metrics.test.loss);
    assert.equal(fused.source.history.length, cpu.source.history.length, "pretraining's epochs");
    fused.target.forEach(({ strategy, result, model }, k) => {
      for (const other of [general.target[k], cpu.target[k]]) {
        assert.equal(result.history.length, other.result.history.length, `${strategy}'s epochs`);
        for (const split of ["train", "test"] as const) {
          close(`${strategy} ${split} loss`, result.metrics[split].loss, other.result.metrics[split].loss);
          const gap = Math.abs(result.metrics[split].accuracy - other.result.metrics[split].accuracy);
          assert.ok(gap <= 0.01, `${strategy} ${split} accuracy differs by ${gap}`);
        }
        close(
          `${strategy} running loss`,
          result.history.at(-1)!.train.loss,
          other.result.history.at(-1)!.train.loss,
        );
        model.forEach((layer, l) => {
          const error = maxRelativeError(layer.weights, other.model[l].weights);
          assert.ok(error < 1e-3, `${strategy} layer ${l}: weights differ by ${error}`);
        });
      }
    });
    const frozen = fused.target.find((t) => t.strategy === "feature_extractor")!.model[0];
    assert.deepEqual(
      bytesOf(frozen.weights),
      bytesOf(fused.source.model[0].weights),
      "frozen weights written",
    );
    assert.deepEqual(bytesOf(frozen.bias), bytesOf(fused.source.model[0].bias), "frozen bias written");
    const bitfit = fused.target.find((t) => t.strategy === "bitfit")!.model[0];
    assert.deepEqual(
      bytesOf(bitfit.weights),
      bytesOf(fused.source.model[0].weights),
      "bitfit's base weights",
    );
    assert.notDeepEqual(
      bytesOf(bitfit.bias),
      bytesOf(fused.source.model[0].bias),
      "bitfit's base biases learn",
    );
  },
});

for (const [name, check] of TRAINING_CHECKS) {
  Deno.test({ name: `training (fused kernel): ${name}`, ignore, fn: () => withKernels("fused", check) });
}

for (const [suite, checks] of [["LoRA", ADAPTER_CHECKS], ["optimizers", OPTIMIZER_CHECKS]] as const) {
  for (const [name, check] of checks) {
    Deno.test({
      name: `${suite} (fused kernel): ${name}`,
      ignore,
      fn: () =>
        withKernels("fused", async (engine) => {
          await check(engine);
          assert.ok(engine.fused > 0, "the check's phases ran on the fused kernel");
        }),
    });
  }
}

/**
 * `epochs` epochs over a source task of `samples` rows (203 training rows by default) with classes
 * as many as `widths`' last, from He weights of seed `widths.length`: the per-epoch losses and the
 * model.
 */
async function trained(
  engine: Engine,
  widths: number[],
  batchSize: number,
  optimizer: OptimizerSpec,
  epochs = 2,
  samples = 317,
): Promise<{ model: Mlp; losses: number[] }> {
  const config = defaultConfig();
  Object.assign(config.data, { base_n_samples: samples, target_n_samples: 200, n_classes: widths.at(-1) });
  config.model.hidden_dims = widths.slice(1, -1);
  const data = experimentOn(engine, config);
  engine.setModel(heModel(widths, new Rng(widths.length)));
  const history = await engine.trainPhase({
    train: data.source.train,
    test: data.source.test,
    epochs,
    batchSize,
    learningRate: optimizer.name === "sgd" ? 0.1 : 0.01,
    layerRates: rates(widths.slice(1).map(() => 1)),
    optimizer,
    shuffleSeed: 5,
  });
  return { model: await engine.readModel(), losses: history.flatMap((m) => [m.train.loss, m.test.loss]) };
}

/** The fused kernel's and the CPU engine's results, within the parity tests' tolerances. */
function assertAgree(
  what: string,
  got: { model: Mlp; losses: number[] },
  want: { model: Mlp; losses: number[] },
) {
  got.losses.forEach((loss, i) =>
    assert.ok(
      Math.abs(loss - want.losses[i]) <= 1e-3 * want.losses[i],
      `${what} loss ${i}: ${loss} vs ${want.losses[i]}`,
    )
  );
  got.model.forEach((layer, l) => {
    const error = maxRelativeError([...layer.weights, ...layer.bias], [
      ...want.model[l].weights,
      ...want.model[l].bias,
    ]);
    assert.ok(error < 1e-3, `${what} layer ${l}: parameters differ by ${error}`);
  });
}

const ADAM: OptimizerSpec = { ...PLAIN_SGD, name: "adam" };
const MOMENTUM: OptimizerSpec = { ...PLAIN_SGD, name: "momentum", nesterov: true, weightDecay: 0.01 };

Deno.test({
  name:
    "fused kernel: 1 to 4 hidden layers, partial last batches, sgd, momentum and adam, against the general path and the CPU engine",
  ignore,
  fn: async () => {
    const cases: [number[], number, OptimizerSpec][] = [
      [[20, 24, 3], 25, PLAIN_SGD],
      [[20, 16, 12, 3], 30, ADAM],
      [[20, 12, 10, 8, 3], 17, MOMENTUM],
      [[20, 8, 8, 8, 8, 3], 40, ADAM],
    ];
    for (const [widths, batch, optimizer] of cases) {
      const what = `${widths.join("-")}, batch ${batch}, ${optimizer.name}`;
      const fused = await withKernels("fused", async (engine) => {
        const result = await trained(engine, widths, batch, optimizer);
        assert.equal(engine.fused, 1, `${what}: fused`);
        return result;
      });
      const general = await withKernels("general", (engine) => trained(engine, widths, batch, optimizer));
      assertAgree(`${what} against the general path`, fused, general);
      assertAgree(
        `${what} against the CPU engine`,
        fused,
        await trained(new CpuEngine(), widths, batch, optimizer),
      );
    }
  },
});

Deno.test({
  name: "fused kernel: a model of 9 layers (one over its most) falls back to the general path and agrees",
  ignore,
  fn: async () => {
    const widths = [20, 6, 6, 6, 6, 6, 6, 6, 6, 3];
    assert.equal(fusedLayout(widths, 16, 0), null, "a precondition: too deep to fuse");
    const fallback = await withGpuEngine(
      (engine) => trained(recording(engine, () => "general"), widths, 16, MOMENTUM),
      { kernels: "fused" },
    );
    assertAgree("9 layers", fallback, await trained(new CpuEngine(), widths, 16, MOMENTUM));
  },
});

/** An adapter of `rank` on a layer of `inputs` × `outputs`, both factors drawn from `seed`, α = 1.5. */
function drawnAdapter(rank: number, inputs: number, outputs: number, seed: number): Adapter {
  const rng = new Rng(seed);
  const draw = (count: number, scale: number) =>
    Float32Array.from({ length: count }, () => scale * rng.normal());
  return { rank, scale: 1.5 / rank, a: draw(inputs * rank, 0.2), b: draw(rank * outputs, 0.2) };
}

Deno.test({
  name:
    "fused kernel: LoRA on two layers under decay, a penalty and adamw; then frozen factors, learning biases",
  ignore,
  fn: async () => {
    const widths = [20, 16, 12, 3];
    const adapters = [drawnAdapter(2, 20, 16, 1), drawnAdapter(3, 16, 12, 2), null];
    const run = async (engine: Engine) => {
      const config = defaultConfig();
      Object.assign(config.data, { base_n_samples: 317, target_n_samples: 200 });
      config.model.hidden_dims = [16, 12];
      const data = experimentOn(engine, config);
      const start = heModel(widths, new Rng(4));
      engine.setModel(start);
      const phase = (optimizer: OptimizerSpec, layerRates: PartRates[], shuffleSeed: number) =>
        engine.trainPhase({
          train: data.source.train,
          test: data.source.test,
          epochs: 2,
          batchSize: 25,
          learningRate: 0.02,
          layerRates,
          optimizer,
          penalties: [{ decay: 0.05, anchor: 0.1 }, { decay: 0, anchor: 0 }, { decay: 0.02, anchor: 0 }],
          anchor: start,
          adapters,
          shuffleSeed,
        });
      const losses = [];
      for (const optimizer of [MOMENTUM, { ...PLAIN_SGD, name: "adamw" as const, weightDecay: 0.1 }]) {
        losses.push(...(await phase(optimizer, rates([1, 1, 1]), losses.length)).map((m) => m.train.loss));
      }
      const before = await engine.readModel();
      const frozenFactors = [{ weights: 0, biases: 1 }, { weights: 0, biases: 1 }, { weights: 1, biases: 1 }];
      losses.push(...(await phase(ADAM, frozenFactors, 9)).map((m) => m.train.loss));
      return { model: await engine.readModel(), losses, before };
    };
    const fused = await withKernels("fused", async (engine) => {
      const result = await run(engine);
      assert.equal(engine.fused, 3, "every phase fused");
      return result;
    });
    const general = await withKernels("general", run);
    assertAgree("LoRA on two layers", fused, general);
    for (const [path, result] of [["fused", fused], ["general", general]] as const) {
      for (const l of [0, 1]) {
        const [now, before] = [result.model[l], result.before[l]];
        assert.deepEqual(bytesOf(now.weights), bytesOf(before.weights), `${path}: layer ${l}'s W`);
        assert.notDeepEqual(bytesOf(now.bias), bytesOf(before.bias), `${path}: layer ${l}'s bias learns`);
      }
    }
  },
});

Deno.test({
  name: "fused kernel: an epoch cut into several dispatches takes the same steps as the general path",
  ignore,
  fn: async () => {
    const widths = [20, 32, 3], batch = 32, samples = 32000; // 20480 training rows: 640 steps an epoch
    const layout = fusedLayout(widths, batch, 0)!;
    assert.ok(3 * layout.stepsPerDispatch < 640, "a precondition: 4 or more dispatches an epoch");
    let waits = 0;
    const waited = <T>(wait: Promise<T>) => (waits++, wait);
    const fused = await withGpuEngine(
      (engine) => trained(recording(engine, fusedWhereItCan), widths, batch, ADAM, 2, samples),
      { kernels: "fused", waited },
    );
    assert.equal(waits, 2, "the phase's one host wait for its 8 dispatches, then readModel's");
    const general = await withKernels(
      "general",
      (engine) => trained(engine, widths, batch, ADAM, 2, samples),
    );
    assertAgree("several dispatches an epoch", fused, general);
  },
});

/**
 * A 20-h-c model and batch b whose parameters, gradients and activations take `floats` floats of
 * workgroup memory: 2 · ((20 + 1) h + (h + 1) c) + b · (20 + h + c).
 */
function shapeTaking(floats: number): { widths: number[]; batch: number } {
  for (let hidden = 60; hidden > 0; hidden--) {
    for (let classes = 2; classes <= 10; classes++) {
      const params = 21 * hidden + (hidden + 1) * classes, perRow = 20 + hidden + classes;
      const batch = (floats - 2 * params) / perRow;
      if (Number.isInteger(batch) && batch > 1) return { widths: [20, hidden, classes], batch };
    }
  }
  throw new Error(`no 20-h-c shape takes ${floats} floats`);
}

Deno.test({
  name:
    "fused kernel: a model that takes all of workgroup memory is fused and agrees; one float more falls back",
  ignore,
  fn: async () => {
    const { widths, batch } = shapeTaking(FUSED_MEMORY);
    const what = `${widths.join("-")} at batch ${batch}`;
    const fused = await withKernels("fused", async (engine) => {
      const result = await trained(engine, widths, batch, ADAM);
      assert.equal(engine.fused, 1, `${what} is fused`);
      return result;
    });
    assertAgree(what, fused, await trained(new CpuEngine(), widths, batch, ADAM));
    assertAgree(
      `${what} against the general path`,
      fused,
      await withKernels("general", (engine) => trained(engine, widths, batch, ADAM)),
    );
    const over = shapeTaking(FUSED_MEMORY + 1);
    const overWhat = `${over.widths.join("-")} at batch ${over.batch}`;
    const fallback = await withGpuEngine(
      (engine) => trained(recording(engine, () => "general"), over.widths, over.batch, ADAM),
      { kernels: "fused" },
    );
    assertAgree(overWhat, fallback, await trained(new CpuEngine(), over.widths, over.batch, ADAM));
  },
});

Deno.test({
  name: "fused kernel: one host wait per phase, its dispatches a handful per epoch",
  ignore,
  fn: async () => {
    await withGpuEngine(async (engine) => {
      const counts = countGpuWork();
      const spec = countingPhase(engine), before = { ...counts };
      assert.equal(engine.kernelsFor(spec), "fused");
      await engine.trainPhase(spec);
      assert.equal(counts.waits - before.waits, 1, "one wait for the phase of 3 epochs");
      // Per epoch: the fused kernel's dispatch, then the test chunk's 3 forward + loss.
      assert.equal(counts.dispatches - before.dispatches, 3 * (1 + 4));
    }, { kernels: "fused" });
  },
});

Deno.test({
  name: "fused kernel: auto takes it wherever it fits, on any adapter; general never does",
  ignore,
  fn: async () => {
    for (const kernels of ["auto", "general"] as const) {
      await withGpuEngine((engine) => {
        const want = kernels === "auto" ? "fused" : "general";
        assert.equal(engine.kernelsFor(countingPhase(engine)), want, kernels);
        return Promise.resolve();
      }, { kernels });
    }
  },
});

/** The default config at 2 + 2 epochs, with `change` made to it. */
function configWith(change: (config: Config) => void): Config {
  const config = defaultConfig();
  Object.assign(config.training, { base_epochs: 2, target_epochs: 2 });
  change(config);
  return config;
}

Deno.test({
  name: "fused kernel: the cost model charges a phase to the path the engine trains it on",
  ignore,
  fn: async () => {
    const configs: [string, Config][] = [
      ["the default model", configWith(() => {})],
      ["hidden 200 (too wide)", configWith((c) => void (c.model.hidden_dim = 200))],
      ["9 layers (too deep)", configWith((c) => void (c.model.hidden_dims = [6, 6, 6, 6, 6, 6, 6, 6]))],
      [
        "batch 60, 38 target rows (the target's batch fits)",
        configWith((c) => {
          c.training.batch_size = 60;
          c.data.target_n_samples = 60;
        }),
      ],
    ];
    for (const [what, config] of configs) {
      const taken: string[] = [];
      await withGpuEngine(async (engine) => {
        const watched = recording(engine, (spec) => {
          const path = engine.kernelsFor(spec);
          taken.push(path);
          return path;
        });
        const data = experimentOn(watched, config);
        const source = await pretrain(watched, data.source, data.spec);
        await transfer(watched, data.target, source.model, "full_finetune", data.spec);
      });
      const predicted = runWorkload(experimentSpec(config)).phases.map((p) => p.fused ? "fused" : "general");
      assert.deepEqual(taken, predicted, what);
    }
  },
});
