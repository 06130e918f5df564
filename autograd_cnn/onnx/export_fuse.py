"""Export-time pattern matching: groups of primitives that ONNX has one op for.

Batch norm and local response norm are composites in this library (a batch norm in eval
mode is ``(x - mean) / sqrt(var + eps) * w + b`` over reshaped buffers; LRN a padded
window sum), and a nearest resize imported from ONNX is a gather. The exporter asks
:func:`plan` for the groups it can replace with the native ``BatchNormalization``,
``LRN`` and ``Resize``; a group is only taken when its intermediate values are used
inside it alone and the native op computes exactly what the composite did (LRN: odd
sizes; Resize: ONNX's index formula reproduces the gather's indices). Anything else
exports op by op. (``interpolate``'s ``resample_axis`` has its own rule, in
:mod:`autograd_cnn.onnx.export_rules_resample`.)
"""

from __future__ import annotations

import numpy as np


class _Uses:
    def __init__(self, graph):
        self.by = {}
        for node in graph.nodes:
            for v in node.inputs:
                self.by.setdefault(id(v), []).append(node)
        self.outputs = {id(v) for v in graph.outputs}

    def sole(self, value, op=None):
        """The one node consuming ``value`` (of type ``op``), if nothing else reads it."""
        users = self.by.get(id(value), [])
        if len(users) != 1 or id(value) in self.outputs:
            return None
        if op is not None and users[0].op != op:
            return None
        return users[0]

    def private(self, value, group):
        return id(value) not in self.outputs and all(
            any(u is g for g in group) for u in self.by.get(id(value), []))


def _is_full(p):
    return isinstance(p, slice) and p == slice(None)


def _prod(value, op):
    p = value.producer
    return p if p is not None and p.op == op else None


def _scalar(value):
    if value.kind == "const" and value.data is not None and np.ndim(value.data) == 0:
        return float(value.data)
    return None


def _param_reshape(value, c):
    """``value = reshape(param, (1, c, 1, ...))`` -> (reshape node, param value)."""
    r = _prod(value, "reshape")
    if r is None or r.inputs[0].kind != "param":
        return None
    shape = tuple(r.params["shape"])
    if len(shape) < 2 or shape[1] != c or any(d != 1 for i, d in enumerate(shape) if i != 1):
        return None
    if tuple(r.inputs[0].shape) != (c,):
        return None
    return r, r.inputs[0]


def _other(node, value):
    a, b = node.inputs
    return b if a is value else a if b is value else None


def _batch_norm(sub, uses):
    x, m = sub.inputs
    if x.ndim < 2 or not isinstance(x.shape[1], int):
        return None
    c = x.shape[1]
    rm = _param_reshape(m, c)
    div = uses.sole(sub.outputs[0], "div")
    if rm is None or div is None or div.inputs[0] is not sub.outputs[0]:
        return None
    sq = _prod(div.inputs[1], "sqrt")
    add_eps = sq and _prod(sq.inputs[0], "add")
    if add_eps is None:
        return None
    rv = _param_reshape(add_eps.inputs[0], c)
    eps = _scalar(add_eps.inputs[1])
    if rv is None or eps is None:
        return None
    group = [rm[0], rv[0], sub, add_eps, sq, div]
    last, scale, bias = div, None, None
    mul = uses.sole(div.outputs[0], "mul")
    if mul is not None:
        rw = _param_reshape(_other(mul, div.outputs[0]), c)
        if rw is not None:
            group += [rw[0], mul]
            last, scale = mul, rw[1]
    add = uses.sole(last.outputs[0], "add")
    if add is not None:
        rb = _param_reshape(_other(add, last.outputs[0]), c)
        if rb is not None:
            group += [rb[0], add]
            last, bias = add, rb[1]
    inner = [n.outputs[0] for n in group if n is not last]
    if not all(uses.private(v, group) for v in inner):
        return None

    def emit(ctx):
        dt = np.dtype(x.dtype)
        s = ctx.name(scale) if scale is not None else ctx.const(np.ones(c, dt))
        b = ctx.name(bias) if bias is not None else ctx.const(np.zeros(c, dt))
        return ctx.make("BatchNormalization", [ctx.name(x), s, b, ctx.name(rm[1]),
                                               ctx.name(rv[1])], epsilon=eps)

    return group, last, emit


def _lrn(div, uses):
    x, den = div.inputs
    pw = _prod(den, "pow")
    beta = pw and _scalar(pw.inputs[1])
    add_k = pw and _prod(pw.inputs[0], "add")
    k = add_k and _scalar(add_k.inputs[1])
    mul_a = add_k and _prod(add_k.inputs[0], "mul")
    alpha = mul_a and _scalar(mul_a.inputs[1])
    if None in (beta, k, alpha) or mul_a is None or x.ndim < 3:
        return None
    # the window sum: add(add(getitem, getitem), getitem)...
    adds, leaves, stack = [], [], [mul_a.inputs[0]]
    while stack:
        v = stack.pop()
        a = _prod(v, "add")
        if a is not None:
            adds.append(a)
            stack.extend(a.inputs)
        elif _prod(v, "getitem") is not None:
            leaves.append(v.producer)
        else:
            return None
    pads = {id(g.inputs[0]) for g in leaves}
    if len(pads) != 1:
        return None
    pad = _prod(leaves[0].inputs[0], "pad")
    sq = pad and _prod(pad.inputs[0], "mul")
    if sq is None or sq.inputs[0] is not x or sq.inputs[1] is not x:
        return None
    size, c = len(leaves), x.shape[1]
    want = [(0, 0), (size // 2, (size - 1) // 2)] + [(0, 0)] * (x.ndim - 2)
    if size % 2 == 0 or [tuple(p) for p in pad.params["pad_width"]] != want or \
            pad.params.get("value", 0) != 0:
        return None
    for g in leaves:
        idx = g.params["index"]
        if not (isinstance(idx, tuple) and len(idx) == 2 and _is_full(idx[0])
                and isinstance(idx[1], slice) and idx[1].step in (None, 1)
                and idx[1].start is not None and idx[1].stop is not None
                and idx[1].stop - idx[1].start == c):
            return None
    starts = sorted(g.params["index"][1].start for g in leaves)
    if starts != list(range(size)):
        return None
    group = [sq, pad, *leaves, *adds, mul_a, add_k, pw, div]
    if not all(uses.private(n.outputs[0], group) for n in group if n is not div):
        return None

    def emit(ctx):
        return ctx.make("LRN", [ctx.name(x)], size=size, alpha=alpha * size, beta=beta, bias=k)

    return group, div, emit


def _nearest(g, uses, opset):
    idx = g.params["index"]
    if opset < 18 or not isinstance(idx, tuple) or len(idx) < 3:
        return None
    axis = len(idx) - 1
    src = idx[-1]
    x = g.inputs[0]
    if not (all(_is_full(p) for p in idx[:-1]) and isinstance(src, np.ndarray)
            and src.ndim == 1 and src.dtype.kind in "iu" and isinstance(x.shape[axis], int)):
        return None
    n_in, n_out = x.shape[axis], len(src)
    onnx_src = np.minimum(np.floor(np.arange(n_out) * (n_in / n_out)), n_in - 1)
    if not np.array_equal(onnx_src.astype(np.int64), src):
        return None

    def emit(ctx):
        return ctx.make("Resize", [ctx.name(x), "", "", ctx.ints([n_out])], axes=[axis],
                        mode="nearest", coordinate_transformation_mode="asymmetric",
                        nearest_mode="floor")

    return [g], g, emit


def plan(graph, opset):
    """``(skip, emit)``: ids of nodes replaced by a native op, and ``id(last node) ->
    emit(ctx)`` producing the native op's output name."""
    uses = _Uses(graph)
    skip, emits = set(), {}
    for node in graph.nodes:
        if id(node) in skip:
            continue
        found = None
        if node.op == "sub":
            found = _batch_norm(node, uses)
        elif node.op == "div":
            found = _lrn(node, uses)
        elif node.op == "getitem":
            found = _nearest(node, uses, opset)
        if found is None:
            continue
        group, last, emit = found
        if any(id(n) in skip for n in group):
            continue
        skip.update(id(n) for n in group if n is not last)
        emits[id(last)] = emit
        skip.discard(id(last))
    return skip, emits
