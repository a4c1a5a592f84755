/**
 * The README's digits table, from the results of `compare` runs at several target sizes (one run
 * folder each): every strategy's mean target test accuracy ± sd, and its gain over `scratch` with
 * the exact sign-flip p, Holm-corrected over every strategy and size of all the runs together (each
 * run corrects only over its own).
 *
 *     deno run --allow-read tools/digits_table.ts runs/readme/d50 runs/readme/d200 runs/readme/d1000
 *
 * @module
 */

import { join } from "node:path";
import { holm } from "../src/programs/compare/stats.ts";

interface Summary {
  readonly n: number;
  readonly mean: number;
  readonly std: number;
}
interface Point {
  readonly seedsUsed: number[];
  readonly strategies: { strategy: string; accuracy: Summary }[];
  readonly comparisons: { strategy: string; gain: Summary; signFlip: { p: number } }[];
}
interface Results {
  readonly config: { data: { target_n_samples: number } };
  readonly summary: { strategies: string[]; points: Point[] };
}

const runs = Deno.args.map((folder) =>
  JSON.parse(Deno.readTextFileSync(join(folder, "results.json"))) as Results
);
const comparisons = runs.flatMap((run) => run.summary.points[0].comparisons);
const corrected = holm(comparisons.map((c) => c.signFlip.p));
const pOf = new Map(comparisons.map((c, i) => [c, corrected[i]]));

const sizes = runs.map((run) => `${run.config.data.target_n_samples} examples`);
console.log(`| strategy | ${sizes.join(" | ")} |`);
console.log(`| --- | ${sizes.map(() => "---").join(" | ")} |`);
for (const strategy of runs[0].summary.strategies) {
  const cells = runs.map((run) => {
    const point = run.summary.points[0];
    const accuracy = point.strategies.find((s) => s.strategy === strategy)!.accuracy;
    const cell = `${(100 * accuracy.mean).toFixed(1)} ± ${(100 * accuracy.std).toFixed(1)}`;
    const comparison = point.comparisons.find((c) => c.strategy === strategy);
    if (comparison === undefined) return `${cell} (baseline)`;
    const gain = 100 * comparison.gain.mean, p = pOf.get(comparison)!;
    const mark = p < 0.05 ? "**" : "";
    return `${cell} (${mark}${gain >= 0 ? "+" : "−"}${Math.abs(gain).toFixed(1)}${mark}, p ${p.toFixed(3)})`;
  });
  console.log(`| \`${strategy}\` | ${cells.join(" | ")} |`);
}
console.log(
  `\n${runs[0].summary.points[0].seedsUsed.length} seeds; Holm over ${comparisons.length} comparisons; ` +
    "bold: corrected p < 0.05",
);
