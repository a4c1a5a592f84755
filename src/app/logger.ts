/**
 * Levelled logging to the console (stderr, so stdout keeps the summary) and a rotating file.
 * Each line reads `2026-11-28T17:40:00.123Z INFO message`.
 *
 * @module
 */

import { errorMessage, UsageError } from "../core/errors.ts";
import { RotatingFile } from "./rotating_file.ts";
import { namesFolder } from "./path_names.ts";
import { clip, MAX_PATH_QUOTE } from "./limits.ts";
import { LOG_LEVELS, type LogLevel } from "./log_levels.ts";

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
        `${new Date().toISOString()} WARNING logging.file: cannot write '${quote(failed.path)}' (${
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

const LOG_FIX = "set logging.file to the path of a regular file";

/**
 * What `stat` (or `lstat`, when not `follow`ing links) says of `path`, or null when nothing is there.
 * Throws {@linkcode UsageError}.
 */
function inspectLogPath(path: string, what: string, follow: boolean): Deno.FileInfo | null {
  try {
    return follow ? Deno.statSync(path) : Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound && follow && isLink(path)) {
      throw new UsageError(`${what} '${quote(path)}' is a symbolic link to nothing; ${LOG_FIX}`);
    }
    if (error instanceof Deno.errors.NotFound) return null;
    // Deno grants device and /proc paths only to --allow-all, and says so; that is no fix for a log.
    const why = error instanceof Deno.errors.NotCapable && /--allow-all/.test(errorMessage(error))
      ? "a device or system path, which Deno lets a program touch only with --allow-all"
      : errorMessage(error);
    throw new UsageError(`${what} '${quote(path)}': cannot inspect it (${why}); ${LOG_FIX}`);
  }
}

/** Whether `path` itself is a symbolic link (one that leads nowhere, when `stat` found nothing). */
function isLink(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSymlink;
  } catch {
    return false;
  }
}

/** A path as a message quotes it: escaped, and cut when long. */
function quote(path: string): string {
  return clip(path, MAX_PATH_QUOTE);
}

/** What `info` describes, for a message: a folder, a symbolic link, not a regular file. */
function kindOf(info: Deno.FileInfo): string {
  return info.isDirectory ? "a folder" : info.isSymlink ? "a symbolic link" : "not a regular file";
}

function openLogFile(options: LoggerOptions): RotatingFile {
  const path = options.file as string;
  if (namesFolder(path)) {
    throw new UsageError(
      `logging.file: '${quote(path)}' ends with a slash or a dot, so it names a folder; ${LOG_FIX}`,
    );
  }
  const info = inspectLogPath(path, "logging.file:", true);
  if (info !== null && !info.isFile) {
    throw new UsageError(`logging.file: '${quote(path)}' is ${kindOf(info)}; ${LOG_FIX}`);
  }
  for (const slot of RotatingFile.rotationSlots(path, options.backupCount)) {
    const info = inspectLogPath(slot, "logging.file: rotation slot", false);
    if (info !== null && !info.isFile && !info.isSymlink) { // a rename replaces a file or a link, never a folder
      throw new UsageError(
        `logging.file: rotation slot '${quote(slot)}' is ${kindOf(info)}; move it away or ${LOG_FIX}`,
      );
    }
  }
  try {
    return new RotatingFile(path, options.maxBytes, options.backupCount);
  } catch (error) {
    throw new UsageError(
      `logging.file: cannot open '${quote(path)}' for writing (${
        errorMessage(error)
      }); set logging.file to a writable path`,
    );
  }
}
