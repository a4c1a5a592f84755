/**
 * Where `--device auto` keeps its calibrations: one JSON file, `engine-costs.json` in
 * `$XDG_CACHE_HOME/transfer-learning-finetuning/` (else `$HOME/.cache/transfer-learning-finetuning/`),
 * mapping a key (the GPU adapter, the CPU kernels and the calibration, see {@linkcode costKey}) to both engines'
 * costs (the GPU's per path). It is only a cache: a file that cannot be read or parsed is calibrated
 * afresh and replaced, one that cannot be written costs a calibration next time, never an error.
 * Deleting it makes `auto` measure again.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { errorMessage } from "../core/errors.ts";
import { writeTextFileAtomic } from "./atomic_write.ts";
import { CALIBRATION_VERSION } from "./calibration.ts";
import type { EngineCosts, GpuCosts } from "./cost_model.ts";

/** Both engines' costs on one machine. */
export interface MachineCosts {
  /** The GPU engine's, on the machine's hardware adapter, on each of its paths. */
  readonly gpu: GpuCosts;
  /** The CPU engine's, on the kernels and threads the run would use. */
  readonly cpu: EngineCosts;
}

/** What a read of the cache found: the costs, or null with why (for a log line). */
export type CacheRead = { readonly costs: MachineCosts } | { readonly costs: null; readonly why: string };

/** The cache's subfolder under the user's cache folder. */
const FOLDER = "transfer-learning-finetuning";
/** The cache file's name. */
const FILE = "engine-costs.json";

/**
 * The cache file's path from the environment (`XDG_CACHE_HOME`, else `HOME`), or null when neither
 * is set or readable (the deno tasks allow both).
 */
export function costCachePath(env: (name: string) => string | undefined = Deno.env.get): string | null {
  try {
    const xdg = env("XDG_CACHE_HOME"), home = env("HOME");
    if (xdg) return join(xdg, FOLDER, FILE);
    return home ? join(home, ".cache", FOLDER, FILE) : null;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return null;
    throw error;
  }
}

/** What a key's calibration starts with, after the machine. */
const CALIBRATION_PART = " | calibration ";

/**
 * The cache key of a machine: the GPU adapter, the CPU kernels, the Deno version that ran them and
 * the {@linkcode CALIBRATION_VERSION} that measured them.
 */
export function costKey(gpuDescription: string, cpuDescription: string): string {
  return `${gpuDescription} | ${cpuDescription} | deno ${Deno.version.deno}${CALIBRATION_PART}${CALIBRATION_VERSION}`;
}

/** A key less its calibration: the machine (keys from before the version was in them are all machine). */
function machineOf(key: string): string {
  const at = key.lastIndexOf(CALIBRATION_PART);
  return at < 0 ? key : key.slice(0, at);
}

function isCosts(value: unknown): value is EngineCosts {
  if (typeof value !== "object" || value === null) return false;
  const { perPhase, perEpoch, perLayerStep, flopsPerSecond } = value as Record<string, unknown>;
  const fine = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n >= 0;
  return [perPhase, perEpoch, perLayerStep, flopsPerSecond].every(fine) && (flopsPerSecond as number) > 0;
}

function isGpuCosts(value: unknown): value is GpuCosts {
  if (typeof value !== "object" || value === null) return false;
  const { fused, general } = value as Record<string, unknown>;
  return isCosts(fused) && isCosts(general);
}

/** Every entry of the cache file at `path` ({} when there is none); throws when it cannot be read or parsed. */
function readEntries(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error("not a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** The costs stored under `key` in the cache at `path`, or null with why. */
export function readCachedCosts(path: string, key: string): CacheRead {
  let entry: unknown;
  try {
    entry = readEntries(path)[key];
  } catch (error) {
    return { costs: null, why: `${path} is unreadable (${errorMessage(error)})` };
  }
  if (entry === undefined) return { costs: null, why: `${path} has none for this machine` };
  if (typeof entry !== "object" || entry === null) {
    return { costs: null, why: `${path} holds a malformed entry` };
  }
  const { gpu, cpu } = entry as Record<string, unknown>;
  if (!isGpuCosts(gpu) || !isCosts(cpu)) {
    return { costs: null, why: `${path} holds a malformed or outdated entry` };
  }
  return { costs: { gpu, cpu } };
}

/**
 * Stores `costs` under `key` in the cache at `path`, keeping the other machines' entries (all of
 * them, when the file was unreadable, are dropped) and dropping this machine's from other
 * calibrations, which are never read again. Returns null, or why it could not.
 */
export function writeCachedCosts(path: string, key: string, costs: MachineCosts): string | null {
  try {
    let entries: Record<string, unknown> = {};
    try {
      entries = readEntries(path);
    } catch { /* an unreadable cache is replaced */ }
    Deno.mkdirSync(dirname(path), { recursive: true });
    const machine = machineOf(key);
    const others = Object.entries(entries).filter(([other]) => machineOf(other) !== machine);
    const text = JSON.stringify(
      { ...Object.fromEntries(others), [key]: { ...costs, measured: new Date().toISOString() } },
      null,
      2,
    );
    writeTextFileAtomic(path, `${text}\n`, "the engine cost cache");
    return null;
  } catch (error) {
    return errorMessage(error);
  }
}
