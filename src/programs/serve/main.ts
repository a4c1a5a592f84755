/**
 * `deno task serve`: the playground. It bundles the page and its worker (`site.ts`), then serves them
 * on 127.0.0.1:8000 (`--host`, `--port`) with `Deno.serve`, and prints the address to open. Ctrl-C or
 * SIGTERM stops it cleanly (exit 0). See docs/PLAYGROUND.md.
 *
 *     deno task serve [--port N] [--host ADDRESS]
 *
 * @module
 */

import { runCommand } from "../../app/setup.ts";
import { errorMessage, UsageError } from "../../core/errors.ts";
import { parseServeArgs, type ServeOptions } from "./flags.ts";
import { buildSite } from "./site.ts";
import { loopbackHosts, SECURITY_HEADERS, siteHandler } from "./server.ts";

/** Runs the server with `args`; resolves with the exit code once it has stopped. */
export function main(args: readonly string[]): Promise<number> {
  return runCommand(() => parseServeArgs(args), serve);
}

async function serve(options: ServeOptions): Promise<number> {
  const site = await buildSite();
  const stop = new AbortController();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.host,
      port: options.port,
      signal: stop.signal,
      onListen: () => {},
      onError: (error) => {
        console.error(`warning: a request failed (${errorMessage(error)})`);
        return new Response("internal error\n", { status: 500, headers: SECURITY_HEADERS });
      },
    }, (request) => handler(request)); // set below, before any request can arrive
  } catch (error) {
    throw listenError(options, error);
  }
  const { hostname, port } = server.addr; // with --port 0, only now known: the Host check needs it
  const handler = siteHandler(site, loopbackHosts(hostname, port));
  const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
  console.log(`playground at http://${shown}:${port}/ (Ctrl-C stops it)`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, () => stop.abort());
    } catch { /* SIGTERM cannot be listened for on Windows; Ctrl-C still stops it */ }
  }
  await server.finished;
  console.log("stopped");
  return 0;
}

/** The usage error for a server that cannot listen at the address `options` give. */
function listenError(options: ServeOptions, error: unknown): unknown {
  const where = `--host ${options.host} --port ${options.port}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return new UsageError(
      `${where}: the port is in use; choose another with --port, or --port 0 for any free one`,
    );
  }
  if (error instanceof Deno.errors.NotCapable) {
    return new UsageError(`${where}: no permission to listen; run with --allow-net, as deno task serve does`);
  }
  if (error instanceof Error) {
    return new UsageError(
      `${where}: cannot listen there (${errorMessage(error)}); choose another --host or --port`,
    );
  }
  return error;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
