"""HW5 neural network, column-vector style (older semesters: the file order, no shuffling).

    python3 column_vectors.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

Everything is a column: x is (M+1, 1) with its bias entry 1 folded into the data when it is
loaded, z is (D+1, 1) with its bias entry on top, y is a one-hot (K, 1) column, and the loss is
J = -y^T log(y_hat), a (1, 1) array. alpha is D x (M+1), beta is K x (D+1), column 0 the bias.
INIT_FLAG 1: np.random.seed(rows * cols) of the non-bias block, uniform(-0.1, 0.1), a zero bias
column prepended; INIT_FLAG 2: zeros. The trace records no data row (the loop has only i).

Bugs (--bug):
  bias_slice_off_by_one       dJ/dz = beta[:, :-1]^T dJ/db (drops the last column, not the bias)
  missing_sigmoid_derivative  dJ/da = dJ/dz
  no_hidden_bias              b = beta[:, 1:] z[1:] (the hidden layer's bias entry forgotten)
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ["bias_slice_off_by_one", "missing_sigmoid_derivative", "no_hidden_bias"]
K = 10


def read_command_line(argv):
    flags = {"--trace": None, "--bug": None}
    positional = []
    i = 0
    while i < len(argv):
        if argv[i] in flags and i + 1 < len(argv):
            flags[argv[i]] = argv[i + 1]
            i += 2
        else:
            positional.append(argv[i])
            i += 1
    if len(positional) != 9:
        sys.exit("usage: column_vectors.py TRAIN VALIDATION TRAIN_OUT VALIDATION_OUT METRICS_OUT "
                 "NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]")
    if flags["--bug"] is not None and flags["--bug"] not in BUGS:
        sys.exit("unknown bug %r (one of %s)" % (flags["--bug"], ", ".join(BUGS)))
    return positional, flags["--trace"], flags["--bug"]


def load_data(path):
    data = np.genfromtxt(path, delimiter=",")
    if data.ndim == 1:
        data = data.reshape(1, -1)
    labels = data[:, 0].astype(int)
    X = np.hstack((np.ones((data.shape[0], 1)), data[:, 1:]))  # the bias feature x_0 = 1
    return X, labels


def init_weights(rows, cols, flag):
    """rows x (cols + 1), column 0 the bias."""
    if flag == 1:
        np.random.seed(rows * cols)
        W = np.random.uniform(-0.1, 0.1, (rows, cols))
        return np.hstack((np.zeros((rows, 1)), W))
    return np.zeros((rows, cols + 1))


def one_hot(label):
    y = np.zeros((K, 1))
    y[label] = 1
    return y


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def softmax(b):
    e = np.exp(b)
    return e / np.sum(e)


def NNForward(x, y, alpha, beta, bug):
    a = np.dot(alpha, x)
    z = np.vstack(([[1.0]], sigmoid(a)))
    if bug == "no_hidden_bias":
        b = np.dot(beta[:, 1:], z[1:])
    else:
        b = np.dot(beta, z)
    y_hat = softmax(b)
    J = -np.dot(y.T, np.log(y_hat))
    return a, z, b, y_hat, J


def NNBackward(x, y, alpha, beta, z, y_hat, bug):
    g_b = y_hat - y
    g_beta = np.dot(g_b, z.T)
    if bug == "bias_slice_off_by_one":
        g_z = np.dot(beta[:, :-1].T, g_b)
    else:
        g_z = np.dot(beta[:, 1:].T, g_b)
    if bug == "missing_sigmoid_derivative":
        g_a = g_z
    else:
        g_a = g_z * z[1:] * (1 - z[1:])
    g_alpha = np.dot(g_a, x.T)
    return g_b, g_beta, g_z, g_a, g_alpha


def mean_cross_entropy(X, labels, alpha, beta, bug):
    total = 0.0
    for i in range(X.shape[0]):
        x = X[i].reshape(-1, 1)
        J = NNForward(x, one_hot(labels[i]), alpha, beta, bug)[4]
        total += J[0, 0]
    return total / X.shape[0]


def predict(X, alpha, beta, bug):
    out = []
    for i in range(X.shape[0]):
        y_hat = NNForward(X[i].reshape(-1, 1), one_hot(0), alpha, beta, bug)[3]
        out.append(int(np.argmax(y_hat)))
    return np.array(out)


def main():
    args, trace_path, bug = read_command_line(sys.argv[1:])
    train_in, valid_in, train_out, valid_out, metrics_out = args[:5]
    num_epoch, hidden, init_flag = int(args[5]), int(args[6]), int(args[7])
    lr = float(args[8])

    X, labels = load_data(train_in)
    Xv, labels_v = load_data(valid_in)
    M = X.shape[1] - 1
    alpha = init_weights(hidden, M, init_flag)
    beta = init_weights(K, hidden, init_flag)

    trace = Trace(trace_path) if trace_path else None
    lines = []
    for epoch in range(num_epoch):
        for i in range(X.shape[0]):
            x = X[i].reshape(-1, 1)
            y = one_hot(labels[i])
            a, z, b, y_hat, J = NNForward(x, y, alpha, beta, bug)
            g_b, g_beta, g_z, g_a, g_alpha = NNBackward(x, y, alpha, beta, z, y_hat, bug)
            alpha = alpha - lr * g_alpha
            beta = beta - lr * g_beta
            if trace:
                trace.example(epoch + 1, i + 1)
                trace.forward(x=x, a=a, z=z, b=b, y_hat=y_hat, J=J)
                trace.adjoints(g_b=g_b, g_beta=g_beta, g_z=g_z, g_a=g_a, g_alpha=g_alpha)
                trace.params(alpha=alpha, beta=beta)
        train_ce = mean_cross_entropy(X, labels, alpha, beta, bug)
        valid_ce = mean_cross_entropy(Xv, labels_v, alpha, beta, bug)
        lines.append("epoch=%d crossentropy(train): %r" % (epoch + 1, float(train_ce)))
        lines.append("epoch=%d crossentropy(validation): %r" % (epoch + 1, float(valid_ce)))
        if trace:
            trace.metrics(epoch + 1, train_loss=train_ce, test_loss=valid_ce)

    train_pred = predict(X, alpha, beta, bug)
    valid_pred = predict(Xv, alpha, beta, bug)
    lines.append("error(train): %r" % float(np.mean(train_pred != labels)))
    lines.append("error(validation): %r" % float(np.mean(valid_pred != labels_v)))
    with open(metrics_out, "w") as f:
        f.write("\n".join(lines) + "\n")
    for path, pred in [(train_out, train_pred), (valid_out, valid_pred)]:
        with open(path, "w") as f:
            for p in pred:
                f.write("%d\n" % p)
    if trace:
        trace.close()


if __name__ == "__main__":
    main()
