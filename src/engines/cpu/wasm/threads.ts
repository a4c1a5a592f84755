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
/** The longest `dispose` waits for a worker to leave its loop, in milliseconds. */
const EXIT_WAIT_MS = 200;
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

/** The message a worker posts once it has instantiated the module and waits for jobs. */
export const READY = "ready";
/** The workers' module. */
const WORKER_URL = new URL("./worker.ts", import.meta.url);

/** A worker that could not start: its module cannot be read, or it failed before it was ready. */
export class WorkerStartError extends Error {}

/** `count` workers, each running the module's products on jobs posted to it. */
export class GemmThreads {
  readonly #workers: Worker[];
  readonly #controls: Int32Array[];
  #seq = 0;
  #runs = 0;

  private constructor(workers: Worker[], controls: Int32Array[]) {
    this.#workers = workers;
    this.#controls = controls;
  }

  /**
   * Starts `count` workers on `module` and `memory` and resolves once every one is ready for jobs.
   * Rejects with {@linkcode WorkerStartError} (stopping the others) when one cannot start: waiting
   * for a worker that never started would block the calling thread for ever in `Atomics.wait`.
   */
  static async start(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    count: number,
  ): Promise<GemmThreads> {
    checkReadable();
    const controls = Array.from({ length: count }, () => new Int32Array(new SharedArrayBuffer(SLOTS * 4)));
    const workers = controls.map(() => new Worker(WORKER_URL, { type: "module" }));
    const threads = new GemmThreads(workers, controls);
    try {
      await Promise.all(workers.map((worker, w) => {
        const ready = untilReady(worker);
        worker.postMessage(
          { module, memory, control: controls[w].buffer as SharedArrayBuffer } satisfies WorkerSetup,
        );
        return ready;
      }));
    } catch (error) {
      threads.dispose();
      throw error;
    }
    return threads;
  }

  /** How many workers there are. */
  get count(): number {
    return this.#workers.length;
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
    // Let each worker leave its loop before it is terminated (a bounded wait: one that never started
    // has nothing to leave), so termination never meets a thread still inside a job or a wait.
    for (const control of this.#controls) {
      for (let waited = 0; Atomics.load(control, SLOT.DONE) !== seq && waited < EXIT_WAIT_MS; waited++) {
        Atomics.wait(control, SLOT.DONE, Atomics.load(control, SLOT.DONE), 1);
      }
    }
    for (const worker of this.#workers) worker.terminate();
    this.#workers.length = 0;
  }
}

/** Throws {@linkcode WorkerStartError} when the workers' module cannot be read, before any is spawned. */
function checkReadable(): void {
  const path = decodeURIComponent(WORKER_URL.pathname); // for people; the check opens the URL itself
  try {
    Deno.openSync(WORKER_URL).close();
  } catch (error) {
    throw new WorkerStartError(`cannot read ${path} (${error instanceof Error ? error.message : error})`);
  }
}

/** Resolves when `worker` posts {@linkcode READY}; rejects with {@linkcode WorkerStartError} if it fails first. */
function untilReady(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => data === READY && resolve();
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new WorkerStartError(`a worker failed to start (${event.message})`));
    };
  });
}
