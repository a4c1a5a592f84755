/**
 * Seeded property-based fuzzing of the bench program's flags (fast-check, in-process): any argument
 * list either parses to options within the flags' documented ranges, prints help, or is refused
 * with one short, clean UsageError line. Nothing else may be thrown.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { outcome } from "../../helpers/fuzz.ts";
import { parseBenchArgs } from "../../../src/programs/bench/flags.ts";

const FLAGS = [
  "--quick",
  "-q",
  "--no-quick",
  "-o",
  "--output",
  "-h",
  "--help",
  "--",
  "-",
  "--nope",
  // the shared setup flags, which bench does not have
  "-c",
  "--config",
  "-d",
  "--device",
  "-t",
  "--threads",
];
const VALUES = [
  "",
  "true",
  "false",
  "0",
  "1",
  "-1",
  "1e3",
  "0x10",
  "out.json",
  "bench/results.json",
  "--quick",
  "config.yaml",
  "a\nb",
  "\u001b[31mred",
  "\u2028",
  "\u0085",
  "é",
  "😀",
];

/** Characters that would break the one-line message: C0, DEL, C1, U+2028, U+2029. */

/** An argument: a known flag, a value, `--flag=value`, or any string at all. */
const argument = fc.oneof(
  fc.constantFrom(...FLAGS),
  fc.constantFrom(...VALUES),
  fc.tuple(fc.constantFrom(...FLAGS), fc.constantFrom(...VALUES)).map(([flag, value]) => `${flag}=${value}`),
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 40, unit: "binary" }),
);

/** Arguments: single ones, and a flag followed by a value (the usual shape), up to 8 in all. */
const args = fc.array(
  fc.oneof(argument.map((a) => [a]), fc.tuple(fc.constantFrom(...FLAGS), fc.constantFrom(...VALUES))),
  { maxLength: 5 },
).map((groups) => groups.flat().slice(0, 8));

Deno.test("fuzz: bench flags parse into their ranges, print help, or give one clean UsageError line", () => {
  fc.assert(
    fc.property(args, (args) => {
      const parsed = outcome(() => parseBenchArgs(args));
      if (parsed === undefined) return;
      if ("print" in parsed) {
        assert.match(parsed.print, /^Usage: deno task bench/);
        return;
      }
      const o = parsed.run;
      assert.equal(typeof o.quick, "boolean");
      assert.ok(o.output === null || typeof o.output === "string");
      assert.deepEqual(Object.keys(o).sort(), ["output", "quick"]);
    }),
    { seed: 42, numRuns: 2000 },
  );
});
