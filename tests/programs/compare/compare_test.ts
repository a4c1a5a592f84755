/**
 * The comparison: the same seeds give the same table; the CSV and JSON agree; the figures are XML
 * with a series per strategy, inside [0, 100] %, and say the training budget; `--strategies` runs the
 * strategies asked for (scratch added when left out), and every output lists exactly those; full
 * fine-tuning's gain over scratch is significant at the configured relatedness on three disjoint sets of
 * 10 seeds; Ctrl-C and SIGTERM stop at the next epoch, keep what finished, drop the phase cut short, and
 * the table uses only the seeds where every strategy finished; bad flags and a used --out-dir are
 * one-line errors.
 */

import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { defaultConfig, experimentSpec } from "../../../src/app/config.ts";
import type { Dataset } from "../../../src/core/data.ts";
import type { DatasetHandle, Engine } from "../../../src/core/engine.ts";
import { CpuEngine } from "../../../src/engines/cpu/engine.ts";
import { type Grid, runComparison, type RunRecord, totalEpochs } from "../../../src/core/comparison.ts";
import { claimRunFolder } from "../../../src/programs/compare/main.ts";
import { INTERRUPTED_EXIT_CODE, TERMINATED_EXIT_CODE } from "../../../src/programs/compare/flags.ts";
import { pretrain, transfer } from "../../../src/core/train.ts";
import { makeTransferData } from "../../../src/core/data.ts";
import { uploadTask } from "../../../src/core/engine.ts";
import { ProgressReport } from "../../../src/programs/compare/progress.ts";
import { CSV_HEADER, formatComparison } from "../../../src/app/report/summary.ts";
import { analyzeComparison } from "../../../src/app/report/analysis.ts";
import { CLASSIC_STRATEGIES, STRATEGY_NAMES } from "../../../src/core/recipes.ts";
import { gpuAvailable, withGpuEngine } from "../../helpers/gpu.ts";
import { exists, ROOT, runProgram } from "../../helpers/helpers.ts";

const SILENT = { epoch() {}, pretrained() {}, finished() {} };
const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED"];

/**
 * A small configuration for the program, logging into `dir`; `targetEpochs` sets how long each run takes,
 * `training` adds keys to the training section.
 */
async function smallConfig(dir: string, targetEpochs = 3, training = ""): Promise<void> {
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `logging: {file: ${dir}/app.log}\ndata: {base_n_samples: 300, target_n_samples: 200}\n` +
      `training: {base_epochs: 3, target_epochs: ${targetEpochs}${training}}\nengine: {device: cpu}\n`,
  );
}

async function compareOnCpu(grid: Grid, config = defaultConfig(), sliceMs?: number) {
  const engine = new CpuEngine();
  try {
    const hooks = { observer: SILENT, stop: () => false, sliceMs };
    return await runComparison(engine, experimentSpec(config), grid, hooks);
  } finally {
    engine.dispose();
  }
}

Deno.test("compare: the same seeds give the same runs and the same table", async () => {
  const grid = { seeds: [7, 8], relatedness: [0.9], targetRows: null };
  const [first, second] = [await compareOnCpu(grid), await compareOnCpu(grid)];
  // Everything but the training time, which the clock decides.
  const table = (runs: typeof first.runs) =>
    formatComparison(
      analyzeComparison(runs.map((run) => ({ ...run, seconds: 0 }))),
      "cpu",
      defaultConfig().training,
    );
  assert.equal(first.complete, true);
  assert.equal(first.runs.length, 2 * CLASSIC_STRATEGIES.length);
  assert.deepEqual(
    first.runs.map((run) => run.target),
    second.runs.map((run) => run.target),
  );
  assert.equal(table(first.runs), table(second.runs));
  assert.match(table(first.runs), /full_finetune/);
});

Deno.test("compare: at the configured relatedness, full_finetune's gain over scratch is significant on three disjoint sets of 10 seeds", async () => {
  // Three seed sets, so that the claim rests on no one set's luck; each is its own run, Holm-corrected
  // over its own family of 3 comparisons.
  const relatedness = defaultConfig().data.relatedness;
  for (const first of [42, 52, 62]) {
    const seeds = Array.from({ length: 10 }, (_, i) => first + i);
    const comparison = await compareOnCpu({ seeds, relatedness: [relatedness], targetRows: null });
    const summary = analyzeComparison(comparison.runs);
    assert.deepEqual(summary.points[0].seedsUsed, seeds);
    const full = summary.points[0].comparisons.find((c) => c.strategy === "full_finetune")!;
    assert.ok(
      full.significant && full.gain.mean > 0,
      `seeds ${first}–${first + 9}: full_finetune ${
        100 * full.gain.mean
      } points, Holm p ${full.signFlip.pHolm}`,
    );
  }
});

Deno.test("compare: one pretraining per seed serves every sweep point, and the target sizes are as asked", async () => {
  const grid = { seeds: [5], relatedness: [0.5, 1], targetRows: [25, 100] };
  const comparison = await compareOnCpu(grid);
  assert.equal(comparison.pretrainings.length, 1);
  assert.equal(comparison.runs.length, 2 * 2 * CLASSIC_STRATEGIES.length);
  assert.deepEqual([...new Set(comparison.runs.map((run) => run.targetTrainRows))], [25, 100]);
  const epochs = comparison.pretrainings[0].history.length +
    comparison.runs.reduce((sum, run) => sum + run.history.length, 0);
  assert.equal(epochs, totalEpochs(experimentSpec(defaultConfig()), grid));
});

Deno.test("compare: the grid's strategies run at every point in its order, and the epoch estimate counts their stages", async () => {
  const config = defaultConfig();
  // 10 steps: at 100 rows (4 steps an epoch) lp_ft's two halves take 2 epochs each, one more than 10 steps whole.
  Object.assign(config.training, { base_epochs: 2, target_epochs: 5, target_steps: 10 });
  const strategies = ["scratch", "lp_ft", "gradual_unfreeze"] as const;
  const grid = { strategies, seeds: [4, 5], relatedness: [1], targetRows: [25, 100] };
  const comparison = await compareOnCpu(grid, config);
  assert.equal(comparison.complete, true);
  assert.deepEqual(
    comparison.runs.map((run) => `${run.seed} ${run.targetTrainRows} ${run.strategy}`),
    [4, 5].flatMap((seed) => [25, 100].flatMap((rows) => strategies.map((s) => `${seed} ${rows} ${s}`))),
  );
  const epochs = comparison.pretrainings.reduce((sum, p) => sum + p.history.length, 0) +
    comparison.runs.reduce((sum, run) => sum + run.history.length, 0);
  assert.equal(totalEpochs(experimentSpec(config), grid), epochs);
  assert.ok(comparison.runs.some((run) => run.strategy === "lp_ft" && run.history.length === 4));
  // Without `strategies`, the grid runs the classic four.
  const classic = await compareOnCpu({ seeds: [4], relatedness: [1], targetRows: [25] }, config);
  assert.deepEqual(classic.runs.map((run) => run.strategy), [...CLASSIC_STRATEGIES]);
});

Deno.test("compare: every dataset it uploads is released once its runs are done, at most two sets resident", async () => {
  const engine = new CpuEngine();
  const live = new Set<DatasetHandle>();
  let uploads = 0, most = 0;
  const counting: Engine = {
    name: engine.name,
    description: engine.description,
    upload(data: Dataset) {
      const handle = engine.upload(data);
      live.add(handle), uploads++, most = Math.max(most, live.size);
      return handle;
    },
    release(handle: DatasetHandle) {
      assert.ok(live.delete(handle), "released once, after its upload");
      engine.release(handle);
    },
    setModel: (model) => engine.setModel(model),
    readModel: () => engine.readModel(),
    trainPhase: (spec) => engine.trainPhase(spec),
    evaluate: (sets) => engine.evaluate(sets),
    logits: (data) => engine.logits(data),
    dispose: () => engine.dispose(),
  };
  const grid = { seeds: [1, 2], relatedness: [0.5, 1], targetRows: [25, 50] };
  const config = defaultConfig();
  Object.assign(config.training, { base_epochs: 1, target_epochs: 1 });
  await runComparison(counting, experimentSpec(config), grid, { observer: SILENT, stop: () => false });
  engine.dispose();
  // A task is three splits: train, validation and test.
  assert.equal(uploads, 2 * (3 + 2 * 2 * 3), "per seed: the source splits, then each target set's three");
  assert.equal(live.size, 0, "nothing left resident");
  assert.equal(most, 6, "one source task and one target set at a time");
});

/** A comparison on the CPU that stops once `epochs` epochs have been reported, with what it saw. */
async function stopAfter(epochs: number, grid: Grid, config = defaultConfig()) {
  const engine = new CpuEngine();
  let seen = 0;
  const finished: string[] = [];
  const observer = {
    epoch: () => void seen++,
    pretrained() {},
    finished: (r: RunRecord) => finished.push(r.strategy),
  };
  try {
    const comparison = await runComparison(engine, experimentSpec(config), grid, {
      observer,
      stop: () => seen >= epochs,
    });
    return { comparison, seen, finished };
  } finally {
    engine.dispose();
  }
}

Deno.test("compare: a stop during pretraining ends it at the next epoch, and the cut pretraining is not kept", async () => {
  const config = defaultConfig();
  Object.assign(config.training, { base_epochs: 50, target_epochs: 5 });
  const { comparison, seen, finished } = await stopAfter(3, {
    seeds: [1, 2],
    relatedness: [1],
    targetRows: null,
  }, config);
  assert.equal(seen, 3, "stopped at the epoch boundary, not at the end of the phase");
  assert.equal(comparison.complete, false);
  assert.deepEqual(comparison.pretrainings, []);
  assert.deepEqual(comparison.runs, []);
  assert.deepEqual(finished, []);
});

Deno.test("compare: a stop during a transfer keeps the runs that finished and drops the one cut short", async () => {
  const config = defaultConfig();
  Object.assign(config.training, { base_epochs: 4, target_epochs: 10 });
  // Pretraining, the first strategy, then 2 epochs into the second.
  const { comparison, seen, finished } = await stopAfter(4 + 10 + 2, {
    seeds: [1],
    relatedness: [1],
    targetRows: null,
  }, config);
  assert.equal(seen, 16);
  assert.equal(comparison.pretrainings.length, 1);
  assert.deepEqual(comparison.runs.map((r) => r.strategy), [CLASSIC_STRATEGIES[0]]);
  assert.deepEqual(finished, [CLASSIC_STRATEGIES[0]]);
  assert.equal(comparison.runs[0].history.length, 10);
});

Deno.test("compare: phases run in slices (so that a stop is heard) train exactly as one whole phase, step budget included", async () => {
  const config = defaultConfig();
  Object.assign(config.training, { base_epochs: 40, target_epochs: 5, target_steps: 37 });
  const grid = { strategies: STRATEGY_NAMES, seeds: [3], relatedness: [0.5], targetRows: null };
  const comparison = await compareOnCpu(grid, config, 0); // every phase one epoch at a time
  assert.deepEqual(
    comparison.runs.map((run) => run.strategy),
    [...STRATEGY_NAMES],
    "every recipe, staged ones too",
  );
  // The same phases, each run whole on a bare engine.
  const spec = experimentSpec(config);
  const data = { ...spec.data, relatedness: 0.5, seed: 3 };
  const seeded = { ...spec, data };
  const engine = new CpuEngine();
  try {
    const { source, target } = makeTransferData(data);
    const pretrained = await pretrain(engine, uploadTask(engine, source), seeded);
    assert.deepEqual(comparison.pretrainings[0].history, pretrained.history);
    assert.deepEqual(comparison.pretrainings[0].source, pretrained.metrics);
    const targetHandles = uploadTask(engine, target);
    for (const run of comparison.runs) {
      const whole = await transfer(engine, targetHandles, pretrained.model, run.strategy, seeded);
      assert.deepEqual(run.history, whole.history, run.strategy);
      assert.deepEqual(run.target, whole.metrics, run.strategy);
    }
  } finally {
    engine.dispose();
  }
});

/** The y-axis tick labels of an SVG chart (the right-aligned ones left of the plot). */
function yTicks(svg: string): number[] {
  return [...svg.matchAll(/text-anchor="end">([^<]+)<\/text>/g)].map((m) => Number(m[1]));
}

Deno.test("compare program: table, JSON and CSV agree; SVGs are XML with a series per strategy; index.html shows them", async () => {
  const dir = await Deno.makeTempDir();
  await smallConfig(dir);
  const run = await runProgram(
    "src/programs/compare/main.ts",
    ["--seeds", "3", "--relatedness", "0,1", "--target-samples", "20,80", "--out-dir", "out"],
    { cwd: dir, permissions: PERMISSIONS },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^at relatedness 0, 20 target training rows: feature_extractor vs scratch: /m);
  assert.match(run.stdout, /best by validation: /);
  // A size sweep holds the budget 3 epochs take at the configured 128 training rows: 3 x 4 steps.
  assert.match(run.stdout, /^fixed budget: 12 SGD steps per transfer$/m);
  assert.match(run.stdout, /Holm-corrected over all 12 comparisons \(3 strategies × 4 grid points\)/);
  const json = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
  const csv = (await Deno.readTextFile(`${dir}/out/results.csv`)).trimEnd().split("\n").map((line) =>
    line.split(",")
  );
  assert.deepEqual(csv[0], [...CSV_HEADER]);
  assert.equal(json.complete, true);
  assert.equal(json.runs.length, 3 * 2 * 2 * CLASSIC_STRATEGIES.length);
  assert.equal(csv.length - 1, json.runs.length);
  json.runs.forEach((r: RunRecord, i: number) => {
    const row = Object.fromEntries(CSV_HEADER.map((key, c) => [key, csv[i + 1][c]]));
    assert.equal(Number(row.seed), r.seed);
    assert.equal(row.strategy, r.strategy);
    assert.equal(Number(row.target_train_rows), r.targetTrainRows);
    assert.equal(Number(row.target_validation_accuracy), r.target.validation.accuracy);
    assert.equal(Number(row.target_test_accuracy), r.target.test.accuracy);
    assert.equal(Number(row.target_test_loss), r.target.test.loss);
    assert.equal(Number(row.epochs), r.history.length);
    assert.equal(row.diverged, String(r.diverged !== null));
    assert.equal(row.diverged_epoch, r.diverged === null ? "" : String(r.diverged.epoch));
  });
  const { summary } = json;
  assert.deepEqual(
    summary.strategies,
    [...CLASSIC_STRATEGIES],
    "the strategies run, by default the classic four",
  );
  assert.equal(summary.familySize, 12);
  assert.equal(summary.points.length, 4);
  assert.match(summary.verdictTest, /sign-flip/);
  for (const point of summary.points) {
    assert.equal(point.comparisons.length, CLASSIC_STRATEGIES.length - 1);
    for (const c of point.comparisons) {
      assert.equal(c.seeds, point.seedsUsed.length);
      for (const p of [c.signFlip.p, c.signFlip.pHolm, c.tTest.p, c.tTest.pHolm]) assert.ok(p >= 0 && p <= 1);
      assert.ok(c.signFlip.pHolm >= c.signFlip.p);
      assert.equal(c.signFlip.method, "exact");
      assert.equal(c.significant, false, "3 seeds can never be significant");
      assert.ok(
        c.seedsNeeded === null || c.seedsNeeded >= 8,
        "at least what the sign-flip test needs at 0.05/12",
      );
    }
  }
  const files = [...Deno.readDirSync(`${dir}/out`)].map((entry) => entry.name).filter((name) =>
    name.endsWith(".svg")
  );
  assert.ok(
    files.includes("sample-efficiency-r0.svg") && files.includes("relatedness-n20.svg"),
    files.join(" "),
  );
  assert.equal(files.filter((name) => name.startsWith("learning-curves")).length, 4);
  for (const file of files) {
    const svg = await Deno.readTextFile(`${dir}/out/${file}`);
    assert.equal(XMLValidator.validate(svg), true, file);
    const series = new XMLParser({ ignoreAttributes: false }).parse(svg);
    assert.ok(series.svg, `${file} is an svg document`);
    assert.equal([...svg.matchAll(/class="series"/g)].length, CLASSIC_STRATEGIES.length, file);
    const ticks = yTicks(svg);
    assert.ok(ticks.length >= 2 && ticks.every((t) => t >= 0 && t <= 100), `${file}: y ticks ${ticks}`);
    assert.ok(
      svg.includes(">fixed budget: 12 SGD steps per transfer<"),
      file,
    );
  }
  const html = await Deno.readTextFile(`${dir}/out/index.html`);
  for (const file of files) assert.ok(html.includes(`src="${file}"`), `index.html shows ${file}`);
  assert.match(html, /exact two-sided sign-flip test/);
  await Deno.remove(dir, { recursive: true });
});

/** The strategy column of the console table, top to bottom (rows start with a name and a seed count). */
function tableStrategies(stdout: string): string[] {
  return [...stdout.matchAll(/^(\w+)(?: \*)?\s+\d+\s+\d+\.\d/gm)].map((m) => m[1]);
}

Deno.test("compare program: --strategies bitfit,surgical,scratch runs those three, in the recipes' order, in every output", async () => {
  const dir = await Deno.makeTempDir();
  await smallConfig(dir);
  const run = await runProgram(
    "src/programs/compare/main.ts",
    ["--strategies", "bitfit,surgical,scratch", "--seeds", "2", "--out-dir", "out"],
    { cwd: dir, permissions: PERMISSIONS },
  );
  assert.equal(run.code, 0, run.stderr);
  const three = ["scratch", "bitfit", "surgical"];
  assert.deepEqual(tableStrategies(run.stdout), three, run.stdout);
  assert.match(run.stdout, /^bitfit vs scratch: /m);
  assert.match(run.stdout, /^surgical vs scratch: /m);
  assert.match(run.stdout, /Holm-corrected over all 2 comparisons \(2 strategies × 1 grid point\)/);
  assert.match(run.stdout, /^6 runs; results in out$/m);
  assert.doesNotMatch(run.stdout + run.stderr, /feature_extractor|head_finetune|full_finetune|lp_ft/);
  assert.doesNotMatch(run.stderr, /added scratch/, "scratch was given");
  const json = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
  assert.deepEqual(json.summary.strategies, three);
  assert.equal(json.summary.familySize, 2);
  assert.deepEqual(json.runs.map((r: RunRecord) => `${r.seed} ${r.strategy}`), [
    ...three.map((s) => `42 ${s}`),
    ...three.map((s) => `43 ${s}`),
  ]);
  const [point] = json.summary.points;
  assert.deepEqual(point.seedsUsed, [42, 43]);
  assert.deepEqual(point.strategies.map((s: { strategy: string }) => s.strategy), three);
  assert.deepEqual(point.comparisons.map((c: { strategy: string }) => c.strategy), ["bitfit", "surgical"]);
  const csv = (await Deno.readTextFile(`${dir}/out/results.csv`)).trimEnd().split("\n").slice(1);
  const column = CSV_HEADER.indexOf("strategy");
  assert.deepEqual(csv.map((line) => line.split(",")[column]), json.runs.map((r: RunRecord) => r.strategy));
  const svg = await Deno.readTextFile(`${dir}/out/learning-curves.svg`);
  assert.deepEqual([...svg.matchAll(/<g class="series" data-name="(\w+)">/g)].map((m) => m[1]), three);
  const html = await Deno.readTextFile(`${dir}/out/index.html`);
  assert.deepEqual([...html.matchAll(/<tr(?: class="best")?><td>(\w+)/g)].map((m) => m[1]), three);
  // Left out, scratch is added, and stderr and the log say so once.
  const added = await runProgram(
    "src/programs/compare/main.ts",
    ["--strategies", "surgical", "--seeds", "1", "--out-dir", "out2"],
    { cwd: dir, permissions: PERMISSIONS },
  );
  assert.equal(added.code, 0, added.stderr);
  const note = "--strategies: added scratch, the baseline every strategy is compared with";
  assert.deepEqual(added.stderr.split("\n").filter((line) => line.includes("added scratch")), [note]);
  assert.doesNotMatch(added.stderr, /warning/i);
  assert.deepEqual(tableStrategies(added.stdout), ["scratch", "surgical"]);
  const log = await Deno.readTextFile(`${dir}/app.log`);
  assert.ok(log.split("\n").some((line) => / INFO /.test(line) && line.endsWith(note)), log);
  assert.match(log, /compare on cpu .*strategies scratch, surgical/);
  const json2 = JSON.parse(await Deno.readTextFile(`${dir}/out2/results.json`));
  assert.deepEqual(json2.summary.strategies, ["scratch", "surgical"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("compare program: with training.target_steps the table and the sample-efficiency figure say the fixed budget", async () => {
  const dir = await Deno.makeTempDir();
  await smallConfig(dir, 3, ", target_steps: 7");
  const run = await runProgram(
    "src/programs/compare/main.ts",
    ["--seeds", "1", "--target-samples", "20,80", "--out-dir", "out"],
    { cwd: dir, permissions: PERMISSIONS },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^fixed budget: 7 SGD steps per transfer$/m);
  const svg = await Deno.readTextFile(`${dir}/out/sample-efficiency.svg`);
  assert.ok(svg.includes(">fixed budget: 7 SGD steps per transfer</text>"), svg);
  const json = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
  assert.equal(json.summary.budget, "fixed budget: 7 SGD steps per transfer");
  // One seed: no spread, no interval, and no band in the figures.
  const body = run.stdout.split("\n").filter((line) => /^(20|80) /.test(line));
  assert.equal(body.length, 2 * CLASSIC_STRATEGIES.length);
  for (const line of body) assert.doesNotMatch(line, /±|\[/);
  assert.doesNotMatch(svg, /<polygon|stroke-width="8"/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("compare program: a size sweep without target_steps holds the budget the configured size gets", async () => {
  const dir = await Deno.makeTempDir();
  await smallConfig(dir, 3);
  const run = await runProgram(
    "src/programs/compare/main.ts",
    ["--seeds", "1", "--target-samples", "20,80", "--out-dir", "out"],
    { cwd: dir, permissions: PERMISSIONS },
  );
  assert.equal(run.code, 0, run.stderr);
  // 200 target rows: 40 test, 32 validation, 128 training = 4 minibatches of 32; 3 epochs = 12 steps.
  assert.match(run.stdout, /^fixed budget: 12 SGD steps per transfer$/m);
  const json = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
  assert.equal(json.config.training.target_steps, 12);
  const epochs = (rows: number) =>
    new Set(
      json.runs.filter((r: RunRecord) => r.targetTrainRows === rows).map((r: RunRecord) => r.history.length),
    );
  assert.deepEqual([...epochs(20)], [12], "20 rows: one step an epoch");
  assert.deepEqual([...epochs(80)], [4], "80 rows: 3 steps an epoch, 12 in 4 epochs");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("compare program: --help gives 10 seeds as the default", async () => {
  const run = await runProgram("src/programs/compare/main.ts", ["--help"], {
    cwd: ROOT,
    permissions: PERMISSIONS,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /-n, --seeds <count>\s+seeds, from the configured seed up: 1 to 1000\s+\(default: 10\)/,
  );
});

/** Runs the program, sends `signal` once the second seed's first run has finished, and checks what it kept. */
async function stopMidRun(signal: Deno.Signal, code: number): Promise<void> {
  const dir = await Deno.makeTempDir();
  await smallConfig(dir, 3000); // about 0.2 s a run: the whole comparison would take several seconds
  const child = new Deno.Command("deno", {
    args: [
      "run",
      "--config",
      `${ROOT}deno.json`,
      ...PERMISSIONS,
      `${ROOT}src/programs/compare/main.ts`,
      "--out-dir",
      "out",
    ],
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream());
  let seen = "";
  for await (const text of stderr.values({ preventCancel: true })) {
    seen += text;
    // The second seed's first run: the first seed is complete, the second not.
    const seeds = new Set([...seen.matchAll(/seed (\d+): \w+ finished, target test/g)].map((m) => m[1]));
    if (seeds.size >= 2) break;
  }
  child.kill(signal);
  const [status, stdout] = await Promise.all([child.status, new Response(child.stdout).text()]);
  for await (const text of stderr) seen += text;
  assert.equal(status.code, code, seen);
  assert.match(stdout, /interrupted: kept the \d+ runs that finished/);
  const json = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
  assert.equal(json.complete, false);
  assert.ok(
    json.runs.length > CLASSIC_STRATEGIES.length && json.runs.length < 10 * CLASSIC_STRATEGIES.length,
    `${json.runs.length} runs`,
  );
  const csv = (await Deno.readTextFile(`${dir}/out/results.csv`)).trimEnd().split("\n");
  assert.equal(csv.length - 1, json.runs.length);
  // The table and the verdicts use only the seeds where every strategy finished.
  const runsOf = (seed: number) => json.runs.filter((r: RunRecord) => r.seed === seed).length;
  const complete = [...new Set(json.runs.map((r: RunRecord) => r.seed))].filter((seed) =>
    runsOf(seed as number) === CLASSIC_STRATEGIES.length
  );
  const [point] = json.summary.points;
  assert.deepEqual(point.seedsUsed, complete);
  for (const c of point.comparisons) assert.equal(c.seeds, complete.length);
  assert.ok(point.incomplete.length >= 1, "stopped inside the second seed");
  assert.match(stdout, /left out: seed \d+, interrupted after \d of 4 strategies/);
  // Every run in the results finished: none was cut short at the epoch where the signal landed.
  for (const run of json.runs) assert.equal(run.history.length, 3000, `${run.strategy} of seed ${run.seed}`);
  await Deno.remove(dir, { recursive: true });
}

Deno.test("compare program: Ctrl-C stops at the next epoch and keeps every finished run, exit 130", async () => {
  await stopMidRun("SIGINT", INTERRUPTED_EXIT_CODE);
});

Deno.test("compare program: SIGTERM stops at the next epoch and keeps every finished run, exit 143", async () => {
  await stopMidRun("SIGTERM", TERMINATED_EXIT_CODE);
});

Deno.test("compare program: bad flags and an unusable --out-dir are one-line errors, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  await smallConfig(dir);
  await Deno.writeTextFile(`${dir}/file`, "");
  await Deno.mkdir(`${dir}/used`);
  await Deno.writeTextFile(`${dir}/used/learning_curves.svg`, "<svg/>");
  const cases: [string[], RegExp][] = [
    [
      ["--out-dir", "used"],
      /^error: --out-dir used: holds files from another run; choose an empty or new folder$/,
    ],
    [["--target-samples", "50,50"], /--target-samples.*'50' is given twice; give each value once/],
    [["--relatedness", "0.5,1,0.50"], /--relatedness.*'0\.50' is given twice; give each value once/],
    [["--seeds", "0"], /--seeds.*whole number from 1 to 1000/],
    [["--relatedness", "0,2"], /--relatedness.*'2' is not a number from 0 to 1/],
    [["--target-samples", "10,x"], /--target-samples.*'x' is not a whole number/],
    [["--out-dir", "file/sub"], /--out-dir file\/sub: cannot create the folder/],
    [["--out-dir", "file"], /^error: --out-dir file: is a file, not a folder; choose a folder$/],
    [["--threads", "2", "--cpu-kernels", "ts"], /threads 2 with the TypeScript kernels/],
    [
      ["--strategies", "bitfit,foo"],
      new RegExp(
        `^error: --strategies: no recipe 'foo'; the built-in ones are ${
          STRATEGY_NAMES.join(", ")
        }, and the config defines none`,
      ),
    ],
    [["--strategies", "bitfit,,surgical"], /--strategies.*'' is no recipe's name \(feature_extractor/],
    [
      ["--strategies", "surgical,scratch,surgical"],
      /--strategies.*'surgical' is given twice; give each strategy once/,
    ],
    [["--strategies", "scratch"], /--strategies.*'scratch' alone compares nothing/],
  ];
  for (const [flags, message] of cases) {
    const run = await runProgram("src/programs/compare/main.ts", flags, {
      cwd: dir,
      permissions: PERMISSIONS,
    });
    assert.equal(run.code, 2, `${flags.join(" ")}: ${run.stderr}`);
    const lines = run.stderr.trim().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], message);
  }
  assert.ok(!exists(`${dir}/runs`), "bad input leaves no run folder behind");
  assert.deepEqual([...Deno.readDirSync(`${dir}/used`)].map((e) => e.name), ["learning_curves.svg"]);
  assert.ok(!exists(`${dir}/app.log`) || !Deno.readTextFileSync(`${dir}/app.log`).includes("compare on"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("progress: a terminal gets one redrawn line with the time left; a pipe gets plain lines", () => {
  let clock = 0;
  const at = { seed: 42, phase: "pretrain", relatedness: null, targetTrainRows: null } as const;
  const metrics = { epoch: 1, train: { loss: 0.5, accuracy: 0.8 }, test: { loss: 0.6, accuracy: 0.7 } };
  const show = (terminal: boolean) => {
    const out: string[] = [];
    const report = new ProgressReport(10, { terminal, write: (text) => out.push(text), now: () => clock });
    for (let e = 0; e < 4; e++) {
      clock += 1;
      report.epoch(at, metrics, 10);
    }
    report.done();
    return out;
  };
  const terminal = show(true);
  assert.ok(terminal.every((text) => text.startsWith("\r\x1b[2K")));
  assert.match(terminal[0], /\[##------------------\] 10\.0%: seed 42, pretrain, epoch 1\/10, loss 0\.5000$/);
  // 2 epochs measured in the 2 s after the first: 1 epoch a second, 7 to go.
  assert.match(terminal[2], /\[######--------------\] 30\.0%, 7 s left: seed 42, pretrain, epoch 1\/10/);
  const plain = show(false);
  assert.ok(plain.every((text) => text.endsWith("\n") && !text.includes("\r")));
  assert.ok(plain.length < terminal.length, "a pipe gets fewer lines");
});

/** A finished scratch run on seed 4 with loss 0.5 and accuracy 0.8 everywhere, for the progress tests. */
function finishedRun(): RunRecord {
  const metrics = { loss: 0.5, accuracy: 0.8 };
  return {
    seed: 4,
    relatedness: 0.9,
    targetTrainRows: 480,
    strategy: "scratch",
    sourceTest: metrics,
    target: { train: metrics, validation: metrics, test: metrics },
    history: [],
    seconds: 0,
    notes: [],
    diverged: null,
    earlyStop: null,
  };
}

Deno.test("progress: a diverged pretraining or run always gets a line of its own", () => {
  const out: string[] = [];
  const report = new ProgressReport(10, { terminal: false, write: (text) => out.push(text), now: () => 0 });
  const metrics = { loss: 0.5, accuracy: 0.8 };
  const source = { train: metrics, validation: metrics, test: metrics };
  report.pretrained({ seed: 3, source, history: [], seconds: 0.1, diverged: { epoch: 2, loss: NaN } });
  const run = finishedRun();
  report.finished(run);
  report.finished({ ...run, strategy: "full_finetune", diverged: { epoch: 5, loss: Infinity } });
  report.finished({ ...run, strategy: "head_finetune" });
  assert.deepEqual(out, [
    "seed 3: pretraining diverged at epoch 2; no transfers from this seed\n",
    "seed 4: scratch finished, target test 80.0%\n",
    "seed 4: full_finetune diverged at epoch 5 (relatedness 0.9, 480 rows); its seed is left out at this point\n",
    "seed 4: head_finetune finished, target test 80.0%\n",
  ]);
});

Deno.test("progress: the time left is said only once throughput is measured, and comes from it", () => {
  let clock = 0;
  const out: string[] = [];
  const report = new ProgressReport(1000, {
    terminal: false,
    write: (text) => out.push(text),
    now: () => clock,
  });
  const at = { seed: 1, phase: "scratch", relatedness: 1, targetTrainRows: 50 } as const;
  const metrics = { epoch: 1, train: { loss: 0.5, accuracy: 0.8 }, test: { loss: 0.6, accuracy: 0.7 } };
  clock = 100; // start-up (an engine opening, a shader compiling) before the first epoch counts for nothing
  report.epoch(at, metrics, 1000);
  assert.doesNotMatch(out[0], /left/, "no measurement yet");
  for (let e = 0; e < 399; e++) (clock += 0.001), report.epoch(at, metrics, 1000);
  assert.equal(out.length, 1, "0.4 s: no new plain line yet");
  for (let e = 0; e < 600; e++) (clock += 0.01), report.epoch(at, metrics, 1000);
  const last = out.at(-1)!;
  // About 5 s in, at 100 epochs a second: the line shows a few seconds left, not minutes.
  const left = Number(last.match(/, (\d+) s left\n$/)?.[1]);
  assert.ok(left >= 0 && left <= 10, last);
});

Deno.test("progress: the terminal line fits the terminal's width", () => {
  let clock = 0;
  const out: string[] = [];
  const report = new ProgressReport(100, {
    terminal: true,
    write: (text) => out.push(text),
    now: () => clock,
    width: () => 40,
  });
  const at = { seed: 42, phase: "full_finetune", relatedness: 0.75, targetTrainRows: 800 } as const;
  const metrics = { epoch: 3, train: { loss: 0.5, accuracy: 0.8 }, test: { loss: 0.6, accuracy: 0.7 } };
  for (let e = 0; e < 5; e++) (clock += 1), report.epoch(at, metrics, 100);
  assert.ok(out.length >= 5);
  for (const text of out) {
    const visible = text.replace("\r\x1b[2K", "");
    assert.ok(visible.length <= 39, `${visible.length} columns: ${visible}`);
  }
  // Without a width the line is whole.
  const whole: string[] = [];
  new ProgressReport(100, { terminal: true, write: (t) => whole.push(t), now: () => 0 }).epoch(
    at,
    metrics,
    100,
  );
  assert.match(whole[0], /800 rows, epoch 3\/100, loss 0\.5000$/);
});

Deno.test("progress: a pipe names every strategy as it finishes; a terminal only the first of each seed", () => {
  const run = finishedRun();
  for (const terminal of [false, true]) {
    const out: string[] = [];
    const report = new ProgressReport(10, { terminal, write: (text) => out.push(text), now: () => 0 });
    for (const strategy of STRATEGY_NAMES) report.finished({ ...run, strategy });
    const named = out.filter((text) => text.includes(" finished"));
    assert.deepEqual(
      named.map((text) => text.match(/seed 4: (\w+) finished/)?.[1]),
      terminal ? [STRATEGY_NAMES[0]] : [...STRATEGY_NAMES],
    );
  }
});

Deno.test({
  name: "compare: the GPU engine runs the same sweep, matching the CPU engine",
  ignore: !(await gpuAvailable()),
  fn: async () => {
    const config = defaultConfig();
    Object.assign(config.training, { base_epochs: 5, target_epochs: 5 });
    const grid = { seeds: [42], relatedness: [0.5, 1], targetRows: [50, 200] };
    const cpu = await compareOnCpu(grid, config);
    const gpu = await withGpuEngine((engine) =>
      runComparison(engine, experimentSpec(config), grid, { observer: SILENT, stop: () => false })
    );
    assert.equal(gpu.runs.length, cpu.runs.length);
    gpu.runs.forEach((run, i) => {
      const want = cpu.runs[i].target.test;
      assert.equal(
        `${run.strategy} ${run.relatedness} ${run.targetTrainRows}`,
        `${cpu.runs[i].strategy} ${cpu.runs[i].relatedness} ${cpu.runs[i].targetTrainRows}`,
      );
      assert.ok(Math.abs(run.target.test.loss - want.loss) <= 1e-3 * want.loss, `run ${i} loss`);
      assert.ok(Math.abs(run.target.test.accuracy - want.accuracy) <= 0.01, `run ${i} accuracy`);
    });
  },
});

Deno.test("compare: two runs started in the same second get folders of their own", async () => {
  const parent = await Deno.makeTempDir();
  const now = new Date("2026-12-01T09:30:15.250Z");
  const first = claimRunFolder(now, parent), second = claimRunFolder(now, parent);
  assert.equal(first, `${parent}/2026-12-01T09-30-15`);
  assert.equal(second, `${first}-2`);
  assert.ok(Deno.statSync(first).isDirectory && Deno.statSync(second).isDirectory);
  await Deno.remove(parent, { recursive: true });
});

Deno.test("compare program: diverged transfers are left out, listed, and the rate to lower is named; exit 0", async () => {
  const dir = await Deno.makeTempDir();
  await smallConfig(dir, 3, ", learning_rate_target: 1000");
  const run = await runProgram("src/programs/compare/main.ts", ["--seeds", "2", "--out-dir", "out"], {
    cwd: dir,
    permissions: PERMISSIONS,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    /WARNING the \w+ transfer diverged at epoch \d+ .*lower training\.learning_rate_target \(now 1000\)/,
  );
  assert.match(run.stdout, /^diverged: /m);
  assert.doesNotMatch(run.stdout, /significant gain/);
  await Deno.remove(dir, { recursive: true });
});
