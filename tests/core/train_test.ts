/** The training contract on the CPU engine: divergence, epochs and step budgets, early stopping. */

import { CpuEngine } from "../../src/engines/cpu/engine.ts";
import { TRAINING_CHECKS } from "../helpers/training_checks.ts";

for (const [name, check] of TRAINING_CHECKS) {
  Deno.test(`training (CPU engine): ${name}`, async () => {
    const engine = new CpuEngine();
    try {
      await check(engine);
    } finally {
      engine.dispose();
    }
  });
}
