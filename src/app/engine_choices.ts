/**
 * The values the engine flags and the config's `engine` section accept, apart from the engines
 * themselves, so that reading a config or a flag loads no engine.
 *
 * @module
 */

/** The accepted values of `--device` and `engine.device`. */
export const DEVICE_CHOICES = ["auto", "gpu", "cpu"] as const;
/** One of {@linkcode DEVICE_CHOICES}. */
export type DeviceChoice = typeof DEVICE_CHOICES[number];

/** The accepted values of `--cpu-kernels` and `engine.cpu_kernels`. */
export const CPU_KERNEL_CHOICES = ["auto", "wasm", "ts"] as const;
/** One of {@linkcode CPU_KERNEL_CHOICES}. */
export type CpuKernelChoice = typeof CPU_KERNEL_CHOICES[number];

/** The accepted values of `--threads` and `engine.threads`: `auto` or a count from 1 to this. */
export const MAX_THREADS = 64;
/**
 * Threads `auto` uses at most. Two threads measured 1.8 to 1.9 times one on the large workload's
 * products and 1.56 times end to end (see docs/BENCHMARKS.md); this machine has no more cores to
 * measure, and beyond four the large workload's products have few chunks per thread to balance.
 */
export const MAX_AUTO_THREADS = 4;
/** `auto` or a thread count. */
export type ThreadsChoice = "auto" | number;

/** The thread count for `choice`: `auto` is the machine's cores, at most {@linkcode MAX_AUTO_THREADS}. */
export function threadCount(choice: ThreadsChoice, cores = navigator.hardwareConcurrency): number {
  return choice === "auto" ? Math.max(1, Math.min(cores, MAX_AUTO_THREADS)) : choice;
}
