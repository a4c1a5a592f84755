/**
 * Where the CPU engine keeps its arrays, and which matrix products it runs on them. The TypeScript
 * kernels work on ordinary arrays; the WebAssembly kernels need every operand inside their memory,
 * so the engine allocates the model and its work buffers from an {@linkcode Arena} once per shape.
 *
 * @module
 */

import { type Products, TS_PRODUCTS } from "./kernels.ts";

/** Arrays allocated together, and the products that can work on them. */
export interface Arena {
  alloc(count: number): Float32Array<ArrayBuffer>;
  readonly products: Products;
}

/** What the products will be asked for: the longest sum (k) and the largest operand to transpose. */
export interface ArenaShape {
  readonly longestSum: number;
  readonly largestTranspose: number;
}

/** A family of kernels: how to describe them, and how to make room for a model and its buffers. */
export interface KernelSet {
  /** For people and results, e.g. `"TypeScript kernels"`. */
  readonly description: string;
  /** An arena with room for buffers of these lengths, and whatever its products need for `shape`. */
  arena(sizes: readonly number[], shape: ArenaShape): Arena;
}

/** The TypeScript kernels on ordinary arrays: the readable reference. */
export const TS_KERNELS: KernelSet = {
  description: "TypeScript kernels",
  arena: () => ({ alloc: (count) => new Float32Array(count), products: TS_PRODUCTS }),
};
