/**
 * Line charts as self-contained SVG 1.1 documents: no scripts, no external references and no web fonts, so a
 * chart opens the same in a browser, an image viewer or a converter, offline. Each series is a line with
 * point markers and an optional translucent band (e.g. a 95 % confidence interval); the legend sits to the
 * right of the plot, where it can never hide data.
 *
 * @module
 */

import { escapeXml } from "./escape.ts";
import { logTicks, niceTicks } from "./ticks.ts";

/** One point of a series. When both `low` and `high` are given they bound the shaded band at `x`. */
export interface ChartPoint {
  /** Horizontal position, in data units; finite, and positive on a log axis. */
  readonly x: number;
  /** Vertical position, in data units; finite. */
  readonly y: number;
  /** The band's lower edge at `x`; finite. The y axis spans it even without `high`. */
  readonly low?: number;
  /** The band's upper edge at `x`; finite. The y axis spans it even without `low`. */
  readonly high?: number;
}

/** A named line; its points are drawn in order of `x`, whatever their order here. */
export interface ChartSeries {
  /** The legend's label for the line. */
  readonly name: string;
  /** A marker each, joined by the line when there are two or more. */
  readonly points: readonly ChartPoint[];
}

/** What `lineChart` draws. */
export interface ChartSpec {
  /** Shown in bold above the plot, and the document's `<title>`. */
  readonly title: string;
  /** A line under the title, in plain grey type (what the chart holds fixed, say); none when absent. */
  readonly subtitle?: string;
  /** The x axis's title, under its tick labels. */
  readonly xLabel: string;
  /** The y axis's title, turned to read upwards, left of its tick labels. */
  readonly yLabel: string;
  /** "log" suits quantities that grow by factors, such as sample counts; every x must then be positive. */
  readonly xScale?: "linear" | "log";
  /** The lines, given colours, dashes and marker shapes in this order; the legend lists them in it too. */
  readonly series: readonly ChartSeries[];
  /**
   * The values y can take, such as [0, 100] for a percentage: the y axis never reaches past them, and a
   * value (or band edge) outside them is an error. Unbounded when absent.
   */
  readonly yRange?: readonly [low: number, high: number];
}

/**
 * The Okabe–Ito colours, which stay distinct under the common colour-vision deficiencies. Their yellow
 * (#F0E442) is left out: on white it is too faint for a 2 px line.
 */
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
/**
 * One dash pattern and one marker shape per round of the palette, so that series 1 and 8 still look
 * different, even as a lone marker with no line (`compare` with more than seven strategies needs them).
 */
const DASHES = ["", "8 4", "2 3", "10 3 2 3"];
const MARKERS = ["circle", "square", "diamond", "triangle"] as const;
const FONT = { title: 16, subtitle: 13, axis: 13, tick: 12, legend: 13 };
/** The plot area's size; the margins grow around it to fit the labels and the legend. */
const PLOT = { width: 520, height: 320 };
const PAD = 16;
const LEGEND = { gap: 28, swatch: 28, row: 22 };
const BAND_OPACITY = 0.15;

/** An axis: the data range it spans, where its ticks go and what they read. */
interface Axis {
  readonly domain: readonly [number, number];
  readonly ticks: readonly number[];
  readonly labels: readonly string[];
  readonly log: boolean;
}

/** Pixel positions of the plot area and the legend, and the size of the whole picture. */
interface Layout {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly legendX: number;
}

type ToPixel = (value: number) => number;

/**
 * The chart as an SVG document. Throws a RangeError for a non-finite value and for x ≤ 0 on a log axis.
 */
export function lineChart(spec: ChartSpec): string {
  validate(spec);
  const xAxis = xAxisOf(spec);
  const yAxis = yAxisOf(spec);
  const layout = layoutOf(spec, yAxis);
  const x = toPixel(xAxis, layout.left, layout.right);
  const y = toPixel(yAxis, layout.bottom, layout.top);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${layout.width}" height="${layout.height}" ` +
    `viewBox="0 0 ${layout.width} ${layout.height}" font-family="system-ui, sans-serif">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<rect width="${layout.width}" height="${layout.height}" fill="#ffffff"/>`,
    text(layout.left, PAD + FONT.title, FONT.title, spec.title, `font-weight="bold"`),
    ...(spec.subtitle === undefined ? [] : [
      text(
        layout.left,
        PAD + FONT.title + 8 + FONT.subtitle,
        FONT.subtitle,
        spec.subtitle,
        `fill="#444444"`,
      ),
    ]),
    axes(spec, layout, xAxis, yAxis, x, y),
    bands(spec.series, x, y),
    ...spec.series.map((series, i) => seriesGroup(series, i, x, y)),
    legend(spec.series, layout),
    `</svg>`,
    "",
  ].join("\n");
}

function validate(spec: ChartSpec): void {
  for (const series of spec.series) {
    series.points.forEach((p, i) => {
      const values = [p.x, p.y, p.low ?? 0, p.high ?? 0]; // an absent bound stands in as 0, which passes
      if (!values.every(Number.isFinite)) {
        throw new RangeError(`series '${series.name}', point ${i}: every value must be finite`);
      }
      if (spec.xScale === "log" && p.x <= 0) {
        throw new RangeError(`series '${series.name}', point ${i}: x = ${p.x}, but a log axis needs x > 0`);
      }
      const range = spec.yRange;
      if (
        range !== undefined && [p.y, p.low ?? p.y, p.high ?? p.y].some((v) => v < range[0] || v > range[1])
      ) {
        throw new RangeError(
          `series '${series.name}', point ${i}: a value lies outside the y range [${range[0]}, ${range[1]}]`,
        );
      }
    });
  }
}

/** The x axis: the data's range, widened to round ticks (1-2-5 per decade on a log scale). */
function xAxisOf(spec: ChartSpec): Axis {
  const log = spec.xScale === "log";
  const range = widen(extent(spec.series.flatMap((s) => s.points.map((p) => p.x))), log);
  return log ? spanning(logTicks(...range), true) : spanning(niceTicks(...range, 6), false);
}

/** The y axis, bands included: the range of the data widened to round ticks, but never past `yRange`. */
function yAxisOf(spec: ChartSpec): Axis {
  const data = extent(
    spec.series.flatMap((s) => s.points.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y])),
  );
  const range = spec.yRange;
  if (range === undefined) return spanning(niceTicks(...widen(data, false), 5), false);
  if (!(range[0] < range[1])) throw new RangeError(`a y range needs low < high, got ${range.join(", ")}`);
  const [low, high] = widen(data, false);
  const clamped: [number, number] = [Math.max(range[0], low), Math.min(range[1], high)];
  const bounded = clamped[0] < clamped[1] ? clamped : [range[0], range[1]] as [number, number];
  const round = niceTicks(...bounded, 5);
  const domain = [Math.max(range[0], round[0]), Math.min(range[1], round[round.length - 1])] as const;
  return axis(domain, round.filter((t) => t >= domain[0] && t <= domain[1]), false);
}

/** The axis whose domain runs from the first tick to the last. */
function spanning(ticks: readonly number[], log: boolean): Axis {
  return axis([ticks[0], ticks[ticks.length - 1]], ticks, log);
}

/** An axis whose tick labels on a linear scale share one number of decimals (0.5, 1.0, 1.5, not 0.5, 1, 1.5). */
function axis(domain: readonly [number, number], ticks: readonly number[], log: boolean): Axis {
  const plain = ticks.map(String);
  if (log || plain.some((t) => t.includes("e"))) return { domain, ticks, labels: plain, log };
  const decimals = Math.max(...plain.map((t) => t.split(".")[1]?.length ?? 0));
  return { domain, ticks, labels: ticks.map((t) => t.toFixed(decimals)), log };
}

/** The smallest and largest value, or null when there are none. */
function extent(values: readonly number[]): [number, number] | null {
  return values.length === 0 ? null : [Math.min(...values), Math.max(...values)];
}

/** A range that is not empty: a single value gets room around it, so it is drawn mid-axis, not on an edge. */
function widen(range: [number, number] | null, log: boolean): [number, number] {
  if (range === null) return log ? [1, 10] : [0, 1];
  const [low, high] = range;
  if (low < high) return range;
  if (log) return [low / 2, high * 2];
  const pad = low === 0 ? 1 : Math.abs(low) * 0.1;
  return [low - pad, high + pad];
}

function layoutOf(spec: ChartSpec, yAxis: Axis): Layout {
  const yTickWidth = Math.max(...yAxis.labels.map((t) => textWidth(t, FONT.tick)));
  const left = PAD + FONT.axis + 14 + yTickWidth + 8;
  const top = PAD + FONT.title + 24 + (spec.subtitle === undefined ? 0 : FONT.subtitle + 8);
  const right = left + PLOT.width;
  const bottom = top + PLOT.height;
  const legendX = right + LEGEND.gap;
  const names = spec.series.map((s) => textWidth(s.name, FONT.legend));
  const legendRight = legendX + LEGEND.swatch + 8 + Math.max(0, ...names);
  const titles = Math.max(textWidth(spec.title, FONT.title), textWidth(spec.subtitle ?? "", FONT.subtitle));
  const width = Math.ceil(Math.max(legendRight, left + titles) + PAD);
  const height = Math.ceil(Math.max(bottom + 56, top + spec.series.length * LEGEND.row + PAD));
  return { width, height, left, top, right, bottom, legendX };
}

/**
 * A generous estimate of how wide `text` is drawn: the renderer picks the font, so the exact width is not
 * known, and an overestimate costs only some white space where an underestimate makes labels collide.
 */
function textWidth(text: string, size: number): number {
  return [...text].length * size * 0.62;
}

function toPixel(axis: Axis, from: number, to: number): ToPixel {
  const f = axis.log ? Math.log10 : (v: number) => v;
  const [a, b] = [f(axis.domain[0]), f(axis.domain[1])];
  return (v) => from + (f(v) - a) / (b - a) * (to - from);
}

function axes(spec: ChartSpec, l: Layout, xAxis: Axis, yAxis: Axis, x: ToPixel, y: ToPixel): string {
  const grid = [
    ...xAxis.ticks.map((t) => line(x(t), l.top, x(t), l.bottom)),
    ...yAxis.ticks.map((t) => line(l.left, y(t), l.right, y(t))),
  ];
  const xLabels = xAxis.ticks.map((t, i) =>
    text(x(t), l.bottom + 18, FONT.tick, xAxis.labels[i], `text-anchor="middle"`)
  );
  const yLabels = yAxis.ticks.map((t, i) =>
    text(l.left - 8, y(t) + 4, FONT.tick, yAxis.labels[i], `text-anchor="end"`)
  );
  const midX = (l.left + l.right) / 2;
  const midY = (l.top + l.bottom) / 2;
  // Translate, then rotate about the origin: simple renderers (ImageMagick's own) get rotate(a x y) wrong.
  const yTitle = `text-anchor="middle" transform="translate(${PAD + FONT.axis} ${px(midY)}) rotate(-90)"`;
  return [
    `<g class="grid" stroke="#e3e3e3" stroke-width="1">`,
    ...grid,
    `</g>`,
    `<g class="axes" stroke="#555555" stroke-width="1">`,
    line(l.left, l.bottom, l.right, l.bottom),
    line(l.left, l.top, l.left, l.bottom),
    `</g>`,
    `<g class="ticks" fill="#333333">`,
    ...xLabels,
    ...yLabels,
    `</g>`,
    text(midX, l.bottom + 44, FONT.axis, spec.xLabel, `text-anchor="middle"`),
    text(0, 0, FONT.axis, spec.yLabel, yTitle),
  ].join("\n");
}

function seriesGroup(series: ChartSeries, index: number, x: ToPixel, y: ToPixel): string {
  const colour = PALETTE[index % PALETTE.length];
  const points = [...series.points].sort((a, b) => a.x - b.x);
  const xy = points.map((p) => `${px(x(p.x))},${px(y(p.y))}`);
  const markers = points.map((p) => marker(x(p.x), y(p.y), colour, index));
  const path = points.length > 1
    ? `<polyline points="${xy.join(" ")}" fill="none" stroke="${colour}" stroke-width="2" ` +
      `stroke-linejoin="round"${dashAttribute(index)}/>`
    : "";
  return [
    `<g class="series" data-name="${escapeXml(series.name)}">`,
    path,
    ...markers,
    `</g>`,
  ].filter((part) => part !== "").join("\n");
}

/**
 * Every series' band, drawn beneath all the lines so that no band tints another series' line (and so that
 * renderers without opacity, such as ImageMagick's own, still show every line).
 */
function bands(series: readonly ChartSeries[], x: ToPixel, y: ToPixel): string {
  const shapes = series.map((s, i) => band(s.points, x, y, PALETTE[i % PALETTE.length]));
  return [`<g class="bands">`, ...shapes.filter((shape) => shape !== ""), `</g>`].join("\n");
}

/**
 * The shaded band between the points' `low` and `high` (points without both are skipped): a polygon along
 * the upper bounds and back along the lower ones, or, for a single point, an error bar.
 */
function band(points: readonly ChartPoint[], x: ToPixel, y: ToPixel, colour: string): string {
  const banded = points.filter((p) => p.low !== undefined && p.high !== undefined).sort((a, b) => a.x - b.x);
  if (banded.length === 0) return "";
  if (banded.length === 1) {
    const p = banded[0];
    return `<line x1="${px(x(p.x))}" y1="${px(y(p.low!))}" x2="${px(x(p.x))}" y2="${px(y(p.high!))}" ` +
      `stroke="${colour}" stroke-width="8" stroke-opacity="${BAND_OPACITY * 2}"/>`;
  }
  const upper = banded.map((p) => `${px(x(p.x))},${px(y(p.high!))}`);
  const lower = banded.map((p) => `${px(x(p.x))},${px(y(p.low!))}`).reverse();
  return `<polygon points="${[...upper, ...lower].join(" ")}" fill="${colour}" ` +
    `fill-opacity="${BAND_OPACITY}" stroke="none"/>`;
}

function legend(series: readonly ChartSeries[], l: Layout): string {
  const entries = series.map((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const swatch = `<line x1="0" y1="0" x2="${LEGEND.swatch}" y2="0" stroke="${colour}" stroke-width="2"`;
    return [
      `<g class="legend-entry" transform="translate(0 ${i * LEGEND.row})">`,
      `${swatch}${dashAttribute(i)}/>`,
      marker(LEGEND.swatch / 2, 0, colour, i),
      text(LEGEND.swatch + 8, 4.5, FONT.legend, s.name, `fill="#222222"`),
      `</g>`,
    ].join("\n");
  });
  const at = `translate(${px(l.legendX)} ${px(l.top + 10)})`;
  return [`<g class="legend" transform="${at}">`, ...entries, `</g>`].join("\n");
}

function dashAttribute(index: number): string {
  const dash = DASHES[Math.floor(index / PALETTE.length) % DASHES.length];
  return dash === "" ? "" : ` stroke-dasharray="${dash}"`;
}

/** The marker of series `index` at (cx, cy): a circle in the palette's first round, then other shapes. */
function marker(cx: number, cy: number, colour: string, index: number): string {
  const paint = `fill="${colour}" stroke="#ffffff" stroke-width="1"`;
  const shape = MARKERS[Math.floor(index / PALETTE.length) % MARKERS.length];
  if (shape === "circle") return `<circle cx="${px(cx)}" cy="${px(cy)}" r="3.5" ${paint}/>`;
  if (shape === "square") {
    return `<rect x="${px(cx - 3.25)}" y="${px(cy - 3.25)}" width="6.5" height="6.5" ${paint}/>`;
  }
  // Paths, not polygons: a polygon is a band.
  const corners = shape === "diamond"
    ? [[0, -4.5], [4.5, 0], [0, 4.5], [-4.5, 0]]
    : [[0, -4.5], [4.25, 3.5], [-4.25, 3.5]];
  const d = corners.map(([dx, dy], i) => `${i === 0 ? "M" : "L"}${px(cx + dx)},${px(cy + dy)}`).join(" ");
  return `<path d="${d} Z" ${paint}/>`;
}

function line(x1: number, y1: number, x2: number, y2: number): string {
  return `<line x1="${px(x1)}" y1="${px(y1)}" x2="${px(x2)}" y2="${px(y2)}"/>`;
}

function text(x: number, y: number, size: number, content: string, attributes: string): string {
  return `<text x="${px(x)}" y="${px(y)}" font-size="${size}" ${attributes}>${escapeXml(content)}</text>`;
}

/** A coordinate to 2 decimals: finer than any screen, and it keeps the document small. */
function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}
