/**
 * Models as safetensors files a PyTorch user can load as they are: the MLP's layers are named and
 * shaped as PyTorch's `nn.Sequential` of `nn.Linear` with `nn.ReLU` between them names and shapes
 * them (`0.weight` `[out, in]`, `0.bias` `[out]`, then `2.weight`, ...: the ReLUs take the odd
 * indices), so `model.load_state_dict(safetensors.torch.load_file(path))` accepts the file. The
 * project keeps W as `in × out` (it computes `x W`), so each weight is transposed on the way out and in.
 *
 * `__metadata__` holds the format, the layer widths, the recipe, the seed, the feature names, the class
 * labels, the standardisation of the inputs and the config that produced the model.
 *
 * @module
 */

import { type Config, readInputBytes } from "./config.ts";
import { writeFileAtomic } from "./atomic_write.ts";
import { UsageError } from "../core/errors.ts";
import type { Layer, Mlp } from "../core/model.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type Safetensors,
  SafetensorsError,
  type Tensor,
} from "../core/safetensors.ts";
import { type Standardization, STANDARDIZE_KINDS, type StandardizeKind } from "../core/pool.ts";
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
  /** The input's feature names, in order (CSV columns, `pixel<i>`, or `x<i>` for synthetic tasks). */
  readonly features: readonly string[];
  /** The output's class labels, in order. */
  readonly classes: readonly string[];
  /** What the inputs are standardised by before the model sees them; null when they are not (synthetic). */
  readonly standardization: Standardization | null;
}

/** A model and what its checkpoint says of it. */
export interface Checkpoint {
  /** The layers. */
  readonly model: Mlp;
  /** The layer widths, input first. */
  readonly widths: readonly number[];
  /** The feature names, class labels and standardisation it was trained with. */
  readonly info: Pick<CheckpointInfo, "recipe" | "features" | "classes" | "standardization">;
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
  writeFileAtomic(path, encodeSafetensors(modelTensors(model), checkpointMetadata(model, info)), flag);
}

/** The `__metadata__` of `model`'s checkpoint: every value a string, lists and objects as JSON. */
export function checkpointMetadata(model: Mlp, info: CheckpointInfo): Record<string, string> {
  const widths = [model[0].inputs, ...model.map((layer) => layer.outputs)];
  return {
    format: CHECKPOINT_FORMAT,
    widths: JSON.stringify(widths),
    recipe: info.recipe,
    seed: String(info.seed),
    config: JSON.stringify(info.config),
    features: JSON.stringify(info.features),
    classes: JSON.stringify(info.classes),
    standardization: JSON.stringify(
      info.standardization === null ? null : {
        kind: info.standardization.kind,
        mean: Array.from(info.standardization.mean),
        scale: Array.from(info.standardization.scale),
      },
    ),
  };
}

/**
 * The model in the checkpoint at `path` (given by `flag`) and what its metadata say of it, checked
 * against `widths` (the layer widths the config's model has) or, when null, the widths its metadata
 * give. Throws {@linkcode UsageError} naming the file and what is wrong: a file that is no
 * safetensors or not this program's, a missing, extra or misshapen tensor, a wrong dtype.
 */
export function readCheckpoint(path: string, widths: readonly number[] | null, flag: string): Checkpoint {
  const where = `${flag} ${clip(path, MAX_PATH_QUOTE)}`;
  const bytes = readInputBytes(
    path,
    `the checkpoint (${flag})`,
    CHECKPOINT_FIX,
    MAX_RUN_BYTES,
    "a checkpoint holds the model's parameters as float32",
  );
  let file: Safetensors;
  try {
    file = decodeSafetensors(bytes);
  } catch (error) {
    if (!(error instanceof SafetensorsError)) throw error;
    throw new UsageError(`${where}: not a valid safetensors file: ${error.message}; ${CHECKPOINT_FIX}`);
  }
  const info = checkpointInfo(file.metadata, where);
  const shape = widths ?? info.widths;
  return { model: layersOf(file.tensors, shape, where), widths: shape, info };
}

const CHECKPOINT_FIX = "give a checkpoint this program wrote with --save-pretrained or --save";

/** The metadata this program writes, parsed and checked for consistency. */
function checkpointInfo(
  metadata: Record<string, string>,
  where: string,
): Checkpoint["info"] & { widths: number[] } {
  const bad = (what: string): never => {
    throw new UsageError(`${where}: ${what} in __metadata__; ${CHECKPOINT_FIX}`);
  };
  if (metadata.format !== CHECKPOINT_FORMAT) bad(`format is not ${CHECKPOINT_FORMAT}`);
  const json = (key: string): unknown => {
    try {
      return JSON.parse(metadata[key] ?? "");
    } catch {
      return bad(`${key} is missing or not JSON`);
    }
  };
  const widths = json("widths"), features = json("features"), classes = json("classes");
  const integers = Array.isArray(widths) && widths.length >= 2 &&
    widths.every((w) => Number.isInteger(w) && w >= 1);
  if (!integers) bad("widths is not a list of at least two positive integers");
  const w = widths as number[];
  const names = (list: unknown, count: number) =>
    Array.isArray(list) && list.length === count && list.every((v) => typeof v === "string");
  if (!names(features, w[0])) bad(`features is not a list of ${w[0]} names`);
  if (!names(classes, w[w.length - 1])) bad(`classes is not a list of ${w[w.length - 1]} labels`);
  return {
    recipe: metadata.recipe ?? "",
    widths: w,
    features: features as string[],
    classes: classes as string[],
    standardization: standardizationOf(json("standardization"), w[0], bad),
  };
}

/** The `standardization` metadata: null, or a kind and `features` finite means and positive scales. */
function standardizationOf(
  value: unknown,
  features: number,
  bad: (what: string) => never,
): Standardization | null {
  if (value === null) return null;
  const { kind, mean, scale } = (value ?? {}) as Record<string, unknown>;
  const values = (list: unknown, ok: (v: number) => boolean) =>
    Array.isArray(list) && list.length === features && list.every((v) => typeof v === "number" && ok(v));
  const ok = (STANDARDIZE_KINDS as readonly unknown[]).includes(kind) && values(mean, Number.isFinite) &&
    values(scale, (v) => v > 0 && Number.isFinite(Math.fround(v)));
  if (!ok) bad(`standardization is not null or {kind, mean, scale} with ${features} finite values each`);
  return {
    kind: kind as StandardizeKind,
    mean: Float32Array.from(mean as number[]),
    scale: Float32Array.from(scale as number[]),
  };
}

/** The layers of `widths` from `tensors`, each checked by name, dtype and shape, none left over. */
function layersOf(tensors: Map<string, Tensor>, widths: readonly number[], where: string): Mlp {
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
        ? `has shape [${found.shape.join(", ")}], the model needs [${shape.join(", ")}]`
        : null;
      if (mismatch !== null) {
        throw new UsageError(
          `${where}: tensor ${name} ${mismatch}; check model.hidden_dims and the data's sizes, or ${CHECKPOINT_FIX}`,
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
      `${where}: tensor ${clip(extra)} is not in the model of ${widths.length - 1} layers; ${CHECKPOINT_FIX}`,
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
