/**
 * Measuring an engine's {@linkcode EngineCosts} by training probe phases on it, through the `Engine`
 * interface like any run:
 *
 * - `short`: a tiny model (widths 16, 16, 3), one epoch of 4 steps of 16 rows;
 * - `long`: the same model, one epoch of 64 steps;
 * - `epochs`: the same model, the same 64 steps as 16 epochs of 4;
 * - `wide`: widths 256, 512, 10, one epoch of 4 steps of 256 rows (0.9 GFLOP with its evaluation),
 *   then, while less than half of a probe's time is arithmetic (a fast GPU, where the phase's wait
 *   dominates), the wider probes of {@linkcode WIDE_PROBES} (28 and 224 GFLOP, evaluations included).
 *
 * On the GPU engine the probes run twice, once on each path ({@linkcode calibrateGpuEngine}): on the
 * general path as above, then on the fully fused kernel, whose arithmetic a model that fits it
 * measures, for more steps while less than half its time is arithmetic ({@linkcode FUSED_PROBES}),
 * its evaluations taken at the general path's rate, since the general path's kernels run them.
 *
 * The tiny model's arithmetic is nearly nil, so `long − short` is 60 steps of 2 layers of overhead
 * (`perLayerStep`), `epochs − long` is 15 epochs' own cost (`perEpoch`), and `short` less its 8
 * layer-steps and its epoch is the phase's own cost (`perPhase`). What a wide probe takes beyond those
 * is its arithmetic (`flopsPerSecond`). Each probe runs once untimed (to compile kernels and
 * pipelines), then the fastest of {@linkcode PROBE_REPEATS} timed runs counts: noise only ever adds
 * time.
 *
 * @module
 */

import type { Dataset } from "../core/data.ts";
import type { Engine } from "../core/engine.ts";
import { heModel } from "../core/model.ts";
import { Rng } from "../core/rng.ts";
import type { KernelChoice } from "../engines/gpu/engine.ts";
import {
  type EngineCosts,
  fitsFused,
  type GpuCosts,
  phaseFlops,
  predictSeconds,
  type Workload,
} from "./cost_model.ts";

/**
 * Which calibration a cached cost comes from (part of the cache's key, `cost_cache.ts`): raise it
 * whenever the engines or the probes change what a calibration measures, so that every machine
 * measures again. 2: the GPU engine's costs per path, the fused kernel's and the general path's.
 */
export const CALIBRATION_VERSION = 2;

/** Timed runs of each probe; the fastest counts. */
const PROBE_REPEATS = 3;
/** The most passes of the fit between the overheads and the rate (each pass is arithmetic only). */
const FIT_PASSES = 50;

/** One probe: a model's widths and `epochs` epochs of `steps` minibatches of `batchSize` rows. */
export interface Probe {
  /** The model's layer widths, input to output. */
  readonly widths: readonly number[];
  /** Rows per minibatch. */
  readonly batchSize: number;
  /** Minibatch steps per epoch. */
  readonly steps: number;
  /** Epochs in the probe's one phase. */
  readonly epochs: number;
}

const SHORT: Probe = { widths: [16, 16, 3], batchSize: 16, steps: 4, epochs: 1 };
const LONG: Probe = { ...SHORT, steps: 64 };
const EPOCHS: Probe = { ...SHORT, epochs: 16 };
/** The probes that measure arithmetic, smallest first: the next runs only while the last was mostly overhead. */
const WIDE_PROBES: readonly Probe[] = [
  { widths: [256, 512, 10], batchSize: 256, steps: 4, epochs: 1 },
  { widths: [1024, 2048, 10], batchSize: 512, steps: 4, epochs: 1 },
  { widths: [2048, 4096, 10], batchSize: 1024, steps: 4, epochs: 1 },
];
/**
 * The fused kernel's arithmetic probes, shortest first: a model near the most its workgroup memory
 * holds (3620 of 3968 floats), 4 times the tiny model's multiply-adds a row, for 64, 512 and 4096 steps.
 */
export const FUSED_PROBES: readonly Probe[] = [64, 512, 4096].map((steps) => ({
  widths: [20, 40, 10],
  batchSize: 16,
  steps,
  epochs: 1,
}));

/** The workload a probe trains: one phase, evaluating one minibatch of rows after each epoch. */
function probeWorkload(probe: Probe): Workload {
  const { widths, batchSize, steps, epochs } = probe;
  return {
    widths,
    phases: [{
      batchSize,
      steps: steps * epochs,
      epochs,
      evaluatedRows: batchSize,
      waits: 1,
      fused: fitsFused(widths, batchSize),
    }],
  };
}

/** Random inputs and labels for `rows` rows of a model of `widths`. */
function probeData(widths: readonly number[], rows: number, rng: Rng): Dataset {
  const features = widths[0], classes = widths[widths.length - 1];
  const x = new Float32Array(rows * features).map(() => rng.normal());
  const labels = new Uint32Array(rows).map(() => rng.below(classes));
  return { x, labels, n: rows, features, classes };
}

/** Seconds of the fastest of {@linkcode PROBE_REPEATS} timed runs of `probe` on `engine`, after one untimed. */
async function timeProbe(engine: Engine, probe: Probe, clock: () => number): Promise<number> {
  const rng = new Rng(probe.steps * probe.batchSize);
  const train = engine.upload(probeData(probe.widths, probe.steps * probe.batchSize, rng));
  const test = engine.upload(probeData(probe.widths, probe.batchSize, rng));
  const model = heModel(probe.widths, rng);
  const rates = model.map(() => ({ weights: 1, biases: 1 }));
  const spec = {
    train,
    test,
    epochs: probe.epochs,
    batchSize: probe.batchSize,
    learningRate: 1e-3,
    layerRates: rates,
  };
  let fastest = Infinity;
  try {
    for (let run = 0; run <= PROBE_REPEATS; run++) {
      engine.setModel(model);
      const start = clock();
      await engine.trainPhase({ ...spec, shuffleSeed: run });
      if (run > 0) fastest = Math.min(fastest, (clock() - start) / 1000);
    }
  } finally {
    engine.release(train);
    engine.release(test);
  }
  return fastest;
}

/** An engine with two ways of training, chosen by `kernels` (the GPU engine). */
export interface PathEngine extends Engine {
  /** Which kernels train each phase from now on. */
  kernels: KernelChoice;
}

/**
 * The GPU engine's costs on each of its paths: the probes on its fused kernel, then on its general
 * path (`kernels` is restored afterwards). Takes about 5 s on llvmpipe (`deno task bench --quick`).
 */
export async function calibrateGpuEngine(
  engine: PathEngine,
  clock: () => number = () => performance.now(),
): Promise<GpuCosts> {
  const kernels = engine.kernels;
  try {
    engine.kernels = "general";
    const general = await calibratePath(engine, clock, WIDE_PROBES, null);
    engine.kernels = "fused";
    return { fused: await calibratePath(engine, clock, FUSED_PROBES, general.flopsPerSecond), general };
  } finally {
    engine.kernels = kernels;
  }
}

/**
 * `engine`'s costs, from timing the probes with `clock` (milliseconds, `performance.now` by default).
 * Takes about 0.1 s on the WebAssembly kernels.
 */
export function calibrateEngine(
  engine: Engine,
  clock: () => number = () => performance.now(),
): Promise<EngineCosts> {
  return calibratePath(engine, clock, WIDE_PROBES, null);
}

/**
 * `engine`'s costs from the tiny probes and the first of `arithmetic` that is mostly arithmetic, with
 * the probes' evaluations at `evaluationRate`, or at the rate being fitted when null.
 */
async function calibratePath(
  engine: Engine,
  clock: () => number,
  arithmetic: readonly Probe[],
  evaluationRate: number | null,
): Promise<EngineCosts> {
  const tiny = {
    short: await timeProbe(engine, SHORT, clock),
    long: await timeProbe(engine, LONG, clock),
    epochs: await timeProbe(engine, EPOCHS, clock),
  };
  let overhead = overheadFit(tiny, Infinity, Infinity);
  const wide = await arithmeticProbe(engine, arithmetic, overhead, clock);
  let flopsPerSecond = rateFit(wide, overhead, evaluationRate);
  // The tiny probes' own arithmetic, once its rate is known; where the rate is low (the fused kernel's
  // one workgroup) it is a good part of their time, and the fit takes a few passes to settle.
  for (let pass = 0, last = 0; pass < FIT_PASSES && flopsPerSecond !== last; pass++) {
    overhead = overheadFit(tiny, flopsPerSecond, evaluationRate ?? flopsPerSecond);
    [last, flopsPerSecond] = [flopsPerSecond, rateFit(wide, overhead, evaluationRate)];
  }
  return { ...overhead, flopsPerSecond };
}

/** What an engine's phases cost besides arithmetic. */
type Overhead = Omit<EngineCosts, "flopsPerSecond">;

/** The tiny probes' seconds. */
interface TinyTimes {
  readonly short: number;
  readonly long: number;
  readonly epochs: number;
}

/** The arithmetic of `probe`'s one phase: its training's and its evaluation's floating-point operations. */
function probeFlops(probe: Probe): { readonly training: number; readonly evaluation: number } {
  const work = probeWorkload(probe);
  return phaseFlops(work.widths, work.phases[0]);
}

/**
 * The overhead the tiny probes' times give, less their training at `flopsPerSecond` and their
 * evaluation at `evaluationRate`.
 */
function overheadFit(tiny: TinyTimes, flopsPerSecond: number, evaluationRate: number): Overhead {
  const less = (seconds: number, probe: Probe) => {
    const { training, evaluation } = probeFlops(probe);
    return seconds - training / flopsPerSecond - evaluation / evaluationRate;
  };
  const layers = SHORT.widths.length - 1;
  const short = less(tiny.short, SHORT), long = less(tiny.long, LONG), epochs = less(tiny.epochs, EPOCHS);
  const perLayerStep = Math.max(0, (long - short) / ((LONG.steps - SHORT.steps) * layers));
  const perEpoch = Math.max(0, (epochs - long) / (EPOCHS.epochs - LONG.epochs));
  const perPhase = Math.max(0, short - perEpoch - SHORT.steps * layers * perLayerStep);
  return { perPhase, perEpoch, perLayerStep };
}

/** A wide probe and its time. */
interface TimedProbe {
  readonly probe: Probe;
  readonly seconds: number;
}

/** The first of `probes` whose time is at least half arithmetic beyond `overhead`, else the last. */
async function arithmeticProbe(
  engine: Engine,
  probes: readonly Probe[],
  overhead: Overhead,
  clock: () => number,
): Promise<TimedProbe> {
  for (let level = 0;; level++) {
    const probe = probes[level];
    const timed = { probe, seconds: await timeProbe(engine, probe, clock) };
    if (arithmeticSeconds(timed, overhead) >= timed.seconds / 2 || level === probes.length - 1) {
      return timed;
    }
  }
}

/** What `timed` took beyond `overhead`. */
function arithmeticSeconds({ probe, seconds }: TimedProbe, overhead: Overhead): number {
  return seconds - predictSeconds({ ...overhead, flopsPerSecond: Infinity }, probeWorkload(probe));
}

/**
 * Floating-point operations per second of `timed` beyond `overhead`, its evaluation at
 * `evaluationRate` (or at the same rate, when null); at least a twentieth of its time is taken as
 * training, so that noise cannot make it free.
 */
function rateFit(timed: TimedProbe, overhead: Overhead, evaluationRate: number | null): number {
  const { training, evaluation } = probeFlops(timed.probe);
  const arithmetic = arithmeticSeconds(timed, overhead), least = timed.seconds / 20;
  return evaluationRate === null
    ? (training + evaluation) / Math.max(arithmetic, least)
    : training / Math.max(arithmetic - evaluation / evaluationRate, least);
}
