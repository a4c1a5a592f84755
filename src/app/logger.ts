/**
 * Levelled logging to the console (stderr, so stdout keeps the summary) and a rotating file.
 * Each line reads `2026-11-28T17:40:00.123Z INFO message`.
 *
 * @module
 */

import { errorMessage, UsageError } from "../core/errors.ts";
import { RotatingFile } from "./rotating_file.ts";

/** Log levels, least to most severe. */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Writes messages at or above its level. */
export interface Logger {
  /** Logs `message` at `DEBUG`, the least severe level. */
  debug(message: string): void;
  /** Logs `message` at `INFO`, the level above `DEBUG`. */
  info(message: string): void;
  /** Logs `message` at `WARNING`, the level above `INFO`. */
  warning(message: string): void;
  /** Logs `message` at `ERROR`, the most severe level. */
  error(message: string): void;
  /** Releases the log file. */
  close(): void;
}

/** Where and what to log; `file` null logs to the console alone. */
export interface LoggerOptions {
  /** Messages below this level are dropped everywhere (`logging.level`). */
  readonly level: LogLevel;
  /** Path of the rotating log file, its folders created as needed (`logging.file`); null for none. */
  readonly file: string | null;
  /** The file rolls over before a line would take it past this many bytes (`logging.max_bytes`). */
  readonly maxBytes: number;
  /** Rolled-over files kept, `<file>.1` the newest; 0 never rolls over (`logging.backup_count`). */
  readonly backupCount: number;
  /** Receives each console line; defaults to stderr. */
  readonly console?: (line: string) => void;
  /** Lines below this level go to the file alone; by default the console gets every line. */
  readonly consoleLevel?: LogLevel;
}

/** A logger; throws {@linkcode UsageError} when the log file cannot be opened. */
export function createLogger(options: LoggerOptions): Logger {
  const file = options.file === null ? null : openLogFile(options);
  const toConsole = options.console ?? ((line: string) => console.error(line));
  const threshold = LOG_LEVELS.indexOf(options.level);
  const consoleThreshold = Math.max(threshold, LOG_LEVELS.indexOf(options.consoleLevel ?? options.level));
  const log = (level: LogLevel) => (message: string) => {
    const rank = LOG_LEVELS.indexOf(level);
    if (rank < threshold) return;
    const line = `${new Date().toISOString()} ${level} ${message}`;
    if (rank >= consoleThreshold) toConsole(line);
    file?.write(`${line}\n`);
  };
  return {
    debug: log("DEBUG"),
    info: log("INFO"),
    warning: log("WARNING"),
    error: log("ERROR"),
    close: () => file?.close(),
  };
}

function openLogFile(options: LoggerOptions): RotatingFile {
  const path = options.file as string;
  try {
    return new RotatingFile(path, options.maxBytes, options.backupCount);
  } catch (error) {
    throw new UsageError(
      `logging.file: cannot open '${path}' for writing (${
        errorMessage(error)
      }); set logging.file to a writable path`,
    );
  }
}
