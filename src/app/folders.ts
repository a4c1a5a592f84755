/**
 * Which folder a relative path means. A path on the command line is relative to the folder the
 * program was started from, even through `deno task` (which runs every task in the project folder
 * and names the caller's folder in `INIT_CWD`); a path inside a config file is relative to that
 * file's folder, so a config means the same wherever it is used from. Without `--config`, a program
 * reads `./config.yaml`, else the project's.
 *
 * @module
 */

import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { errorMessage, UsageError } from "../core/errors.ts";
import { clip, MAX_PATH_QUOTE } from "./limits.ts";

/**
 * The project folder: the one holding `deno.json`, two levels above this module. A function, not a
 * constant, so that importing this module works where modules are not files (the playground's bundle).
 */
export function projectFolder(): string {
  return fileURLToPath(new URL("../../", import.meta.url));
}

/** The name of the config a program reads when `--config` is not given. */
const CONFIG_NAME = "config.yaml";

/** What `--config`'s help says of its default, {@linkcode defaultConfig}. */
export const DEFAULT_CONFIG_HELP: string = `./${CONFIG_NAME}, else the project's`;

/**
 * The config a program reads when `--config` is not given: `config.yaml` in the current folder when
 * there is one, else the project's.
 */
export function defaultConfig(): string {
  try {
    Deno.lstatSync(CONFIG_NAME);
    return CONFIG_NAME;
  } catch {
    return join(projectFolder(), CONFIG_NAME);
  }
}

/**
 * Makes the folder `deno task` was started from (`INIT_CWD`) the current one, so relative paths on
 * the command line (and `./.env`) mean what they mean in the user's shell. Does nothing outside
 * `deno task`, or when the environment may not be read. Throws {@linkcode UsageError} when the folder
 * cannot be entered.
 */
export function enterCallersFolder(): void {
  let folder: string | undefined;
  try {
    folder = Deno.env.get("INIT_CWD");
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return;
    throw error;
  }
  if (folder === undefined || folder === "") return;
  try {
    if (folder !== Deno.cwd()) Deno.chdir(folder);
  } catch (error) {
    throw new UsageError(
      `INIT_CWD ${clip(folder, MAX_PATH_QUOTE)}: cannot enter the folder this was started from (${
        clip(errorMessage(error), 200)
      }); run it from a folder you can read`,
    );
  }
}

/** `path` from the config file at `configPath`, resolved against that file's folder unless absolute. */
export function besideConfig(configPath: string, path: string): string {
  return isAbsolute(path) ? path : join(dirname(configPath), path);
}
