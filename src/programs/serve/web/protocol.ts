/**
 * What the page and its worker say to each other, and how the page's settings become a config: the
 * same keys `config.yaml` has, so that `deno task compare --config` with {@linkcode settingsConfig}'s
 * document (JSON is YAML) runs exactly what the page ran.
 *
 * @module
 */

import type { Metrics } from "../../../core/engine.ts";
import type { Shift } from "../../../core/data.ts";
import type { OptimizerName } from "../../../core/optimizers.ts";
import type { StrategyName } from "../../../core/recipes.ts";
import type { OutputFile } from "../../../app/report/outputs.ts";

/** What the page's controls ask for. */
export interface PlaygroundSettings {
  /** The first seed (`data.random_seed`); the comparison runs `seeds` seeds from it. */
  readonly seed: number;
  /** How many seeds, as `compare --seeds`. */
  readonly seeds: number;
  /** `data.relatedness`. */
  readonly relatedness: number;
  /** `data.shift`. */
  readonly shift: Shift;
  /** `data.base_n_samples`. */
  readonly sourceSamples: number;
  /** `data.target_n_samples`. */
  readonly targetSamples: number;
  /** `training.base_epochs` and `training.target_epochs`. */
  readonly epochs: number;
  /** `model.hidden_dim`. */
  readonly hiddenDim: number;
  /** `training.optimizer`. */
  readonly optimizer: OptimizerName;
  /** The strategies to compare, as `compare --strategies` (`scratch` is always added). */
  readonly strategies: readonly StrategyName[];
  /** `gpu`: WebGPU or an error; `cpu`: the WebAssembly kernels; `auto`: WebGPU when the browser has it. */
  readonly device: "auto" | "gpu" | "cpu";
}

/** The config document of `settings`: the keys it sets, every other key at its default. */
export function settingsConfig(settings: PlaygroundSettings): Record<string, Record<string, unknown>> {
  return {
    data: {
      random_seed: settings.seed,
      relatedness: settings.relatedness,
      shift: settings.shift,
      base_n_samples: settings.sourceSamples,
      target_n_samples: settings.targetSamples,
    },
    model: { hidden_dim: settings.hiddenDim },
    training: { base_epochs: settings.epochs, target_epochs: settings.epochs, optimizer: settings.optimizer },
  };
}

/** The page asks the worker to train. */
export interface TrainRequest {
  /** The only request there is. */
  readonly kind: "train";
  /** What to run. */
  readonly settings: PlaygroundSettings;
}

/** What the worker reports, in order: the engine, every epoch, then the outputs or an error. */
export type WorkerMessage =
  | { readonly kind: "engine"; readonly name: string; readonly description: string }
  | {
    readonly kind: "epoch";
    readonly seed: number;
    /** `pretrain` (the source task) or the strategy (the target task). */
    readonly phase: string;
    readonly epoch: number;
    readonly epochs: number;
    readonly train: Metrics;
    readonly test: Metrics;
  }
  | {
    readonly kind: "done";
    readonly table: string;
    readonly status: string;
    readonly files: readonly OutputFile[];
  }
  | { readonly kind: "error"; readonly message: string };
