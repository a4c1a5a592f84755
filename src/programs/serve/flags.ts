/**
 * The serve program's flags: `--port` and `--host`.
 *
 * @module
 */

import { type Parsed, parseWith, program, wholeNumber } from "../../app/cli.ts";
import { UsageError } from "../../core/errors.ts";

/** The port `serve` listens on unless `--port` says otherwise. */
export const DEFAULT_PORT = 8000;
/** The address `serve` listens on unless `--host` says otherwise: this machine alone. */
export const DEFAULT_HOST = "127.0.0.1";

/** What the serve program's flags ask for. */
export interface ServeOptions {
  /** The TCP port (`--port`), 0 for any free one. */
  readonly port: number;
  /** The address to listen on (`--host`): an IP address or `localhost`. */
  readonly host: string;
}

/** Parses the serve program's `args` (without the program name). Throws {@linkcode UsageError} for bad flags. */
export function parseServeArgs(args: readonly string[]): Parsed<ServeOptions> {
  const serve = program(
    "deno task serve",
    "Serve the playground: train and compare strategies in the browser, on the same kernels as the programs.",
    { exitCodes: "Ctrl-C stops the server (exit 0)" },
  )
    .option(
      "-p, --port <port>",
      `the TCP port, 0 for any free one [default: ${DEFAULT_PORT}]`,
      (value) => wholeNumber(value, 0, 65535),
    )
    .option(
      "--host <address>",
      `the address to listen on; anything but 127.0.0.1, ::1 or localhost lets other machines in [default: ${DEFAULT_HOST}]`,
    );
  return parseWith(serve, args, (options): ServeOptions => ({
    port: (options.port as number | undefined) ?? DEFAULT_PORT,
    host: checkHost((options.host as string | undefined) ?? DEFAULT_HOST),
  }));
}

/** `host` when it looks like an address or a host name; throws {@linkcode UsageError} otherwise. */
function checkHost(host: string): string {
  if (/^[A-Za-z0-9.:-]{1,253}$/.test(host)) return host;
  throw new UsageError(
    `--host ${JSON.stringify(host.slice(0, 80))}: not an address; give one such as 127.0.0.1`,
  );
}
