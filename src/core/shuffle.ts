/**
 * The order in which an epoch visits the training rows: a fresh seeded permutation per epoch,
 * shared by every engine so that they take exactly the same minibatches.
 *
 * @module
 */

import { deriveSeed, Rng } from "./rng.ts";

/** Writes epoch `epoch`'s (1-based) visiting order of `order.length` rows into `order`. */
export function epochOrder(order: Uint32Array, shuffleSeed: number, epoch: number): void {
  for (let i = 0; i < order.length; i++) order[i] = i;
  new Rng(deriveSeed(shuffleSeed, `epoch:${epoch}`)).shuffle(order);
}
