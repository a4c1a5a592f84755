/**
 * The playground's files: `web/index.html` and `web/style.css` as they are, and `web/page.ts` and
 * `web/worker.ts` bundled for the browser by `deno bundle` (esbuild inside Deno), with everything they
 * import from `src/` and the WGSL of `shaders/`. Built once when the server starts, in memory.
 *
 * @module
 */

import { errorMessage, UsageError } from "../../core/errors.ts";
import type { Asset, Site } from "./server.ts";

/** A file of `web/`, by its name. */
function webFile(name: string): URL {
  return new URL(`web/${name}`, import.meta.url);
}

/** The browser bundle of `web/<entry>.ts`, as `deno bundle` prints it. */
async function bundle(entry: string): Promise<Uint8Array<ArrayBuffer>> {
  const args = [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--format",
    "esm",
    webFile(`${entry}.ts`).pathname,
  ];
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("deno", {
      args,
      cwd: new URL("../../..", import.meta.url).pathname, // deno.json, for the npm imports
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new UsageError(
      `cannot run deno bundle (${errorMessage(error)}); run with --allow-run=deno, as deno task serve does`,
    );
  }
  if (!result.success) {
    const why = new TextDecoder().decode(result.stderr).trim().split("\n").slice(-1)[0];
    throw new Error(`deno bundle of web/${entry}.ts failed: ${why}`);
  }
  return result.stdout;
}

/** Every file the server answers with, by path. */
export async function buildSite(): Promise<Site> {
  const script = (body: Uint8Array<ArrayBuffer>): Asset => ({ body, type: "text/javascript; charset=utf-8" });
  return new Map<string, Asset>([
    ["/", { body: Deno.readFileSync(webFile("index.html")), type: "text/html; charset=utf-8" }],
    ["/style.css", { body: Deno.readFileSync(webFile("style.css")), type: "text/css; charset=utf-8" }],
    ["/page.js", script(await bundle("page"))],
    ["/worker.js", script(await bundle("worker"))],
  ]);
}
