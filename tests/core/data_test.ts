/** The synthetic tasks: deterministic, well formed, related as documented. */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { defaultConfig } from "../../src/app/config.ts";
import type { Dataset } from "../../src/core/data.ts";
import { deriveSeed, Rng } from "../../src/core/rng.ts";
import { epochOrder } from "../../src/core/shuffle.ts";
import { dataFor } from "../helpers/helpers.ts";

function digest(sets: Dataset[]): string {
  const hash = createHash("sha256");
  for (const d of sets) {
    hash.update(new Uint8Array(d.x.buffer, d.x.byteOffset, d.x.byteLength));
    hash.update(new Uint8Array(d.labels.buffer, d.labels.byteOffset, d.labels.byteLength));
  }
  return hash.digest("hex");
}

const allSets = (config = defaultConfig()) => {
  const data = dataFor(config);
  return [data.source.train, data.source.test, data.target.train, data.target.test];
};

Deno.test("the same seed gives bit-identical data; another seed does not", () => {
  assert.equal(digest(allSets()), digest(allSets()));
  const other = defaultConfig();
  other.data.random_seed = 43;
  assert.notEqual(digest(allSets()), digest(allSets(other)));
});

Deno.test("the default data matches its recorded fingerprint on every platform", () => {
  // Recorded once from this generator. A change here means every seed's data changed: either the
  // PRNG, the generator or the platform's maths moved; update it only for a deliberate change.
  assert.equal(digest(allSets()), FINGERPRINT);
});

Deno.test("splits have the configured sizes, labels in range and every class present", () => {
  const config = defaultConfig();
  const data = dataFor(config);
  assert.equal(data.source.train.n + data.source.test.n, 2000);
  assert.equal(data.source.test.n, 400);
  assert.equal(data.target.train.n + data.target.test.n, 800);
  assert.equal(data.target.test.n, 160);
  for (const set of allSets(config)) {
    assert.equal(set.x.length, set.n * 20);
    const counts = [0, 0, 0];
    for (const label of set.labels) counts[label]++;
    assert.equal(counts.reduce((a, b) => a + b), set.n, "labels out of range");
    for (const count of counts) assert.ok(count > set.n / 10, `unbalanced classes ${counts}`);
  }
});

Deno.test("target inputs are shifted away from the source's", () => {
  const data = dataFor(defaultConfig());
  const mean = (d: Dataset) =>
    Array.from({ length: d.features }, (_, f) => {
      let s = 0;
      for (let i = 0; i < d.n; i++) s += d.x[i * d.features + f];
      return s / d.n;
    });
  const source = mean(data.source.train), target = mean(data.target.train);
  const distance = Math.hypot(...source.map((v, f) => v - target[f]));
  assert.ok(distance > 0.3 && distance < 0.8, `mean shift ${distance}`);
});

Deno.test("relatedness moves the target's labelling rule gradually away from the source's", () => {
  // The target inputs do not depend on relatedness, so the same rows can be labelled at several
  // settings: the labels at 0.8 must agree with those at 1 (the source's rule) far more than the
  // labels at 0 (an unrelated rule) do.
  const at = (r: number) => {
    const config = defaultConfig();
    config.data.relatedness = r;
    return dataFor(config).target.train;
  };
  const one = at(1), zero = at(0), mid = at(0.8);
  assert.deepEqual(one.x, zero.x, "inputs do not depend on relatedness");
  const agreement = (a: Dataset, b: Dataset) =>
    a.labels.filter((label, i) => label === b.labels[i]).length / a.n;
  assert.ok(
    agreement(one, mid) > agreement(one, zero) + 0.2,
    "labels at 0.8 are not closer to the source rule than at 0",
  );
});

Deno.test("PRNG: uniform and normal moments, unbiased below(), full permutations", () => {
  const rng = new Rng(deriveSeed(1, "moments"));
  let sum = 0, squares = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    sum += z;
    squares += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.02 && Math.abs(squares / n - 1) < 0.02);
  const counts = new Array(3).fill(0);
  for (let i = 0; i < 30_000; i++) counts[rng.below(3)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `below(3) counts ${counts}`);
  const order = new Uint32Array(50);
  epochOrder(order, 7, 1);
  assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  const second = new Uint32Array(50);
  epochOrder(second, 7, 2);
  assert.notDeepEqual(order, second, "each epoch needs a fresh shuffle");
});

const FINGERPRINT = "acc60803412dc7dad7e395fdbdf35de2556634732059ac4a827fd84ca69c6a29";
