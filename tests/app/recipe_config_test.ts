/**
 * Recipes a config defines (`recipes:`): parsed, resolved for the model's depth as tables written out
 * here say, run by `run` and `compare` like the built-in ones; every bad value is one line naming its
 * key path and the fix.
 */

import assert from "node:assert/strict";
import { experimentSpec, parseConfig } from "../../src/app/config.ts";
import { UsageError } from "../../src/core/errors.ts";
import { rates, runProgram } from "../helpers/helpers.ts";

const MINE = `
model: {hidden_dims: [8, 6]}
recipes:
  probe_then_tune:
    init: {head: fresh}
    stages:
      - share: 0.25
        train: {head: both}
      - share: 0.75
        train: {all: both, 1: biases}
        rate: {base: 0.5, 2: 0.1}
        optimizer: adam
    l2_sp: {alpha: 0.3, beta: 0.02}
`;

Deno.test("recipes: a config's recipe resolves, per layer and stage, to the rates written out here", () => {
  const spec = experimentSpec(parseConfig(MINE, "mine.yaml"));
  assert.deepEqual(spec.strategies.at(-1), "probe_then_tune");
  const recipe = spec.recipes.probe_then_tune;
  assert.deepEqual(recipe.init, ["pretrained", "pretrained", "fresh"]);
  assert.deepEqual(recipe.stages, [
    { share: 0.25, rates: rates([0, 0, 1]) },
    {
      share: 0.75,
      // layer 1: biases only (its number wins over all), at the base's 0.5; layer 2: its own 0.1; head: 1.
      rates: [{ weights: 0, biases: 0.5 }, { weights: 0.1, biases: 0.1 }, { weights: 1, biases: 1 }],
      optimizer: "adam",
    },
  ]);
  assert.deepEqual(recipe.penalties, [{ decay: 0, anchor: 0.3 }, { decay: 0, anchor: 0.3 }, {
    decay: 0.02,
    anchor: 0,
  }]);
});

Deno.test("recipes: a config's recipe may put LoRA adapters on layers, which then learn through them", () => {
  const spec = experimentSpec(parseConfig(
    "recipes:\n  my_lora:\n    init: {head: fresh}\n    adapters: {base: {rank: 3, alpha: 6}}\n" +
      "    stages: [{share: 1, train: {base: weights, head: both}}]\n",
    "lora.yaml",
  ));
  const recipe = spec.recipes.my_lora;
  assert.deepEqual(recipe.adapters, [{ rank: 3, alpha: 6 }, null]);
  assert.deepEqual(recipe.stages[0].rates, [{ weights: 1, biases: 0 }, { weights: 1, biases: 1 }]);
  for (
    const [adapters, says] of [
      ["{base: {rank: 0, alpha: 1}}", "recipes.my_lora.adapters.base must be {rank: 1 to 1024"],
      [
        "{base: {rank: 2}}",
        "recipes.my_lora.adapters.base must be {rank: 1 to 1024, alpha: a positive number}",
      ],
      ["{5: {rank: 2, alpha: 1}}", "recipes.my_lora.adapters: layer 5 does not exist, the model has 2"],
    ]
  ) {
    const text =
      `recipes:\n  my_lora:\n    adapters: ${adapters}\n    stages: [{share: 1, train: {all: both}}]\n`;
    assert.throws(
      () => parseConfig(text, "c.yaml"),
      (error: Error) => error instanceof UsageError && error.message.startsWith(`c.yaml: ${says}`),
      adapters,
    );
  }
});

Deno.test("recipes: every bad value is one line naming its key path and the fix", () => {
  const recipe = (body: string) => `recipes:\n  mine:\n${body}`;
  const cases: [string, string][] = [
    ["recipes: [1, 2]\n", "recipes must be a mapping of recipe names to recipes"],
    [
      "recipes:\n  Mine: {stages: [{share: 1, train: {all: both}}]}\n",
      "recipes.Mine: a recipe's name is lowercase",
    ],
    [
      "recipes:\n  bitfit: {stages: [{share: 1, train: {all: both}}]}\n",
      "recipes.bitfit: is a built-in recipe",
    ],
    [recipe("    stages: []\n"), "recipes.mine.stages must be a list of 1 to 32 stages"],
    [
      recipe("    stages: [{share: 1, train: {all: both}}]\n    extra: 1\n"),
      "recipes.mine: unknown key 'extra'",
    ],
    [
      recipe("    stages: [{share: 0.5, train: {all: both}}]\n"),
      "recipes.mine.stages: the shares sum to 0.5; make them sum to 1",
    ],
    [
      recipe("    stages: [{share: 0, train: {all: both}}, {share: 1, train: {all: both}}]\n"),
      "recipes.mine.stages[1].share must be a number above 0",
    ],
    [recipe("    stages: [{share: 1}]\n"), "recipes.mine.stages[1].train is missing"],
    [
      recipe("    stages: [{share: 1, train: {all: yes}}]\n"),
      "recipes.mine.stages[1].train.all must be both, weights, biases, none",
    ],
    [
      recipe("    stages: [{share: 1, train: {middle: both}}]\n"),
      "recipes.mine.stages[1].train: unknown layer 'middle'",
    ],
    [
      recipe("    stages: [{share: 1, train: {all: both}, rate: {head: -1}}]\n"),
      "recipes.mine.stages[1].rate.head must be a finite number >= 0",
    ],
    [
      recipe("    stages: [{share: 1, train: {all: both}, optimizer: lion}]\n"),
      "recipes.mine.stages[1].optimizer must be one of sgd, momentum, adam, adamw",
    ],
    [
      recipe("    stages: [{share: 1, train: {3: both}}]\n"),
      "recipes.mine.stages[1].train: layer 3 does not exist, the model has 2",
    ],
    [
      recipe("    init: {head: new}\n    stages: [{share: 1, train: {all: both}}]\n"),
      "recipes.mine.init.head must be pretrained or fresh",
    ],
    [
      recipe("    stages: [{share: 1, train: {all: both}}]\n    l2_sp: {alpha: 0.1}\n"),
      "recipes.mine.l2_sp.beta is missing",
    ],
    [
      recipe("    stages: [{share: 0.3, train: {all: both}}, {share: 0.6, train: {all: both}}]\n"),
      "recipes.mine.stages: the shares sum to 0.9; make them sum to 1",
    ],
    [
      recipe("    stages: [{share: 1, train: {all: none}}]\n"),
      "recipes.mine.stages[1]: nothing learns in it",
    ],
    [
      recipe("    stages: [{share: 1, train: {all: both}, rate: {all: 0}}]\n"),
      "recipes.mine.stages[1]: nothing learns in it",
    ],
    [
      recipe("    init: {head: fresh}\n    stages: [{share: 1, train: {base: both}}]\n"),
      "recipes.mine: layer 2 starts fresh but its weights never learn",
    ],
  ];
  for (const [text, says] of cases) {
    assert.throws(
      () => parseConfig(text, "c.yaml"),
      (error: Error) =>
        error instanceof UsageError && error.message.startsWith(`c.yaml: ${says}`) &&
        !error.message.includes("\n"),
      says,
    );
  }
});

Deno.test("recipes: a divergence names the recipe's rates too when they pass 1", async () => {
  const { divergenceMessage } = await import("../../src/app/training_log.ts");
  const segment = { layerRates: rates([1, 1e3]), firstEpoch: 1, epochs: 2 };
  const phase = {
    task: "target",
    strategy: "hot",
    learningRate: 0.02,
    notes: [],
    stage: 1,
    stages: 1,
    segment,
  } as const;
  const message = divergenceMessage({ ...phase, layerRates: rates([1, 1e3]) }, { epoch: 2, loss: NaN });
  assert.equal(
    message,
    "the hot transfer diverged at epoch 2 (train loss NaN); lower training.learning_rate_target (now 0.02), or the recipe's layer rates (up to 1000)",
  );
});

Deno.test("CLI: run --strategy and compare --strategies take a config's recipe; an unknown one exits 2 first", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `logging: {file: app.log}\ndata: {base_n_samples: 300, target_n_samples: 200}\n` +
      `training: {base_epochs: 2, target_epochs: 4}\nengine: {device: cpu}\n` +
      MINE.replace("model: {hidden_dims: [8, 6]}\n", ""),
  );
  const permissions = ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED"];
  const run = await runProgram(
    "src/programs/run/main.ts",
    ["--strategy", "probe_then_tune", "-o", "r.json"],
    { cwd: dir, permissions },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /probe_then_tune stage 1\/2 \(epochs 1-1\): layer rates 0, 1 x 0\.02/);
  assert.match(
    run.stderr,
    /probe_then_tune stage 2\/2 \(epochs 2-4\): layer rates 0 \(biases 0\.5\), 0\.1 x 0\.02 \(adam\)/, // two layers: "2" is the head
  );
  assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/r.json`)).strategy, "probe_then_tune");
  const unknown = await runProgram("src/programs/run/main.ts", ["--strategy", "nope"], {
    cwd: dir,
    permissions,
  });
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /^error: --strategy: no recipe 'nope'; the built-in ones are .*; the config defines probe_then_tune\n$/,
  );
  const compare = await runProgram(
    "src/programs/compare/main.ts",
    ["--strategies", "probe_then_tune,full_finetune", "--seeds", "2", "--out-dir", "out"],
    { cwd: dir, permissions },
  );
  assert.equal(compare.code, 0, compare.stderr);
  assert.match(compare.stdout, /^probe_then_tune /m);
  const summary = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`)).summary;
  assert.deepEqual(summary.strategies, ["full_finetune", "scratch", "probe_then_tune"]);
  await Deno.remove(dir, { recursive: true });
});
