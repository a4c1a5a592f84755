/**
 * A product worker (see `threads.ts`): instantiates the module on the shared memory it is given, then
 * claims chunks of the products posted to its control block until it is told to exit.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { GEMM_EXPORTS } from "./gemm.ts";
import { instantiate } from "./runtime.ts";
import { awaitChange, claimChunks, readJob, READY, SLOT, type WorkerSetup } from "./threads.ts";

self.onmessage = ({ data }: MessageEvent<WorkerSetup>) => {
  const exports = instantiate(data.module, data.memory);
  const control = new Int32Array(data.control);
  const queue = new Int32Array(data.queue);
  self.postMessage(READY);
  for (let seen = 0;;) {
    seen = awaitChange(control, SLOT.SEQ, seen);
    if (control[SLOT.EXIT] !== 0) {
      Atomics.store(control, SLOT.DONE, seen); // tells dispose() this worker has left its loop
      Atomics.notify(control, SLOT.DONE);
      return self.close();
    }
    try {
      const job = readJob(control);
      claimChunks(queue, job, exports[GEMM_EXPORTS[job.form]]);
    } catch (error) {
      control[SLOT.FAILED] = 1;
      console.error(`gemm worker: ${error}`);
    }
    Atomics.store(control, SLOT.DONE, seen);
    Atomics.notify(control, SLOT.DONE);
  }
};
