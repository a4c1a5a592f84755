/** `run --profile`'s profile per phase: pretraining, then each stage of the transfer that trains. */

import assert from "node:assert/strict";
import type { PhaseStart } from "../../../src/core/train.ts";
import type { GpuProfile, GpuProfiler } from "../../../src/engines/gpu/profiler.ts";
import { StageProfiles } from "../../../src/programs/run/stage_profiles.ts";

/** A profiler whose every take is a profile of `n` waits, n counting the takes from 1. */
function countingProfiler(): GpuProfiler {
  let takes = 0;
  const take = (): Promise<GpuProfile> =>
    Promise.resolve({ kernels: [], timed: false, waits: ++takes, waitSeconds: 0 });
  return { take } as unknown as GpuProfiler;
}

/** The `started` event of stage `stage` of `stages` of a transfer, with `epochs` epochs. */
function stageStart(stage: number, stages: number, epochs: number): PhaseStart {
  return {
    task: "target",
    strategy: "lp_ft",
    learningRate: 0.02,
    layerRates: [],
    notes: [],
    stage,
    stages,
    segment: { firstEpoch: 1, epochs, layerRates: [] },
  } as unknown as PhaseStart;
}

/** Each profile's name and the take it came from (its waits). */
async function named(profiles: StageProfiles): Promise<string[]> {
  return (await profiles.formatted()).map((text) => {
    const [, name, take] = text.match(/^profile of (.*): no kernel times .*: (\d+) \(/)!;
    return `${name} #${take}`;
  });
}

Deno.test("stage profiles: one for pretraining, then one for each stage of the transfer, in order", async () => {
  const profiles = new StageProfiles(countingProfiler(), "lp_ft");
  profiles.started({ ...stageStart(1, 1, 20), task: "source", strategy: null }); // pretraining: no stage
  profiles.take("pretraining");
  profiles.started(stageStart(1, 2, 10));
  profiles.started(stageStart(2, 2, 10));
  profiles.transferred();
  assert.deepEqual(await named(profiles), [
    "pretraining #1",
    "the transfer (lp_ft), stage 1 of 2 #2",
    "the transfer (lp_ft), stage 2 of 2 #3",
  ]);
});

Deno.test("stage profiles: a stage of no epochs gets none, and a one-stage transfer is named plainly", async () => {
  const empty = new StageProfiles(countingProfiler(), "lp_ft");
  empty.started(stageStart(1, 2, 0));
  empty.started(stageStart(2, 2, 5));
  empty.transferred();
  assert.deepEqual(await named(empty), ["the transfer (lp_ft), stage 2 of 2 #1"]);
  const plain = new StageProfiles(countingProfiler(), "full_finetune");
  plain.started({ ...stageStart(1, 1, 20), strategy: "full_finetune" });
  plain.transferred();
  assert.deepEqual(await named(plain), ["the transfer (full_finetune) #1"]);
});

Deno.test("stage profiles: a profile that cannot be read says so in its place", async () => {
  const failing = { take: () => Promise.reject(new Error("device lost")) } as unknown as GpuProfiler;
  const profiles = new StageProfiles(failing, "lp_ft");
  profiles.take("pretraining");
  assert.deepEqual(await profiles.formatted(), ["profile of pretraining: unavailable (device lost)"]);
});
