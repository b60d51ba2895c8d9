"""Record your network's numbers per example and write them in bptui's trace format.

Standard library and numpy only. Usage, inside your training loop:

    from bptui_trace import Trace
    trace = Trace("mine.jsonl")                 # or "mine.npz"; records go to the file as they come
    trace.init(alpha=alpha, beta=beta)          # your initial weights, before any update (optional)
    ...
    trace.example(epoch, i, row=row)            # epoch and i count from 1; row is the data row (from 0)
    trace.forward(x=x, a=a, z=z, b=b, y_hat=y_hat, J=J)
    trace.adjoints(b=g_b, beta=g_beta, z=g_z, a=g_a, alpha=g_alpha)
    trace.params(alpha=alpha, beta=beta)        # after the update
    ...
    trace.metrics(epoch, train_loss=..., test_loss=...)
    trace.close()                               # the file appears complete, or not at all

then `bptui diff models/hw_network.yaml mine.jsonl`. Record any subset you like: what is
absent is not compared. Use bptui's names, or map yours with `--alias yours=bptui`. Arrays of any
shape that hold the numbers in bptui's order are fine: column vectors, row vectors, np.matrix,
float32. `Trace()` without a path keeps the records in memory until `trace.save(path)`.
"""

import io
import json
import os
import tempfile
import zipfile

import numpy as np


def _array(value):
    """The numbers as a numpy array of their own precision (float32 stays float32)."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise TypeError("expected numbers, got %r" % (array.dtype,))
    if array.dtype == np.float32:
        return array
    return array.astype(np.float64)


def _plain(array):
    """A number or nested list of Python floats (exact: repr round-trips; float32 exactly too)."""
    array = np.asarray(array, dtype=np.float64)
    return array.tolist() if array.ndim else float(array)


class _JsonLines:
    def __init__(self, file):
        self.file = io.TextIOWrapper(file, encoding="utf-8")

    def write(self, record):
        out = {}
        for key, value in record.items():
            if isinstance(value, dict) and key != "metrics":
                out[key] = {name: _plain(a) for name, a in value.items()}
            else:
                out[key] = value
        self.file.write(json.dumps(out) + "\n")

    def close(self):
        self.file.flush()
        self.file.detach()


class _Npz:
    def __init__(self, file):
        self.zip = zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True)

    def _put(self, key, array):
        with self.zip.open(key + ".npy", "w", force_zip64=True) as f:
            np.lib.format.write_array(f, np.asarray(array), allow_pickle=False)

    def write(self, record):
        if "init" in record:
            for name, a in record["init"].items():
                self._put("init/%s" % name, a)
            return
        if "metrics" in record:
            for k, v in record["metrics"].items():
                self._put("e%d/metrics/%s" % (record["epoch"], k), np.float64(v))
            return
        prefix = "e%d/x%d" % (record["epoch"], record["example"])
        if "row" in record:
            self._put(prefix + "/row", np.int64(record["row"]))
        for section in ("forward", "adjoints", "params"):
            for name, a in record.get(section, {}).items():
                self._put("%s/%s/%s" % (prefix, section, name), a)

    def close(self):
        self.zip.close()


class Trace:
    """Records one run. With a path, each record is written as soon as it is complete, so memory
    stays constant; the file is renamed into place by `close()` (or `save()`)."""

    def __init__(self, path=None):
        self.records = []
        self._current = None
        self._writer = None
        self._path = None
        if path is not None:
            self._open(path)

    def _open(self, path):
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        fd, self._tmp = tempfile.mkstemp(prefix=".bptui-trace-", dir=folder)
        # mkstemp makes the file private; the trace gets the permissions a new file would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._tmp, 0o666 & ~umask)
        file = os.fdopen(fd, "wb")
        self._path = path
        self._file = file
        self._writer = _Npz(file) if path.lower().endswith(".npz") else _JsonLines(file)

    def _emit(self, record):
        if self._writer is not None:
            self._writer.write(record)
        else:
            self.records.append(record)

    def _flush_current(self):
        if self._current is not None:
            self._emit(self._current)
            self._current = None

    def init(self, **arrays):
        """Your parameters before any update, in your own names and layout (alpha=..., beta=...).
        bptui then starts from these values instead of the model's `init:`."""
        self._flush_current()
        self._emit({"init": {name: _array(v).copy() for name, v in arrays.items()}})

    def example(self, epoch, example, row=None):
        """Starts the record of one training example (epoch and example count from 1)."""
        self._flush_current()
        self._current = {"epoch": int(epoch), "example": int(example)}
        if row is not None:
            self._current["row"] = int(row)

    def _section(self, key, arrays):
        if self._current is None:
            raise RuntimeError("call trace.example(epoch, example) first")
        section = self._current.setdefault(key, {})
        for name, value in arrays.items():
            # A copy: in-place updates after this call must not change what was recorded.
            section[name] = _array(value).copy()

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
        self._flush_current()
        self._emit({"epoch": int(epoch), "metrics": {k: float(v) for k, v in values.items()}})

    def close(self):
        """Finishes the file given to `Trace(path)`."""
        self._flush_current()
        if self._writer is None:
            return
        try:
            self._writer.close()
            self._file.close()
            os.replace(self._tmp, self._path)
        except BaseException:
            os.unlink(self._tmp)
            raise
        finally:
            self._writer = None

    def save(self, path=None):
        """Writes JSON Lines (any name) or .npz (a name ending in .npz); with `Trace(path)`,
        the same as `close()`."""
        self._flush_current()
        if self._writer is not None or path is None:
            self.close()
            return
        records, self.records = self.records, []
        self._open(path)
        for r in records:
            self._emit(r)
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.close()
        elif self._writer is not None:
            self._file.close()
            os.unlink(self._tmp)
            self._writer = None
