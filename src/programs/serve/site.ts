/**
 * The playground's files: `web/index.html` and `web/style.css` as they are, and `web/page.ts` and
 * `web/worker.ts` bundled for the browser by `deno bundle` (esbuild inside Deno), with everything they
 * import from `src/` and the WGSL of `shaders/`. Built once when the server starts, in memory.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { errorMessage, UsageError } from "../../core/errors.ts";
import type { Asset, Site } from "./server.ts";

/** The path of a file of `web/`, by its name. */
function webFile(name: string): string {
  return fileURLToPath(new URL(`web/${name}`, import.meta.url));
}

/** The project folder, whose deno.json maps the npm imports. */
const PROJECT = fileURLToPath(new URL("../../..", import.meta.url));

/** The browser bundle of `web/<entry>.ts`, as `deno bundle` prints it. */
async function bundle(entry: string): Promise<Uint8Array<ArrayBuffer>> {
  const args = ["bundle", "--quiet", "--platform", "browser", "--format", "esm", webFile(`${entry}.ts`)];
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("deno", { args, cwd: PROJECT, stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    const fix = error instanceof Deno.errors.NotCapable
      ? "run with --allow-run=deno, as deno task serve does"
      : "put deno on the PATH";
    throw new UsageError(`cannot run deno bundle (${errorMessage(error)}); ${fix}`);
  }
  if (!result.success) {
    const why = new TextDecoder().decode(result.stderr).trim().split("\n").slice(-1)[0];
    throw new UsageError(
      `deno bundle of web/${entry}.ts failed (${why}); the first bundle fetches esbuild from the npm registry, so check that it can be reached`,
    );
  }
  return result.stdout;
}

/** The bytes of `web/<name>`. */
function readWebFile(name: string): Uint8Array<ArrayBuffer> {
  try {
    return Deno.readFileSync(webFile(name));
  } catch (error) {
    throw new UsageError(`cannot read web/${name} (${errorMessage(error)}); restore it from the repository`);
  }
}

/** Every file the server answers with, by path. */
export async function buildSite(): Promise<Site> {
  const script = (body: Uint8Array<ArrayBuffer>): Asset => ({ body, type: "text/javascript; charset=utf-8" });
  return new Map<string, Asset>([
    ["/", { body: readWebFile("index.html"), type: "text/html; charset=utf-8" }],
    ["/style.css", { body: readWebFile("style.css"), type: "text/css; charset=utf-8" }],
    ["/page.js", script(await bundle("page"))],
    ["/worker.js", script(await bundle("worker"))],
  ]);
}
