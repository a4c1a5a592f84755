/** Line charts: well-formed, self-contained SVG with one group and one legend entry per series. */

import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { type ChartSeries, type ChartSpec, lineChart } from "../../../src/app/report/svg.ts";

const STRATEGIES = ["feature_extractor", "head_finetune", "full_finetune", "scratch"];

/** Accuracy against target sample counts, with a band, for every strategy. */
function sampleSweep(xScale: "linear" | "log" = "log"): ChartSpec {
  const counts = [25, 50, 100, 200, 400, 800];
  const series = STRATEGIES.map((name, s): ChartSeries => ({
    name,
    points: counts.map((n) => {
      const y = 0.6 + 0.3 * (1 - Math.exp(-n / (100 * (s + 1))));
      return { x: n, y, low: y - 0.03, high: y + 0.03 };
    }),
  }));
  return { title: "Accuracy vs. samples", xLabel: "target samples", yLabel: "accuracy", xScale, series };
}

/** Checks what every chart must be, and returns it. */
function wellFormed(svg: string): string {
  assert.equal(XMLValidator.validate(svg), true);
  assert.ok(svg.includes(`xmlns="http://www.w3.org/2000/svg"`));
  assert.match(svg, /<svg [^>]*width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
  assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
  assert.doesNotMatch(svg, /<script|href|url\(|@import|@font-face/i);
  for (const size of svg.matchAll(/font-size="([\d.]+)"/g)) assert.ok(Number(size[1]) >= 12, size[0]);
  return svg;
}

const count = (svg: string, pattern: RegExp) => [...svg.matchAll(pattern)].length;

Deno.test("a sample sweep on a log axis: one series group and one legend entry per strategy, bands, 1-2-5 ticks", () => {
  const svg = wellFormed(lineChart(sampleSweep()));
  assert.equal(count(svg, /<g class="series"/g), 4);
  assert.equal(count(svg, /<g class="legend-entry"/g), 4);
  assert.equal(count(svg, /<polygon [^>]*fill-opacity="0.15"/g), 4);
  for (const name of STRATEGIES) assert.ok(svg.includes(`data-name="${name}"`));
  for (const tick of [20, 50, 100, 200, 500, 1000]) {
    assert.ok(svg.includes(`>${tick}</text>`), `tick ${tick}`);
  }
});

Deno.test("the legend lies to the right of the plot area", () => {
  const svg = lineChart(sampleSweep("linear"));
  const plotRight = Math.max(
    ...[...svg.matchAll(/<polyline points="([^"]+)"/g)].flatMap((m) =>
      m[1].split(" ").map((xy) => Number(xy.split(",")[0]))
    ),
  );
  const axisRight = Number(
    svg.match(/<g class="axes"[^>]*>\n<line x1="[\d.]+" y1="[\d.]+" x2="([\d.]+)"/)![1],
  );
  const legendX = Number(svg.match(/<g class="legend" transform="translate\(([\d.]+) /)![1]);
  assert.ok(plotRight <= axisRight && axisRight < legendX, `${plotRight} <= ${axisRight} < ${legendX}`);
  const width = Number(svg.match(/<svg [^>]*width="(\d+)"/)![1]);
  // The longest name, at the legend's 13 px and a narrow half an em per character, still fits.
  assert.ok(legendX + "feature_extractor".length * 13 / 2 < width, "the legend fits in the picture");
});

Deno.test("text is escaped, and the parsed title reads as given", () => {
  const awkward = `A <b> & "quoted" 'text'`;
  const svg = wellFormed(lineChart({
    title: awkward,
    xLabel: "x < 1",
    yLabel: "y & z",
    series: [{ name: `<script>"&"`, points: [{ x: 1, y: 2 }, { x: 2, y: 3 }] }],
  }));
  assert.ok(!svg.includes("<b>") && !svg.includes("<script"));
  assert.ok(svg.includes("&lt;b&gt; &amp; &quot;quoted&quot;"));
  const parsed = new XMLParser({ ignoreAttributes: false }).parse(svg);
  assert.equal(parsed.svg.title, awkward);
});

Deno.test("a single point, and all-equal values, get a padded domain", () => {
  const single = wellFormed(lineChart({
    title: "one",
    xLabel: "x",
    yLabel: "y",
    series: [{ name: "s", points: [{ x: 100, y: 0.8, low: 0.75, high: 0.85 }] }],
  }));
  assert.equal(count(single, /<circle /g), 2, "the point's marker and the legend's");
  assert.ok(!single.includes("<polyline"), "no line through a single point");
  const flat = wellFormed(lineChart({
    title: "flat",
    xLabel: "x",
    yLabel: "y",
    series: [{ name: "zero", points: [{ x: 0, y: 0 }, { x: 0, y: 0 }] }],
  }));
  assert.ok(flat.includes(">-1.0</text>") && flat.includes(">1.0</text>"), "0 is padded to [-1, 1]");
});

Deno.test("epochs 1..20 and relatedness 0..1 get round tick labels with one number of decimals", () => {
  const epochs = wellFormed(lineChart({
    title: "loss per epoch",
    xLabel: "epoch",
    yLabel: "loss",
    series: [{ name: "s", points: Array.from({ length: 20 }, (_, e) => ({ x: e + 1, y: 2 / (e + 1) })) }],
  }));
  for (const tick of [0, 5, 10, 15, 20]) assert.ok(epochs.includes(`>${tick}</text>`), `epoch ${tick}`);
  const relatedness = wellFormed(lineChart({
    title: "gain vs. relatedness",
    xLabel: "relatedness",
    yLabel: "gain",
    series: [{ name: "s", points: [0, 0.5, 1].map((r) => ({ x: r, y: r })) }],
  }));
  for (const tick of ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]) {
    assert.ok(relatedness.includes(`>${tick}</text>`));
  }
});

Deno.test("past seven series the palette repeats with dashes, so no two series look alike", () => {
  const series = Array.from(
    { length: 10 },
    (_, i) => ({ name: `s${i}`, points: [{ x: 0, y: i }, { x: 1, y: i }] }),
  );
  const svg = wellFormed(lineChart({ title: "many", xLabel: "x", yLabel: "y", series }));
  assert.equal(count(svg, /<g class="series"/g), 10);
  assert.equal(count(svg, /<g class="legend-entry"/g), 10);
  const looks = [
    ...svg.matchAll(/<polyline [^>]*stroke="(#[0-9A-F]{6})"[^>]*?(?:stroke-dasharray="([^"]+)")?\/>/g),
  ]
    .map((m) => `${m[1]} ${m[2] ?? "solid"}`);
  assert.equal(new Set(looks).size, 10, looks.join(", "));
});

Deno.test("nine lone points (no line to dash) all look different: past seven series the markers change shape", () => {
  const series = Array.from({ length: 9 }, (_, i) => ({ name: `s${i}`, points: [{ x: 0, y: i }] }));
  const svg = wellFormed(lineChart({ title: "lone", xLabel: "x", yLabel: "y", series }));
  const groups = [...svg.matchAll(/<g class="series" data-name="s\d">\n([^\n]+)\n<\/g>/g)].map((m) => m[1]);
  assert.equal(groups.length, 9);
  const looks = groups.map((marker) => `${marker.split(" ")[0]} ${marker.match(/fill="([^"]+)"/)![1]}`);
  assert.equal(new Set(looks).size, 9, looks.join(", "));
  assert.deepEqual(looks.slice(0, 7).map((look) => look.split(" ")[0]), Array(7).fill("<circle"));
  assert.deepEqual(looks.slice(7).map((look) => look.split(" ")[0]), ["<rect", "<rect"]);
  // The legend draws each series' marker as its series does; no marker is drawn as a band's polygon.
  assert.equal(count(svg, /<rect x=/g), 2 * 2);
  assert.equal(count(svg, /<polygon/g), 0);
  const many = wellFormed(lineChart({
    title: "many",
    xLabel: "x",
    yLabel: "y",
    series: Array.from({ length: 28 }, (_, i) => ({ name: `s${i}`, points: [{ x: 0, y: i }] })),
  }));
  assert.equal(count(many, /<path d="M[\d., LM-]+ Z"/g), 2 * 14, "diamonds and triangles, as paths");
  assert.equal(count(many, /<polygon/g), 0);
});

Deno.test("no series draws an empty chart", () => {
  const svg = wellFormed(lineChart({ title: "empty", xLabel: "x", yLabel: "y", series: [] }));
  assert.equal(count(svg, /<g class="series"/g), 0);
});

Deno.test("non-finite values and x ≤ 0 on a log axis are rejected", () => {
  const one = (x: number, y: number, extra = {}) => ({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    series: [{ name: "bad", points: [{ x, y }] }],
    ...extra,
  });
  assert.throws(() => lineChart(one(1, NaN)), /series 'bad', point 0/);
  assert.throws(() => lineChart(one(Infinity, 1)), RangeError);
  assert.throws(() => lineChart(one(0, 1, { xScale: "log" })), /log axis/);
  const badBand = {
    ...one(1, 1),
    series: [{ name: "b", points: [{ x: 1, y: 1, low: -Infinity, high: 2 }] }],
  };
  assert.throws(() => lineChart(badBand), RangeError);
});

/** The y-axis tick values: the right-aligned labels left of the plot. */
function yTickValues(svg: string): number[] {
  return [...svg.matchAll(/text-anchor="end">([^<]+)<\/text>/g)].map((m) => Number(m[1]));
}

Deno.test("a y range keeps the axis inside it, however the data and bands sit", () => {
  const percent = (points: { x: number; y: number; low?: number; high?: number }[]) =>
    wellFormed(lineChart({
      title: "accuracy",
      xLabel: "epoch",
      yLabel: "%",
      yRange: [0, 100],
      series: [{ name: "s", points }],
    }));
  const high = yTickValues(
    percent([{ x: 1, y: 97, low: 91, high: 100 }, { x: 2, y: 99.5, low: 99, high: 100 }]),
  );
  assert.equal(Math.max(...high), 100, `${high}`);
  const top = yTickValues(percent([{ x: 1, y: 100 }, { x: 2, y: 100 }]));
  assert.ok(top.every((t) => t <= 100) && top.includes(100), `all at 100: ${top}`);
  const bottom = yTickValues(percent([{ x: 1, y: 0 }, { x: 2, y: 3, low: 0, high: 6 }]));
  assert.ok(bottom.every((t) => t >= 0) && bottom.includes(0), `near 0: ${bottom}`);
  const free = yTickValues(wellFormed(lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    series: [{ name: "s", points: [{ x: 1, y: 100 }, { x: 2, y: 100 }] }],
  })));
  assert.ok(Math.max(...free) > 100, "without a range the axis pads past the data");
  assert.throws(
    () => percent([{ x: 1, y: 90, low: 80, high: 101.6 }]),
    /outside the y range \[0, 100\]/,
  );
});

Deno.test("a subtitle is drawn under the title, and the plot moves down to make room", () => {
  const plain = sampleSweep();
  const withSubtitle = wellFormed(
    lineChart({ ...plain, subtitle: "fixed budget: 300 SGD steps per transfer" }),
  );
  assert.ok(withSubtitle.includes(">fixed budget: 300 SGD steps per transfer</text>"));
  const axisTop = (svg: string) =>
    Number(svg.match(/<g class="axes"[^>]*>\n<line [^>]*\/>\n<line x1="[\d.]+" y1="([\d.]+)"/)![1]);
  assert.ok(axisTop(withSubtitle) > axisTop(lineChart(plain)));
});
