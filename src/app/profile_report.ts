/**
 * A GPU engine's profile for people (`run --profile`): per phase, each kernel's dispatches and device
 * time, and the host's waits for the device.
 *
 * @module
 */

import type { GpuProfile } from "../engines/gpu/profiler.ts";
import { textTable } from "./text_table.ts";

/** `profile` of the phase named `phase` as lines: a table of kernels, the longest first, then the waits. */
export function formatProfile(phase: string, profile: GpuProfile): string {
  const total = profile.kernels.reduce((sum, k) => sum + k.seconds, 0);
  const waits = `host waits (every read-back, evaluations included): ${profile.waits} (${
    (1000 * profile.waitSeconds).toFixed(1)
  } ms)`;
  if (profile.kernels.length === 0) {
    const why = profile.timed === false ? "the device has no timestamp queries" : "no kernel ran";
    return `profile of ${phase}: no kernel times (${why}); ${waits}`;
  }
  const rows = profile.kernels.map((k) => [
    k.kernel,
    String(k.dispatches),
    (1000 * k.seconds).toFixed(2),
    `${(100 * k.seconds / total).toFixed(1)}%`,
  ]);
  return [
    `profile of ${phase}: device time from timestamp queries, each dispatch in a pass of its own ` +
    `(so the run is slower than an unprofiled one)`,
    textTable(["kernel", "dispatches", "device ms", "share"], rows),
    `kernels ${(1000 * total).toFixed(1)} ms in all; ${waits}`,
  ].join("\n");
}
