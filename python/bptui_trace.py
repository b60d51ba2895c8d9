"""Record your network's numbers per example and write them in bptui's trace format.

Standard library and numpy only. Usage, inside your training loop:

    from bptui_trace import Trace
    trace = Trace()
    ...
    trace.example(epoch, i, row=row)            # epoch and i count from 1; row is the data row (from 0)
    trace.forward(x=x, a=a, z=z, b=b, y_hat=y_hat, J=J)
    trace.adjoints(b=g_b, beta=g_beta, z=g_z, a=g_a, alpha=g_alpha)
    trace.params(alpha=alpha, beta=beta)        # after the update
    ...
    trace.metrics(epoch, train_loss=..., test_loss=...)
    trace.save("mine.jsonl")                    # or "mine.npz"

then `bptui diff models/hw_network.yaml mine.jsonl`. Record any subset you like: what is
absent is not compared. Use bptui's names, or map yours with `--alias yours=bptui`.
"""

import json

import numpy as np


def _plain(value):
    """A number or nested list of Python floats (exact: repr round-trips)."""
    array = np.asarray(value, dtype=np.float64)
    return array.tolist() if array.ndim else float(array)


class Trace:
    """Collects records in memory; `save` writes them all at once."""

    def __init__(self):
        self.records = []
        self._current = None

    def example(self, epoch, example, row=None):
        """Starts the record of one training example (epoch and example count from 1)."""
        self._current = {"epoch": int(epoch), "example": int(example)}
        if row is not None:
            self._current["row"] = int(row)
        self.records.append(self._current)

    def _section(self, key, arrays):
        if self._current is None:
            raise RuntimeError("call trace.example(epoch, example) first")
        section = self._current.setdefault(key, {})
        for name, value in arrays.items():
            section[name] = _plain(value)

    def forward(self, **arrays):
        """Node values of this example, computed before its update."""
        self._section("forward", arrays)

    def adjoints(self, **arrays):
        """dJ/d(name) of this example, each in the shape of its node (denominator layout)."""
        self._section("adjoints", arrays)

    def params(self, **arrays):
        """Parameter values after this example's update."""
        self._section("params", arrays)

    def metrics(self, epoch, **values):
        """An epoch's metrics: train_loss, train_error, test_loss, test_error."""
        self.records.append({"epoch": int(epoch), "metrics": {k: float(v) for k, v in values.items()}})
        self._current = None

    def save(self, path):
        """Writes JSON Lines (any name) or .npz (a name ending in .npz)."""
        if str(path).endswith(".npz"):
            arrays = {}
            for r in self.records:
                if "metrics" in r:
                    for k, v in r["metrics"].items():
                        arrays["e%d/metrics/%s" % (r["epoch"], k)] = np.float64(v)
                    continue
                prefix = "e%d/x%d" % (r["epoch"], r["example"])
                if "row" in r:
                    arrays[prefix + "/row"] = np.int64(r["row"])
                for section in ("forward", "adjoints", "params"):
                    for name, value in r.get(section, {}).items():
                        arrays["%s/%s/%s" % (prefix, section, name)] = np.asarray(value, dtype=np.float64)
            np.savez(path, **arrays)
        else:
            with open(path, "w") as f:
                for r in self.records:
                    f.write(json.dumps(r) + "\n")
