"""HW5 neural network as one top-level script, no functions at all (newer semesters: shuffled).

    python3 script_level.py TRAIN.csv VALIDATION.csv TRAIN_OUT VALIDATION_OUT METRICS_OUT \
        NUM_EPOCH HIDDEN_UNITS INIT_FLAG LEARNING_RATE [--trace FILE] [--bug NAME]

Everything runs at the top level, from the command line to the output files: the sigmoid and the
softmax are written inline wherever they are needed. 1-D np.ndarray vectors: x_b = [1, x]
(M+1,), hidden_in = W1 x_b, hidden = sigmoid(hidden_in) (D,), hidden_b = [1, hidden] (D+1,),
out = W2 hidden_b, probs = softmax(out), loss = -log probs[label]. W1 is D x (M+1) and W2 is
K x (D+1), column 0 the bias; INIT_FLAG 1 draws the non-bias block with np.random.seed(rows *
cols); uniform(-0.1, 0.1) and puts a zero bias column in front, INIT_FLAG 2 zeros. Each epoch e
(from 0) visits the rows in np.random.seed(e); np.random.permutation(N); the row is recorded.

Bugs (--bug):
  metric_training_losses      the train metric is the mean of the losses met while training
  forward_epoch_start         the forward pass reads W1_start, W2_start, copies taken when the epoch began
  missing_sigmoid_derivative  d_hidden_in = d_hidden
  gradient_ascent             W += lr * dW
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from bptui_trace import Trace  # noqa: E402

BUGS = ["metric_training_losses", "forward_epoch_start", "missing_sigmoid_derivative", "gradient_ascent"]

trace_file = None
bug = None
positional = []
i = 1
while i < len(sys.argv):
    if sys.argv[i] == "--trace":
        trace_file = sys.argv[i + 1]
        i += 2
    elif sys.argv[i] == "--bug":
        bug = sys.argv[i + 1]
        i += 2
    else:
        positional.append(sys.argv[i])
        i += 1
if len(positional) != 9:
    sys.exit(__doc__)
if bug is not None and bug not in BUGS:
    sys.exit("unknown bug %s, choose from %s" % (bug, ", ".join(BUGS)))

train_input, validation_input, train_out, validation_out, metrics_out = positional[:5]
num_epoch = int(positional[5])
hidden_units = int(positional[6])
init_flag = int(positional[7])
learning_rate = float(positional[8])

train_data = np.loadtxt(train_input, delimiter=",", ndmin=2)
valid_data = np.loadtxt(validation_input, delimiter=",", ndmin=2)
X = train_data[:, 1:]
Y = train_data[:, 0].astype(int)
Xv = valid_data[:, 1:]
Yv = valid_data[:, 0].astype(int)
N, M = X.shape
D = hidden_units
K = 10

if init_flag == 1:
    np.random.seed(D * M)
    W1 = np.hstack([np.zeros((D, 1)), np.random.uniform(-0.1, 0.1, (D, M))])
    np.random.seed(K * D)
    W2 = np.hstack([np.zeros((K, 1)), np.random.uniform(-0.1, 0.1, (K, D))])
else:
    W1 = np.zeros((D, M + 1))
    W2 = np.zeros((K, D + 1))

trace = Trace(trace_file) if trace_file else None
metrics = []
for epoch in range(num_epoch):
    np.random.seed(epoch)
    order = np.random.permutation(N)
    if bug == "forward_epoch_start":
        W1_start, W2_start = W1.copy(), W2.copy()
    epoch_loss = 0.0
    for i, n in enumerate(order):
        x_b = np.concatenate(([1.0], X[n]))
        if bug == "forward_epoch_start":
            hidden_in = W1_start @ x_b
        else:
            hidden_in = W1 @ x_b
        hidden = 1 / (1 + np.exp(-hidden_in))
        hidden_b = np.concatenate(([1.0], hidden))
        if bug == "forward_epoch_start":
            out = W2_start @ hidden_b
        else:
            out = W2 @ hidden_b
        probs = np.exp(out) / np.sum(np.exp(out))
        loss = -np.log(probs[Y[n]])
        epoch_loss += loss

        onehot = np.zeros(K)
        onehot[Y[n]] = 1
        d_out = probs - onehot
        dW2 = np.outer(d_out, hidden_b)
        d_hidden = W2[:, 1:].T @ d_out
        if bug == "missing_sigmoid_derivative":
            d_hidden_in = d_hidden
        else:
            d_hidden_in = d_hidden * hidden * (1 - hidden)
        dW1 = np.outer(d_hidden_in, x_b)

        if bug == "gradient_ascent":
            W1 += learning_rate * dW1
            W2 += learning_rate * dW2
        else:
            W1 -= learning_rate * dW1
            W2 -= learning_rate * dW2

        if trace:
            trace.example(epoch + 1, i + 1, row=n)
            trace.forward(x_b=x_b, hidden_in=hidden_in, hidden_b=hidden_b, out=out, probs=probs, loss=loss)
            trace.adjoints(d_out=d_out, dW2=dW2, d_hidden=d_hidden, d_hidden_in=d_hidden_in, dW1=dW1)
            trace.params(W1=W1, W2=W2)

    # mean cross-entropy with the weights as they are now, train set then validation set
    mean_losses = []
    for Xs, Ys in [(X, Y), (Xv, Yv)]:
        total = 0.0
        for n in range(len(Ys)):
            hidden = 1 / (1 + np.exp(-(W1 @ np.concatenate(([1.0], Xs[n])))))
            out = W2 @ np.concatenate(([1.0], hidden))
            probs = np.exp(out) / np.sum(np.exp(out))
            total += -np.log(probs[Ys[n]])
        mean_losses.append(total / len(Ys))
    train_loss, valid_loss = mean_losses
    if bug == "metric_training_losses":
        train_loss = epoch_loss / N
    metrics.append("epoch=%d crossentropy(train): %r" % (epoch + 1, float(train_loss)))
    metrics.append("epoch=%d crossentropy(validation): %r" % (epoch + 1, float(valid_loss)))
    if trace:
        trace.metrics(epoch + 1, train_loss=train_loss, test_loss=valid_loss)

predictions = []
for Xs, Ys in [(X, Y), (Xv, Yv)]:
    pred = []
    for n in range(len(Ys)):
        hidden = 1 / (1 + np.exp(-(W1 @ np.concatenate(([1.0], Xs[n])))))
        out = W2 @ np.concatenate(([1.0], hidden))
        pred.append(int(np.argmax(out)))
    predictions.append(pred)
metrics.append("error(train): %r" % float(np.mean(np.array(predictions[0]) != Y)))
metrics.append("error(validation): %r" % float(np.mean(np.array(predictions[1]) != Yv)))
with open(metrics_out, "w") as f:
    f.write("\n".join(metrics) + "\n")
with open(train_out, "w") as f:
    for p in predictions[0]:
        f.write("%d\n" % p)
with open(validation_out, "w") as f:
    for p in predictions[1]:
        f.write("%d\n" % p)
if trace:
    trace.close()
