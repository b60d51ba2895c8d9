"""HW5 neural network as a small stack of layer classes that pass the bias entry's gradient on.

    python3 carried_layers.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

Linear prepends the 1 to its input itself and holds W, n_out x (n_in + 1), column 0 the bias;
its backward returns W^T grad_out WITH the bias entry, i.e. dJ/d[1; input] (n_in + 1 entries,
the bias entry first), and the layer below (Sigmoid) slices the carried entry off. The network
runs its layers in a loop, forward and then backward, so dJ/d[1; z] (D+1 entries) is what the
second Linear hands down, and the first Linear hands back dJ/d[1; x] as well. Vectors are 1-D.
INIT_FLAG 1: np.random.seed(rows * cols) of the non-bias block, uniform(-0.1, 0.1), a zero bias
column prepended; INIT_FLAG 2: zeros. Each epoch e (from 0) visits the rows in
np.random.seed(e); np.random.permutation(N), and the trace records each example's row.

Bugs (--bug):
  carried_slice_shifted       Sigmoid.backward takes grad[:-1] where grad[1:] was meant
  no_bias_z                   the output layer is built as Linear(..., bias=False): beta is K x D
  metric_last_example         the epoch loss returned is the last example's J, not the mean
  missing_sigmoid_derivative  Sigmoid.backward passes the sliced dJ/dz on unchanged
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ["carried_slice_shifted", "no_bias_z", "metric_last_example", "missing_sigmoid_derivative"]
BUG = None
K = 10


def parse_args(argv):
    opts = {"--trace": None, "--bug": None}
    pos = []
    it = iter(argv)
    for arg in it:
        if arg in opts:
            opts[arg] = next(it, None)
        else:
            pos.append(arg)
    if len(pos) != 9:
        sys.exit("usage: carried_layers.py TRAIN VALIDATION TRAIN_OUT VALIDATION_OUT METRICS_OUT "
                 "NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]")
    if opts["--bug"] is not None and opts["--bug"] not in BUGS:
        sys.exit("unknown bug %r (one of %s)" % (opts["--bug"], ", ".join(BUGS)))
    return pos, opts["--trace"], opts["--bug"]


def load(path):
    data = np.loadtxt(path, delimiter=",", ndmin=2)
    return data[:, 1:], data[:, 0].astype(int)


class Linear:
    def __init__(self, n_in, n_out, init_flag, bias=True):
        self.bias = bias
        if init_flag == 1:
            np.random.seed(n_out * n_in)
            W = np.random.uniform(-0.1, 0.1, (n_out, n_in))
        else:
            W = np.zeros((n_out, n_in))
        self.W = np.hstack((np.zeros((n_out, 1)), W)) if bias else W
        self.dW = np.zeros_like(self.W)
        self.input = None

    def forward(self, x):
        self.input = np.concatenate(([1.0], x)) if self.bias else x
        return self.W @ self.input

    def backward(self, grad_out):
        """Stores dJ/dW; returns dJ/d(input as used), the bias entry included."""
        self.dW = np.outer(grad_out, self.input)
        return self.W.T @ grad_out

    def step(self, lr):
        self.W = self.W - lr * self.dW


class Sigmoid:
    def __init__(self):
        self.z = None

    def forward(self, a):
        self.z = 1.0 / (1.0 + np.exp(-a))
        return self.z

    def backward(self, grad):
        if len(grad) == len(self.z) + 1:  # dJ/d[1; z] from a Linear with a bias: drop its entry
            if BUG == "carried_slice_shifted":
                grad = grad[:-1]
            else:
                grad = grad[1:]
        if BUG == "missing_sigmoid_derivative":
            return grad
        return grad * self.z * (1 - self.z)


class SoftmaxCrossEntropy:
    def __init__(self):
        self.y_hat = None
        self.label = None

    def forward(self, b, label):
        e = np.exp(b - np.max(b))
        self.y_hat = e / np.sum(e)
        self.label = label
        return self.y_hat, -np.log(self.y_hat[label])

    def backward(self):
        onehot = np.zeros(len(self.y_hat))
        onehot[self.label] = 1.0
        return self.y_hat - onehot


class Network:
    def __init__(self, n_in, n_hidden, n_out, init_flag):
        self.lin1 = Linear(n_in, n_hidden, init_flag)
        self.sig = Sigmoid()
        if BUG == "no_bias_z":
            self.lin2 = Linear(n_hidden, n_out, init_flag, bias=False)
        else:
            self.lin2 = Linear(n_hidden, n_out, init_flag)
        self.layers = [self.lin1, self.sig, self.lin2]
        self.loss = SoftmaxCrossEntropy()

    def forward(self, x, label):
        self.outputs = []
        h = x
        for layer in self.layers:
            h = layer.forward(h)
            self.outputs.append(h)
        return self.loss.forward(h, label)

    def backward(self):
        grad = self.loss.backward()
        self.grads = [grad]
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
            self.grads.append(grad)
        return grad

    def step(self, lr):
        self.lin1.step(lr)
        self.lin2.step(lr)

    def mean_loss(self, X, y):
        total = 0.0
        for i in range(len(y)):
            _, J = self.forward(X[i], y[i])
            total += J
        if BUG == "metric_last_example":
            return J
        return total / len(y)

    def predict(self, X):
        return np.array([int(np.argmax(self.forward(x, 0)[0])) for x in X])


def main():
    global BUG
    args, trace_path, BUG = parse_args(sys.argv[1:])
    train_in, valid_in, train_out, valid_out, metrics_out = args[:5]
    epochs, hidden, init_flag, lr = int(args[5]), int(args[6]), int(args[7]), float(args[8])

    X_tr, y_tr = load(train_in)
    X_va, y_va = load(valid_in)
    N = len(y_tr)
    net = Network(X_tr.shape[1], hidden, K, init_flag)

    trace = Trace(trace_path) if trace_path else None
    lines = []
    for e in range(epochs):
        np.random.seed(e)
        order = np.random.permutation(N)
        for i, row in enumerate(order):
            x, label = X_tr[row], y_tr[row]
            y_hat, J = net.forward(x, label)
            g_x = net.backward()  # dJ/d[1; x], the bias entry first
            g_b, g_z, g_a = net.grads[0], net.grads[1], net.grads[2]  # g_z: dJ/d[1; z]
            net.step(lr)
            if trace:
                a, z, b = net.outputs
                trace.example(e + 1, i + 1, row=row)
                trace.forward(x=x, a=a, z=z, b=b, y_hat=y_hat, J=J)
                trace.adjoints(g_b=g_b, dW2=net.lin2.dW, g_z=g_z, g_a=g_a, dW1=net.lin1.dW)
                trace.params(W1=net.lin1.W, W2=net.lin2.W)
        train_loss = net.mean_loss(X_tr, y_tr)
        valid_loss = net.mean_loss(X_va, y_va)
        lines.append("epoch=%d crossentropy(train): %r" % (e + 1, float(train_loss)))
        lines.append("epoch=%d crossentropy(validation): %r" % (e + 1, float(valid_loss)))
        if trace:
            trace.metrics(e + 1, train_loss=train_loss, test_loss=valid_loss)

    train_pred = net.predict(X_tr)
    valid_pred = net.predict(X_va)
    lines.append("error(train): %r" % float(np.mean(train_pred != y_tr)))
    lines.append("error(validation): %r" % float(np.mean(valid_pred != y_va)))
    with open(metrics_out, "w") as f:
        f.write("\n".join(lines) + "\n")
    for path, pred in [(train_out, train_pred), (valid_out, valid_pred)]:
        with open(path, "w") as f:
            f.write("".join("%d\n" % p for p in pred))
    if trace:
        trace.close()


if __name__ == "__main__":
    main()
