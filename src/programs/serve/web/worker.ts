/**
 * The playground's worker: everything heavy runs here, off the page's thread. It reads the settings
 * into a config through the same parser as `config.yaml`, takes an engine (WebGPU when the browser has
 * it, else the CPU engine's WebAssembly kernels on this thread), runs the comparison `deno task compare`
 * runs, and posts each epoch as it finishes, then the table and the run folder's files.
 *
 * @module
 */

/// <reference lib="webworker" />

import { checkRunSize, checkStrategies, experimentSpec, parseConfig } from "../../../app/config.ts";
import { comparisonOutputs } from "../../../app/report/outputs.ts";
import { BASELINE } from "../../../app/report/analysis.ts";
import { type Grid, type Observer, runComparison } from "../../../core/comparison.ts";
import type { Engine } from "../../../core/engine.ts";
import { errorMessage, UsageError } from "../../../core/errors.ts";
import { MAX_SEED } from "../../../core/rng.ts";
import { TS_KERNELS } from "../../../engines/cpu/arena.ts";
import { CpuEngine } from "../../../engines/cpu/engine.ts";
import { wasmKernels } from "../../../engines/cpu/wasm/kernel_set.ts";
import { detectWasm } from "../../../engines/cpu/wasm/runtime.ts";
import { GpuContext, GpuUnavailable } from "../../../engines/gpu/context.ts";
import { GpuEngine } from "../../../engines/gpu/engine.ts";
import {
  type PlaygroundSettings,
  settingsConfig,
  type TrainRequest,
  type WorkerMessage,
} from "./protocol.ts";

declare const self: DedicatedWorkerGlobalScope;

const post = (message: WorkerMessage) => self.postMessage(message);

/** The most seeds one Train press runs: the page's control allows as many. */
const MAX_PAGE_SEEDS = 20;

/** The engine `device` asks for: WebGPU on any adapter, else (for `auto`) the CPU engine. */
async function browserEngine(device: PlaygroundSettings["device"]): Promise<Engine> {
  if (device !== "cpu") {
    try {
      return await GpuEngine.create(await GpuContext.acquire(navigator.gpu));
    } catch (error) {
      if (!(error instanceof GpuUnavailable) || device === "gpu") throw error;
    }
  }
  const support = detectWasm();
  return new CpuEngine("variant" in support ? await wasmKernels(support.variant, 1) : TS_KERNELS);
}

/** Runs the comparison `settings` describe, posting as it goes. */
async function train(settings: PlaygroundSettings): Promise<void> {
  const source = "the playground's settings";
  const config = parseConfig(JSON.stringify(settingsConfig(settings)), source);
  checkRunSize(config, source);
  const spec = experimentSpec(config);
  checkStrategies(spec, settings.strategies, "strategies");
  const { seeds } = settings;
  if (
    !Number.isInteger(seeds) || seeds < 1 || seeds > MAX_PAGE_SEEDS || settings.seed + seeds - 1 > MAX_SEED
  ) {
    throw new UsageError(
      `seeds: ${seeds} from seed ${settings.seed}; give 1 to ${MAX_PAGE_SEEDS}, ending by ${MAX_SEED}`,
    );
  }
  const wanted = new Set<string>([...settings.strategies, BASELINE]);
  const grid: Grid = {
    strategies: spec.strategies.filter((s) => wanted.has(s)),
    seeds: Array.from({ length: settings.seeds }, (_, i) => settings.seed + i),
    relatedness: [config.data.relatedness],
    targetRows: null,
  };
  const engine = await browserEngine(settings.device);
  try {
    post({ kind: "engine", name: engine.name, description: engine.description });
    const observer: Observer = {
      epoch: (at, metrics, epochs) =>
        post({ kind: "epoch", seed: at.seed, phase: at.phase, epochs, ...metrics }),
      pretrained: () => {},
      finished: () => {},
    };
    const comparison = await runComparison(engine, spec, grid, { observer, stop: () => false });
    post({
      kind: "done",
      ...comparisonOutputs(comparison, { config, engine, grid, runtime: null, shard: null }),
    });
  } finally {
    engine.dispose();
  }
}

self.onmessage = (event: MessageEvent<TrainRequest>) => {
  train(event.data.settings).catch((error) => post({ kind: "error", message: errorMessage(error) }));
};
