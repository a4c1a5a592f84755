/**
 * Seeded property-based fuzzing of the config and `.env` parsers (fast-check, in-process), and one
 * subprocess check of the real run program on hostile configs: every input either parses to a Config
 * that passes its own schema again, or is refused with one short, clean UsageError line.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import * as yaml from "js-yaml";
import { parseConfig, parseDotEnv, parseSeed } from "../../src/app/config.ts";
import { MAX_MESSAGE, outcome } from "../helpers/fuzz.ts";
import { runProgram } from "../helpers/helpers.ts";

const SEED = 42;

const KNOWN: Record<string, string[]> = {
  logging: ["level", "file", "max_bytes", "backup_count"],
  data: [
    "base_n_samples",
    "target_n_samples",
    "n_features",
    "n_classes",
    "random_seed",
    "test_fraction",
    "shift",
  ],
  model: ["hidden_dim", "hidden_dims"],
  engine: ["device", "cpu_kernels", "threads"],
  training: ["base_epochs", "batch_size", "learning_rate_base", "target_steps", "early_stopping_patience"],
};

const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("INFO", "cpu", "auto", "mixed", "logs/x.log", "\u001b[31mred\n", "a\u2028b", ""),
  fc.nat({ max: 5000 }).map((n) => "x".repeat(n * 20)),
);

const scalar = fc.oneof(
  fc.integer({ min: -5, max: 300 }),
  fc.constantFrom(0, 1, 2, 3, 32, 1e9, 1e15, 2 ** 53, 1e300, -1, 0.5, 4294967296, 100000),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  hostileString,
);

const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.constantFrom(1, 8, 64, 1000, 30000, 100000), { minLength: 1, maxLength: 3 }),
    fc.dictionary(hostileString, tie("value"), { maxKeys: 3 }),
  ),
})).value;

const section = fc.constantFrom(...Object.keys(KNOWN)).chain((name) =>
  fc.tuple(
    fc.constant(name),
    fc.dictionary(fc.oneof(fc.constantFrom(...KNOWN[name]), hostileString), value, { maxKeys: 5 }),
  )
);

const documentObject = fc.oneof(
  fc.array(section, { maxLength: 5 }).map((entries) => Object.fromEntries(entries)),
  fc.dictionary(hostileString, value, { maxKeys: 3 }),
  value,
);

/** Nested anchors and aliases, `levels` deep and `width` wide, at model.hidden_dims or logging.level. */
const aliasBomb = fc.record({
  levels: fc.integer({ min: 1, max: 12 }),
  width: fc.integer({ min: 2, max: 12 }),
  where: fc.constantFrom("model:\n  hidden_dims", "logging:\n  level", "data:\n  shift"),
}).map(({ levels, width, where }) => {
  let text = "&a0 [lol]";
  for (let i = 1; i <= levels; i++) {
    text = `&a${i} [${text}, ${Array(width - 1).fill(`*a${i - 1}`).join(", ")}]`;
  }
  return `${where}: ${text}\n`;
});

/** Config text: dumped documents (valid YAML), their mutations, raw text, deep nesting and bombs. */
const configText = fc.oneof(
  documentObject.map((doc) => yaml.dump(doc, { skipInvalid: true })),
  documentObject.map((doc) => JSON.stringify(doc) ?? ""),
  fc.tuple(documentObject, fc.nat(), fc.string({ unit: "binary", maxLength: 8 })).map(([doc, at, junk]) => {
    const text = yaml.dump(doc, { skipInvalid: true });
    const i = at % (text.length + 1);
    return text.slice(0, i) + junk + text.slice(i);
  }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.constantFrom("[", "{", "- ").chain((open) =>
    fc.integer({ min: 1, max: 20000 }).map((n) => `model:\n  hidden_dims: ${open.repeat(n)}`)
  ),
  aliasBomb,
);

const envLine = fc.oneof(
  fc.constantFrom(
    "RANDOM_SEED",
    "random_seed",
    "Random-Seed",
    "RANDOMSEED",
    "export RANDOM_SEED",
    "OTHER",
    "",
  )
    .chain((key) =>
      fc.tuple(fc.constant(key), fc.constantFrom("=", ": ", " = ", "=="), hostileString).map(([k, s, v]) =>
        `${k}${s}${v}`
      )
    ),
  fc.constantFrom("# comment", "", "   ", "RANDOM_SEED='7'", 'RANDOM_SEED="8" # x', "RANDOM_SEED='open"),
  fc.string({ unit: "binary", maxLength: 40 }),
);

Deno.test("fuzz: parseConfig returns a Config that passes its own schema, or one clean UsageError line", () => {
  fc.assert(
    fc.property(configText, (text) => {
      const config = outcome(() => parseConfig(text, "fuzz.yaml"));
      if (config !== undefined) assert.deepEqual(parseConfig(yaml.dump(config), "again.yaml"), config);
    }),
    { seed: SEED, numRuns: 1500 },
  );
});

Deno.test("fuzz: parseDotEnv and parseSeed return values or one clean UsageError line", () => {
  fc.assert(
    fc.property(fc.array(envLine, { maxLength: 8 }), fc.constantFrom("\n", "\r\n"), (lines, eol) => {
      const env = outcome(() => parseDotEnv(lines.join(eol)));
      if (env === undefined) return;
      for (const warning of env.warnings) {
        // deno-lint-ignore no-control-regex
        assert.ok(warning.length < MAX_MESSAGE && !/[\r\n\u001b]/.test(warning), JSON.stringify(warning));
      }
      if (env.seed !== undefined) {
        const seed = outcome(() => parseSeed(env.seed!));
        if (seed !== undefined) assert.ok(Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 32 - 1);
      }
    }),
    { seed: SEED, numRuns: 1500 },
  );
});

Deno.test("fuzz: the run program exits 2 with one error line on hostile configs", async () => {
  const hostile = [
    fc.sample(aliasBomb, { seed: SEED, numRuns: 1 })[0].replace(/^/, "# bomb\n"),
    "model:\n  hidden_dims: [100000, 100000]\n",
    "data:\n  base_n_samples: 1e9\n",
    `logging:\n  level: "\\e[2J\\nINFO${"x".repeat(100000)}"\n`,
    "\u0000\u0001\u00ff binary \u001b[31m\n",
    `model:\n  hidden_dims: ${"[".repeat(50000)}\n`,
    "logging:\n  level: &a [*a]\n",
    `# ${"x".repeat(2 * 1024 * 1024)}\n`,
  ];
  const dir = await Deno.makeTempDir({ prefix: "fuzz_cli_" });
  try {
    const runs = await Promise.all(hostile.map(async (text, i) => {
      const path = join(dir, `hostile${i}.yaml`);
      await Deno.writeTextFile(path, text);
      return runProgram("src/programs/run/main.ts", ["--config", path, "--output", join(dir, "out.json")], {
        cwd: dir,
        permissions: ["--allow-read", "--allow-write", "--allow-env=RANDOM_SEED"],
      });
    }));
    runs.forEach((run, i) => {
      const context = `config ${i}: exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${
        run.stderr.slice(0, 2000)
      }`;
      assert.equal(run.code, 2, context);
      const lines = run.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, context);
      assert.match(lines[0], /^error: /, context);
      assert.ok(lines[0].length < MAX_MESSAGE, context);
      assert.doesNotMatch(run.stderr, /^\s*at /m, context);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
