/**
 * Choosing the engine and the CPU kernels (src/app/select_engine.ts): what `auto` falls back to and
 * says, what `gpu`, `wasm` and `ts` insist on, and the run program's flags end to end. The WebGPU
 * entry point and the WebAssembly detection are faked where a test needs a machine without them.
 */

import assert from "node:assert/strict";
import { type KernelSet, TS_KERNELS } from "../../src/engines/cpu/arena.ts";
import { defaultConfig, experimentSpec } from "../../src/app/config.ts";
import { runWorkload } from "../../src/app/cost_model.ts";
import { threadCount } from "../../src/app/engine_choices.ts";
import { selectCpuKernels, selectEngine } from "../../src/app/select_engine.ts";
import { UsageError } from "../../src/core/errors.ts";
import { quietLogger, recordingLogger, runProgram } from "../helpers/helpers.ts";

/** The default config's run, as `auto` weighs it. */
const DEFAULT_RUN = runWorkload(experimentSpec(defaultConfig()));

/** A WebGPU entry point whose adapter request resolves to `adapter`. */
function fakeGpu(adapter: unknown): GPU {
  return { requestAdapter: () => Promise.resolve(adapter) } as unknown as GPU;
}

Deno.test("auto falls back to the CPU engine, saying why, when there is no adapter or only a software one", async () => {
  const cases: [string, unknown][] = [
    ["no WebGPU adapter", null],
    ["software", { info: { isFallbackAdapter: true, description: "fake rasterizer" } }],
  ];
  for (const [reason, adapter] of cases) {
    const lines: string[] = [];
    const engine = await selectEngine("auto", recordingLogger(lines), {
      workload: DEFAULT_RUN,
      gpu: fakeGpu(adapter),
    });
    assert.equal(engine.name, "cpu");
    assert.equal(lines.length, 1);
    assert.match(lines[0], new RegExp(`INFO .*${reason}.*CPU`));
  }
});

Deno.test("gpu without an adapter is a usage error; cpu never asks for one", async () => {
  await assert.rejects(
    selectEngine("gpu", quietLogger(), { workload: DEFAULT_RUN, gpu: fakeGpu(null) }),
    (error: Error) => error instanceof UsageError && /--device gpu: no WebGPU adapter/.test(error.message),
  );
  const asked = { count: 0 };
  const counting = { requestAdapter: () => (asked.count++, Promise.resolve(null)) } as unknown as GPU;
  assert.equal(
    (await selectEngine("cpu", quietLogger(), { workload: DEFAULT_RUN, gpu: counting })).name,
    "cpu",
  );
  assert.equal(asked.count, 0);
});

Deno.test("CPU kernel choice: auto falls back to TypeScript with one line, wasm demands SIMD, ts never asks", async () => {
  const lines: string[] = [];
  const log = recordingLogger(lines);
  const chosen = (kernels: KernelSet) => (kernels.dispose(), kernels.description);
  assert.equal(
    chosen(await selectCpuKernels("auto", 1, log, () => ({ variant: "relaxed" }))),
    "WebAssembly relaxed SIMD kernels, 1 thread",
  );
  assert.equal(
    chosen(await selectCpuKernels("auto", 2, log, () => ({ variant: "simd" }))),
    "WebAssembly SIMD kernels, 2 threads",
  );
  assert.deepEqual(lines, []);
  assert.equal(
    await selectCpuKernels("auto", "auto", log, () => ({ unavailable: "no WebAssembly SIMD here" })),
    TS_KERNELS,
  );
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /INFO WebAssembly kernels unavailable \(no WebAssembly SIMD here\); the CPU engine uses the TypeScript kernels/,
  );
  await assert.rejects(
    () => selectCpuKernels("wasm", 1, log, () => ({ unavailable: "no WebAssembly SIMD here" })),
    (error: Error) =>
      error instanceof UsageError && /--cpu-kernels wasm: .*no WebAssembly SIMD/.test(error.message),
  );
  let asked = false;
  assert.equal(
    await selectCpuKernels("ts", "auto", log, () => (asked = true, { variant: "relaxed" })),
    TS_KERNELS,
  );
  assert.equal(asked, false);
  await assert.rejects(
    () => selectCpuKernels("ts", 2, log),
    (error: Error) =>
      error instanceof UsageError && /threads 2 with the TypeScript kernels/.test(error.message),
  );
});

Deno.test("threads: auto is the machine's cores, at most 4; a number is taken as it is", () => {
  assert.deepEqual([1, 2, 3, 16].map((cores) => threadCount("auto", cores)), [1, 2, 3, 4]);
  assert.equal(threadCount(7, 2), 7);
});

Deno.test("CLI --cpu-kernels and --threads name the kernels in the results, and the program exits", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `logging: {file: ${dir}/app.log}\ndata: {base_n_samples: 300, target_n_samples: 200}\ntraining: {base_epochs: 2, target_epochs: 2}\n`,
  );
  const cases = [
    [["--cpu-kernels", "ts"], "TypeScript kernels, 1 thread"],
    [["--cpu-kernels", "wasm", "--threads", "1"], "WebAssembly relaxed SIMD kernels, 1 thread"],
    [["--threads", "2"], "WebAssembly relaxed SIMD kernels, 2 threads"],
  ] as const;
  for (const [flags, description] of cases) {
    const run = await runProgram("src/programs/run/main.ts", [
      "--device",
      "cpu",
      ...flags,
      "--output",
      "out.json",
    ], {
      cwd: dir,
      permissions: ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/out.json`)).engine.description, description);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("CLI: kernels that cannot be read fall back to TypeScript with one INFO line; --cpu-kernels wasm is an error", async () => {
  // Run from another folder with --allow-read=. : the committed .wasm files are outside it.
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `logging: {file: app.log}\ndata: {base_n_samples: 300, target_n_samples: 200}\ntraining: {base_epochs: 2, target_epochs: 2}\n`,
  );
  const run = (kernels: string) =>
    runProgram("src/programs/run/main.ts", ["--device", "cpu", "--cpu-kernels", kernels], {
      cwd: dir,
      permissions: ["--allow-read=.", "--allow-write=.", "--allow-env=RANDOM_SEED"],
    });
  const auto = await run("auto");
  assert.equal(auto.code, 0, auto.stderr);
  const fallback = auto.stderr.split("\n").filter((line) => line.includes("WebAssembly kernels unavailable"));
  assert.equal(fallback.length, 1, auto.stderr);
  assert.match(
    fallback[0],
    / INFO WebAssembly kernels unavailable \(cannot read kernels_relaxed\.wasm \(.+\)\); the CPU engine uses the TypeScript kernels/,
  );
  assert.match(auto.stdout, /engine cpu \(TypeScript kernels, 1 thread\)/);
  assert.doesNotMatch(auto.stderr, /^error:|\n\s+at /m, "no error line, no stack trace");
  const demanded = await run("wasm");
  assert.equal(demanded.code, 2);
  assert.match(
    demanded.stderr,
    /^error: --cpu-kernels wasm: cannot read kernels_relaxed\.wasm .*; use --cpu-kernels auto or ts\n$/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("CLI: worker threads that cannot start: --threads 2 is one error line, auto falls back to one thread", async () => {
  // Before the threads waited for a ready message, a worker whose module could not be read left the
  // caller asleep in Atomics.wait for ever.
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `logging: {file: app.log}\ndata: {base_n_samples: 300, target_n_samples: 200}\ntraining: {base_epochs: 2, target_epochs: 2}\n`,
  );
  const worker = new URL("../../src/engines/cpu/wasm/worker.ts", import.meta.url).pathname;
  const run = (threads: string) =>
    runProgram(
      "src/programs/run/main.ts",
      ["--device", "cpu", "--cpu-kernels", "wasm", "--threads", threads],
      {
        cwd: dir,
        permissions: ["--allow-read", `--deny-read=${worker}`, "--allow-write", "--allow-env=RANDOM_SEED"],
      },
    );
  const demanded = await run("2");
  assert.equal(demanded.code, 2, demanded.stderr);
  assert.match(
    demanded.stderr,
    /^error: threads 2: cannot read .*worker\.ts .*; use --threads 1, or restore the file\n$/,
  );
  if (navigator.hardwareConcurrency < 2) return; // auto is then one thread, which needs no worker
  const auto = await run("auto");
  assert.equal(auto.code, 0, auto.stderr);
  assert.match(auto.stderr, / INFO WebAssembly worker threads unavailable \(cannot read .*worker\.ts/);
  assert.match(auto.stdout, /engine cpu \(WebAssembly relaxed SIMD kernels, 1 thread\)/);
  assert.doesNotMatch(auto.stderr, /^error:|\n\s+at /m, "no error line, no stack trace");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("CLI: a kernel/thread conflict is reported before the GPU is probed", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/config.yaml`, `logging: {file: ${dir}/app.log}\n`);
  const run = await runProgram("src/programs/run/main.ts", ["--cpu-kernels", "ts", "--threads", "2"], {
    cwd: dir,
    permissions: ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED,XDG_RUNTIME_DIR"],
    preload: "tests/helpers/fixtures/gpu_probe_marker.ts",
  });
  assert.equal(run.code, 2, run.stderr);
  assert.doesNotMatch(run.stderr, /GPU PROBED/);
  assert.match(run.stderr, /^error: threads 2 with the TypeScript kernels/m);
  await Deno.remove(dir, { recursive: true });
});
