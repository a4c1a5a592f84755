/**
 * The README's digits table, from the results of `compare` runs at several target sizes (one run
 * folder each): every strategy's mean target test accuracy ± sd, and its gain over `scratch` with the
 * exact sign-flip p as each run corrected it (Holm, over that run's strategies), bold where that is
 * below 0.05; and the smallest p a correction over every comparison of all the runs could give.
 *
 *     deno run --allow-read tools/digits_table.ts runs/readme/d50 runs/readme/d200 runs/readme/d1000
 *
 * @module
 */

import { join } from "node:path";

interface Summary {
  readonly n: number;
  readonly mean: number;
  readonly std: number;
}
interface Point {
  readonly seedsUsed: number[];
  readonly strategies: { strategy: string; accuracy: Summary }[];
  readonly comparisons: { strategy: string; gain: Summary; signFlip: { p: number; pHolm: number } }[];
}
interface Results {
  readonly config: { data: { target_n_samples: number } };
  readonly summary: { strategies: string[]; points: Point[] };
}

const runs = Deno.args.map((folder) =>
  JSON.parse(Deno.readTextFileSync(join(folder, "results.json"))) as Results
);
const comparisons = runs.flatMap((run) => run.summary.points[0].comparisons);

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
    const gain = 100 * comparison.gain.mean, p = comparison.signFlip.pHolm;
    const mark = p < 0.05 ? "**" : "";
    return `${cell} (${mark}${gain >= 0 ? "+" : "−"}${Math.abs(gain).toFixed(1)}${mark}, p ${p.toFixed(3)})`;
  });
  console.log(`| \`${strategy}\` | ${cells.join(" | ")} |`);
}
const smallest = Math.min(...comparisons.map((c) => c.signFlip.p));
console.log(
  `\n${runs[0].summary.points[0].seedsUsed.length} seeds; Holm within each run; bold: corrected p < 0.05; ` +
    `over all ${comparisons.length} comparisons the smallest corrected p would be ` +
    `${Math.min(1, comparisons.length * smallest).toFixed(3)}`,
);
