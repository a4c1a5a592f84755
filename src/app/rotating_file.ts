/**
 * A log file that rolls over by size, like Python's `RotatingFileHandler`: when a line would take
 * the file past `maxBytes`, `app.log.(n-1)` becomes `app.log.n`, ..., `app.log` becomes `app.log.1`,
 * and a fresh `app.log` is started. At most `backupCount` old files are kept; with a count of 0 the
 * file never rolls over. Writes are synchronous, so no line is lost when the program exits.
 *
 * Several processes may share one log file: each append (and any rollover it needs) happens under an
 * exclusive advisory lock on the current file, taken after re-opening the path, so a rollover by
 * another process is seen and no line is written to a file that has already been rotated away.
 *
 * @module
 */

import { dirname } from "node:path";

/** A size-rotated, append-only text file, safe to share between processes. */
export class RotatingFile {
  #encoder = new TextEncoder();
  #closed = false;

  /** Creates the folders of `path` as needed and the file itself when missing. */
  constructor(readonly path: string, readonly maxBytes: number, readonly backupCount: number) {
    Deno.mkdirSync(dirname(path), { recursive: true });
    Deno.openSync(path, { append: true, create: true }).close();
  }

  /** The paths rollovers may rename into: `<path>.1` ... `<path>.<backupCount>`. */
  static rotationSlots(path: string, backupCount: number): string[] {
    return Array.from({ length: backupCount }, (_, i) => `${path}.${i + 1}`);
  }

  /** Appends `text`, rolling the file over first when it would grow past `maxBytes`. */
  write(text: string): void {
    if (this.#closed) throw new Deno.errors.BadResource(`${this.path}: the log file is closed`);
    const bytes = this.#encoder.encode(text);
    let file = this.#lockCurrent();
    try {
      while (this.backupCount > 0) {
        const size = file.statSync().size;
        if (size === 0 || size + bytes.length <= this.maxBytes) break;
        this.#rollOver();
        const fresh = this.#lockCurrent();
        file.close(); // releases the lock on the rotated file only now, with the new one held
        file = fresh;
      }
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    } finally {
      file.close();
    }
  }

  /** Stops writing; later writes throw. */
  close(): void {
    this.#closed = true;
  }

  /** The file now at `path`, opened for appending and exclusively locked. */
  #lockCurrent(): Deno.FsFile {
    for (;;) {
      const file = Deno.openSync(this.path, { append: true, create: true });
      try {
        file.lockSync(true);
        const held = file.statSync();
        let current: Deno.FileInfo | null = null;
        try {
          current = Deno.statSync(this.path);
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
        // Another process rolled the file over between our open and our lock: try the new one.
        if (current !== null && (held.ino === null || held.ino === current.ino) && held.dev === current.dev) {
          return file;
        }
      } catch (error) {
        file.close();
        throw error;
      }
      file.close();
    }
  }

  #rollOver(): void {
    for (let i = this.backupCount - 1; i >= 1; i--) {
      renameIfPresent(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    }
    Deno.renameSync(this.path, `${this.path}.1`);
  }
}

function renameIfPresent(from: string, to: string): void {
  try {
    Deno.renameSync(from, to);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
