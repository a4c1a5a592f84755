/**
 * Seeded property-based fuzzing of the run program's flags (fast-check, in-process): any argument
 * list either parses to options within the flags' documented ranges, prints help, or is refused
 * with one short, clean UsageError line. Nothing else may be thrown.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { outcome, SETUP_FLAGS } from "../../helpers/fuzz.ts";
import { UsageError } from "../../../src/core/errors.ts";
import { STRATEGY_NAMES } from "../../../src/core/recipes.ts";
import { parseRunArgs } from "../../../src/programs/run/flags.ts";

const FLAGS = [
  ...SETUP_FLAGS,
  "-s",
  "--strategy",
  "-o",
  "--output",
  "--save-pretrained",
  "--save",
  "--from",
];
const VALUES = [
  ...STRATEGY_NAMES,
  "auto",
  "gpu",
  "cpu",
  "wasm",
  "ts",
  "0",
  "1",
  "2",
  "64",
  "65",
  "-1",
  "1e3",
  "0x10",
  " 2",
  "",
  "config.yaml",
  "a\nb",
  "\u001b[31mred",
  "é",
];

/** An argument: a known flag, a value, `--flag=value`, or any string at all. */
const argument = fc.oneof(
  fc.constantFrom(...FLAGS),
  fc.constantFrom(...VALUES),
  fc.tuple(fc.constantFrom(...FLAGS), fc.constantFrom(...VALUES)).map(([flag, value]) => `${flag}=${value}`),
  fc.string({ maxLength: 40 }),
);

Deno.test("fuzz: run flags parse into their ranges, print help, or give one clean UsageError line", () => {
  fc.assert(
    fc.property(fc.array(argument, { maxLength: 8 }), (args) => {
      const parsed = outcome(() => parseRunArgs(args));
      if (parsed === undefined) return;
      if ("print" in parsed) return;
      const o = parsed.run;
      assert.match(o.strategy, /^[a-z][a-z0-9_]{0,39}$/, "a recipe's name, checked against the config later");
      assert.ok(o.device === null || ["auto", "gpu", "cpu"].includes(o.device));
      assert.ok(o.cpuKernels === null || ["auto", "wasm", "ts"].includes(o.cpuKernels));
      assert.ok(
        o.threads === null || o.threads === "auto" || (Number.isInteger(o.threads) && o.threads >= 1),
      );
      assert.equal(typeof o.config, "string");
    }),
    { seed: 42, numRuns: 2000 },
  );
});

Deno.test("run flags: a flag given twice is refused, in any spelling, rather than the last silently winning", () => {
  for (
    const args of [["-c", "a.yaml", "--config", "b.yaml"], ["--device=cpu", "-d", "gpu"], [
      "-t",
      "1",
      "-t",
      "1",
    ]]
  ) {
    assert.throws(
      () => parseRunArgs(args),
      (error: Error) =>
        error instanceof UsageError && /^--\w[\w-]* is given 2 times; give it once$/.test(error.message),
      args.join(" "),
    );
  }
  assert.ok("run" in parseRunArgs(["-c", "a.yaml", "-d", "cpu"]), "different flags are fine");
});
