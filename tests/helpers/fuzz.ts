/**
 * What the seeded fuzzers share: the one check of a refusal (a UsageError of one short line without
 * control characters), and the flags every program with setup flags takes.
 */

import assert from "node:assert/strict";
import { UsageError } from "../../src/core/errors.ts";

/** The longest error message accepted. */
export const MAX_MESSAGE = 600;

/**
 * Runs `fn`: its value, or undefined when it threw a UsageError whose message is one line, shorter
 * than {@linkcode MAX_MESSAGE} and free of control characters. Anything else thrown fails.
 */
export function outcome<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const message = error.message;
    assert.ok(
      message.length < MAX_MESSAGE,
      `message of ${message.length} characters: ${message.slice(0, 200)}`,
    );
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(message, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/, JSON.stringify(message));
    return undefined;
  }
}

/** The setup flags (`app/cli.ts`), help, and the arguments commander treats specially. */
export const SETUP_FLAGS = [
  "-c",
  "--config",
  "-d",
  "--device",
  "-k",
  "--cpu-kernels",
  "-t",
  "--threads",
  "-h",
  "--help",
  "--",
  "-",
  "--nope",
] as const;
