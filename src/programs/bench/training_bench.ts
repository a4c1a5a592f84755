/**
 * Training throughput: seconds per epoch and samples per second of each engine on a workload, and
 * how that scales with the hidden width and the batch size.
 *
 * Each phase runs one warm-up epoch, then {@linkcode TIMED_EPOCHS} samples, each a phase of
 * {@linkcode SAMPLE_EPOCHS} epochs timed whole on the host clock and divided by its epochs.
 *
 * @module
 */

import { type Config, experimentSpec } from "../../app/config.ts";
import { makeTransferData } from "../../core/data.ts";
import { type Engine, uploadTask } from "../../core/engine.ts";
import { heModel } from "../../core/model.ts";
import { Rng } from "../../core/rng.ts";
import { uniformRates } from "../../core/recipes.ts";
import { phaseSeeds, sourceWidths } from "../../core/train.ts";
import { countGpuWork, type GpuWork } from "./gpu_work.ts";
import { summarizeTimings, type TimingSummary } from "./timing.ts";

/** Timed samples per phase, after one warm-up epoch. */
export const TIMED_EPOCHS = 5;
/**
 * Epochs in each timed sample: a sample times one `trainPhase` of this many epochs on the host clock
 * and divides, since an engine may report a phase's epochs only at its end (the GPU engine waits once
 * per phase), so the gaps between epoch reports say nothing of an epoch's time.
 */
export const SAMPLE_EPOCHS = 2;

/** One phase's throughput. */
export interface PhaseThroughput {
  /** Each timed sample's host time per epoch: a phase of {@linkcode SAMPLE_EPOCHS} epochs, divided. */
  readonly secondsPerEpoch: TimingSummary;
  /** Training rows per second at the median epoch time. */
  readonly samplesPerSecond: number;
  /** Rows of the phase's training set. */
  readonly trainRows: number;
}

/** An engine's throughput on a workload's phases, and (for the GPU) the work it sent per epoch. */
export interface WorkloadResult {
  /** The workload's name: `default`, `large`, or a scaling point such as `hidden 512`. */
  readonly workload: string;
  /** The engine's label in the tables, e.g. `cpu-wasm-2t` or `gpu-naive`. */
  readonly engine: string;
  /** The source phase: training from He weights with every layer learning. */
  readonly source: PhaseThroughput;
  /** The target phase (full fine-tuning of the pretrained model); null when it was not run. */
  readonly target: PhaseThroughput | null;
  /** Per timed source epoch on the GPU: kernel dispatches, submissions and host waits; null on the CPU. */
  readonly perEpoch: GpuWork | null;
}

/**
 * Times the source phase (every layer learning) and, when `withTarget`, the target phase (full
 * fine-tuning of the pretrained model) of `config` on `engine`, reported under `label`. The engine
 * is disposed of afterwards.
 */
export async function benchWorkload(
  name: string,
  config: Config,
  engine: Engine,
  label = engine.name,
  withTarget = true,
): Promise<WorkloadResult> {
  const spec = experimentSpec(config);
  const data = makeTransferData(spec.data);
  const widths = sourceWidths(spec);
  engine.setModel(heModel(widths, new Rng(phaseSeeds(spec.data.seed, "source").init)));
  const counts = countGpuWork();
  let timedWork: GpuWork = { dispatches: 0, submissions: 0, waits: 0 };
  const phase = async (task: "source" | "target", learningRate: number): Promise<PhaseThroughput> => {
    const { train, test } = uploadTask(engine, data[task]);
    const run = (firstEpoch: number, epochs: number) =>
      engine.trainPhase({
        train,
        test,
        epochs,
        firstEpoch,
        batchSize: spec.pretrain.batchSize,
        learningRate,
        layerRates: uniformRates(widths.length - 1),
        shuffleSeed: phaseSeeds(spec.data.seed, task).shuffle,
      });
    await run(1, 1); // warm-up
    const seconds: number[] = [], before = { ...counts };
    for (let sample = 0; sample < TIMED_EPOCHS; sample++) {
      const started = performance.now();
      await run(2 + sample * SAMPLE_EPOCHS, SAMPLE_EPOCHS);
      seconds.push((performance.now() - started) / 1000 / SAMPLE_EPOCHS);
    }
    const epochs = TIMED_EPOCHS * SAMPLE_EPOCHS;
    timedWork = {
      dispatches: (counts.dispatches - before.dispatches) / epochs,
      submissions: (counts.submissions - before.submissions) / epochs,
      waits: (counts.waits - before.waits) / epochs,
    };
    const secondsPerEpoch = summarizeTimings(seconds);
    return { secondsPerEpoch, samplesPerSecond: train.n / secondsPerEpoch.median, trainRows: train.n };
  };
  try {
    const source = await phase("source", spec.pretrain.learningRate);
    const perEpoch = engine.name !== "gpu" ? null : timedWork;
    const target = withTarget ? await phase("target", spec.transfer.learningRate) : null;
    return { workload: name, engine: label, source, target, perEpoch };
  } finally {
    engine.dispose();
  }
}

/** The shipped configuration's workload. */
export function defaultWorkload(base: Config): Config {
  return structuredClone(base);
}

/** The large workload: 20000/8000 samples, 256 features, hidden 512, 10 classes, batch 256. */
export function largeWorkload(base: Config): Config {
  const config = structuredClone(base);
  Object.assign(config.data, {
    base_n_samples: 20000,
    target_n_samples: 8000,
    n_features: 256,
    n_classes: 10,
  });
  Object.assign(config.model, { hidden_dim: 512, hidden_dims: null });
  config.training.batch_size = 256;
  return config;
}

/** A workload for the scaling sweeps: `rows` source samples (64 % of them train), 64 features, 10 classes. */
export function scalingWorkload(base: Config, hidden: number, batch: number, rows = 5120): Config {
  const config = structuredClone(base);
  Object.assign(config.data, { base_n_samples: rows, target_n_samples: 40, n_features: 64, n_classes: 10 });
  Object.assign(config.model, { hidden_dim: hidden, hidden_dims: null });
  config.training.batch_size = batch;
  return config;
}
