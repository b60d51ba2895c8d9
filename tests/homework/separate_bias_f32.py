"""HW5 neural network with separate bias vectors, all in float32.

    python3 separate_bias_f32.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

The deep-learning-course naming: z1 = W1 x + b1, a1 = sigmoid(z1), z2 = W2 a1 + b2,
probs = softmax(z2), loss = -log probs[label]; W1 is D x M, b1 (D,), W2 is K x D, b2 (K,).
Data, weights and every computation are float32. INIT_FLAG 1: W drawn as the handout says,
np.random.seed(rows * cols); uniform(-0.1, 0.1) (rows x cols = the weights without bias),
biases zero; INIT_FLAG 2: zeros. Epoch e (from 0) visits np.random.seed(e);
np.random.permutation(N).

Bugs (--bug):
  no_hidden_bias              z2 = W2 a1: b2 forgotten in the forward pass (it is still trained)
  loss_label_off_by_one       loss = -log probs[label - 1] (the gradient is right)
  missing_sigmoid_derivative  dz1 = da1
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ["no_hidden_bias", "loss_label_off_by_one", "missing_sigmoid_derivative"]
NUM_CLASSES = 10
DTYPE = np.float32


def load(path):
    data = np.genfromtxt(path, delimiter=",", dtype=DTYPE)
    if data.ndim == 1:
        data = data[None, :]
    return data[:, 1:], data[:, 0].astype(np.int64)


def init_params(n_in, n_hidden, n_out, flag):
    def weights(rows, cols):
        if flag == 2:
            return np.zeros((rows, cols), dtype=DTYPE)
        np.random.seed(rows * cols)
        return np.random.uniform(-0.1, 0.1, (rows, cols)).astype(DTYPE)

    return {
        "W1": weights(n_hidden, n_in),
        "b1": np.zeros(n_hidden, dtype=DTYPE),
        "W2": weights(n_out, n_hidden),
        "b2": np.zeros(n_out, dtype=DTYPE),
    }


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def forward(params, x, bug=None):
    """x: one example (M,) or a batch (N, M)."""
    z1 = x @ params["W1"].T + params["b1"]
    a1 = sigmoid(z1)
    if bug == "no_hidden_bias":
        z2 = a1 @ params["W2"].T
    else:
        z2 = a1 @ params["W2"].T + params["b2"]
    probs = softmax(z2)
    return z1, a1, z2, probs


def cross_entropy(probs, labels, bug=None):
    idx = labels - 1 if bug == "loss_label_off_by_one" else labels
    if probs.ndim == 1:
        return -np.log(probs[idx])
    return -np.log(probs[np.arange(len(labels)), idx])


def backward(params, x, label, a1, probs, bug=None):
    y = np.zeros(NUM_CLASSES, dtype=DTYPE)
    y[label] = 1
    dz2 = probs - y
    dW2 = np.outer(dz2, a1)
    db2 = dz2
    da1 = params["W2"].T @ dz2
    if bug == "missing_sigmoid_derivative":
        dz1 = da1
    else:
        dz1 = da1 * a1 * (1 - a1)
    dW1 = np.outer(dz1, x)
    db1 = dz1
    return {"dz2": dz2, "dW2": dW2, "db2": db2, "da1": da1, "dz1": dz1, "dW1": dW1, "db1": db1}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("validation")
    ap.add_argument("train_out")
    ap.add_argument("validation_out")
    ap.add_argument("metrics_out")
    ap.add_argument("num_epoch", type=int)
    ap.add_argument("hidden_units", type=int)
    ap.add_argument("init_flag", type=int)
    ap.add_argument("learning_rate", type=float)
    ap.add_argument("--trace")
    ap.add_argument("--bug", choices=BUGS)
    args = ap.parse_args()
    bug, lr = args.bug, args.learning_rate

    X_train, y_train = load(args.train)
    X_val, y_val = load(args.validation)
    N, M = X_train.shape
    params = init_params(M, args.hidden_units, NUM_CLASSES, args.init_flag)

    trace = Trace(args.trace) if args.trace else None
    lines = []
    for epoch in range(args.num_epoch):
        np.random.seed(epoch)
        indices = np.random.permutation(N)
        for step, idx in enumerate(indices):
            x, label = X_train[idx], y_train[idx]
            z1, a1, z2, probs = forward(params, x, bug)
            loss = cross_entropy(probs, label, bug)
            grads = backward(params, x, label, a1, probs, bug)
            for name in ("W1", "b1", "W2", "b2"):
                params[name] -= lr * grads["d" + name]
            if trace:
                trace.example(epoch + 1, step + 1, row=idx)
                trace.forward(x=x, z1=z1, a1=a1, z2=z2, probs=probs, loss=loss)
                trace.adjoints(**grads)
                trace.params(**params)
        train_loss = np.mean(cross_entropy(forward(params, X_train, bug)[3], y_train, bug))
        val_loss = np.mean(cross_entropy(forward(params, X_val, bug)[3], y_val, bug))
        lines.append(f"epoch={epoch + 1} crossentropy(train): {float(train_loss)!r}")
        lines.append(f"epoch={epoch + 1} crossentropy(validation): {float(val_loss)!r}")
        if trace:
            trace.metrics(epoch + 1, train_loss=train_loss, test_loss=val_loss)

    train_pred = np.argmax(forward(params, X_train, bug)[3], axis=1)
    val_pred = np.argmax(forward(params, X_val, bug)[3], axis=1)
    lines.append(f"error(train): {float(np.mean(train_pred != y_train))!r}")
    lines.append(f"error(validation): {float(np.mean(val_pred != y_val))!r}")
    with open(args.metrics_out, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(args.train_out, "w") as f:
        f.writelines(f"{p}\n" for p in train_pred)
    with open(args.validation_out, "w") as f:
        f.writelines(f"{p}\n" for p in val_pred)
    if trace:
        trace.close()


if __name__ == "__main__":
    main()
