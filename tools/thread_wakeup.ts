/**
 * What it costs to wake a sleeping thread, which sets how long the CPU engine's threads spin before
 * they sleep (`src/engines/cpu/wasm/threads.ts`): round trips through `Atomics.notify` and
 * `Atomics.wait` to a worker that sleeps between them, after the caller has been busy for 0, 1 and
 * 5 ms (so the worker's core has been idle that long).
 *
 *     deno run --allow-read tools/thread_wakeup.ts
 *
 * @module
 */

const control = new Int32Array(new SharedArrayBuffer(8));
const worker = new Worker(new URL("./thread_wakeup_worker.ts", import.meta.url), { type: "module" });
worker.postMessage(control.buffer);
await new Promise((resolve) => setTimeout(resolve, 300)); // the worker starts and goes to sleep

const ROUNDS = 200;
let round = 0;
for (const busyMs of [0, 1, 5]) {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    for (const until = performance.now() + busyMs; performance.now() < until;); // keep this core busy
    const started = performance.now();
    Atomics.store(control, 0, ++round);
    Atomics.notify(control, 0);
    while (Atomics.load(control, 1) !== round) Atomics.wait(control, 1, Atomics.load(control, 1));
    times.push((performance.now() - started) * 1000);
  }
  times.sort((a, b) => a - b);
  const [median, p90] = [times[ROUNDS / 2], times[Math.floor(ROUNDS * 0.9)]];
  console.log(
    `after ${busyMs} ms: round trip median ${median.toFixed(0)} µs, 90th percentile ${p90.toFixed(0)} µs`,
  );
}
Atomics.store(control, 0, -1);
Atomics.notify(control, 0);
