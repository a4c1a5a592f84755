/**
 * The experiment: pretrain on the source task, then transfer to the target task with a strategy.
 * Engine-agnostic: everything here goes through the {@linkcode Engine} interface.
 *
 * @module
 */

import { type Config, hiddenDims, targetClasses } from "../app/config.ts";
import type { TransferData } from "./data.ts";
import type { DatasetHandle, Engine, EpochMetrics, Metrics } from "./engine.ts";
import type { Logger } from "../app/logger.ts";
import { heModel, layerWidths, type Mlp } from "./model.ts";
import { deriveSeed, Rng } from "./rng.ts";
import { startTransfer, type StrategyName, strategyPlans } from "./strategies.ts";

/** Final loss and accuracy on one task's train and test splits. */
export interface TaskMetrics {
  readonly train: Metrics;
  readonly test: Metrics;
}

/** One phase's outcome: per-epoch history, final metrics, and the training loop's time. */
export interface PhaseResult {
  readonly history: EpochMetrics[];
  readonly metrics: TaskMetrics;
  readonly ms: number;
}

/** The datasets of both tasks, uploaded to one engine. */
export interface UploadedData {
  readonly source: { readonly train: DatasetHandle; readonly test: DatasetHandle };
  readonly target: { readonly train: DatasetHandle; readonly test: DatasetHandle };
}

/** Copies both tasks' splits to the engine, once per run. */
export function uploadData(engine: Engine, data: TransferData): UploadedData {
  const task = (t: TransferData["source"]) => ({
    train: engine.upload(t.train),
    test: engine.upload(t.test),
  });
  return { source: task(data.source), target: task(data.target) };
}

/** Called after each epoch of a phase with its metrics and the phase's epoch count. */
export type EpochListener = (metrics: EpochMetrics, epochs: number) => void;

/** Trains a fresh He-initialised model on the source task at `training.learning_rate_base`. */
export async function pretrain(
  engine: Engine,
  data: Pick<UploadedData, "source">,
  config: Config,
  log: Logger,
  onEpoch?: EpochListener,
): Promise<PhaseResult & { model: Mlp }> {
  const seed = config.data.random_seed;
  const widths = layerWidths(config.data.n_features, hiddenDims(config), config.data.n_classes);
  engine.setModel(heModel(widths, new Rng(deriveSeed(seed, "init:source"))));
  const phase = await runPhase(
    engine,
    "source",
    data.source,
    {
      epochs: config.training.base_epochs,
      learningRate: config.training.learning_rate_base,
      layerRates: widths.slice(1).map(() => 1),
      shuffleSeed: deriveSeed(seed, "shuffle:source"),
      batchSize: config.training.batch_size,
    },
    log,
    onEpoch,
  );
  return { ...phase, model: await engine.readModel() };
}

/**
 * Adapts the pretrained model to the target task as the strategy's plan says, at
 * `training.learning_rate_target` times each layer's rate.
 */
export async function transfer(
  engine: Engine,
  data: UploadedData,
  pretrained: Mlp,
  strategy: StrategyName,
  config: Config,
  log: Logger,
  onEpoch?: EpochListener,
): Promise<PhaseResult & { notes: string[] }> {
  const seed = config.data.random_seed;
  const plan = strategyPlans(config.training.head_finetune_base_lr_scale)[strategy];
  const start = startTransfer(
    plan,
    pretrained,
    targetClasses(config),
    new Rng(deriveSeed(seed, "init:target")),
  );
  for (const note of start.notes) log.warning(`${strategy}: ${note}`);
  log.info(
    `${strategy}: layer rates ${start.layerRates.join(", ")} x ${config.training.learning_rate_target}`,
  );
  engine.setModel(start.model);
  const phase = await runPhase(
    engine,
    "target",
    data.target,
    {
      epochs: config.training.target_epochs,
      learningRate: config.training.learning_rate_target,
      layerRates: start.layerRates,
      shuffleSeed: deriveSeed(seed, "shuffle:target"),
      batchSize: config.training.batch_size,
    },
    log,
    onEpoch,
  );
  return { ...phase, notes: start.notes };
}

interface PhaseSettings {
  readonly epochs: number;
  readonly learningRate: number;
  readonly layerRates: readonly number[];
  readonly shuffleSeed: number;
  readonly batchSize: number;
}

async function runPhase(
  engine: Engine,
  task: string,
  data: UploadedData["source"],
  settings: PhaseSettings,
  log: Logger,
  onEpoch?: EpochListener,
): Promise<PhaseResult> {
  const started = performance.now();
  const history = await engine.trainPhase({
    ...settings,
    train: data.train,
    test: data.test,
    onEpoch: (m) => {
      log.info(
        `${task} epoch ${m.epoch}/${settings.epochs}: train loss ${m.train.loss.toFixed(4)} ` +
          `acc ${percent(m.train.accuracy)}, test loss ${m.test.loss.toFixed(4)} acc ${
            percent(m.test.accuracy)
          }`,
      );
      onEpoch?.(m, settings.epochs);
    },
  });
  const ms = performance.now() - started;
  const metrics = { train: await engine.evaluate(data.train), test: await engine.evaluate(data.test) };
  return { history, metrics, ms };
}

/** A fraction as a percentage with one decimal, e.g. `0.8125` → `"81.3%"`. */
export function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(1)}%`;
}
