"""HW5 neural network with plain Python lists (the student who did not trust numpy's broadcasting).

    python3 pure_lists.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

Every vector is a list of floats and every matrix a list of rows, every product an explicit
loop, math.exp and math.log. x holds the M pixels only (no 1 inside): the bias is handled by
index, a[j] = sum_m alpha[j][m+1] * x[m] + alpha[j][0] (the sum first, then the bias), and
likewise b[k] with beta and z.
alpha is D x (M+1), beta is K x (D+1), column 0 the bias. numpy only draws the INIT_FLAG 1
weights (np.random.seed(rows * cols); uniform(-0.1, 0.1, (rows, cols)), then .tolist() and a zero
bias entry put in front of each row); INIT_FLAG 2: zeros. File order; the CSV is read with the
csv module. The trace records the lists themselves and no data row.

Bugs (--bug):
  running_mean_divided    the mean loss: total += J; total /= N inside the loop over the examples
  no_bias_x               no bias for the first layer: alpha is D x M from its init on
  bias_slice_off_by_one   dJ/dz[d] = sum_k beta[k][d] dJ/db[k] (column d, not d + 1)
  onehot_off_by_one       the one-hot of dJ/db has its 1 at label - 1 (labels taken as 1..10)
"""

import csv
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ["running_mean_divided", "no_bias_x", "bias_slice_off_by_one", "onehot_off_by_one"]
K = 10
BUG = None


def parse_args(argv):
    positional = []
    trace_file = None
    bug = None
    i = 0
    while i < len(argv):
        if argv[i] == "--trace":
            trace_file = argv[i + 1]
            i += 2
        elif argv[i] == "--bug":
            bug = argv[i + 1]
            i += 2
        else:
            positional.append(argv[i])
            i += 1
    if len(positional) != 9:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    if bug is not None and bug not in BUGS:
        sys.exit("unknown bug: %s (one of %s)" % (bug, ", ".join(BUGS)))
    return positional, trace_file, bug


def read_csv(filename):
    xs = []
    labels = []
    with open(filename) as f:
        for row in csv.reader(f):
            if not row:
                continue
            labels.append(int(float(row[0])))
            xs.append([float(v) for v in row[1:]])
    return xs, labels


def init_weights(rows, cols, flag, bias=True):
    """A list of `rows` rows, each [bias] + `cols` weights (or just the weights, bias=False)."""
    if flag == 1:
        np.random.seed(rows * cols)
        w = np.random.uniform(-0.1, 0.1, (rows, cols)).tolist()
    else:
        w = [[0.0] * cols for _ in range(rows)]
    if not bias:
        return w
    return [[0.0] + row for row in w]


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def forward(x, label, alpha, beta):
    D = len(alpha)
    M = len(x)
    a = []
    for j in range(D):
        if BUG == "no_bias_x":
            s = 0.0
            for m in range(M):
                s += alpha[j][m] * x[m]
        else:
            s = 0.0
            for m in range(M):
                s += alpha[j][m + 1] * x[m]
            s += alpha[j][0]
        a.append(s)
    z = []
    for j in range(D):
        z.append(sigmoid(a[j]))
    b = []
    for k in range(K):
        s = 0.0
        for j in range(D):
            s += beta[k][j + 1] * z[j]
        s += beta[k][0]
        b.append(s)
    exps = []
    total = 0.0
    for k in range(K):
        exps.append(math.exp(b[k]))
        total += exps[k]
    y_hat = []
    for k in range(K):
        y_hat.append(exps[k] / total)
    J = -math.log(y_hat[label])
    return a, z, b, y_hat, J


def backward(x, label, alpha, beta, z, y_hat):
    D = len(alpha)
    M = len(x)
    onehot = [0.0] * K
    if BUG == "onehot_off_by_one":
        onehot[label - 1] = 1.0
    else:
        onehot[label] = 1.0
    dJ_db = []
    for k in range(K):
        dJ_db.append(y_hat[k] - onehot[k])
    dJ_dbeta = []
    for k in range(K):
        row = [dJ_db[k]]  # the bias entry: dJ/db[k] * 1
        for j in range(D):
            row.append(dJ_db[k] * z[j])
        dJ_dbeta.append(row)
    dJ_dz = []
    for j in range(D):
        s = 0.0
        for k in range(K):
            if BUG == "bias_slice_off_by_one":
                s += beta[k][j] * dJ_db[k]
            else:
                s += beta[k][j + 1] * dJ_db[k]
        dJ_dz.append(s)
    dJ_da = []
    for j in range(D):
        dJ_da.append(dJ_dz[j] * z[j] * (1.0 - z[j]))
    dJ_dalpha = []
    for j in range(D):
        row = [] if BUG == "no_bias_x" else [dJ_da[j]]
        for m in range(M):
            row.append(dJ_da[j] * x[m])
        dJ_dalpha.append(row)
    return dJ_db, dJ_dbeta, dJ_dz, dJ_da, dJ_dalpha


def sgd_step(W, dW, lr):
    for r in range(len(W)):
        for c in range(len(W[r])):
            W[r][c] = W[r][c] - lr * dW[r][c]


def mean_cross_entropy(xs, labels, alpha, beta):
    N = len(labels)
    total = 0.0
    for n in range(N):
        J = forward(xs[n], labels[n], alpha, beta)[4]
        total += J
        if BUG == "running_mean_divided":
            total /= N
    if BUG == "running_mean_divided":
        return total
    return total / N


def predict(xs, alpha, beta):
    labels = []
    for x in xs:
        y_hat = forward(x, 0, alpha, beta)[3]
        best = 0
        for k in range(1, K):
            if y_hat[k] > y_hat[best]:
                best = k
        labels.append(best)
    return labels


def error_rate(predicted, labels):
    wrong = 0
    for p, y in zip(predicted, labels):
        if p != y:
            wrong += 1
    return wrong / len(labels)


def main():
    global BUG
    args, trace_file, BUG = parse_args(sys.argv[1:])
    train_in, valid_in, train_out, valid_out, metrics_out = args[:5]
    num_epoch = int(args[5])
    hidden_units = int(args[6])
    init_flag = int(args[7])
    lr = float(args[8])

    train_x, train_y = read_csv(train_in)
    valid_x, valid_y = read_csv(valid_in)
    M = len(train_x[0])
    alpha = init_weights(hidden_units, M, init_flag, bias=(BUG != "no_bias_x"))
    beta = init_weights(K, hidden_units, init_flag)

    trace = Trace(trace_file) if trace_file else None
    lines = []
    for epoch in range(1, num_epoch + 1):
        for n in range(len(train_y)):
            x, label = train_x[n], train_y[n]
            a, z, b, y_hat, J = forward(x, label, alpha, beta)
            dJ_db, dJ_dbeta, dJ_dz, dJ_da, dJ_dalpha = backward(x, label, alpha, beta, z, y_hat)
            sgd_step(alpha, dJ_dalpha, lr)
            sgd_step(beta, dJ_dbeta, lr)
            if trace:
                trace.example(epoch, n + 1)
                trace.forward(x=x, a=a, z=z, b=b, y_hat=y_hat, J=J)
                trace.adjoints(dJ_db=dJ_db, dJ_dbeta=dJ_dbeta, dJ_dz=dJ_dz, dJ_da=dJ_da,
                               dJ_dalpha=dJ_dalpha)
                trace.params(alpha=alpha, beta=beta)
        train_loss = mean_cross_entropy(train_x, train_y, alpha, beta)
        valid_loss = mean_cross_entropy(valid_x, valid_y, alpha, beta)
        lines.append("epoch=%d crossentropy(train): %r" % (epoch, train_loss))
        lines.append("epoch=%d crossentropy(validation): %r" % (epoch, valid_loss))
        if trace:
            trace.metrics(epoch, train_loss=train_loss, test_loss=valid_loss)

    train_pred = predict(train_x, alpha, beta)
    valid_pred = predict(valid_x, alpha, beta)
    lines.append("error(train): %r" % error_rate(train_pred, train_y))
    lines.append("error(validation): %r" % error_rate(valid_pred, valid_y))
    with open(metrics_out, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(train_out, "w") as f:
        for p in train_pred:
            f.write("%d\n" % p)
    with open(valid_out, "w") as f:
        for p in valid_pred:
            f.write("%d\n" % p)
    if trace:
        trace.close()


if __name__ == "__main__":
    main()
