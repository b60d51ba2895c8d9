"""HW5 neural network whose random initialisation forgets the seed.

    python3 unseeded.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME] [--no-init-record]

A plain loop in the file order. INIT_FLAG 1: W1 (D x (M+1)) and W2 (K x (D+1)) get
np.random.uniform(-0.1, 0.1, ...) for the non-bias block WITHOUT np.random.seed, so every run
starts elsewhere, and a zero bias column; INIT_FLAG 2: zeros. Because of that, the trace starts
with the initial weights (trace.init) so that bptui can start from the same ones;
--no-init-record leaves that record out. The backward pass goes through dJ/dy_hat = -y / y_hat
and the full softmax Jacobian diag(y_hat) - y_hat y_hat^T.

Bugs (--bug):
  softmax_elementwise   dJ/db = dJ/dy_hat * y_hat * (1 - y_hat): only the Jacobian's diagonal
  onehot_off_by_one     the one-hot y has its 1 at (label + 1) mod K
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ["softmax_elementwise", "onehot_off_by_one"]


def main(argv):
    options = {"--trace": None, "--bug": None}
    record_init = True
    pos = []
    while argv:
        arg = argv.pop(0)
        if arg in options:
            options[arg] = argv.pop(0)
        elif arg == "--no-init-record":
            record_init = False
        else:
            pos.append(arg)
    if len(pos) != 9 or options["--bug"] not in BUGS + [None]:
        sys.exit(__doc__)
    bug = options["--bug"]
    train_input, validation_input, train_out, validation_out, metrics_out = pos[:5]
    num_epoch, hidden_units, init_flag, learning_rate = int(pos[5]), int(pos[6]), int(pos[7]), float(pos[8])

    train = np.loadtxt(train_input, delimiter=",", ndmin=2)
    valid = np.loadtxt(validation_input, delimiter=",", ndmin=2)
    X, Y = train[:, 1:], train[:, 0].astype(int)
    Xv, Yv = valid[:, 1:], valid[:, 0].astype(int)
    M = X.shape[1]
    D, K = hidden_units, 10

    if init_flag == 1:
        W1 = np.zeros((D, M + 1))
        W1[:, 1:] = np.random.uniform(-0.1, 0.1, (D, M))
        W2 = np.zeros((K, D + 1))
        W2[:, 1:] = np.random.uniform(-0.1, 0.1, (K, D))
    else:
        W1 = np.zeros((D, M + 1))
        W2 = np.zeros((K, D + 1))

    def forward(x, label):
        a = W1 @ x
        z = 1 / (1 + np.exp(-a))
        b = W2 @ np.hstack(([1.0], z))
        y_hat = np.exp(b) / np.sum(np.exp(b))
        J = -np.log(y_hat[label])
        return a, z, b, y_hat, J

    def mean_J(X, Y):
        return sum(forward(np.hstack(([1.0], x)), label)[4] for x, label in zip(X, Y)) / len(Y)

    trace = Trace(options["--trace"]) if options["--trace"] else None
    if trace and record_init:
        trace.init(W1=W1, W2=W2)
    lines = []
    for epoch in range(num_epoch):
        for i in range(len(Y)):
            x = np.hstack(([1.0], X[i]))
            a, z, b, y_hat, J = forward(x, Y[i])

            y = np.zeros(K)
            if bug == "onehot_off_by_one":
                y[(Y[i] + 1) % K] = 1
            else:
                y[Y[i]] = 1
            dy_hat = -y / y_hat
            if bug == "softmax_elementwise":
                db = dy_hat * y_hat * (1 - y_hat)
            else:
                jacobian = np.diag(y_hat) - np.outer(y_hat, y_hat)
                db = jacobian.T @ dy_hat
            dW2 = np.outer(db, np.hstack(([1.0], z)))
            dz = W2[:, 1:].T @ db
            da = dz * z * (1 - z)
            dW1 = np.outer(da, x)

            W1 = W1 - learning_rate * dW1
            W2 = W2 - learning_rate * dW2
            if trace:
                trace.example(epoch + 1, i + 1, row=i)
                trace.forward(x=x, a=a, z=z, b=b, y_hat=y_hat, J=J)
                trace.adjoints(dy_hat=dy_hat, db=db, dW2=dW2, dz=dz, da=da, dW1=dW1)
                trace.params(W1=W1, W2=W2)
        train_J, valid_J = mean_J(X, Y), mean_J(Xv, Yv)
        lines.append("epoch=%d crossentropy(train): %r" % (epoch + 1, float(train_J)))
        lines.append("epoch=%d crossentropy(validation): %r" % (epoch + 1, float(valid_J)))
        if trace:
            trace.metrics(epoch + 1, train_loss=train_J, test_loss=valid_J)

    pred = [int(np.argmax(forward(np.hstack(([1.0], x)), 0)[3])) for x in X]
    pred_v = [int(np.argmax(forward(np.hstack(([1.0], x)), 0)[3])) for x in Xv]
    lines.append("error(train): %r" % float(np.mean(np.array(pred) != Y)))
    lines.append("error(validation): %r" % float(np.mean(np.array(pred_v) != Yv)))
    with open(metrics_out, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(train_out, "w") as f:
        f.writelines("%d\n" % p for p in pred)
    with open(validation_out, "w") as f:
        f.writelines("%d\n" % p for p in pred_v)
    if trace:
        trace.close()


if __name__ == "__main__":
    main(sys.argv[1:])
