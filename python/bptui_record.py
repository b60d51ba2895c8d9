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

Once bptui knows which places it needs (it has matched the first examples' values to its nodes),
it writes their site numbers to the file BPTUI_RECORD_KEEP names, as JSON {"keep": [...]}; from
then on only those places are sent, and a function with none of them is no longer watched. So
the program runs at nearly its own speed for the rest of its run.

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

    def value(self, site, packed):
        """A V message: the site, then `_pack`'s header and numbers, written as they are (an
        array's buffer is not copied)."""
        if self.broken:
            return
        head, data = packed
        try:
            self.file.write(struct.pack("<cII", b"V", 4 + len(head) + data.nbytes, site) + head)
            self.file.write(data)
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

    __slots__ = ("text", "code", "site", "muted", "name")

    def __init__(self, text, code):
        self.text = text
        self.code = code
        self.site = None
        # A plain name is read from the frame's variables, not evaluated.
        self.name = text if text.isidentifier() else None
        # Not needed by bptui any more (its keep-list does not name this place).
        self.muted = False


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
        # A function's first line (its `def`, or its first decorator's) → its last line.
        self.functions = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                self.functions[first] = node.end_lineno
                self.functions[node.lineno] = node.end_lineno
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
    def __init__(self, root, skip, script):
        self.root = os.path.normcase(os.path.realpath(root)) + os.sep
        self.skip = skip
        self.files = {}
        self.sites = {}
        self.long_functions = set()
        self.trees = {}
        self._load_all(script)
        # bptui's keep-list: None until bptui writes it, then the site numbers it needs and the
        # lines of the student's files they are on.
        self.keep_path = os.environ.get("BPTUI_RECORD_KEEP")
        self.keep = None
        self.kept_lines = {}
        self.sends = 0

    def _student(self, path):
        real = os.path.normcase(os.path.realpath(path))
        if not real.startswith(self.root) or not real.endswith(".py") or real in self.skip:
            return False
        rel = real[len(self.root):]
        parts = rel.split(os.sep)
        if any(p.startswith(".") or p in ("site-packages", "dist-packages", "__pycache__") for p in parts):
            return False
        return os.path.basename(real) != "bptui_trace.py"

    def _load_all(self, script):
        """Parses the script and the student's modules it imports (transitively): the functions
        they define tell a training loop from an elementwise one. Other files of the folder
        are parsed when they run."""
        todo = [os.path.realpath(script)]
        while todo and len(self.trees) < 200:
            path = todo.pop()
            real = os.path.normcase(path)
            if real in self.trees or not self._student(path):
                continue
            try:
                with open(path, encoding="utf-8") as f:
                    source = f.read()
                tree = ast.parse(source, path)
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                continue
            self.trees[real] = (source, tree)
            here = os.path.dirname(path)
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    names = [base] if base else []
                    names += [(base + "." if base else "") + a.name for a in node.names]
                for name in names:
                    parts = name.split(".")
                    for folder in (here, self.root):
                        stem = os.path.join(folder, *parts)
                        todo.extend(c for c in (stem + ".py", os.path.join(stem, "__init__.py")) if os.path.isfile(c))
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

    def poll(self):
        """Reads bptui's keep-list when it is there (looked for every few hundred values)."""
        self.sends += 1
        if self.keep is not None or self.keep_path is None or self.sends % 256:
            return
        try:
            with open(self.keep_path, encoding="utf-8") as f:
                keep = set(json.load(f)["keep"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        self.keep = keep
        lines = {}
        for (file, line, _target, _kind), site in self.sites.items():
            if site in keep:
                lines.setdefault(file, set()).add(line)
        self.kept_lines = lines
        for info in self.files.values():
            if info is None:
                continue
            for statement in info.at.values():
                for t in statement.targets:
                    t.muted = t.site not in keep

    def needed(self, info, code):
        """Whether a function still binds a place bptui keeps (before the keep-list: all do)."""
        if self.keep is None:
            return True
        lines = self.kept_lines.get(info.path)
        if not lines:
            return False
        first = code.co_firstlineno
        last = info.functions.get(first)
        if last is None:  # the module's own code, or one the parser did not see
            return True
        return any(first <= line <= last for line in lines)

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
        names = None
        for t in statement.targets:
            if t.muted:
                continue
            if names is None:
                # Read once per statement: on Python 3.11 and older each read of f_locals
                # copies every local variable of the frame.
                names = frame.f_locals
            try:
                if t.name is not None and t.name in names:
                    value = names[t.name]
                else:
                    value = eval(t.code, frame.f_globals, names)
            except Exception:
                continue
            packed = _pack(value)
            if packed is None:
                continue
            if t.site is None:
                t.site = self.site(statement.file, statement.line, statement.text, t.text, "assign")
                if self.keep is not None and t.site not in self.keep:
                    t.muted = True
                    continue
            _out.value(t.site, packed)
            self.poll()

    def arguments(self, frame, info):
        code = frame.f_code
        count = code.co_argcount + code.co_kwonlyargcount
        line = code.co_firstlineno
        text = info._text(line)
        f_locals = frame.f_locals
        for name in code.co_varnames[:count]:
            if name == "self" or name not in f_locals:
                continue
            if self.keep is not None:
                site = self.sites.get((info.path, line, name, "argument"))
                if site not in self.keep:
                    continue
            packed = _pack(f_locals[name])
            if packed is not None:
                site = self.site(info.path, line, text, name, "argument")
                _out.value(site, packed)
                self.poll()

    def returned(self, frame, info, value):
        values = value if isinstance(value, tuple) else (value,)
        line = frame.f_lineno
        text = info._text(line)
        for i, v in enumerate(values):
            target = "return" if len(values) == 1 else "return[%d]" % i
            if self.keep is not None and self.sites.get((info.path, line, target, "return")) not in self.keep:
                continue
            packed = _pack(v)
            if packed is not None:
                site = self.site(info.path, line, text, target, "return")
                _out.value(site, packed)
                self.poll()


def _pack(value):
    """(header, numbers) of a numeric value, or None: the header is its dtype code, ndim and
    shape; the numbers a buffer (C order)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return _SCALAR_F64, memoryview(struct.pack("<d", value))
    if isinstance(value, int):
        if -(1 << 62) < value < (1 << 62):
            return _SCALAR_I64, memoryview(struct.pack("<q", value))
        return None
    if np is None:
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return struct.pack("<BBI", 0, 1, len(value)), memoryview(struct.pack("<%dd" % len(value), *value))
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
    dtype = array.dtype
    kind = dtype.kind
    if kind not in "fiu" or array.size > _MAX_ELEMENTS or array.ndim > 8:
        return None
    if dtype == _F64:
        code = 0
    elif dtype == _F32:
        code = 1
    else:
        code = 0 if kind == "f" else 2
    target = (_F64, _F32, _I64)[code]
    if dtype != target or not array.flags.c_contiguous:
        array = np.ascontiguousarray(array, dtype=target)
    head = struct.pack("<BB%dI" % array.ndim, code, array.ndim, *array.shape)
    # A C-contiguous array's buffer is written as it is; np.matrix and 0-d arrays too.
    return head, memoryview(array.reshape(-1)).cast("B")


if np is not None:
    _F64, _F32, _I64 = np.dtype("<f8"), np.dtype("<f4"), np.dtype("<i8")
_SCALAR_F64 = struct.pack("<BB", 0, 0)
_SCALAR_I64 = struct.pack("<BB", 2, 0)


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
    # Every call of the process comes here (numpy's own Python functions too): a code object
    # seen once is answered from `skip` without looking at its file again.
    skip = set()
    file = recorder.file
    needed = recorder.needed
    hidden = _HIDDEN

    def call(frame, event, arg):
        code = frame.f_code
        if code in skip or event != "call":
            return None
        info = None if code.co_name in hidden else file(code.co_filename)
        if info is None:
            skip.add(code)
            return None
        if not needed(info, code):
            if recorder.keep is not None:
                skip.add(code)
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
        if not recorder.needed(info, code):
            # Watched no more: this function binds nothing bptui keeps.
            mon.set_local_events(tool, code, 0)
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
    recorder = _Recorder(os.path.dirname(os.path.abspath(script)), {here}, script)
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
