"""Rewrite passes, each a function ``Graph -> Graph`` that keeps every value the graph
computes (the tests check each pass numerically on the whole model zoo).

==================  =========================================================================
``dce``             drop nodes whose outputs nothing uses (outputs and buffer updates count)
``cse``             one node for repeated ``op(same inputs; same params)``
``fold_constants``  evaluate nodes whose inputs are all constants (and ``numel`` of a static
                    shape)
``identities``      ``x*1``, ``x+0``, ``x-0``, ``x/1``, casts to the same dtype, permutes that
                    cancel or compose, reshape chains and no-op reshapes, a broadcast summed
                    back to its own shape, ``reshape(sum_to(x))`` as one ``sum``
``contractions``    transposes folded into matrix products: ``(a^T b)^T = b^T a``, and
                    ``a^T b`` as one ``einsum`` (JAX's ``dot_general`` in spirit)
``fold_batchnorm``  inference graphs: a conv followed by batch normalization becomes a conv
                    with scaled weights plus a per-channel shift (computed from the live
                    parameters, so a replay still sees their current values)
==================  =========================================================================
"""

from __future__ import annotations

import numpy as np

from ..primitive import REGISTRY
from .build import Builder, use_counts
from .ir import Graph, Node, Value, has_dims

PASSES: dict = {}
_RANDOM = {"dropout_mask"}


def graph_pass(name):
    def put(fn):
        PASSES[name] = fn
        fn.pass_name = name
        return fn

    return put


@graph_pass("dce")
def dce(g: Graph) -> Graph:
    live = {id(v) for v in g.outputs} | {id(v) for _, v in g.updates}
    keep = set()
    for n in reversed(g.nodes):
        if any(id(o) in live for o in n.outputs):
            keep.add(id(n))
            live.update(id(v) for v in n.inputs)
    b = Builder(g)
    for n in g.nodes:
        if id(n) in keep:
            b.copy(n)
    return b.finish()


def _key(obj):
    if isinstance(obj, np.ndarray):
        return ("nd", obj.shape, obj.dtype.str, obj.tobytes())
    if isinstance(obj, dict):
        return tuple(sorted((k, _key(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return tuple(_key(o) for o in obj)
    if isinstance(obj, float) and obj != obj:
        return "nan"
    if isinstance(obj, (int, float, str, bool, type(None))):
        return obj
    return (type(obj).__name__, repr(obj)) if not hasattr(obj, "__dict__") else id(obj)


@graph_pass("cse")
def cse(g: Graph) -> Graph:
    b = Builder(g)
    seen: dict = {}
    for n in g.nodes:
        ins = [b.get(v) for v in n.inputs]
        if n.op in _RANDOM:
            b.copy(n, ins)
            continue
        key = (n.op, tuple(id(v) for v in ins), _key(n.params))
        if key in seen:
            for o, prev in zip(n.outputs, seen[key].outputs):
                b.alias(o, prev)
            continue
        seen[key] = b.copy(n, ins)
    return b.finish()


@graph_pass("fold_constants")
def fold_constants(g: Graph) -> Graph:
    b = Builder(g)
    for n in g.nodes:
        ins = [b.get(v) for v in n.inputs]
        prim = REGISTRY[n.op]
        foldable = (n.op not in _RANDOM and not has_dims(n.params)
                    and (all(v.kind == "const" for v in ins) if ins else True))
        if n.op == "numel" and ins[0].is_static:
            ax = n.params["axis"]
            shape = ins[0].shape
            count = int(np.prod(shape if ax is None else [shape[a] for a in ax]))
            b.alias(n.outputs[0], b.const(np.asarray(count, dtype=n.params["dtype"])))
            continue
        if not foldable:
            b.copy(n, ins)
            continue
        out = prim.impl(*[v.data for v in ins], **n.params)
        outs = list(out) if prim.has_aux else [out]
        for o, arr in zip(n.outputs, outs):
            b.alias(o, b.const(np.asarray(arr)))
    return b.finish()


# ---- identities --------------------------------------------------------------------------


def _is_const(v: Value, value) -> bool:
    return v.kind == "const" and v.data is not None and bool(np.all(v.data == value))


def _neutral(ins, out: Value, k: int, value) -> bool:
    """Operand ``k`` is the constant ``value`` and dropping it changes no shape/dtype."""
    other = ins[1 - k]
    return (_is_const(ins[k], value) and tuple(other.shape) == tuple(out.shape)
            and other.dtype == out.dtype)


def _producer(v: Value, op: str) -> Node | None:
    p = v.producer
    return p if p is not None and p.op == op else None


@graph_pass("identities")
def identities(g: Graph) -> Graph:
    b = Builder(g)
    for n in g.nodes:
        ins = [b.get(v) for v in n.inputs]
        out = n.outputs[0]
        if _identity(b, n, ins, out):
            continue
        b.copy(n, ins)
    return b.finish()


def _identity(b: Builder, n: Node, ins, out) -> bool:
    op, p = n.op, n.params
    if op in ("mul", "add", "sub", "div"):
        unit = 1 if op in ("mul", "div") else 0
        for k in ((0, 1) if op in ("mul", "add") else (1,)):
            if _neutral(ins, out, k, unit):
                b.alias(out, ins[1 - k])
                return True
        return False
    if op == "astype" and ins[0].dtype == np.dtype(p["dtype"]):
        b.alias(out, ins[0])
        return True
    if op in ("reshape", "broadcast_to") and tuple(ins[0].shape) == tuple(out.shape):
        b.alias(out, ins[0])
        return True
    if op == "permute":
        dims = tuple(p["dims"])
        inner = _producer(ins[0], "permute")
        if inner is not None:
            dims = tuple(inner.params["dims"][j] for j in dims)
            src = inner.inputs[0]
        else:
            src = ins[0]
        if dims == tuple(range(len(dims))):
            b.alias(out, src)
            return True
        if inner is not None:
            b.alias(out, b.emit("permute", [src], {"dims": dims}, [(out.shape, out.dtype)],
                                like=n)[0])
            return True
        return False
    if op == "reshape":
        inner = _producer(ins[0], "reshape")
        if inner is not None:
            src = inner.inputs[0]
            if tuple(src.shape) == tuple(out.shape):
                b.alias(out, src)
            else:
                b.alias(out, b.emit("reshape", [src], dict(p), [(out.shape, out.dtype)],
                                    like=n)[0])
            return True
        summed = _producer(ins[0], "sum_to")
        if summed is not None:
            x = summed.inputs[0]
            s1 = tuple(summed.params["shape"])
            if len(s1) == x.ndim:
                axes = tuple(i for i, (a, c) in enumerate(zip(s1, x.shape)) if a == 1 and c != 1)
                kept = tuple(s for i, s in enumerate(s1) if i not in axes)
                if axes and kept == tuple(out.shape):
                    b.alias(out, b.emit("sum", [x], {"axis": axes, "keepdims": False},
                                        [(out.shape, out.dtype)], like=n)[0])
                    return True
        return False
    if op == "sum_to":
        if tuple(ins[0].shape) == tuple(out.shape):
            b.alias(out, ins[0])
            return True
        bc = _producer(ins[0], "broadcast_to")
        if bc is not None and tuple(bc.inputs[0].shape) == tuple(out.shape):
            b.alias(out, bc.inputs[0])
            return True
    return False


# ---- contractions ------------------------------------------------------------------------


def _is_t2(v: Value) -> Node | None:
    t = _producer(v, "permute")
    return t if t is not None and tuple(t.params["dims"]) == (1, 0) else None


@graph_pass("contractions")
def contractions(g: Graph) -> Graph:
    uses = use_counts(g)
    b = Builder(g)
    for n in g.nodes:
        ins = [b.get(v) for v in n.inputs]
        out = n.outputs[0]
        es = _producer(ins[0], "einsum") if n.op == "permute" else None
        if es is not None and uses.get(id(n.inputs[0]), 0) == 1:
            # a permuted contraction is the contraction written in the permuted order
            order = "".join(es.params["out"][d] for d in n.params["dims"])
            b.alias(out, b.emit("einsum", list(es.inputs), {**es.params, "out": order},
                                [(out.shape, out.dtype)], like=n)[0])
            continue
        if n.op == "permute" and tuple(n.params["dims"]) == (1, 0):
            mm = _producer(ins[0], "matmul")
            if (mm is not None and uses.get(id(n.inputs[0]), 0) == 1 and all(
                    v.ndim == 2 for v in mm.inputs) and any(_is_t2(v) for v in mm.inputs)):
                # (A B)^T = B^T A^T, and a transpose of a transpose is no node at all
                a, c = mm.inputs
                ta = _is_t2(a).inputs[0] if _is_t2(a) else _emit_t(b, a, n)
                tc = _is_t2(c).inputs[0] if _is_t2(c) else _emit_t(b, c, n)
                b.alias(out, b.emit("matmul", [tc, ta], {}, [(out.shape, out.dtype)],
                                    like=n)[0])
                continue
        if n.op == "matmul" and all(v.ndim == 2 for v in ins):
            t = _is_t2(ins[0])
            if t is not None and uses.get(id(n.inputs[0]), 0) == 1 and t.inputs[0].ndim == 2:
                b.alias(out, b.emit("einsum", [t.inputs[0], ins[1]],
                                    {"terms": ("ji", "jk"), "out": "ik"},
                                    [(out.shape, out.dtype)], like=n)[0])
                continue
        b.copy(n, ins)
    return b.finish()


def _emit_t(b: Builder, v: Value, like: Node) -> Value:
    return b.emit("permute", [v], {"dims": (1, 0)}, [((v.shape[1], v.shape[0]), v.dtype)],
                  like=like)[0]


# ---- conv + batch norm ----------------------------------------------------------------------


def _only_user(v: Value, users, op: str) -> Node | None:
    us = users.get(id(v), [])
    return us[0] if len(us) == 1 and us[0].op == op else None


def _param_reshape(v: Value):
    """``v = reshape(p)`` of a (C,) parameter: return p."""
    r = _producer(v, "reshape")
    if r is not None and r.inputs[0].kind == "param" and r.inputs[0].ndim == 1:
        return r.inputs[0]
    return None


def _match_bn(conv: Node, users):
    """The nodes of ``(conv [+ bias] - mean) / sqrt(var + eps) [* w] [+ b]`` after a conv."""
    chain, y = [], conv.outputs[0]
    bias = None
    nxt = _only_user(y, users, "add")
    if nxt is not None and _param_reshape(nxt.inputs[1]) is not None and nxt.inputs[0] is y:
        bias, chain, y = _param_reshape(nxt.inputs[1]), [nxt], nxt.outputs[0]
    sub = _only_user(y, users, "sub")
    if sub is None or sub.inputs[0] is not y or _param_reshape(sub.inputs[1]) is None:
        return None
    mean = _param_reshape(sub.inputs[1])
    div = _only_user(sub.outputs[0], users, "div")
    sq = _producer(div.inputs[1], "sqrt") if div is not None else None
    ad = _producer(sq.inputs[0], "add") if sq is not None else None
    if ad is None or _param_reshape(ad.inputs[0]) is None or ad.inputs[1].kind != "const":
        return None
    var, eps = _param_reshape(ad.inputs[0]), ad.inputs[1]
    chain += [sub, div]
    y = div.outputs[0]
    weight = shift = None
    mul = _only_user(y, users, "mul")
    if mul is not None and _param_reshape(mul.inputs[1]) is not None:
        weight, y = _param_reshape(mul.inputs[1]), mul.outputs[0]
        chain.append(mul)
    add = _only_user(y, users, "add")
    if add is not None and _param_reshape(add.inputs[1]) is not None:
        shift, y = _param_reshape(add.inputs[1]), add.outputs[0]
        chain.append(add)
    return dict(chain=chain, out=y, bias=bias, mean=mean, var=var, eps=eps, weight=weight,
                shift=shift)


@graph_pass("fold_batchnorm")
def fold_batchnorm(g: Graph) -> Graph:
    if g.updates or any(n.grad_of is not None for n in g.nodes):
        return g  # training graphs normalize with batch statistics: nothing to fold
    users: dict = {}
    for n in g.nodes:
        for v in n.inputs:
            users.setdefault(id(v), []).append(n)
    matches = {}
    for n in g.nodes:
        if n.op == "conv" and n.inputs[1].kind == "param" and len(n.inputs) == 2:
            m = _match_bn(n, users)
            if m is not None:
                matches[id(n)] = m
    if not matches:
        return g
    skip = {id(x) for m in matches.values() for x in m["chain"]}
    b = Builder(g)
    for n in g.nodes:
        if id(n) in skip:
            continue
        if id(n) not in matches:
            b.copy(n)
            continue
        m = matches[id(n)]
        _emit_folded(b, n, m)
    return b.finish()


def _emit_folded(b: Builder, conv: Node, m):
    w = b.get(conv.inputs[1])
    C, dt = w.shape[0], w.dtype
    vec = ((C,), dt)

    def op(name, ins, params, like_shape):
        return b.emit(name, ins, params, [like_shape], like=conv)[0]

    std = op("sqrt", [op("add", [b.get(m["var"]), b.get(m["eps"])], {}, vec)], {}, vec)
    scale = op("div", [b.get(m["weight"]), std], {}, vec) if m["weight"] is not None else op(
        "div", [b.const(np.ones((), dt)), std], {}, vec)
    w4 = op("reshape", [scale], {"shape": (C,) + (1,) * (w.ndim - 1)}, ((C,) + (1,) * (
        w.ndim - 1), dt))
    new_w = op("mul", [w, w4], {}, (w.shape, dt))
    centered = b.get(m["mean"])
    if m["bias"] is not None:
        centered = op("sub", [centered, b.get(m["bias"])], {}, vec)
    offset = op("mul", [centered, scale], {}, vec)
    shift = op("sub", [b.get(m["shift"]), offset], {}, vec) if m["shift"] is not None else op(
        "neg", [offset], {}, vec)
    out = m["out"]
    y = op("conv", [b.get(conv.inputs[0]), new_w], conv.params, (conv.outputs[0].shape, dt))
    bshape = (1, C) + (1,) * (out.ndim - 2)
    shift4 = op("reshape", [shift], {"shape": bshape}, (bshape, dt))
    b.alias(out, op("add", [y, shift4], {}, (out.shape, out.dtype)))


DEFAULT_PASSES = ("dce", "fold_constants", "identities", "contractions", "cse",
                  "fold_batchnorm", "dce")


def simplify(g: Graph, passes=None, log: bool = False, max_rounds: int = 4):
    """Apply the named ``passes`` (default :data:`DEFAULT_PASSES`) until nothing changes.

    Returns the new graph, or ``(graph, log)`` with ``log=True``: a list of
    ``(pass, nodes before, nodes after)`` per pass run.
    """
    names = DEFAULT_PASSES if passes is None else tuple(passes)
    for nm in names:
        if nm not in PASSES:
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError(f"simplify(): unknown pass {nm!r}; passes are "
                                       f"{sorted(PASSES)}")
    entries = []
    for _ in range(max_rounds):
        start = _signature(g)
        for nm in names:
            before = len(g.nodes)
            g = PASSES[nm](g)
            entries.append((nm, before, len(g.nodes)))
        if _signature(g) == start:
            break
    return (g, entries) if log else g


def _signature(g):
    return tuple((n.op, len(n.inputs)) for n in g.nodes)
