"""Checks corpus.json against the scripts themselves, without bptui.

    python3 tests/homework/verify_corpus.py [--only SCRIPT] [--keep DIR] [--corpus FILE]

For every implementation of corpus.json:
  1. the correct run (its args) finishes, and writes its trace, metrics and labels files;
  2. its trace agrees, example by example, with an independent reference computation in bptui's
     conventions from the model file (init, shuffle, optimizer, separate bias; the init record
     when the trace has one): every recorded number to 1e-9 relative (float32: 2e-4 relative
     plus 1e-6), after undoing the script's storage (bias entries included, transposes, column
     and row vectors), and the epoch metrics the same way;
  3. with hw_numpy_args, examples/hw_numpy.py with those switches gives the same metrics lines
     (1e-9; float32 1e-4);
  4. each bug's first difference from the correct run (first_difference.py) is the manifest's;
  5. each mismatch entry's first difference from the run with the model's settings is its own.
unseeded.py draws its weights without a seed: its bug runs and their correct run start from one
fixed global seed (np.random.seed before the script), and the reference for its `init` mismatch
is the run whose np.random.uniform is seeded as the handout says (seed rows*cols), i.e. the
model's init. Prints one line per check; exit 0 when all pass.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import first_difference as fd  # noqa: E402

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("verify_corpus.py needs PyYAML (python3 -m pip install pyyaml)")

TRAIN = os.path.join(REPO, "models", "data", "ocr_letters_train.csv")
VALID = os.path.join(REPO, "models", "data", "ocr_letters_test.csv")

# Runs a script with numpy's global generator prepared: `seed:S` seeds it once, `hw5` makes
# every np.random.uniform(lo, hi, size) first call np.random.seed(prod(size)), as the handout's
# initialisation does.
HARNESS = r"""
import runpy, sys
import numpy as np
mode = sys.argv[1]
sys.argv = sys.argv[2:]
if mode.startswith("seed:"):
    np.random.seed(int(mode[5:]))
elif mode == "hw5":
    _uniform = np.random.uniform
    def uniform(low=0.0, high=1.0, size=None):
        np.random.seed(int(np.prod(size)))
        return _uniform(low, high, size)
    np.random.uniform = uniform
runpy.run_path(sys.argv[0], run_name="__main__")
"""


class Runner:
    def __init__(self, workdir):
        self.dir = workdir
        self.n = 0

    def run(self, script, args, extra=(), bug=None, harness=None, tag=None):
        """Runs a script; returns (trace path, metrics path, train labels, seconds)."""
        self.n += 1
        tag = tag or "run%d" % self.n
        out = [os.path.join(self.dir, tag + s) for s in (".train.labels", ".valid.labels", ".metrics")]
        trace = os.path.join(self.dir, tag + ".jsonl")
        path = script if os.path.isabs(script) else os.path.join(HERE, script)
        cmd = [sys.executable]
        if harness:
            cmd += ["-c", HARNESS, harness]
        cmd += [path, TRAIN, VALID] + out + list(args) + list(extra) + ["--trace", trace]
        if bug:
            cmd += ["--bug", bug]
        t = time.time()
        p = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.time() - t
        if p.returncode != 0:
            raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), p.stderr))
        for f in [trace] + out:
            if not os.path.exists(f) or os.path.getsize(f) == 0:
                raise RuntimeError("%s wrote no %s" % (" ".join(cmd), f))
        return trace, out[2], out[:2], seconds


# ---------------------------------------------------------------- the reference computation

def numpy_uniform(units, inputs, lo, hi, bias_column, folded):
    if not folded:
        np.random.seed(units * inputs)
        return np.random.uniform(lo, hi, (units, inputs))
    if bias_column == "prepended":
        np.random.seed(units * inputs)
        w = np.random.uniform(lo, hi, (units, inputs))
        return np.hstack([np.zeros((units, 1)), w])
    np.random.seed(units * (inputs + 1))
    w = np.random.uniform(lo, hi, (units, inputs + 1))
    if bias_column == "zeroed":
        w[:, 0] = 0.0
    return w


def reference(model_path, init_record=None):
    """bptui's computation of the model, as a read trace (first_difference's form, our names)."""
    spec = yaml.safe_load(open(model_path))
    base = os.path.dirname(model_path)
    data = {}
    for key in ("train", "validation"):
        d = np.loadtxt(os.path.join(base, spec["data"][key]["csv"]), delimiter=",", ndmin=2)
        data[key] = (d[:, 1:], d[:, 0].astype(int))
    X, Y = data["train"]
    N, M = X.shape
    layers = [l for l in spec["network"]["layers"] if l["op"] == "linear"]
    separate = layers[0].get("bias") == "separate"
    D, K = layers[0]["units"], layers[1]["units"]
    train = spec["train"]
    lr, epochs = float(train["learning_rate"]), int(train["epochs"])
    adagrad = train.get("optimizer") == "adagrad"
    eps = float(train.get("epsilon", 1e-5))

    params = {}
    for layer, n_in, n_out in ((layers[0], M, D), (layers[1], D, K)):
        w = layer["weights"]
        init = layer["init"]
        if init == "zeros":
            params[w] = np.zeros((n_out, n_in) if separate else (n_out, n_in + 1))
        else:
            lo, hi = init["numpy_uniform"]
            params[w] = numpy_uniform(n_out, n_in, lo, hi, init.get("bias_column", "prepended"), not separate)
        if separate:
            params[w + "_bias"] = np.zeros(n_out)
    if init_record:
        for name, (_, v) in init_record.items():
            params[name] = np.asarray(v, dtype=np.float64).reshape(params[name].shape)
    s = {k: np.zeros_like(v) for k, v in params.items()}

    def forward(x, label, p):
        xb = x if separate else np.concatenate([[1.0], x])
        a = p["alpha"] @ xb + (p["alpha_bias"] if separate else 0.0)
        z = 1.0 / (1.0 + np.exp(-a))
        zb = z if separate else np.concatenate([[1.0], z])
        b = p["beta"] @ zb + (p["beta_bias"] if separate else 0.0)
        e = np.exp(b - b.max())
        y_hat = e / e.sum()
        return xb, a, z, zb, b, y_hat, -np.log(y_hat[label])

    def mean_loss(Xs, Ys, p):
        return sum(forward(x, y, p)[-1] for x, y in zip(Xs, Ys)) / len(Ys)

    examples, metrics = {}, {}
    for e in range(epochs):
        if train.get("shuffle", "none") == "numpy_epoch":
            np.random.seed(e)
            order = np.random.permutation(N)
        else:
            order = np.arange(N)
        for i, row in enumerate(order):
            x, label = X[row], Y[row]
            xb, a, z, zb, b, y_hat, J = forward(x, label, params)
            onehot = np.zeros(K)
            onehot[label] = 1.0
            g = {"J": 1.0, "y_hat": -onehot / y_hat, "b": y_hat - onehot}
            g["beta"] = np.outer(g["b"], zb)
            g["z"] = (params["beta"] if separate else params["beta"][:, 1:]).T @ g["b"]
            g["a"] = g["z"] * z * (1 - z)
            g["alpha"] = np.outer(g["a"], xb)
            if separate:
                g["alpha_bias"], g["beta_bias"] = g["a"], g["b"]
            for name in params:
                if adagrad:
                    s[name] = s[name] + g[name] * g[name]
                    params[name] = params[name] - lr * g[name] / np.sqrt(s[name] + eps)
                else:
                    params[name] = params[name] - lr * g[name]
            examples[(e + 1, i + 1)] = {
                "row": int(row),
                "forward": {k: (k, v) for k, v in dict(x=x, a=a, z=z, b=b, y_hat=y_hat, J=J).items()},
                "adjoints": {k: (k, v) for k, v in g.items()},
                "params": {k: (k, v.copy()) for k, v in params.items()},
            }
        metrics[e + 1] = {"train_loss": mean_loss(X, Y, params),
                          "test_loss": mean_loss(*data["validation"], params)}
    return examples, metrics


def as_ours(theirs, ours):
    """Their array in our shape, undoing the storage conventions of the corpus, or None: unit
    axes, transposes, the bias column (or row) last, a vector with its bias entry 1 (first or
    last), a gradient carrying its bias entry's own adjoint (dJ/d[1; z], first or last). Where
    several fit the shape, the one nearest the reference (they are rearrangements, so a wrong
    number stays wrong under every one)."""
    t = np.asarray(theirs, dtype=np.float64)
    o = np.asarray(ours, dtype=np.float64)
    cands = []
    if t.size == o.size:
        t2 = np.squeeze(t) if o.ndim >= 1 else t.reshape(())
        if o.ndim <= 1:
            cands.append(t2.reshape(o.shape))
        elif o.ndim == 2:
            for m in (t2, t2.T) if t2.ndim == 2 else ():
                if m.shape == o.shape:
                    cands.append(m)
                    cands.append(np.hstack([m[:, -1:], m[:, :-1]]))  # bias column last
    elif o.ndim == 1 and t.size == o.size + 1:
        v = t.reshape(-1)
        cands += [v[1:], v[:-1]]  # a bias entry (1, or its adjoint) first or last
    if not cands:
        return None
    return min(cands, key=lambda c: float(np.max(np.abs(c - o))) if c.size else 0.0)


def compare_to_reference(trace, model, rtol, atol):
    """None, or the first (epoch, example, section, name, detail) where the trace is not bptui's."""
    aliases, _, _ = fd.read_model(model)
    examples, metrics, init = fd.read_trace(trace, aliases)
    ref_ex, ref_met = reference(model, init)
    worst = 0.0
    for key in sorted(examples):
        mine, ref = examples[key], ref_ex[key]
        if mine["row"] is not None and mine["row"] != ref["row"]:
            return key + ("row", "", "row %d, reference %d" % (mine["row"], ref["row"])), worst
        for section in ("forward", "adjoints", "params"):
            for name, (theirs_name, value) in mine[section].items():
                o = np.asarray(ref[section][name][1], dtype=np.float64)
                t = as_ours(value, o)
                if t is None:
                    return key + (section, name, "shape %s vs reference %s" % (np.shape(value), o.shape)), worst
                d = np.abs(t - o)
                bad = d > rtol * np.abs(o) + atol
                scale = np.abs(o) + atol / rtol
                rel = np.divide(d, scale, out=np.zeros_like(d), where=scale > 0)
                worst = max(worst, float(rel.max()) if d.size else 0.0)
                if bad.any():
                    return key + (section, name, "max |diff| %.3g" % d.max()), worst
    for e, m in metrics.items():
        for k in ("train_loss", "test_loss"):
            if abs(m[k] - ref_met[e][k]) > rtol * abs(ref_met[e][k]) + atol:
                return (e, None, "metrics", k, "%r vs %r" % (m[k], ref_met[e][k])), worst
    return None, worst


def metric_lines(path):
    out = []
    for line in open(path):
        k, v = line.rstrip("\n").rsplit(" ", 1)
        out.append((k, float(v)))
    return out


# ---------------------------------------------------------------- the checks

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--only", help="check only this script")
    p.add_argument("--keep", help="write the runs here (default: a temporary directory)")
    p.add_argument("--corpus", default=os.path.join(HERE, "corpus.json"),
                   help="the manifest (default corpus.json; its paths relative to this folder)")
    args = p.parse_args()
    corpus = json.load(open(args.corpus))
    workdir = args.keep or tempfile.mkdtemp(prefix="homework-corpus-")
    os.makedirs(workdir, exist_ok=True)
    runner = Runner(workdir)
    failures = 0

    def report(ok, what):
        nonlocal failures
        failures += not ok
        print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)

    base_runs = {}  # script -> (args, trace) of its correct run
    for entry in corpus["implementations"]:
        script = entry["script"]
        if args.only and script != args.only:
            continue
        model = os.path.join(HERE, entry["model"])
        aliases, nodes, params = fd.read_model(model)
        seeded = "seed:20240917" if entry.get("records_init") or entry.get("mismatch") == "init" else None
        if "mismatch" in entry:
            base = base_runs.get(script)
            if entry["mismatch"] == "init":
                ref_trace = runner.run(script, base_runs[script][0], harness="hw5")[0]
            else:
                ref_trace = base[1]
            trace = runner.run(script, entry["args"], entry.get("extra_args", []))[0]
            d = fd.first_difference(fd.read_trace(ref_trace, aliases), fd.read_trace(trace, aliases), nodes, params)
            got = d and (d["epoch"], d["example"], d["section"], d["node"])
            want = (entry["epoch"], entry["example"], entry["section"], entry["node"])
            report(got == want, "%s mismatch %s %s: first difference %s (manifest %s)%s" % (
                script, entry["mismatch"], " ".join(entry["args"] + entry.get("extra_args", [])), got, want,
                "" if not d else " - %s: %s" % (d["name_a"], d["detail"])))
            continue

        trace, metrics, labels, seconds = runner.run(script, entry["args"], entry.get("extra_args", []))
        base_runs[script] = (entry["args"], trace)
        f32 = entry["float32"]
        rtol, atol = (2e-4, 1e-6) if f32 else (1e-9, 1e-12)
        records = [json.loads(l) for l in open(trace)]
        n_ex = sum(1 for r in records if "forward" in r)
        has_row = any("row" in r for r in records if "forward" in r)
        has_init = any("init" in r for r in records)
        report(n_ex == 600 and has_row == entry["records_row"] and has_init == entry.get("records_init", False),
               "%s runs in %.2fs: %d example records, row %s, init record %s" % (
                   script, seconds, n_ex, has_row, has_init))
        bad, worst = compare_to_reference(trace, model, rtol, atol)
        report(bad is None, "%s agrees with the reference computation of %s (worst relative difference %.2g)%s" % (
            script, entry["model"], worst, "" if bad is None else ": first disagreement %s" % (bad,)))
        if entry.get("hw_numpy_args") is not None:
            hw = runner.run(os.path.join(REPO, "examples", "hw_numpy.py"), entry["args"], entry["hw_numpy_args"])
            mine, theirs = metric_lines(metrics), metric_lines(hw[1])
            tol = 1e-4 if f32 else 1e-9
            diffs = [abs(a[1] - b[1]) / max(abs(b[1]), 1e-300) for a, b in zip(mine, theirs)]
            ok = [a[0] for a in mine] == [b[0] for b in theirs] and max(diffs) <= tol
            report(ok, "%s metrics agree with hw_numpy.py %s (largest relative difference %.2g, tolerance %g)" % (
                script, " ".join(entry["hw_numpy_args"]) or "(file order)", max(diffs), tol))
            same = all(np.loadtxt(a, dtype=int).tolist() == np.loadtxt(b, dtype=int).tolist()
                       for a, b in zip(labels, hw[2]))
            report(same, "%s predicted labels (train, validation) are hw_numpy.py's" % script)
        if entry.get("records_init"):
            # The init record makes the run reproducible for bptui; the reference above started
            # from it. Check too that with the handout's seeding it is hw_numpy's run.
            hw5_trace, hw5_metrics, _, _ = runner.run(script, entry["args"], harness="hw5")
            hw = runner.run(os.path.join(REPO, "examples", "hw_numpy.py"), entry["args"], [])
            mine, theirs = metric_lines(hw5_metrics), metric_lines(hw[1])
            diffs = [abs(a[1] - b[1]) / max(abs(b[1]), 1e-300) for a, b in zip(mine, theirs)]
            report(max(diffs) <= 1e-9, "%s with the handout's seeding: metrics agree with hw_numpy.py (file order) "
                   "(largest relative difference %.2g)" % (script, max(diffs)))
            trace = runner.run(script, entry["args"], harness=seeded)[0]
        for b in entry["bugs"]:
            buggy = runner.run(script, entry["args"], entry.get("extra_args", []), bug=b["bug"], harness=seeded)[0]
            d = fd.first_difference(fd.read_trace(trace, aliases), fd.read_trace(buggy, aliases), nodes, params)
            got = d and (d["epoch"], d["example"], d["section"], d["node"])
            want = tuple(b.get("recorded_at") or (b["epoch"], b["example"], b["section"], b["node"]))
            report(got == want, "%s --bug %s: first difference %s (manifest %s)%s" % (
                script, b["bug"], got, want, "" if not d else " - %s: %s" % (d["name_a"], d["detail"])))
    print("%d failure(s); runs in %s" % (failures, workdir))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
