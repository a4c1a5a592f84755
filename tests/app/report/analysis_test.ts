/**
 * From runs to verdicts, on made-up runs whose right answers are known: which seeds count (interrupted and
 * diverged ones left out, and said so), the best chosen on validation, the Holm family, intervals inside
 * the possible range, the training budget in words; and a null simulation of the whole verdict pipeline.
 */

import assert from "node:assert/strict";
import type { RunRecord } from "../../../src/core/comparison.ts";
import { Rng } from "../../../src/core/rng.ts";
import { CLASSIC_STRATEGIES, type StrategyName } from "../../../src/core/recipes.ts";
import { analyzeComparison, BASELINE, isUsed } from "../../../src/app/report/analysis.ts";
import {
  budgetNote,
  CLIPPED_MARK,
  CSV_HEADER,
  csvRow,
  formatComparison,
  readingNotes,
  seedList,
  tableRows,
  verdicts,
} from "../../../src/app/report/summary.ts";

const TRAINING = { target_epochs: 20, target_steps: null, early_stopping_patience: null };

interface RunOptions {
  readonly validation?: number;
  readonly relatedness?: number;
  readonly rows?: number;
  readonly divergedAt?: number;
}

/** A finished run with the given target test accuracy (validation the same unless given). */
function run(seed: number, strategy: StrategyName, test: number, options: RunOptions = {}): RunRecord {
  const metrics = (accuracy: number) => ({ loss: 1 - accuracy, accuracy });
  return {
    seed,
    relatedness: options.relatedness ?? 0.9,
    targetTrainRows: options.rows ?? 480,
    strategy,
    sourceTest: metrics(0.9),
    target: { train: metrics(test), validation: metrics(options.validation ?? test), test: metrics(test) },
    history: [{ epoch: 1, train: metrics(test), test: metrics(test) }],
    seconds: 0.01,
    notes: [],
    diverged: options.divergedAt === undefined ? null : { epoch: options.divergedAt, loss: NaN },
    earlyStop: null,
  };
}

/** Every strategy on `seeds`, `gains[strategy]` above scratch's 0.7 plus a small per-seed wobble. */
function grid(
  seeds: readonly number[],
  gains: Partial<Record<StrategyName, number>>,
  options: RunOptions = {},
) {
  return seeds.flatMap((seed) =>
    CLASSIC_STRATEGIES.map((strategy) =>
      run(seed, strategy, 0.7 + (gains[strategy] ?? 0) + (seed % 3) / 160, options)
    )
  );
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

Deno.test("an interrupted seed is left out of every strategy, and the notes say so", () => {
  const runs = [
    ...grid(range(1, 4), { full_finetune: 0.1 }),
    run(5, "feature_extractor", 0.99),
    run(5, "head_finetune", 0.99),
  ];
  const summary = analyzeComparison(runs);
  const point = summary.points[0];
  assert.deepEqual(point.seedsUsed, [1, 2, 3, 4]);
  assert.deepEqual(point.incomplete, [{ seed: 5, finished: ["feature_extractor", "head_finetune"] }]);
  for (const s of point.strategies) assert.equal(s.accuracy.n, 4, s.strategy);
  for (const c of point.comparisons) assert.equal(c.seeds, 4, c.strategy);
  const notes = readingNotes(summary, TRAINING);
  assert.ok(notes.some((line) => /seed 5, interrupted after 2 of 4 strategies/.test(line)), notes.join("\n"));
  assert.ok(notes[0].startsWith("seeds 1–4 (4): the seeds where every strategy finished and none diverged"));
  assert.equal(isUsed(summary, runs.at(-1)!), false);
});

Deno.test("a diverged run takes its seed out of every strategy at that point, and is reported", () => {
  const runs = grid(range(1, 6), { full_finetune: 0.1 }).map((r) =>
    r.seed === 3 && r.strategy === "full_finetune" ? run(3, "full_finetune", 0.33, { divergedAt: 2 }) : r
  );
  const summary = analyzeComparison(runs);
  const point = summary.points[0];
  assert.deepEqual(point.seedsUsed, [1, 2, 4, 5, 6]);
  assert.deepEqual(point.diverged, [{ seed: 3, strategy: "full_finetune", epoch: 2 }]);
  const notes = readingNotes(summary, TRAINING).join("\n");
  assert.match(
    notes,
    /diverged: full_finetune on seed 3 \(epoch 2\); 1 of 6 seeds left out for every strategy/,
  );
  const rows = runs.map((r) =>
    Object.fromEntries(CSV_HEADER.map((key, i) => [key, csvRow(r, "cpu", isUsed(summary, r))[i]]))
  );
  const diverged = rows.find((r) => r.seed === 3 && r.strategy === "full_finetune")!;
  assert.equal(diverged.diverged, true);
  assert.equal(diverged.diverged_epoch, 2);
  assert.equal(diverged.used, false);
  assert.equal(
    rows.filter((r) => r.used === false).length,
    CLASSIC_STRATEGIES.length,
    "seed 3 of every strategy",
  );
  assert.equal(rows.find((r) => r.seed === 1)!.diverged_epoch, null);
});

Deno.test("when the points use different seeds, the notes point to the seeds column", () => {
  const runs = [
    ...grid(range(1, 4), {}),
    ...grid(range(1, 4), {}, { rows: 25 }).filter((r) => !(r.seed === 4 && r.strategy === "scratch")),
  ];
  const summary = analyzeComparison(runs);
  assert.deepEqual(summary.points.map((p) => p.seedsUsed.length), [4, 3]);
  assert.match(
    readingNotes(summary, TRAINING)[0],
    /^seeds: at each point, those where every strategy finished and none diverged \(the "seeds" column\)/,
  );
  assert.deepEqual(tableRows(summary, "cpu").rows.map((row) => row[2]), [
    "4",
    "4",
    "4",
    "4",
    "3",
    "3",
    "3",
    "3",
  ]);
});

Deno.test("when every run diverges nothing is best and nothing is significant; the output says why", () => {
  const runs = range(42, 5).flatMap((seed) =>
    CLASSIC_STRATEGIES.map((strategy) => run(seed, strategy, 0.33, { divergedAt: 1 }))
  );
  const summary = analyzeComparison(runs);
  assert.deepEqual(summary.points[0].strategies, []);
  assert.deepEqual(summary.points[0].comparisons, []);
  assert.deepEqual(verdicts(summary), []);
  assert.deepEqual(tableRows(summary, "cpu").rows, []);
  const text = formatComparison(summary, "cpu", TRAINING);
  assert.doesNotMatch(text, /best|significant gain|\+0\.0/);
  assert.match(text, /diverged: feature_extractor on seeds 42–46 \(epoch 1\); head_finetune on seeds 42–46/);
  assert.match(text, /nothing to compare: no seed where every strategy finished without diverging/);
});

Deno.test("a pretraining that diverged is reported", () => {
  const pretrainings = [
    { seed: 1, source: { train: m(), validation: m(), test: m() }, history: [], seconds: 0, diverged: null },
    {
      seed: 2,
      source: { train: m(), validation: m(), test: m() },
      history: [],
      seconds: 0,
      diverged: { epoch: 4, loss: Infinity },
    },
  ];
  const summary = analyzeComparison(grid([1], {}), { pretrainings });
  assert.deepEqual(summary.pretrainingDiverged, [{ seed: 2, epoch: 4 }]);
  assert.ok(
    readingNotes(summary, TRAINING).includes("seed 2: pretraining diverged at epoch 4; the seed has no runs"),
  );
  function m() {
    return { loss: 0.5, accuracy: 0.8 };
  }
});

Deno.test("the best is chosen on validation accuracy and reported with its test accuracy", () => {
  // head_finetune wins on validation, full_finetune on test: the mark goes to head_finetune.
  const runs = range(1, 10).flatMap((seed) => [
    run(seed, "feature_extractor", 0.75, { validation: 0.75 }),
    run(seed, "head_finetune", 0.78, { validation: 0.85 }),
    run(seed, "full_finetune", 0.9, { validation: 0.8 }),
    run(seed, "scratch", 0.7 + (seed % 2) / 160, { validation: 0.7 }),
  ]);
  const summary = analyzeComparison(runs);
  const best = summary.points[0].strategies.filter((s) => s.best).map((s) => s.strategy);
  assert.deepEqual(best, ["head_finetune"]);
  const { rows, best: marked } = tableRows(summary, "cpu");
  assert.deepEqual(marked, [1]);
  assert.equal(rows[1][0], "head_finetune *");
  assert.ok(verdicts(summary).includes("best by validation: head_finetune (validation 85.0%, test 78.0%)"));
  // The significance of full_finetune's gain does not depend on being chosen.
  assert.equal(summary.points[0].comparisons.find((c) => c.strategy === "full_finetune")!.significant, true);
});

Deno.test("with 5 seeds even a large, consistent gain is not significant, and the verdict says what it would take", () => {
  const summary = analyzeComparison(grid(range(42, 5), { full_finetune: 0.15, head_finetune: 0.1 }));
  for (const c of summary.points[0].comparisons) {
    assert.equal(c.significant, false, c.strategy);
    assert.ok(c.signFlip.p >= 0.0625, `${c.strategy}: p ${c.signFlip.p}`);
  }
  const full = summary.points[0].comparisons.find((c) => c.strategy === "full_finetune")!;
  assert.equal(full.signFlip.p, 0.0625);
  assert.equal(full.signFlip.pHolm, 3 * 0.0625);
  assert.equal(full.seedsNeeded, 7, "the fewest seeds at which the sign-flip test can reach 0.05/3");
  const text = verdicts(summary).join("\n");
  assert.match(
    text,
    /full_finetune vs scratch: \+15\.0 points \[\+15\.0, \+15\.0\] over 5 seeds; sign-flip p 0\.063 \(Holm 0\.188\)/,
  );
  assert.match(
    text,
    /not significant \(which shows neither a difference nor its absence\); with 5 seeds the sign-flip test cannot reach p < 0\.05 at all \(its smallest p is 2\/2\^5 = 0\.0625\)/,
  );
  assert.match(text, /would need about 7 seeds \(paired t-test at α = 0\.05\/3, 80% power\)/);
});

Deno.test("with 6 seeds the smallest sign-flip p passes 0.05 but not Holm's strictest level, and the verdict says so", () => {
  const summary = analyzeComparison(grid(range(42, 6), { full_finetune: 0.15 }));
  const full = summary.points[0].comparisons.find((c) => c.strategy === "full_finetune")!;
  assert.equal(full.signFlip.p, 2 / 64);
  assert.equal(full.significant, false);
  assert.match(
    verdicts(summary)[2],
    /with 6 seeds its smallest possible p, 2\/2\^6 = 0\.03125, is not below Holm's strictest level 0\.05\/3/,
  );
});

Deno.test("with 10 seeds a consistent gain is significant after Holm's correction; no difference is not", () => {
  const summary = analyzeComparison(grid(range(42, 10), { full_finetune: 0.1 }));
  const [fe, hf, ff] = summary.points[0].comparisons;
  assert.equal(ff.signFlip.p, 2 / 1024);
  assert.equal(ff.signFlip.pHolm, 3 * 2 / 1024);
  assert.equal(ff.significant, true);
  assert.equal(ff.seedsNeeded, null);
  assert.equal(fe.gain.mean, 0);
  assert.equal(fe.significant, false);
  assert.equal(hf.signFlip.p, 1);
  const text = verdicts(summary).join("\n");
  assert.match(text, /full_finetune vs scratch: \+10\.0 points .*: significant gain/);
  assert.match(
    text,
    /feature_extractor vs scratch: 0\.0 points .*not significant.*the seeds differ by 0 on average/,
  );
});

Deno.test("a significant loss is called worse than scratch", () => {
  const summary = analyzeComparison(grid(range(1, 10), { feature_extractor: -0.1 }));
  assert.match(
    verdicts(summary)[0],
    /feature_extractor vs scratch: -10\.0 points .*: significantly worse than scratch/,
  );
});

Deno.test("the Holm family is every (strategy, grid point) pair the grid declared, reached or not", () => {
  const runs = [
    ...grid(range(1, 10), { full_finetune: 0.1 }),
    ...grid(range(1, 10), { full_finetune: 0.1 }, { relatedness: 0 }),
  ];
  const summary = analyzeComparison(runs, { declaredPoints: 3 });
  assert.equal(summary.familySize, 9);
  const ff = summary.points.map((p) => p.comparisons.find((c) => c.strategy === "full_finetune")!);
  // Two p-values of 2/1024 at the head of a family of 9: 9 · p, then 8 · p raised to stay monotone.
  assert.deepEqual(ff.map((c) => c.signFlip.pHolm), [9 * 2 / 1024, 9 * 2 / 1024]);
  assert.match(
    readingNotes(summary, TRAINING).join("\n"),
    /Holm-corrected over all 9 comparisons \(3 strategies × 3 grid points\)/,
  );
  assert.throws(() => analyzeComparison(runs, { declaredPoints: 1 }), RangeError);
  assert.match(
    verdicts(summary)[0],
    /^at relatedness 0\.9, 480 target training rows: feature_extractor vs scratch/,
  );
});

Deno.test("intervals stay inside the possible range and are marked when cut; one seed shows no ± and two no interval", () => {
  const near = range(1, 3).flatMap((seed) =>
    CLASSIC_STRATEGIES.map((strategy) =>
      run(seed, strategy, strategy === "scratch" ? 0.05 * seed : [1, 1, 0.9][seed - 1])
    )
  );
  const summary = analyzeComparison(near);
  for (const s of summary.points[0].strategies) {
    assert.ok(s.accuracy.ci95![0] >= 0 && s.accuracy.ci95![1] <= 1, `${s.strategy}: ${s.accuracy.ci95}`);
  }
  for (const c of summary.points[0].comparisons) {
    assert.ok(c.gain.ci95![0] >= -1 && c.gain.ci95![1] <= 1, `${c.strategy}: ${c.gain.ci95}`);
  }
  const { rows } = tableRows(summary, "cpu");
  assert.match(rows[0][3], new RegExp(`^96\\.7 ± 5\\.8 \\[\\d\\d\\.\\d, 100\\.0\\]${CLIPPED_MARK}$`));
  assert.match(readingNotes(summary, TRAINING).join("\n"), new RegExp(`\\(${CLIPPED_MARK}: cut\\)`));
  const one = tableRows(analyzeComparison(grid([7], { full_finetune: 0.1 })), "cpu").rows;
  assert.equal(one[2][3], "80.6");
  assert.equal(one[2][5], "+10.0");
  assert.doesNotMatch(one.flat().join(" "), /±|\[/);
  const two = tableRows(analyzeComparison(grid([7, 8], { full_finetune: 0.1 })), "cpu").rows;
  assert.match(two[2][3], /^\d+\.\d ± \d\.\d$/);
  assert.equal(two[2][5], "+10.0");
});

Deno.test("the training budget in words: a fixed number of steps, or epochs whose steps grow with the data", () => {
  assert.equal(budgetNote({ ...TRAINING, target_steps: 300 }), "fixed budget: 300 SGD steps per transfer");
  assert.equal(
    budgetNote(TRAINING),
    "20 epochs per transfer (the number of SGD steps grows with the target set)",
  );
  assert.match(
    budgetNote({ ...TRAINING, early_stopping_patience: 3 }),
    /early stopping .* 3 epochs without a lower validation loss/,
  );
  const text = formatComparison(analyzeComparison(grid(range(1, 3), {})), "cpu", {
    ...TRAINING,
    target_steps: 50,
  });
  assert.match(text, /^fixed budget: 50 SGD steps per transfer$/m);
});

Deno.test("seed lists shorten runs of consecutive seeds", () => {
  assert.equal(seedList([46, 42, 43, 44, 45]), "42–46");
  assert.equal(seedList([1, 2, 4, 7, 8, 9]), "1, 2, 4, 7–9");
  assert.equal(seedList([]), "");
});

Deno.test("null simulation: with no real difference, the verdicts' family-wise false-positive rate stays at most 5 %", () => {
  // 2000 comparisons of 10 seeds, every strategy drawn from the same distribution as scratch: a seed
  // effect they share, plus each run's own noise, on a 160-row test set (accuracies are multiples of 1/160).
  const rng = new Rng(20240601);
  const simulations = 2000;
  const seeds = range(1, 10);
  let falsePositives = 0;
  for (let i = 0; i < simulations; i++) {
    const runs = seeds.flatMap((seed) => {
      const base = 0.75 + 0.05 * rng.normal();
      const draw = () => Math.min(1, Math.max(0, Math.round(160 * (base + 0.03 * rng.normal())) / 160));
      return CLASSIC_STRATEGIES.map((strategy) => run(seed, strategy, draw(), { validation: draw() }));
    });
    const summary = analyzeComparison(runs);
    if (summary.points[0].comparisons.some((c) => c.significant)) falsePositives++;
  }
  const rate = falsePositives / simulations;
  // Three binomial standard deviations above 5 % at this many simulations.
  const margin = 3 * Math.sqrt(0.05 * 0.95 / simulations);
  assert.ok(rate <= 0.05 + margin, `family-wise false-positive rate ${rate}`);
  assert.ok(rate > 0, "the simulation can produce a false positive at all");
  assert.equal(BASELINE, "scratch");
});

/** A run's list: scratch and two of the newer recipes, in the recipes' order. */
const THREE: StrategyName[] = ["scratch", "bitfit", "surgical"];

/** Each of `strategies` on `seeds`, `gains[strategy]` above scratch's 0.7 plus a per-seed wobble. */
function runsOf(
  strategies: readonly StrategyName[],
  seeds: readonly number[],
  gains: Partial<Record<StrategyName, number>>,
  options: RunOptions = {},
): RunRecord[] {
  return seeds.flatMap((seed) =>
    strategies.map((strategy) =>
      run(seed, strategy, 0.7 + (gains[strategy] ?? 0) + (seed % 3) / 160, options)
    )
  );
}

Deno.test("with three strategies the Holm family is 2 × the declared points, and a seed counts once all three finished", () => {
  // Point A (relatedness 0.9): seed 3's surgical diverged, seed 8 was interrupted after scratch and bitfit.
  // Point B (relatedness 0): every seed finished all three. A third point was declared but never reached.
  const pointA = [
    ...runsOf(THREE, range(1, 7), { bitfit: 0.1 }).map((r) =>
      r.seed === 3 && r.strategy === "surgical" ? run(3, "surgical", 0.33, { divergedAt: 2 }) : r
    ),
    ...runsOf(["scratch", "bitfit"], [8], { bitfit: 0.1 }),
  ];
  const pointB = runsOf(THREE, range(1, 8), { bitfit: 0.1 }, { relatedness: 0 });
  const runs = [...pointA, ...pointB];
  const summary = analyzeComparison(runs, { declaredPoints: 3, strategies: THREE });
  assert.deepEqual(summary.strategies, ["scratch", "bitfit", "surgical"]);
  assert.equal(summary.familySize, 6, "(3 strategies - 1) x 3 declared points");
  const [a, b] = summary.points;
  assert.deepEqual(a.seedsUsed, [1, 2, 4, 5, 6, 7]);
  assert.deepEqual(a.incomplete, [{ seed: 8, finished: ["scratch", "bitfit"] }]);
  assert.deepEqual(a.diverged, [{ seed: 3, strategy: "surgical", epoch: 2 }]);
  assert.deepEqual(b.seedsUsed, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(b.incomplete, []);
  for (const point of summary.points) {
    assert.deepEqual(point.strategies.map((s) => s.strategy), ["scratch", "bitfit", "surgical"]);
    assert.deepEqual(point.comparisons.map((c) => c.strategy), ["bitfit", "surgical"]);
    for (const s of point.strategies) assert.equal(s.accuracy.n, point.seedsUsed.length, s.strategy);
  }
  // Holm over 6: the smallest p (bitfit at B, 8 seeds: 2/2^8) times 6, then bitfit at A (6 seeds: 2/2^6)
  // times 5. With the classic four's family of 9, bitfit at B (9 · 2/256 ≈ 0.07) would not be significant.
  const bitfit = (p: typeof a) => p.comparisons.find((c) => c.strategy === "bitfit")!;
  assert.equal(bitfit(b).signFlip.p, 2 / 256);
  assert.equal(bitfit(b).signFlip.pHolm, 6 * 2 / 256);
  assert.equal(bitfit(b).significant, true);
  assert.equal(bitfit(a).signFlip.pHolm, 5 * 2 / 64);
  assert.equal(bitfit(a).significant, false);
  const notes = readingNotes(summary, TRAINING).join("\n");
  assert.match(notes, /Holm-corrected over all 6 comparisons \(2 strategies × 3 grid points\) of this run/);
  assert.match(
    notes,
    /left out at relatedness 0\.9, 480 target training rows: seed 8, interrupted after 2 of 3 strategies \(scratch, bitfit\)/,
  );
  assert.match(
    notes,
    /diverged at relatedness 0\.9, 480 target training rows: surgical on seed 3 \(epoch 2\); 1 of 7 seeds left out/,
  );
  assert.match(
    verdicts(summary).join("\n"),
    /at relatedness 0, 480 target training rows: bitfit vs scratch: \+10\.0 points .*: significant gain/,
  );
  assert.match(verdicts(summary).join("\n"), /paired t-test at α = 0\.05\/6/);
  assert.deepEqual(tableRows(summary, "cpu").rows.map((row) => row[1]), [
    "scratch",
    "bitfit *",
    "surgical",
    "scratch",
    "bitfit *",
    "surgical",
  ]);
  assert.equal(isUsed(summary, pointA.find((r) => r.seed === 8)!), false);
  assert.equal(isUsed(summary, pointA.find((r) => r.seed === 3 && r.strategy === "bitfit")!), false);
  // Without the list, the strategies come from the runs (and the baseline), to the same summary.
  assert.deepEqual(analyzeComparison(runs, { declaredPoints: 3 }), summary);
});

Deno.test("one strategy against scratch: a family of 1 per point, said in the singular", () => {
  const summary = analyzeComparison(runsOf(["scratch", "lp_ft"], range(1, 10), { lp_ft: 0.1 }), {
    strategies: ["scratch", "lp_ft"],
  });
  assert.equal(summary.familySize, 1);
  assert.equal(summary.points[0].comparisons[0].signFlip.pHolm, 2 / 1024);
  assert.match(
    readingNotes(summary, TRAINING).join("\n"),
    /Holm-corrected over the 1 comparison \(1 strategy × 1 grid point\) of this run/,
  );
  assert.match(verdicts(summary)[0], /^lp_ft vs scratch: \+10\.0 points .*: significant gain$/);
});

Deno.test("a declared strategy that never finished leaves every seed incomplete; a bad declaration is refused", () => {
  const runs = runsOf(THREE, range(1, 4), {});
  const summary = analyzeComparison(runs, { strategies: [...THREE, "lp_ft"] });
  assert.equal(summary.familySize, 3);
  assert.deepEqual(summary.points[0].seedsUsed, []);
  assert.deepEqual(summary.points[0].incomplete.map((s) => s.finished), range(1, 4).map(() => THREE));
  assert.throws(
    () => analyzeComparison(runs, { strategies: ["bitfit", "surgical"] }),
    /leave out the baseline/,
  );
  assert.throws(() => analyzeComparison(runs, { strategies: ["scratch", "bitfit"] }), /leave out surgical/);
  assert.throws(
    () => analyzeComparison(runs, { strategies: ["scratch", "bitfit", "surgical", "bitfit"] }),
    /name a strategy twice/,
  );
});
