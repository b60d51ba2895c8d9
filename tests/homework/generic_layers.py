"""HW5 neural network written for any number of layers: row vectors, weights stored (in, out).

    python3 generic_layers.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--bug NAME]

Another semester's template: the network keeps its weights and biases in Python lists,
W[l] of shape (inputs, outputs) and b[l] separate, so a layer is `a @ W[l] + b[l]`. One loop
does the forward pass of every layer (the same line computes the hidden layer and the output
layer's scores), one loop the backward pass, with the layer index as the list's key. The
labels are one-hot rows of np.eye. The initial weights are the handout's (the (D, M) block
drawn with np.random.seed(D * M), stored transposed), the biases zero; the data is shuffled
each epoch with np.random.seed(epoch); np.random.permutation(N).

Bugs (--bug):
  update_before_propagating  each layer's weights are updated inside the backward loop, before
                             the layer below's delta is computed with them
"""

import argparse

import numpy as np

BUGS = ["update_before_propagating"]


def sigmoid(s):
    return 1.0 / (1.0 + np.exp(-s))


def softmax(s):
    e = np.exp(s - s.max())
    return e / e.sum()


class Network:
    def __init__(self, sizes, init_flag):
        self.W = []
        self.b = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            if init_flag == 1:
                np.random.seed(n_out * n_in)
                block = np.random.uniform(-0.1, 0.1, (n_out, n_in))
            else:
                block = np.zeros((n_out, n_in))
            self.W.append(block.T.copy())
            self.b.append(np.zeros(n_out))
        self.L = len(self.W)

    def forward(self, x):
        self.acts = [x]
        a = x
        for l in range(self.L):
            s = a @ self.W[l] + self.b[l]
            a = sigmoid(s) if l < self.L - 1 else softmax(s)
            self.acts.append(a)
        return a

    def train_step(self, x, label, lr, bug=None):
        out = self.forward(x)
        onehot = np.eye(out.shape[0])[label]
        loss = -np.log(out[label])
        delta = out - onehot
        grads = []
        for l in reversed(range(self.L)):
            gW = np.outer(self.acts[l], delta)
            gb = delta
            if bug == "update_before_propagating":
                self.W[l] -= lr * gW
                self.b[l] -= lr * gb
            if l > 0:
                back = delta @ self.W[l].T
                delta = back * self.acts[l] * (1 - self.acts[l])
            grads.append((l, gW, gb))
        if bug != "update_before_propagating":
            for l, gW, gb in grads:
                self.W[l] -= lr * gW
                self.b[l] -= lr * gb
        return loss

    def mean_loss(self, X, y):
        return float(np.mean([-np.log(self.forward(x)[t]) for x, t in zip(X, y)]))

    def predict(self, X):
        return [int(np.argmax(self.forward(x))) for x in X]


def load(path):
    data = np.loadtxt(path, delimiter=",", ndmin=2)
    return data[:, 1:], data[:, 0].astype(int)


def main():
    ap = argparse.ArgumentParser()
    for name in ["train", "validation", "train_out", "validation_out", "metrics_out"]:
        ap.add_argument(name)
    ap.add_argument("num_epoch", type=int)
    ap.add_argument("hidden_units", type=int)
    ap.add_argument("init_flag", type=int)
    ap.add_argument("learning_rate", type=float)
    ap.add_argument("--bug", choices=BUGS)
    args = ap.parse_args()

    X, y = load(args.train)
    Xv, yv = load(args.validation)
    net = Network([X.shape[1], args.hidden_units, 10], args.init_flag)
    lines = []
    for epoch in range(args.num_epoch):
        np.random.seed(epoch)
        for i in np.random.permutation(len(X)):
            net.train_step(X[i], y[i], args.learning_rate, args.bug)
        lines.append("epoch={} crossentropy(train): {}".format(epoch + 1, net.mean_loss(X, y)))
        lines.append("epoch={} crossentropy(validation): {}".format(epoch + 1, net.mean_loss(Xv, yv)))
    for X_, y_, path, key in [(X, y, args.train_out, "train"), (Xv, yv, args.validation_out, "validation")]:
        predicted = net.predict(X_)
        with open(path, "w") as f:
            f.write("".join("{}\n".format(p) for p in predicted))
        lines.append("error({}): {}".format(key, float(np.mean(np.array(predicted) != y_))))
    with open(args.metrics_out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
