/**
 * Models as safetensors files a PyTorch user can load as they are: the MLP's layers are named and
 * shaped as PyTorch's `nn.Sequential` of `nn.Linear` with `nn.ReLU` between them names and shapes
 * them (`0.weight` `[out, in]`, `0.bias` `[out]`, then `2.weight`, ...: the ReLUs take the odd
 * indices), so `model.load_state_dict(safetensors.torch.load_file(path))` accepts the file. The
 * project keeps W as `in × out` (it computes `x W`), so each weight is transposed on the way out and in.
 *
 * `__metadata__` holds the format, the layer widths, the recipe, the seed and the config that produced
 * the model.
 *
 * @module
 */

import { type Config, readInputBytes } from "./config.ts";
import { writeFileAtomic } from "./atomic_write.ts";
import { UsageError } from "../core/errors.ts";
import type { Layer, Mlp } from "../core/model.ts";
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type Tensor } from "../core/safetensors.ts";
import { clip, MAX_PATH_QUOTE, MAX_RUN_BYTES } from "./limits.ts";

/** `__metadata__.format` of this project's checkpoints. */
export const CHECKPOINT_FORMAT = "transfer-learning-finetuning/1";

/** What a checkpoint says of the model it holds. */
export interface CheckpointInfo {
  /** Which phase produced it: `pretrained`, or the recipe of a transfer. */
  readonly recipe: string;
  /** The experiment's seed (`data.random_seed`). */
  readonly seed: number;
  /** The effective config of the run that wrote it. */
  readonly config: Config;
}

/** The tensors of `model`, named and shaped as PyTorch's `nn.Sequential` of `nn.Linear` would hold them. */
export function modelTensors(model: Mlp): [string, Tensor][] {
  return model.flatMap((layer, l): [string, Tensor][] => [
    [`${2 * l}.weight`, {
      dtype: "F32",
      shape: [layer.outputs, layer.inputs],
      data: transpose(layer.weights, layer.inputs, layer.outputs),
    }],
    [`${2 * l}.bias`, { dtype: "F32", shape: [layer.outputs], data: layer.bias.slice() }],
  ]);
}

/** Writes `model` and `info` to `path` atomically (`flag` names the option, for messages). */
export function writeCheckpoint(path: string, model: Mlp, info: CheckpointInfo, flag: string): void {
  const widths = [model[0].inputs, ...model.map((layer) => layer.outputs)];
  const metadata = {
    format: CHECKPOINT_FORMAT,
    widths: JSON.stringify(widths),
    recipe: info.recipe,
    seed: String(info.seed),
    config: JSON.stringify(info.config),
  };
  writeFileAtomic(path, encodeSafetensors(modelTensors(model), metadata), flag);
}

/**
 * The model in the checkpoint at `path` (given by `flag`), checked against `widths` (the layer widths
 * the config's model has). Throws {@linkcode UsageError} naming the file and what is wrong: a file
 * that is no safetensors, a missing, extra or misshapen tensor, a wrong dtype.
 */
export function readCheckpoint(path: string, widths: readonly number[], flag: string): Mlp {
  const where = `${flag} ${clip(path, MAX_PATH_QUOTE)}`;
  const fix = "give a checkpoint this program wrote with --save-pretrained or --save";
  const bytes = readInputBytes(
    path,
    "the checkpoint",
    fix,
    MAX_RUN_BYTES,
    "a checkpoint holds the model's parameters as float32",
  );
  let tensors: Map<string, Tensor>;
  try {
    tensors = decodeSafetensors(bytes).tensors;
  } catch (error) {
    if (!(error instanceof SafetensorsError)) throw error;
    throw new UsageError(`${where}: not a valid safetensors file: ${error.message}; ${fix}`);
  }
  const model: Layer[] = [];
  const expected = new Set<string>();
  for (let l = 0; l + 1 < widths.length; l++) {
    const [inputs, outputs] = [widths[l], widths[l + 1]];
    const tensor = (name: string, shape: number[]) => {
      expected.add(name);
      const found = tensors.get(name);
      const mismatch = found === undefined
        ? "is missing"
        : found.dtype !== "F32"
        ? `is ${found.dtype}, not F32`
        : found.shape.join() !== shape.join()
        ? `has shape [${found.shape.join(", ")}], the config's model needs [${shape.join(", ")}]`
        : null;
      if (mismatch !== null) {
        throw new UsageError(
          `${where}: tensor ${name} ${mismatch}; check model.hidden_dims and the data's sizes, or ${fix}`,
        );
      }
      return found!.data as Float32Array;
    };
    const weight = tensor(`${2 * l}.weight`, [outputs, inputs]);
    const bias = tensor(`${2 * l}.bias`, [outputs]);
    model.push({
      inputs,
      outputs,
      weights: transpose(weight, outputs, inputs),
      bias: Float32Array.from(bias),
    });
  }
  const extra = [...tensors.keys()].find((name) => !expected.has(name));
  if (extra !== undefined) {
    throw new UsageError(
      `${where}: tensor ${clip(extra)} is not in the config's model of ${widths.length - 1} layers; ${fix}`,
    );
  }
  return model;
}

/** `m × n` row-major values as `n × m` row-major. */
function transpose(values: Float32Array, m: number, n: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = values[i * n + j];
  return out;
}
