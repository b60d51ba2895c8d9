"""HW5 neural network with the bias LAST in every array, trained with Adagrad.

    python3 bias_last_adagrad.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

The 1 is appended, not prepended: x_aug = [x; 1], z_aug = [z; 1]; alpha = [W | b] is
D x (M+1) and beta K x (D+1), the bias in the last column. INIT_FLAG 1 draws the D x M block
with np.random.seed(D * M); uniform(-0.1, 0.1) and appends a zero bias column; INIT_FLAG 2:
zeros. dJ/dz is computed with the whole beta, so it carries the bias entry's adjoint last
(dJ_dz_aug, D+1 entries) and dJ_dz_aug[:-1] goes on to sigma'. The file order; per-example
Adagrad with one accumulator per weight matrix: s <- s + g * g; theta <- theta - lr * g / sqrt(s + eps),
eps = 1e-5.

Bugs (--bug):
  adagrad_eps_outside      theta <- theta - lr * g / (sqrt(s) + eps)
  adagrad_s_after_step     the step divides by the s of before this example's g * g
  adagrad_s_reset_example  s = g * g (the accumulator forgets the earlier examples)
  adagrad_s_reset_epoch    the accumulators start from zero again every epoch
  adagrad_lr_in_root       theta <- theta - g * sqrt(lr / (s + eps))
  carried_slice_shifted    dJ_dz_aug[1:] goes to sigma' where dJ_dz_aug[:-1] was meant
"""

import sys
from os import path

import numpy as np

sys.path.insert(0, path.join(path.dirname(path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ("adagrad_eps_outside", "adagrad_s_after_step", "adagrad_s_reset_example", "adagrad_s_reset_epoch",
        "adagrad_lr_in_root", "carried_slice_shifted")
EPS = 1e-5
N_CLASSES = 10


def parse_args(argv):
    opts = {"--trace": None, "--bug": None}
    pos = []
    it = iter(argv)
    for a in it:
        if a in opts:
            opts[a] = next(it, None)
        else:
            pos.append(a)
    if len(pos) != 9 or (opts["--bug"] is not None and opts["--bug"] not in BUGS):
        sys.exit(__doc__)
    return pos, opts["--trace"], opts["--bug"]


def read_csv(file):
    d = np.loadtxt(file, delimiter=",", ndmin=2)
    return d[:, 1:], d[:, 0].astype(int)


def init_weights(n_out, n_in, flag):
    """n_out x (n_in + 1), the bias column last."""
    if flag == 2:
        return np.zeros((n_out, n_in + 1))
    np.random.seed(n_out * n_in)
    W = np.random.uniform(-0.1, 0.1, (n_out, n_in))
    return np.hstack((W, np.zeros((n_out, 1))))


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def softmax(b):
    e = np.exp(b - b.max())
    return e / e.sum()


def forward(x, label, alpha, beta):
    x_aug = np.append(x, 1.0)
    a = alpha @ x_aug
    z = sigmoid(a)
    z_aug = np.append(z, 1.0)
    b = beta @ z_aug
    y_hat = softmax(b)
    J = -np.log(y_hat[label])
    return x_aug, a, z, z_aug, b, y_hat, J


def backward(label, x_aug, z, z_aug, y_hat, beta, bug):
    dJ_db = y_hat.copy()
    dJ_db[label] -= 1.0
    dJ_dbeta = np.outer(dJ_db, z_aug)
    dJ_dz_aug = beta.T @ dJ_db  # D+1 entries, the bias entry's last
    if bug == "carried_slice_shifted":
        dJ_da = dJ_dz_aug[1:] * z * (1.0 - z)
    else:
        dJ_da = dJ_dz_aug[:-1] * z * (1.0 - z)
    dJ_dalpha = np.outer(dJ_da, x_aug)
    return dJ_db, dJ_dbeta, dJ_dz_aug, dJ_da, dJ_dalpha


def adagrad(theta, g, s, lr, bug):
    """One Adagrad step; returns the new theta and s."""
    if bug == "adagrad_s_reset_example":
        s = g * g
    elif bug != "adagrad_s_after_step":
        s = s + g * g
    if bug == "adagrad_eps_outside":
        theta = theta - lr * g / (np.sqrt(s) + EPS)
    elif bug == "adagrad_lr_in_root":
        theta = theta - g * np.sqrt(lr / (s + EPS))
    else:
        theta = theta - lr * g / np.sqrt(s + EPS)
    if bug == "adagrad_s_after_step":
        s = s + g * g
    return theta, s


def mean_loss(X, Y, alpha, beta):
    total = 0.0
    for x, y in zip(X, Y):
        total += forward(x, y, alpha, beta)[-1]
    return total / len(Y)


def predict(X, alpha, beta):
    return [int(np.argmax(forward(x, 0, alpha, beta)[5])) for x in X]


def main():
    pos, trace_file, bug = parse_args(sys.argv[1:])
    train_in, valid_in, train_out, valid_out, metrics_out = pos[:5]
    epochs, hidden, flag, lr = int(pos[5]), int(pos[6]), int(pos[7]), float(pos[8])

    X, Y = read_csv(train_in)
    Xv, Yv = read_csv(valid_in)
    alpha = init_weights(hidden, X.shape[1], flag)
    beta = init_weights(N_CLASSES, hidden, flag)
    s_alpha = np.zeros_like(alpha)
    s_beta = np.zeros_like(beta)

    trace = Trace(trace_file) if trace_file else None
    lines = []
    for epoch in range(1, epochs + 1):
        if bug == "adagrad_s_reset_epoch":
            s_alpha = np.zeros_like(alpha)
            s_beta = np.zeros_like(beta)
        for i in range(len(Y)):
            x_aug, a, z, z_aug, b, y_hat, J = forward(X[i], Y[i], alpha, beta)
            dJ_db, dJ_dbeta, dJ_dz_aug, dJ_da, dJ_dalpha = backward(Y[i], x_aug, z, z_aug, y_hat, beta, bug)
            alpha, s_alpha = adagrad(alpha, dJ_dalpha, s_alpha, lr, bug)
            beta, s_beta = adagrad(beta, dJ_dbeta, s_beta, lr, bug)
            if trace:
                trace.example(epoch, i + 1, row=i)
                trace.forward(x_aug=x_aug, a=a, z=z, b=b, y_hat=y_hat, J=J)
                trace.adjoints(dJ_db=dJ_db, dJ_dbeta=dJ_dbeta, dJ_dz_aug=dJ_dz_aug, dJ_da=dJ_da,
                               dJ_dalpha=dJ_dalpha)
                trace.params(alpha=alpha, beta=beta)
        train_ce = mean_loss(X, Y, alpha, beta)
        valid_ce = mean_loss(Xv, Yv, alpha, beta)
        lines.append("epoch=%d crossentropy(train): %r" % (epoch, float(train_ce)))
        lines.append("epoch=%d crossentropy(validation): %r" % (epoch, float(valid_ce)))
        if trace:
            trace.metrics(epoch, train_loss=train_ce, test_loss=valid_ce)

    pred, pred_v = predict(X, alpha, beta), predict(Xv, alpha, beta)
    lines.append("error(train): %r" % float(np.mean(np.array(pred) != Y)))
    lines.append("error(validation): %r" % float(np.mean(np.array(pred_v) != Yv)))
    with open(metrics_out, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(train_out, "w") as f:
        f.writelines("%d\n" % p for p in pred)
    with open(valid_out, "w") as f:
        f.writelines("%d\n" % p for p in pred_v)
    if trace:
        trace.close()


if __name__ == "__main__":
    main()
