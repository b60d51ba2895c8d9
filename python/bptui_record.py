"""bptui's recorder: runs a student's program as it is and streams every number it binds to bptui.

    python3 bptui_record.py SCRIPT ARGS...          (bptui runs this; nothing to copy or change)

It runs SCRIPT as `python3 SCRIPT ARGS...` would (same sys.argv, working directory, __main__)
and watches the student's own files only: SCRIPT's folder and below, never numpy, the standard
library, site-packages or bptui_trace.py. Every value bound there that is a number, a numeric
numpy array (np.matrix too) or a list of numbers is sent with the place that bound it:

- assignments: names, attributes (`self.W1`), subscripts with a constant key (`cache["z"]`),
  tuple unpacking, `for` targets; augmented and slice assignment (`W -= lr * g`,
  `W[:, 1:] = ...`) and a subscript with a variable key send the whole array they change;
- a function's arguments when it is called and the value it returns;
- a pure-Python loop over numbers (no numpy, no call to a longer function of the student's: the
  `for j in range(D): s += w[j] * x[j]` of a list implementation) sends what it assigned once,
  when it ends, instead of at every element.

A value is sent after its statement has run: at the next line the frame runs, or when it
returns. Python 3.12 and later are watched with sys.monitoring, older ones with sys.settrace
(BPTUI_RECORD_TRACER=settrace picks the latter anywhere). Standard library and numpy only;
Python 3.8 to 3.13.

The stream goes to the file descriptor that was the program's standard output (bptui reads it
from a pipe); the program's own standard output is sent to its standard error. Each message is
one tag byte, a little-endian u32 length, then the payload:

    S  JSON {"site", "file", "line", "text", "target", "kind"}   a place, before its first value
    V  u32 site, u8 dtype (0 f64, 1 f32, 2 i64), u8 ndim, ndim u32 dims, the numbers (C order)
    T  the tracer used: "sys.monitoring" or "sys.settrace"
    X  JSON {"code", "traceback"}                                the program ended
"""

import ast
import json
import os
import struct
import sys
import traceback

try:
    import numpy as np
except ImportError:  # the program may not use numpy; lists and numbers are still sent
    np = None

_MAX_ELEMENTS = 1 << 22
_SMALL_CALLS = {"range", "len", "float", "int", "abs", "min", "max", "sum", "zip", "enumerate", "round",
                "append", "extend", "insert", "exp", "log", "sqrt", "tanh", "pow", "isinstance", "list"}
_MUTATORS = {"append", "extend", "insert"}
# A comprehension's values are the statement's that holds it: its own frame is not watched.
_HIDDEN = {"<listcomp>", "<genexpr>", "<setcomp>", "<dictcomp>", "<lambda>"}


class _Out:
    def __init__(self, fd):
        self.file = os.fdopen(fd, "wb", buffering=1 << 16)
        self.broken = False

    def send(self, tag, payload):
        if self.broken:
            return
        try:
            self.file.write(tag + struct.pack("<I", len(payload)) + payload)
        except (BrokenPipeError, OSError):
            # bptui has what it needs and stopped reading: the program is stopped now.
            self.broken = True
            os._exit(0)

    def close(self):
        try:
            self.file.flush()
        except (BrokenPipeError, OSError):
            pass


_out = None


class _Target:
    """One place a statement binds: its text and the code that reads the value back."""

    __slots__ = ("text", "code", "site")

    def __init__(self, text, code):
        self.text = text
        self.code = code
        self.site = None


class _Statement:
    """A statement that binds numbers: the lines it spans and what it binds."""

    __slots__ = ("lo", "hi", "targets", "line", "text", "file")

    def __init__(self, lo, hi, targets, line, text, file):
        self.lo, self.hi, self.targets, self.line, self.text, self.file = lo, hi, targets, line, text, file


def _segment(source, node):
    text = ast.get_source_segment(source, node)
    return " ".join(text.split()) if text else None


def _read_back(source, node, file):
    """The expression that reads what `node` (a target) binds, or the array a subscript with a
    variable key changes (its root)."""
    if isinstance(node, (ast.Tuple, ast.List)):
        out = []
        for e in node.elts:
            out.extend(_read_back(source, e, file))
        return out
    if isinstance(node, ast.Starred):
        return _read_back(source, node.value, file)
    # `W[:, 1:] = ...`, `params["W1"][0, :] = 0`: the array changed, down to the first base that
    # is a name, an attribute or a constant-key subscript.
    while isinstance(node, ast.Subscript) and not _constant_key(node):
        node = node.value
    if not isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
        return []
    text = _segment(source, node)
    if text is None:
        return []
    try:
        return [_Target(text, compile("(" + text + ")", file, "eval"))]
    except SyntaxError:
        return []


def _constant_key(node):
    key = node.slice
    if sys.version_info < (3, 9) and isinstance(key, ast.Index):
        key = key.value
    if isinstance(key, ast.Constant):
        return True
    if isinstance(key, ast.Tuple):
        return all(isinstance(e, ast.Constant) for e in key.elts)
    return False


def _long_functions(trees):
    """Names of the student's functions with more than one statement: a loop calling one is a
    training loop, not an elementwise one."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
                if len(body) > 1 or (body and not isinstance(body[0], ast.Return)):
                    names.add(node.name)
    return names


def _is_kernel(loop, long_functions):
    """A pure-Python loop over numbers: no numpy, no `@`, no call of a longer function."""
    for node in ast.walk(loop):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            return False
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Lambda, ast.Return, ast.Yield)):
            return False
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute):
                root = f
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in ("np", "numpy"):
                    return False
                name = f.attr
            elif isinstance(f, ast.Name):
                name = f.id
            else:
                return False
            if name in long_functions or (name not in _SMALL_CALLS and name[:1].isupper()):
                return False
    return True


class _File:
    """A student file: line → the statement that starts its binding there."""

    def __init__(self, path, source, tree, long_functions):
        self.path = path
        self.lines = source.splitlines()
        self.at = {}
        self._walk(source, tree.body, long_functions)

    def _text(self, line):
        return self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""

    def _add(self, stmt, lo, hi, targets):
        if not targets:
            return
        s = _Statement(lo, hi, targets, stmt.lineno, self._text(stmt.lineno), self.path)
        for line in range(lo, hi + 1):
            self.at.setdefault(line, s)

    def _walk(self, source, body, long_functions):
        for stmt in body:
            if isinstance(stmt, (ast.For, ast.While)) and _is_kernel(stmt, long_functions):
                targets, seen = [], set()
                for node in ast.walk(stmt):
                    found = []
                    if isinstance(node, ast.Assign):
                        for t in node.targets:
                            found.extend(_read_back(source, t, self.path))
                    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                        found.extend(_read_back(source, node.target, self.path))
                    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                          and node.func.attr in _MUTATORS):
                        found.extend(_read_back(source, node.func.value, self.path))
                    for t in found:
                        if t.text not in seen:
                            seen.add(t.text)
                            targets.append(t)
                self._add(stmt, stmt.lineno, stmt.end_lineno, targets)
                continue
            if isinstance(stmt, ast.Assign):
                targets = []
                for t in stmt.targets:
                    targets.extend(_read_back(source, t, self.path))
                self._add(stmt, stmt.lineno, stmt.end_lineno, targets)
            elif isinstance(stmt, ast.AugAssign) or (isinstance(stmt, ast.AnnAssign) and stmt.value is not None):
                self._add(stmt, stmt.lineno, stmt.end_lineno, _read_back(source, stmt.target, self.path))
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                f = stmt.value.func
                if isinstance(f, ast.Attribute) and f.attr in _MUTATORS:
                    self._add(stmt, stmt.lineno, stmt.end_lineno, _read_back(source, f.value, self.path))
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                self._add(stmt, stmt.lineno, stmt.iter.end_lineno, _read_back(source, stmt.target, self.path))
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                targets = []
                for item in stmt.items:
                    if item.optional_vars is not None:
                        targets.extend(_read_back(source, item.optional_vars, self.path))
                self._add(stmt, stmt.lineno, stmt.items[-1].context_expr.end_lineno, targets)
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(stmt, field, None)
                if inner:
                    self._walk(source, [s for s in inner if isinstance(s, ast.AST)], long_functions)


class _Recorder:
    def __init__(self, root, skip):
        self.root = os.path.normcase(os.path.realpath(root)) + os.sep
        self.skip = skip
        self.files = {}
        self.sites = {}
        self.long_functions = set()
        self.trees = {}
        self._load_all()

    def _student(self, path):
        real = os.path.normcase(os.path.realpath(path))
        if not real.startswith(self.root) or not real.endswith(".py") or real in self.skip:
            return False
        rel = real[len(self.root):]
        parts = rel.split(os.sep)
        if any(p.startswith(".") or p in ("site-packages", "dist-packages", "__pycache__") for p in parts):
            return False
        return os.path.basename(real) != "bptui_trace.py"

    def _load_all(self):
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("site-packages", "__pycache__")]
            for name in names:
                path = os.path.join(folder, name)
                if self._student(path):
                    try:
                        with open(path, encoding="utf-8") as f:
                            source = f.read()
                        self.trees[os.path.normcase(os.path.realpath(path))] = (source, ast.parse(source, path))
                    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                        pass
            if len(self.trees) > 200:
                break
        self.long_functions = _long_functions([t for _, t in self.trees.values()])

    def file(self, filename):
        """The student's file of this code object, or None."""
        try:
            return self.files[filename]
        except KeyError:
            pass
        info = None
        if self._student(filename):
            real = os.path.normcase(os.path.realpath(filename))
            parsed = self.trees.get(real)
            if parsed is None:
                try:
                    with open(filename, encoding="utf-8") as f:
                        source = f.read()
                    parsed = (source, ast.parse(source, filename))
                except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                    parsed = None
            if parsed is not None:
                info = _File(filename, parsed[0], parsed[1], self.long_functions)
        self.files[filename] = info
        return info

    def site(self, file, line, text, target, kind):
        key = (file, line, target, kind)
        site = self.sites.get(key)
        if site is None:
            site = len(self.sites)
            self.sites[key] = site
            _out.send(b"S", json.dumps({"site": site, "file": file, "line": line, "text": text,
                                         "target": target, "kind": kind}).encode())
        return site

    def emit(self, frame, statement):
        for t in statement.targets:
            try:
                value = eval(t.code, frame.f_globals, frame.f_locals)
            except Exception:
                continue
            packed = _pack(value)
            if packed is None:
                continue
            if t.site is None:
                t.site = self.site(statement.file, statement.line, statement.text, t.text, "assign")
            _out.send(b"V", struct.pack("<I", t.site) + packed)

    def arguments(self, frame, info):
        code = frame.f_code
        count = code.co_argcount + code.co_kwonlyargcount
        line = code.co_firstlineno
        text = info._text(line)
        f_locals = frame.f_locals
        for name in code.co_varnames[:count]:
            if name == "self" or name not in f_locals:
                continue
            packed = _pack(f_locals[name])
            if packed is not None:
                site = self.site(info.path, line, text, name, "argument")
                _out.send(b"V", struct.pack("<I", site) + packed)

    def returned(self, frame, info, value):
        values = value if isinstance(value, tuple) else (value,)
        line = frame.f_lineno
        text = info._text(line)
        for i, v in enumerate(values):
            packed = _pack(v)
            if packed is not None:
                target = "return" if len(values) == 1 else "return[%d]" % i
                site = self.site(info.path, line, text, target, "return")
                _out.send(b"V", struct.pack("<I", site) + packed)


def _pack(value):
    """dtype, shape and numbers of a numeric value, or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return struct.pack("<BB", 0, 0) + struct.pack("<d", value)
    if isinstance(value, int):
        if -(1 << 62) < value < (1 << 62):
            return struct.pack("<BB", 2, 0) + struct.pack("<q", value)
        return None
    if np is None:
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return struct.pack("<BBI", 0, 1, len(value)) + struct.pack("<%dd" % len(value), *value)
        return None
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.asarray(value)
    elif isinstance(value, (list, tuple)):
        if not value or len(value) > _MAX_ELEMENTS:
            return None
        first = value[0]
        if isinstance(first, (str, bytes, dict, bool)) or first is None:
            return None
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            return None
    else:
        return None
    kind = array.dtype.kind
    if kind not in "fiu" or array.size > _MAX_ELEMENTS or array.ndim > 8:
        return None
    if array.dtype == np.float32:
        code, data = 1, np.ascontiguousarray(array, dtype="<f4")
    elif kind == "f":
        code, data = 0, np.ascontiguousarray(array, dtype="<f8")
    else:
        code, data = 2, np.ascontiguousarray(array, dtype="<i8")
    return struct.pack("<BB", code, array.ndim) + struct.pack("<%dI" % array.ndim, *array.shape) + data.tobytes()


class _FrameTracer:
    """sys.settrace's local tracer of one student frame: sends a statement's values when the
    frame moves past it."""

    __slots__ = ("recorder", "info", "pending")

    def __init__(self, recorder, info):
        self.recorder = recorder
        self.info = info
        self.pending = None

    def __call__(self, frame, event, arg):
        if event == "line":
            line = frame.f_lineno
            p = self.pending
            if p is not None and not (p.lo <= line <= p.hi):
                self.pending = None
                self.recorder.emit(frame, p)
                p = None
            if p is None:
                self.pending = self.info.at.get(line)
        elif event == "return":
            p = self.pending
            if p is not None:
                self.pending = None
                self.recorder.emit(frame, p)
            self.recorder.returned(frame, self.info, arg)
        return self


def _use_settrace(recorder):
    def call(frame, event, arg):
        if event != "call" or frame.f_code.co_name in _HIDDEN:
            return None
        info = recorder.file(frame.f_code.co_filename)
        if info is None:
            return None
        recorder.arguments(frame, info)
        return _FrameTracer(recorder, info)

    sys.settrace(call)
    return "sys.settrace"


def _use_monitoring(recorder):
    mon = sys.monitoring
    tool = next((i for i in range(6) if mon.get_tool(i) is None), None)
    if tool is None:
        return None
    mon.use_tool_id(tool, "bptui")
    events = mon.events
    pending = {}
    disable = mon.DISABLE

    def start(code, offset):
        info = None if code.co_name in _HIDDEN else recorder.file(code.co_filename)
        if info is None:
            return disable
        frame = sys._getframe(1)
        recorder.arguments(frame, info)
        mon.set_local_events(tool, code, events.LINE | events.PY_RETURN)
        return None

    def line(code, number):
        info = recorder.file(code.co_filename)
        if info is None:
            return disable
        frame = sys._getframe(1)
        key = id(frame)
        p = pending.get(key)
        if p is not None and not (p.lo <= number <= p.hi):
            del pending[key]
            recorder.emit(frame, p)
            p = None
        if p is None:
            s = info.at.get(number)
            if s is not None:
                pending[key] = s
        return None

    def returned(code, offset, value):
        info = recorder.file(code.co_filename)
        if info is None:
            return None
        frame = sys._getframe(1)
        p = pending.pop(id(frame), None)
        if p is not None:
            recorder.emit(frame, p)
        recorder.returned(frame, info, value)
        return None

    mon.register_callback(tool, events.PY_START, start)
    mon.register_callback(tool, events.LINE, line)
    mon.register_callback(tool, events.PY_RETURN, returned)
    mon.set_events(tool, events.PY_START)
    return "sys.monitoring"


def main():
    global _out
    if len(sys.argv) < 2:
        sys.stderr.write("usage: python3 bptui_record.py SCRIPT [ARGS...]\n")
        return 2
    _out = _Out(os.dup(1))
    os.dup2(2, 1)
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    here = os.path.normcase(os.path.realpath(__file__))
    recorder = _Recorder(os.path.dirname(os.path.abspath(script)), {here})
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    use = None
    if hasattr(sys, "monitoring") and os.environ.get("BPTUI_RECORD_TRACER") != "settrace":
        use = _use_monitoring(recorder)
    if use is None:
        use = _use_settrace(recorder)
    _out.send(b"T", use.encode())
    code, tb = 0, None
    import runpy

    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            sys.stderr.write(str(e.code) + "\n")
            code = 1
    except BaseException as e:  # noqa: B902 -- the program's crash, reported to bptui
        sys.settrace(None)
        code = 130 if isinstance(e, KeyboardInterrupt) else 1
        lines = traceback.format_exception(type(e), e, e.__traceback__)
        # The recorder's own frames are not the student's.
        lines = [l for l in lines if __file__ not in l and "runpy" not in l]
        tb = "".join(lines)
        sys.stderr.write(tb)
    sys.settrace(None)
    if hasattr(sys, "monitoring"):
        for i in range(6):
            if sys.monitoring.get_tool(i) == "bptui":
                sys.monitoring.set_events(i, 0)
    try:
        sys.stdout.flush()
    except Exception:
        pass
    _out.send(b"X", json.dumps({"code": code, "traceback": tb}).encode())
    _out.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
