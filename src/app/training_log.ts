/**
 * The training's log lines: a transfer's layer rates and notes when it starts, and each epoch's
 * metrics, written to a {@linkcode Logger}.
 *
 * @module
 */

import type { TrainingListener } from "../core/train.ts";
import { percent } from "./format.ts";
import type { Logger } from "./logger.ts";

/** A listener that logs: INFO per epoch and per transfer's rates, WARNING per note. */
export function trainingLog(log: Logger): TrainingListener {
  return {
    started: ({ strategy, layerRates, learningRate, notes }) => {
      if (strategy === null) return;
      for (const note of notes) log.warning(`${strategy}: ${note}`);
      log.info(`${strategy}: layer rates ${layerRates.join(", ")} x ${learningRate}`);
    },
    epoch: (task, m, epochs) =>
      log.info(
        `${task} epoch ${m.epoch}/${epochs}: train loss ${m.train.loss.toFixed(4)} acc ${
          percent(m.train.accuracy)
        }, ` +
          `test loss ${m.test.loss.toFixed(4)} acc ${percent(m.test.accuracy)}`,
      ),
  };
}
