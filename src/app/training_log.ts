/**
 * The training's log lines: a transfer's layer rates and notes as each stage starts, and each epoch's
 * metrics, written to a {@linkcode Logger}.
 *
 * @module
 */

import type { PartRates } from "../core/recipes.ts";
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
  const highest = Math.max(...phase.layerRates.flatMap((rates) => [rates.weights, rates.biases]));
  const rates = highest > 1 ? `, or the recipe's layer rates (up to ${Number(highest.toPrecision(3))})` : "";
  return `${what} diverged at epoch ${divergence.epoch} (train loss ${divergence.loss}); ` +
    `lower training.${key} (now ${phase.learningRate})${rates}`;
}

/** A layer's rates for a log line: `1`, or `0 (biases 1)` when its weights and biases differ; 3 digits. */
function formatRates(rates: PartRates): string {
  const [weights, biases] = [rates.weights, rates.biases].map((rate) => Number(rate.toPrecision(3)));
  return weights === biases ? `${weights}` : `${weights} (biases ${biases})`;
}

/**
 * A listener that logs: INFO per epoch, per transfer's rates and per note (a head that starts fresh, as
 * the tasks ask), WARNING per divergence.
 */
export function trainingLog(log: Logger): TrainingListener {
  return {
    started: ({ strategy, layerRates, learningRate, notes, stage, stages, segment }) => {
      if (strategy === null) return;
      if (stage === 1) { for (const note of notes) log.info(`${strategy}: ${note}`); }
      const last = segment.firstEpoch + segment.epochs - 1;
      const which = stages === 1
        ? strategy
        : `${strategy} stage ${stage}/${stages} (${
          segment.epochs === 0 ? "no epochs" : `epochs ${segment.firstEpoch}-${last}`
        })`;
      const rule = segment.optimizer ? ` (${segment.optimizer})` : "";
      log.info(`${which}: layer rates ${layerRates.map(formatRates).join(", ")} x ${learningRate}${rule}`);
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
