/** CSV output: quoting, numbers, nulls and ragged rows, checked by reading it back with a parser of its own. */

import assert from "node:assert/strict";
import { toCsv } from "../../src/app/csv_write.ts";

/** A small RFC 4180 reader, written independently of the writer: quoted fields may hold anything. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n") {
      rows.push([...row, field]);
      row = [];
      field = "";
    } else field += c;
  }
  assert.equal(quoted, false, "unterminated quote");
  assert.equal(row.length + field.length, 0, "the last record must end with a line feed");
  return rows;
}

Deno.test("plain values are written as they are, one LF-terminated line per record", () => {
  const csv = toCsv(["strategy", "seed", "accuracy", "converged"], [["scratch", 1, 0.5, true]]);
  assert.equal(csv, "strategy,seed,accuracy,converged\nscratch,1,0.5,true\n");
});

Deno.test("awkward text round-trips through quoting", () => {
  const awkward = [
    'say "hi"',
    "a,b",
    "line\nbreak",
    "carriage\rreturn",
    "crlf\r\n",
    '"',
    ",",
    " padded ",
    "",
  ];
  const csv = toCsv(["value"], awkward.map((v) => [v]));
  assert.deepEqual(parseCsv(csv), [["value"], ...awkward.map((v) => [v])]);
  assert.ok(csv.includes('"say ""hi"""'));
});

Deno.test("numbers keep full precision, null is an empty field", () => {
  const values = [0.1 + 0.2, 1 / 3, -1e-300, 123456789012345680000, 0];
  const csv = toCsv(["x", "missing"], values.map((v) => [v, null]));
  const rows = parseCsv(csv).slice(1);
  assert.deepEqual(rows.map((r) => Number(r[0])), values);
  assert.deepEqual(rows.map((r) => r[1]), values.map(() => ""));
  assert.ok(csv.includes("0.30000000000000004,"));
});

Deno.test("a header alone is one line; quoted header cells too", () => {
  assert.equal(toCsv(["a", "b,c"], []), 'a,"b,c"\n');
});

Deno.test("a row whose length differs from the header's is rejected", () => {
  assert.throws(() => toCsv(["a", "b"], [["x", 1], ["y"]]), /row 1 has 1 fields, but the header has 2/);
  assert.throws(() => toCsv(["a"], [["x", 1]]), RangeError);
});
