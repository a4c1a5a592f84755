/**
 * The multilayer perceptron: `features -> hidden_dims[0] (ReLU) -> ... -> classes`.
 *
 * Layer `l` maps `inputs` to `outputs` as `y = x W + b`, with `W` stored row-major as
 * `inputs × outputs` so that a minibatch forward pass is one plain matrix product. Every layer but
 * the last is followed by ReLU. For the transfer strategies the "base" is every hidden layer and the
 * "head" is the last layer.
 *
 * @module
 */

import type { Rng } from "./rng.ts";

/** One dense layer's parameters. */
export interface Layer {
  /** Width of the layer's input: rows of `weights`. */
  readonly inputs: number;
  /** Width of the layer's output: columns of `weights`, and the length of `bias`. */
  readonly outputs: number;
  /** `inputs × outputs`, row-major. */
  readonly weights: Float32Array<ArrayBuffer>;
  /** `outputs` values. */
  readonly bias: Float32Array<ArrayBuffer>;
}

/** A model is its layers, input to output. */
export type Mlp = readonly Layer[];

/** Layer widths from input to output, e.g. `[20, 32, 3]`. */
export function layerWidths(features: number, hiddenDims: readonly number[], classes: number): number[] {
  return [features, ...hiddenDims, classes];
}

/**
 * He initialisation for one layer: `W ~ N(0, 2 / inputs)`, `b = 0`, which keeps the variance of
 * ReLU activations steady from layer to layer.
 */
export function heLayer(inputs: number, outputs: number, rng: Rng): Layer {
  const std = Math.sqrt(2 / inputs);
  const weights = new Float32Array(inputs * outputs);
  for (let i = 0; i < weights.length; i++) weights[i] = std * rng.normal();
  return { inputs, outputs, weights, bias: new Float32Array(outputs) };
}

/** A freshly He-initialised model with the given layer widths. */
export function heModel(widths: readonly number[], rng: Rng): Mlp {
  return widths.slice(1).map((outputs, l) => heLayer(widths[l], outputs, rng));
}

/** Whether two stacks of layers have the same widths, layer by layer. */
export function sameShape(
  a: readonly { inputs: number; outputs: number }[],
  b: readonly { inputs: number; outputs: number }[],
): boolean {
  return a.length === b.length &&
    a.every((layer, l) => layer.inputs === b[l].inputs && layer.outputs === b[l].outputs);
}

/** A deep copy of one layer. */
export function copyLayer(layer: Layer): Layer {
  return { ...layer, weights: layer.weights.slice(), bias: layer.bias.slice() };
}
