"""HW5 built from layer objects, run as it is: `bptui diff -- python3 layer_objects.py ...`.

A list of Linear and Sigmoid objects, each with forward, backward and step, and a softmax with
cross-entropy head; each Linear keeps its bias in the LAST column of W (x gets its 1 appended),
initialised as the handout does (np.random.seed(rows * cols), uniform, a zero bias column, but
appended); data read with the csv module into lists, one column vector per example; the
newer semesters' shuffle (np.random.seed(e); permutation) every epoch.

Bugs (--bug):
  bias_first  the backward pass slices W[:, 1:] (the handout's slice, for a bias in column 0)
              instead of W[:, :-1]: it drops the first weight column and keeps the bias
"""
import csv
import sys

import numpy as np


def load(path):
    labels, rows = [], []
    with open(path) as f:
        for line in csv.reader(f):
            labels.append(int(line[0]))
            rows.append([float(v) for v in line[1:]])
    return labels, rows


class Linear:
    """out = W @ [x; 1]: the bias is the LAST column of W."""

    def __init__(self, n_in, n_out, flag):
        if flag == 1:
            np.random.seed(n_out * n_in)
            w = np.random.uniform(-0.1, 0.1, (n_out, n_in))
        else:
            w = np.zeros((n_out, n_in))
        self.W = np.hstack([w, np.zeros((n_out, 1))])

    def forward(self, x):
        self.inp = np.vstack([x, [[1.0]]])
        return self.W @ self.inp

    def backward(self, grad_out):
        self.dW = grad_out @ self.inp.T
        if BUG == "bias_first":
            return self.W[:, 1:].T @ grad_out   # copied from the handout, but our bias is last
        return self.W[:, :-1].T @ grad_out

    def step(self, lr):
        self.W = self.W - lr * self.dW


class Sigmoid:
    def forward(self, x):
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out

    def backward(self, grad_out):
        return grad_out * self.out * (1 - self.out)

    def step(self, lr):
        pass


class SoftmaxCrossEntropy:
    def forward(self, x, label):
        e = np.exp(x - np.max(x))
        self.p = e / np.sum(e)
        self.label = label
        return -np.log(self.p[label, 0])

    def backward(self):
        g = self.p.copy()
        g[self.label, 0] -= 1.0
        return g


BUG = None


def predict(layers, x):
    h = x
    for layer in layers:
        h = layer.forward(h)
    e = np.exp(h - np.max(h))
    return e / np.sum(e)


def mean_loss(layers, labels, rows):
    total = 0.0
    wrong = 0
    for y, r in zip(labels, rows):
        p = predict(layers, np.array(r).reshape(-1, 1))
        total += -np.log(p[y, 0])
        wrong += int(np.argmax(p[:, 0]) != y)
    return total / len(labels), wrong / len(labels)


def main():
    global BUG
    args = sys.argv[1:]
    if "--bug" in args:
        i = args.index("--bug")
        BUG = args[i + 1]
        del args[i:i + 2]
    train_in, valid_in, train_out, valid_out, metrics_out = args[:5]
    epochs, hidden, flag, lr = int(args[5]), int(args[6]), int(args[7]), float(args[8])
    tl, tr = load(train_in)
    vl, vr = load(valid_in)
    layers = [Linear(len(tr[0]), hidden, flag), Sigmoid(), Linear(hidden, 10, flag)]
    head = SoftmaxCrossEntropy()
    lines = []
    for epoch in range(epochs):
        np.random.seed(epoch)
        order = np.random.permutation(len(tl))
        for i in order:
            h = np.array(tr[i]).reshape(-1, 1)
            for layer in layers:
                h = layer.forward(h)
            head.forward(h, tl[i])
            g = head.backward()
            for layer in reversed(layers):
                g = layer.backward(g)
            for layer in layers:
                layer.step(lr)
        train_loss, train_err = mean_loss(layers, tl, tr)
        valid_loss, valid_err = mean_loss(layers, vl, vr)
        lines.append("epoch=%d crossentropy(train): %s" % (epoch + 1, train_loss))
        lines.append("epoch=%d crossentropy(validation): %s" % (epoch + 1, valid_loss))
    lines.append("error(train): %s" % train_err)
    lines.append("error(validation): %s" % valid_err)
    with open(metrics_out, "w") as f:
        f.write("\n".join(lines) + "\n")
    for path, labels, rows in [(train_out, tl, tr), (valid_out, vl, vr)]:
        with open(path, "w") as f:
            for r in rows:
                f.write("%d\n" % int(np.argmax(predict(layers, np.array(r).reshape(-1, 1))[:, 0])))


if __name__ == "__main__":
    main()
