"""HW5 neural network, column-major style: the whole data set is one matrix, one column an example.

    python3 column_major.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

The data set is kept as X, (M+1) x N, with the bias row of ones first: X[:, i] is example i's
x with its 1; the labels are a vector. alpha is D x (M+1), beta is K x (D+1), column 0 the bias.
One function does the forward pass of any number of columns (A = alpha X,
Z = [1; sigmoid(A)], B = beta Z, softmax per column): SGD calls it on the single column
X[:, [i]] (kept 2-D, (M+1, 1)) in file order, the epoch metrics and the predictions on all of
X at once. INIT_FLAG 1: np.random.seed(rows * cols) of the non-bias block,
uniform(-0.1, 0.1), a zero bias column prepended; INIT_FLAG 2: zeros. No data row is
recorded (the loop has only i).

Bugs (--bug):
  validation_on_train    the validation mean loss is computed on the training set
  metric_sum             the epoch metric is the sum of the column losses, not their mean
  forward_once           the forward pass of all columns is done once, before training, with the
                         initial weights, and the loop reads column i of it
  bias_slice_off_by_one  dJ/dz = beta[:, :-1]^T dJ/db (drops the last column, not the bias)
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ["validation_on_train", "metric_sum", "forward_once", "bias_slice_off_by_one"]
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
        sys.exit("usage: column_major.py TRAIN VALIDATION TRAIN_OUT VALIDATION_OUT METRICS_OUT "
                 "NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]")
    if flags["--bug"] is not None and flags["--bug"] not in BUGS:
        sys.exit("unknown bug %r (one of %s)" % (flags["--bug"], ", ".join(BUGS)))
    return positional, flags["--trace"], flags["--bug"]


def load_columns(path):
    """X, (M+1) x N with the bias row of ones first, and the labels (N,)."""
    data = np.loadtxt(path, delimiter=",", ndmin=2)
    labels = data[:, 0].astype(int)
    X = np.vstack((np.ones((1, data.shape[0])), data[:, 1:].T))
    return X, labels


def init_weights(rows, cols, flag):
    """rows x (cols + 1), column 0 the bias."""
    if flag == 1:
        np.random.seed(rows * cols)
        W = np.random.uniform(-0.1, 0.1, (rows, cols))
        return np.hstack((np.zeros((rows, 1)), W))
    return np.zeros((rows, cols + 1))


def sigmoid(A):
    return 1.0 / (1.0 + np.exp(-A))


def softmax_columns(B):
    E = np.exp(B - B.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def forward(X, alpha, beta):
    """The forward pass of every column of X at once."""
    A = alpha @ X
    Z = np.vstack((np.ones((1, X.shape[1])), sigmoid(A)))
    B = beta @ Z
    Y_hat = softmax_columns(B)
    return A, Z, B, Y_hat


def column_losses(Y_hat, labels):
    return -np.log(Y_hat[labels, np.arange(len(labels))])


def mean_loss(X, labels, alpha, beta, bug):
    Y_hat = forward(X, alpha, beta)[3]
    if bug == "metric_sum":
        return float(np.sum(column_losses(Y_hat, labels)))
    return float(np.mean(column_losses(Y_hat, labels)))


def backward(x_col, y_col, beta, z_col, yhat_col, bug):
    g_b = yhat_col - y_col
    g_beta = g_b @ z_col.T
    if bug == "bias_slice_off_by_one":
        g_z = beta[:, :-1].T @ g_b
    else:
        g_z = beta[:, 1:].T @ g_b
    g_a = g_z * z_col[1:] * (1 - z_col[1:])
    g_alpha = g_a @ x_col.T
    return g_b, g_beta, g_z, g_a, g_alpha


def main():
    args, trace_path, bug = read_command_line(sys.argv[1:])
    train_in, valid_in, train_out, valid_out, metrics_out = args[:5]
    num_epoch, hidden, init_flag = int(args[5]), int(args[6]), int(args[7])
    lr = float(args[8])

    X, labels = load_columns(train_in)
    Xv, labels_v = load_columns(valid_in)
    M, N = X.shape[0] - 1, X.shape[1]
    Y = np.eye(K)[:, labels]  # one-hot columns, K x N
    alpha = init_weights(hidden, M, init_flag)
    beta = init_weights(K, hidden, init_flag)

    trace = Trace(trace_path) if trace_path else None
    lines = []
    if bug == "forward_once":
        A_all, Z_all, B_all, Y_hat_all = forward(X, alpha, beta)
    for epoch in range(num_epoch):
        for i in range(N):
            x_col = X[:, [i]]
            y_col = Y[:, [i]]
            if bug == "forward_once":
                a_col, z_col, b_col, yhat_col = A_all[:, [i]], Z_all[:, [i]], B_all[:, [i]], Y_hat_all[:, [i]]
            else:
                a_col, z_col, b_col, yhat_col = forward(x_col, alpha, beta)
            J = -np.log(yhat_col[labels[i], 0])
            g_b, g_beta, g_z, g_a, g_alpha = backward(x_col, y_col, beta, z_col, yhat_col, bug)
            alpha = alpha - lr * g_alpha
            beta = beta - lr * g_beta
            if trace:
                trace.example(epoch + 1, i + 1)
                trace.forward(x_col=x_col, a_col=a_col, z_col=z_col, b_col=b_col, yhat_col=yhat_col, J=J)
                trace.adjoints(g_b=g_b, g_beta=g_beta, g_z=g_z, g_a=g_a, g_alpha=g_alpha)
                trace.params(alpha=alpha, beta=beta)
        train_ce = mean_loss(X, labels, alpha, beta, bug)
        if bug == "validation_on_train":
            valid_ce = mean_loss(X, labels, alpha, beta, bug)
        else:
            valid_ce = mean_loss(Xv, labels_v, alpha, beta, bug)
        lines.append("epoch=%d crossentropy(train): %r" % (epoch + 1, train_ce))
        lines.append("epoch=%d crossentropy(validation): %r" % (epoch + 1, valid_ce))
        if trace:
            trace.metrics(epoch + 1, train_loss=train_ce, test_loss=valid_ce)

    train_pred = np.argmax(forward(X, alpha, beta)[3], axis=0)
    valid_pred = np.argmax(forward(Xv, alpha, beta)[3], axis=0)
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
