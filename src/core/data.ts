/**
 * Synthetic source and target classification tasks whose difference has a kind and a size.
 *
 * A random "teacher" network labels every input with a fixed rule,
 *
 *     label(x) = argmax_k ((A · lrelu(W x + c))_k − b_k)      lrelu(z) = max(z, TEACHER_LEAK · z)
 *
 * with `TEACHER_UNITS` hidden units, W ~ N(0, 1/features), c ~ N(0, 0.25), A ~ N(0, 1). The class
 * offsets b are fixed per teacher: they split a reference sample of `REFERENCE_ROWS` canonical inputs
 * z ~ N(0, I) (its own random stream) evenly among the classes. A row's label is thus a function of
 * its input and the seed alone, never of how many rows are drawn, and the classes are balanced on
 * unmoved inputs.
 *
 * The source teacher (W_s, c_s, A_s) labels inputs x = z. The target differs from it in the kind
 * `shift` names, by an amount set by r = `relatedness`; r = 1 is the source's task itself:
 *
 * - `feature`: W_t = cos θ · W_s + sin θ · W_f, c_t likewise, A_t = A_s;
 * - `label`: A_t = cos θ · A_s + sin θ · A_f, W_t = W_s, c_t = c_s;
 * - `mixed`: W, c and A all blended by θ, and the target's inputs moved as under `input`;
 * - `input`: the source's rule, on inputs x = μ + d ⊙ z, with μ = (1 − r) · TARGET_SHIFT · u for a
 *   random unit vector u and d_f = exp((1 − r) · TARGET_LOG_SCALE · g_f), g_f ~ N(0, 1).
 *
 * (W_f, c_f, A_f) is an independent random teacher: of four draws, the one whose labels
 * of the reference sample are closest to independent of the source's (agreement Σ_k p_s(k) p_t(k)).
 * θ ∈ [0, π/2] is solved for per spec on the reference sample (moved as the target's inputs are) so
 * that the share of inputs the target rule labels as the source rule does is linear in r:
 * `a(θ) = a₀ + (a₁ − a₀) · r`, with a₀ = a(π/2) ("chance", ≈ 1/classes) and a₁ = a(0), which is 1
 * when the class counts match. So θ = π/2 at r = 0 and θ = 0 at r = 1, exactly. Readout rows for
 * target classes beyond the source's count are the fresh teacher's at every r.
 *
 * @module
 */

import { deriveSeed, Rng } from "./rng.ts";
import type { RealTasks, Standardization } from "./pool.ts";

/** Width of the teacher network's hidden layer. */
export const TEACHER_UNITS = 4;
/**
 * Slope of the teacher's activation below zero, `lrelu(z) = max(z, TEACHER_LEAK · z)`: with a plain
 * relu every input that silences all the units gets the same scores, a lump of tied rows that no
 * class offsets can split.
 */
export const TEACHER_LEAK = 0.1;
/**
 * Distance between the source's and the target's input means at r = 0 under the `input` and `mixed`
 * shifts, in units of the input noise; at relatedness r it is `(1 − r) · TARGET_SHIFT`.
 */
export const TARGET_SHIFT = 2;
/**
 * Standard deviation of the target's per-feature log input scale at r = 0 under the `input` and
 * `mixed` shifts: feature f is scaled by `exp((1 − r) · TARGET_LOG_SCALE · g_f)`, g_f ~ N(0, 1).
 */
export const TARGET_LOG_SCALE = 0.4;
/** Rows of the fixed reference sample that sets the class offsets and calibrates the blend angle. */
export const REFERENCE_ROWS = 2048;
/** Most steps of the root finding that chooses the blend angle θ. */
const ROOT_STEPS = 16;
/** Independent teachers drawn for the target; the one whose labels are the closest to independent is used. */
const FRESH_CANDIDATES = 4;
/** How far from the wanted agreement (on the reference sample) the chosen θ may land. */
const ROOT_TOLERANCE = 1 / 1024;
/** Most sweeps over the classes that {@linkcode balancedOffsets} makes to balance them. */
const BALANCE_SWEEPS = 8;
/** How many rows a class's count may miss its quota by once {@linkcode balancedOffsets} is done. */
const BALANCE_SLACK = 4;

/** A labelled sample set: `x` holds `n` rows of `features` values, row-major. */
export interface Dataset {
  /** `n × features` input values, row-major: row i is sample i. */
  readonly x: Float32Array<ArrayBuffer>;
  /** `n` class indices, each in `[0, classes)`; `labels[i]` belongs to row i of `x`. */
  readonly labels: Uint32Array<ArrayBuffer>;
  /** Rows (samples) in `x` and `labels`. */
  readonly n: number;
  /** Values per row of `x`: the model's input width. */
  readonly features: number;
  /** Classes the labels are drawn from (the model's output width); a small set may not show them all. */
  readonly classes: number;
}

/** One task's splits: rows `[train | validation | test]` of one generated sample. */
export interface TaskData {
  /** The first rows of the generated sample: what the model trains on. */
  readonly train: Dataset;
  /**
   * The `validationCount` rows after them, never trained on: for choosing (a strategy, when to stop),
   * so that the test set only reports.
   */
  readonly validation: Dataset;
  /** The last `testCount(n, testFraction)` rows of the sample, never trained on or chosen by. */
  readonly test: Dataset;
}

/** The source task (for pretraining) and the target task (for transfer). */
export interface TransferData {
  /** Inputs `x ~ N(0, I)` labelled by the source teacher. */
  readonly source: TaskData;
  /** Inputs transformed as `shift` says, labelled by the target teacher; it has `targetClasses` classes. */
  readonly target: TaskData;
  /** What real data's features were standardised by (`pool.ts`); null for the synthetic tasks, drawn standard. */
  readonly standardization: Standardization | null;
}

/**
 * The kinds of difference between the source and the target task (`data.shift`): `input` changes the
 * target's inputs and keeps the labelling rule, `feature` changes the teacher's hidden features,
 * `label` its readout, `mixed` all three.
 */
export const SHIFTS = ["input", "feature", "label", "mixed"] as const;
/** One of {@linkcode SHIFTS}. */
export type Shift = typeof SHIFTS[number];

/** What {@linkcode makeTransferData} needs; mirrors the `data` section of the config. */
export interface DataSpec {
  /** Rows generated for the source task, before the train/test split. */
  readonly sourceSamples: number;
  /** Rows generated for the target task, before the train/test split. */
  readonly targetSamples: number;
  /** Input width, shared by both tasks. */
  readonly features: number;
  /** Classes of the source task: the pretrained model's output width. */
  readonly sourceClasses: number;
  /** Classes of the target task; readout rows beyond `sourceClasses` are fresh. */
  readonly targetClasses: number;
  /**
   * `r`, how close the tasks are: 1 gives the target the source's labelling rule and inputs, 0 an
   * independent rule (`feature`, `label`, `mixed`) or the largest input transform (`input`, `mixed`).
   */
  readonly relatedness: number;
  /** Share of each task's rows held out for test, rounded as {@linkcode testCount} does. */
  readonly testFraction: number;
  /** Share of the rows left after the test split held out for validation ({@linkcode validationCount}). */
  readonly validationFraction: number;
  /** What kind of difference separates the target from the source; `relatedness` says how much. */
  readonly shift: Shift;
  /** Seeds the teachers, the target's shift and the inputs (`deriveSeed` names a stream per purpose). */
  readonly seed: number;
  /**
   * Real tasks read from files (`data.task` digits, csv or idx; `tasks.ts` splits them), or null for
   * the synthetic ones. With them, the sample counts are labelled rows (train + validation), the test
   * rows being held out of each pool first, and `features` and the class counts are the pools'.
   */
  readonly real: RealTasks | null;
}

/** The parts of a {@linkcode DataSpec} that fix the two labelling rules and the target's input transform. */
export type RuleSpec = Pick<
  DataSpec,
  "features" | "sourceClasses" | "targetClasses" | "relatedness" | "shift" | "seed"
>;

/** A labelling rule: `label(x) = argmax_k ((A · lrelu(W x + c))_k − offsets_k)`, the first on ties. */
export interface Teacher {
  /** Input width. */
  readonly features: number;
  /** Classes: rows of `a`. */
  readonly classes: number;
  /** `TEACHER_UNITS × features` hidden weights W, row-major. */
  readonly w: Float64Array;
  /** `TEACHER_UNITS` hidden biases c. */
  readonly c: Float64Array;
  /** `classes × TEACHER_UNITS` readout A, row-major. */
  readonly a: Float64Array;
  /** `classes` fixed offsets b, which split the canonical reference sample evenly among the classes. */
  readonly offsets: Float64Array;
}

/** The target's inputs: `x = mean + scale ⊙ z` for z ~ N(0, I) (the source's inputs are z itself). */
export interface InputTransform {
  /** `features` values μ: the target's input mean. */
  readonly mean: Float64Array;
  /** `features` positive values d: the target's per-feature input standard deviation. */
  readonly scale: Float64Array;
}

/** The two labelling rules a spec gives, how the target's were chosen, and the target's input transform. */
export interface TransferRules {
  /** The source's rule. */
  readonly source: Teacher;
  /** The target's rule: the source's itself under `input` (with the same class count). */
  readonly target: Teacher;
  /** The blend angle θ ∈ [0, π/2] towards the independent teacher (0 under `input`). */
  readonly angle: number;
  /**
   * The share of the target's reference inputs that the target rule labels as the source rule does,
   * as calibrated: `chance + (a₁ − chance) · r` to within a few reference rows (1 under `input`).
   */
  readonly agreement: number;
  /** That share for the independent rule (θ = π/2): a₀, "chance" (`agreement` under `input`). */
  readonly chance: number;
  /** How the target's inputs are made from standard normals; the identity under `feature` and `label`. */
  readonly input: InputTransform;
}

/** Generates both synthetic tasks; the same spec gives bit-identical data on every run and platform (`spec.real` is not read). */
export function makeTransferData(spec: DataSpec): TransferData {
  const rules = transferRules(spec);
  const identity: InputTransform = {
    mean: new Float64Array(spec.features),
    scale: new Float64Array(spec.features).fill(1),
  };
  return {
    source: split(sample(rules.source, identity, spec.sourceSamples, spec.seed, "source"), spec),
    target: split(sample(rules.target, rules.input, spec.targetSamples, spec.seed, "target"), spec),
    standardization: null,
  };
}

/**
 * The source and target labelling rules and the target's input transform for `spec`, as
 * {@linkcode makeTransferData} uses them: for labelling other inputs with either rule
 * ({@linkcode labelInputs}) or measuring how the tasks differ. Depends on no sample size.
 */
export function transferRules(spec: RuleSpec): TransferRules {
  const { features, shift } = spec;
  const r = spec.relatedness;
  const sourceRaw = randomTeacher(
    new Rng(deriveSeed(spec.seed, "teacher:source")),
    features,
    spec.sourceClasses,
  );
  const reference = normals(new Rng(deriveSeed(spec.seed, "reference")), REFERENCE_ROWS * features);
  const source = withOffsets(sourceRaw, reference);

  const moved = shift === "input" || shift === "mixed" ? 1 - r : 0;
  const input = inputTransform(spec.seed, features, moved);
  const targetReference = moved === 0 ? reference : transformRows(reference, input);
  const freshRng = new Rng(deriveSeed(spec.seed, "teacher:target"));
  if (shift === "input") {
    // The source's rule; another class count keeps its hidden layer and shared readout rows.
    const target = spec.targetClasses === spec.sourceClasses ? source : withOffsets(
      blendTeacher(sourceRaw, randomTeacher(freshRng, features, spec.targetClasses), 1, 0, 1, 0),
      reference,
    );
    const agreement = target === source ? 1 : agreementOn(source, target, targetReference);
    return { source, target, angle: 0, agreement, chance: agreement, input };
  }

  // The independent teacher: of FRESH_CANDIDATES draws, the one whose labels of the canonical
  // reference are closest to independent of the source's, the same at every r.
  const blendFeatures = shift !== "label", blendReadout = shift !== "feature";
  const canonical = sourceSide(sourceRaw, source, reference, reference, blendFeatures, blendReadout);
  let chosen: { calibration: Calibration; chance: number; miss: number } | null = null;
  for (let candidate = 0; candidate < FRESH_CANDIDATES; candidate++) {
    const calibration = new Calibration(canonical, randomTeacher(freshRng, features, spec.targetClasses));
    const chance = calibration.agreement(Math.PI / 2);
    const miss = Math.abs(chance - calibration.independent);
    if (chosen === null || miss < chosen.miss) chosen = { calibration, chance, miss };
  }
  let { calibration, chance } = chosen!;
  if (targetReference !== reference) {
    const side = sourceSide(sourceRaw, source, reference, targetReference, blendFeatures, blendReadout);
    calibration = new Calibration(side, calibration.fresh);
    chance = calibration.agreement(Math.PI / 2);
  }
  let angle: number;
  if (r === 0) angle = Math.PI / 2;
  else if (r === 1) angle = 0;
  else {
    const best = calibration.agreement(0);
    angle = best > chance
      ? calibration.solve(chance + (best - chance) * r, best, chance)
      : (1 - r) * Math.PI / 2;
  }
  const [cos, sin] = rotation(angle);
  const [fc, fs] = blendFeatures ? [cos, sin] : [1, 0];
  const [rc, rs] = blendReadout ? [cos, sin] : [1, 0];
  const target = withOffsets(blendTeacher(sourceRaw, calibration.fresh, fc, fs, rc, rs), reference);
  return { source, target, angle, agreement: agreementOn(source, target, targetReference), chance, input };
}

/** The labels `teacher` gives the `n` rows of `x` (row-major, `teacher.features` values a row). */
export function labelInputs(teacher: Teacher, x: ArrayLike<number>, n: number): Uint32Array<ArrayBuffer> {
  const { features, classes, w, c, a, offsets } = teacher;
  const labels = new Uint32Array(n);
  const hidden = new Float64Array(TEACHER_UNITS);
  for (let i = 0; i < n; i++) {
    const row = i * features;
    for (let u = 0; u < TEACHER_UNITS; u++) {
      let z = c[u];
      for (let f = 0; f < features; f++) z += w[u * features + f] * x[row + f];
      hidden[u] = z > 0 ? z : TEACHER_LEAK * z;
    }
    let best = 0, bestScore = -Infinity;
    for (let k = 0; k < classes; k++) {
      let s = 0;
      for (let u = 0; u < TEACHER_UNITS; u++) s += a[k * TEACHER_UNITS + u] * hidden[u];
      s -= offsets[k];
      if (s > bestScore) [best, bestScore] = [k, s];
    }
    labels[i] = best;
  }
  return labels;
}

/** The share of `data`'s rows whose label is the one `teacher` gives their input. */
export function ruleAgreement(teacher: Teacher, data: Dataset): number {
  const labels = labelInputs(teacher, data.x, data.n);
  let same = 0;
  for (let i = 0; i < data.n; i++) if (labels[i] === data.labels[i]) same++;
  return same / data.n;
}

/**
 * The 2-Wasserstein distance between the source's input distribution N(0, I) and the target's
 * N(μ, diag(d²)): `sqrt(|μ|² + Σ_f (d_f − 1)²)`. 0 for the identity transform.
 */
export function inputShiftSize(input: InputTransform): number {
  let sum = 0;
  for (let f = 0; f < input.mean.length; f++) sum += input.mean[f] ** 2 + (input.scale[f] - 1) ** 2;
  return Math.sqrt(sum);
}

/**
 * `task` with only its first `rows` training rows (a random sample of the rest, since rows are
 * independent draws) and the same validation and test sets: the smaller training sets of a
 * sample-efficiency sweep.
 */
export function withTrainRows(task: TaskData, rows: number): TaskData {
  const { train } = task;
  const x = train.x.slice(0, rows * train.features), labels = train.labels.slice(0, rows);
  return { ...task, train: { ...train, x, labels, n: rows } };
}

/** The number of test rows for `n` samples: `round(n · testFraction)`. */
export function testCount(n: number, testFraction: number): number {
  return Math.round(n * testFraction);
}

/** The number of validation rows among the `n` rows left after the test split: `round(n · validationFraction)`. */
export function validationCount(n: number, validationFraction: number): number {
  return Math.round(n * validationFraction);
}

/** How many rows of `n` samples each split gets under `spec`'s fractions. */
export function splitCounts(
  n: number,
  spec: Pick<DataSpec, "testFraction" | "validationFraction">,
): { train: number; validation: number; test: number } {
  const test = testCount(n, spec.testFraction);
  const validation = validationCount(n - test, spec.validationFraction);
  return { train: n - test - validation, validation, test };
}

/** A teacher before its offsets are set. */
type RawTeacher = Omit<Teacher, "offsets">;

function randomTeacher(rng: Rng, features: number, classes: number): RawTeacher {
  const w = normals(rng, TEACHER_UNITS * features).map((v) => v / Math.sqrt(features));
  const c = normals(rng, TEACHER_UNITS).map((v) => 0.5 * v);
  const a = normals(rng, classes * TEACHER_UNITS);
  return { features, classes, w, c, a };
}

/** `(cos θ, sin θ)`, exact at the ends: θ = 0 keeps the source, θ = π/2 takes the fresh teacher. */
function rotation(angle: number): [number, number] {
  if (angle === 0) return [1, 0];
  if (angle === Math.PI / 2) return [0, 1];
  return [Math.cos(angle), Math.sin(angle)];
}

/**
 * The target teacher: hidden layer `fc · (W_s, c_s) + fs · (W_f, c_f)`, readout rows
 * `rc · A_s + rs · A_f` for the classes both have, the fresh teacher's rows for the others.
 */
function blendTeacher(
  source: RawTeacher,
  fresh: RawTeacher,
  fc: number,
  fs: number,
  rc: number,
  rs: number,
): RawTeacher {
  const a = new Float64Array(fresh.a.length);
  for (let i = 0; i < a.length; i++) {
    a[i] = i < source.a.length ? rc * source.a[i] + rs * fresh.a[i] : fresh.a[i];
  }
  return {
    features: source.features,
    classes: fresh.classes,
    w: source.w.map((s, i) => fc * s + fs * fresh.w[i]),
    c: source.c.map((s, i) => fc * s + fs * fresh.c[i]),
    a,
  };
}

/** `teacher` with its offsets: its mean class scores over the canonical reference rows. */
function withOffsets(teacher: RawTeacher, reference: Float64Array): Teacher {
  const rows = reference.length / teacher.features;
  const scores = new Float64Array(rows * teacher.classes);
  setScores(scores, preActivations(teacher, reference), 1, null, 0, teacher.a, teacher.classes);
  return { ...teacher, offsets: balancedOffsets(scores, teacher.classes) };
}

/** `x`'s row-major rows mapped through `input`: `mean + scale ⊙ z`. */
function transformRows(z: Float64Array, input: InputTransform): Float64Array {
  const features = input.mean.length;
  const out = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) {
    const f = i % features;
    out[i] = input.mean[f] + input.scale[f] * z[i];
  }
  return out;
}

/** The target's input transform at size `moved` = 1 − r (0: the identity). */
function inputTransform(seed: number, features: number, moved: number): InputTransform {
  const rng = new Rng(deriveSeed(seed, "input-shift"));
  const direction = normals(rng, features);
  const logScale = normals(rng, features);
  const norm = Math.sqrt(direction.reduce((sum, v) => sum + v * v, 0)); // not Math.hypot(...): any width
  if (moved === 0) return { mean: new Float64Array(features), scale: new Float64Array(features).fill(1) };
  return {
    mean: direction.map((v) => (moved * TARGET_SHIFT * v) / norm),
    scale: logScale.map((g) => Math.exp(moved * TARGET_LOG_SCALE * g)),
  };
}

/** The share of the rows of `x` that `a` and `b` label alike. */
function agreementOn(a: Teacher, b: Teacher, x: Float64Array): number {
  const rows = x.length / a.features;
  const la = labelInputs(a, x, rows), lb = labelInputs(b, x, rows);
  let same = 0;
  for (let i = 0; i < rows; i++) if (la[i] === lb[i]) same++;
  return same / rows;
}

/** The source's side of a calibration, computed once per spec. */
interface SourceSide {
  readonly teacher: RawTeacher;
  /** The canonical reference rows z, which set every teacher's offsets. */
  readonly reference: Float64Array;
  /** The same rows as the target's inputs: `mean + scale ⊙ z` (`reference` itself if unshifted). */
  readonly targetReference: Float64Array;
  /** The source's `W x + c` on `reference` and on `targetReference`. */
  readonly pre: Float64Array;
  readonly targetPre: Float64Array;
  /** The source rule's labels of `targetReference`. */
  readonly labels: Uint32Array;
  /** Whether the target's hidden layer, and its readout, blend towards the fresh teacher's. */
  readonly blendFeatures: boolean;
  readonly blendReadout: boolean;
}

function sourceSide(
  teacher: RawTeacher,
  rule: Teacher,
  reference: Float64Array,
  targetReference: Float64Array,
  blendFeatures: boolean,
  blendReadout: boolean,
): SourceSide {
  const pre = preActivations(teacher, reference);
  return {
    teacher,
    reference,
    targetReference,
    pre,
    targetPre: targetReference === reference ? pre : preActivations(teacher, targetReference),
    labels: labelInputs(rule, targetReference, targetReference.length / teacher.features),
    blendFeatures,
    blendReadout,
  };
}

/**
 * Measures, for a blend angle θ, the agreement of the blended target rule (offsets recomputed on the
 * canonical reference) with the source rule on the target's reference inputs, and finds the θ that
 * gives a wanted agreement. Pre-activations are linear in θ, so each teacher's are computed once.
 */
class Calibration {
  /** The independent teacher that θ blends towards. */
  readonly fresh: RawTeacher;
  /**
   * After {@linkcode agreement}: the agreement that labels independent of the source's would have
   * with the class frequencies it found, `Σ_k p_source(k) · p_target(k)`.
   */
  independent = 0;
  readonly #side: SourceSide;
  readonly #pre: Float64Array | null;
  readonly #targetPre: Float64Array | null;
  readonly #scores: Float64Array;
  readonly #targetScores: Float64Array;
  readonly #a: Float64Array;

  constructor(side: SourceSide, fresh: RawTeacher) {
    [this.#side, this.fresh] = [side, fresh];
    const shifted = side.targetReference !== side.reference;
    this.#pre = side.blendFeatures ? preActivations(fresh, side.reference) : null;
    this.#targetPre = side.blendFeatures && shifted ? preActivations(fresh, side.targetReference) : this.#pre;
    this.#scores = new Float64Array(REFERENCE_ROWS * fresh.classes);
    this.#targetScores = shifted ? new Float64Array(REFERENCE_ROWS * fresh.classes) : this.#scores;
    this.#a = new Float64Array(fresh.a.length);
  }

  /** The agreement at angle θ. */
  agreement(angle: number): number {
    const [cos, sin] = rotation(angle);
    const side = this.#side, source = side.teacher, fresh = this.fresh;
    const [fc, fs] = side.blendFeatures ? [cos, sin] : [1, 0];
    const [rc, rs] = side.blendReadout ? [cos, sin] : [1, 0];
    const a = this.#a, classes = fresh.classes;
    for (let i = 0; i < a.length; i++) {
      a[i] = i < source.a.length ? rc * source.a[i] + rs * fresh.a[i] : fresh.a[i];
    }
    setScores(this.#scores, side.pre, fc, this.#pre, fs, a, classes);
    const offsets = balancedOffsets(this.#scores, classes);
    if (this.#targetScores !== this.#scores) {
      setScores(this.#targetScores, side.targetPre, fc, this.#targetPre, fs, a, classes);
    }
    const scores = this.#targetScores, labels = side.labels, rows = labels.length;
    const counts = new Float64Array(classes), sourceCounts = new Float64Array(source.classes);
    let same = 0;
    for (let i = 0; i < rows; i++) {
      const label = argmaxShifted(scores, i * classes, offsets, classes);
      counts[label]++;
      sourceCounts[labels[i]]++;
      if (label === labels[i]) same++;
    }
    this.independent = 0;
    for (let k = 0; k < Math.min(classes, source.classes); k++) {
      this.independent += (counts[k] / rows) * (sourceCounts[k] / rows);
    }
    return same / rows;
  }

  /**
   * A θ in (0, π/2) whose agreement is within `ROOT_TOLERANCE` of `wanted`, or the closest that
   * `ROOT_STEPS` steps of regula falsi (Illinois variant) find, given the agreements `atZero` ≥
   * `wanted` at θ = 0 and `atRight` ≤ `wanted` at θ = π/2.
   */
  solve(wanted: number, atZero: number, atRight: number): number {
    let [low, high] = [0, Math.PI / 2];
    let [missLow, missHigh] = [atZero - wanted, atRight - wanted];
    let [best, bestMiss] = missLow <= -missHigh ? [low, missLow] : [high, missHigh];
    let side = 0;
    for (let step = 0; step < ROOT_STEPS && Math.abs(bestMiss) > ROOT_TOLERANCE; step++) {
      const angle = (low * missHigh - high * missLow) / (missHigh - missLow);
      const miss = this.agreement(angle) - wanted;
      if (Math.abs(miss) < Math.abs(bestMiss)) [best, bestMiss] = [angle, miss];
      if (miss >= 0) {
        [low, missLow] = [angle, miss];
        if (side > 0) missHigh /= 2;
        side = 1;
      } else {
        [high, missHigh] = [angle, miss];
        if (side < 0) missLow /= 2;
        side = -1;
      }
    }
    return best;
  }
}

/** `W x + c` for every row of `x`: rows × `TEACHER_UNITS`. */
function preActivations(t: RawTeacher, x: Float64Array): Float64Array {
  const features = t.features, rows = x.length / features;
  const out = new Float64Array(rows * TEACHER_UNITS);
  for (let i = 0; i < rows; i++) {
    for (let u = 0; u < TEACHER_UNITS; u++) {
      let z = t.c[u];
      for (let f = 0; f < features; f++) z += t.w[u * features + f] * x[i * features + f];
      out[i * TEACHER_UNITS + u] = z;
    }
  }
  return out;
}

/** Sets `scores` to `A · lrelu(p · P + q · Q)` row by row (no `Q`: `A · lrelu(p · P)`). */
function setScores(
  scores: Float64Array,
  pre: Float64Array,
  p: number,
  other: Float64Array | null,
  q: number,
  a: Float64Array,
  classes: number,
): void {
  const rows = pre.length / TEACHER_UNITS;
  const hidden = new Float64Array(TEACHER_UNITS);
  for (let i = 0; i < rows; i++) {
    for (let u = 0; u < TEACHER_UNITS; u++) {
      const at = i * TEACHER_UNITS + u;
      const z = other === null ? p * pre[at] : p * pre[at] + q * other[at];
      hidden[u] = z > 0 ? z : TEACHER_LEAK * z;
    }
    for (let k = 0; k < classes; k++) {
      let s = 0;
      for (let u = 0; u < TEACHER_UNITS; u++) s += a[k * TEACHER_UNITS + u] * hidden[u];
      scores[i * classes + k] = s;
    }
  }
}

/**
 * Offsets b that split the rows of `scores` (rows × `classes`) evenly among the classes under
 * `argmax_k (s_k − b_k)`: class k gets `⌊(k + 1) · rows / classes⌋ − ⌊k · rows / classes⌋` rows.
 * Starts from the column means and sets one b_k at a time to the midpoint between the two rows at its
 * class's quota (coordinate ascent on the dual of the balanced assignment), sweeping the classes until
 * every count is its quota or `BALANCE_SWEEPS` sweeps are done.
 */
function balancedOffsets(scores: Float64Array, classes: number): Float64Array {
  const rows = scores.length / classes;
  const offsets = columnMeans(scores, classes);
  const leaders = new RowLeaders(scores, classes, offsets);
  const margin = new Float64Array(rows);
  const quota = (k: number) => Math.floor(((k + 1) * rows) / classes) - Math.floor((k * rows) / classes);
  for (let sweep = 0; sweep < BALANCE_SWEEPS && !balanced(scores, classes, offsets, quota); sweep++) {
    for (let k = 0; k < classes; k++) {
      // Row i goes to class k exactly when margin[i] = s_ik − max_{j≠k} (s_ij − b_j) exceeds b_k.
      for (let i = 0; i < rows; i++) margin[i] = scores[i * classes + k] - leaders.rival(i, k);
      const q = quota(k);
      if (q === 0 || q === rows) continue;
      // Ascending order: the q largest margins sit at [rows − q, rows).
      const at = rows - q;
      select(margin, at);
      let below = -Infinity;
      for (let i = 0; i < at; i++) below = Math.max(below, margin[i]);
      offsets[k] = (below + margin[at]) / 2;
      leaders.moved(k);
    }
  }
  return offsets;
}

/**
 * Each row's two largest shifted scores `s_ij − b_j`, and their columns, kept up to date as one
 * offset b_k changes at a time. The best rival of class k in row i, `max_{j≠k} (s_ij − b_j)`, is then
 * one lookup rather than a pass over the classes, so a sweep of {@linkcode balancedOffsets} costs
 * O(rows · classes) rather than O(rows · classes²). The values are the same maxima, so the offsets
 * are bit for bit those of the direct loop.
 */
class RowLeaders {
  readonly #first: Float64Array;
  readonly #firstAt: Int32Array;
  readonly #second: Float64Array;
  readonly #secondAt: Int32Array;

  constructor(readonly scores: Float64Array, readonly classes: number, readonly offsets: Float64Array) {
    const rows = scores.length / classes;
    [this.#first, this.#second] = [new Float64Array(rows), new Float64Array(rows)];
    [this.#firstAt, this.#secondAt] = [new Int32Array(rows), new Int32Array(rows)];
    for (let i = 0; i < rows; i++) this.#rescan(i);
  }

  /** `max_{j≠k} (s_ij − b_j)`. */
  rival(i: number, k: number): number {
    return this.#firstAt[i] === k ? this.#second[i] : this.#first[i];
  }

  /** Takes in a new value of b_k. */
  moved(k: number): void {
    const { scores, classes, offsets } = this;
    for (let i = 0; i < this.#first.length; i++) {
      if (this.#firstAt[i] === k || this.#secondAt[i] === k) {
        this.#rescan(i); // a leader may have fallen below the rest
        continue;
      }
      const v = scores[i * classes + k] - offsets[k];
      if (v > this.#first[i]) {
        [this.#second[i], this.#secondAt[i]] = [this.#first[i], this.#firstAt[i]];
        [this.#first[i], this.#firstAt[i]] = [v, k];
      } else if (v > this.#second[i]) {
        [this.#second[i], this.#secondAt[i]] = [v, k];
      }
    }
  }

  #rescan(i: number): void {
    const { scores, classes, offsets } = this;
    let [first, firstAt, second, secondAt] = [-Infinity, -1, -Infinity, -1];
    for (let j = 0; j < classes; j++) {
      const v = scores[i * classes + j] - offsets[j];
      if (v > first) [second, secondAt, first, firstAt] = [first, firstAt, v, j];
      else if (v > second) [second, secondAt] = [v, j];
    }
    [this.#first[i], this.#firstAt[i], this.#second[i], this.#secondAt[i]] = [
      first,
      firstAt,
      second,
      secondAt,
    ];
  }
}

/** Whether every class's count under `argmax_k (s_k − b_k)` is its quota. */
function balanced(
  scores: Float64Array,
  classes: number,
  offsets: Float64Array,
  quota: (k: number) => number,
): boolean {
  const counts = new Array<number>(classes).fill(0);
  const rows = scores.length / classes;
  for (let i = 0; i < rows; i++) counts[argmaxShifted(scores, i * classes, offsets, classes)]++;
  return counts.every((count, k) => Math.abs(count - quota(k)) <= BALANCE_SLACK);
}

function argmaxShifted(scores: Float64Array, at: number, offsets: Float64Array, classes: number): number {
  let best = 0, bestScore = -Infinity;
  for (let k = 0; k < classes; k++) {
    const s = scores[at + k] - offsets[k];
    if (s > bestScore) [best, bestScore] = [k, s];
  }
  return best;
}

/** Reorders `v` so that `v[at]` is the value an ascending sort puts there, smaller ones before it (Hoare). */
function select(v: Float64Array, at: number): void {
  let [low, high] = [0, v.length - 1];
  while (low < high) {
    const pivot = median3(v[low], v[(low + high) >>> 1], v[high]);
    let [i, j] = [low, high];
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    if (at <= j) high = j;
    else if (at >= i) low = i;
    else return;
  }
}

function median3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

function columnMeans(m: Float64Array, cols: number): Float64Array {
  const rows = m.length / cols;
  const means = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) means[k] += m[i * cols + k];
  for (let k = 0; k < cols; k++) means[k] /= rows;
  return means;
}

function normals(rng: Rng, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal();
  return out;
}

/** `n` rows `x = mean + scale ⊙ z`, z ~ N(0, I) from the task's input stream, labelled by `teacher`. */
function sample(teacher: Teacher, input: InputTransform, n: number, seed: number, task: string): Dataset {
  const features = teacher.features;
  const rng = new Rng(deriveSeed(seed, `inputs:${task}`));
  const x = new Float32Array(n * features);
  for (let i = 0; i < x.length; i++) {
    const f = i % features;
    x[i] = input.mean[f] + input.scale[f] * rng.normal();
  }
  return { x, labels: labelInputs(teacher, x, n), n, features, classes: teacher.classes };
}

function split(all: Dataset, spec: Pick<DataSpec, "testFraction" | "validationFraction">): TaskData {
  const counts = splitCounts(all.n, spec);
  const validationEnd = counts.train + counts.validation;
  const rows = (from: number, to: number): Dataset => ({
    x: all.x.slice(from * all.features, to * all.features),
    labels: all.labels.slice(from, to),
    n: to - from,
    features: all.features,
    classes: all.classes,
  });
  return {
    train: rows(0, counts.train),
    validation: rows(counts.train, validationEnd),
    test: rows(validationEnd, all.n),
  };
}
