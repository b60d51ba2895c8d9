"""HW5 neural network trained with Adagrad (the semesters whose handout asks for it).

    python3 adagrad.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

The hw5 network (alpha D x (M+1), beta K x (D+1), column 0 the bias; INIT_FLAG 1 seeds
rows * cols of the non-bias block and prepends a zero bias column, INIT_FLAG 2 zeros), the file
order, and per-example Adagrad: s <- s + g * g; theta <- theta - lr * g / sqrt(s + 1e-5), with
one s per weight matrix starting at zero.

Bugs (--bug):
  gradient_ascent          theta <- theta + lr * g / sqrt(s + 1e-5)
  bias_slice_off_by_one    dJ/dz = beta[:, :-1]^T dJ/db
  loss_mean_over_classes   J = -mean(y * log(y_hat)) over the K classes (the gradient is right)
"""

import sys
from os import path

import numpy as np

sys.path.insert(0, path.join(path.dirname(path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ("gradient_ascent", "bias_slice_off_by_one", "loss_mean_over_classes")
EPSILON = 1e-5


class Args:
    def __init__(self, argv):
        self.trace = self.bug = None
        pos = []
        i = 0
        while i < len(argv):
            if argv[i] == "--trace":
                self.trace, i = argv[i + 1], i + 2
            elif argv[i] == "--bug":
                self.bug, i = argv[i + 1], i + 2
            else:
                pos, i = pos + [argv[i]], i + 1
        if len(pos) != 9 or (self.bug is not None and self.bug not in BUGS):
            print(__doc__, file=sys.stderr)
            sys.exit(2)
        (self.train_input, self.validation_input, self.train_out, self.validation_out,
         self.metrics_out) = pos[:5]
        self.num_epoch = int(pos[5])
        self.hidden_units = int(pos[6])
        self.init_flag = int(pos[7])
        self.learning_rate = float(pos[8])


def load(file):
    d = np.loadtxt(file, delimiter=",", ndmin=2)
    return d[:, 1:], d[:, 0].astype(int)


def init(rows, cols, flag):
    if flag == 2:
        return np.zeros((rows, cols + 1))
    np.random.seed(rows * cols)
    w = np.random.uniform(-0.1, 0.1, (rows, cols))
    return np.concatenate((np.zeros((rows, 1)), w), axis=1)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def softmax(b):
    return np.exp(b) / np.sum(np.exp(b))


def nn_forward(x, label, alpha, beta, bug):
    a = alpha @ np.append(1, x)
    z = sigmoid(a)
    b = beta @ np.append(1, z)
    y_hat = softmax(b)
    y = np.eye(len(y_hat))[label]
    if bug == "loss_mean_over_classes":
        J = -np.mean(y * np.log(y_hat))
    else:
        J = -np.sum(y * np.log(y_hat))
    return a, z, b, y_hat, J


def nn_backward(x, label, z, y_hat, beta, bug):
    y = np.eye(len(y_hat))[label]
    grad_b = y_hat - y
    grad_beta = np.outer(grad_b, np.append(1, z))
    grad_z = (beta[:, :-1] if bug == "bias_slice_off_by_one" else beta[:, 1:]).T @ grad_b
    grad_a = grad_z * z * (1 - z)
    grad_alpha = np.outer(grad_a, np.append(1, x))
    return grad_b, grad_beta, grad_z, grad_a, grad_alpha


def mean_cross_entropy(X, Y, alpha, beta, bug):
    return np.mean([nn_forward(X[i], Y[i], alpha, beta, bug)[4] for i in range(len(Y))])


def predict(X, alpha, beta, bug):
    return np.array([np.argmax(nn_forward(x, 0, alpha, beta, bug)[3]) for x in X])


def main():
    args = Args(sys.argv[1:])
    bug, lr = args.bug, args.learning_rate
    X, Y = load(args.train_input)
    Xv, Yv = load(args.validation_input)
    alpha = init(args.hidden_units, X.shape[1], args.init_flag)
    beta = init(10, args.hidden_units, args.init_flag)
    s_alpha = np.zeros(alpha.shape)
    s_beta = np.zeros(beta.shape)

    trace = Trace(args.trace) if args.trace else None
    report = []
    for epoch in range(1, args.num_epoch + 1):
        for i in range(len(Y)):
            a, z, b, y_hat, J = nn_forward(X[i], Y[i], alpha, beta, bug)
            grad_b, grad_beta, grad_z, grad_a, grad_alpha = nn_backward(X[i], Y[i], z, y_hat, beta, bug)
            s_alpha += grad_alpha * grad_alpha
            s_beta += grad_beta * grad_beta
            step_alpha = lr * grad_alpha / np.sqrt(s_alpha + EPSILON)
            step_beta = lr * grad_beta / np.sqrt(s_beta + EPSILON)
            if bug == "gradient_ascent":
                alpha = alpha + step_alpha
                beta = beta + step_beta
            else:
                alpha = alpha - step_alpha
                beta = beta - step_beta
            if trace:
                trace.example(epoch, i + 1, row=i)
                trace.forward(x=X[i], a=a, z=z, b=b, y_hat=y_hat, J=J)
                trace.adjoints(grad_b=grad_b, grad_beta=grad_beta, grad_z=grad_z, grad_a=grad_a,
                               grad_alpha=grad_alpha)
                trace.params(alpha=alpha, beta=beta)
        train_ce = mean_cross_entropy(X, Y, alpha, beta, bug)
        valid_ce = mean_cross_entropy(Xv, Yv, alpha, beta, bug)
        report.append("epoch={} crossentropy(train): {!r}".format(epoch, float(train_ce)))
        report.append("epoch={} crossentropy(validation): {!r}".format(epoch, float(valid_ce)))
        if trace:
            trace.metrics(epoch, train_loss=train_ce, test_loss=valid_ce)

    pred, pred_v = predict(X, alpha, beta, bug), predict(Xv, alpha, beta, bug)
    report.append("error(train): {!r}".format(float(np.mean(pred != Y))))
    report.append("error(validation): {!r}".format(float(np.mean(pred_v != Yv))))
    with open(args.metrics_out, "w") as f:
        f.write("\n".join(report) + "\n")
    with open(args.train_out, "w") as f:
        f.write("\n".join(str(p) for p in pred) + "\n")
    with open(args.validation_out, "w") as f:
        f.write("\n".join(str(p) for p in pred_v) + "\n")
    if trace:
        trace.close()


if __name__ == "__main__":
    main()
