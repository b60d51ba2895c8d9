"""HW5 neural network in the F24 handout's object-oriented style.

    python3 f24_classes.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

Modules Linear, Sigmoid and SoftMaxCrossEntropy with forward/backward (and step for Linear),
put together by NN. Linear inserts the bias entry into its input and holds w of shape
output_size x (input_size + 1): random_init draws the whole block with
np.random.seed(rows * cols) = seed(D * (M+1)), then the bias column is set to zero. Every epoch
(from 0) shuffles with np.random.seed(epoch); np.random.permutation(N). The training loop does
not know the data row of an example, so none is recorded.

Bugs (--bug):
  softmax_elementwise         dJ/db = dJ/dy_hat * y_hat * (1 - y_hat) with dJ/dy_hat = -y/y_hat
  onehot_off_by_one           the one-hot of the gradient has its 1 at (label + 1) mod K
  update_before_backprop      Linear.backward steps its weights before it computes dJ/dinput
  missing_sigmoid_derivative  Sigmoid.backward passes dJ/dz through unchanged
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ["softmax_elementwise", "onehot_off_by_one", "update_before_backprop", "missing_sigmoid_derivative"]
BUG = None


def args2data(args):
    X_tr, y_tr = load_data_file(args.train_input)
    X_te, y_te = load_data_file(args.validation_input)
    return (X_tr, y_tr, X_te, y_te, args.train_out, args.validation_out, args.metrics_out,
            args.num_epoch, args.hidden_units, args.init_flag, args.learning_rate)


def load_data_file(path):
    data = np.loadtxt(path, delimiter=",", ndmin=2)
    return data[:, 1:], data[:, 0].astype(int)


def shuffle(X, y, epoch):
    """Permute the training data for the epoch (from 0)."""
    np.random.seed(epoch)
    N = len(y)
    ordering = np.random.permutation(N)
    return X[ordering], y[ordering]


def zero_init(shape):
    return np.zeros(shape=shape)


def random_init(shape):
    M, D = shape
    np.random.seed(M * D)  # Don't change this line!
    return np.random.uniform(-0.1, 0.1, (M, D))


class SoftMaxCrossEntropy:
    def _softmax(self, z):
        e = np.exp(z - np.max(z))
        return e / np.sum(e)

    def _cross_entropy(self, y, y_hat):
        return -np.log(y_hat[y])

    def forward(self, z, y):
        y_hat = self._softmax(z)
        return y_hat, self._cross_entropy(y, y_hat)

    def backward(self, y, y_hat):
        """dJ/db for the input b of the softmax."""
        onehot = np.zeros(len(y_hat))
        if BUG == "onehot_off_by_one":
            onehot[(y + 1) % len(y_hat)] = 1
        else:
            onehot[y] = 1
        if BUG == "softmax_elementwise":
            dy_hat = -onehot / y_hat
            return dy_hat * y_hat * (1 - y_hat)
        return y_hat - onehot


class Sigmoid:
    def __init__(self):
        self.z = None

    def forward(self, x):
        self.z = 1 / (1 + np.exp(-x))
        return self.z

    def backward(self, dz):
        if BUG == "missing_sigmoid_derivative":
            return dz
        return dz * self.z * (1 - self.z)


class Linear:
    def __init__(self, input_size, output_size, weight_init_fn, learning_rate):
        self.lr = learning_rate
        self.w = weight_init_fn((output_size, input_size + 1))
        self.w[:, 0] = 0  # bias column starts at zero
        self.dw = np.zeros_like(self.w)
        self.input = None

    def forward(self, x):
        self.input = np.insert(x, 0, 1)
        return self.w @ self.input

    def backward(self, dz):
        self.dw = np.outer(dz, self.input)
        if BUG == "update_before_backprop":
            self.step()
        return self.w[:, 1:].T @ dz

    def step(self):
        self.w -= self.lr * self.dw


class NN:
    def __init__(self, input_size, hidden_size, output_size, weight_init_fn, learning_rate):
        self.weight_init_fn = weight_init_fn
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.linear1 = Linear(input_size, hidden_size, weight_init_fn, learning_rate)
        self.sigmoid = Sigmoid()
        self.linear2 = Linear(hidden_size, output_size, weight_init_fn, learning_rate)
        self.softmax = SoftMaxCrossEntropy()

    def forward(self, x, y):
        self.a = self.linear1.forward(x)
        self.z = self.sigmoid.forward(self.a)
        self.b = self.linear2.forward(self.z)
        y_hat, J = self.softmax.forward(self.b, y)
        return y_hat, J

    def backward(self, y, y_hat):
        self.g_b = self.softmax.backward(y, y_hat)
        self.g_z = self.linear2.backward(self.g_b)
        self.g_a = self.sigmoid.backward(self.g_z)
        self.linear1.backward(self.g_a)

    def step(self):
        self.linear1.step()
        self.linear2.step()

    def compute_loss(self, X, y):
        losses = [self.forward(X[i], y[i])[1] for i in range(len(y))]
        return np.mean(losses)

    def train(self, X_tr, y_tr, X_test, y_test, n_epochs, trace=None):
        train_losses, test_losses = [], []
        for e in range(n_epochs):
            X_s, y_s = shuffle(X_tr, y_tr, e)
            for i in range(len(y_s)):
                y_hat, J = self.forward(X_s[i], y_s[i])
                self.backward(y_s[i], y_hat)
                if BUG != "update_before_backprop":  # there backward already stepped
                    self.step()
                if trace:
                    trace.example(e + 1, i + 1)
                    trace.forward(x=X_s[i], a=self.a, z=self.z, b=self.b, y_hat=y_hat, J=J)
                    trace.adjoints(g_b=self.g_b, dw2=self.linear2.dw, g_z=self.g_z, g_a=self.g_a,
                                   dw1=self.linear1.dw)
                    trace.params(w1=self.linear1.w, w2=self.linear2.w)
            train_losses.append(self.compute_loss(X_tr, y_tr))
            test_losses.append(self.compute_loss(X_test, y_test))
            if trace:
                trace.metrics(e + 1, train_loss=train_losses[-1], test_loss=test_losses[-1])
        return train_losses, test_losses

    def test(self, X, y):
        labels = np.array([int(np.argmax(self.forward(X[i], y[i])[0])) for i in range(len(y))])
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
    args = parser.parse_args()
    BUG = args.bug

    (X_tr, y_tr, X_test, y_test, out_tr, out_te, out_metrics,
     n_epochs, n_hid, init_flag, lr) = args2data(args)

    nn = NN(
        input_size=X_tr.shape[-1],
        hidden_size=n_hid,
        output_size=10,
        weight_init_fn=zero_init if init_flag == 2 else random_init,
        learning_rate=lr,
    )

    trace = Trace(args.trace) if args.trace else None
    train_losses, test_losses = nn.train(X_tr, y_tr, X_test, y_test, n_epochs, trace)
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
