/**
 * Comma-separated values (RFC 4180), for tables that spreadsheets and pandas read as they are.
 *
 * @module
 */

/** One field: numbers keep their full precision, null is an empty field. */
export type CsvValue = string | number | boolean | null;

/**
 * The CSV text of a header and rows, each line ended by LF (RFC 4180 asks for CRLF, but every CSV reader
 * accepts LF, and LF keeps the file diffable with line-based tools on every platform). A field holding a
 * comma, a double quote, CR or LF is quoted, its quotes doubled. Numbers are written as `String(n)`, the
 * shortest text that reads back as the same double. Throws a RangeError when a row's length differs from the
 * header's, since a ragged table shifts every later column under the wrong name.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  rows.forEach((row, i) => {
    if (row.length !== header.length) {
      throw new RangeError(`CSV row ${i} has ${row.length} fields, but the header has ${header.length}`);
    }
  });
  return [header, ...rows].map((row) => row.map(field).join(",") + "\n").join("");
}

function field(value: CsvValue): string {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
