/**
 * Synthetic source and target classification tasks that are related by construction.
 *
 * A random "teacher" network labels the inputs: `label = argmax(A · relu(W x + c))`, with
 * `TEACHER_UNITS` hidden units. The source task uses teacher (W_s, c_s, A_s) on inputs x ~ N(0, I).
 * The target teacher rotates every source parameter towards an independent one by an angle set by
 * r = `relatedness`:
 *
 *     θ = (1 − r) · π/2        P_t = cos θ · P_s + sin θ · P_new     for P in W, c, A
 *
 * so at r = 1 the target shares the source's hidden features and readout, and at r = 0 the two
 * tasks share nothing (independent teachers). Target inputs are also shifted,
 * x ~ N(TARGET_SHIFT · u, I) for a random unit vector u, so the target is a new domain at any r.
 * Readout rows for target classes beyond the source's count are fresh. Each class's mean logit over
 * the sample is subtracted before the argmax, which keeps the classes roughly balanced.
 *
 * @module
 */

import { deriveSeed, Rng } from "./rng.ts";

/** Width of the teacher network's hidden layer. */
export const TEACHER_UNITS = 4;
/** Distance between the source and target input means, in units of the input noise. */
export const TARGET_SHIFT = 0.5;

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

/** One task's train and test splits. */
export interface TaskData {
  /** The first rows of the generated sample: what the model trains on. */
  readonly train: Dataset;
  /** The last `testCount(n, testFraction)` rows of the sample, never trained on. */
  readonly test: Dataset;
}

/** The source task (for pretraining) and the target task (for transfer). */
export interface TransferData {
  /** Inputs `x ~ N(0, I)` labelled by the source teacher. */
  readonly source: TaskData;
  /** Shifted inputs labelled by the blended teacher; it has `targetClasses` classes. */
  readonly target: TaskData;
}

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
  /** `r` of the teacher blend: 1 gives the target the source's teacher, 0 an independent one. */
  readonly relatedness: number;
  /** Share of each task's rows held out for test, rounded as {@linkcode testCount} does. */
  readonly testFraction: number;
  /** Seeds the teachers, the target's shift and the inputs (`deriveSeed` names a stream per purpose). */
  readonly seed: number;
}

interface Teacher {
  readonly w: Float64Array; // TEACHER_UNITS × features
  readonly c: Float64Array; // TEACHER_UNITS
  readonly a: Float64Array; // classes × TEACHER_UNITS
  readonly classes: number;
}

/** Generates both tasks; the same spec gives bit-identical data on every run and platform. */
export function makeTransferData(spec: DataSpec): TransferData {
  const teacherRng = new Rng(deriveSeed(spec.seed, "teacher"));
  const source = randomTeacher(teacherRng, spec.features, spec.sourceClasses);
  const fresh = randomTeacher(teacherRng, spec.features, spec.targetClasses);
  const target = blendTeacher(source, fresh, spec.relatedness);

  const shiftRng = new Rng(deriveSeed(spec.seed, "shift"));
  const direction = normals(shiftRng, spec.features);
  const norm = Math.hypot(...direction);
  const targetMean = direction.map((v) => (TARGET_SHIFT * v) / norm);

  return {
    source: split(
      sample(source, new Float64Array(spec.features), spec.sourceSamples, spec.seed, "source"),
      spec.testFraction,
    ),
    target: split(
      sample(target, targetMean, spec.targetSamples, spec.seed, "target"),
      spec.testFraction,
    ),
  };
}

/**
 * `task` with only its first `rows` training rows (a random sample of the rest, since rows are
 * independent draws) and the same test set: the smaller training sets of a sample-efficiency sweep.
 */
export function withTrainRows(task: TaskData, rows: number): TaskData {
  const { train } = task;
  const x = train.x.slice(0, rows * train.features), labels = train.labels.slice(0, rows);
  return { train: { ...train, x, labels, n: rows }, test: task.test };
}

/** The number of test rows for `n` samples: `round(n · testFraction)`. */
export function testCount(n: number, testFraction: number): number {
  return Math.round(n * testFraction);
}

function randomTeacher(rng: Rng, features: number, classes: number): Teacher {
  const w = normals(rng, TEACHER_UNITS * features).map((v) => v / Math.sqrt(features));
  const c = normals(rng, TEACHER_UNITS).map((v) => 0.5 * v);
  const a = normals(rng, classes * TEACHER_UNITS);
  return { w, c, a, classes };
}

function blendTeacher(source: Teacher, fresh: Teacher, r: number): Teacher {
  const angle = (1 - r) * Math.PI / 2;
  const mix = (s: number, f: number) => Math.cos(angle) * s + Math.sin(angle) * f;
  const a = new Float64Array(fresh.a.length);
  for (let j = 0; j < fresh.classes; j++) {
    for (let u = 0; u < TEACHER_UNITS; u++) {
      const at = j * TEACHER_UNITS + u;
      a[at] = j < source.classes ? mix(source.a[at], fresh.a[at]) : fresh.a[at];
    }
  }
  return {
    w: source.w.map((s, i) => mix(s, fresh.w[i])),
    c: source.c.map((s, i) => mix(s, fresh.c[i])),
    a,
    classes: fresh.classes,
  };
}

function sample(
  teacher: Teacher,
  mean: Float64Array,
  n: number,
  seed: number,
  task: string,
): Dataset {
  const features = mean.length;
  const rng = new Rng(deriveSeed(seed, `inputs:${task}`));
  const x = new Float32Array(n * features);
  for (let i = 0; i < x.length; i++) x[i] = mean[i % features] + rng.normal();

  const logits = teacherLogits(teacher, x, n, features);
  centreColumns(logits, n, teacher.classes);
  const labels = new Uint32Array(n);
  for (let i = 0; i < n; i++) labels[i] = argmax(logits, i * teacher.classes, teacher.classes);
  return { x, labels, n, features, classes: teacher.classes };
}

function teacherLogits(t: Teacher, x: Float32Array, n: number, features: number): Float64Array {
  const logits = new Float64Array(n * t.classes);
  const hidden = new Float64Array(TEACHER_UNITS);
  for (let i = 0; i < n; i++) {
    for (let u = 0; u < TEACHER_UNITS; u++) {
      let z = t.c[u];
      for (let f = 0; f < features; f++) z += t.w[u * features + f] * x[i * features + f];
      hidden[u] = Math.max(0, z);
    }
    for (let k = 0; k < t.classes; k++) {
      let z = 0;
      for (let u = 0; u < TEACHER_UNITS; u++) z += t.a[k * TEACHER_UNITS + u] * hidden[u];
      logits[i * t.classes + k] = z;
    }
  }
  return logits;
}

function centreColumns(m: Float64Array, rows: number, cols: number): void {
  for (let k = 0; k < cols; k++) {
    let sum = 0;
    for (let i = 0; i < rows; i++) sum += m[i * cols + k];
    for (let i = 0; i < rows; i++) m[i * cols + k] -= sum / rows;
  }
}

function argmax(values: ArrayLike<number>, offset: number, count: number): number {
  let best = 0;
  for (let k = 1; k < count; k++) if (values[offset + k] > values[offset + best]) best = k;
  return best;
}

function normals(rng: Rng, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal();
  return out;
}

function split(all: Dataset, testFraction: number): TaskData {
  const nTest = testCount(all.n, testFraction);
  const nTrain = all.n - nTest;
  const rows = (from: number, to: number): Dataset => ({
    x: all.x.slice(from * all.features, to * all.features),
    labels: all.labels.slice(from, to),
    n: to - from,
    features: all.features,
    classes: all.classes,
  });
  return { train: rows(0, nTrain), test: rows(nTrain, all.n) };
}
