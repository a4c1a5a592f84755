/** The training contract on the CPU engine: divergence, epochs and step budgets, early stopping. */

import { CpuEngine } from "../../src/engines/cpu/engine.ts";
import { checkDivergenceStops, checkEarlyStopping, checkEpochsAndSteps } from "../helpers/training_checks.ts";

for (
  const [name, check] of [
    ["a non-finite loss stops the phase at that epoch and says where", checkDivergenceStops],
    ["a phase run whole, epoch by epoch, or as a step budget takes the same steps", checkEpochsAndSteps],
    ["early stopping keeps the epoch a reference loop picks on the validation loss", checkEarlyStopping],
  ] as const
) {
  Deno.test(`training (CPU engine): ${name}`, async () => {
    const engine = new CpuEngine();
    try {
      await check(engine);
    } finally {
      engine.dispose();
    }
  });
}
