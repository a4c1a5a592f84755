/**
 * The playground page: it reads the controls, hands the training to a worker (`worker.ts`) so that the
 * page never freezes, draws each epoch's test loss and accuracy as it arrives (the source task while
 * pretraining, the target task for each strategy, for the seed that is running), then shows the
 * comparison table and offers `results.json` and `results.csv`, byte for byte what `deno task compare`
 * writes for the same settings. The charts are `lineChart`'s SVG, the figures' code in the CLI.
 *
 * @module
 */

/// <reference lib="dom" />

import { type ChartSeries, lineChart } from "../../../app/report/svg.ts";
import type { PlaygroundSettings, TrainRequest, WorkerMessage } from "./protocol.ts";

/** The element with `id`; the page's HTML has them all. */
function byId<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

/** The controls' values as settings. */
function readSettings(form: HTMLFormElement): PlaygroundSettings {
  const data = new FormData(form);
  const number = (name: string) => Number(data.get(name));
  return {
    seed: number("seed"),
    seeds: number("seeds"),
    relatedness: number("relatedness"),
    shift: String(data.get("shift")) as PlaygroundSettings["shift"],
    sourceSamples: number("sourceSamples"),
    targetSamples: number("targetSamples"),
    epochs: number("epochs"),
    hiddenDim: number("hiddenDim"),
    optimizer: String(data.get("optimizer")) as PlaygroundSettings["optimizer"],
    strategies: data.getAll("strategy").map(String) as PlaygroundSettings["strategies"],
    device: String(data.get("device")) as PlaygroundSettings["device"],
  };
}

/** Each phase's test curve for the seed that is running, by the series' name. */
class Curves {
  readonly #loss = new Map<string, { x: number; y: number }[]>();
  readonly #accuracy = new Map<string, { x: number; y: number }[]>();
  #seed: number | null = null;
  #drawPending = false;

  add(message: Extract<WorkerMessage, { kind: "epoch" }>): void {
    if (message.seed !== this.#seed) {
      this.#seed = message.seed;
      this.#loss.clear();
      this.#accuracy.clear();
    }
    const name = message.phase === "pretrain" ? "source (pretraining)" : `${message.phase} (target)`;
    const push = (map: Map<string, { x: number; y: number }[]>, y: number) => {
      if (!Number.isFinite(y)) return; // a diverged phase's loss: nothing to draw
      if (!map.has(name)) map.set(name, []);
      map.get(name)!.push({ x: message.epoch, y });
    };
    push(this.#loss, message.test.loss);
    push(this.#accuracy, 100 * message.test.accuracy);
    if (!this.#drawPending) {
      this.#drawPending = true;
      requestAnimationFrame(() => this.#draw());
    }
  }

  #draw(): void {
    this.#drawPending = false;
    const series = (map: Map<string, { x: number; y: number }[]>): ChartSeries[] =>
      [...map].map(([name, points]) => ({ name, points }));
    const subtitle = `seed ${this.#seed}: test set after each epoch`;
    const chart = (id: string, svg: string) => byId(id).innerHTML = svg.replace(/^<\?xml[^>]*>\s*/, "");
    if (this.#loss.size > 0) {
      chart(
        "loss",
        lineChart({
          title: "Test loss",
          subtitle,
          xLabel: "epoch",
          yLabel: "loss (nats)",
          series: series(this.#loss),
        }),
      );
    }
    if (this.#accuracy.size > 0) {
      chart(
        "accuracy",
        lineChart({
          title: "Test accuracy",
          subtitle,
          xLabel: "epoch",
          yLabel: "accuracy (%)",
          yRange: [0, 100],
          series: series(this.#accuracy),
        }),
      );
    }
  }
}

/** Links that save each of `files` under its name. */
function downloads(files: readonly { name: string; text: string }[]): HTMLAnchorElement[] {
  return files.filter((f) => f.name === "results.json" || f.name === "results.csv").map((file) => {
    const link = document.createElement("a");
    const type = file.name.endsWith(".json") ? "application/json" : "text/csv";
    link.href = URL.createObjectURL(new Blob([file.text], { type }));
    link.download = file.name;
    link.textContent = `Download ${file.name}`;
    return link;
  });
}

/** Wires the form: a Train press starts a worker and follows its messages until it is done. */
function start(): void {
  const form = byId<HTMLFormElement>("settings"), button = byId<HTMLButtonElement>("train");
  const status = byId("status"), engine = byId("engine");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    button.disabled = true;
    byId("results").hidden = true;
    for (const link of byId("downloads").querySelectorAll("a")) URL.revokeObjectURL(link.href);
    byId("loss").innerHTML = byId("accuracy").innerHTML = "";
    status.textContent = "Starting…";
    const curves = new Curves();
    const worker = new Worker("/worker.js", { type: "module" });
    const finish = (text: string) => {
      status.textContent = text;
      button.disabled = false;
      worker.terminate();
    };
    worker.onmessage = ({ data }: MessageEvent<WorkerMessage>) => {
      if (data.kind === "engine") engine.textContent = `Engine: ${data.name} (${data.description})`;
      else if (data.kind === "epoch") {
        curves.add(data);
        const phase = data.phase === "pretrain" ? "pretraining" : data.phase;
        status.textContent = `Seed ${data.seed}, ${phase}: epoch ${data.epoch} of ${data.epochs}`;
      } else if (data.kind === "done") {
        byId("table").textContent = data.table;
        byId("downloads").replaceChildren(...downloads(data.files));
        byId("results").hidden = false;
        finish(`Done: ${data.status}.`);
      } else finish(`Error: ${data.message}`);
    };
    worker.onerror = (event) => finish(`Error: ${event.message}`);
    worker.postMessage({ kind: "train", settings: readSettings(form) } satisfies TrainRequest);
  });
  status.textContent = "Ready.";
}

start();
