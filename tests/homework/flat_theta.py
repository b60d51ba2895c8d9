"""HW5 neural network with every parameter in one flat vector θ, unpacked by slicing.

    python3 flat_theta.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--bug NAME]

A style from students who came from scipy.optimize: the parameters live in one 1-D array
theta; alpha (M, D+1, bias column first) and beta (K, M+1) are reshaped views of its slices,
the gradient is one flat vector of the same layout, and the step is `theta -= lr * grad`.
Products are written with np.einsum. Script-level code, no functions for the training loop.
The initial weights are the handout's (the (M, D) block drawn with np.random.seed(M * D),
then (K, M) with np.random.seed(K * M)), the bias columns zero; each epoch shuffles with
np.random.seed(epoch) and np.random.permutation(N).

Bugs (--bug):
  beta_grad_packed_transposed  dJ/dbeta is written into the flat gradient in column order
                               (ravel(order="F")), so the step moves the wrong entries
"""

import sys

import numpy as np

args = sys.argv[1:]
bug = None
if "--bug" in args:
    i = args.index("--bug")
    bug = args[i + 1]
    del args[i : i + 2]
train_in, valid_in, train_out, valid_out, metrics_out = args[:5]
num_epoch, M, init_flag, lr = int(args[5]), int(args[6]), int(args[7]), float(args[8])

tr = np.genfromtxt(train_in, delimiter=",")
va = np.genfromtxt(valid_in, delimiter=",")
X, y = tr[:, 1:], tr[:, 0].astype(int)
Xv, yv = va[:, 1:], va[:, 0].astype(int)
N, D = X.shape
K = 10

n_alpha = M * (D + 1)
theta = np.zeros(n_alpha + K * (M + 1))
alpha = theta[:n_alpha].reshape(M, D + 1)
beta = theta[n_alpha:].reshape(K, M + 1)
if init_flag == 1:
    np.random.seed(M * D)
    alpha[:, 1:] = np.random.uniform(-0.1, 0.1, (M, D))
    np.random.seed(K * M)
    beta[:, 1:] = np.random.uniform(-0.1, 0.1, (K, M))


def forward(x):
    x1 = np.concatenate(([1.0], x))
    a = np.einsum("jd,d->j", alpha, x1)
    z = 1.0 / (1.0 + np.exp(-a))
    z1 = np.concatenate(([1.0], z))
    b = np.einsum("kj,j->k", beta, z1)
    e = np.exp(b - np.max(b))
    return x1, z, z1, e / np.sum(e)


def mean_ce(X_, y_):
    return float(np.mean([-np.log(forward(x)[3][t]) for x, t in zip(X_, y_)]))


grad = np.zeros_like(theta)
lines = []
for epoch in range(num_epoch):
    np.random.seed(epoch)
    for n in np.random.permutation(N):
        x1, z, z1, yhat = forward(X[n])
        gb = yhat.copy()
        gb[y[n]] -= 1.0
        g_beta = np.einsum("k,j->kj", gb, z1)
        gz = np.einsum("kj,k->j", beta[:, 1:], gb)
        ga = gz * z * (1.0 - z)
        g_alpha = np.einsum("j,d->jd", ga, x1)
        grad[:n_alpha] = g_alpha.ravel()
        if bug == "beta_grad_packed_transposed":
            grad[n_alpha:] = g_beta.ravel(order="F")
        else:
            grad[n_alpha:] = g_beta.ravel()
        theta -= lr * grad
    lines.append("epoch={} crossentropy(train): {}".format(epoch + 1, mean_ce(X, y)))
    lines.append("epoch={} crossentropy(validation): {}".format(epoch + 1, mean_ce(Xv, yv)))

for X_, y_, path, key in [(X, y, train_out, "train"), (Xv, yv, valid_out, "validation")]:
    pred = np.array([int(np.argmax(forward(x)[3])) for x in X_])
    np.savetxt(path, pred, fmt="%d")
    lines.append("error({}): {}".format(key, float(np.mean(pred != y_))))
with open(metrics_out, "w") as f:
    f.write("\n".join(lines) + "\n")
