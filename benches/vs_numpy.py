"""bptui's speed, side by side with numpy in one go, as one table (docs/benchmarks.md).

    python3 benches/vs_numpy.py [--data DIR] [--epochs N] [--hidden D] [--tui] [--no-trace]

Trains the homework network (128 -> D sigmoid -> softmax over 10, SGD one example at a time,
learning rate 0.01, numpy's shuffling and initialisation, metrics each epoch) with:
  - `bptui run` (release build, whole process);
  - a careful numpy per-example loop (benches/numpy_careful.py: vectorised per example, np.outer,
    in-place updates);
  - the homework-style examples/hw_numpy.py;
  - PyTorch's per-example loop on the CPU, when torch is installed;
checks that every implementation's epoch losses agree with bptui's to 1e-9, and prints the
lower bound: the epoch's multiply-adds (dense, as numpy does them) at this machine's measured
single-core rate on the same matrix-vector shapes. Then `trace` MB/s (JSON Lines and .npz) and
`diff` MB/s and peak memory on the small set (500 examples, 2 epochs: about 230 MB of JSON
Lines), python/bptui_trace.py's peak memory recording that run, and with --tui the debugger's
frame time (cargo bench --bench tui_draw).

DIR defaults to ../shared/data/ocr (large_train.csv, large_validation.csv, small_*.csv) when it
exists, else to the letter set in models/data. numpy runs single-threaded (OPENBLAS_NUM_THREADS=1)
with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for its own processes only, so that OpenBLAS
picks this CPU's kernel (threadpoolctl, when installed, says which).
"""

import argparse
import atexit
import datetime
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BPTUI = os.path.join(TARGET, "release", "bptui")


def numpy_env():
    env = dict(os.environ)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(k, None)
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["OMP_NUM_THREADS"] = "1"
    env["MKL_NUM_THREADS"] = "1"
    return env


def timed(cmd, env=None, cwd=None):
    """Wall time and peak memory (MB) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    time_v = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    if time_v:
        cmd = [time_v, "-f", "%M"] + cmd
    start = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr))
    if time_v:
        peak = int(p.stderr.strip().splitlines()[-1]) / 1024
    else:  # the children's maximum so far: right only when this one is the largest yet
        peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return wall, peak


def wall(cmd, env=None):
    """Wall time of one process, started straight from here: `timed`'s /usr/bin/time would
    add its own start to it (about 1 ms, 2 % of bptui's run)."""
    start = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr))
    return elapsed


def best_of(n, cmd, env=None):
    runs = [timed(cmd, env) for _ in range(n)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def losses(path):
    with open(path) as f:
        return [float(l.split()[-1]) for l in f if l.startswith("epoch=")]


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1) if m else cpu
    except OSError:
        pass
    return "%s, %d logical cores, %s %s, Python %s" % (
        cpu, os.cpu_count() or 0, platform.system(), platform.release(), platform.python_version())


def blas_kernel():
    code = ("import numpy, threadpoolctl\n"
            "for i in threadpoolctl.threadpool_info():\n"
            "    print(i.get('internal_api'), i.get('architecture'), i.get('num_threads'))")
    p = subprocess.run([sys.executable, "-c", code], env=numpy_env(), capture_output=True, text=True)
    if p.returncode != 0:
        return "threadpoolctl not installed"
    return "; ".join(l for l in p.stdout.splitlines() if l) or "no BLAS reported"


RATE = r"""
import sys, time
import numpy as np
hidden, m = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
total_madds, total_time = 0, 0.0
for rows, cols in [(hidden, m + 1), (10, hidden + 1)]:
    W = rng.uniform(-1, 1, (rows, cols))
    X = rng.uniform(-1, 1, (20000, cols, 1))
    best = 1e9
    for _ in range(5):
        t = time.perf_counter(); np.matmul(W, X); best = min(best, time.perf_counter() - t)
    total_madds += rows * cols * X.shape[0]
    total_time += best
print(total_madds / total_time)
"""


def single_core_rate(hidden, m):
    """Multiply-adds per second of this machine's numpy (one thread) on stacked
    matrix-vector products of the network's shapes: the BLAS kernel without Python's overhead."""
    p = subprocess.run([sys.executable, "-c", RATE, str(hidden), str(m)], env=numpy_env(),
                       capture_output=True, text=True, check=True)
    return float(p.stdout)


TORCH = r"""
import sys, numpy as np, torch
torch.set_num_threads(1)
train, valid, out, epochs, hidden, lr = sys.argv[1:7]
epochs, hidden, lr = int(epochs), int(hidden), float(lr)
tr = np.loadtxt(train, delimiter=",", ndmin=2); va = np.loadtxt(valid, delimiter=",", ndmin=2)
def init(rows, cols):
    np.random.seed(rows * cols)
    return np.hstack([np.zeros((rows, 1)), np.random.uniform(-0.1, 0.1, (rows, cols))])
X = torch.tensor(np.hstack([np.ones((len(tr), 1)), tr[:, 1:]])); Y = torch.tensor(tr[:, 0].astype(int))
Xv = torch.tensor(np.hstack([np.ones((len(va), 1)), va[:, 1:]])); Yv = torch.tensor(va[:, 0].astype(int))
alpha = torch.tensor(init(hidden, X.shape[1] - 1)); beta = torch.tensor(init(10, hidden))
def mean_loss(X1, Y):
    z = torch.sigmoid(X1 @ alpha.T)
    b = z @ beta[:, 1:].T + beta[:, 0]
    return float((torch.logsumexp(b, 1) - b[torch.arange(len(Y)), Y]).mean())
lines = []
with torch.no_grad():
    for e in range(epochs):
        np.random.seed(e)
        for i in np.random.permutation(len(Y)):
            x1 = X[i]; z = torch.sigmoid(alpha @ x1); z1 = torch.cat([torch.ones(1, dtype=z.dtype), z])
            g_b = torch.softmax(beta @ z1, 0); g_b[Y[i]] -= 1.0
            g_a = (beta[:, 1:].T @ g_b) * z * (1 - z)
            beta -= lr * torch.outer(g_b, z1); alpha -= lr * torch.outer(g_a, x1)
        lines.append("epoch=%d crossentropy(train): %r" % (e + 1, mean_loss(X, Y)))
        lines.append("epoch=%d crossentropy(validation): %r" % (e + 1, mean_loss(Xv, Yv)))
open(out, "w").write("\n".join(lines) + "\n")
"""


def nonzeros(path):
    """How many features of a data file (label first) are not zero."""
    count = 0
    with open(path) as f:
        for line in f:
            cells = line.strip().split(",")[1:]
            count += sum(1 for c in cells if float(c) != 0.0)
    return count


def main():
    shared = os.path.join(ROOT, "..", "shared", "data", "ocr")
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=shared if os.path.isdir(shared) else None)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--hidden", type=int, default=50)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--repeat", type=int, default=3, help="best of N runs for the training times")
    p.add_argument("--tui", action="store_true", help="also run cargo bench --bench tui_draw")
    p.add_argument("--no-trace", action="store_true", help="skip the trace, diff and recorder figures")
    args = p.parse_args()
    if args.data:
        train, valid = (os.path.join(args.data, f) for f in ("large_train.csv", "large_validation.csv"))
        small_train, small_valid = (os.path.join(args.data, f) for f in ("small_train.csv", "small_validation.csv"))
    else:
        train = small_train = os.path.join(ROOT, "models/data/ocr_letters_train.csv")
        valid = small_valid = os.path.join(ROOT, "models/data/ocr_letters_test.csv")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="bptui-bench-")
    # The traces take hundreds of MB: gone when the script ends, however it ends.
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)

    def model(epochs):
        path = os.path.join(tmp, "hw%d.yaml" % epochs)
        with open(os.path.join(ROOT, "models/hw_network.yaml")) as f:
            text = f.read()
        text = text.replace("units: 4,", "units: %d," % args.hidden)
        text = text.replace("learning_rate: 0.1", "learning_rate: %r" % args.lr)
        text = text.replace("epochs: 2", "epochs: %d" % epochs)
        text = text.replace("csv: data/", "csv: %s/models/data/" % ROOT)
        with open(path, "w") as f:
            f.write(text)
        return path

    hw = model(args.epochs)
    n_train = sum(1 for _ in open(train))
    n_valid = sum(1 for _ in open(valid))
    m = len(open(train).readline().split(",")) - 1
    rows = []  # (what, figure, note)

    out = {}
    out["bptui"] = os.path.join(tmp, "bptui.txt")
    bptui_cmd = [BPTUI, "run", hw, "--train", train, "--test", valid, "--metrics-out", out["bptui"]]
    impl = [("careful numpy loop (benches/numpy_careful.py)", "careful",
             [sys.executable, os.path.join(ROOT, "benches/numpy_careful.py"), train, valid, None,
              str(args.epochs), str(args.hidden), repr(args.lr)]),
            ("homework numpy (examples/hw_numpy.py)", "hw",
             [sys.executable, os.path.join(ROOT, "examples/hw_numpy.py"), train, valid,
              os.path.join(tmp, "a.labels"), os.path.join(tmp, "b.labels"), None,
              str(args.epochs), str(args.hidden), "1", repr(args.lr), "--shuffle"])]
    has_torch = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0
    if has_torch:
        impl.append(("PyTorch per-example loop (CPU, 1 thread)", "torch",
                     [sys.executable, "-c", TORCH, train, valid, None, str(args.epochs), str(args.hidden),
                      repr(args.lr)]))
    times = {}
    for label, key, cmd in impl:
        out[key] = os.path.join(tmp, key + ".txt")
        cmd[:] = [out[key] if c is None else c for c in cmd]
    # bptui and the careful numpy loop run in turns, so that both meet the machine in the same
    # state (a busier moment slows both); the best of each.
    runs = {"bptui": [], "careful": []}
    careful = next(cmd for _, key, cmd in impl if key == "careful")
    for _ in range(args.repeat):
        runs["bptui"].append(wall(bptui_cmd))
        runs["careful"].append(wall(careful, numpy_env()))
    t_bptui, mem = min(runs["bptui"]), timed(bptui_cmd)[1]
    ours = losses(out["bptui"])
    worst_all = 0.0
    for label, key, cmd in impl:
        if key == "careful":
            times[key] = min(runs["careful"])
        else:
            times[key], _ = best_of(1 if key == "hw" else args.repeat, cmd, env=numpy_env())
        theirs = losses(out[key])
        if len(theirs) != len(ours):
            sys.exit("%s wrote %d losses, bptui %d" % (label, len(theirs), len(ours)))
        worst = max(abs(a - b) for a, b in zip(ours, theirs))
        worst_all = max(worst_all, worst)
        if worst > 1e-9:
            sys.exit("%s's losses differ from bptui's by %.3e (> 1e-9)" % (label, worst))
        rows.append(("%s: %.3f s" % (label, times[key]), "%.1f× faster" % (times[key] / t_bptui),
                     "losses agree to %.1e" % worst))

    # The lower bound: the dense multiply-adds numpy does, at numpy's single-core matvec rate.
    per_example = 2 * (args.hidden * (m + 1) + 10 * (args.hidden + 1)) + 10 * args.hidden + args.hidden * (m + 1)
    per_row = args.hidden * (m + 1) + 10 * (args.hidden + 1)
    madds = args.epochs * (n_train * per_example + (n_train + n_valid) * per_row)
    rate = single_core_rate(args.hidden, m)
    bound = madds / rate
    rows.insert(0, ("bptui run: %.3f s (%d MB peak)" % (t_bptui, mem),
                    "%.2f× the lower bound" % (t_bptui / bound),
                    "whole process, best of %d, in turns with the careful numpy loop" % args.repeat))
    rows.insert(1, ("lower bound: %.3f s" % bound, "%.2f G multiply-adds at %.2f G/s" % (madds / 1e9, rate / 1e9),
                    "forward, backward, update and metrics, dense"))
    # bptui skips the data's zeros in the first layer (its product, its update, no dJ/dx): the
    # multiply-adds it does, at the same rate, bound it in turn.
    nnz_train, nnz_valid = nonzeros(train), nonzeros(valid)
    h = args.hidden
    sparse = args.epochs * (2 * h * (nnz_train + n_train) + n_train * (2 * 10 * (h + 1) + 10 * h)
                            + h * (nnz_train + nnz_valid + n_train + n_valid) + (n_train + n_valid) * 10 * (h + 1))
    rows.insert(2, ("bptui's own work: %.3f s" % (sparse / rate),
                    "%.2f G multiply-adds at %.2f G/s; bptui takes %.1f× that" % (sparse / 1e9, rate / 1e9,
                                                                                t_bptui / (sparse / rate)),
                    "the lower bound over the data's nonzeros (%.0f %% of the features), as bptui computes"
                    % (100.0 * nnz_train / (n_train * m))))
    if not has_torch:
        rows.append(("PyTorch per-example loop", "skipped", "torch is not installed"))

    if not args.no_trace:
        small = model(2)
        jsonl, npz = os.path.join(tmp, "t.jsonl"), os.path.join(tmp, "t.npz")
        base = [BPTUI, "trace", small, "--train", small_train, "--test", small_valid, "--out"]
        t_j, mem_j = timed(base + [jsonl])
        t_n, mem_n = timed(base + [npz])
        size_j, size_n = os.path.getsize(jsonl) / 1e6, os.path.getsize(npz) / 1e6
        rows.append(("bptui trace → JSON Lines: %.0f MB in %.2f s" % (size_j, t_j), "%.0f MB/s" % (size_j / t_j),
                     "%d MB peak" % mem_j))
        rows.append(("bptui trace → .npz: %.0f MB in %.2f s" % (size_n, t_n), "%.0f MB/s" % (size_n / t_n),
                     "%d MB peak" % mem_n))
        for path, size, what in [(jsonl, size_j, "JSON Lines"), (npz, size_n, ".npz")]:
            t_d, mem_d = timed([BPTUI, "diff", small, path, "--train", small_train, "--test", small_valid])
            rows.append(("bptui diff of that %s: %.2f s" % (what, t_d), "%.0f MB/s" % (size / t_d),
                         "%d MB peak" % mem_d))
        hw_cmd = [sys.executable, os.path.join(ROOT, "examples/hw_numpy.py"), small_train, small_valid,
                  os.path.join(tmp, "c.labels"), os.path.join(tmp, "d.labels"), os.path.join(tmp, "e.txt"),
                  "2", str(args.hidden), "1", repr(args.lr), "--shuffle"]
        t_plain, mem_plain = timed(hw_cmd, env=numpy_env())
        rec = os.path.join(tmp, "py.jsonl")
        t_rec, mem_rec = timed(hw_cmd + ["--trace", rec], env=numpy_env())
        rows.append(("python/bptui_trace.py recording that run: %.0f MB in %.2f s" % (os.path.getsize(rec) / 1e6, t_rec),
                     "%d MB peak" % mem_rec, "the run without recording: %d MB peak, %.2f s" % (mem_plain, t_plain)))

    if args.tui:
        p = subprocess.run(["cargo", "bench", "--bench", "tui_draw", "--", "--noplot"], cwd=ROOT,
                           capture_output=True, text=True)
        for name, value, unit in re.findall(r"^(\S[^\n]*?)\s+time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", p.stdout, re.M):
            what = "debugger frame" if name.startswith("draw") else "debugger epoch"
            rows.append(("%s: %s" % (what, name), "%s %s" % (value, unit), "cargo bench --bench tui_draw (median)"))

    print("# bptui benchmarks, %s" % datetime.date.today().isoformat())
    print()
    print("Machine: %s. numpy %s (BLAS: %s)." % (machine(), subprocess.run(
        [sys.executable, "-c", "import numpy; print(numpy.__version__)"], capture_output=True, text=True).stdout.strip(),
        blas_kernel()))
    print("Training: %s (%d examples), %s (%d), %d epochs, %d hidden units, learning rate %r."
          % (os.path.basename(train), n_train, os.path.basename(valid), n_valid, args.epochs, args.hidden, args.lr))
    print()
    print("| what | figure | note |")
    print("|---|---|---|")
    for r in rows:
        print("| %s | %s | %s |" % r)
    print()
    print("Every implementation's epoch losses agree with bptui's to %.1e (checked: ≤ 1e-9)." % worst_all)


if __name__ == "__main__":
    main()
