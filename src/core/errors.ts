/**
 * Errors caused by what a person gave the program (config, flags, files, environment), and the one
 * way to quote any error in a message.
 *
 * @module
 */

/**
 * A problem with the input that the user can fix. The programs print its message as one line,
 * without a stack trace, and exit with code 2. The message names the culprit and the fix.
 */
export class UsageError extends Error {
  /** Names the class in stack traces and `String(error)`, which would otherwise say `Error`. */
  override name = "UsageError";
}

/** What went wrong, for a one-line message: an Error's message, or anything else as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
