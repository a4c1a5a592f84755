/**
 * Progress of a long comparison, on stderr. On a terminal: one line redrawn in place with a bar, the
 * time left, the seed, the phase, the epoch and the running loss, cut to the terminal's width so that it
 * never wraps. Elsewhere (CI, pipes): a plain line when each seed's pretraining and each run end, and
 * otherwise at most one every few seconds, so logs stay short. The time left comes from the measured
 * throughput (epochs per second since the first epoch ended, which leaves out start-up and the first
 * epoch's warm-up) and is not shown until at least a second of it has been measured.
 *
 * @module
 */

import type { EpochMetrics } from "../../core/engine.ts";
import { percent } from "../../app/format.ts";
import type { Observer, Position, PretrainRecord, RunRecord } from "../../core/comparison.ts";

/** Seconds between plain progress lines when not on a terminal. */
const PLAIN_INTERVAL_S = 5;
/** Seconds between redraws of the terminal line. */
const REDRAW_INTERVAL_S = 0.1;
const BAR_WIDTH = 20;
/** Seconds of training, after the first epoch, that the time left needs before it is shown. */
const MIN_MEASURED_S = 1;

/** Where progress goes, and how time is read (replaceable for tests). */
export interface ProgressOptions {
  /** True: one progress line redrawn in place, at most every 0.1 s; false: plain lines, at most every 5 s. */
  readonly terminal: boolean;
  /** Receives the text to show, newlines and (on a terminal) escape codes included. */
  readonly write: (text: string) => void;
  /** The clock, in seconds; `performance.now() / 1000` by default. */
  readonly now?: () => number;
  /**
   * The terminal's width in columns, asked at each redraw (null when unknown); the redrawn line is cut to
   * one column less, so that it never wraps. By default the line is not cut. Plain lines are never cut.
   */
  readonly width?: () => number | null;
}

/** Reports a comparison of `totalEpochs` epochs as it runs. */
export class ProgressReport implements Observer {
  readonly #now: () => number;
  /** When the first epoch was reported: the throughput is measured from there. */
  #firstEpochAt: number | null = null;
  #epochsDone = 0;
  #lastShown = -Infinity;
  #barShown = false;
  #firstRunOfSeed = true;

  /** A report of `totalEpochs` epochs, shown through `options`. */
  constructor(readonly totalEpochs: number, readonly options: ProgressOptions) {
    this.#now = options.now ?? (() => performance.now() / 1000);
  }

  /** Counts a finished epoch; shows the progress unless it was shown under 0.1 s (terminal) or 5 s ago. */
  epoch(at: Position, metrics: EpochMetrics, epochs: number): void {
    this.#epochsDone++;
    this.#firstEpochAt ??= this.#now();
    const interval = this.options.terminal ? REDRAW_INTERVAL_S : PLAIN_INTERVAL_S;
    if (this.#now() - this.#lastShown < interval) return;
    this.#lastShown = this.#now();
    const where = [
      `seed ${at.seed}`,
      at.phase,
      ...(at.relatedness === null ? [] : [`r ${at.relatedness}`]),
      ...(at.targetTrainRows === null ? [] : [`${at.targetTrainRows} rows`]),
      `epoch ${metrics.epoch}/${epochs}`,
      `loss ${metrics.train.loss.toFixed(4)}`,
    ].join(", ");
    const done = this.#epochsDone / this.totalEpochs;
    const left = this.#left();
    if (!this.options.terminal) {
      return this.#line(`progress ${percent(done)}: ${where}${left === null ? "" : `, ${left} left`}`);
    }
    const filled = Math.round(done * BAR_WIDTH);
    const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${percent(done)}`;
    const line = `${bar}${left === null ? "" : `, ${left} left`}: ${where}`;
    this.options.write(`\r\x1b[2K${fit(line, this.options.width?.() ?? null)}`);
    this.#barShown = true;
  }

  /** Shows a seed's pretraining time and source test accuracy on a line of its own, or that it diverged. */
  pretrained(record: PretrainRecord): void {
    this.#firstRunOfSeed = true;
    if (record.diverged !== null) {
      return this.message(
        `seed ${record.seed}: pretraining diverged at epoch ${record.diverged.epoch}; no transfers from this seed`,
      );
    }
    this.message(
      `seed ${record.seed}: pretrained in ${record.seconds.toFixed(2)} s, source test ${
        percent(record.source.test.accuracy)
      }`,
    );
  }

  /**
   * Shows every run that diverged on a line of its own, and every finished run when not on a terminal;
   * on a terminal (whose line names the phase running) only the first run after each pretraining.
   */
  finished(record: RunRecord): void {
    if (record.diverged !== null) {
      const where = [
        ...(record.relatedness === null ? [] : [`relatedness ${record.relatedness}`]),
        `${record.targetTrainRows} rows`,
      ].join(", ");
      return this.message(
        `seed ${record.seed}: ${record.strategy} diverged at epoch ${record.diverged.epoch} (${where}); ` +
          "its seed is left out at this point",
      );
    }
    if (this.options.terminal && !this.#firstRunOfSeed) return;
    this.#firstRunOfSeed = false;
    this.message(
      `seed ${record.seed}: ${record.strategy} finished, target test ${percent(record.target.test.accuracy)}`,
    );
  }

  /** Prints `line` on its own, above the terminal's progress line (which is redrawn at the next epoch). */
  message(line: string): void {
    this.#line(line);
    if (this.options.terminal) this.#lastShown = -Infinity;
  }

  /** Clears the terminal's progress line. */
  done(): void {
    if (this.#barShown) this.options.write("\r\x1b[2K");
    this.#barShown = false;
  }

  #line(text: string): void {
    this.done();
    this.options.write(`${text}\n`);
  }

  /**
   * The time left at the throughput measured since the first epoch ended; null until at least
   * {@linkcode MIN_MEASURED_S} of it and one more epoch have been measured.
   */
  #left(): string | null {
    const measured = this.#now() - (this.#firstEpochAt ?? Infinity);
    if (!(measured >= MIN_MEASURED_S) || this.#epochsDone < 2) return null;
    const perSecond = (this.#epochsDone - 1) / measured;
    const seconds = Math.round(Math.max(0, this.totalEpochs - this.#epochsDone) / perSecond);
    return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  }
}

/** `line` cut to `width` − 1 characters (a terminal wraps a line that fills its last column); as is without a width. */
function fit(line: string, width: number | null): string {
  if (width === null || !(width >= 2)) return line;
  const chars = Array.from(line);
  return chars.length < width ? line : chars.slice(0, width - 1).join("");
}
