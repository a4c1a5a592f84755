/**
 * A user's CSV file as a {@linkcode LabelledPool} ({@linkcode parseCsvPool}), or as rows to predict
 * on ({@linkcode parseCsvRows}): RFC 4180 text (comma-separated, fields optionally double-quoted,
 * `""` for a quote, newlines allowed inside quotes), a header naming the columns, a label column and
 * numeric feature columns. The app layer reads the file; this module only parses. Both readers apply
 * the same rules to the header, the rows, the labels and the values.
 *
 * Every problem is a one-line {@linkcode UsageError} of the form `FILE:LINE: what is wrong; how to
 * fix it`, where LINE is the 1-based line on which the offending record starts (the header being the
 * file's first line); a problem of the whole file (no data rows, a listed class without rows) is
 * `FILE: ...`.
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";
import type { LabelledPool } from "../core/pool.ts";
import { clip, MAX_PATH_QUOTE } from "./limits.ts";

/** Which columns of a CSV file form a task (the `data.source` / `data.target` keys of the config). */
export interface CsvColumns {
  /** The label column's name (config key given as `keyPath` + ".label"). */
  readonly label: string;
  /** Feature columns, in order; null: every column but the label, in file order. */
  readonly features: readonly string[] | null;
  /**
   * Labels that form the task, in class order; null: every label in the file, sorted (numerically
   * when all are numbers, else by code unit). Rows with other labels are skipped (and counted).
   */
  readonly classes: readonly string[] | null;
}

/** What {@linkcode parseCsvPool} read: the task's rows, and how many rows it skipped. */
export interface CsvPool {
  /** The rows whose label is one of the task's classes. */
  readonly pool: LabelledPool;
  /** Data rows left out because their label is not among `classes` (always 0 when `classes` is null). */
  readonly skipped: number;
}

/** Rows of a CSV to predict on: the feature columns a model was trained on, and the labels when present. */
export interface CsvRows {
  /** `n × features.length` values, row-major, in the order of `features`. */
  readonly x: Float32Array<ArrayBuffer>;
  /** Rows read. */
  readonly n: number;
  /** Each row's label (trimmed) when the file has the `label` column, else null. */
  readonly labels: readonly string[] | null;
  /** Each row's line number in the file (where its record starts), for messages. */
  readonly lines: readonly number[];
}

/** The largest finite float32; a feature beyond it would be stored as an infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** The most values (rows × features) one file may hold. */
const MAX_VALUES = 2 ** 31;

const QUOTE = 34, COMMA = 44, LF = 10, CR = 13, ZERO = 48;

/** One record of the file: its fields (quotes removed) and the line it starts on. */
interface CsvRecord {
  readonly fields: string[];
  readonly line: number;
}

/** A header that names each column once: the names (trimmed) in file order, and each name's column. */
interface Header {
  readonly names: readonly string[];
  readonly columns: ReadonlyMap<string, number>;
  /** The file, quoted for messages. */
  readonly where: string;
  /** `FILE:LINE` of the header, which starts the messages about it. */
  readonly at: string;
}

/** A label column: its place in the header, and its name quoted for messages. */
interface LabelColumn {
  readonly index: number;
  readonly quoted: string;
}

/** The columns of a task: the label's, and the features' (places in the header, and names) in order. */
interface TaskColumns {
  readonly label: LabelColumn;
  readonly features: readonly number[];
  readonly featureNames: string[];
  /** Added to a non-number's message when the features were taken by default (every other column). */
  readonly textHint: string;
}

/**
 * The task that the CSV `text` (read from `file`) holds for `columns`, whose config keys are under
 * `keyPath` (such as `data.source`, for messages). Labels are the label column's values trimmed;
 * features are parsed as finite decimal numbers (what `Number` accepts after trimming, but not empty,
 * `NaN`, `Infinity` nor `0x`/`0o`/`0b` forms) that fit float32. Rows whose label is not among
 * `columns.classes` are counted in `skipped`; their value count and label are checked, their
 * features are not parsed. Throws {@linkcode UsageError} on any problem of the file or the columns.
 */
export function parseCsvPool(text: string, file: string, columns: CsvColumns, keyPath: string): CsvPool {
  const where = clip(file, MAX_PATH_QUOTE);
  const reader = new RecordReader(text, where);
  const header = readHeader(
    reader,
    where,
    "a CSV needs a header line naming its columns (label and features)",
  );
  const picked = taskColumns(header, columns, keyPath);
  const classes: ClassCoder = columns.classes === null
    ? new FoundClasses(where, `${keyPath}.label`, picked.label.quoted)
    : new ListedClasses(columns.classes, where, `${keyPath}.classes`, picked.label.quoted);
  const rows = readTaskRows(reader, header, picked, classes);
  const classNames = classes.finish(rows.labels); // renumbers rows.labels into class order
  const pool: LabelledPool = {
    x: rows.x,
    labels: rows.labels,
    n: rows.n,
    features: picked.features.length,
    classNames,
    featureNames: picked.featureNames,
    origin: file,
  };
  return { pool, skipped: rows.skipped };
}

/**
 * The rows of the CSV `text` (read from `file`) for a model trained on the columns `features`, which
 * must all be columns of the header (extra columns are ignored); `label`, when not null and present
 * in the header, is read too. Values and labels follow {@linkcode parseCsvPool}'s rules, and every
 * row's features are parsed. `flag` (such as `--input`), the option that named the file, is what
 * the messages tell the user to fix. Throws {@linkcode UsageError} on any problem of the file.
 */
export function parseCsvRows(
  text: string,
  file: string,
  features: readonly string[],
  label: string | null,
  flag: string,
): CsvRows {
  const where = clip(file, MAX_PATH_QUOTE);
  const reader = new RecordReader(text, where);
  const trained = clip(features.join(", "));
  const header = readHeader(
    reader,
    where,
    `give ${flag} a CSV whose header line names the model's columns (${trained})`,
  );
  const missing = () => `; the model was trained on the columns ${trained}; give ${flag} a CSV with them`;
  const matrix = new FeatureMatrix(header, features.map((name) => columnOf(header, name, missing)));
  const index = label === null ? undefined : header.columns.get(label);
  const labelColumn = index === undefined ? null : { index, quoted: clip(header.names[index]) };
  const labels: string[] = [];
  const lines: number[] = [];
  for (const record of dataRecords(reader, header)) {
    if (labelColumn !== null) labels.push(readLabel(record, labelColumn, where));
    matrix.add(record);
    lines.push(record.line);
  }
  return { x: matrix.values(), n: matrix.n, labels: labelColumn === null ? null : labels, lines };
}

/**
 * The first record of `reader` as a header, checked: every column named, no name twice. `where` is
 * the quoted file; `emptyFix` says what to do when the file is empty.
 */
function readHeader(reader: RecordReader, where: string, emptyFix: string): Header {
  const record = reader.next();
  if (record === null) throw new UsageError(`${where}:1: the file is empty; ${emptyFix}`);
  const at = `${where}:${record.line}`;
  const names = record.fields.map((name) => name.trim());
  const columns = new Map<string, number>();
  names.forEach((name, i) => {
    if (name === "") {
      throw new UsageError(
        `${at}: column ${i + 1} of the header has no name; name every column ` +
          `(a trailing comma makes an empty last column)`,
      );
    }
    const first = columns.get(name);
    if (first !== undefined) {
      throw new UsageError(
        `${at}: the header names column '${clip(name)}' twice (columns ${first + 1} and ${
          i + 1
        }); give every column a unique name`,
      );
    }
    columns.set(name, i);
  });
  return { names, columns, where, at };
}

/** The header's columns, listed and clipped, for messages. */
function headerList(header: Header): string {
  return clip(header.names.join(", "));
}

/** The place of column `name` in `header`; when there is none, throws, ending the message with `fix()`. */
function columnOf(header: Header, name: string, fix: () => string): number {
  const index = header.columns.get(name);
  if (index === undefined) throw new UsageError(`${header.at}: no column '${clip(name)}'${fix()}`);
  return index;
}

/** The label and feature columns that `columns` (config keys under `keyPath`) picks from `header`. */
function taskColumns(header: Header, columns: CsvColumns, keyPath: string): TaskColumns {
  const labelKey = `${keyPath}.label`;
  const label = columnOf(
    header,
    columns.label,
    () => ` (${labelKey}); the header's columns are ${headerList(header)}; set ${labelKey} to one of them`,
  );
  const features = columns.features === null
    ? allButLabel(header, label)
    : listedFeatures(header, columns.features, columns.label, `${keyPath}.features`);
  return {
    label: { index: label, quoted: clip(columns.label) },
    features,
    featureNames: features.map((i) => header.names[i]),
    textHint: columns.features === null
      ? `, or, if the column is not a feature, list the features in ${keyPath}.features to leave it out`
      : "",
  };
}

/** Every column of `header` but the label's (at `label`), in file order; throws when there is none. */
function allButLabel(header: Header, label: number): number[] {
  const features = header.names.map((_, i) => i).filter((i) => i !== label);
  if (features.length === 0) {
    throw new UsageError(
      `${header.at}: the header has only the label column '${clip(header.names[label])}'; ` +
        `add feature columns to the file`,
    );
  }
  return features;
}

/**
 * The columns of the features `listed` under `featuresKey`, in list order; throws when the list is
 * empty, or names the `label` column, a column twice or one the header lacks.
 */
function listedFeatures(
  header: Header,
  listed: readonly string[],
  label: string,
  featuresKey: string,
): number[] {
  if (listed.length === 0) {
    throw new UsageError(
      `${header.at}: ${featuresKey} is an empty list; list at least one feature column, ` +
        `or set it to null for every column but the label`,
    );
  }
  const seen = new Set<string>();
  const fix = () =>
    ` (listed in ${featuresKey}); the header's columns are ${headerList(header)}; fix ${featuresKey}`;
  return listed.map((name) => {
    if (name === label) {
      throw new UsageError(
        `${header.at}: ${featuresKey} lists the label column '${clip(name)}'; ` +
          `remove it from ${featuresKey} (the label cannot be a feature)`,
      );
    }
    if (seen.has(name)) {
      throw new UsageError(`${header.at}: ${featuresKey} lists '${clip(name)}' twice; list each column once`);
    }
    seen.add(name);
    return columnOf(header, name, fix);
  });
}

/**
 * The classes listed under the config key `classesKey`, each name's class id (its place in the
 * list); throws when a name is listed twice or fewer than 2 are listed. `where` (the quoted file)
 * starts the messages. The IDX reader checks its list of classes here too.
 */
export function listedClasses(
  classes: readonly string[],
  where: string,
  classesKey: string,
): Map<string, number> {
  const index = new Map<string, number>();
  for (const name of classes) {
    if (index.has(name)) {
      throw new UsageError(`${where}: ${classesKey} lists '${clip(name)}' twice; list each class once`);
    }
    index.set(name, index.size);
  }
  if (index.size < 2) {
    throw new UsageError(
      `${where}: ${classesKey} lists ${index.size} class${index.size === 1 ? "" : "es"}; ` +
        `a task needs at least 2, so list more or set it to null for every label in the file`,
    );
  }
  return index;
}

/**
 * How a task's rows get class ids: `id` gives a row's label its id (null: the label is not one of
 * the task's classes, so the row is skipped); `finish`, once every row is read, gives the class
 * names, renumbering `labels` (the ids given, in row order) when the class order needs it.
 */
interface ClassCoder {
  id(label: string): number | null;
  finish(labels: Uint32Array): string[];
}

/** Classes listed in the config: ids in list order; other labels are skipped; each class needs rows. */
class ListedClasses implements ClassCoder {
  readonly #index: Map<string, number>;
  /** Rows seen of each class. */
  readonly #counts: number[];
  readonly #where: string;
  readonly #classesKey: string;
  readonly #labelColumn: string;

  constructor(classes: readonly string[], where: string, classesKey: string, labelColumn: string) {
    this.#index = listedClasses(classes, where, classesKey);
    this.#counts = new Array<number>(this.#index.size).fill(0);
    this.#where = where;
    this.#classesKey = classesKey;
    this.#labelColumn = labelColumn;
  }

  id(label: string): number | null {
    const k = this.#index.get(label);
    if (k === undefined) return null;
    this.#counts[k]++;
    return k;
  }

  finish(): string[] {
    const names = [...this.#index.keys()];
    const missing = this.#counts.indexOf(0);
    if (missing >= 0) {
      const [where, key] = [this.#where, this.#classesKey];
      throw new UsageError(
        `${where}: ${key} lists '${clip(names[missing])}' but ${where} has no row labelled so ` +
          `(column '${this.#labelColumn}'); remove it from ${key} or check its spelling` +
          (/^[-+.\d]/.test(names[missing]) ? ` (YAML reads 1.50 as 1.5: quote a label such as '1.50')` : ""),
      );
    }
    return names;
  }
}

/**
 * Every label in the file as a class: ids by first appearance while reading (the order is known only
 * at the end), renumbered into {@linkcode sortLabels}' order by `finish`.
 */
class FoundClasses implements ClassCoder {
  readonly #ids = new Map<string, number>();
  /** Each id's label. */
  readonly #labels: string[] = [];
  readonly #where: string;
  readonly #labelKey: string;
  readonly #labelColumn: string;

  constructor(where: string, labelKey: string, labelColumn: string) {
    this.#where = where;
    this.#labelKey = labelKey;
    this.#labelColumn = labelColumn;
  }

  id(label: string): number {
    let id = this.#ids.get(label);
    if (id === undefined) {
      id = this.#labels.length;
      this.#ids.set(label, id);
      this.#labels.push(label);
    }
    return id;
  }

  finish(labels: Uint32Array): string[] {
    if (this.#labels.length < 2) {
      throw new UsageError(
        `${this.#where}: every row is labelled '${clip(this.#labels[0])}' (column '${this.#labelColumn}'); ` +
          `a task needs at least 2 classes, so check ${this.#labelKey} or add rows of other classes`,
      );
    }
    const classNames = sortLabels(this.#labels);
    const order = new Uint32Array(classNames.length);
    classNames.forEach((name, k) => order[this.#ids.get(name)!] = k);
    for (let i = 0; i < labels.length; i++) labels[i] = order[labels[i]];
    return classNames;
  }
}

/**
 * The data rows of a task: the features (columns `picked`) and class ids (by `classes`) of the rows
 * it keeps, and how many rows it skipped because `classes` gave their label no id.
 */
function readTaskRows(
  reader: RecordReader,
  header: Header,
  picked: TaskColumns,
  classes: ClassCoder,
): { x: Float32Array<ArrayBuffer>; labels: Uint32Array<ArrayBuffer>; n: number; skipped: number } {
  const matrix = new FeatureMatrix(header, picked.features, picked.textHint);
  let labels = new Uint32Array(1024);
  let skipped = 0;
  for (const record of dataRecords(reader, header)) {
    const k = classes.id(readLabel(record, picked.label, header.where));
    if (k === null) {
      skipped++;
      continue;
    }
    matrix.add(record);
    if (matrix.n > labels.length) {
      const grown = new Uint32Array(labels.length * 2);
      grown.set(labels);
      labels = grown;
    }
    labels[matrix.n - 1] = k;
  }
  return { x: matrix.values(), labels: labels.slice(0, matrix.n), n: matrix.n, skipped };
}

/**
 * The data records after `header`, each checked to hold one value per header column; throws, once
 * the text is read, when there were none.
 */
function* dataRecords(reader: RecordReader, header: Header): Generator<CsvRecord> {
  const width = header.names.length;
  let any = false;
  for (let record = reader.next(); record !== null; record = reader.next()) {
    const count = record.fields.length;
    if (count !== width) {
      throw new UsageError(
        `${header.where}:${record.line}: the row has ${count} value${count === 1 ? "" : "s"}, the header ` +
          `${width}; give every row one value per header column (quote a value that holds a comma)`,
      );
    }
    any = true;
    yield record;
  }
  if (!any) {
    throw new UsageError(`${header.where}: has a header but no data rows; add rows below the header line`);
  }
}

/** `record`'s label: its value in `column`, trimmed; throws when it is empty. `where` is the quoted file. */
function readLabel({ fields, line }: CsvRecord, column: LabelColumn, where: string): string {
  const label = fields[column.index].trim();
  if (label === "") {
    throw new UsageError(
      `${where}:${line}: the label (column '${column.quoted}') is empty; give every row a label, ` +
        `or remove the row`,
    );
  }
  return label;
}

/**
 * The feature values of rows as they are read, row-major, in a buffer that doubles when full (the row
 * count is known only at the end), holding at most {@linkcode MAX_VALUES}.
 */
class FeatureMatrix {
  #x: Float32Array<ArrayBuffer>;
  #n = 0;
  /** Each feature's place in the header. */
  readonly #columns: readonly number[];
  /** Each feature's name, quoted for messages. */
  readonly #names: readonly string[];
  readonly #where: string;
  readonly #textHint: string;

  /** Values of `columns` of `header`'s file; `textHint` ends the message for a value that is text. */
  constructor(header: Header, columns: readonly number[], textHint = "") {
    this.#textHint = textHint;
    this.#columns = columns;
    this.#names = columns.map((i) => clip(header.names[i]));
    this.#where = header.where;
    this.#x = new Float32Array(Math.max(columns.length * 1024, 1024));
  }

  /** How many rows were added. */
  get n(): number {
    return this.#n;
  }

  /** Parses `record`'s feature values as the next row. */
  add({ fields, line }: CsvRecord): void {
    const features = this.#columns.length;
    const end = (this.#n + 1) * features;
    if (end > MAX_VALUES) {
      throw new UsageError(
        `${this.#where}:${line}: the file holds more than 2^31 values (rows × ${features} features); ` +
          `use fewer rows or feature columns`,
      );
    }
    if (end > this.#x.length) {
      const grown = new Float32Array(Math.min(this.#x.length * 2, MAX_VALUES));
      grown.set(this.#x);
      this.#x = grown;
    }
    const [x, columns, names, offset] = [this.#x, this.#columns, this.#names, end - features];
    for (let j = 0; j < features; j++) {
      x[offset + j] = parseValue(fields[columns[j]], this.#where, line, names[j], this.#textHint);
    }
    this.#n++;
  }

  /** The values of the rows added, `n × features` of them. */
  values(): Float32Array<ArrayBuffer> {
    return this.#x.slice(0, this.#n * this.#columns.length);
  }
}

/**
 * `raw` as a float32 feature value: trimmed, a finite decimal number within float32's range. `where`
 * (the quoted file), `line`, `column` (the column's quoted name) and `textHint` are for the message.
 */
function parseValue(raw: string, where: string, line: number, column: string, textHint: string): number {
  const text = raw.trim();
  const value = Number(text);
  if (Number.isFinite(value) && text !== "" && Math.abs(value) <= FLOAT32_MAX) {
    if (!radixPrefixed(text)) return value;
  }
  return refuseValue(text, value, `${where}:${line}: column '${column}'`, textHint);
}

/** Whether `text` starts `0x`, `0o` or `0b` (either case), which `Number` reads as hexadecimal, octal or binary. */
function radixPrefixed(text: string): boolean {
  if (text.length < 2 || text.charCodeAt(0) !== ZERO) return false;
  const c = text.charCodeAt(1) | 32;
  return c === 120 || c === 111 || c === 98;
}

/**
 * Throws the {@linkcode UsageError} for a feature value `text` (read as `value`) that `parseValue`
 * refuses; `textHint` ends the message when the value is text.
 */
function refuseValue(text: string, value: number, culprit: string, textHint: string): never {
  if (text === "") {
    throw new UsageError(
      `${culprit} is empty; fill in a number, or remove the row (missing values are not imputed)`,
    );
  }
  if (radixPrefixed(text) && !Number.isNaN(value)) {
    throw new UsageError(
      `${culprit} holds '${clip(text)}', not a decimal number; write it in decimal (like 0.5 or -1e3)`,
    );
  }
  if (!Number.isNaN(value) && !text.endsWith("Infinity")) {
    throw new UsageError(
      `${culprit} holds '${clip(text)}', beyond float32's range (±3.4028235e38); rescale the column`,
    );
  }
  throw new UsageError(
    `${culprit} holds '${
      clip(text)
    }', not a finite decimal number; write a number like 0.5 or -1e3${textHint}`,
  );
}

/** A finite decimal number (what {@linkcode parseValue} accepts, less the float32 bound), for sorting. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * `labels` in class order: numerically when every one is a decimal number (ties, such as `1` and
 * `1.0`, by code unit), else by code unit.
 */
function sortLabels(labels: readonly string[]): string[] {
  const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  if (labels.every((label) => DECIMAL.test(label))) {
    return [...labels].sort((a, b) => Number(a) - Number(b) || byCodeUnit(a, b));
  }
  return [...labels].sort(byCodeUnit);
}

/**
 * Reads `text` one record at a time. A line without a quote character is split on commas directly;
 * a record holding quotes is scanned field by field, its values built from slices, so each character
 * is visited a bounded number of times.
 */
class RecordReader {
  #pos: number;
  /** The 1-based line at `#pos`. */
  #line = 1;
  /** The next `"` at or after `#pos` (or text.length when none). */
  #nextQuote = -1;
  readonly #text: string;
  readonly #where: string;

  constructor(text: string, where: string) {
    if (text.includes("\r") && !text.includes("\n")) {
      throw new UsageError(
        `${where}:1: the file breaks its lines with CR alone (old Mac style); save it with LF or CRLF line ends`,
      );
    }
    this.#text = text;
    this.#where = where;
    this.#pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  }

  /** The next non-blank record, or null at the end of the text. */
  next(): CsvRecord | null {
    const text = this.#text;
    const length = text.length;
    while (this.#pos < length) {
      const start = this.#pos;
      let end = text.indexOf("\n", start);
      if (end < 0) end = length;
      if (this.#nextQuote < start) {
        const q = text.indexOf('"', start);
        this.#nextQuote = q < 0 ? length : q;
      }
      if (this.#nextQuote < end) return this.#quoted();
      const line = this.#line;
      this.#pos = end + 1;
      this.#line++;
      const contentEnd = end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end;
      const content = text.slice(start, contentEnd);
      if (content.trim() === "") continue; // a blank line
      return { fields: content.split(","), line };
    }
    return null;
  }

  /** The record at `#pos`, which holds a quote character somewhere on its first line. */
  #quoted(): CsvRecord {
    const text = this.#text;
    const start = this.#pos;
    const line = this.#line;
    const fields: string[] = [];
    for (let i = start;; i++) { // i++: past the comma
      i = text.charCodeAt(i) === QUOTE
        ? this.#quotedField(i, fields, line)
        : this.#plainField(i, fields, line);
      if (i >= text.length || text.charCodeAt(i) === LF) {
        this.#pos = i + 1;
        // only quoted values hold newlines, so the record's own are the lines it spans
        this.#line = line + countNewlines(text, start, i) + 1;
        return { fields, line };
      }
    }
  }

  /** Adds the quoted field opening at `start` to `fields`; returns where the field ends. */
  #quotedField(start: number, fields: string[], line: number): number {
    const text = this.#text;
    const parts: string[] = [];
    let from = start + 1;
    let q = text.indexOf('"', from);
    for (;; q = text.indexOf('"', from)) {
      if (q < 0) {
        throw this.#fieldError(
          line,
          fields,
          `opens a quote that is never closed; close it with " (and write a quote inside a quoted field as "")`,
        );
      }
      parts.push(text.slice(from, q));
      if (text.charCodeAt(q + 1) !== QUOTE) break;
      parts.push('"'); // a `""`
      from = q + 2;
    }
    const end = this.#afterClosingQuote(q + 1, fields, line);
    fields.push(parts.length === 1 ? parts[0] : parts.join(""));
    return end;
  }

  /** Where the field whose closing quote is just before `i` ends: at `i`, or past a CRLF's CR. */
  #afterClosingQuote(i: number, fields: string[], line: number): number {
    const text = this.#text;
    const length = text.length;
    const c = text.charCodeAt(i);
    const crlf = c === CR && (i + 1 === length || text.charCodeAt(i + 1) === LF);
    if (i < length && c !== COMMA && c !== LF && !crlf) {
      throw this.#fieldError(
        line,
        fields,
        `has text after its closing quote; quote the whole value, writing a quote inside it as ""`,
      );
    }
    return crlf ? i + 1 : i;
  }

  /** Adds the unquoted field starting at `start` to `fields` (less a CRLF's CR); returns where it ends. */
  #plainField(start: number, fields: string[], line: number): number {
    const text = this.#text;
    let end = start;
    for (; end < text.length; end++) {
      const c = text.charCodeAt(end);
      if (c === COMMA || c === LF) break;
      if (c === QUOTE) {
        throw this.#fieldError(
          line,
          fields,
          `holds a quote inside an unquoted value; quote the whole value and write the quote as ""`,
        );
      }
    }
    fields.push(text.slice(start, end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end));
    return end;
  }

  /** The error for the field after `fields` of the record on `line`, saying that it `what`. */
  #fieldError(line: number, fields: readonly string[], what: string): UsageError {
    return new UsageError(`${this.#where}:${line}: field ${fields.length + 1} ${what}`);
  }
}

/** How many `\n` characters `text` holds from `start` up to `end`. */
function countNewlines(text: string, start: number, end: number): number {
  let count = 0;
  for (let i = text.indexOf("\n", start); i >= 0 && i < end; i = text.indexOf("\n", i + 1)) count++;
  return count;
}
