"""The course homework's network in numpy, with realistic bugs to switch on.

    python3 examples/hw_numpy.py TRAIN.csv VALIDATION.csv TRAIN_OUT.labels VALIDATION_OUT.labels \
        METRICS_OUT.txt NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--shuffle] [--bug NAME] [--trace FILE]

One hidden sigmoid layer, softmax output, cross-entropy, SGD one example at a time, as in
the hw5 conventions: x and z get a 1 prepended, alpha is D x (M+1), beta is K x (D+1).
INIT_FLAG 1 draws weights with np.random.seed(rows * cols); uniform(-0.1, 0.1) and a zero bias
column; INIT_FLAG 2 starts from zeros. --shuffle reorders each epoch e (from 0) with
np.random.seed(e); np.random.permutation(N). --trace writes every number in bptui's trace
format (python/bptui_trace.py), so that `bptui diff` can find the first wrong one.

Bugs (--bug), each a mistake students make:
  transposed_gradient      dJ/dalpha recorded as dJ/da x^T transposed (updates with its transpose)
  bias_last_gradient       dJ/dbeta built with the bias entry last: outer(g_b, [z; 1])
  loss_without_minus       the lecture's log-likelihood J = log y_hat[y*], and its gradient
  gradient_ascent          theta + gamma g
  learning_rate_twice      theta - gamma (gamma g)
  mean_gradient            every gradient divided by N, the number of training examples
  missing_sigmoid_derivative   dJ/da = dJ/dz (sigma'(a) forgotten)
  stale_gradient           each update uses the previous example's gradients
  accumulated_gradient     gradients summed across examples, never reset to zero
  no_hidden_bias           b = beta[:, 1:] z: the hidden layer's bias entry forgotten

--layout transposed|bias_last records the weights and their gradients transposed, or with the
bias in the last column, as some students store them: a convention, not a bug.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
try:
    from bptui_trace import Trace  # noqa: E402
except ImportError:
    sys.exit("hw_numpy.py records its trace with bptui_trace.py: copy python/bptui_trace.py from the bptui "
             "repository next to this script (it is found in ../python when the script stays in examples/)")

BUGS = [
    "transposed_gradient",
    "bias_last_gradient",
    "loss_without_minus",
    "gradient_ascent",
    "learning_rate_twice",
    "mean_gradient",
    "missing_sigmoid_derivative",
    "stale_gradient",
    "accumulated_gradient",
    "no_hidden_bias",
]


def load(path):
    data = np.loadtxt(path, delimiter=",", ndmin=2)
    return data[:, 1:], data[:, 0].astype(int)


def init_weights(rows, cols, flag):
    if flag == 2:
        return np.zeros((rows, cols + 1))
    np.random.seed(rows * cols)
    w = np.random.uniform(-0.1, 0.1, (rows, cols))
    return np.hstack([np.zeros((rows, 1)), w])


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def softmax(b):
    e = np.exp(b - np.max(b))
    return e / np.sum(e)


def forward(x, label, alpha, beta, bug):
    x1 = np.concatenate([[1.0], x])
    a = alpha @ x1
    z = sigmoid(a)
    z1 = np.concatenate([[1.0], z])
    b = beta[:, 1:] @ z if bug == "no_hidden_bias" else beta @ z1
    y_hat = softmax(b)
    J = np.log(y_hat[label]) if bug == "loss_without_minus" else -np.log(y_hat[label])
    return x1, a, z, z1, b, y_hat, J


def backward(x1, z, z1, y_hat, label, beta, bug):
    onehot = np.zeros_like(y_hat)
    onehot[label] = 1.0
    g_b = onehot - y_hat if bug == "loss_without_minus" else y_hat - onehot
    if bug == "bias_last_gradient":
        g_beta = np.outer(g_b, np.concatenate([z, [1.0]]))
    else:
        g_beta = np.outer(g_b, z1)
    g_z = beta[:, 1:].T @ g_b
    g_a = g_z if bug == "missing_sigmoid_derivative" else g_z * z * (1.0 - z)
    g_alpha = np.outer(g_a, x1)
    return g_b, g_beta, g_z, g_a, g_alpha


def mean_loss(X, Y, alpha, beta, bug):
    total = 0.0
    for x, y in zip(X, Y):
        total += forward(x, y, alpha, beta, bug)[-1]
    return total / len(Y)


def predict(X, alpha, beta, bug):
    return [int(np.argmax(forward(x, 0, alpha, beta, bug)[5])) for x in X]


def main():
    p = argparse.ArgumentParser()
    for name in ["train", "validation", "train_out", "validation_out", "metrics_out"]:
        p.add_argument(name)
    p.add_argument("num_epoch", type=int)
    p.add_argument("hidden_units", type=int)
    p.add_argument("init_flag", type=int)
    p.add_argument("learning_rate", type=float)
    p.add_argument("--shuffle", action="store_true")
    p.add_argument("--bug", choices=BUGS)
    p.add_argument("--trace")
    p.add_argument("--layout", choices=["standard", "transposed", "bias_last"], default="standard")
    args = p.parse_args()
    bug, gamma = args.bug, args.learning_rate

    X, Y = load(args.train)
    Xv, Yv = load(args.validation)
    N, M = X.shape
    D, K = args.hidden_units, 10
    alpha = init_weights(D, M, args.init_flag)
    beta = init_weights(K, D, args.init_flag)
    # With a path the recorder writes each record as it is complete: memory stays constant.
    trace = Trace(args.trace) if args.trace else None
    previous = (np.zeros_like(alpha), np.zeros_like(beta))
    accumulated = (np.zeros_like(alpha), np.zeros_like(beta))
    lines = []
    for e in range(args.num_epoch):
        if args.shuffle:
            np.random.seed(e)
            order = np.random.permutation(N)
        else:
            order = np.arange(N)
        for i, row in enumerate(order):
            x, label = X[row], Y[row]
            x1, a, z, z1, b, y_hat, J = forward(x, label, alpha, beta, bug)
            g_b, g_beta, g_z, g_a, g_alpha = backward(x1, z, z1, y_hat, label, beta, bug)
            if bug == "mean_gradient":
                g_alpha, g_beta = g_alpha / N, g_beta / N
            if bug == "accumulated_gradient":
                accumulated = (accumulated[0] + g_alpha, accumulated[1] + g_beta)
                g_alpha, g_beta = accumulated
            recorded_alpha = g_alpha.T if bug == "transposed_gradient" else g_alpha
            step_alpha, step_beta = (previous if bug == "stale_gradient" else (g_alpha, g_beta))
            previous = (g_alpha, g_beta)
            if bug == "gradient_ascent":
                alpha, beta = alpha + gamma * step_alpha, beta + gamma * step_beta
            elif bug == "learning_rate_twice":
                alpha, beta = alpha - gamma * (gamma * step_alpha), beta - gamma * (gamma * step_beta)
            else:
                alpha, beta = alpha - gamma * step_alpha, beta - gamma * step_beta
            if args.trace:
                def stored(w):
                    if args.layout == "transposed":
                        return w.T
                    if args.layout == "bias_last":
                        return np.hstack([w[:, 1:], w[:, :1]])
                    return w

                trace.example(e + 1, i + 1, row=row)
                trace.forward(x=x, a=a, z=z, b=b, y_hat=y_hat, J=J)
                trace.adjoints(b=g_b, beta=stored(g_beta), z=g_z, a=g_a, alpha=stored(recorded_alpha))
                trace.params(alpha=stored(alpha), beta=stored(beta))
        train_loss = mean_loss(X, Y, alpha, beta, bug)
        valid_loss = mean_loss(Xv, Yv, alpha, beta, bug)
        lines.append("epoch=%d crossentropy(train): %r" % (e + 1, float(train_loss)))
        lines.append("epoch=%d crossentropy(validation): %r" % (e + 1, float(valid_loss)))
        if args.trace:
            trace.metrics(e + 1, train_loss=train_loss, test_loss=valid_loss)
    train_pred = predict(X, alpha, beta, bug)
    valid_pred = predict(Xv, alpha, beta, bug)
    lines.append("error(train): %r" % float(np.mean(np.array(train_pred) != Y)))
    lines.append("error(validation): %r" % float(np.mean(np.array(valid_pred) != Yv)))
    with open(args.metrics_out, "w") as f:
        f.write("\n".join(lines) + "\n")
    for path, pred in [(args.train_out, train_pred), (args.validation_out, valid_pred)]:
        with open(path, "w") as f:
            f.write("".join("%d\n" % v for v in pred))
    if args.trace:
        trace.close()


if __name__ == "__main__":
    main()
