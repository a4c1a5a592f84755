/**
 * From the runs to the comparison's statistics, with the choices that keep them honest:
 *
 * - **Which seeds count.** At each point of the grid (a relatedness and a target training-set size), a seed
 *   is used when every strategy of the run (its `--strategies`, `scratch` among them) finished there (not
 *   cut short by Ctrl-C) and none diverged. The means, the gains over `scratch`, the tests and the choice
 *   of the best all use exactly these seeds, so every number of a point rests on the same seeds. The
 *   others are reported: seeds cut short with the strategies that finished, and every diverged run (whose
 *   seed is then left out for all the strategies at that point).
 * - **What is tested.** Each strategy against `scratch` at each point, a comparison declared before the
 *   runs (not the best one picked after them): the paired differences of target test accuracy, seed by
 *   seed, with the t interval of their mean, a paired t-test and an exact sign-flip permutation test (see
 *   `stats.ts`). The family is every (strategy ≠ scratch, point) pair of the grid, points not reached
 *   included (as p = 1): (strategies − 1) × points. Both tests' p-values are Holm-corrected over it.
 * - **The verdict** uses the sign-flip test alone, which needs no assumption of normality: a difference
 *   is significant when its Holm-corrected sign-flip p-value is below {@linkcode ALPHA}. When it is not,
 *   `seedsNeeded` says how many seeds a true difference of the observed size and spread would need: a
 *   paired t-test at α / m (m the family's size: the strictest level Holm's procedure applies) with
 *   {@linkcode POWER} power, and at least as many as let the sign-flip test reach that level at all.
 * - **The best strategy** at a point is the one with the highest mean validation accuracy; its test
 *   accuracy is what is reported, and no significance claim rests on having chosen it.
 *
 * @module
 */

import type { PretrainRecord, RunRecord } from "../../core/comparison.ts";
import { STRATEGY_NAMES, type StrategyName } from "../../core/recipes.ts";
import {
  holm,
  mean,
  pairedDifferences,
  pairedTTest,
  seedsNeeded,
  signFlipMinimumValues,
  type SignFlipTest,
  signFlipTest,
  summarize,
  type Summary,
  type TTest,
} from "./stats.ts";

/** The strategy every other is compared with. */
export const BASELINE = "scratch" satisfies StrategyName;

/** The family-wise significance level of the verdicts. */
export const ALPHA = 0.05;

/** The power `seedsNeeded` plans for. */
export const POWER = 0.8;

/** What the verdicts rest on, in words (also written to `results.json`). */
export const VERDICT_TEST: string =
  "exact two-sided sign-flip permutation test of the per-seed differences in target " +
  `test accuracy against ${BASELINE}, Holm-corrected over every (strategy, grid point) comparison of the run; ` +
  `significant when the corrected p < ${ALPHA}`;

/** The possible range of an accuracy, as a fraction: intervals are cut to it. */
export const ACCURACY_RANGE = [0, 1] as const;

/** The possible range of a difference of two accuracies, as a fraction. */
export const GAIN_RANGE = [-1, 1] as const;

/** A point of the grid. */
export interface GridPoint {
  /** The target task's relatedness, from 0 to 1; null for real data, which have none. */
  readonly relatedness: number | null;
  /** Rows of the target training set. */
  readonly targetTrainRows: number;
}

/** One strategy at one point, over the point's used seeds. */
export interface StrategyStats {
  /** The strategy these runs adapted with. */
  readonly strategy: StrategyName;
  /** Target validation accuracy, as a fraction: what the best is chosen by. */
  readonly validationAccuracy: Summary;
  /** Target test accuracy, as a fraction: what is reported. Its interval lies within [0, 1]. */
  readonly accuracy: Summary;
  /** Target test loss (mean cross-entropy); its interval is cut at 0. */
  readonly loss: Summary;
  /** Mean source test accuracy of these runs' pretrained models, as a fraction. */
  readonly sourceAccuracy: number;
  /** Mean transfer training seconds. */
  readonly seconds: number;
  /** The highest mean validation accuracy at its point (every strategy that ties for it is marked). */
  readonly best: boolean;
}

/** One strategy against `scratch` at one point, paired by seed over the point's used seeds. */
export interface BaselineComparison {
  /** The strategy compared with {@linkcode BASELINE}. */
  readonly strategy: StrategyName;
  /** Seeds paired: the point's used seeds. */
  readonly seeds: number;
  /** Test accuracy minus scratch's, seed by seed, as a fraction; its interval lies within [−1, 1]. */
  readonly gain: Summary;
  /** The paired t-test, with its Holm-corrected p-value; null under 2 seeds. */
  readonly tTest: (TTest & { readonly pHolm: number }) | null;
  /** The sign-flip test, with its Holm-corrected p-value: what the verdict uses. */
  readonly signFlip: SignFlipTest & { readonly pHolm: number };
  /** Whether `signFlip.pHolm` < {@linkcode ALPHA}. */
  readonly significant: boolean;
  /**
   * When not significant: the seeds a true difference of `gain.mean`, with the differences' observed
   * standard deviation, would need (see the module doc). Null when significant, under 2 seeds, when the
   * observed difference is 0, or when more than a million seeds would be needed.
   */
  readonly seedsNeeded: number | null;
}

/** A run that diverged (its metrics mean nothing). */
export interface DivergedRun {
  /** The run's seed. */
  readonly seed: number;
  /** The run's strategy. */
  readonly strategy: StrategyName;
  /** The 1-based epoch whose training loss was not finite. */
  readonly epoch: number;
}

/** A seed that did not finish every strategy at a point (Ctrl-C). */
export interface IncompleteSeed {
  /** The seed. */
  readonly seed: number;
  /** The strategies that did finish there. */
  readonly finished: StrategyName[];
}

/** One point of the grid: which seeds count, every strategy over them, and the comparisons. */
export interface PointSummary extends GridPoint {
  /** Seeds where every strategy finished and none diverged, in the order run; all the numbers use these. */
  readonly seedsUsed: number[];
  /** Seeds left out because not every strategy finished. */
  readonly incomplete: IncompleteSeed[];
  /** Every diverged run at this point; each one's seed is left out for every strategy. */
  readonly diverged: DivergedRun[];
  /** Each strategy over `seedsUsed`, in the summary's `strategies` order; empty when no seed is used. */
  readonly strategies: StrategyStats[];
  /** Each strategy but scratch against scratch; empty when no seed is used. */
  readonly comparisons: BaselineComparison[];
}

/** Everything the table, the verdicts and the figures show. */
export interface ComparisonSummary {
  /** What the verdicts rest on, in words. */
  readonly verdictTest: string;
  /** The family-wise significance level. */
  readonly alpha: number;
  /** The power `seedsNeeded` plans for. */
  readonly power: number;
  /** The strategies the run compared, {@linkcode BASELINE} among them, in the order shown. */
  readonly strategies: StrategyName[];
  /** The comparisons in the Holm family: (strategies − 1) × the grid's points, reached or not. */
  readonly familySize: number;
  /** The grid's points that have runs, in grid order. */
  readonly points: PointSummary[];
  /** Seeds whose pretraining diverged, which have no runs. */
  readonly pretrainingDiverged: { readonly seed: number; readonly epoch: number }[];
}

/** What else {@linkcode analyzeComparison} needs to know. */
export interface AnalysisOptions {
  /** The seeds' pretrainings, for the ones that diverged; none by default. */
  readonly pretrainings?: readonly PretrainRecord[];
  /** The points the grid declared, reached or not (at least those with runs); by default those with runs. */
  readonly declaredPoints?: number;
  /**
   * The strategies the grid declared, in the order to show them: {@linkcode BASELINE} among them, each
   * once, every run's among them. By default those of the runs and the baseline, in `STRATEGY_NAMES`
   * order, which cannot know of a declared strategy that no run finished: a seed would then pass for
   * complete without it.
   */
  readonly strategies?: readonly StrategyName[];
}

const pointKey = (p: GridPoint) => `${p.relatedness}/${p.targetTrainRows}`;

/** The statistics of `runs` (see the module doc). */
export function analyzeComparison(
  runs: readonly RunRecord[],
  options: AnalysisOptions = {},
): ComparisonSummary {
  const groups = new Map<string, RunRecord[]>();
  for (const run of runs) {
    const key = pointKey(run);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(run);
  }
  const declared = options.declaredPoints ?? groups.size;
  if (!(Number.isInteger(declared) && declared >= groups.size)) {
    throw new RangeError(`the grid declares ${declared} points, but the runs cover ${groups.size}`);
  }
  const strategies = declaredStrategies(runs, options.strategies);
  const familySize = (strategies.length - 1) * declared;
  const points = [...groups.values()].map((here) => describePoint(here, strategies));
  const comparisons = points.flatMap((point) => point.comparisons);
  const signFlipHolm = holm(comparisons.map((c) => c.signFlip.p), familySize);
  const tested = comparisons.filter((c) => c.tTest !== null);
  const tCorrected = holm(tested.map((c) => c.tTest!.p), familySize);
  const tHolm = new Map(tested.map((c, i) => [c, tCorrected[i]]));
  const level = ALPHA / familySize;
  const corrected = new Map(comparisons.map((c, i) => {
    const pHolm = signFlipHolm[i];
    const significant = pHolm < ALPHA;
    const spread = c.gain.std;
    const needed = significant || spread === null ? null : seedsNeeded(c.gain.mean, spread, level, POWER);
    const seeds = needed === null ? null : Math.max(needed, signFlipMinimumValues(level));
    return [c, {
      ...c,
      tTest: c.tTest === null ? null : { ...c.tTest, pHolm: tHolm.get(c)! },
      signFlip: { ...c.signFlip, pHolm },
      significant,
      seedsNeeded: seeds,
    }];
  }));
  return {
    verdictTest: VERDICT_TEST,
    alpha: ALPHA,
    power: POWER,
    strategies,
    familySize,
    points: points.map((point) => ({
      ...point,
      comparisons: point.comparisons.map((c) => corrected.get(c)!),
    })),
    pretrainingDiverged: (options.pretrainings ?? []).flatMap((p) =>
      p.diverged === null ? [] : [{ seed: p.seed, epoch: p.diverged.epoch }]
    ),
  };
}

/** `declared` checked against `runs`, or by default the strategies of the runs and the baseline. */
function declaredStrategies(
  runs: readonly RunRecord[],
  declared: readonly StrategyName[] | undefined,
): StrategyName[] {
  const ran = new Set(runs.map((run) => run.strategy));
  if (declared === undefined) return STRATEGY_NAMES.filter((s) => s === BASELINE || ran.has(s));
  const problem = !declared.includes(BASELINE)
    ? `leave out the baseline, ${BASELINE}`
    : new Set(declared).size !== declared.length
    ? "name a strategy twice"
    : [...ran].some((s) => !declared.includes(s))
    ? `leave out ${[...ran].filter((s) => !declared.includes(s)).join(", ")}, which ran`
    : null;
  if (problem !== null) throw new RangeError(`the declared strategies (${declared.join(", ")}) ${problem}`);
  return [...declared];
}

/** The seeds used at a point, each of `strategies` over them, and the (not yet corrected) comparisons. */
function describePoint(here: readonly RunRecord[], strategies: readonly StrategyName[]): PointSummary {
  const { relatedness, targetTrainRows } = here[0];
  const bySeed = new Map<number, Map<StrategyName, RunRecord>>();
  for (const run of here) {
    if (!bySeed.has(run.seed)) bySeed.set(run.seed, new Map());
    bySeed.get(run.seed)!.set(run.strategy, run);
  }
  const seeds = [...bySeed.keys()];
  const complete = seeds.filter((seed) => strategies.every((s) => bySeed.get(seed)!.has(s)));
  const incomplete = seeds.filter((seed) => !complete.includes(seed)).map((seed) => ({
    seed,
    finished: strategies.filter((s) => bySeed.get(seed)!.has(s)),
  }));
  const diverged = here.flatMap((run) =>
    run.diverged === null ? [] : [{ seed: run.seed, strategy: run.strategy, epoch: run.diverged.epoch }]
  );
  const seedsUsed = complete.filter((seed) =>
    [...bySeed.get(seed)!.values()].every((r) => r.diverged === null)
  );
  const point = { relatedness, targetTrainRows, seedsUsed, incomplete, diverged };
  if (seedsUsed.length === 0) return { ...point, strategies: [], comparisons: [] };
  const runsOf = (strategy: StrategyName) => seedsUsed.map((seed) => bySeed.get(seed)!.get(strategy)!);
  const unranked = strategies.map((strategy) => strategyStats(strategy, runsOf(strategy)));
  const top = Math.max(...unranked.map((s) => s.validationAccuracy.mean));
  const ranked = unranked.map((s) => ({ ...s, best: s.validationAccuracy.mean === top }));
  const baseline = runsOf(BASELINE).map((run) => run.target.test.accuracy);
  const comparisons = strategies.filter((s) => s !== BASELINE).map((strategy): BaselineComparison => {
    const differences = pairedDifferences(runsOf(strategy).map((run) => run.target.test.accuracy), baseline);
    const tTest = pairedTTest(differences);
    return {
      strategy,
      seeds: differences.length,
      gain: summarize(differences, GAIN_RANGE),
      tTest: tTest === null ? null : { ...tTest, pHolm: tTest.p },
      signFlip: { ...signFlipTest(differences), pHolm: 1 },
      significant: false,
      seedsNeeded: null,
    };
  });
  return { ...point, strategies: ranked, comparisons };
}

function strategyStats(strategy: StrategyName, runs: readonly RunRecord[]): StrategyStats {
  return {
    strategy,
    validationAccuracy: summarize(runs.map((run) => run.target.validation.accuracy), ACCURACY_RANGE),
    accuracy: summarize(runs.map((run) => run.target.test.accuracy), ACCURACY_RANGE),
    loss: summarize(runs.map((run) => run.target.test.loss), [0, Infinity]),
    sourceAccuracy: mean(runs.map((run) => run.sourceTest.accuracy)),
    seconds: mean(runs.map((run) => run.seconds)),
    best: false,
  };
}

/** Whether `run` is one of the runs its point's numbers use. */
export function isUsed(summary: ComparisonSummary, run: RunRecord): boolean {
  const point = summary.points.find((p) => pointKey(p) === pointKey(run));
  return point !== undefined && point.seedsUsed.includes(run.seed);
}
