/**
 * Errors caused by what a person gave the program (config, flags, files, environment), and the one
 * way to quote any error in a message.
 *
 * @module
 */

/**
 * A problem with the input that the user can fix. The programs print its message as one line,
 * without a stack trace, and exit with code 2. The message names the culprit and the fix; any control
 * character in it (from a quoted path or value) is escaped here, so it is always one line.
 */
export class UsageError extends Error {
  /** Names the class in stack traces and `String(error)`, which would otherwise say `Error`. */
  override name = "UsageError";

  /** An error whose message is `message` with its control characters escaped (see {@linkcode escapeControl}). */
  constructor(message: string) {
    super(escapeControl(message));
  }
}

/**
 * `text` with every control character (C0, DEL, C1, U+2028/U+2029, lone surrogates) escaped as `\n`,
 * `\t`, `\r` or `\uXXXX`, so that it prints as part of one line.
 */
export function escapeControl(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => {
      if (c === "\n") return "\\n";
      if (c === "\r") return "\\r";
      if (c === "\t") return "\\t";
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    },
  );
}

/** What went wrong, for a one-line message: an Error's message, or anything else as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
