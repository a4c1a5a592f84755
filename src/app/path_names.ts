/**
 * What a path's text says, read without touching the file system, so that modules the playground
 * runs in a browser (the config's checks) can use it.
 *
 * @module
 */

/**
 * Whether `path` can only name a folder: it ends with a slash, `/.` or `/..`, or is `.` or `..`.
 * Deno drops such a trailing slash from a path it is given, so a file's path that ends in one would
 * be taken for the file without it.
 */
export function namesFolder(path: string): boolean {
  return /(^|[\\/])\.{0,2}$/.test(path);
}
