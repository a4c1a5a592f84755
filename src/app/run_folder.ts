/**
 * The folder a comparison's files go to (`compare --out-dir`, `merge`'s `<out>`): new or empty, so
 * that one run's figures and results never sit beside another's and pass for them, and made and
 * checked writable before any long work.
 *
 * @module
 */

import { join } from "node:path";
import { checkWritable, writeTextFileAtomic } from "./atomic_write.ts";
import type { ComparisonOutputs } from "./report/outputs.ts";
import { errorMessage, UsageError } from "../core/errors.ts";

/** Throws {@linkcode UsageError} (naming `flag`) when `folder` is a folder that holds anything. */
export function refuseUsedFolder(folder: string, flag: string): void {
  let used = false;
  try {
    used = !Deno.readDirSync(folder)[Symbol.iterator]().next().done;
  } catch { /* missing, or not a folder: prepareFolder reports on it */ }
  if (used) {
    throw new UsageError(`${flag} ${folder}: holds files from another run; choose an empty or new folder`);
  }
}

/** Creates `folder` (given by `flag`) when missing and checks it takes files, before any long work. */
export function prepareFolder(folder: string, flag: string): void {
  let existing: Deno.FileInfo | null = null;
  try {
    existing = Deno.statSync(folder);
  } catch { /* a new folder, or one mkdir below reports on */ }
  if (existing !== null && !existing.isDirectory) {
    throw new UsageError(`${flag} ${folder}: is a file, not a folder; choose a folder`);
  }
  try {
    Deno.mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw folderError(folder, flag, error);
  }
  checkWritable(join(folder, "results.json"), flag);
}

/** The usage error for `folder` (given by `flag`) that cannot be created. */
export function folderError(folder: string, flag: string, error: unknown): UsageError {
  return new UsageError(
    `${flag} ${folder}: cannot create the folder (${errorMessage(error)}); choose another folder`,
  );
}

/**
 * Prints `outputs`' table and status (with `note` after it), then writes each of its files into
 * `folder` (given by `flag`), atomically.
 */
export function writeRunFolder(folder: string, flag: string, outputs: ComparisonOutputs, note = ""): void {
  console.log(outputs.table);
  console.log(`${outputs.status}${note}; results in ${folder}`);
  for (const file of outputs.files) writeTextFileAtomic(join(folder, file.name), file.text, flag);
}
