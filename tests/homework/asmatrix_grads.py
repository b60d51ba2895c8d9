"""HW5 neural network with np.matrix rows, gradients built with np.asmatrix, trained with Adagrad.

    python3 asmatrix_grads.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

Every vector is a (1, n) np.matrix row and `*` is the matrix product: x is (1, M+1) with its bias
entry 1 first, a = x * W1, z = [1, sigmoid(a)] (1, D+1), b = z * W2, y_hat = softmax(b),
J = -log y_hat[label]. The weights are stored transposed from the handout: W1 is (M+1) x D and
W2 is (D+1) x K, row 0 the bias. Every gradient of the backward pass is wrapped in np.asmatrix
(g_W2 = np.asmatrix(z).T * g_b is (D+1) x K, g_W1 = np.asmatrix(x).T * g_a is (M+1) x D).
INIT_FLAG 1 draws the handout's D x M block (np.random.seed(D * M), uniform(-0.1, 0.1)) and
stores it transposed under a zero bias row; INIT_FLAG 2: zeros. The file order, no shuffling
(the trace records no data row). Per-example Adagrad, one s per weight matrix starting at zero:
s <- s + g^2; W_new = W - lr * g / sqrt(s + 1e-5); then W, the old name, takes W_new.

Bugs (--bug):
  no_bias_x                 no 1 in front of x: W1 is M x D from its init on (seed D * M, no bias row)
  forward_previous_example  `W1, W2 = W1_new, W2_new` written after the forward call: the forward
                            pass reads the weights of one example earlier
  adagrad_s_after_step      the step divides by sqrt(s + eps) before g^2 is added to s
  adagrad_eps_outside       W - lr * g / (sqrt(s) + eps)
  update_before_backprop    W2 is stepped as soon as g_W2 is known, so g_z uses the updated W2
"""

import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

warnings.simplefilter("ignore", PendingDeprecationWarning)  # np.matrix

BUGS = ["no_bias_x", "forward_previous_example", "adagrad_s_after_step", "adagrad_eps_outside",
        "update_before_backprop"]
K = 10
EPS = 1e-5


def parse_args(argv):
    trace_file = bug = None
    pos = []
    it = iter(argv)
    for arg in it:
        if arg == "--trace":
            trace_file = next(it, None)
        elif arg == "--bug":
            bug = next(it, None)
        else:
            pos.append(arg)
    if len(pos) != 9:
        sys.exit(__doc__)
    if bug is not None and bug not in BUGS:
        sys.exit("--bug must be one of: " + ", ".join(BUGS))
    return pos, trace_file, bug


def load(path):
    data = np.loadtxt(path, delimiter=",", ndmin=2)
    return data[:, 1:], data[:, 0].astype(int)


def init_weights(n_in, n_out, flag, bias=True):
    """(n_in + 1) x n_out np.matrix, row 0 the bias (without it with bias=False)."""
    rows = n_in + 1 if bias else n_in
    if flag == 2:
        return np.asmatrix(np.zeros((rows, n_out)))
    np.random.seed(n_out * n_in)
    w = np.random.uniform(-0.1, 0.1, (n_out, n_in))  # the handout's n_out x n_in block
    if not bias:
        return np.asmatrix(w.T)
    return np.asmatrix(np.vstack([np.zeros((1, n_out)), w.T]))


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


def one_hot(label):
    y = np.asmatrix(np.zeros((1, K)))
    y[0, label] = 1.0
    return y


def nn_forward(features, label, W1, W2, bug):
    if bug == "no_bias_x":
        x = np.asmatrix(features)
    else:
        x = np.asmatrix(np.hstack([1.0, features]))
    a = x * W1
    z = np.asmatrix(np.hstack([np.ones((1, 1)), sigmoid(a)]))
    b = z * W2
    y_hat = softmax(b)
    J = -np.log(y_hat[0, label])
    return x, a, z, b, y_hat, J


def adagrad(W, g, s, lr, bug):
    """One Adagrad step of W; s (the running sum of g^2) is updated in place."""
    if bug == "adagrad_s_after_step":
        W_new = W - lr * np.asmatrix(g / np.sqrt(s + EPS))
        s += np.square(g)
        return W_new
    s += np.square(g)
    if bug == "adagrad_eps_outside":
        return W - lr * np.asmatrix(g / (np.sqrt(s) + EPS))
    return W - lr * np.asmatrix(g / np.sqrt(s + EPS))


def mean_cross_entropy(X, labels, W1, W2, bug):
    total = 0.0
    for i in range(len(labels)):
        total += nn_forward(X[i], labels[i], W1, W2, bug)[5]
    return total / len(labels)


def predict(X, W1, W2, bug):
    return [int(np.argmax(nn_forward(X[i], 0, W1, W2, bug)[4])) for i in range(X.shape[0])]


def main():
    pos, trace_file, bug = parse_args(sys.argv[1:])
    train_in, valid_in, train_out, valid_out, metrics_out = pos[:5]
    num_epoch, D, init_flag, lr = int(pos[5]), int(pos[6]), int(pos[7]), float(pos[8])

    X, labels = load(train_in)
    Xv, labels_v = load(valid_in)
    N, M = X.shape
    W1 = init_weights(M, D, init_flag, bias=(bug != "no_bias_x"))
    W2 = init_weights(D, K, init_flag)
    s_W1 = np.asmatrix(np.zeros(W1.shape))
    s_W2 = np.asmatrix(np.zeros(W2.shape))
    W1_new, W2_new = W1, W2

    trace = Trace(trace_file) if trace_file else None
    lines = []
    for epoch in range(1, num_epoch + 1):
        for i in range(N):
            x, a, z, b, y_hat, J = nn_forward(X[i], labels[i], W1, W2, bug)
            if bug == "forward_previous_example":
                W1, W2 = W1_new, W2_new

            # backward, every gradient an np.matrix row (or matrix)
            g_b = np.asmatrix(y_hat - one_hot(labels[i]))
            g_W2 = np.asmatrix(z).T * g_b
            if bug == "update_before_backprop":
                W2 = W2_new = adagrad(W2, g_W2, s_W2, lr, bug)
            g_z = g_b * np.asmatrix(W2[1:, :]).T
            g_a = np.asmatrix(np.multiply(g_z, np.multiply(z[:, 1:], 1 - z[:, 1:])))
            g_W1 = np.asmatrix(x).T * g_a

            W1_new = adagrad(W1, g_W1, s_W1, lr, bug)
            if bug != "update_before_backprop":
                W2_new = adagrad(W2, g_W2, s_W2, lr, bug)
            if bug != "forward_previous_example":
                W1, W2 = W1_new, W2_new

            if trace:
                trace.example(epoch, i + 1)
                trace.forward(x=x, a=a, z=z, b=b, y_hat=y_hat, J=J)
                trace.adjoints(g_b=g_b, g_W2=g_W2, g_z=g_z, g_a=g_a, g_W1=g_W1)
                trace.params(W1_new=W1_new, W2_new=W2_new)

        train_ce = mean_cross_entropy(X, labels, W1, W2, bug)
        valid_ce = mean_cross_entropy(Xv, labels_v, W1, W2, bug)
        lines.append("epoch=%d crossentropy(train): %r" % (epoch, float(train_ce)))
        lines.append("epoch=%d crossentropy(validation): %r" % (epoch, float(valid_ce)))
        if trace:
            trace.metrics(epoch, train_loss=train_ce, test_loss=valid_ce)

    pred, pred_v = predict(X, W1, W2, bug), predict(Xv, W1, W2, bug)
    lines.append("error(train): %r" % float(np.mean(np.array(pred) != labels)))
    lines.append("error(validation): %r" % float(np.mean(np.array(pred_v) != labels_v)))
    with open(metrics_out, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(train_out, "w") as f:
        f.write("".join("%d\n" % p for p in pred))
    with open(valid_out, "w") as f:
        f.write("".join("%d\n" % p for p in pred_v))
    if trace:
        trace.close()


if __name__ == "__main__":
    main()
