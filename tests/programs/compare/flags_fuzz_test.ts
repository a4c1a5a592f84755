/**
 * Seeded property-based fuzzing of the compare program's flags (fast-check, in-process): any argument
 * list either parses to options within the flags' documented ranges, prints help, or is refused
 * with one short, clean UsageError line. Nothing else may be thrown.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { outcome, SETUP_FLAGS } from "../../helpers/fuzz.ts";
import { CPU_KERNEL_CHOICES, DEVICE_CHOICES, MAX_THREADS } from "../../../src/app/engine_choices.ts";
import { STRATEGY_NAMES } from "../../../src/core/recipes.ts";
import { MAX_SEEDS, parseCompareArgs } from "../../../src/programs/compare/flags.ts";

const FLAGS = [
  "-n",
  "--seeds",
  "--target-samples",
  "--relatedness",
  "--strategies",
  "--strategy",
  "-o",
  "--out-dir",
  ...SETUP_FLAGS,
  "--seed",
  "-s",
];
const VALUES = [
  ...DEVICE_CHOICES,
  ...CPU_KERNEL_CHOICES,
  "0",
  "1",
  "2",
  "10",
  "1000",
  "1001",
  "64",
  "65",
  "-1",
  "-0",
  "0.5",
  "1.5",
  "1e3",
  "1e6",
  "1e7",
  "0x10",
  "0b11",
  "Infinity",
  "NaN",
  "99999999999999999999",
  " 2",
  "2 ",
  "",
  ",",
  "25,50,100",
  "50,50",
  "50,0x32",
  "0,0.25,0.5,0.75,1",
  "0.5,1,0.50",
  "0,-0",
  ...STRATEGY_NAMES,
  "bitfit,surgical",
  "scratch,bitfit,scratch",
  "surgical, scratch ,lp_ft",
  "Scratch",
  "scratch,",
  "a,,b",
  "1,",
  ",1",
  "1,,2",
  "1\n2",
  "config.yaml",
  "runs/out",
  "a\nb",
  "\u001b[31mred",
  "\u2028",
  "\u0085",
  "é",
  "😀",
];

/** A comma-separated list of plausible and hostile items, with odd separators now and then. */
const list = fc.tuple(
  fc.array(
    fc.constantFrom(
      ...["0", "-0", "0.25", "0.5", "0.50", "1", "1.0", "25", "50", "800", "-1", "1e3", "0x10", "1e7"],
      ...["", " 3 ", "x", "\n", "\u001b[0m", "é", "Infinity"],
    ),
    { minLength: 1, maxLength: 5 },
  ),
  fc.constantFrom(",", ", ", ",,", ";"),
).map(([items, separator]) => items.join(separator));

/** Comma-separated `items`, 1 to 6 of them, sometimes with a trailing comma. */
const joined = (items: fc.Arbitrary<number>) =>
  fc.tuple(fc.array(items, { minLength: 1, maxLength: 6 }), fc.boolean()).map(([values, trailing]) =>
    values.join(",") + (trailing ? "," : "")
  );

/** Lists near the range of `--target-samples` (small values repeat now and then). */
const sizes = joined(fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: -1, max: 1_000_001 })));

/** Lists near the range of `--relatedness` (quarters repeat now and then). */
const relatedness = joined(
  fc.oneof(
    fc.integer({ min: 0, max: 4 }).map((quarter) => quarter / 4),
    fc.double({ min: -0.1, max: 1.1, noNaN: true }),
  ),
);

/** Lists of recipe names: distinct ones in any order, or with repeats, near misses and hostile items. */
const strategies = fc.oneof(
  {
    arbitrary: fc.shuffledSubarray([...STRATEGY_NAMES], { minLength: 1 }).map((names) => names.join(",")),
    weight: 3,
  },
  fc.tuple(
    fc.array(
      fc.oneof(
        { arbitrary: fc.constantFrom(...STRATEGY_NAMES), weight: 6 },
        fc.constantFrom("", " scratch", "bitfit ", "SCRATCH", "lp-ft", "all", "\u001b[0m", "é", "\n"),
      ),
      { minLength: 1, maxLength: 10 },
    ),
    fc.constantFrom(",", ",", ", ", ",,", ";"),
  ).map(([items, separator]) => items.join(separator)),
);

/** A list flag with a value near its range. */
const numericPair = fc.oneof(
  fc.tuple(fc.constant("--strategies"), fc.oneof({ arbitrary: strategies, weight: 3 }, list)),
  fc.tuple(fc.constant("--target-samples"), fc.oneof(sizes, list)),
  fc.tuple(fc.constant("--relatedness"), fc.oneof(relatedness, list)),
  fc.tuple(fc.constantFrom("--seeds", "-n"), fc.integer({ min: -1, max: MAX_SEEDS + 1 }).map(String)),
);

const value = fc.oneof(fc.constantFrom(...VALUES), list, sizes, relatedness, strategies);

/** Characters that would break the one-line message: C0, DEL, C1, U+2028, U+2029. */

/** An argument: a known flag, a value, `--flag=value`, or any string at all. */
const argument = fc.oneof(
  fc.constantFrom(...FLAGS),
  value,
  fc.tuple(fc.constantFrom(...FLAGS), value).map(([flag, v]) => `${flag}=${v}`),
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 40, unit: "binary" }),
);

/** Whether `values` is null, or a non-empty, strictly increasing list that `ok` accepts throughout. */
function goodList(values: readonly number[] | null, ok: (v: number) => boolean): boolean {
  if (values === null) return true;
  return Array.isArray(values) && values.length > 0 &&
    values.every((v, i) =>
      typeof v === "number" && Number.isFinite(v) && !Object.is(v, -0) && ok(v) &&
      (i === 0 || values[i - 1] < v)
    );
}

/** Arguments: single ones, and a flag followed by a value (the usual shape), up to 8 in all. */
const args = fc.array(
  fc.oneof(
    argument.map((a) => [a]),
    fc.tuple(fc.constantFrom(...FLAGS), value),
    { arbitrary: numericPair, weight: 3 },
  ),
  { maxLength: 5 },
).map((groups) => groups.flat().slice(0, 8));

Deno.test("fuzz: compare flags parse into their ranges, print help, or give one clean UsageError line", () => {
  fc.assert(
    fc.property(args, (args) => {
      const parsed = outcome(() => parseCompareArgs(args));
      if (parsed === undefined) return;
      if ("print" in parsed) {
        assert.match(parsed.print, /^Usage: deno task compare/);
        return;
      }
      const o = parsed.run;
      assert.ok(Number.isInteger(o.seeds) && o.seeds >= 1 && o.seeds <= MAX_SEEDS, String(o.seeds));
      assert.ok(
        goodList(o.targetSamples, (v) => Number.isInteger(v) && v >= 1 && v <= 1e6),
        JSON.stringify(o.targetSamples),
      );
      assert.ok(goodList(o.relatedness, (v) => v >= 0 && v <= 1), JSON.stringify(o.relatedness));
      // Well-formed names, each once, scratch among them and at least one other (whether each names a
      // recipe is checked once the config is read).
      assert.ok(
        o.strategies.length >= 2 && o.strategies.includes("scratch") &&
          o.strategies.every((name, i) =>
            /^[a-z][a-z0-9_]{0,39}$/.test(name) && o.strategies.indexOf(name) === i
          ),
        JSON.stringify(o.strategies),
      );
      assert.equal(typeof o.baselineAdded, "boolean");
      const given = args.some((a) => a === "--strategies" || a.startsWith("--strategies="));
      if (!given) {
        assert.deepEqual(o.strategies, ["feature_extractor", "head_finetune", "full_finetune", "scratch"]);
      }
      if (!given) assert.equal(o.baselineAdded, false);
      assert.ok(o.outDir === null || typeof o.outDir === "string");
      assert.equal(typeof o.config, "string");
      assert.ok(o.device === null || DEVICE_CHOICES.includes(o.device));
      assert.ok(o.cpuKernels === null || CPU_KERNEL_CHOICES.includes(o.cpuKernels));
      assert.ok(
        o.threads === null || o.threads === "auto" ||
          (Number.isInteger(o.threads) && o.threads >= 1 && o.threads <= MAX_THREADS),
      );
    }),
    { seed: 42, numRuns: 2000 },
  );
});
