/**
 * The comparison's index page: one standalone HTML5 file with the results table and the charts. Its CSS is
 * inline and it has no JavaScript and no network references, so it opens from disk, offline, as it is.
 *
 * @module
 */

import { escapeXml } from "./escape.ts";

/** A table of text cells; `highlightRows` (indices into `rows`) marks the best rows. */
export interface PageTable {
  /** Column headings; every row must have as many cells. */
  readonly header: readonly string[];
  /** Body rows of text cells (escaped); the first cell is left-aligned, the rest right-aligned. */
  readonly rows: readonly (readonly string[])[];
  /** Rows drawn bold and tinted, 0-based; none by default, and an index outside `rows` throws. */
  readonly highlightRows?: readonly number[];
}

/** A chart shown on the page: an image file, by its path relative to the page, and its caption (also its alt text). */
export interface PageFigure {
  /** The image's path relative to the page, `/`-separated; each segment is percent-encoded. */
  readonly file: string;
  /** Text shown under the image, and its alt text. */
  readonly caption: string;
}

/** What `indexPage` shows, top to bottom: title, intro, table, figures, notes. */
export interface Page {
  /** The page's `<title>` and its `<h1>` heading. */
  readonly title: string;
  /** A paragraph under the heading; none when absent. */
  readonly intro?: string;
  /** The results table, under the intro. */
  readonly table: PageTable;
  /** Charts under the table, in this order, each in a `<figure>` with its caption. */
  readonly figures: readonly PageFigure[];
  /** Items of a closing "Notes" list; no list when absent or empty. */
  readonly notes?: readonly string[];
}

/**
 * The first column names the row and reads left-aligned; the others hold numbers, right-aligned in
 * tabular figures so that digits line up. The best row is bold as well as tinted, for readers who cannot
 * tell the tint apart.
 */
const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: 0.35rem 0.8rem; border-bottom: 1px solid #ddd; }
th { text-align: left; border-bottom: 2px solid #555; }
td:not(:first-child), th:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
tr.best { background: #e8f1fa; font-weight: bold; }
figure { margin: 2rem 0; }
img { max-width: 100%; height: auto; }
figcaption { color: #444; margin-top: 0.4rem; }
`;

/** The page as HTML text. Throws a RangeError for a ragged table or a highlighted row outside it. */
export function indexPage(page: Page): string {
  return [
    "<!DOCTYPE html>",
    `<html lang="en">`,
    "<head>",
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeXml(page.title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    `<h1>${escapeXml(page.title)}</h1>`,
    ...(page.intro === undefined ? [] : [`<p>${escapeXml(page.intro)}</p>`]),
    table(page.table),
    ...page.figures.map(figure),
    ...notes(page.notes ?? []),
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

function table(t: PageTable): string {
  t.rows.forEach((row, i) => {
    if (row.length !== t.header.length) {
      throw new RangeError(`table row ${i} has ${row.length} cells, but the header has ${t.header.length}`);
    }
  });
  const best = new Set(t.highlightRows ?? []);
  for (const row of best) {
    if (!(Number.isInteger(row) && row >= 0 && row < t.rows.length)) {
      throw new RangeError(`highlighted row ${row} is not a row of the table (0..${t.rows.length - 1})`);
    }
  }
  const cells = (tag: string, row: readonly string[]) =>
    row.map((cell) => `<${tag}>${escapeXml(cell)}</${tag}>`).join("");
  const body = t.rows.map((row, i) => `<tr${best.has(i) ? ` class="best"` : ""}>${cells("td", row)}</tr>`);
  return [
    "<table>",
    `<thead><tr>${cells("th", t.header)}</tr></thead>`,
    "<tbody>",
    ...body,
    "</tbody>",
    "</table>",
  ].join("\n");
}

function figure(f: PageFigure): string {
  // Percent-encoding each path segment keeps a '#', '?' or space in a file name from being read as URL syntax.
  const src = f.file.split("/").map(encodeURIComponent).join("/");
  const caption = escapeXml(f.caption);
  return `<figure><img src="${escapeXml(src)}" alt="${caption}"><figcaption>${caption}</figcaption></figure>`;
}

function notes(items: readonly string[]): string[] {
  if (items.length === 0) return [];
  return ["<h2>Notes</h2>", "<ul>", ...items.map((note) => `<li>${escapeXml(note)}</li>`), "</ul>"];
}
