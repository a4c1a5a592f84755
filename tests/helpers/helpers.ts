/** Shared pieces of the test suites: a quiet logger, data from a config, float64 references. */

import { fileURLToPath } from "node:url";
import { type Config, experimentSpec } from "../../src/app/config.ts";
import { makeTransferData, type TransferData } from "../../src/core/data.ts";
import { type Engine, type TaskHandles, uploadTask } from "../../src/core/engine.ts";
import type { PartRates } from "../../src/core/recipes.ts";
import type { KernelSet } from "../../src/engines/cpu/arena.ts";
import { CpuEngine } from "../../src/engines/cpu/engine.ts";
import { wasmKernels } from "../../src/engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../../src/engines/cpu/wasm/runtime.ts";
import type { ExperimentSpec } from "../../src/core/train.ts";
import { createLogger, type Logger } from "../../src/app/logger.ts";
import { Rng } from "../../src/core/rng.ts";

/** A logger that drops everything below ERROR and writes no file. */
export function quietLogger(): Logger {
  return createLogger({ level: "ERROR", file: null, maxBytes: 1, backupCount: 0 });
}

/** A logger that collects every line at INFO and above into `lines`, and writes no file. */
export function recordingLogger(lines: string[]): Logger {
  return createLogger({
    level: "INFO",
    file: null,
    maxBytes: 1,
    backupCount: 0,
    console: (l) => lines.push(l),
  });
}

/** The two tasks a config describes. */
export function dataFor(config: Config): TransferData {
  return makeTransferData(experimentSpec(config).data);
}

/** A config's experiment, with both tasks uploaded to `engine`. */
export function experimentOn(
  engine: Engine,
  config: Config,
): { spec: ExperimentSpec; source: TaskHandles; target: TaskHandles } {
  const data = dataFor(config);
  return {
    spec: experimentSpec(config),
    source: uploadTask(engine, data.source),
    target: uploadTask(engine, data.target),
  };
}

/** `count` normal samples as float32, from a fixed seed. */
export function randomFloats(count: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: count }, () => rng.normal());
}

/** `C = op(A) · op(B)` in float64 by the textbook triple loop, for row-major inputs. */
export function referenceProduct(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  aAt: (i: number, p: number) => number,
  bAt: (p: number, j: number) => number,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[aAt(i, p)] * b[bAt(p, j)];
      c[i * n + j] = sum;
    }
  }
  return c;
}

/** The largest `|x − y| / max(1, |y|)` over two equally long arrays. */
export function maxRelativeError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < y.length; i++) {
    const error = Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i]));
    if (!(error <= worst)) worst = error; // NaN (an unwritten, poisoned element) wins
  }
  return worst;
}

/** The bytes of a float array, for bit-identity checks. */
export function bytesOf(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Whether a file or folder exists at `path`. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The project's root folder. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** What a program run as a subprocess did. */
export interface ProgramRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The cache folder every program the tests run uses (see `app/cost_cache.ts`). */
const TEST_CACHE = Deno.makeTempDirSync({ prefix: "test-cache-" });

/** Deno's own cache folder, asked for once, on the first program run (see {@linkcode ownDenoDir}). */
let denoDir: string | null = null;

/** Deno's own cache folder, which moving XDG_CACHE_HOME would otherwise move too (and download into). */
function ownDenoDir(): string {
  denoDir ??= JSON.parse(
    new TextDecoder().decode(
      new Deno.Command("deno", { args: ["info", "--json"], stderr: "null" }).outputSync().stdout,
    ),
  ).denoDir as string;
  return denoDir;
}

/**
 * Runs one of the project's programs (`src/main.ts`, `src/bench/main.ts`) with `deno run` in `cwd`, as
 * a user would, with `permissions` and optionally a module preloaded before it. RANDOM_SEED is taken
 * out of the inherited environment (tests that want it pass it in `env`) and colours are off.
 */
export async function runProgram(
  program: string,
  args: readonly string[],
  options: {
    cwd: string;
    permissions: readonly string[];
    env?: Record<string, string>;
    unset?: readonly string[];
    preload?: string;
  },
): Promise<ProgramRun> {
  const env = Deno.env.toObject();
  delete env.RANDOM_SEED;
  delete env.INIT_CWD; // set by deno task; a program given it would leave `options.cwd`
  // A cache of its own: `auto` on a machine with a hardware GPU must not read or write the user's.
  Object.assign(
    env,
    { NO_COLOR: "1", XDG_CACHE_HOME: TEST_CACHE, DENO_DIR: ownDenoDir() },
    options.env ?? {},
  );
  for (const name of options.unset ?? []) delete env[name];
  const preload = options.preload ? ["--preload", `${ROOT}${options.preload}`] : [];
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      "--config",
      `${ROOT}deno.json`,
      ...options.permissions,
      ...preload,
      `${ROOT}${program}`,
      ...args,
    ],
    cwd: options.cwd,
    env,
    clearEnv: true,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** Per-layer rates with weights and biases alike: `[0, 1]` freezes the first layer of two. */
export function rates(values: readonly number[]): PartRates[] {
  return values.map((rate) => ({ weights: rate, biases: rate }));
}

/**
 * The documented defaults of the `training` keys beyond the schedule (optimizers, L2-SP, LoRA), as
 * README.md and config.yaml state them, for tests that write out a whole expected config.
 */
export const DOCUMENTED_OPTIMIZER_DEFAULTS = {
  optimizer: "sgd",
  weight_decay: 0,
  momentum: 0.9,
  nesterov: false,
  adam_beta1: 0.9,
  adam_beta2: 0.999,
  adam_epsilon: 1e-8,
  l2_sp_alpha: 0.1,
  l2_sp_beta: 0.01,
  lora_rank: 4,
  lora_alpha: 8,
} as const;

/**
 * Registers `checks` as tests named `${suite} (CPU engine, … kernels): ${name}`, on the TypeScript
 * kernels and, where the runtime has them, the WebAssembly ones (one thread, and two when `threads`).
 */
export function onEveryCpuKernelSet(
  suite: string,
  checks: readonly (readonly [string, (engine: CpuEngine) => Promise<void>])[],
  threads = false,
): void {
  const support = detectWasm();
  const sets: [string, () => Promise<KernelSet | undefined>][] = [[
    "TypeScript kernels",
    () => Promise.resolve(undefined),
  ]];
  if ("variant" in support) {
    sets.push(["WebAssembly kernels", () => wasmKernels(support.variant)]);
    if (threads) sets.push(["WebAssembly kernels, 2 threads", () => wasmKernels(support.variant, 2, 1)]);
  }
  for (const [kernels, make] of sets) {
    for (const [name, check] of checks) {
      Deno.test(`${suite} (CPU engine, ${kernels}): ${name}`, async () => {
        const engine = new CpuEngine(await make());
        try {
          await check(engine);
        } finally {
          engine.dispose();
        }
      });
    }
  }
}
