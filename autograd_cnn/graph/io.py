"""``ac.save_graph`` / ``ac.load_graph``: a graph as a pickle-free file.

The file is an ``.npz`` archive (read with ``allow_pickle=False``, every member's header
checked first, as checkpoints are) holding:

- ``__manifest__``: UTF-8 JSON ``{"format": "autograd_cnn.graph", "version": 1, "name",
  "inputs": [{"name", "shape", "dtype"}], "params": [{"name", "shape", "dtype", "key"}],
  "consts": [{"key"}], "nodes": [{"op", "inputs": [ref], "params": {...}, "outputs":
  [{"shape", "dtype"}], "grad_of": index or null, "backward": forward op or null,
  "scope": [...]}], "outputs": [ref], "out_tree", "updates": [[ref, ref]]}``. A ``ref`` is
  ``["input", i]``, ``["param", i]``,
  ``["const", i]`` or ``["node", i, j]`` (output ``j`` of an earlier node ``i``). A shape
  entry is an int or ``{"dim": name, "scale": k, "offset": c}``. Params are typed JSON:
  ``{"tuple": [...]}``, ``{"dtype": "float32"}``, ``{"array": key}``, ``{"float": "nan"}``...
- one ``.npy`` member per constant and per parameter's current value.

Loading checks every field (ops must be registered primitives, references must point
backwards, shapes and dtypes must be valid) and raises
:class:`~autograd_cnn.errors.GraphFormatError` for anything else; nothing in the file is
executed. The loaded graph runs in a fresh process without the model's source.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import DataFileNotFoundError, GraphFormatError
from ..primitive import REGISTRY
from ..serialization import read_archive, write_archive
from .ir import Dim, Graph, Node, Value

FORMAT = "autograd_cnn.graph"
VERSION = 1
_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
           "bool"}
MAX_NODES = 1_000_000


def _enc(obj, arrays, where):
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if np.isfinite(f) else {"float": repr(f)}
    if isinstance(obj, Dim):
        return obj.to_json()
    if isinstance(obj, tuple):
        return {"tuple": [_enc(o, arrays, where) for o in obj]}
    if isinstance(obj, list):
        return {"list": [_enc(o, arrays, where) for o in obj]}
    if isinstance(obj, dict):
        return {"dict": [[str(k), _enc(v, arrays, where)] for k, v in obj.items()]}
    if isinstance(obj, np.dtype):
        return {"dtype": obj.name}
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biuf":
        key = f"a{len(arrays)}"
        arrays[key] = np.array(order="C", object=obj)
        return {"array": key}
    if isinstance(obj, slice):
        return {"slice": [_enc(obj.start, arrays, where), _enc(obj.stop, arrays, where),
                          _enc(obj.step, arrays, where)]}
    if obj is Ellipsis:
        return {"ellipsis": True}
    raise GraphFormatError(f"save_graph(): {where} holds a {type(obj).__name__}, which a "
                           "graph file cannot store (only numbers, strings, tuples, dtypes, "
                           "numeric arrays, slices)")


def _dec(obj, arrays, bad, depth=0):
    if depth > 50:
        raise bad("params nest too deeply")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict) and len(obj) == 1:
        (k, v), = obj.items()
        if k == "tuple" and isinstance(v, list):
            return tuple(_dec(o, arrays, bad, depth + 1) for o in v)
        if k == "list" and isinstance(v, list):
            return [_dec(o, arrays, bad, depth + 1) for o in v]
        if k == "dict" and isinstance(v, list) and all(
                isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) for e in v):
            return {e[0]: _dec(e[1], arrays, bad, depth + 1) for e in v}
        if k == "dtype" and v in _DTYPES:
            return np.dtype(v)
        if k == "array" and isinstance(v, str) and v in arrays:
            return arrays[v]
        if k == "float" and v in ("nan", "inf", "-inf"):
            return float(v)
        if k == "slice" and isinstance(v, list) and len(v) == 3:
            parts = [_dec(o, arrays, bad, depth + 1) for o in v]
            if all(p is None or isinstance(p, (int, Dim)) for p in parts):
                return slice(*parts)
        if k == "ellipsis" and v is True:
            return Ellipsis
    if isinstance(obj, dict) and set(obj) == {"dim", "scale", "offset"}:
        return _dim(obj, bad)
    raise bad(f"unrecognized parameter encoding {str(obj)[:80]!r}")


def _dim(d, bad):
    if (isinstance(d.get("dim"), str) and d["dim"].isidentifier() and all(
            isinstance(d.get(k), int) and not isinstance(d.get(k), bool)
            for k in ("scale", "offset"))):
        return Dim(d["dim"], d["scale"], d["offset"])
    raise bad(f"invalid symbolic dim {str(d)[:80]!r}")


def save_graph(graph: Graph, path) -> None:
    """Write ``graph`` (structure, constants and its parameters' current values) to
    ``path`` in the documented ``.npz`` + JSON format (no pickle).

    >>> import autograd_cnn as ac, os, tempfile
    >>> g = ac.trace(lambda x: ac.relu(x) * 2, ac.ShapeSpec((None, 3)))
    >>> p = os.path.join(tempfile.mkdtemp(), "g.npz")
    >>> ac.save_graph(g, p)
    >>> ac.load_graph(p)(ac.ones(2, 3)).tolist()
    [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
    """
    arrays: dict = {}
    refs = {}
    for i, v in enumerate(graph.inputs):
        refs[id(v)] = ["input", i]
    for i, v in enumerate(graph.params):
        refs[id(v)] = ["param", i]
    for i, v in enumerate(graph.consts):
        refs[id(v)] = ["const", i]
    node_index = {}
    nodes = []
    for i, n in enumerate(graph.nodes):
        node_index[id(n)] = i
        nodes.append({
            "op": n.op, "inputs": [refs[id(v)] for v in n.inputs],
            "params": _enc(n.params, arrays, f"op {n.op!r} (node {i})"),
            "outputs": [{"shape": [_enc(s, arrays, "shape") for s in o.shape],
                         "dtype": o.dtype.name} for o in n.outputs],
            "grad_of": node_index.get(id(n.grad_of)) if n.grad_of is not None else None,
            "backward": n.grad_of.op if n.grad_of is not None else None,
            "scope": list(n.scope)})
        for j, o in enumerate(n.outputs):
            refs[id(o)] = ["node", i, j]

    def typ(v):
        return {"name": v.name, "shape": [_enc(s, arrays, "shape") for s in v.shape],
                "dtype": v.dtype.name}

    params = []
    for v in graph.params:
        key = f"p{len(params)}"
        arrays[key] = np.array(order="C", object=graph.bindings[v.name].data)
        params.append({**typ(v), "key": key})
    consts = []
    for v in graph.consts:
        key = f"c{len(consts)}"
        arrays[key] = np.array(order="C", object=v.data)
        consts.append({"key": key})
    manifest = {"format": FORMAT, "version": VERSION, "name": graph.name,
                "inputs": [typ(v) for v in graph.inputs], "params": params,
                "consts": consts, "nodes": nodes,
                "outputs": [refs[id(v)] for v in graph.outputs],
                "out_tree": _enc(graph.out_tree, arrays, "out_tree"),
                "updates": [[refs[id(p)], refs[id(v)]] for p, v in graph.updates]}
    write_archive(path, manifest, arrays)


def load_graph(path) -> Graph:
    """Read a graph written by :func:`save_graph`; its parameters come back as
    ``nn.Parameter`` tensors bound to the graph (``graph.bindings``).

    Raises ``DataFileNotFoundError`` for a missing file and ``GraphFormatError`` for
    anything that is not a well-formed graph file (truncated, garbled, pickled, hostile).
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise DataFileNotFoundError(f"load_graph(): no graph file at {p!r}")

    def bad_file(_p, what):
        return GraphFormatError(f"load_graph(): {p!r} is not a valid graph file: {what}")

    manifest, arrays = read_archive(p, FORMAT, VERSION, bad_file, "autograd_cnn.save_graph")

    def bad(what):
        return bad_file(p, what)

    try:
        return _build(manifest, arrays, bad)
    except GraphFormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise bad(f"{type(e).__name__}: {str(e)[:200]}") from None


def _shape(entries, bad):
    if not isinstance(entries, list) or len(entries) > 32:
        raise bad(f"invalid shape {str(entries)[:80]}")
    out = []
    for s in entries:
        if isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**40:
            out.append(s)
        elif isinstance(s, dict):
            out.append(_dim(s, bad))
        else:
            raise bad(f"invalid shape entry {str(s)[:40]}")
    return tuple(out)


def _dtype(name, bad):
    if name not in _DTYPES:
        raise bad(f"unsupported dtype {str(name)[:40]!r}")
    return np.dtype(name)


def _build(m, arrays, bad) -> Graph:
    from ..nn.module import Parameter

    def typed(entry, kind):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise bad(f"invalid {kind} entry")
        return Value(entry["name"], _shape(entry["shape"], bad), _dtype(entry["dtype"], bad),
                     kind)

    inputs = [typed(e, "input") for e in m["inputs"]]
    params, bindings = [], {}
    for e in m["params"]:
        v = typed(e, "param")
        arr = arrays.get(e.get("key"))
        if arr is None or arr.dtype != v.dtype or arr.shape != v.shape:
            raise bad(f"parameter {v.name!r} has no matching array")
        params.append(v)
        bindings[v.name] = Parameter(arr.copy())
    consts = []
    for i, e in enumerate(m["consts"]):
        arr = arrays.get(e.get("key") if isinstance(e, dict) else None)
        if arr is None:
            raise bad(f"constant {i} has no array")
        consts.append(Value(f"c{i}", arr.shape, arr.dtype, "const", data=arr))
    if not isinstance(m["nodes"], list) or len(m["nodes"]) > MAX_NODES:
        raise bad("nodes must be a list of at most 1e6 entries")
    nodes: list[Node] = []

    def ref(r):
        if not isinstance(r, list) or not r:
            raise bad(f"invalid value reference {str(r)[:40]}")
        kind, *idx = r
        pools = {"input": inputs, "param": params, "const": consts}
        if kind in pools and len(idx) == 1 and isinstance(idx[0], int) and 0 <= idx[0] < len(
                pools[kind]):
            return pools[kind][idx[0]]
        if (kind == "node" and len(idx) == 2 and all(isinstance(i, int) for i in idx)
                and 0 <= idx[0] < len(nodes) and 0 <= idx[1] < len(nodes[idx[0]].outputs)):
            return nodes[idx[0]].outputs[idx[1]]
        raise bad(f"reference {str(r)[:40]} points to no earlier value")

    for i, e in enumerate(m["nodes"]):
        op = e.get("op") if isinstance(e, dict) else None
        if op not in REGISTRY:
            raise bad(f"node {i}: {str(op)[:40]!r} is not a registered primitive")
        params_ = _dec(e["params"], arrays, bad)
        if not isinstance(params_, dict):
            raise bad(f"node {i}: params must be a dict")
        outs = [Value(f"%{i}" if j == 0 else f"%{i}.aux", _shape(o["shape"], bad),
                      _dtype(o["dtype"], bad), "node") for j, o in enumerate(e["outputs"])]
        if not 1 <= len(outs) <= 2:
            raise bad(f"node {i}: a node has one or two outputs")
        g_of = e.get("grad_of")
        grad_of = nodes[g_of] if isinstance(g_of, int) and 0 <= g_of < i else None
        if grad_of is None and e.get("backward") is not None:  # its forward node was removed
            if e["backward"] not in REGISTRY:
                raise bad(f"node {i}: backward of unknown op {str(e['backward'])[:40]!r}")
            grad_of = Node(e["backward"], [], {}, [Value("?", (), "float32", "node")])
        scope = tuple(str(s) for s in e.get("scope", []))
        nodes.append(Node(op, [ref(r) for r in e["inputs"]], params_, outs, grad_of=grad_of,
                          scope=scope))
    outputs = [ref(r) for r in m["outputs"]]
    tree = _dec(m["out_tree"], arrays, bad)
    _check_tree(tree, len(outputs), bad)
    updates = [(ref(a), ref(b)) for a, b in m["updates"]]
    name = m.get("name") if isinstance(m.get("name"), str) else "graph"
    return Graph(inputs, params, consts, nodes, outputs, out_tree=tree, updates=updates,
                 bindings=bindings, name=name)


def _check_tree(tree, n, bad, depth=0):
    if depth > 50 or not isinstance(tree, tuple) or len(tree) != 2:
        raise bad("invalid output tree")
    kind, body = tree
    if kind == "leaf" and isinstance(body, int) and 0 <= body < n:
        return
    if kind in ("tuple", "list") and isinstance(body, list):
        for t in body:
            _check_tree(t, n, bad, depth + 1)
        return
    if kind == "dict" and isinstance(body, list):
        for item in body:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise bad("invalid output tree")
            _check_tree(item[1], n, bad, depth + 1)
        return
    raise bad("invalid output tree")
