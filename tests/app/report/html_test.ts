/** The index page: escaped text, one image per figure, the best row marked, no script. */

import assert from "node:assert/strict";
import { indexPage, type Page } from "../../../src/app/report/html.ts";

const PAGE: Page = {
  title: "Strategies <compared> & ranked",
  intro: `Five seeds; "best" is the highest mean accuracy.`,
  table: {
    header: ["strategy", "accuracy", "95 % CI"],
    rows: [
      ["scratch", "0.712", "[0.70, 0.72]"],
      ["full_finetune", "0.845", "[0.83, 0.86]"],
      ["<img src=x onerror=alert(1)>", "0.5", "-"],
    ],
    highlightRows: [1],
  },
  figures: [
    { file: "accuracy_vs_samples.svg", caption: "Accuracy vs. samples (mean & 95 % CI)" },
    { file: "loss per epoch #1.svg", caption: `"Loss" per epoch` },
  ],
  notes: ["Seeds 1..5 <same data>."],
};

Deno.test("the page is HTML5 with inline CSS and no script or network reference", () => {
  const html = indexPage(PAGE);
  assert.ok(html.startsWith("<!DOCTYPE html>\n"));
  assert.ok(html.includes(`<meta charset="utf-8">`) && html.includes("<style>"));
  assert.doesNotMatch(html, /<script|<link|http:|https:|@import|javascript:/i);
});

Deno.test("all text is escaped", () => {
  const html = indexPage(PAGE);
  assert.ok(html.includes("<h1>Strategies &lt;compared&gt; &amp; ranked</h1>"));
  assert.ok(html.includes("<p>Five seeds; &quot;best&quot; is the highest mean accuracy.</p>"));
  assert.ok(html.includes("<td>&lt;img src=x onerror=alert(1)&gt;</td>"));
  assert.ok(html.includes("<li>Seeds 1..5 &lt;same data&gt;.</li>"));
  assert.equal([...html.matchAll(/<img /g)].length, PAGE.figures.length, "only the figures' images are tags");
});

Deno.test("one image per figure, with its caption as alt text and figcaption", () => {
  const html = indexPage(PAGE);
  assert.ok(html.includes(
    `<img src="accuracy_vs_samples.svg" alt="Accuracy vs. samples (mean &amp; 95 % CI)">` +
      `<figcaption>Accuracy vs. samples (mean &amp; 95 % CI)</figcaption>`,
  ));
  assert.ok(html.includes(`<img src="loss%20per%20epoch%20%231.svg" alt="&quot;Loss&quot; per epoch">`));
  assert.equal([...html.matchAll(/<figure>/g)].length, 2);
});

Deno.test("the highlighted rows, and only they, are marked best", () => {
  const html = indexPage(PAGE);
  assert.equal([...html.matchAll(/class="best"/g)].length, 1);
  assert.ok(html.includes(`<tr class="best"><td>full_finetune</td>`));
  const plain = indexPage({ ...PAGE, table: { ...PAGE.table, highlightRows: undefined }, notes: undefined });
  assert.ok(!plain.includes(`class="best"`) && !plain.includes("<h2>Notes</h2>"));
});

Deno.test("a ragged table or a highlight outside it is rejected", () => {
  const ragged = { ...PAGE, table: { header: ["a", "b"], rows: [["x"]] } };
  assert.throws(() => indexPage(ragged), /row 0 has 1 cells/);
  for (const row of [-1, 3, 0.5]) {
    assert.throws(() => indexPage({ ...PAGE, table: { ...PAGE.table, highlightRows: [row] } }), RangeError);
  }
});
