/**
 * What a run reports: the results document written by `--output`, and the console summary.
 *
 * @module
 */

import type { Config } from "../../app/config.ts";
import type { Engine, EpochMetrics } from "../../core/engine.ts";
import type { StrategyName } from "../../core/recipes.ts";
import type { EarlyStop, PhaseResult, TaskMetrics, TrainableCount } from "../../core/train.ts";
import { percent } from "../../app/format.ts";

/** The results document (`--output`); see docs/API.md for every field. */
export interface Results {
  /** The strategy that adapted the pretrained model (`--strategy`). */
  readonly strategy: StrategyName;
  /** The engine that ran: `cpu` or `gpu`, and what it ran on (kernels and threads, or the adapter). */
  readonly engine: { readonly name: string; readonly description: string };
  /** The seed used: `data.random_seed`, after any `RANDOM_SEED` override. */
  readonly seed: number;
  /** The full validated configuration, defaults filled in. */
  readonly config: Config;
  /** The pretrained model's final loss and accuracy on the source task's train, validation and test splits. */
  readonly source: TaskMetrics;
  /** The adapted model's, likewise on the target task; null when pretraining diverged and no transfer ran. */
  readonly target: TaskMetrics | null;
  /** Null without early stopping; else the transfer's epoch whose weights were kept and its last epoch. */
  readonly early_stop: { readonly best_epoch: number; readonly last_epoch: number } | null;
  /** Null when both phases' losses stayed finite; else the phase that diverged and where. */
  readonly diverged: {
    readonly phase: "pretrain" | "transfer";
    readonly epoch: number;
    readonly loss: number;
  } | null;
  /** Per epoch of pretraining (`source`) and of the transfer (`target`, empty when none ran). */
  readonly history: { readonly source: EpochMetrics[]; readonly target: EpochMetrics[] };
  /** Milliseconds of each phase, its final measurement of the three splits included; `total` is their sum. */
  readonly timings_ms: { readonly pretrain: number; readonly transfer: number; readonly total: number };
  /** Why a layer planned as pretrained started fresh (its shape changed); empty when none. */
  readonly notes: string[];
  /** How many parameters the transfer trained, of how many the model has (what full fine-tuning trains); null when none ran. */
  readonly trainable_parameters: TrainableCount | null;
  /** The Deno version that ran, e.g. `2.9.6`. */
  readonly deno_version: string;
}

/** Assembles the results document from the two phases; `transferred` is null when none ran. */
export function makeResults(
  strategy: StrategyName,
  engine: Engine,
  config: Config,
  pretrained: PhaseResult,
  transferred: (PhaseResult & { readonly notes: string[]; readonly trainable: TrainableCount }) | null,
): Results {
  const transferMs = transferred?.ms ?? 0;
  const diverged = pretrained.diverged
    ? { phase: "pretrain" as const, ...pretrained.diverged }
    : transferred?.diverged
    ? { phase: "transfer" as const, ...transferred.diverged }
    : null;
  return {
    strategy,
    engine: { name: engine.name, description: engine.description },
    seed: config.data.random_seed,
    config,
    source: pretrained.metrics,
    target: transferred?.metrics ?? null,
    early_stop: earlyStop(transferred?.earlyStop ?? null),
    diverged,
    history: { source: pretrained.history, target: transferred?.history ?? [] },
    timings_ms: { pretrain: pretrained.ms, transfer: transferMs, total: pretrained.ms + transferMs },
    notes: transferred?.notes ?? [],
    trainable_parameters: transferred?.trainable ?? null,
    deno_version: Deno.version.deno,
  };
}

/** Width of the summary's first column: "source validation" and a space. */
const LABEL = 18;

/** A short table for people: loss and accuracy of both tasks, train and test, and the time taken. */
export function formatSummary(results: Results): string {
  const row = (label: string, m: { loss: number; accuracy: number }) =>
    `${label.padEnd(LABEL)}${m.loss.toFixed(4).padStart(8)}${percent(m.accuracy).padStart(10)}`;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const t = results.timings_ms;
  return [
    `strategy ${results.strategy} | engine ${results.engine.name} (${results.engine.description}) | seed ${results.seed}`,
    `${"".padEnd(LABEL)}${"loss".padStart(8)}${"accuracy".padStart(10)}`,
    ...(["train", "validation", "test"] as const).map((split) =>
      row(`source ${split}`, results.source[split])
    ),
    ...(["train", "validation", "test"] as const).map((split) =>
      results.target === null
        ? `target ${split}`.padEnd(LABEL) + "not run".padStart(18)
        : row(`target ${split}`, results.target[split])
    ),
    `time: pretrain ${seconds(t.pretrain)}, transfer ${seconds(t.transfer)}, total ${seconds(t.total)}`,
    ...(results.trainable_parameters ? [trainableLine(results.trainable_parameters)] : []),
    ...results.notes.map((note) => `note: ${note}`),
    ...(results.early_stop
      ? [
        `early stop: kept epoch ${results.early_stop.best_epoch}, stopped after epoch ${results.early_stop.last_epoch}`,
      ]
      : []),
    ...(results.diverged ? [`diverged: ${results.diverged.phase} at epoch ${results.diverged.epoch}`] : []),
  ].join("\n");
}

/** `trained 1,234 of 5,678 parameters (21.7 %; full fine-tuning trains them all)`. */
function trainableLine({ parameters, ofModel }: TrainableCount): string {
  const share = (100 * parameters / ofModel).toFixed(1);
  return `trained ${parameters.toLocaleString("en-US")} of ${
    ofModel.toLocaleString("en-US")
  } parameters (${share}%; full fine-tuning trains them all)`;
}

function earlyStop(stop: EarlyStop | null): Results["early_stop"] {
  return stop === null ? null : { best_epoch: stop.bestEpoch, last_epoch: stop.lastEpoch };
}
