"""The homework network as a careful numpy per-example loop, for benches/vs_numpy.py.

    python3 benches/numpy_careful.py TRAIN.csv VALIDATION.csv METRICS_OUT EPOCHS HIDDEN LR

The same computation as models/hw_network.yaml and examples/hw_numpy.py (128 -> HIDDEN sigmoid
-> softmax over 10, cross-entropy, SGD one example at a time, INIT_FLAG 1 weights, each epoch e
from 0 shuffled with np.random.seed(e); np.random.permutation(N)), written the way the
homework's best solutions are: the forward and backward pass of one example vectorised, the
gradients as np.outer into preallocated arrays, the updates in place, no copies in the loop,
and the epoch metrics batched (one matrix product per data set).
"""

import sys

import numpy as np


def init_weights(rows, cols):
    np.random.seed(rows * cols)
    w = np.empty((rows, cols + 1))
    w[:, 0] = 0.0
    w[:, 1:] = np.random.uniform(-0.1, 0.1, (rows, cols))
    return w


def mean_loss(X1, Y, alpha, beta):
    """Mean cross-entropy of a data set (X1 with its column of ones)."""
    z = 1.0 / (1.0 + np.exp(-(X1 @ alpha.T)))
    b = z @ beta[:, 1:].T + beta[:, 0]
    b -= b.max(axis=1, keepdims=True)
    lse = np.log(np.exp(b).sum(axis=1))
    return float(np.mean(lse - b[np.arange(len(Y)), Y]))


def main():
    train, valid, metrics_out = sys.argv[1:4]
    epochs, hidden, lr = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
    tr = np.loadtxt(train, delimiter=",", ndmin=2)
    va = np.loadtxt(valid, delimiter=",", ndmin=2)
    X = np.hstack([np.ones((len(tr), 1)), tr[:, 1:]])
    Y = tr[:, 0].astype(int)
    Xv = np.hstack([np.ones((len(va), 1)), va[:, 1:]])
    Yv = va[:, 0].astype(int)
    M, K = X.shape[1] - 1, 10
    alpha = init_weights(hidden, M)
    beta = init_weights(K, hidden)
    z1 = np.ones(hidden + 1)
    g_alpha = np.empty_like(alpha)
    g_beta = np.empty_like(beta)
    a = np.empty(hidden)
    b = np.empty(K)
    lines = []
    for e in range(epochs):
        np.random.seed(e)
        for i in np.random.permutation(len(Y)):
            x1 = X[i]
            np.dot(alpha, x1, out=a)
            z = z1[1:]
            np.negative(a, out=z)
            np.exp(z, out=z)
            z += 1.0
            np.reciprocal(z, out=z)
            np.dot(beta, z1, out=b)
            b -= b.max()
            np.exp(b, out=b)
            b /= b.sum()
            b[Y[i]] -= 1.0  # dJ/db = y_hat - onehot
            g_z = beta[:, 1:].T @ b
            g_z *= z * (1.0 - z)  # dJ/da
            np.outer(b, z1, out=g_beta)
            np.outer(g_z, x1, out=g_alpha)
            g_alpha *= lr
            alpha -= g_alpha
            g_beta *= lr
            beta -= g_beta
        lines.append("epoch=%d crossentropy(train): %r" % (e + 1, mean_loss(X, Y, alpha, beta)))
        lines.append("epoch=%d crossentropy(validation): %r" % (e + 1, mean_loss(Xv, Yv, alpha, beta)))
    with open(metrics_out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
