"""`bptui diff -- python3 PROGRAM ...` against the program's own run, in one go: the homework
program of tests/homework/handout_template.py on the small set (../shared/data/ocr when it is
there, else models/data), 2 epochs, 50 hidden units. Prints the program alone, the whole
`diff --` of the correct program and its ratio (target: within 3x), and the time to the report
of a mistake in epoch 1 example 1 (target: within 1 s).

    python3 benches/diff_program.py [--bptui target/release/bptui] [--repeat 3]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def best(command, cwd, repeat, expect):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
        if r.returncode not in expect:
            sys.exit("%s exited %d:\n%s" % (" ".join(command), r.returncode, r.stdout.decode()[-2000:]))
    return min(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bptui", default=os.path.join(ROOT, "target", "release", "bptui"))
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    shared = os.path.join(ROOT, "..", "shared", "data", "ocr")
    if os.path.exists(os.path.join(shared, "small_train.csv")):
        train, valid = os.path.join(shared, "small_train.csv"), os.path.join(shared, "small_validation.csv")
    else:
        train, valid = (os.path.join(ROOT, "models", "data", f) for f in ("ocr_letters_train.csv", "ocr_letters_test.csv"))
    script = os.path.join(ROOT, "tests", "homework", "handout_template.py")
    args = [train, valid, "train_out.labels", "validation_out.labels", "metrics_out.txt", "2", "50", "1", "0.1"]
    with tempfile.TemporaryDirectory() as cwd:
        alone = best([sys.executable, script] + args, cwd, a.repeat, {0})
        whole = best([a.bptui, "diff", "--", sys.executable, script] + args, cwd, a.repeat, {0})
        bug = best([a.bptui, "diff", "--", sys.executable, script] + args + ["--bug", "softmax_elementwise"], cwd,
                   a.repeat, {1})
    print("data: %s (2 epochs, 50 hidden units), best of %d" % (os.path.basename(train), a.repeat))
    print("%-52s %8.2f s" % ("the program alone (python3 handout_template.py ...)", alone))
    print("%-52s %8.2f s   %.2fx the program (target <= 3x)" % ("bptui diff -- (correct: all of it, agrees)", whole,
                                                                 whole / alone))
    print("%-52s %8.2f s   (target <= 1 s)" % ("bptui diff -- (mistake in epoch 1 example 1)", bug))


if __name__ == "__main__":
    main()
