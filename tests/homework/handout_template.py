"""HW5 neural network filled into the handout's class template (recent semesters).

    python3 handout_template.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

The template's module-level random_init(shape) / zero_init(shape) and its class
NN(lr, n_epoch, weight_init_fn, input_size, hidden_size, output_size) with forward, backward,
step, compute_loss, train and test. __init__ builds w1 (hidden x (input + 1)) and
w2 (output x (hidden + 1)): weight_init_fn of the non-bias block (random_init seeds
np.random.seed(M * D) for a shape (M, D)), then a zero bias column prepended. forward keeps its
intermediates (and the weights, which backward needs) in self.cache; backward stores
self.d_w1 and self.d_w2; step takes one SGD step. Every epoch e (from 0) the training set is
reordered by shuffle(X, y, e): np.random.seed(e); np.random.permutation(N), always from the
file's order, and the row of each example comes from that permutation.

Bugs (--bug):
  forward_previous_example  forward reads its weights from self.cache, which still holds the
                            ones of the previous forward pass (one update behind)
  metric_start_params       the epoch's losses are computed at the top of the epoch loop,
                            before its training, i.e. with the epoch's starting weights
  validation_on_train       the validation loss is compute_loss(X_tr, y_tr)
  softmax_elementwise       dJ/db = dJ/dy_hat * y_hat * (1 - y_hat) with dJ/dy_hat = -y / y_hat
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ["forward_previous_example", "metric_start_params", "validation_on_train", "softmax_elementwise"]
BUG = None


def args2data(parser):
    """Parse the arguments and load the data."""
    args = parser.parse_args()
    train = np.loadtxt(args.train_input, delimiter=",", ndmin=2)
    valid = np.loadtxt(args.validation_input, delimiter=",", ndmin=2)
    X_tr, y_tr = train[:, 1:], train[:, 0].astype(int)
    X_te, y_te = valid[:, 1:], valid[:, 0].astype(int)
    return (X_tr, y_tr, X_te, y_te, args.train_out, args.validation_out, args.metrics_out,
            args.num_epoch, args.hidden_units, args.init_flag, args.learning_rate,
            args.trace, args.bug)


def shuffle(X, y, epoch):
    """Permute the training data for the epoch (from 0); also returns the permutation."""
    np.random.seed(epoch)
    N = len(y)
    perm = np.random.permutation(N)
    return X[perm], y[perm], perm


def random_init(shape):
    """Uniform in [-0.1, 0.1], seeded by the shape."""
    M, D = shape
    np.random.seed(M * D)  # Don't change this line!
    return np.random.uniform(-0.1, 0.1, (M, D))


def zero_init(shape):
    return np.zeros(shape=shape)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def softmax(b):
    e = np.exp(b - np.max(b))
    return e / np.sum(e)


class NN(object):
    def __init__(self, lr, n_epoch, weight_init_fn, input_size, hidden_size, output_size):
        self.lr = lr
        self.n_epoch = n_epoch
        self.weight_init_fn = weight_init_fn
        self.n_input = input_size
        self.n_hidden = hidden_size
        self.n_output = output_size

        # weights with the bias folded in as column 0
        self.w1 = np.hstack([np.zeros((hidden_size, 1)), weight_init_fn((hidden_size, input_size))])
        self.w2 = np.hstack([np.zeros((output_size, 1)), weight_init_fn((output_size, hidden_size))])
        self.d_w1 = np.zeros_like(self.w1)
        self.d_w2 = np.zeros_like(self.w2)

        # intermediate values of the last forward pass (and the weights, for backward)
        self.cache = {"w1": self.w1, "w2": self.w2}

    def forward(self, X, y):
        """One example X (no bias entry) with its label y; returns y_hat."""
        if BUG == "forward_previous_example":
            w1, w2 = self.cache["w1"], self.cache["w2"]
        else:
            w1, w2 = self.w1, self.w2
        x = np.insert(X, 0, 1)
        a = w1 @ x
        z = sigmoid(a)
        z_bias = np.insert(z, 0, 1)
        b = w2 @ z_bias
        y_hat = softmax(b)
        J = -np.log(y_hat[y])
        self.cache = {"w1": self.w1, "w2": self.w2, "x": x, "a": a, "z": z, "z_bias": z_bias, "b": b,
                      "y_hat": y_hat, "J": J}
        return y_hat

    def backward(self, y, y_hat):
        """Gradients of the cached example's loss; stores self.d_w1, self.d_w2."""
        onehot = np.zeros(self.n_output)
        onehot[y] = 1
        if BUG == "softmax_elementwise":
            d_y_hat = -onehot / y_hat
            d_b = d_y_hat * y_hat * (1 - y_hat)
        else:
            d_b = y_hat - onehot
        self.d_w2 = np.outer(d_b, self.cache["z_bias"])
        d_z = self.cache["w2"][:, 1:].T @ d_b
        z = self.cache["z"]
        d_a = d_z * z * (1 - z)
        self.d_w1 = np.outer(d_a, self.cache["x"])
        self.cache.update(d_b=d_b, d_z=d_z, d_a=d_a)

    def step(self):
        self.w1 = self.w1 - self.lr * self.d_w1
        self.w2 = self.w2 - self.lr * self.d_w2

    def compute_loss(self, X, y):
        """Mean cross-entropy over the data set."""
        loss = 0.0
        for i in range(len(y)):
            self.forward(X[i], y[i])
            loss += self.cache["J"]
        return loss / len(y)

    def train(self, X_tr, y_tr, X_te, y_te, trace=None):
        train_losses, test_losses = [], []
        for e in range(self.n_epoch):
            if BUG == "metric_start_params":
                train_losses.append(self.compute_loss(X_tr, y_tr))
                test_losses.append(self.compute_loss(X_te, y_te))
            X_s, y_s, perm = shuffle(X_tr, y_tr, e)
            for i in range(len(y_s)):
                y_hat = self.forward(X_s[i], y_s[i])
                self.backward(y_s[i], y_hat)
                self.step()
                if trace:
                    c = self.cache
                    trace.example(e + 1, i + 1, row=int(perm[i]))
                    trace.forward(x=c["x"], a=c["a"], z=c["z"], b=c["b"], y_hat=c["y_hat"], J=c["J"])
                    trace.adjoints(d_b=c["d_b"], d_w2=self.d_w2, d_z=c["d_z"], d_a=c["d_a"], d_w1=self.d_w1)
                    trace.params(w1=self.w1, w2=self.w2)
            if BUG != "metric_start_params":
                train_losses.append(self.compute_loss(X_tr, y_tr))
                if BUG == "validation_on_train":
                    test_losses.append(self.compute_loss(X_tr, y_tr))
                else:
                    test_losses.append(self.compute_loss(X_te, y_te))
            if trace:
                trace.metrics(e + 1, train_loss=train_losses[-1], test_loss=test_losses[-1])
        return train_losses, test_losses

    def test(self, X, y):
        """Predicted labels and the error rate."""
        labels = []
        for i in range(len(y)):
            labels.append(int(np.argmax(self.forward(X[i], y[i]))))
        labels = np.array(labels)
        return labels, float(np.mean(labels != y))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("train_input", type=str, help="path to training input .csv file")
    parser.add_argument("validation_input", type=str, help="path to validation input .csv file")
    parser.add_argument("train_out", type=str, help="path to store prediction on training data")
    parser.add_argument("validation_out", type=str, help="path to store prediction on validation data")
    parser.add_argument("metrics_out", type=str, help="path to store training and testing metrics")
    parser.add_argument("num_epoch", type=int, help="number of training epochs")
    parser.add_argument("hidden_units", type=int, help="number of hidden units")
    parser.add_argument("init_flag", type=int, choices=[1, 2], help="weight initialization functions, 1: random")
    parser.add_argument("learning_rate", type=float, help="learning rate")
    parser.add_argument("--trace", type=str, help="record every number for bptui")
    parser.add_argument("--bug", type=str, choices=BUGS, help="switch on one mistake")

    (X_tr, y_tr, X_test, y_test, out_tr, out_te, out_metrics,
     n_epochs, n_hid, init_flag, lr, trace_path, BUG) = args2data(parser)

    nn = NN(
        lr=lr,
        n_epoch=n_epochs,
        weight_init_fn=zero_init if init_flag == 2 else random_init,
        input_size=X_tr.shape[-1],
        hidden_size=n_hid,
        output_size=10,
    )

    trace = Trace(trace_path) if trace_path else None
    train_losses, test_losses = nn.train(X_tr, y_tr, X_test, y_test, trace)
    train_labels, train_error_rate = nn.test(X_tr, y_tr)
    test_labels, test_error_rate = nn.test(X_test, y_test)
    if trace:
        trace.close()

    with open(out_tr, "w") as f:
        for label in train_labels:
            f.write(str(label) + "\n")
    with open(out_te, "w") as f:
        for label in test_labels:
            f.write(str(label) + "\n")
    with open(out_metrics, "w") as f:
        for i in range(len(train_losses)):
            cur_epoch = i + 1
            cur_tr_loss = train_losses[i]
            cur_te_loss = test_losses[i]
            f.write("epoch={} crossentropy(train): {}\n".format(cur_epoch, repr(float(cur_tr_loss))))
            f.write("epoch={} crossentropy(validation): {}\n".format(cur_epoch, repr(float(cur_te_loss))))
        f.write("error(train): {}\n".format(repr(float(train_error_rate))))
        f.write("error(validation): {}\n".format(repr(float(test_error_rate))))
