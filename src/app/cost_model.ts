/**
 * The cost model `--device auto` chooses an engine by. A run's training is a list of phases of
 * minibatch SGD on one MLP; on an engine, it is predicted to take
 *
 *     Σ over phases:  waits · perPhase + epochs · perEpoch + steps · layers · perLayerStep
 *                     + flops / flopsPerSecond
 *
 * seconds, where `perPhase` is what a phase or a read-back costs whatever its size (each is one host
 * wait on the GPU, ≥ 10 ms in Deno), `perEpoch` what each epoch costs beyond its steps and arithmetic
 * (on the GPU its submission and its test evaluation's dispatches), `perLayerStep` what each layer of
 * each step costs whatever its width (a dispatch on the GPU, a kernel call on the CPU), and
 * `flopsPerSecond` the engine's arithmetic throughput. The GPU engine has two ways of training, with
 * costs of their own ({@linkcode GpuCosts}): a phase whose model fits its fully fused kernel is
 * charged that kernel's, any other the general path's. Those numbers are measured per engine (and
 * per GPU path) by `calibration.ts`; this module only predicts and chooses.
 *
 * @module
 */

import { stepsPerEpoch } from "../core/engine.ts";
import { testCount } from "../core/data.ts";
import type { Mlp } from "../core/model.ts";
import { sourceTrainRows, targetTrainRows } from "../core/tasks.ts";
import { type ExperimentSpec, phaseEpochs, type PhaseSchedule, sourceWidths } from "../core/train.ts";
import { fusedLayout } from "../engines/gpu/fused_mlp.ts";

/** What one engine's training costs, measured by `calibrateEngine`. */
export interface EngineCosts {
  /** Seconds a phase costs whatever its size. */
  readonly perPhase: number;
  /** Seconds each epoch of a phase costs beyond its steps and its arithmetic. */
  readonly perEpoch: number;
  /** Seconds each layer of each minibatch step costs whatever its width. */
  readonly perLayerStep: number;
  /** Floating-point operations per second on a large model's products. */
  readonly flopsPerSecond: number;
}

/** The GPU engine's costs on each of its paths (`kernels` in `engines/gpu/engine.ts`). */
export interface GpuCosts {
  /** On the fully fused kernel: whole steps in one workgroup, many to a dispatch. */
  readonly fused: EngineCosts;
  /** On the general path: a dispatch per layer and operation, products across many workgroups. */
  readonly general: EngineCosts;
}

/** One phase of a workload: how many steps it trains and how many rows it evaluates after each epoch. */
export interface PhaseWork {
  /** Rows per minibatch. */
  readonly batchSize: number;
  /** Minibatch steps in the whole phase. */
  readonly steps: number;
  /** Epochs in the phase: how often the test split is evaluated. */
  readonly epochs: number;
  /** Rows of the test split evaluated after every epoch. */
  readonly evaluatedRows: number;
  /**
   * Host waits: 1 for a run's one-stage phase, its splits' evaluation included (see `PhaseSpec.after`);
   * the model counts no more for a recipe's further stages or for early stopping.
   */
  readonly waits: number;
  /**
   * Whether the model, every layer learning, fits the GPU engine's fused kernel at this batch: which
   * of {@linkcode GpuCosts} the phase is charged (a recipe's frozen layers and adapters are not weighed).
   */
  readonly fused: boolean;
}

/** The training a run asks of its engine, as the cost model sees it. */
export interface Workload {
  /** Layer widths, input to output. */
  readonly widths: readonly number[];
  /** The phases, in order. */
  readonly phases: readonly PhaseWork[];
}

/** Multiply-adds of one row through every layer: `Σ inputs · outputs`. */
function macsPerRow(widths: readonly number[]): number {
  let macs = 0;
  for (let l = 1; l < widths.length; l++) macs += widths[l - 1] * widths[l];
  return macs;
}

/**
 * Floating-point operations of one phase of a model of `widths`: its training's, 6 per multiply-add
 * of a trained row (forward, weight gradient, input gradient, 2 each), and its evaluations', 2 per
 * multiply-add of an evaluated row. The first layer's input gradient, which no engine computes, is
 * counted too: on the small first layers of these models that error is a few per cent.
 */
export function phaseFlops(
  widths: readonly number[],
  phase: PhaseWork,
): { readonly training: number; readonly evaluation: number } {
  const macs = macsPerRow(widths);
  return {
    training: 6 * macs * phase.steps * phase.batchSize,
    evaluation: 2 * macs * phase.epochs * phase.evaluatedRows,
  };
}

/** Floating-point operations of `work`, training and evaluation (see {@linkcode phaseFlops}). */
export function workloadFlops(work: Workload): number {
  return work.phases.reduce((flops, phase) => {
    const { training, evaluation } = phaseFlops(work.widths, phase);
    return flops + training + evaluation;
  }, 0);
}

/**
 * Seconds `work` is predicted to take on an engine with `costs`, its evaluations' arithmetic at
 * `evaluationRate` (the engine's own rate by default).
 */
export function predictSeconds(
  costs: EngineCosts,
  work: Workload,
  evaluationRate: number = costs.flopsPerSecond,
): number {
  return work.phases.reduce(
    (seconds, phase) => seconds + phaseSeconds(costs, work.widths, phase, evaluationRate),
    0,
  );
}

/**
 * Seconds `work` is predicted to take on the GPU engine: each phase on the path that trains it, and
 * every evaluation at the general path's rate, whose kernels measure the splits on either path.
 */
export function predictGpuSeconds(costs: GpuCosts, work: Workload): number {
  return work.phases.reduce((seconds, phase) => {
    const path = phase.fused ? costs.fused : costs.general;
    return seconds + phaseSeconds(path, work.widths, phase, costs.general.flopsPerSecond);
  }, 0);
}

function phaseSeconds(
  costs: EngineCosts,
  widths: readonly number[],
  phase: PhaseWork,
  evaluationRate: number,
): number {
  const { training, evaluation } = phaseFlops(widths, phase);
  return training / costs.flopsPerSecond + evaluation / evaluationRate + phase.waits * costs.perPhase +
    phase.epochs * costs.perEpoch + phase.steps * (widths.length - 1) * costs.perLayerStep;
}

/** Whether a model of `widths` fits the GPU engine's fused kernel training minibatches of `batchSize` rows. */
export function fitsFused(widths: readonly number[], batchSize: number): boolean {
  return fusedLayout(widths, batchSize, 0) !== null;
}

/**
 * A phase of `schedule` over `trainRows` rows of a model of `widths`, evaluating `testRows` after
 * each epoch, then the splits.
 */
function phaseWork(
  schedule: PhaseSchedule,
  widths: readonly number[],
  trainRows: number,
  testRows: number,
): PhaseWork {
  const epochs = phaseEpochs(schedule, trainRows);
  const steps = schedule.steps ?? epochs * stepsPerEpoch(trainRows, schedule.batchSize);
  return {
    batchSize: schedule.batchSize,
    steps,
    epochs,
    evaluatedRows: testRows,
    waits: 1, // the splits are measured in the phase's own wait
    fused: fitsFused(widths, Math.min(schedule.batchSize, trainRows)), // as the engine's batch
  };
}

/**
 * A run of `spec`: pretraining on the source task, then `transfers` transfer phases on the target task
 * (1 for `run`; a comparison's strategies times its points per seed, since its seeds repeat that alike).
 */
export function runWorkload(spec: ExperimentSpec, transfers = 1): Workload {
  const { data } = spec;
  const testRows = (task: "source" | "target") =>
    data.real === null
      ? testCount(task === "source" ? data.sourceSamples : data.targetSamples, data.testFraction)
      : testCount(data.real[task].n, data.testFraction); // each class rounds its own: near enough
  const widths = sourceWidths(spec);
  const transfer = phaseWork(spec.transfer, widths, targetTrainRows(data), testRows("target"));
  return {
    widths,
    phases: [
      phaseWork(spec.pretrain, widths, sourceTrainRows(data), testRows("source")),
      ...Array(transfers).fill(transfer),
    ],
  };
}

/** Evaluating `rows` rows once on `model` (what `predict` asks): no training. */
export function inferenceWorkload(model: Mlp, rows: number): Workload {
  const widths = [model[0].inputs, ...model.map((layer) => layer.outputs)];
  // Evaluating runs on the general path's kernels.
  return {
    widths,
    phases: [{ batchSize: 1, steps: 0, epochs: 1, evaluatedRows: rows, waits: 1, fused: false }],
  };
}

/** The engine the cost model chooses for a workload, and both predictions. */
export interface EngineChoice {
  /** The engine predicted to finish first. */
  readonly engine: "gpu" | "cpu";
  /** The GPU engine's predicted seconds. */
  readonly gpuSeconds: number;
  /** The CPU engine's predicted seconds. */
  readonly cpuSeconds: number;
}

/** The engine predicted to finish `work` first (the CPU on a tie: it needs no device). */
export function chooseEngine(gpu: GpuCosts, cpu: EngineCosts, work: Workload): EngineChoice {
  const gpuSeconds = predictGpuSeconds(gpu, work), cpuSeconds = predictSeconds(cpu, work);
  return { engine: gpuSeconds < cpuSeconds ? "gpu" : "cpu", gpuSeconds, cpuSeconds };
}
