/**
 * The echoing side of `thread_wakeup.ts`: sleeps in `Atomics.wait` until slot 0 changes, then copies
 * it into slot 1 and wakes the caller; a negative value tells it to stop.
 *
 * @module
 */

/// <reference lib="deno.worker" />

self.onmessage = ({ data }: MessageEvent<SharedArrayBuffer>) => {
  const control = new Int32Array(data);
  for (let seen = 0;;) {
    while (Atomics.load(control, 0) === seen) Atomics.wait(control, 0, seen);
    seen = Atomics.load(control, 0);
    if (seen < 0) return self.close();
    Atomics.store(control, 1, seen);
    Atomics.notify(control, 1);
  }
};
