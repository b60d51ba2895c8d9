"""Training speed, bptui against the numpy homework implementation, side by side in one go.

    python3 benches/vs_numpy.py [--data DIR] [--epochs N] [--hidden D]

Trains the homework network (128 → D sigmoid → softmax over 10, SGD one example at a time,
numpy's shuffling and initialisation) on the letter data with `bptui run` (release build) and
with examples/hw_numpy.py, checks that both report the same metrics, and prints the wall times
and their ratio. DIR defaults to ../shared/data/ocr (large_train.csv, large_validation.csv) when
it exists, else to the small letter set in models/data.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    shared = os.path.join(ROOT, "..", "shared", "data", "ocr")
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=shared if os.path.isdir(shared) else None)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--hidden", type=int, default=50)
    p.add_argument("--lr", type=float, default=0.01)
    args = p.parse_args()
    if args.data:
        train = os.path.join(args.data, "large_train.csv")
        valid = os.path.join(args.data, "large_validation.csv")
    else:
        train = os.path.join(ROOT, "models/data/ocr_letters_train.csv")
        valid = os.path.join(ROOT, "models/data/ocr_letters_test.csv")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp()
    model = os.path.join(tmp, "hw.yaml")
    with open(os.path.join(ROOT, "models/hw_network.yaml")) as f:
        text = f.read()
    text = text.replace("units: 4,", "units: %d," % args.hidden)
    text = text.replace("learning_rate: 0.1", "learning_rate: %r" % args.lr)
    text = text.replace("epochs: 2", "epochs: %d" % args.epochs)
    with open(model, "w") as f:
        f.write(text)

    ours_metrics = os.path.join(tmp, "ours.txt")
    start = time.perf_counter()
    subprocess.run([os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "bptui"), "run", model, "--train", train, "--test", valid,
                    "--metrics-out", ours_metrics], check=True, stdout=subprocess.DEVNULL)
    ours = time.perf_counter() - start

    theirs_metrics = os.path.join(tmp, "numpy.txt")
    start = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(ROOT, "examples/hw_numpy.py"), train, valid,
                    os.path.join(tmp, "a.labels"), os.path.join(tmp, "b.labels"), theirs_metrics,
                    str(args.epochs), str(args.hidden), "1", repr(args.lr), "--shuffle"], check=True)
    numpy_time = time.perf_counter() - start

    with open(ours_metrics) as f:
        a = [float(l.split()[-1]) for l in f]
    with open(theirs_metrics) as f:
        b = [float(l.split()[-1]) for l in f]
    worst = max(abs(x - y) for x, y in zip(a, b))
    print("data: %s (%d epochs, %d hidden units)" % (train, args.epochs, args.hidden))
    print("bptui run:       %.3f s" % ours)
    print("numpy homework:  %.3f s" % numpy_time)
    print("ratio numpy/bptui: %.1fx   (metrics agree to %.1e)" % (numpy_time / ours, worst))


if __name__ == "__main__":
    main()
