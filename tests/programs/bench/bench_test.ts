/** The benchmark: its correctness check can fail, and `--quick` runs every part and writes the JSON. */

import assert from "node:assert/strict";
import { STRATEGY_NAMES } from "../../../src/core/recipes.ts";
import { matmul } from "../../../src/engines/cpu/reference_kernels.ts";
import { benchMatmul, makeOperands, sampledError } from "../../../src/programs/bench/matmul_bench.ts";
import { GpuContext } from "../../../src/engines/gpu/context.ts";
import { summarizeTimings } from "../../../src/programs/bench/timing.ts";
import { benchWholeRuns, type WholeRunContender } from "../../../src/programs/bench/whole_run_bench.ts";
import { SAMPLE_EPOCHS } from "../../../src/programs/bench/training_bench.ts";
import { wholeRunEngines } from "../../../src/programs/bench/main.ts";
import { gpuAvailable } from "../../helpers/gpu.ts";
import { ROOT, runProgram } from "../../helpers/helpers.ts";
import { detectWasm } from "../../../src/engines/cpu/wasm/runtime.ts";

Deno.test("the benchmark's correctness check accepts the product and catches a wrong or unwritten element", () => {
  const c = { label: "t", form: "AB" as const, m: 9, k: 7, n: 5 };
  const operands = makeOperands(c);
  const got = new Float32Array(c.m * c.n);
  matmul(operands.a, operands.b, got, c.m, c.k, c.n);
  assert.ok(sampledError(got, operands) < 1e-6);
  const { at } = operands.samples[0];
  const wrong = got.slice();
  wrong[at] += 0.01;
  assert.ok(sampledError(wrong, operands) >= 0.01 / Math.max(1, Math.abs(got[at])) * 0.99);
  wrong[at] = NaN;
  assert.equal(sampledError(wrong, operands), Infinity);
});

Deno.test({
  name: "matmul bench: a GPU-only case is timed and checked on the GPU schedules alone",
  ignore: !(await gpuAvailable()),
  fn: async () => {
    const context = await GpuContext.acquire();
    try {
      const cases = [
        { label: "square 32", form: "AB" as const, m: 32, k: 32, n: 32 },
        { label: "square 64", form: "AB" as const, m: 64, k: 64, n: 64, gpuOnly: true },
      ];
      const [both, gpuOnly] = await benchMatmul(cases, context, 1);
      assert.ok(both.kernels.some((k) => k.kernel === "cpu"), "an ordinary case runs the CPU kernels too");
      assert.deepEqual(gpuOnly.kernels.map((k) => k.kernel), ["gpu-tiled", "gpu-blocked"]);
      assert.ok(gpuOnly.kernels.every((k) => k.correct && k.gflops.n > 0));
    } finally {
      context.destroy();
    }
  },
});

Deno.test("whole runs take turns, each round starting one further on; one that cannot run is skipped; all disposed", async () => {
  const order: string[] = [], disposed: string[] = [];
  const contender = (engine: string, seconds: number[] | null): WholeRunContender => ({
    engine,
    run: () => {
      order.push(engine);
      return Promise.resolve(
        seconds ? { seconds: seconds.shift()!, detail: "ran" } : { unavailable: "absent" },
      );
    },
    dispose: () => disposed.push(engine),
  });
  const rounds: number[] = [];
  const results = await benchWholeRuns(
    "w",
    [
      contender("a", [3, 1, 2]),
      contender("none", null),
      contender("b", [5, 6, 4]),
    ],
    3,
    (round) => rounds.push(round),
  );
  assert.deepEqual(order, ["a", "none", "b", "b", "a", "b", "a"]);
  assert.deepEqual(rounds, [1, 2, 3]);
  assert.deepEqual(disposed, ["a", "none", "b"]);
  assert.deepEqual(results, [
    { workload: "w", engine: "a", seconds: { median: 2, min: 1, max: 3, n: 3 }, detail: "ran" },
    { workload: "w", engine: "none", seconds: null, unavailable: "absent" },
    { workload: "w", engine: "b", seconds: { median: 5, min: 4, max: 6, n: 3 }, detail: "ran" },
  ]);
});

Deno.test("summaries: median of odd and even counts, range", () => {
  assert.deepEqual(summarizeTimings([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 });
  assert.deepEqual(summarizeTimings([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, n: 4 });
});

Deno.test("bench --quick: every part runs, every kernel is correct, the JSON has the documented shape", async () => {
  const hasGpu = await gpuAvailable();
  const dir = await Deno.makeTempDir();
  const output = await runProgram(
    "src/programs/bench/main.ts",
    ["--quick", "--output", `${dir}/bench.json`],
    {
      cwd: dir,
      permissions: ["--allow-read", "--allow-write", "--allow-run=python3"],
    },
  );
  const stdout = output.stdout;
  assert.equal(output.code, 0, output.stderr);
  const r = JSON.parse(await Deno.readTextFile(`${dir}/bench.json`));
  await Deno.remove(dir, { recursive: true });
  assert.equal(r.meta.quick, true);
  assert.equal(r.meta.deno, Deno.version.deno);
  const support = detectWasm();
  assert.ok("variant" in support, "Deno 2.9 accepts WebAssembly SIMD");
  const wasm = support.variant;
  const kernelNames = [
    "cpu",
    `cpu-wasm-${wasm}`,
    `cpu-wasm-${wasm}-2t`,
    ...(hasGpu ? ["gpu-tiled", "gpu-blocked"] : []),
  ];
  assert.ok(r.kernels.length >= 12, "training-step shapes of both workloads and squares");
  for (const c of r.kernels) {
    assert.deepEqual(c.kernels.map((k: { kernel: string }) => k.kernel), kernelNames);
    for (const k of c.kernels) {
      assert.equal(k.correct, true, `${c.label} on ${k.kernel}: error ${k.maxError}`);
      assert.equal(k.gflops.n, 5);
      assert.ok(k.gflops.min > 0 && k.gflops.min <= k.gflops.median && k.gflops.median <= k.gflops.max);
    }
  }
  // The GPU engine on the general path alone, where the workload fits the fused kernel that `gpu`
  // takes: the quick default workload does, its 32-48-10 large one not.
  const gpuEngines = (workload: string) =>
    hasGpu ? ["gpu", ...(workload === "default" ? ["gpu-general"] : [])] : [];
  for (const workload of ["default", "large"]) {
    const runs = r.endToEnd.filter((w: { workload: string }) => w.workload === workload);
    const engines = ["cpu", "cpu-wasm", "cpu-wasm-2t", ...(hasGpu ? ["gpu", "gpu-naive"] : [])];
    if (hasGpu && workload === "default") engines.push("gpu-general");
    assert.deepEqual(runs.map((w: { engine: string }) => w.engine), engines);
    for (const w of runs) {
      assert.equal(w.source.secondsPerEpoch.n, 5);
      assert.ok(w.source.samplesPerSecond > 0 && w.target.samplesPerSecond > 0);
    }
    if (!hasGpu) continue;
    const [gpu, naive] = [runs[3], runs[4]];
    const general = runs.find((w: { engine: string }) => w.engine === "gpu-general") ?? gpu; // large: gpu
    for (const w of [gpu, general]) {
      assert.equal(w.perEpoch.waits, 1 / SAMPLE_EPOCHS, `${w.engine}: the engine waits once per phase`);
    }
    assert.equal(general.perEpoch.submissions, 1, "the general path: one submission per epoch");
    assert.equal(
      naive.perEpoch.submissions,
      naive.perEpoch.dispatches,
      "naive: one submission per operation",
    );
  }
  for (const workload of ["default", "large"]) {
    const runs = r.wholeRuns.filter((w: { workload: string }) => w.workload === workload);
    assert.deepEqual(
      runs.map((w: { engine: string }) => w.engine),
      ["cpu", "cpu-wasm", "cpu-wasm-2t", ...gpuEngines(workload), "numpy-1t", "numpy-2t"],
    );
    for (const w of runs) {
      assert.ok(w.seconds === null ? /\S/.test(w.unavailable) : w.seconds.min > 0, `${workload} ${w.engine}`);
    }
  }
  for (const sweep of ["hidden", "batch"]) {
    assert.equal(r.scaling[sweep].rows.length, 2);
    for (const row of r.scaling[sweep].rows) {
      assert.ok(row.cpu > 0 && row["cpu-wasm"] > 0 && row["cpu-wasm-2t"] > 0 && (!hasGpu || row.gpu > 0));
    }
  }
  // Every recipe with SGD and full_finetune with each other optimizer, on each engine but the threaded one.
  const recipeEngines = ["cpu", "cpu-wasm", ...(hasGpu ? ["gpu"] : [])];
  assert.deepEqual([...new Set(r.recipes.map((c: { engine: string }) => c.engine))], recipeEngines);
  const cases = r.recipes.filter((c: { engine: string }) => c.engine === "cpu");
  assert.deepEqual(
    cases.map((c: { recipe: string; optimizer: string }) => `${c.recipe}+${c.optimizer}`),
    [
      ...STRATEGY_NAMES.map((name) => `${name}+sgd`),
      "full_finetune+momentum",
      "full_finetune+adam",
      "full_finetune+adamw",
    ],
  );
  for (const c of r.recipes) {
    assert.ok(c.msPerStep.min > 0 && Number.isFinite(c.relative), `${c.engine} ${c.recipe} ${c.optimizer}`);
    if (c.recipe === "full_finetune" && c.optimizer === "sgd") assert.equal(c.relative, 1);
  }
  if (hasGpu) { // the GPU's costs on each of its paths, and the choice on every workload timed on both
    for (const path of [r.auto.costs.gpu.fused, r.auto.costs.gpu.general]) {
      assert.ok(path.perPhase > 0 && path.flopsPerSecond > 0, JSON.stringify(r.auto.costs));
    }
    assert.ok(r.auto.checks.length > 0);
    assert.match(stdout, /gpu, fused kernel: .* GFLOP\/s; general path: .* GFLOP\/s/);
  }
  assert.match(stdout, /matmul GFLOP\/s/);
  assert.match(stdout, /recipes \(default workload/);
  assert.match(stdout, /end to end/);
  assert.match(stdout, /whole experiment/);
  assert.match(stdout, /scaling/);
});

Deno.test("bench --output onto a project file is refused before any measurement, the file untouched", async () => {
  const before = await Deno.readTextFile(`${ROOT}config.yaml`);
  const run = await runProgram("src/programs/bench/main.ts", ["--quick", "--output", `${ROOT}config.yaml`], {
    cwd: ROOT,
    permissions: ["--allow-read", "--allow-write", "--allow-env=XDG_RUNTIME_DIR"],
  });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /^error: --output .*config\.yaml is the project's config\.yaml/m);
  assert.equal(await Deno.readTextFile(`${ROOT}config.yaml`), before);
});

Deno.test("the whole large experiment: the GPU times it on a hardware adapter (its table's row), not on llvmpipe", () => {
  const [full, quick] = [false, true]; // the plans' slowOnLarge
  const [hardware, software] = [{ software: false }, { software: true }];
  assert.deepEqual(wholeRunEngines("large", full, hardware), { slow: false, gpu: true });
  assert.deepEqual(wholeRunEngines("large", full, software), { slow: false, gpu: false });
  assert.deepEqual(wholeRunEngines("large", full, null), { slow: false, gpu: false });
  assert.deepEqual(wholeRunEngines("large", quick, software), { slow: true, gpu: true });
  assert.deepEqual(wholeRunEngines("default", full, software), { slow: true, gpu: true });
});
