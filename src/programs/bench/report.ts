/**
 * The benchmark's console report: plain text tables.
 *
 * @module
 */

import type { BenchResults } from "./results.ts";
import type { AutoResults } from "./auto_bench.ts";
import type { EngineCosts } from "../../app/cost_model.ts";
import type { KernelResult } from "./matmul_bench.ts";
import type { TimingSummary } from "./timing.ts";
import { textTable } from "../../app/text_table.ts";

/** All tables, one after another. */
export function formatReport(r: BenchResults): string {
  return [
    `Deno ${r.meta.deno}; GPU: ${r.meta.adapter ?? "none"}${
      r.meta.adapter ? ` (${r.meta.gpuTiming}; engine uses the ${r.meta.gpuSchedule} matmul)` : ""
    }; CPU: ${r.meta.cpuEngine}${
      r.meta.wasmKernels ? ` and ${r.meta.wasmKernels} on 1 and ${r.meta.wasmThreads} threads` : ""
    }`,
    `medians of ${r.meta.repetitions.kernels} repetitions (kernels) and ${r.meta.repetitions.epochs} phases of ${r.meta.repetitions.epochsPerSample} epochs after ${r.meta.repetitions.warmUpEpochs} warm-up (training, per epoch); [min-max]`,
    "",
    kernelTable(r),
    "",
    endToEndTable(r),
    "",
    wholeRunTable(r),
    "",
    scalingTable(r),
    "",
    recipeTable(r),
    ...(r.auto === null ? [] : ["", autoTable(r.auto)]),
  ].join("\n");
}

function autoTable(a: AutoResults): string {
  const s = (seconds: number) => seconds.toPrecision(3);
  const rows = a.checks.map((c) => [
    c.workload,
    s(c.predicted.gpu),
    s(c.predicted.cpu),
    s(c.measured.gpu),
    s(c.measured.cpu),
    c.choice,
    `${c.slowdown.toFixed(2)}x`,
  ]);
  const within = a.checks.filter((c) => c.slowdown <= 1.2).length;
  const worst = Math.max(...a.checks.map((c) => c.slowdown));
  const costs = (c: EngineCosts) =>
    `${(c.perPhase * 1e3).toFixed(2)} ms per phase, ${(c.perEpoch * 1e3).toFixed(2)} ms per epoch, ${
      (c.perLayerStep * 1e6).toFixed(1)
    } µs per layer-step, ${(c.flopsPerSecond / 1e9).toFixed(1)} GFLOP/s`;
  return [
    "auto: the cost model's choice (calibrated in this run) against the measured seconds: per source epoch, or in all for a whole run",
    ...(a.software
      ? [
        "(on this software adapter auto itself takes the CPU without asking the model: this is its choice had the adapter been hardware)",
      ]
      : []),
    `gpu, fused kernel: ${costs(a.costs.gpu.fused)}; general path: ${costs(a.costs.gpu.general)} ` +
    `(both calibrated in ${a.calibrationSeconds.gpu.toFixed(1)} s)`,
    `cpu: ${costs(a.costs.cpu)} (${a.calibrationSeconds.cpu.toFixed(1)} s)`,
    textTable([
      "workload",
      "predicted gpu",
      "predicted cpu",
      "measured gpu",
      "measured cpu",
      "choice",
      "vs faster",
    ], rows),
    `within 1.2x of the faster engine on ${within} of ${a.checks.length} workloads (worst ${
      worst.toFixed(2)
    }x)`,
  ].join("\n");
}

function recipeTable(r: BenchResults): string {
  const rows = r.recipes.map((
    c,
  ) => [c.engine, c.recipe, c.optimizer, range(c.msPerStep, 4), `${c.relative.toFixed(2)}x`]);
  return [
    "recipes (default workload; a whole transfer, stages and per-epoch test evaluations included, per SGD step)",
    textTable(["engine", "recipe", "optimizer", "ms/step", "vs full_finetune + sgd"], rows),
  ].join("\n");
}

const range = (s: TimingSummary, digits: number) =>
  `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}-${s.max.toFixed(digits)}]`;

function kernelTable(r: BenchResults): string {
  const names = [...new Set(r.kernels.flatMap((c) => c.kernels.map((k) => k.kernel)))];
  const cell = (k: KernelResult | undefined) =>
    k === undefined ? "-" : k.correct ? range(k.gflops, 2) : `WRONG (error ${k.maxError.toExponential(1)})`;
  const rows = r.kernels.map((c) => [
    `${c.label} (${c.form} ${c.m}x${c.k}x${c.n})`,
    ...names.map((name) => cell(c.kernels.find((k) => k.kernel === name))),
  ]);
  return `matmul GFLOP/s\n${textTable(["shape", ...names], rows)}`;
}

function endToEndTable(r: BenchResults): string {
  const rows = r.endToEnd.map((w) => [
    w.workload,
    w.engine,
    range(w.source.secondsPerEpoch, 4),
    w.source.samplesPerSecond.toFixed(0),
    w.target ? range(w.target.secondsPerEpoch, 4) : "-",
    w.perEpoch ? `${w.perEpoch.dispatches} / ${w.perEpoch.submissions} / ${w.perEpoch.waits}` : "-",
  ]);
  const ratios = [...new Set(r.endToEnd.map((w) => w.workload))].map((name) => {
    const of = (engine: string) => r.endToEnd.find((w) => w.workload === name && w.engine === engine);
    /** How many times faster `fast` runs a source epoch than `slow`. */
    const speedup = (fast?: typeof r.endToEnd[number], slow?: typeof r.endToEnd[number]) =>
      fast && slow
        ? `${(slow.source.secondsPerEpoch.median / fast.source.secondsPerEpoch.median).toPrecision(3)}x`
        : "n/a";
    const threaded = `cpu-wasm-${r.meta.wasmThreads}t`;
    return `${name}: speed-up of gpu over gpu-naive ${speedup(of("gpu"), of("gpu-naive"))}, ` +
      `of gpu over cpu ${speedup(of("gpu"), of("cpu"))}, of cpu-wasm over cpu ${
        speedup(of("cpu-wasm"), of("cpu"))
      }, of ${threaded} over cpu-wasm ${speedup(of(threaded), of("cpu-wasm"))}` +
      (of("gpu-general") ? `, of gpu over gpu-general ${speedup(of("gpu"), of("gpu-general"))}` : "");
  });
  return [
    "end to end (source phase: every layer learns; target phase: full fine-tuning)",
    textTable(
      [
        "workload",
        "engine",
        "source s/epoch",
        "samples/s",
        "target s/epoch",
        "dispatches / submissions / waits per epoch",
      ],
      rows,
    ),
    ...ratios,
  ].join("\n");
}

function wholeRunTable(r: BenchResults): string {
  const rows = r.wholeRuns.map((w) => [
    w.workload,
    w.engine,
    w.seconds ? range(w.seconds, 3) : `unavailable: ${w.unavailable}`,
    w.detail ?? "",
  ]);
  const comparisons = [...new Set(r.wholeRuns.map((w) => w.workload))].map((name) => {
    const runs = r.wholeRuns.filter((w) => w.workload === name && w.seconds !== null);
    const ours = runs.filter((w) => !w.engine.startsWith("numpy"));
    const fastest = ours.reduce((a, b) => (b.seconds!.median < a.seconds!.median ? b : a), ours[0]);
    const against = runs.filter((w) => w.engine.startsWith("numpy")).map((numpy) => {
      const ratio = numpy.seconds!.median / fastest.seconds!.median;
      return ratio >= 1
        ? `${ratio.toPrecision(3)}x faster than ${numpy.engine}`
        : `${(1 / ratio).toPrecision(3)}x the time of ${numpy.engine}`;
    });
    return `${name}: the fastest engine, ${fastest?.engine ?? "none"}, runs ${
      against.join(", ") || "with no NumPy to compare"
    }`;
  });
  return [
    "whole experiment (pretraining, then the four strategies): training seconds",
    textTable(["workload", "engine", "seconds", "what ran"], rows),
    ...comparisons,
  ].join("\n");
}

function scalingTable(r: BenchResults): string {
  const part = (label: "hidden" | "batch", s: BenchResults["scaling"]["hidden"]) => {
    const engines = Object.keys(s.rows[0] ?? {}).filter((k) => k !== label);
    const rows = s.rows.map((row) => [String(row[label]), ...engines.map((e) => row[e].toFixed(0))]);
    const crossover = s.crossover === null
      ? "the GPU engine never overtakes the faster CPU engine here"
      : `the GPU engine overtakes the faster CPU engine at ${label} ${s.crossover}`;
    return `${textTable([label, ...engines.map((e) => `${e} samples/s`)], rows)}\n${crossover}`;
  };
  return [
    `scaling (source phase, ${r.scaling.trainRows} training rows, 64 features, 10 classes)`,
    part("hidden", r.scaling.hidden),
    "",
    part("batch", r.scaling.batch),
  ].join("\n");
}
