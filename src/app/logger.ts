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

/**
 * A logger; throws {@linkcode UsageError} when the log file cannot be opened or a rotation slot
 * (`<file>.1` ... `<file>.<backupCount>`) is taken by something other than a regular file. Once
 * open, a failure to write or roll over the file never throws: one WARNING goes to the console and
 * the logger carries on without the file, so that a run's results are never lost to its log.
 */
export function createLogger(options: LoggerOptions): Logger {
  let file = options.file === null ? null : openLogFile(options);
  const toConsole = options.console ?? ((line: string) => console.error(line));
  const threshold = LOG_LEVELS.indexOf(options.level);
  const consoleThreshold = Math.max(threshold, LOG_LEVELS.indexOf(options.consoleLevel ?? options.level));
  const log = (level: LogLevel) => (message: string) => {
    const rank = LOG_LEVELS.indexOf(level);
    if (rank < threshold) return;
    const line = `${new Date().toISOString()} ${level} ${message}`;
    if (rank >= consoleThreshold) toConsole(line);
    if (file === null) return;
    try {
      file.write(`${line}\n`);
    } catch (error) {
      const failed = file;
      file = null; // one warning, then no more attempts
      try {
        failed.close();
      } catch { /* already unusable */ }
      toConsole(
        `${new Date().toISOString()} WARNING logging.file: cannot write '${failed.path}' (${
          errorMessage(error)
        }); logging to the file stopped, the run goes on`,
      );
    }
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
  for (const slot of RotatingFile.rotationSlots(path, options.backupCount)) {
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(slot);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw new UsageError(
        `logging.file: cannot inspect rotation slot '${slot}' (${
          errorMessage(error)
        }); make it readable or set logging.file to another path`,
      );
    }
    if (!info.isFile && !info.isSymlink) { // a rename replaces a file or a link, never a folder
      const kind = info.isDirectory ? "a folder" : "not a regular file";
      throw new UsageError(
        `logging.file: rotation slot '${slot}' is ${kind}; move it away or set logging.file to another path`,
      );
    }
  }
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
