"""Merge two traces of one function (other values, other symbol sizes) into one graph.

Both runs must apply the same primitives to the same operands. Where they differ:
- an int (in a shape or a param) that moved with a symbol is fitted as
  ``scale * symbol + offset`` (:class:`~autograd_cnn.graph.ir.Dim`);
- a constant filled with one value whose shape moved becomes a ``full`` node;
- anything else (a constant whose values moved, a float param that moved) was computed
  outside the ops from a traced value, and is refused with a TraceError naming the op
  and the user's line.
"""

from __future__ import annotations

import numpy as np

from ..errors import TraceError
from .ir import Dim, Graph, Node, Value


class _Mismatch(Exception):
    pass


def fit(a, b, syms: dict):
    """One value for ``a`` (first trace) and ``b`` (second), ints fitted to symbols."""
    if a is None or b is None:
        if a is b:
            return a
        raise _Mismatch(a, b)
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        if a is b or (type(a) is type(b) and a == b):
            return a
        raise _Mismatch(a, b)
    if isinstance(a, (int, np.integer)) and isinstance(b, (int, np.integer)):
        if a == b:
            return a
        fits = []
        for name, (sa, sb) in syms.items():
            if (b - a) % (sb - sa) == 0:
                k = (b - a) // (sb - sa)
                fits.append(Dim(name, k, a - k * sa))
        if len(fits) == 1 and fits[0].scale != 0:
            return fits[0]
        raise _Mismatch(a, b)
    if isinstance(a, Dim) or isinstance(b, Dim):
        if a == b:
            return a
        raise _Mismatch(a, b)
    if type(a) is not type(b):
        raise _Mismatch(a, b)
    if isinstance(a, (tuple, list)):
        if len(a) != len(b):
            raise _Mismatch(a, b)
        out = [fit(x, y, syms) for x, y in zip(a, b)]
        return tuple(out) if isinstance(a, tuple) else out
    if isinstance(a, dict):
        if a.keys() != b.keys():
            raise _Mismatch(a, b)
        return {k: fit(a[k], b[k], syms) for k in a}
    if isinstance(a, slice):
        return slice(*fit((a.start, a.stop, a.step), (b.start, b.stop, b.step), syms))
    if isinstance(a, np.ndarray):
        if a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=(
                a.dtype.kind in "fc")):
            return a
        raise _Mismatch(a, b)
    if isinstance(a, float):
        if a == b or (np.isnan(a) and np.isnan(b)):
            return a
        raise _Mismatch(a, b)
    if a is b or a == b:
        return a
    raise _Mismatch(a, b)


def _positions(tracer):
    pos = {}
    for i, v in enumerate(tracer.inputs):
        pos[id(v)] = ("input", i)
    for v in tracer.params:
        pos[id(v)] = ("param", v.name)
    for i, v in enumerate(tracer.consts):
        pos[id(v)] = ("const", i)
    for i, n in enumerate(tracer.nodes):
        for j, o in enumerate(n.outputs):
            pos[id(o)] = ("node", i, j)
    return pos


def _uniform(arr):
    flat = arr.ravel()
    return flat.size > 0 and bool(np.all(flat == flat[0]))


def reconcile(run_a, run_b, symbols, sizes_b, input_shapes, name) -> Graph:
    ta, outs_a, tree_a = run_a
    tb, outs_b, tree_b = run_b
    syms = {k: (symbols[k], sizes_b[k]) for k in symbols}
    ops_a, ops_b = [n.op for n in ta.nodes], [n.op for n in tb.nodes]
    if ops_a != ops_b:
        i = next((k for k, (x, y) in enumerate(zip(ops_a, ops_b)) if x != y),
                 min(len(ops_a), len(ops_b)))
        where = ta.nodes[i].where if i < len(ta.nodes) else tb.nodes[i].where
        raise TraceError(
            f"{name}: a second trace with other values{' and sizes' if syms else ''} applied "
            f"different ops (first difference at op #{i}, {where}): the function's control "
            "flow depends on its inputs' values or sizes, which a graph cannot express. "
            "Use ac.where for value-dependent choices, or trace with concrete shapes.")
    pa, pb = _positions(ta), _positions(tb)
    consumers: dict[int, Node] = {}
    for n in ta.nodes:
        for v in n.inputs:
            consumers.setdefault(id(v), n)

    def where_used(v):
        n = consumers.get(id(v))
        return f"op {n.op!r} at {n.where}" if n is not None else "an output"

    # constants
    fills: list[Node] = []
    replace: dict[int, Value] = {}
    if len(ta.consts) != len(tb.consts):
        raise TraceError(f"{name}: the two traces made different numbers of constants; a "
                         "value is computed outside the graph's ops")
    for ca, cb in zip(ta.consts, tb.consts):
        try:
            fit(ca.data, cb.data, syms)
            continue
        except _Mismatch:
            pass
        if (ca.data.ndim == cb.data.ndim and ca.data.dtype == cb.data.dtype and _uniform(
                ca.data) and _uniform(cb.data) and ca.data.ravel()[0] == cb.data.ravel()[0]):
            try:
                shape = fit(tuple(ca.data.shape), tuple(cb.data.shape), syms)
            except _Mismatch:
                shape = None
            if shape is not None:
                out = Value(f"%fill{len(fills)}", shape, ca.dtype, "node")
                fills.append(Node("full", [], {"shape": shape, "value": ca.data.ravel()[
                    0].item(), "dtype": ca.dtype}, [out], where=where_used(ca)))
                replace[id(ca)] = out
                continue
        raise TraceError(
            f"{name}: a constant used by {where_used(ca)} (shape {ca.data.shape}) changed "
            "when the function was traced again with other input values: it was computed "
            "outside the library's ops from a traced value (e.g. with .data or NumPy), so "
            "a graph would freeze it. Compute it with ops (ac.where, comparisons, ...).")
    # nodes: operands, params, output shapes
    for na, nb in zip(ta.nodes, tb.nodes):
        ra = [pa[id(v)] for v in na.inputs]
        rb = [pb[id(v)] for v in nb.inputs]
        if ra != rb:
            raise TraceError(f"{name}: op {na.op!r} at {na.where} took different operands in "
                             "a second trace; the function's data flow depends on values")
        try:
            na.params = fit(na.params, nb.params, syms)
        except _Mismatch as e:
            raise TraceError(
                f"{name}: op {na.op!r} at {na.where} got parameters that changed with the "
                f"input {'values or sizes' if syms else 'values'} ({e.args[0]!r} vs "
                f"{e.args[1]!r}); a parameter must be static, or follow a symbolic dim as "
                "scale*N+offset. Trace with concrete shapes, or compute it with ops."
            ) from None
        for oa, ob in zip(na.outputs, nb.outputs):
            try:
                oa.shape = fit(tuple(oa.shape), tuple(ob.shape), syms)
            except _Mismatch:
                raise TraceError(
                    f"{name}: the output shape of op {na.op!r} at {na.where} does not follow "
                    f"the symbolic dims affinely ({oa.shape} vs {ob.shape}); trace with "
                    "concrete sizes for the dims it depends on") from None
        na.inputs = [replace.get(id(v), v) for v in na.inputs]
    if [pa[id(v)] for v in outs_a] != [pb[id(v)] for v in outs_b] or tree_a != tree_b:
        raise TraceError(f"{name}: the outputs differ between two traces")
    outs = [replace.get(id(v), v) for v in outs_a]
    for v, shape in zip(ta.inputs, input_shapes):
        v.shape = tuple(shape)
    consts = [c for c in ta.consts if id(c) not in replace]
    updates = [(p, replace.get(id(v), v)) for p, v in ta.updates]
    return Graph(ta.inputs, ta.params, consts, fills + ta.nodes, outs, out_tree=tree_a,
                 updates=updates, bindings=ta.bindings, name=name)
