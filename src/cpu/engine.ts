/**
 * The CPU engine: the whole training step in plain TypeScript (see `kernels.ts` and `mlp.ts`).
 *
 * Work buffers are sized once per model and batch size, so a training step allocates nothing.
 * Each epoch's metrics are delivered as soon as the epoch ends.
 *
 * @module
 */

import type { Dataset } from "../data.ts";
import type { DatasetHandle, Engine, EpochMetrics, Metrics, PhaseSpec } from "../engine.ts";
import { copyModel, type Layer, type Mlp } from "../model.ts";
import { epochOrder } from "../shuffle.ts";
import { gatherRows, type LossSum, sgdStep, softmaxCrossEntropy } from "./kernels.ts";
import { backward, forward, Workspace } from "./mlp.ts";

/** Rows evaluated per forward pass when measuring a whole dataset. */
const EVAL_ROWS = 256;

interface CpuDataset extends DatasetHandle {
  readonly data: Dataset;
}

/** Trains and evaluates on the CPU with Float32Array parameters. */
export class CpuEngine implements Engine {
  readonly name = "cpu";
  readonly description = "TypeScript kernels, 1 thread";
  #model: Layer[] = [];
  #workspace: Workspace | null = null;
  #sum: LossSum = { loss: 0, correct: 0 };

  upload(data: Dataset): DatasetHandle {
    const handle: CpuDataset = { n: data.n, features: data.features, classes: data.classes, data };
    return handle;
  }

  setModel(model: Mlp): void {
    this.#model = [...copyModel(model)];
  }

  readModel(): Promise<Mlp> {
    return Promise.resolve(copyModel(this.#model));
  }

  trainPhase(spec: PhaseSpec): Promise<EpochMetrics[]> {
    const { data } = spec.train as CpuDataset;
    const ws = this.#workspaceFor(spec.batchSize);
    const needsGrad = spec.layerRates.map((rate) => rate > 0);
    const order = new Uint32Array(data.n);
    const history: EpochMetrics[] = [];
    for (let epoch = 1; epoch <= spec.epochs; epoch++) {
      epochOrder(order, spec.shuffleSeed, epoch);
      let loss = 0, correct = 0;
      for (let from = 0; from < data.n; from += spec.batchSize) {
        const rows = Math.min(spec.batchSize, data.n - from);
        gatherRows(data.x, order, from, rows, data.features, ws.activations[0]);
        for (let r = 0; r < rows; r++) ws.labels[r] = data.labels[order[from + r]];
        forward(ws, this.#model, rows);
        backward(ws, this.#model, rows, needsGrad, this.#sum);
        this.#update(ws, spec.learningRate, spec.layerRates);
        loss += this.#sum.loss;
        correct += this.#sum.correct;
      }
      const metrics = {
        epoch,
        train: { loss: loss / data.n, accuracy: correct / data.n },
        test: this.#measure(spec.test),
      };
      history.push(metrics);
      spec.onEpoch?.(metrics);
    }
    return Promise.resolve(history);
  }

  evaluate(data: DatasetHandle): Promise<Metrics> {
    return Promise.resolve(this.#measure(data));
  }

  dispose(): void {
    this.#model = [];
    this.#workspace = null;
  }

  #update(ws: Workspace, learningRate: number, layerRates: readonly number[]): void {
    this.#model.forEach((layer, l) => {
      if (layerRates[l] === 0) return;
      sgdStep(layer.weights, ws.weightGrads[l], learningRate * layerRates[l]);
      sgdStep(layer.bias, ws.biasGrads[l], learningRate * layerRates[l]);
    });
  }

  #measure(handle: DatasetHandle): Metrics {
    const { data } = handle as CpuDataset;
    const ws = this.#workspaceFor(EVAL_ROWS);
    const classes = this.#model[this.#model.length - 1].outputs;
    let loss = 0, correct = 0;
    for (let from = 0; from < data.n; from += ws.capacity) {
      const rows = Math.min(ws.capacity, data.n - from);
      ws.activations[0].set(data.x.subarray(from * data.features, (from + rows) * data.features));
      forward(ws, this.#model, rows);
      softmaxCrossEntropy(
        ws.activations[this.#model.length],
        data.labels,
        from,
        rows,
        classes,
        null,
        0,
        this.#sum,
      );
      loss += this.#sum.loss;
      correct += this.#sum.correct;
    }
    return { loss: loss / data.n, accuracy: correct / data.n };
  }

  /** A workspace for this model with room for at least `rows` rows, reused while it fits. */
  #workspaceFor(rows: number): Workspace {
    const widths = [this.#model[0].inputs, ...this.#model.map((layer) => layer.outputs)];
    const ws = this.#workspace;
    const fits = ws !== null && ws.capacity >= rows && ws.widths.every((w, i) => w === widths[i]) &&
      ws.widths.length === widths.length;
    if (fits) return ws;
    this.#workspace = new Workspace(widths, Math.max(rows, EVAL_ROWS), (n) => new Float32Array(n));
    return this.#workspace;
  }
}
