/**
 * A log file that rolls over by size, like Python's `RotatingFileHandler`: when a line would take
 * the file past `maxBytes`, `app.log.(n-1)` becomes `app.log.n`, ..., `app.log` becomes `app.log.1`,
 * and a fresh `app.log` is started. At most `backupCount` old files are kept; with a count of 0 the
 * file never rolls over. Writes are synchronous, so no line is lost when the program exits.
 *
 * @module
 */

import { dirname } from "node:path";

/** A size-rotated, append-only text file. */
export class RotatingFile {
  #file: Deno.FsFile;
  #size: number;
  #encoder = new TextEncoder();

  /** Opens (creating folders as needed) `path` for appending. */
  constructor(readonly path: string, readonly maxBytes: number, readonly backupCount: number) {
    Deno.mkdirSync(dirname(path), { recursive: true });
    this.#file = Deno.openSync(path, { append: true, create: true });
    this.#size = this.#file.statSync().size;
  }

  /** Appends `text`, rolling the file over first when it would grow past `maxBytes`. */
  write(text: string): void {
    const bytes = this.#encoder.encode(text);
    if (this.backupCount > 0 && this.#size > 0 && this.#size + bytes.length > this.maxBytes) this.#rollOver();
    let written = 0;
    while (written < bytes.length) written += this.#file.writeSync(bytes.subarray(written));
    this.#size += bytes.length;
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }

  #rollOver(): void {
    this.#file.close();
    for (let i = this.backupCount - 1; i >= 1; i--) {
      renameIfPresent(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    }
    Deno.renameSync(this.path, `${this.path}.1`);
    this.#file = Deno.openSync(this.path, { append: true, create: true });
    this.#size = 0;
  }
}

function renameIfPresent(from: string, to: string): void {
  try {
    Deno.renameSync(from, to);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
