/**
 * Tests for src/app/csv_data.ts: shapes, values and label indices of parsed CSV files against
 * hand-written expectations, the class order rules, skipped rows, RFC 4180 quoting (commas, `""` and
 * newlines inside quotes, CRLF, a BOM, blank lines), and every error, by its `FILE:LINE:` message;
 * then `parseCsvRows`, the reader of rows to predict on: columns picked by name, labels when present,
 * line numbers, and its errors.
 */

import assert from "node:assert/strict";
import { type CsvColumns, parseCsvPool, parseCsvRows } from "../../src/app/csv_data.ts";
import { UsageError } from "../../src/core/errors.ts";

const FILE = "data/source.csv";
const KEY = "data.source";
const ALL: CsvColumns = { label: "y", features: null, classes: null };

const parse = (text: string, columns: Partial<CsvColumns> = {}) =>
  parseCsvPool(text, FILE, { ...ALL, ...columns }, KEY);

/** Asserts that parsing throws a one-line UsageError whose message matches `pattern`. */
function throwsUsage(text: string, columns: Partial<CsvColumns>, pattern: RegExp): void {
  assert.throws(() => parse(text, columns), (error: unknown) => {
    assert.ok(error instanceof UsageError, `not a UsageError: ${error}`);
    assert.ok(!error.message.includes("\n"), `not one line: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("a plain file: shape, values, labels, names and origin", () => {
  const { pool, skipped } = parse("a,y,b\n1,cat,2.5\n-3,dog,4e2\n0.125,cat,-0\n");
  assert.equal(skipped, 0);
  assert.equal(pool.n, 3);
  assert.equal(pool.features, 2);
  assert.deepEqual(pool.featureNames, ["a", "b"]);
  assert.deepEqual(pool.classNames, ["cat", "dog"]);
  assert.deepEqual([...pool.x], [1, 2.5, -3, 400, 0.125, -0]);
  assert.deepEqual([...pool.labels], [0, 1, 0]);
  assert.equal(pool.origin, FILE);
  assert.ok(pool.x instanceof Float32Array && pool.x.length === 6);
  assert.ok(pool.labels instanceof Uint32Array && pool.labels.length === 3);
});

Deno.test("values are rounded to float32 and may carry spaces, signs and exponents", () => {
  const { pool } = parse("y,a,b,c\n0, 0.1 ,+7,.5\n1,1E-3,5.,-2e+1\n");
  assert.deepEqual([...pool.x], [Math.fround(0.1), 7, 0.5, Math.fround(0.001), 5, -20]);
});

Deno.test("the features key picks and orders columns", () => {
  const { pool } = parse("a,b,y,c\n1,2,x,3\n4,5,z,6\n", { features: ["c", "a"] });
  assert.deepEqual(pool.featureNames, ["c", "a"]);
  assert.deepEqual([...pool.x], [3, 1, 6, 4]);
  // an unlisted column need not hold numbers
  const loose = parse("a,note,y\n1,hello,p\n2,,q\n", { features: ["a"] });
  assert.deepEqual([...loose.pool.x], [1, 2]);
});

Deno.test("labels sort numerically when all are numbers, else by code unit", () => {
  const numeric = parse("y,a\n10,1\n9,2\n-1,3\n2.5,4\n9,5\n");
  assert.deepEqual(numeric.pool.classNames, ["-1", "2.5", "9", "10"]);
  assert.deepEqual([...numeric.pool.labels], [3, 2, 0, 1, 2]);
  const text = parse("y,a\n10,1\n9,2\nb,3\nB,4\n");
  assert.deepEqual(text.pool.classNames, ["10", "9", "B", "b"]);
  assert.deepEqual([...text.pool.labels], [0, 1, 3, 2]);
  // labels are trimmed: " a" and "a" are one class
  const trimmed = parse("y,a\n a ,1\na,2\nb,3\n");
  assert.deepEqual(trimmed.pool.classNames, ["a", "b"]);
  assert.deepEqual([...trimmed.pool.labels], [0, 0, 1]);
});

Deno.test("listed classes set the order and skip the other rows", () => {
  const text = "y,a\nc,1\na,2\nb,3\nc,4\nd,5\na,6\n";
  const { pool, skipped } = parse(text, { classes: ["c", "a"] });
  assert.deepEqual(pool.classNames, ["c", "a"]);
  assert.equal(skipped, 2);
  assert.equal(pool.n, 4);
  assert.deepEqual([...pool.x], [1, 2, 4, 6]);
  assert.deepEqual([...pool.labels], [0, 1, 0, 1]);
  // a skipped row's features are not read
  const other = parse("y,a\nc,1\nz,oops\na,2\n", { classes: ["a", "c"] });
  assert.equal(other.skipped, 1);
  assert.deepEqual([...other.pool.labels], [1, 0]);
});

Deno.test("quoted fields hold commas, quotes and newlines; line numbers count the lines inside", () => {
  const text = 'id,"y","note, free",a\n' +
    '1,"x,1","say ""hi""",2\n' +
    '2,"x\n2","two\r\nlines",3\n' +
    "3,x2,plain,4\n";
  const { pool } = parse(text, { features: ["id", "a"] });
  assert.deepEqual(pool.classNames, ["x\n2", "x,1", "x2"]);
  assert.deepEqual([...pool.labels], [1, 0, 2]);
  assert.deepEqual([...pool.x], [1, 2, 2, 3, 3, 4]);
  // header names come unquoted and trimmed
  const named = parse('" p ",y,"q,r"\n1,a,2\n3,b,4\n');
  assert.deepEqual(named.pool.featureNames, ["p", "q,r"]);
  // the record after the three-line one starts on line 6: its error says so
  throwsUsage(
    text.replace("3,x2,plain,4", "3,x2,plain,bad"),
    { features: ["id", "a"] },
    /^data\/source\.csv:6: column 'a' holds 'bad'/,
  );
  // a quoted feature value is a number too (a skipped row's `"` is not read); `""` is an empty value
  const quotedNumbers = parse('y,a\n"p","1.5"\nq,""""\nr,2\n', { classes: ["p", "r"] });
  assert.deepEqual([...quotedNumbers.pool.x], [1.5, 2]);
  assert.equal(quotedNumbers.skipped, 1);
  throwsUsage('y,a\np,1\nq,""\n', {}, /^data\/source\.csv:3: column 'a' is empty/);
});

Deno.test("a BOM, CRLF line ends, blank lines and no final newline", () => {
  const text = "\ufeffa,y\r\n\r\n1,p\r\n   \r\n2,q\r\n\n3,p";
  const { pool } = parse(text);
  assert.deepEqual(pool.featureNames, ["a"]);
  assert.deepEqual([...pool.x], [1, 2, 3]);
  assert.deepEqual([...pool.labels], [0, 1, 0]);
  // the blank lines still count: the bad row is on line 7
  throwsUsage(
    "\ufeffa,y\r\n\r\n1,p\r\n   \r\n2,q\r\n\nx,p",
    {},
    /^data\/source\.csv:7: column 'a' holds 'x'/,
  );
  // blank lines before the header count as well
  throwsUsage("\n\na,a\n1,2\n", { label: "a" }, /^data\/source\.csv:3: the header names column 'a' twice/);
});

Deno.test("a large file parses in one pass and quickly", () => {
  const rows = 200_000;
  const lines = ["y,f0,f1,f2,f3"];
  for (let i = 0; i < rows; i++) lines.push(`${i % 3},${i},${i * 0.5},-${i},1e-3`);
  const text = lines.join("\n");
  assert.ok(text.length > 5_000_000);
  const start = performance.now();
  const { pool } = parse(text);
  const seconds = (performance.now() - start) / 1000;
  assert.equal(pool.n, rows);
  assert.equal(pool.x[4 * (rows - 1) + 0], rows - 1);
  assert.equal(pool.labels[rows - 1], (rows - 1) % 3);
  assert.ok(seconds < 5, `took ${seconds} s`);
});

Deno.test("header errors name the problem on line 1", () => {
  throwsUsage("", {}, /^data\/source\.csv:1: the file is empty; a CSV needs a header/);
  throwsUsage("\ufeff\n\n", {}, /^data\/source\.csv:1: the file is empty/);
  throwsUsage(
    "a,y,a\n1,2,3\n",
    {},
    /^data\/source\.csv:1: the header names column 'a' twice \(columns 1 and 3\)/,
  );
  throwsUsage("a, a ,y\n", {}, /^data\/source\.csv:1: the header names column 'a' twice/);
  throwsUsage(
    "a,,y\n1,2,3\n",
    {},
    /^data\/source\.csv:1: column 2 of the header has no name; name every column/,
  );
  throwsUsage("a,y,\n", {}, /^data\/source\.csv:1: column 3 of the header has no name/);
  throwsUsage(
    "a,b,c\n1,2,3\n",
    {},
    /^data\/source\.csv:1: no column 'y' \(data\.source\.label\); the header's columns are a, b, c; set data\.source\.label/,
  );
  throwsUsage(
    "a,y\n1,2\n",
    { features: ["a", "zz"] },
    /^data\/source\.csv:1: no column 'zz' \(listed in data\.source\.features\); the header's columns are a, y; fix data\.source\.features$/,
  );
  throwsUsage(
    "a,y\n1,2\n",
    { features: ["a", "y"] },
    /^data\/source\.csv:1: data\.source\.features lists the label column 'y'; remove it from data\.source\.features/,
  );
  throwsUsage(
    "a,y\n1,2\n",
    { features: ["a", "a"] },
    /^data\/source\.csv:1: data\.source\.features lists 'a' twice/,
  );
  throwsUsage(
    "a,y\n1,2\n",
    { features: [] },
    /^data\/source\.csv:1: data\.source\.features is an empty list/,
  );
  throwsUsage(
    "y\n1\n",
    {},
    /^data\/source\.csv:1: the header has only the label column 'y'; add feature columns/,
  );
  // a long header list is clipped
  const wide = Array.from({ length: 100 }, (_, i) => `column_${i}`).join(",");
  throwsUsage(`${wide}\n`, {}, /the header's columns are column_0, column_1, .*…; set data\.source\.label/);
});

Deno.test("row errors name the row's first line", () => {
  throwsUsage(
    "a,b,y\n1,2,p\n3,q\n",
    {},
    /^data\/source\.csv:3: the row has 2 values, the header 3; give every row/,
  );
  throwsUsage("a,y\n1,p\n2,q,\n", {}, /^data\/source\.csv:3: the row has 3 values, the header 2/);
  throwsUsage("a,y\n1,p\n,q\n", {}, /^data\/source\.csv:3: column 'a' is empty; fill in a number/);
  throwsUsage("a,y\n1,p\n  ,q\n", {}, /^data\/source\.csv:3: column 'a' is empty/);
  throwsUsage(
    "a,y\n1,\n",
    {},
    /^data\/source\.csv:2: the label \(column 'y'\) is empty; give every row a label/,
  );
  throwsUsage(
    "a,y\n1,p\n1, \n",
    { classes: ["p", "q"] },
    /^data\/source\.csv:3: the label \(column 'y'\) is empty/,
  );
  for (const bad of ["NaN", "Infinity", "-Infinity", "abc", "1,5", "1_000", "--1", "1e", "e5"]) {
    const value = bad.includes(",") ? `"${bad}"` : bad;
    throwsUsage(
      `a,y\n1,p\n${value},q\n`,
      {},
      new RegExp(
        `^data/source\\.csv:3: column 'a' holds '${bad}', not a finite decimal number; write a number`,
      ),
    );
  }
  // With the features left to default (every other column), a text column may simply not be a feature.
  throwsUsage(
    "name,a,y\nn0,1,p\nn1,2,q\n",
    {},
    /^data\/source\.csv:2: column 'name' holds 'n0', not a finite decimal number; write a number like 0\.5 or -1e3, or, if the column is not a feature, list the features in data\.source\.features to leave it out$/,
  );
  throwsUsage(
    "name,a,y\nn0,1,p\nn1,2,q\n",
    { features: ["name", "a"] },
    /holds 'n0', not a finite decimal number; write a number like 0\.5 or -1e3$/,
  );
  for (const bad of ["0x1F", "0X10", "0o7", "0b101"]) {
    throwsUsage(
      `a,y\n1,p\n${bad},q\n`,
      {},
      new RegExp(
        `^data/source\\.csv:3: column 'a' holds '${bad}', not a decimal number; write it in decimal`,
      ),
    );
  }
  for (const big of ["3.5e38", "-1e39", "1e400"]) {
    throwsUsage(
      `a,y\n1,p\n${big},q\n`,
      {},
      new RegExp(`^data/source\\.csv:3: column 'a' holds '${big}', beyond float32's range`),
    );
  }
  // the largest float32 itself is fine
  assert.equal(parse("a,y\n3.4028234663852886e38,p\n1,q\n").pool.x[0], 3.4028234663852886e38);
  // a value's quote is clipped and escaped
  throwsUsage(`a,y\n1,p\n"${"z".repeat(300)}\tq",q\n`, {}, /holds 'z{80}…', not a finite/);
});

Deno.test("quote errors name the record's first line", () => {
  throwsUsage(
    'a,y\n1,p\n2,"q\n3,r\n',
    {},
    /^data\/source\.csv:3: field 2 opens a quote that is never closed/,
  );
  throwsUsage('a,y\n1,p\n"2"x,q\n', {}, /^data\/source\.csv:3: field 1 has text after its closing quote/);
  throwsUsage(
    'a,y\n1,p\n2,q"r\n',
    {},
    /^data\/source\.csv:3: field 2 holds a quote inside an unquoted value/,
  );
  // a newline inside a quote is escaped in the message, and the lines after it are counted
  throwsUsage('a,y\n"1\n\nx",p\n', {}, /^data\/source\.csv:2: column 'a' holds '1\\n\\nx', not a finite/);
  throwsUsage('a,y\n"1\n\n",p\n2,"q"\n3,\n', {}, /^data\/source\.csv:6: the label \(column 'y'\) is empty/);
});

Deno.test("file-level errors: no rows, one class, bad class lists", () => {
  throwsUsage("a,y\n\n\n", {}, /^data\/source\.csv: has a header but no data rows; add rows/);
  throwsUsage(
    "a,y\n1,p\n2,p\n",
    {},
    /^data\/source\.csv: every row is labelled 'p' \(column 'y'\); a task needs at least 2 classes/,
  );
  throwsUsage(
    "a,y\n1,p\n2,q\n",
    { classes: ["p", "x"] },
    /^data\/source\.csv: data\.source\.classes lists 'x' but data\/source\.csv has no row labelled so \(column 'y'\); remove it/,
  );
  throwsUsage(
    "a,y\n1,p\n2,q\n",
    { classes: ["p", "q", "p"] },
    /^data\/source\.csv: data\.source\.classes lists 'p' twice/,
  );
  throwsUsage(
    "a,y\n1,p\n2,q\n",
    { classes: ["p"] },
    /^data\/source\.csv: data\.source\.classes lists 1 class; a task needs at least 2/,
  );
  throwsUsage(
    "a,y\n1,p\n2,q\n",
    { classes: [] },
    /^data\/source\.csv: data\.source\.classes lists 0 classes/,
  );
  // every row skipped: the listed classes have no rows
  throwsUsage(
    "a,y\n1,p\n2,q\n",
    { classes: ["r", "s"] },
    /classes lists 'r' but data\/source\.csv has no row/,
  );
});

Deno.test("the file's path is clipped and escaped in messages; the pool keeps it whole", () => {
  const long = `${"d/".repeat(150)}x\n.csv`;
  assert.throws(
    () => parseCsvPool("a,y\n1,p\n", long, ALL, KEY),
    (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.ok(!error.message.includes("\n"));
      assert.match(error.message, /^(d\/){100}…: every row is labelled/);
      return true;
    },
  );
  const odd = "odd\npath.csv";
  assert.equal(parseCsvPool("a,y\n1,p\n2,q\n", odd, ALL, KEY).pool.origin, odd);
});

// parseCsvRows: rows to predict on, for a model trained on the columns `features`.

const rows = (text: string, features: readonly string[] = ["a", "b"], label: string | null = "y") =>
  parseCsvRows(text, FILE, features, label, "--input");

/** Asserts that `parseCsvRows` throws a one-line UsageError whose message matches `pattern`. */
function rowsThrow(text: string, features: readonly string[], label: string | null, pattern: RegExp): void {
  assert.throws(() => rows(text, features, label), (error: unknown) => {
    assert.ok(error instanceof UsageError, `not a UsageError: ${error}`);
    assert.ok(!error.message.includes("\n"), `not one line: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("parseCsvRows: values in the order of `features`, extra columns ignored", () => {
  const text = "b,note,y,a,extra\n2,hello,p,1,\n4,,q, -3 ,x\n0.1,?,p,5e1,NaN\n";
  const read = rows(text);
  assert.equal(read.n, 3);
  assert.ok(read.x instanceof Float32Array && read.x.length === 6);
  assert.deepEqual([...read.x], [1, 2, -3, 4, 50, Math.fround(0.1)]);
  assert.deepEqual(read.labels, ["p", "q", "p"]);
  assert.deepEqual(read.lines, [2, 3, 4]);
  // another order of the same columns, and a single one
  assert.deepEqual([...rows(text, ["b", "a"]).x], [2, 1, 4, -3, Math.fround(0.1), 50]);
  assert.deepEqual([...rows(text, ["a"], null).x], [1, -3, 50]);
});

Deno.test("parseCsvRows: labels are read, trimmed, only when the label column is there", () => {
  const text = 'a,b,y\n1,2, cat \n3,4,"dog"\n';
  assert.deepEqual(rows(text).labels, ["cat", "dog"]);
  // no such column, or no label asked for: null, and the column is not read
  assert.equal(rows(text, ["a", "b"], "label").labels, null);
  assert.equal(rows("a,b,y\n1,2,\n", ["a", "b"], null).labels, null);
  assert.equal(rows("a,b\n1,2\n").labels, null);
  assert.deepEqual([...rows("a,b\n1,2\n").x], [1, 2]);
});

Deno.test("parseCsvRows: line numbers count blank lines, a BOM, CRLF and newlines inside quotes", () => {
  const text = '\ufeff\r\na,b\r\n1,2\r\n\r\n"3\n",4\r\n5,"\n\n6"\n7,8';
  const read = rows(text, ["a", "b"], null);
  assert.deepEqual([...read.x], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(read.lines, [3, 5, 7, 10]);
});

Deno.test("parseCsvRows: a missing feature column names the model's columns and the flag", () => {
  rowsThrow(
    "a,y\n1,p\n",
    ["a", "b"],
    "y",
    /^data\/source\.csv:1: no column 'b'; the model was trained on the columns a, b; give --input a CSV with them$/,
  );
  // the header's own line, after blank lines; the first missing column is named
  rowsThrow("\n\nz,y\n1,p\n", ["a", "b"], "y", /^data\/source\.csv:3: no column 'a';/);
  // a long list of columns is clipped
  const pixels = Array.from({ length: 784 }, (_, i) => `pixel${i}`);
  rowsThrow(
    "pixel0,y\n1,p\n",
    pixels,
    "y",
    /: no column 'pixel1'; the model was trained on the columns pixel0, pixel1, .{40,80}…; give --input/,
  );
  // the label column is not required
  assert.doesNotThrow(() => rows("a,b\n1,2\n", ["a", "b"], "y"));
});

Deno.test("parseCsvRows: errors of the file and its rows, on the right line", () => {
  rowsThrow(
    "",
    ["a", "b"],
    "y",
    /^data\/source\.csv:1: the file is empty; give --input a CSV whose header line names the model's columns \(a, b\)$/,
  );
  rowsThrow("a,b,y\n\n\n", ["a", "b"], "y", /^data\/source\.csv: has a header but no data rows; add rows/);
  rowsThrow("a,a,b\n1,2,3\n", ["a", "b"], null, /^data\/source\.csv:1: the header names column 'a' twice/);
  rowsThrow(
    "a,b,y\n1,2,p\n3,4\n",
    ["a", "b"],
    "y",
    /^data\/source\.csv:3: the row has 2 values, the header 3;/,
  );
  rowsThrow("a,b,y\n1,2,p\n\n3, ,q\n", ["a", "b"], "y", /^data\/source\.csv:4: column 'b' is empty; fill in/);
  rowsThrow(
    'a,b\n"1\n",2\n3,abc\n',
    ["a", "b"],
    null,
    /^data\/source\.csv:4: column 'b' holds 'abc', not a finite decimal number/,
  );
  rowsThrow(
    "a,b\n1,2\n0x10,2\n",
    ["a", "b"],
    null,
    /^data\/source\.csv:3: column 'a' holds '0x10', not a decimal/,
  );
  rowsThrow(
    "a,b\n1,2\n1e39,2\n",
    ["a", "b"],
    null,
    /^data\/source\.csv:3: column 'a' holds '1e39', beyond float32's/,
  );
  rowsThrow(
    "a,b,y\n1,2,p\n3,4, \n",
    ["a", "b"],
    "y",
    /^data\/source\.csv:3: the label \(column 'y'\) is empty; give every row a label/,
  );
  // an ignored column is not read: an empty or non-numeric value there is fine
  assert.deepEqual([...rows("a,b,c\n1,2,\n3,4,x\n", ["a", "b"], null).x], [1, 2, 3, 4]);
});
