/**
 * Where the CPU engine keeps its arrays, and which kernels it runs on them. The TypeScript kernels
 * work on ordinary arrays; the WebAssembly kernels need every operand inside their memory, so the
 * engine allocates the model and its work buffers from an {@linkcode Arena} once per shape.
 *
 * @module
 */

import { type StepKernels, TS_STEP_KERNELS } from "./reference_kernels.ts";

/** Arrays allocated together, and the kernels that can work on them. */
export interface Arena {
  /** `count` new floats for `kernels` to work on; not necessarily zero, as an arena may reuse memory. */
  alloc(count: number): Float32Array;
  /** The kernels for arrays from `alloc` (the WebAssembly ones accept no others). */
  readonly kernels: StepKernels;
}

/** What the kernels will be asked for, which sizes their scratch space. */
export interface ArenaShape {
  /** At least every product's sum length (k) and every layer's width. */
  readonly longestSum: number;
}

/** A family of kernels: how to describe them, and how to make room for a model and its buffers. */
export interface KernelSet {
  /** For people and results, e.g. `"TypeScript kernels, 1 thread"`. */
  readonly description: string;
  /**
   * An arena for a model and its buffers, with whatever the kernels need for `shape`. Arrays of the
   * previous arena from the same set must no longer be used: its memory is reused.
   */
  arena(shape: ArenaShape): Arena;
  /** Releases what the set holds (worker threads). */
  dispose(): void;
}

/** The TypeScript kernels on ordinary arrays: the readable reference. */
export const TS_KERNELS: KernelSet = {
  description: "TypeScript kernels, 1 thread",
  arena: () => ({ alloc: (count) => new Float32Array(count), kernels: TS_STEP_KERNELS }),
  dispose: () => {},
};
