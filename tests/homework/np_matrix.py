"""HW5 neural network with np.matrix and row vectors (newer semesters: shuffled every epoch).

    python3 np_matrix.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

Every vector is a (1, n) np.matrix row and `*` is the matrix product: x (1, M+1) with its bias
entry first, net_h = x * W1, h = [1, sigmoid(net_h)] (1, D+1), net_o = h * W2, o = softmax(net_o).
The weights are stored the other way round from the handout: W1 is (M+1) x D and W2 is
(D+1) x K, row 0 the bias. INIT_FLAG 1 draws the handout's D x M block (np.random.seed(D * M),
uniform(-0.1, 0.1)) and stores it transposed under a zero bias row; INIT_FLAG 2: zeros. Each
epoch e (from 0) visits the rows in np.random.seed(e); np.random.permutation(N).

Bugs (--bug):
  update_before_backprop   W2 is updated as soon as dW2 is known, so dh uses the updated W2
  gradient_ascent          W += lr * dW
  loss_mean_over_classes   cross-entropy as -np.mean(y .* log o): divided by K as well
"""

import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

warnings.simplefilter("ignore", PendingDeprecationWarning)  # np.matrix

BUGS = ["update_before_backprop", "gradient_ascent", "loss_mean_over_classes", "sigmoid_derivative_z_only"]
K = 10
BUG = None


def load(path):
    data = np.matrix(np.loadtxt(path, delimiter=",", ndmin=2))
    y = np.asarray(data[:, 0]).astype(int).ravel()
    X = data[:, 1:]
    return X, y


def init_weights(n_in, n_out, flag):
    """(n_in + 1) x n_out, row 0 the bias, so that a row vector goes x * W."""
    if flag == 2:
        return np.matrix(np.zeros((n_in + 1, n_out)))
    np.random.seed(n_out * n_in)
    w = np.random.uniform(-0.1, 0.1, (n_out, n_in))  # the handout's alpha, n_out x n_in
    return np.matrix(np.vstack([np.zeros((1, n_out)), w.T]))


def sigmoid(s):
    return 1.0 / (1.0 + np.exp(-s))


def softmax(s):
    """Row-wise softmax of a matrix of rows."""
    e = np.exp(s - s.max(axis=1))
    return e / e.sum(axis=1)


def one_hot(labels):
    y = np.matrix(np.zeros((len(labels), K)))
    y[np.arange(len(labels)), labels] = 1
    return y


def cross_entropy(o, y):
    """Mean cross-entropy of the rows of o against the one-hot rows of y."""
    if BUG == "loss_mean_over_classes":
        return -np.mean(np.multiply(y, np.log(o)))
    return -np.sum(np.multiply(y, np.log(o))) / o.shape[0]


def add_bias(m):
    return np.hstack([np.matrix(np.ones((m.shape[0], 1))), m])


def forward(X, W1, W2):
    """X: rows without their bias entry. Returns every intermediate, rows."""
    x = add_bias(X)
    net_h = x * W1
    h = add_bias(sigmoid(net_h))
    net_o = h * W2
    o = softmax(net_o)
    return x, net_h, h, net_o, o


def main():
    global BUG
    p = argparse.ArgumentParser()
    for name in ["train_input", "validation_input", "train_out", "validation_out", "metrics_out"]:
        p.add_argument(name)
    p.add_argument("num_epoch", type=int)
    p.add_argument("hidden_units", type=int)
    p.add_argument("init_flag", type=int, choices=[1, 2])
    p.add_argument("learning_rate", type=float)
    p.add_argument("--trace")
    p.add_argument("--bug", choices=BUGS)
    args = p.parse_args()
    BUG = args.bug
    lr = args.learning_rate

    X, y = load(args.train_input)
    Xv, yv = load(args.validation_input)
    N, M = X.shape
    D = args.hidden_units
    W1 = init_weights(M, D, args.init_flag)
    W2 = init_weights(D, K, args.init_flag)
    Y, Yv = one_hot(y), one_hot(yv)

    trace = Trace(args.trace) if args.trace else None
    out = []
    for epoch in range(args.num_epoch):
        np.random.seed(epoch)
        perm = np.random.permutation(N)
        for i, n in enumerate(perm):
            x, net_h, h, net_o, o = forward(X[n], W1, W2)
            loss = cross_entropy(o, Y[n])

            d_net_o = o - Y[n]
            dW2 = h.T * d_net_o
            if BUG == "update_before_backprop":
                W2 = W2 - lr * dW2
            dh = d_net_o * W2[1:, :].T
            if BUG == "sigmoid_derivative_z_only":
                d_net_h = np.multiply(dh, h[:, 1:])
            else:
                d_net_h = np.multiply(dh, np.multiply(h[:, 1:], 1 - h[:, 1:]))
            dW1 = x.T * d_net_h

            if BUG == "gradient_ascent":
                W1 = W1 + lr * dW1
                W2 = W2 + lr * dW2
            elif BUG == "update_before_backprop":
                W1 = W1 - lr * dW1
            else:
                W1 = W1 - lr * dW1
                W2 = W2 - lr * dW2

            if trace:
                trace.example(epoch + 1, i + 1, row=n)
                trace.forward(x=x, net_h=net_h, h=h, net_o=net_o, o=o, loss=loss)
                trace.adjoints(d_net_o=d_net_o, dW2=dW2, dh=dh, d_net_h=d_net_h, dW1=dW1)
                trace.params(W1=W1, W2=W2)

        train_loss = cross_entropy(forward(X, W1, W2)[-1], Y)
        valid_loss = cross_entropy(forward(Xv, W1, W2)[-1], Yv)
        out.append("epoch=%d crossentropy(train): %r" % (epoch + 1, float(train_loss)))
        out.append("epoch=%d crossentropy(validation): %r" % (epoch + 1, float(valid_loss)))
        if trace:
            trace.metrics(epoch + 1, train_loss=train_loss, test_loss=valid_loss)

    pred = np.asarray(np.argmax(forward(X, W1, W2)[-1], axis=1)).ravel()
    pred_v = np.asarray(np.argmax(forward(Xv, W1, W2)[-1], axis=1)).ravel()
    out.append("error(train): %r" % float(np.mean(pred != y)))
    out.append("error(validation): %r" % float(np.mean(pred_v != yv)))
    with open(args.metrics_out, "w") as f:
        f.write("\n".join(out) + "\n")
    with open(args.train_out, "w") as f:
        f.write("".join("%d\n" % v for v in pred))
    with open(args.validation_out, "w") as f:
        f.write("".join("%d\n" % v for v in pred_v))
    if trace:
        trace.close()


if __name__ == "__main__":
    main()
