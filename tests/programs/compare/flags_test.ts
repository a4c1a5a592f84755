/**
 * The compare flags that choose what runs: `--strategies` by default gives the four classic strategies;
 * a list runs in the recipes' order (built-in ones, then the config's) whatever order it is given in;
 * `scratch`, the baseline, is added when left out (and the options say so); bad lists, and names that
 * are no recipe of the config, are one-line UsageErrors that name the culprit and the allowed names.
 */

import assert from "node:assert/strict";
import { UsageError } from "../../../src/core/errors.ts";
import { defaultConfig, experimentSpec, parseConfig } from "../../../src/app/config.ts";
import { CLASSIC_STRATEGIES, STRATEGY_NAMES } from "../../../src/core/recipes.ts";
import {
  type CompareOptions,
  orderedStrategies,
  parseCompareArgs,
} from "../../../src/programs/compare/flags.ts";

/** The strategies `args` run with the default config: in its recipes' order. */
function ordered(args: readonly string[], spec = experimentSpec(defaultConfig())): string[] {
  return orderedStrategies(spec, options(args));
}

/** The options `args` parse to; fails when they print help instead. */
function options(args: readonly string[]): CompareOptions {
  const parsed = parseCompareArgs(args);
  assert.ok("run" in parsed, "options, not help");
  return parsed.run;
}

/** The UsageError `args` are refused with. */
function refusal(args: readonly string[]): string {
  try {
    parseCompareArgs(args);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    assert.doesNotMatch(error.message, /\n/);
    return error.message;
  }
  assert.fail(`${args.join(" ")} parsed`);
}

const ALLOWED = STRATEGY_NAMES.join(", ");

Deno.test("--strategies: by default the four classic strategies, scratch among them and nothing added", () => {
  const o = options([]);
  assert.deepEqual(o.strategies, ["feature_extractor", "head_finetune", "full_finetune", "scratch"]);
  assert.deepEqual(o.strategies, [...CLASSIC_STRATEGIES]);
  assert.equal(o.baselineAdded, false);
  // Parsing twice gives lists of their own (the default is not shared).
  const again = options([]);
  again.strategies.pop();
  assert.equal(options([]).strategies.length, 4);
});

Deno.test("--strategies: a list runs in the recipes' order, whatever order it is given in", () => {
  assert.deepEqual(ordered(["--strategies", "surgical,scratch,bitfit"]), ["scratch", "bitfit", "surgical"]);
  assert.equal(options(["--strategies", "surgical,scratch,bitfit"]).baselineAdded, false);
  assert.deepEqual(ordered(["--strategies", [...STRATEGY_NAMES].reverse().join(",")]), [...STRATEGY_NAMES]);
  // Items are trimmed, as the number lists' are; `--flag=value` works too.
  assert.deepEqual(ordered(["--strategies= lp_ft , scratch"]), ["scratch", "lp_ft"]);
});

Deno.test("--strategies: a list without scratch gets it added, and the options say so", () => {
  const o = options(["--strategies", "bitfit,surgical"]);
  assert.deepEqual(ordered(["--strategies", "bitfit,surgical"]), ["scratch", "bitfit", "surgical"]);
  assert.equal(o.baselineAdded, true);
  const one = options(["--strategies", "lp_ft", "--seeds", "3"]);
  assert.deepEqual(ordered(["--strategies", "lp_ft"]), ["scratch", "lp_ft"]);
  assert.equal(one.baselineAdded, true);
  assert.equal(one.seeds, 3);
});

Deno.test("--strategies: the config's own recipes run too, after the built-in ones; an unknown name is refused", () => {
  const spec = experimentSpec(parseConfig(
    "recipes:\n  mine:\n    stages: [{share: 1, train: {head: both}}]\n",
    "c.yaml",
  ));
  assert.deepEqual(ordered(["--strategies", "mine,bitfit"], spec), ["scratch", "bitfit", "mine"]);
  assert.throws(
    () => ordered(["--strategies", "bitfit,foo"], spec),
    (error: Error) =>
      error instanceof UsageError &&
      error.message ===
        `--strategies: no recipe 'foo'; the built-in ones are ${ALLOWED}; the config defines mine`,
  );
  assert.throws(
    () => ordered(["--strategies", "foo"]),
    (error: Error) => error instanceof UsageError && /the config defines none/.test(error.message),
  );
});

Deno.test("--strategies: malformed, empty and repeated names, and scratch alone, are one-line errors naming the fix", () => {
  const cases: [string, RegExp][] = [
    ["Scratch", /'Scratch' is no recipe's name /],
    ["bitfit,,scratch", /'' is no recipe's name /],
    ["bitfit,", /'' is no recipe's name /],
    ["", /'' is no recipe's name /],
    ["bitfit;scratch", /'bitfit;scratch' is no recipe's name /],
    ["bitfit,scratch,bitfit", /'bitfit' is given twice; give each strategy once/],
    ["scratch, scratch", /'scratch' is given twice/],
    ["scratch", /'scratch' alone compares nothing \(it is the baseline\); add a strategy to compare with it/],
  ];
  for (const [value, says] of cases) {
    const message = refusal(["--strategies", value]);
    assert.match(message, /^option '--strategies <list>' argument /, value);
    assert.match(message, says, value);
    assert.match(message, /; see --help$/, value);
    if (/is no recipe's name/.test(message)) {
      assert.ok(
        message.includes(`(${ALLOWED}, or one of the config's recipes); give a comma-separated list`),
        message,
      );
    }
  }
  assert.match(refusal(["--strategies", "bitfit", "--strategies", "lp_ft"]), /--strategies is given 2 times/);
  assert.match(refusal(["--strategies"]), /--strategies <list>' argument missing/);
});

Deno.test("--help names every strategy, the default, and that scratch always runs", () => {
  const parsed = parseCompareArgs(["--help"]);
  assert.ok("print" in parsed);
  const help = parsed.print.replace(/\s+/g, " ");
  assert.ok(help.includes(`--strategies <list> strategies to run, comma-separated, from ${ALLOWED}`), help);
  assert.match(help, /scratch, the baseline, always runs \(added when left out\)/);
  assert.match(help, /\(default: feature_extractor,head_finetune,full_finetune,scratch\)/);
});
