"""The first recorded number where two bptui traces differ, in bptui's execution order.

    python3 first_difference.py A.jsonl B.jsonl [--model MODEL.yaml] [--model-a M] [--model-b M]
        [--alias THEIRS=OURS ...] [--rtol 1e-9] [--atol 0] [--json]

Reads two traces in JSON Lines (as python/bptui_trace.py writes them), renames each trace's names
to bptui's with the aliases of its model file (--model for both, or --model-a / --model-b, plus
--alias for both), and walks them in the order bptui compares: the init record, then every
example (epoch, then example, from 1): its data row, its forward values in topological order
(x, a, z, b, y_hat, J), its adjoints in backward order (J, y_hat, b, beta, z, a, alpha), its
parameters after the update (alpha, beta); after the last example of an epoch, that epoch's
metrics. Names recorded in only one trace are not compared. Two values differ when their sizes
differ or some element has |a - b| > rtol * max(|a|, |b|) + atol (arrays are compared in their
own element order: both traces come from the same code, so they share a layout).

Prints `epoch E, example I, SECTION NODE` (NODE in bptui's name; SECTION forward, adjoints,
params, row, metrics or init) or `no difference`; with --json one JSON object
({"epoch", "example", "section", "node", "name_a", "name_b", "detail"}, or {} when none).
Exit 0 when the traces agree, 1 at a difference, 2 on bad input. Standard library and numpy;
PyYAML is used for the model file when installed, else the model's `aliases:` and `layers:` lines
are read as YAML flow mappings by a small parser.
"""

import argparse
import json
import math
import re
import sys

# The homework network's nodes in bptui's graph order (a model file refines this).
DEFAULT_NODES = ["x", "alpha", "a", "z", "beta", "b", "y_hat", "J"]
DEFAULT_PARAMS = ["alpha", "beta"]


def _flow_mapping(text):
    """A one-line YAML flow mapping {k: v, k2: {..}, k3: [..]} of plain scalars, as strings."""
    text = text.strip()
    pos = 0

    def skip():
        nonlocal pos
        while pos < len(text) and text[pos] in " \t":
            pos += 1

    def scalar():
        nonlocal pos
        skip()
        if text[pos] in "'\"":
            q = text[pos]
            end = text.index(q, pos + 1)
            out, pos = text[pos + 1:end], end + 1
            return out
        m = re.compile(r"[^,:{}\[\]]+").match(text, pos)
        pos = m.end()
        return m.group(0).strip()

    def value():
        nonlocal pos
        skip()
        if text[pos] == "{":
            return mapping()
        if text[pos] == "[":
            pos += 1
            items = []
            while True:
                skip()
                if text[pos] == "]":
                    pos += 1
                    return items
                items.append(value())
                skip()
                if text[pos] == ",":
                    pos += 1
        return scalar()

    def mapping():
        nonlocal pos
        assert text[pos] == "{"
        pos += 1
        out = {}
        while True:
            skip()
            if text[pos] == "}":
                pos += 1
                return out
            k = scalar()
            skip()
            assert text[pos] == ":", text
            pos += 1
            out[k] = value()
            skip()
            if text[pos] == ",":
                pos += 1

    return mapping()


def read_model(path):
    """(aliases, graph node order, parameter order) of a bptui model file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        import yaml  # noqa: PLC0415

        spec = yaml.safe_load(text)
        aliases = {str(k): str(v) for k, v in (spec.get("aliases") or {}).items()}
        layers = (spec.get("network") or {}).get("layers")
        loss = ((spec.get("network") or {}).get("loss") or {}).get("name", "J")
    except ImportError:
        aliases, layers, loss = {}, [], "J"
        lines = [ln.split("#")[0].rstrip() for ln in text.splitlines()]
        for ln in lines:
            if ln.startswith("aliases:") and "{" in ln:
                aliases = _flow_mapping(ln[len("aliases:"):])
            s = ln.strip()
            if s.startswith("- {op:"):
                layers.append(_flow_mapping(s[1:]))
            if s.startswith("loss:") and "{" in s:
                loss = _flow_mapping(s[len("loss:"):]).get("name", "J")
    if not layers:
        return aliases, DEFAULT_NODES, DEFAULT_PARAMS
    nodes, params = ["x"], []
    for i, layer in enumerate(layers):
        if layer.get("op") == "linear":
            w = layer.get("weights") or "W%d" % (i + 1)
            params.append(w)
            nodes.append(w)
            if layer.get("bias") == "separate":
                params.append(w + "_bias")
                nodes.append(w + "_bias")
        nodes.append(layer.get("name") or "h%d" % (i + 1))
    nodes.append(loss)
    return aliases, nodes, params


def read_trace(path, aliases):
    """({(epoch, example): record}, {epoch: metrics}, init) with names renamed by aliases.
    Each section becomes {our name: (their name, values)}."""
    examples, metrics, init = {}, {}, None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit("%s:%d: not JSON: %s" % (path, n, e))

            def renamed(section):
                out = {}
                for name, v in section.items():
                    ours = aliases.get(name, name)
                    if ours in out:
                        raise SystemExit("%s:%d: two names map to %s" % (path, n, ours))
                    out[ours] = (name, v)
                return out

            if "init" in r:
                init = renamed(r["init"])
            elif "metrics" in r:
                metrics[r["epoch"]] = r["metrics"]
            else:
                rec = {"row": r.get("row")}
                for s in ("forward", "adjoints", "params"):
                    rec[s] = renamed(r.get(s, {}))
                examples[(r["epoch"], r["example"])] = rec
    return examples, metrics, init


def _flat(v):
    if isinstance(v, list):
        out = []
        for item in v:
            out.extend(_flat(item))
        return out
    return [float(v)]


def _shape(v):
    shape = []
    while isinstance(v, list):
        shape.append(len(v))
        v = v[0] if v else None
    return shape


def differs(a, b, rtol, atol):
    """None when a and b agree, else a short description."""
    fa, fb = _flat(a), _flat(b)
    if len(fa) != len(fb):
        return "shapes %s and %s" % (_shape(a), _shape(b))
    worst, where = 0.0, None
    for i, (x, y) in enumerate(zip(fa, fb)):
        if x == y:
            continue
        d = abs(x - y)
        if math.isnan(d) or d > rtol * max(abs(x), abs(y)) + atol:
            scale = d / max(abs(x), abs(y), 1e-300) if not math.isnan(d) else math.inf
            if where is None or scale > worst:
                worst, where = scale, (i, x, y)
    if where is None:
        return None
    i, x, y = where
    return "element %d (flat): %r vs %r (relative difference %.3g)" % (i, x, y, worst)


def first_difference(a, b, nodes, params, rtol=1e-9, atol=0.0):
    """The first difference of two read traces, as a dict, or None."""
    ex_a, met_a, init_a = a
    ex_b, met_b, init_b = b
    forward_order = nodes
    backward_order = list(reversed(nodes))
    orders = {"forward": forward_order, "adjoints": backward_order, "params": params}

    def compare(section_a, section_b, order, section, epoch, example):
        names = [n for n in order if n in section_a and n in section_b]
        names += [n for n in section_a if n in section_b and n not in order]
        for name in names:
            (na, va), (nb, vb) = section_a[name], section_b[name]
            d = differs(va, vb, rtol, atol)
            if d:
                return {"epoch": epoch, "example": example, "section": section, "node": name,
                        "name_a": na, "name_b": nb, "detail": d}
        return None

    if init_a and init_b:
        d = compare(init_a, init_b, params, "init", 0, 0)
        if d:
            return d
    keys = sorted(set(ex_a) & set(ex_b))
    epochs = sorted(set(met_a) & set(met_b))
    last_of_epoch = {}
    for e, i in keys:
        last_of_epoch[e] = max(last_of_epoch.get(e, 0), i)
    events = [(e, i, "example") for e, i in keys] + [(e, math.inf, "metrics") for e in epochs]
    for e, i, kind in sorted(events, key=lambda t: (t[0], t[1])):
        if kind == "metrics":
            ma, mb = met_a[e], met_b[e]
            for k in ("train_loss", "test_loss", "train_error", "test_error"):
                if k in ma and k in mb:
                    d = differs(ma[k], mb[k], rtol, atol)
                    if d:
                        return {"epoch": e, "example": None, "section": "metrics", "node": k,
                                "name_a": k, "name_b": k, "detail": d}
            continue
        ra, rb = ex_a[(e, i)], ex_b[(e, i)]
        if ra["row"] is not None and rb["row"] is not None and ra["row"] != rb["row"]:
            return {"epoch": e, "example": i, "section": "row", "node": "",
                    "name_a": "row", "name_b": "row", "detail": "rows %d and %d" % (ra["row"], rb["row"])}
        for section in ("forward", "adjoints", "params"):
            d = compare(ra[section], rb[section], orders[section], section, e, i)
            if d:
                return d
    return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--model", help="model file whose aliases apply to both traces")
    p.add_argument("--model-a", help="model file for A's aliases")
    p.add_argument("--model-b", help="model file for B's aliases")
    p.add_argument("--alias", action="append", default=[], help="THEIRS=OURS, for both traces")
    p.add_argument("--rtol", type=float, default=1e-9)
    p.add_argument("--atol", type=float, default=0.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    nodes, params = DEFAULT_NODES, DEFAULT_PARAMS
    alias_a, alias_b = {}, {}
    for which, path in (("both", args.model), ("a", args.model_a), ("b", args.model_b)):
        if path:
            al, nodes, params = read_model(path)
            if which in ("both", "a"):
                alias_a.update(al)
            if which in ("both", "b"):
                alias_b.update(al)
    for a in args.alias:
        if "=" not in a:
            p.error("--alias takes THEIRS=OURS")
        t, o = a.split("=", 1)
        alias_a[t.strip()] = o.strip()
        alias_b[t.strip()] = o.strip()

    ta, tb = read_trace(args.a, alias_a), read_trace(args.b, alias_b)
    known = set(nodes)
    for path, t in ((args.a, ta), (args.b, tb)):
        for rec in t[0].values():
            for s in ("forward", "adjoints", "params"):
                for ours, (theirs, _) in rec[s].items():
                    if ours not in known:
                        print("%s: %s `%s` is not a node of the model (%s); give an alias"
                              % (path, s, theirs, ", ".join(nodes)), file=sys.stderr)
                        return 2
    d = first_difference(ta, tb, nodes, params, args.rtol, args.atol)
    if args.json:
        print(json.dumps(d or {}))
    elif d is None:
        print("no difference")
    elif d["section"] == "metrics":
        print("epoch %d, metrics %s: %s" % (d["epoch"], d["node"], d["detail"]))
    elif d["section"] == "init":
        print("init %s: %s" % (d["node"], d["detail"]))
    else:
        print("epoch %d, example %d, %s %s%s: %s" % (
            d["epoch"], d["example"], d["section"], d["node"],
            "" if d["name_a"] == d["node"] else " (%s)" % d["name_a"], d["detail"]))
    return 0 if d is None else 1


if __name__ == "__main__":
    sys.exit(main())
