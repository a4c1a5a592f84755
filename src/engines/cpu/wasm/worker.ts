/**
 * A product worker (see `threads.ts`): instantiates the module on the shared memory it is given, then
 * runs the jobs posted to its control block until it is told to exit.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { GEMM_EXPORTS, GEMM_FORMS } from "./gemm.ts";
import { type GemmArgs, instantiate } from "./runtime.ts";
import { awaitChange, READY, SLOT, type WorkerSetup } from "./threads.ts";

self.onmessage = ({ data }: MessageEvent<WorkerSetup>) => {
  const exports = instantiate(data.module, data.memory);
  const products = GEMM_FORMS.map((form) => exports[GEMM_EXPORTS[form]]);
  const control = new Int32Array(data.control);
  const args = control.subarray(SLOT.ARGS);
  self.postMessage(READY);
  for (let seen = 0;;) {
    seen = awaitChange(control, SLOT.SEQ, seen);
    if (control[SLOT.EXIT] !== 0) {
      Atomics.store(control, SLOT.DONE, seen); // tells dispose() this worker has left its loop
      Atomics.notify(control, SLOT.DONE);
      return self.close();
    }
    try {
      products[control[SLOT.FORM]](...(Array.from(args) as unknown as GemmArgs));
    } catch (error) {
      control[SLOT.FAILED] = 1;
      console.error(`gemm worker: ${error}`);
    }
    Atomics.store(control, SLOT.DONE, seen);
    Atomics.notify(control, SLOT.DONE);
  }
};
