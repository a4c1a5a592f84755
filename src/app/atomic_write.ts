/**
 * Writing a file so that readers see the old contents or the new, never half of either: the text
 * goes to a temporary file beside the target, which is then renamed over it.
 *
 * @module
 */

import { basename, dirname, join, resolve, sep as SEP } from "node:path";
import { errorMessage, UsageError } from "../core/errors.ts";
import { namesFolder } from "./path_names.ts";
import { clip, MAX_PATH_QUOTE } from "./limits.ts";

/**
 * Checks, before any long work, that `path` can be written: it is not empty and names a file (no
 * trailing slash), its folder exists and takes a new file, and anything already there is a regular
 * file the user may write (not a folder, a device, a FIFO or a socket, even through a symbolic
 * link). `flag` names the option that gave the path, for messages.
 */
export function checkWritable(path: string, flag: string): void {
  const quoted = `${flag} ${clip(path, MAX_PATH_QUOTE)}`;
  if (path.trim() === "") throw new UsageError(`${flag} is empty; give a file name`);
  if (namesFolder(path)) {
    throw new UsageError(`${quoted}: ends with a slash or a dot, so it names a folder; give a file name`);
  }
  const folder = dirname(path), quotedFolder = clip(folder, MAX_PATH_QUOTE);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(folder);
  } catch (error) {
    const fix = error instanceof Deno.errors.NotCapable
      ? "run with --allow-read and --allow-write, as the deno tasks do"
      : "create it or choose another path";
    throw new UsageError(
      `${quoted}: folder '${quotedFolder}' is not accessible (${errorMessage(error)}); ${fix}`,
    );
  }
  if (!info.isDirectory) {
    throw new UsageError(`${quoted}: '${quotedFolder}' is not a folder; choose another path`);
  }
  let existing: Deno.FileInfo | null = null;
  try {
    existing = Deno.statSync(path);
  } catch { /* a new file, or a dangling link that the rename replaces */ }
  if (existing?.isDirectory) throw new UsageError(`${quoted}: is a folder; give a file name`);
  if (existing !== null && !existing.isFile) {
    // Opening a FIFO waits for a reader, and the rename would replace a device node with a file.
    throw new UsageError(`${quoted}: is not a regular file (a device, FIFO or socket); give a file name`);
  }
  if (existing !== null && isReadOnly(path, existing)) {
    throw new UsageError(
      `${quoted}: the existing file is read-only; make it writable (chmod u+w) or choose another path`,
    );
  }
  const probe = temporaryPath(path);
  try {
    Deno.writeTextFileSync(probe, "", { createNew: true });
    Deno.removeSync(probe);
  } catch (error) {
    throw new UsageError(
      `${quoted}: cannot write in '${quotedFolder}' (${errorMessage(error)}); choose a writable path`,
    );
  }
}

/** One path the run reads or writes, and what it is for, to tell it apart from an output. */
export interface PathRole {
  /** What the path is for, as messages name it: `the config file (--config)`, `logging.file`. */
  readonly role: string;
  /** The path as given, absolute or relative to the current folder. */
  readonly path: string;
  /** True when `path` is a folder and nothing inside it may be replaced either. */
  readonly folder?: boolean;
}

/**
 * Refuses an output `path` that is, after resolving symbolic links and relative forms, the same file
 * as one of `inputs`, so that writing the results never replaces a file the run reads or writes.
 * `flag` names the option that gave `path`. Throws {@linkcode UsageError}.
 */
export function checkNotOverwriting(path: string, flag: string, inputs: readonly PathRole[]): void {
  const target = resolvedPath(path);
  for (const input of inputs) {
    const protectedPath = resolvedPath(input.path);
    if (protectedPath === target || (input.folder && target.startsWith(protectedPath + SEP))) {
      throw new UsageError(
        `${flag} ${clip(path, MAX_PATH_QUOTE)} is ${input.folder ? "inside " : ""}${input.role} '${
          clip(input.path, MAX_PATH_QUOTE)
        }', which it would replace; choose another ${flag} path`,
      );
    }
  }
}

/**
 * Writes `text` to `path` atomically; a failure leaves any existing file as it was. A file replaced
 * keeps its permission bits (and, where the system allows, its owner).
 */
export function writeTextFileAtomic(path: string, text: string, flag: string): void {
  writeFileAtomic(path, new TextEncoder().encode(text), flag);
}

/** Writes `bytes` to `path` atomically, as {@linkcode writeTextFileAtomic} writes text. */
export function writeFileAtomic(path: string, bytes: Uint8Array, flag: string): void {
  const temporary = temporaryPath(path);
  try {
    let previous: Deno.FileInfo | null = null;
    try {
      previous = Deno.statSync(path);
    } catch { /* a new file */ }
    Deno.writeFileSync(temporary, bytes);
    if (previous?.isFile) keepModeAndOwner(temporary, previous);
    Deno.renameSync(temporary, path);
  } catch (error) {
    try {
      Deno.removeSync(temporary);
    } catch { /* the temporary file was never created */ }
    throw new UsageError(
      `${flag} ${clip(path, MAX_PATH_QUOTE)}: cannot write (${errorMessage(error)}); choose a writable path`,
    );
  }
}

/**
 * A hidden sibling of `path`, so the rename stays on one file system, unique to this process and this
 * call: a process killed mid-write leaves its file behind, and a restarted one may get the same PID.
 */
function temporaryPath(path: string): string {
  const unique = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  return join(dirname(path), `.${basename(path)}.${Deno.pid}.${unique}.tmp`);
}

/** Gives `temporary` the permission bits, and where allowed the owner, of the file it replaces. */
function keepModeAndOwner(temporary: string, previous: Deno.FileInfo): void {
  if (previous.mode !== null) Deno.chmodSync(temporary, previous.mode & 0o7777);
  if (previous.uid === null || previous.gid === null) return;
  const made = Deno.statSync(temporary);
  if (made.uid === previous.uid && made.gid === previous.gid) return;
  try {
    Deno.chownSync(temporary, previous.uid, previous.gid);
  } catch { /* only a privileged user may give a file away; the mode is kept regardless */ }
}

/** Whether the user could not write the existing file at `path` (described by `info`). */
function isReadOnly(path: string, info: Deno.FileInfo): boolean {
  if (info.mode !== null && (info.mode & 0o200) === 0) return true;
  try {
    Deno.openSync(path, { write: true }).close();
  } catch (error) {
    return error instanceof Deno.errors.PermissionDenied;
  }
  return false;
}

/** `path` with symbolic links and relative forms resolved; the folder alone for a file not there yet. */
function resolvedPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch { /* missing, or not readable */ }
  try {
    return join(Deno.realPathSync(dirname(path)), basename(path));
  } catch {
    return resolve(path);
  }
}
