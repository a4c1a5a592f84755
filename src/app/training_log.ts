/**
 * The training's log lines: a transfer's layer rates and notes when it starts, and each epoch's
 * metrics, written to a {@linkcode Logger}.
 *
 * @module
 */

import type { Divergence, PhaseStart, TrainingListener } from "../core/train.ts";
import { percent } from "./format.ts";
import type { Logger } from "./logger.ts";

/**
 * What to tell a person whose phase diverged, in one line naming the learning rate to lower, e.g.
 * `pretraining diverged at epoch 3 (train loss NaN); lower training.learning_rate_base (now 1000)`.
 */
export function divergenceMessage(phase: PhaseStart, divergence: Divergence): string {
  const what = phase.strategy === null ? "pretraining" : `the ${phase.strategy} transfer`;
  const key = phase.task === "source" ? "learning_rate_base" : "learning_rate_target";
  return `${what} diverged at epoch ${divergence.epoch} (train loss ${divergence.loss}); ` +
    `lower training.${key} (now ${phase.learningRate})`;
}

/** A listener that logs: INFO per epoch and per transfer's rates, WARNING per note and per divergence. */
export function trainingLog(log: Logger): TrainingListener {
  return {
    started: ({ strategy, layerRates, learningRate, notes }) => {
      if (strategy === null) return;
      for (const note of notes) log.warning(`${strategy}: ${note}`);
      log.info(`${strategy}: layer rates ${layerRates.join(", ")} x ${learningRate}`);
    },
    diverged: (phase, divergence) => log.warning(divergenceMessage(phase, divergence)),
    epoch: (task, m, epochs) =>
      log.info(
        `${task} epoch ${m.epoch}/${epochs}: train loss ${m.train.loss.toFixed(4)} acc ${
          percent(m.train.accuracy)
        }, ` +
          `test loss ${m.test.loss.toFixed(4)} acc ${percent(m.test.accuracy)}`,
      ),
  };
}
