"""HW5 neural network, a plain loop of functions; the bias column keeps its random draw.

    python3 bias_drawn.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

1-D vectors: x gets its 1 prepended (M+1,), a = alpha x, z = sigmoid(a) (D,), b = beta [1; z],
y_hat = softmax(b), J = -log y_hat[label]. INIT_FLAG 1 draws each whole weight matrix, bias
column included, with np.random.seed(rows * (cols + 1)); uniform(-0.1, 0.1) and leaves the bias
column as drawn (this student read "initialize the weights randomly" for all of them);
INIT_FLAG 2: zeros. Epoch e (from 0) visits np.random.seed(e); np.random.permutation(N).

Bugs (--bug):
  onehot_off_by_one       dJ/db = y_hat - onehot((label + 1) mod K)
  no_hidden_bias          b = beta[:, 1:] z: the hidden bias entry forgotten
  loss_label_off_by_one   J = -log y_hat[label - 1] (the gradient is right)
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ["onehot_off_by_one", "no_hidden_bias", "loss_label_off_by_one"]
K = 10


def get_args(argv):
    trace_file, bug, rest = None, None, []
    it = iter(argv)
    for arg in it:
        if arg == "--trace":
            trace_file = next(it)
        elif arg == "--bug":
            bug = next(it)
            if bug not in BUGS:
                raise SystemExit("--bug must be one of " + ", ".join(BUGS))
        else:
            rest.append(arg)
    if len(rest) != 9:
        raise SystemExit("expected 9 arguments, got %d" % len(rest))
    return rest, trace_file, bug


def read_csv(path):
    data = np.loadtxt(path, delimiter=",", ndmin=2)
    return data[:, 1:], data[:, 0].astype(int)


def init_weights(shape, flag):
    if flag == 1:
        np.random.seed(shape[0] * shape[1])
        return np.random.uniform(-0.1, 0.1, shape)
    return np.zeros(shape)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def softmax(v):
    exps = np.exp(v - v.max())
    return exps / exps.sum()


def forward(x, label, alpha, beta, bug):
    a = alpha @ x
    z = sigmoid(a)
    if bug == "no_hidden_bias":
        b = beta[:, 1:] @ z
    else:
        b = beta @ np.insert(z, 0, 1.0)
    y_hat = softmax(b)
    if bug == "loss_label_off_by_one":
        J = -np.log(y_hat[label - 1])
    else:
        J = -np.log(y_hat[label])
    return a, z, b, y_hat, J


def backward(x, label, z, y_hat, beta, bug):
    onehot = np.zeros(K)
    if bug == "onehot_off_by_one":
        onehot[(label + 1) % K] = 1.0
    else:
        onehot[label] = 1.0
    dJ_db = y_hat - onehot
    dJ_dbeta = np.outer(dJ_db, np.insert(z, 0, 1.0))
    dJ_dz = beta[:, 1:].T @ dJ_db
    dJ_da = dJ_dz * z * (1.0 - z)
    dJ_dalpha = np.outer(dJ_da, x)
    return dJ_db, dJ_dbeta, dJ_dz, dJ_da, dJ_dalpha


def mean_loss(X, labels, alpha, beta, bug):
    losses = []
    for x, label in zip(X, labels):
        losses.append(forward(np.insert(x, 0, 1.0), label, alpha, beta, bug)[4])
    return sum(losses) / len(losses)


def predict(X, alpha, beta, bug):
    return np.array([np.argmax(forward(np.insert(x, 0, 1.0), 0, alpha, beta, bug)[3]) for x in X])


def main():
    args, trace_file, bug = get_args(sys.argv[1:])
    X, labels = read_csv(args[0])
    Xv, labels_v = read_csv(args[1])
    epochs, D, flag, lr = int(args[5]), int(args[6]), int(args[7]), float(args[8])
    N, M = X.shape

    alpha = init_weights((D, M + 1), flag)
    beta = init_weights((K, D + 1), flag)

    trace = Trace(trace_file) if trace_file else None
    metrics = []
    for e in range(epochs):
        np.random.seed(e)
        order = np.random.permutation(N)
        for i, row in enumerate(order):
            x = np.insert(X[row], 0, 1.0)
            a, z, b, y_hat, J = forward(x, labels[row], alpha, beta, bug)
            dJ_db, dJ_dbeta, dJ_dz, dJ_da, dJ_dalpha = backward(x, labels[row], z, y_hat, beta, bug)
            alpha -= lr * dJ_dalpha
            beta -= lr * dJ_dbeta
            if trace:
                trace.example(e + 1, i + 1, row=row)
                trace.forward(x=x, a=a, z=z, b=b, y_hat=y_hat, J=J)
                trace.adjoints(dJ_db=dJ_db, dJ_dbeta=dJ_dbeta, dJ_dz=dJ_dz, dJ_da=dJ_da, dJ_dalpha=dJ_dalpha)
                trace.params(alpha=alpha, beta=beta)
        train_loss = mean_loss(X, labels, alpha, beta, bug)
        valid_loss = mean_loss(Xv, labels_v, alpha, beta, bug)
        metrics.append("epoch=%d crossentropy(train): %r" % (e + 1, float(train_loss)))
        metrics.append("epoch=%d crossentropy(validation): %r" % (e + 1, float(valid_loss)))
        if trace:
            trace.metrics(e + 1, train_loss=train_loss, test_loss=valid_loss)

    pred, pred_v = predict(X, alpha, beta, bug), predict(Xv, alpha, beta, bug)
    metrics.append("error(train): %r" % float(np.mean(pred != labels)))
    metrics.append("error(validation): %r" % float(np.mean(pred_v != labels_v)))
    with open(args[4], "w") as f:
        f.write("\n".join(metrics) + "\n")
    np.savetxt(args[2], pred, fmt="%d")
    np.savetxt(args[3], pred_v, fmt="%d")
    if trace:
        trace.close()


if __name__ == "__main__":
    main()
