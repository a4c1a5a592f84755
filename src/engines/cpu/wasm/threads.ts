/**
 * Worker threads for the WebAssembly products: each worker instantiates the same module on the same
 * shared memory and computes a band of C's rows while the calling thread computes the first band.
 *
 * The hand-off goes through a small shared control block per worker, not messages: the caller writes
 * the job's arguments and bumps `SEQ`; the worker runs it and copies `SEQ` into `DONE`. Each side
 * waits by spinning for a bounded number of checks (a hand-off then costs well under a microsecond)
 * and only then sleeps in `Atomics.wait`, whose wake-up costs about 50 µs. The bound matters on a
 * machine with as many threads as cores: a thread that spins forever steals the core its partner
 * needs whenever the operating system pre-empts one of them.
 *
 * @module
 */

import { GEMM_FORMS, type GemmForm } from "./gemm.ts";
import type { GemmArgs } from "./runtime.ts";

/** Slots of a worker's control block (an Int32Array over a SharedArrayBuffer). */
export const SLOT = { SEQ: 0, DONE: 1, FAILED: 2, EXIT: 3, FORM: 4, ARGS: 5 } as const;
const SLOTS = SLOT.ARGS + 8;
/** Checks of a spinning wait before it sleeps: some tens of microseconds. */
const SPINS = 20000;

/** What a worker receives once, before its first job. */
export interface WorkerSetup {
  /** The caller's compiled module, which the worker instantiates on `memory`. */
  readonly module: WebAssembly.Module;
  /** The caller's shared memory, so a job's byte offsets mean the same on both threads. */
  readonly memory: WebAssembly.Memory;
  /** This worker's own control block: int32 slots laid out as {@linkcode SLOT}. */
  readonly control: SharedArrayBuffer;
}

/** Waits until `control[slot]` differs from `old` (spinning, then sleeping) and returns the new value. */
export function awaitChange(control: Int32Array, slot: number, old: number): number {
  for (let spin = 0; spin < SPINS; spin++) {
    const value = Atomics.load(control, slot);
    if (value !== old) return value;
  }
  for (;;) {
    Atomics.wait(control, slot, old);
    const value = Atomics.load(control, slot);
    if (value !== old) return value;
  }
}

/** A job for a worker: which product (see `GEMM_FORMS`) and its arguments. */
export interface GemmJob {
  /** How the operands are stored, which picks the export (posted as its index in `GEMM_FORMS`). */
  readonly form: GemmForm;
  /** The export's arguments for the worker's band of C's rows: byte offsets into the shared memory, sizes. */
  readonly args: GemmArgs;
}

/** `count` workers, each running the module's products on jobs posted to it. */
export class GemmThreads {
  readonly #workers: Worker[] = [];
  readonly #controls: Int32Array[] = [];
  #seq = 0;
  #runs = 0;

  /** Starts `count` workers on `module` and `memory`. They are ready for jobs at once. */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, readonly count: number) {
    for (let w = 0; w < count; w++) {
      const control = new SharedArrayBuffer(SLOTS * 4);
      const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
      worker.postMessage({ module, memory, control } satisfies WorkerSetup);
      this.#workers.push(worker);
      this.#controls.push(new Int32Array(control));
    }
  }

  /** How many times {@linkcode GemmThreads.run} has handed out jobs. */
  get runs(): number {
    return this.#runs;
  }

  /** Hands `jobs[w]` to worker w, runs `own` on this thread, then waits for the workers' jobs. */
  run(jobs: readonly GemmJob[], own: () => void): void {
    const seq = ++this.#seq;
    this.#runs++;
    jobs.forEach((job, w) => {
      const control = this.#controls[w];
      control[SLOT.FORM] = GEMM_FORMS.indexOf(job.form);
      control.set(job.args, SLOT.ARGS);
      Atomics.store(control, SLOT.SEQ, seq);
      Atomics.notify(control, SLOT.SEQ);
    });
    own();
    jobs.forEach((_, w) => {
      const control = this.#controls[w];
      for (let done = Atomics.load(control, SLOT.DONE); done !== seq;) {
        done = awaitChange(control, SLOT.DONE, done);
      }
      if (control[SLOT.FAILED] !== 0) throw new Error(`gemm worker ${w} failed; see its error above`);
    });
  }

  /**
   * Stops the workers. Each is told to leave its loop first: `terminate` alone does not wake a
   * worker sleeping in `Atomics.wait`, and a sleeping worker keeps the process alive.
   */
  dispose(): void {
    const seq = ++this.#seq;
    for (const control of this.#controls) {
      Atomics.store(control, SLOT.EXIT, 1);
      Atomics.store(control, SLOT.SEQ, seq);
      Atomics.notify(control, SLOT.SEQ);
    }
    for (const worker of this.#workers) worker.terminate();
    this.#workers.length = 0;
  }
}
