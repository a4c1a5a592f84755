/**
 * What a path's text says, read without touching the file system, so that modules the playground
 * runs in a browser (the config's checks) can use it.
 *
 * @module
 */

/** Whether `path` names a folder: it ends with a slash, `.` or `..`. */
export function namesFolder(path: string): boolean {
  return /(^|[\\/])\.{0,2}$/.test(path);
}
