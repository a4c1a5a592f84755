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
 * `flopsPerSecond` the engine's arithmetic throughput. Those four numbers are measured per engine by
 * `calibration.ts`; this module only predicts and chooses.
 *
 * @module
 */

import { stepsPerEpoch } from "../core/engine.ts";
import { testCount } from "../core/data.ts";
import type { Mlp } from "../core/model.ts";
import { sourceTrainRows, targetTrainRows } from "../core/tasks.ts";
import { type ExperimentSpec, phaseEpochs, type PhaseSchedule, sourceWidths } from "../core/train.ts";

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
 * Floating-point operations of `work`: per trained row 6 per multiply-add (forward, weight gradient,
 * input gradient, 2 each), per evaluated row 2. The first layer's input gradient, which no engine
 * computes, is counted too: on the small first layers of these models that error is a few per cent.
 */
export function workloadFlops(work: Workload): number {
  const macs = macsPerRow(work.widths);
  let flops = 0;
  for (const phase of work.phases) {
    flops += 6 * macs * phase.steps * phase.batchSize + 2 * macs * phase.epochs * phase.evaluatedRows;
  }
  return flops;
}

/** Seconds `work` is predicted to take on an engine with `costs`. */
export function predictSeconds(costs: EngineCosts, work: Workload): number {
  const layers = work.widths.length - 1;
  let seconds = workloadFlops(work) / costs.flopsPerSecond;
  for (const phase of work.phases) {
    seconds += phase.waits * costs.perPhase + phase.epochs * costs.perEpoch +
      phase.steps * layers * costs.perLayerStep;
  }
  return seconds;
}

/** A phase of `schedule` over `trainRows` rows, evaluating `testRows` after each epoch, then the splits. */
function phaseWork(schedule: PhaseSchedule, trainRows: number, testRows: number): PhaseWork {
  const epochs = phaseEpochs(schedule, trainRows);
  const steps = schedule.steps ?? epochs * stepsPerEpoch(trainRows, schedule.batchSize);
  return {
    batchSize: schedule.batchSize,
    steps,
    epochs,
    evaluatedRows: testRows,
    waits: 1, // the splits are measured in the phase's own wait
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
  const transfer = phaseWork(spec.transfer, targetTrainRows(data), testRows("target"));
  return {
    widths: sourceWidths(spec),
    phases: [
      phaseWork(spec.pretrain, sourceTrainRows(data), testRows("source")),
      ...Array(transfers).fill(transfer),
    ],
  };
}

/** Evaluating `rows` rows once on `model` (what `predict` asks): no training. */
export function inferenceWorkload(model: Mlp, rows: number): Workload {
  const widths = [model[0].inputs, ...model.map((layer) => layer.outputs)];
  return { widths, phases: [{ batchSize: 1, steps: 0, epochs: 1, evaluatedRows: rows, waits: 1 }] };
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
export function chooseEngine(gpu: EngineCosts, cpu: EngineCosts, work: Workload): EngineChoice {
  const gpuSeconds = predictSeconds(gpu, work), cpuSeconds = predictSeconds(cpu, work);
  return { engine: gpuSeconds < cpuSeconds ? "gpu" : "cpu", gpuSeconds, cpuSeconds };
}
