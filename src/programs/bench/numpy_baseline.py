"""An idiomatic NumPy baseline for the benchmark: the training our engines do, written the usual way.

It mirrors the CPU engine's training step (src/engines/cpu/mlp.ts, src/engines/cpu/engine.ts) in
float32: a ReLU MLP with a linear head, mean softmax cross-entropy, plain minibatch SGD over a fresh
permutation each epoch (the last partial batch included), no backward work below the lowest layer
that learns and no gradient for a frozen layer, and after each epoch the test set's loss and
accuracy in chunks of the spec's evalRows (the CPU engine's evaluation batch).

The data are random (standard normal inputs, uniform labels) and every phase starts from fresh He
weights: the cost of a step depends on the shapes, not on the values, so this times the same work as
our engines without reproducing their data generator or the pretrained weights.

Reads one JSON spec on stdin (see src/programs/bench/numpy_baseline.ts), writes one JSON result on stdout.
Only the training loops are timed, each with the measurement of its phase's three splits after it.
On any error: one line on stderr and exit code 2.
"""

import json
import math
import sys
import time

# numpy (as np) is imported under __main__ below, so that its absence is the one-line error, exit 2.



def he_layers(widths, rng):
    """(W, b) per layer: W ~ N(0, 2 / fan_in), b = 0."""
    return [
        (rng.standard_normal((n_in, n_out), dtype=np.float32) * (2 / n_in) ** 0.5,
         np.zeros(n_out, dtype=np.float32))
        for n_in, n_out in zip(widths[:-1], widths[1:])
    ]


def forward(layers, x):
    """Every layer's input and the logits: relu(a @ W + b) for hidden layers, a @ W + b for the head."""
    acts = [x]
    for l, (w, b) in enumerate(layers):
        z = acts[-1] @ w + b
        acts.append(np.maximum(z, 0) if l < len(layers) - 1 else z)
    return acts


def log_softmax(logits):
    """Row-wise log-softmax, stable for any magnitude because the row maximum is subtracted first."""
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def train_step(layers, steps, x, y):
    """One SGD step on a minibatch; returns its summed loss. Updates the weights in place."""
    acts = forward(layers, x)
    logp = log_softmax(acts[-1])
    rows = np.arange(len(y))
    loss = -float(logp[rows, y].sum())
    learning = [l for l, step in enumerate(steps) if step > 0]
    if not learning:
        return loss
    d = np.exp(logp)  # d(mean loss)/d(logits) = (softmax - onehot) / rows
    d[rows, y] -= 1
    d /= len(y)
    for l in range(len(layers) - 1, learning[0] - 1, -1):
        w, b = layers[l]
        a = acts[l]
        # The delta below must use this layer's weights before they are updated.
        d_prev = (d @ w.T) * (a > 0) if l > learning[0] else None
        if steps[l] > 0:
            w -= steps[l] * (a.T @ d)
            b -= steps[l] * d.sum(axis=0)
        d = d_prev
    return loss


def evaluate(layers, x, y, eval_rows):
    """Mean loss and accuracy over a dataset, forward passes of eval_rows rows at a time."""
    loss, correct = 0.0, 0
    for start in range(0, len(y), eval_rows):
        logits = forward(layers, x[start:start + eval_rows])[-1]
        labels = y[start:start + eval_rows]
        loss -= float(log_softmax(logits)[np.arange(len(labels)), labels].sum())
        correct += int((logits.argmax(axis=1) == labels).sum())
    return loss / len(y), correct / len(y)


def run_phase(phase, eval_rows, rng):
    """Makes the phase's random data and weights, then times its training and the measurement of
    its three splits after it (as our engines' phase times count them); returns its result."""
    widths = phase["widths"]
    features, classes = widths[0], widths[-1]
    n_train, n_val, n_test = phase["trainRows"], phase["validationRows"], phase["testRows"]
    x_train = rng.standard_normal((n_train, features), dtype=np.float32)
    y_train = rng.integers(0, classes, n_train)
    x_val = rng.standard_normal((n_val, features), dtype=np.float32)
    y_val = rng.integers(0, classes, n_val)
    x_test = rng.standard_normal((n_test, features), dtype=np.float32)
    y_test = rng.integers(0, classes, n_test)
    layers = he_layers(widths, rng)
    steps, batch = phase["stepSizes"], phase["batchSize"]
    if len(steps) != len(layers):
        raise ValueError(f"phase {phase['name']}: {len(steps)} step sizes for {len(layers)} layers")

    train_loss = test_accuracy = None  # stay null (JSON has no NaN) when there are no epochs
    started = time.perf_counter()
    for _ in range(phase["epochs"]):
        order = rng.permutation(n_train)
        loss = 0.0
        for start in range(0, n_train, batch):
            idx = order[start:start + batch]
            loss += train_step(layers, steps, x_train[idx], y_train[idx])
        train_loss = loss / n_train if math.isfinite(loss) else None
        _, test_accuracy = evaluate(layers, x_test, y_test, eval_rows)
    for x, y in ((x_train, y_train), (x_val, y_val), (x_test, y_test)):
        evaluate(layers, x, y, eval_rows)
    seconds = time.perf_counter() - started
    return {
        "name": phase["name"],
        "seconds": seconds,
        "finalTrainLoss": train_loss,
        "finalTestAccuracy": test_accuracy,
    }


def blas_name():
    """The BLAS NumPy was built with, e.g. "scipy-openblas 0.3.31", or "unknown"."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy, or a build that does not say
        return "unknown"


def main():
    spec = json.load(sys.stdin)
    rng = np.random.default_rng(spec["seed"])
    phases = [run_phase(phase, spec["evalRows"], rng) for phase in spec["phases"]]
    result = {
        "numpy": np.__version__,
        "blas": blas_name(),
        "phases": phases,
        "seconds": sum(p["seconds"] for p in phases),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    try:
        import numpy as np
    except ImportError as error:
        print(f"error: numpy cannot be imported ({error})", file=sys.stderr)
        sys.exit(2)
    try:
        main()
    except KeyError as error:
        print(f"error: the spec lacks the key {error}", file=sys.stderr)
        sys.exit(2)
    except Exception as error:  # one line, no traceback: the caller reports it as "unavailable"
        print(f"error: {type(error).__name__}: {error}".replace("\n", " "), file=sys.stderr)
        sys.exit(2)
