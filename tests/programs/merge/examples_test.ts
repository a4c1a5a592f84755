/**
 * The cluster examples that the other tests do not run (examples/kubernetes/): the Indexed Job's count
 * and variables agree with what `compare` reads, so that each pod runs its own shard.
 */

import assert from "node:assert/strict";
import * as yaml from "js-yaml";
import { ROOT } from "../../helpers/helpers.ts";

Deno.test("the Kubernetes Indexed Job runs shard JOB_COMPLETION_INDEX of its completions, each into its own folder", () => {
  const job = yaml.load(Deno.readTextFileSync(`${ROOT}examples/kubernetes/compare-indexed-job.yaml`)) as {
    kind: string;
    spec: {
      completionMode: string;
      completions: number;
      template: { spec: { containers: { args: string[] }[] } };
    };
  };
  assert.equal(job.kind, "Job");
  assert.equal(job.spec.completionMode, "Indexed");
  const command = job.spec.template.spec.containers[0].args.join(" ");
  assert.match(command, /deno task compare /);
  assert.equal(
    Number(command.match(/--shard-count (\d+)/)?.[1]),
    job.spec.completions,
    "--shard-count is completions",
  );
  assert.match(command, /--resume/);
  assert.match(command, /--out-dir \S*\$JOB_COMPLETION_INDEX/, "a folder per pod");
});
