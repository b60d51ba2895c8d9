"""HW5 neural network with its weights, forward values and gradients in dicts.

    python3 dict_params.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

params = {"W1": ..., "W2": ...} with the weights stored transposed from the handout: W1 is
(M+1) x D and W2 is (D+1) x K, row 0 the bias. INIT_FLAG 1 draws each whole matrix with
np.random.uniform(-0.1, 0.1, (rows, cols)) WITHOUT np.random.seed (every run starts elsewhere) and
then zeroes the bias row by slice assignment (W[0, :] = 0); INIT_FLAG 2: zeros. Because of the
missing seed, the trace starts with the initial weights (trace.init). fwd(x) returns a cache dict
of (1, n) rows: x = [1, x], a = x @ W1, z = sigmoid(a), zb = [1, z], b = zb @ W2, p = softmax(b);
each example's backward pass fills a grads dict (b, W2, z, a, W1, the adjoints of the same names)
and the update is W = W - lr * grads[W]. The file order, no shuffling.

Bugs (--bug):
  sigmoid_derivative_z_only  grads["a"] = grads["z"] * z: the (1 - z) of sigma' forgotten
  bias_slice_off_by_one      grads["z"] = grads["b"] @ W2[:-1, :].T: the slice drops the last
                             row of W2 instead of its bias row 0
  update_before_backprop     W2 is stepped as soon as grads["W2"] is known, so grads["z"] uses
                             the updated W2
  onehot_off_by_one          the one-hot t has its 1 at (label + 1) mod K
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ["sigmoid_derivative_z_only", "bias_slice_off_by_one", "update_before_backprop", "onehot_off_by_one"]


def load(f):
    d = np.genfromtxt(f, delimiter=",")
    return d[:, 1:], d[:, 0].astype(int)


def parse(argv):
    opts = {"--trace": None, "--bug": None}
    pos = []
    while argv:
        arg = argv.pop(0)
        if arg in opts and argv:
            opts[arg] = argv.pop(0)
        else:
            pos.append(arg)
    if len(pos) != 9:
        sys.exit(__doc__)
    if opts["--bug"] is not None and opts["--bug"] not in BUGS:
        sys.exit("--bug must be one of: " + ", ".join(BUGS))
    return pos, opts["--trace"], opts["--bug"]


def main():
    pos, trace_file, bug = parse(sys.argv[1:])
    tr, va, tro, vao, mo, E, D, flag, lr = pos
    E, D, flag, lr = int(E), int(D), int(flag), float(lr)
    Xtr, ytr = load(tr)
    Xva, yva = load(va)
    M = Xtr.shape[1]
    params = {}
    if flag == 1:
        params["W1"] = np.random.uniform(-0.1, 0.1, (M + 1, D))   # unseeded, transposed, bias row 0
        params["W2"] = np.random.uniform(-0.1, 0.1, (D + 1, 10))
        params["W1"][0, :] = 0
        params["W2"][0, :] = 0
    else:
        params["W1"] = np.zeros((M + 1, D)); params["W2"] = np.zeros((D + 1, 10))

    def fwd(x):
        cache = {}
        cache["x"] = np.concatenate([[1.0], x])[None, :]
        cache["a"] = cache["x"] @ params["W1"]
        cache["z"] = 1 / (1 + np.exp(-cache["a"]))
        cache["zb"] = np.concatenate([[[1.0]], cache["z"]], axis=1)
        cache["b"] = cache["zb"] @ params["W2"]
        e = np.exp(cache["b"] - cache["b"].max())
        cache["p"] = e / e.sum()
        return cache

    def loss(X, y):
        return float(np.mean([-np.log(fwd(X[i])["p"][0, y[i]]) for i in range(len(y))]))

    trace = Trace(trace_file) if trace_file else None
    if trace:
        trace.init(**params)
    out = []
    for ep in range(E):
        for i in range(len(ytr)):
            c = fwd(Xtr[i])
            grads = {}
            t = np.zeros((1, 10))
            if bug == "onehot_off_by_one":
                t[0, (ytr[i] + 1) % 10] = 1
            else:
                t[0, ytr[i]] = 1
            grads["b"] = c["p"] - t
            grads["W2"] = c["zb"].T @ grads["b"]
            if bug == "update_before_backprop":
                params["W2"] = params["W2"] - lr * grads["W2"]
            if bug == "bias_slice_off_by_one":
                grads["z"] = grads["b"] @ params["W2"][:-1, :].T
            else:
                grads["z"] = grads["b"] @ params["W2"][1:, :].T
            if bug == "sigmoid_derivative_z_only":
                grads["a"] = grads["z"] * c["z"]
            else:
                grads["a"] = grads["z"] * c["z"] * (1 - c["z"])
            grads["W1"] = c["x"].T @ grads["a"]
            params["W1"] = params["W1"] - lr * grads["W1"]
            if bug != "update_before_backprop":
                params["W2"] = params["W2"] - lr * grads["W2"]
            if trace:
                trace.example(ep + 1, i + 1, row=i)
                trace.forward(x=c["x"], a=c["a"], z=c["z"], b=c["b"], p=c["p"], J=-np.log(c["p"][0, ytr[i]]))
                trace.adjoints(**grads)
                trace.params(**params)
        train_J, valid_J = loss(Xtr, ytr), loss(Xva, yva)
        out.append("epoch=%d crossentropy(train): %r" % (ep + 1, train_J))
        out.append("epoch=%d crossentropy(validation): %r" % (ep + 1, valid_J))
        if trace:
            trace.metrics(ep + 1, train_loss=train_J, test_loss=valid_J)
    pt = [int(np.argmax(fwd(x)["p"])) for x in Xtr]; pv = [int(np.argmax(fwd(x)["p"])) for x in Xva]
    out.append("error(train): %r" % float(np.mean(np.array(pt) != ytr)))
    out.append("error(validation): %r" % float(np.mean(np.array(pv) != yva)))
    open(mo, "w").write("\n".join(out) + "\n")
    open(tro, "w").write("".join("%d\n" % p for p in pt)); open(vao, "w").write("".join("%d\n" % p for p in pv))
    if trace:
        trace.close()


main()
