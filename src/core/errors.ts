/**
 * Errors caused by what a person gave the program (config, flags, files, environment).
 *
 * @module
 */

/**
 * A problem with the input that the user can fix. The CLI prints its message as one line, without a
 * stack trace, and exits with {@linkcode USAGE_EXIT_CODE}. The message names the culprit and the fix.
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The exit code for a {@linkcode UsageError}. */
export const USAGE_EXIT_CODE = 2;
