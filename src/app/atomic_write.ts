/**
 * Writing a file so that readers see the old contents or the new, never half of either: the text
 * goes to a temporary file beside the target, which is then renamed over it.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { errorMessage, UsageError } from "../core/errors.ts";

/**
 * Checks, before any long work, that `path` can be written: its folder exists and takes a new file,
 * and the path is not a folder itself. `flag` names the option that gave the path, for messages.
 */
export function checkWritable(path: string, flag: string): void {
  const folder = dirname(path);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(folder);
  } catch (error) {
    const fix = error instanceof Deno.errors.NotCapable
      ? "choose a path inside the project folder, or widen --allow-read and --allow-write"
      : "create it or choose another path";
    throw new UsageError(
      `${flag} ${path}: folder '${folder}' is not accessible (${errorMessage(error)}); ${fix}`,
    );
  }
  if (!info.isDirectory) {
    throw new UsageError(`${flag} ${path}: '${folder}' is not a folder; choose another path`);
  }
  let existing: Deno.FileInfo | null = null;
  try {
    existing = Deno.statSync(path);
  } catch { /* a new file */ }
  if (existing?.isDirectory) throw new UsageError(`${flag} ${path}: is a folder; give a file name`);
  const probe = temporaryPath(path);
  try {
    Deno.writeTextFileSync(probe, "", { createNew: true });
    Deno.removeSync(probe);
  } catch (error) {
    throw new UsageError(
      `${flag} ${path}: cannot write in '${folder}' (${errorMessage(error)}); choose a writable path`,
    );
  }
}

/** Writes `text` to `path` atomically; a failure leaves any existing file as it was. */
export function writeTextFileAtomic(path: string, text: string, flag: string): void {
  const temporary = temporaryPath(path);
  try {
    Deno.writeTextFileSync(temporary, text);
    Deno.renameSync(temporary, path);
  } catch (error) {
    try {
      Deno.removeSync(temporary);
    } catch { /* the temporary file was never created */ }
    throw new UsageError(`${flag} ${path}: cannot write (${errorMessage(error)}); choose a writable path`);
  }
}

/** A hidden sibling of `path`, unique to this process, so the rename stays on one file system. */
function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${Deno.pid}.tmp`);
}
