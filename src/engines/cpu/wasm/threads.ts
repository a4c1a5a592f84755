/**
 * Worker threads for the WebAssembly products: each worker instantiates the same module on the same
 * shared memory. A product is cut into chunks of C (bands of rows or of columns), and every thread,
 * the caller's included, claims the next chunk from a shared counter until none is left. A thread
 * that starts late or runs slow (pre-empted by the operating system, or woken from sleep) therefore
 * computes fewer chunks instead of holding the others up, as an even split would.
 *
 * The hand-off goes through a small shared control block per worker, not messages: the caller writes
 * the job's arguments and bumps `SEQ`; the worker runs it and copies `SEQ` into `DONE`. Each side
 * waits by spinning for up to {@linkcode SPIN_MS}, seeing the other side's store as soon as it
 * lands, and only then sleeps in `Atomics.wait`. Waking a thread that sleeps costs far more: on a
 * 2-core virtual machine (`tools/thread_wakeup.ts`, where both sides sleep) a round trip through
 * `Atomics.notify` took about 10 µs when the worker had only just gone to sleep, 100 to 110 µs once
 * it had slept 1 ms and 135 to 160 µs after 5 ms, presumably because its idle virtual core must be
 * woken too. The spin therefore outlasts the gaps between a training step's products (the gather
 * of a batch, the loss, the updates: a fraction of a millisecond). It stays bounded because, on a
 * machine with as many threads as cores, a thread that spins for ever steals the core its partner
 * needs whenever the operating system pre-empts one of them.
 *
 * @module
 */

import { GEMM_FORMS, GEMM_PARAMS, type GemmForm, PANEL_PARAM } from "./gemm.ts";
import type { GemmArgs, GemmExport } from "./runtime.ts";

/** Slots of a worker's control block (an Int32Array over a SharedArrayBuffer). */
export const SLOT = {
  SEQ: 0,
  DONE: 1,
  FAILED: 2,
  EXIT: 3,
  FORM: 4,
  ALONG_COLUMNS: 5,
  CHUNK: 6,
  CHUNKS: 7,
  ARGS: 8,
} as const;
const SLOTS = SLOT.ARGS + GEMM_PARAMS;
/** The longest `dispose` waits for a worker to leave its loop, in milliseconds. */
const EXIT_WAIT_MS = 200;
/** How long a waiting thread spins before it sleeps, in milliseconds. */
export const SPIN_MS = 2;
/** Checks of the control block between two readings of the clock (each check costs about 20 ns). */
const CHECKS_PER_CLOCK = 256;

/** What a worker receives once, before its first job. */
export interface WorkerSetup {
  /** The caller's compiled module, which the worker instantiates on `memory`. */
  readonly module: WebAssembly.Module;
  /** The caller's shared memory, so a job's byte offsets mean the same on both threads. */
  readonly memory: WebAssembly.Memory;
  /** This worker's own control block: int32 slots laid out as {@linkcode SLOT}. */
  readonly control: SharedArrayBuffer;
  /** One int32 shared by every thread: the next chunk of the current product to claim. */
  readonly queue: SharedArrayBuffer;
}

/** Waits until `control[slot]` differs from `old` (spinning, then sleeping) and returns the new value. */
export function awaitChange(control: Int32Array, slot: number, old: number): number {
  const until = performance.now() + SPIN_MS;
  do {
    for (let check = 0; check < CHECKS_PER_CLOCK; check++) {
      const value = Atomics.load(control, slot);
      if (value !== old) return value;
    }
  } while (performance.now() < until);
  for (;;) {
    Atomics.wait(control, slot, old);
    const value = Atomics.load(control, slot);
    if (value !== old) return value;
  }
}

/** A product, and how it is cut into chunks for the threads to claim. */
export interface GemmJob {
  /** How the operands are stored, which picks the export (posted as its index in `GEMM_FORMS`). */
  readonly form: GemmForm;
  /**
   * The whole product's arguments (see `gemm.ts`); the panel (`PANEL_PARAM`) is the scratch of the
   * thread the job is posted to (each thread has its own).
   */
  readonly args: GemmArgs;
  /** Whether a chunk is a band of C's columns (a wide C) or of its rows (a narrow one). */
  readonly alongColumns: boolean;
  /** Columns or rows per chunk; the last chunk may have fewer. */
  readonly chunk: number;
  /** How many chunks there are. */
  readonly chunks: number;
}

/**
 * The arguments that compute chunk `index` of `job` in place, in the job's panel: a band of C's
 * rows starts `from` rows into A (a column of A stored transposed) and C; a band of columns starts
 * `from` columns into B (rows of B stored transposed), C and the bias.
 */
export function chunkArgs(job: GemmJob, index: number): GemmArgs {
  const [a, b, c, m, k, n, panel, lda, ldc, bias, epilogue] = job.args;
  const from = index * job.chunk;
  if (job.alongColumns) {
    const bAt = b + 4 * (job.form === "ABt" ? from * k : from);
    const cols = Math.min(job.chunk, n - from);
    return [a, bAt, c + 4 * from, m, k, cols, panel, lda, ldc, bias + 4 * from, epilogue];
  }
  const aAt = a + 4 * (job.form === "AtB" ? from : from * lda);
  const rows = Math.min(job.chunk, m - from);
  return [aAt, b, c + 4 * from * ldc, rows, k, n, panel, lda, ldc, bias, epilogue];
}

/**
 * Computes chunks of `job` with `product` (this thread's export for its form), scratching in the
 * job's panel, until none is left to claim.
 */
export function claimChunks(queue: Int32Array, job: GemmJob, product: GemmExport): void {
  for (let index = Atomics.add(queue, 0, 1); index < job.chunks; index = Atomics.add(queue, 0, 1)) {
    product(...chunkArgs(job, index));
  }
}

/** Writes `job` into a worker's control block, with `panel` as that worker's scratch, and clears FAILED. */
function postJob(control: Int32Array, job: GemmJob, panel: number): void {
  control[SLOT.FORM] = GEMM_FORMS.indexOf(job.form);
  control[SLOT.ALONG_COLUMNS] = job.alongColumns ? 1 : 0;
  control[SLOT.CHUNK] = job.chunk;
  control[SLOT.CHUNKS] = job.chunks;
  control[SLOT.FAILED] = 0;
  control.set(job.args, SLOT.ARGS);
  control[SLOT.ARGS + PANEL_PARAM] = panel;
}

/** The job {@linkcode postJob} wrote, as the worker reads it. */
export function readJob(control: Int32Array): GemmJob {
  return {
    form: GEMM_FORMS[control[SLOT.FORM]],
    args: Array.from(control.subarray(SLOT.ARGS, SLOTS)) as unknown as GemmArgs,
    alongColumns: control[SLOT.ALONG_COLUMNS] !== 0,
    chunk: control[SLOT.CHUNK],
    chunks: control[SLOT.CHUNKS],
  };
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
  readonly #queue = new Int32Array(new SharedArrayBuffer(4));
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
        const [control, queue] = [controls[w].buffer, threads.#queue.buffer] as SharedArrayBuffer[];
        worker.postMessage({ module, memory, control, queue } satisfies WorkerSetup);
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

  /**
   * Runs `job` on every thread: worker w scratches in `panels[w + 1]`, this thread in `panels[0]`
   * (the job's own) with `product`, its export for the job's form. Returns once every worker
   * has left the job, even when this thread's share throws, so that no late claim can take a chunk
   * of the next product; throws if a worker failed.
   */
  run(job: GemmJob, panels: readonly number[], product: GemmExport): void {
    const seq = ++this.#seq;
    this.#runs++;
    Atomics.store(this.#queue, 0, 0);
    this.#controls.forEach((control, w) => {
      postJob(control, job, panels[w + 1]);
      Atomics.store(control, SLOT.SEQ, seq);
      Atomics.notify(control, SLOT.SEQ);
    });
    try {
      claimChunks(this.#queue, job, product);
    } finally {
      for (const control of this.#controls) {
        for (let done = Atomics.load(control, SLOT.DONE); done !== seq;) {
          done = awaitChange(control, SLOT.DONE, done);
        }
      }
    }
    const failed = this.#controls.findIndex((control) => control[SLOT.FAILED] !== 0);
    if (failed >= 0) throw new Error(`gemm worker ${failed} failed; see its error above`);
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
