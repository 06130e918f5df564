"""What a compile captures from the function before tracing it: the modules it reaches
(whose buffers must survive tracing unchanged, and whose flags join the signature), the
names of its parameters, the small symbolic batch to trace at, and example cotangents.
"""

from __future__ import annotations

import inspect
import itertools

import numpy as np

from ..errors import CompileError
from ..graph import ShapeSpec
from ..graph.ir import Dim
from ..tensor import Tensor


def _modules_of(fn):
    """Modules whose buffers ``fn`` may update (itself, its ``self``, closure, globals)."""
    from ..nn.module import Module

    found = []
    if isinstance(fn, Module):
        found.append(fn)
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, Module):
        found.append(owner)
    code = getattr(fn, "__code__", None)
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            if isinstance(cell.cell_contents, Module):
                found.append(cell.cell_contents)
        except ValueError:
            pass
    if code is not None:
        g = getattr(fn, "__globals__", {})
        for name in code.co_names:
            if isinstance(g.get(name), Module):
                found.append(g[name])
    out, seen = [], set()
    for m in found:
        if id(m) not in seen:
            seen.add(id(m))
            out.append(m)
    return out


def _param_source(fn):
    """What ``trace(params=...)`` should name: the module, or the parameters and
    buffers of the modules the function reaches (so buffers are graph parameters, read
    at call time, not constants)."""
    mods = _modules_of(fn)
    if _is_module(fn) or not mods:
        return fn if _is_module(fn) else None
    if len(mods) == 1:
        return mods[0]
    named = {}
    for k, m in enumerate(mods):
        for name, t in itertools.chain(m.named_parameters(), m.named_buffers()):
            named.setdefault(f"m{k}.{name}", t)
    return named


def _snapshot(modules):
    return [(t, np.array(t.data, copy=True)) for m in modules for _, t in m.named_buffers()]


def _untraced_changes(snap, graph, runs):
    """Buffers the function changed outside the ops (so the graph cannot replay it).

    An integer counter incremented once per call (BatchNorm's ``num_batches_tracked``)
    is returned, to be incremented by each compiled call; anything else is refused.
    """
    updated = {id(graph.bindings[p.name]) for p, _ in graph.updates}
    counters = []
    for t, old in snap:
        if id(t) in updated or np.array_equal(t.data, old):
            continue
        if t.data.dtype.kind in "iu" and np.all(t.data - old == runs):
            counters.append(t)
            continue
        raise CompileError(
            f"ac.compile: the function changes a buffer (shape {t.shape}, {t.dtype}) outside "
            "the library's ops (through .data), which a compiled graph cannot replay; "
            "update it with ops and ac.tape.assign, or pass fallback=True")
    return counters


def _restore(snap):
    for t, arr in snap:
        t.data[...] = arr


def _input_names(fn, args, tensor_pos):
    """The parameter names of ``fn`` (a module's ``forward``) at the tensor positions."""
    target = fn.forward if _is_module(fn) else fn
    try:
        ps = [p.name for p in inspect.signature(target).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        ps = []
    ps += [f"x{i}" for i in range(len(ps), len(args))]
    return [ps[i] for i in tensor_pos]


def _batch_specs(args, tensor_pos):
    """Trace at a small symbolic batch: ShapeSpecs with ``N`` for the tensors whose first
    dim is the batch (that of the first tensor argument), and the bind env, or None."""
    shapes = [tuple(args[i].shape) for i in tensor_pos]
    if not shapes or not shapes[0] or shapes[0][0] < 1:
        return None
    n = shapes[0][0]
    examples = []
    for i, a in enumerate(args):
        if i in tensor_pos:
            arr = a.data if isinstance(a, Tensor) else a
            if arr.ndim and arr.shape[0] == n and arr.dtype.kind in "fiub":
                examples.append(ShapeSpec((None,) + arr.shape[1:], arr.dtype,
                                          sizes={"N": 2}))
                continue
            examples.append(arr)
        else:
            examples.append(a)
    return examples, {"N": n}


def _seed_example(v, env):
    """An example cotangent for output ``v`` (a ShapeSpec when its shape is symbolic)."""
    if not env:
        return np.ones(tuple(v.shape), v.dtype)
    dims = []
    for s in v.shape:
        if isinstance(s, Dim):
            if (s.name, s.scale, s.offset) != ("N", 1, 0):
                raise CompileError(f"output dim {s} is not the batch")
            dims.append("N")
        else:
            dims.append(s)
    return ShapeSpec(tuple(dims), v.dtype, sizes={"N": 2})


def _leaves(out, acc):
    if isinstance(out, Tensor):
        acc.append(out)
    elif isinstance(out, (tuple, list)):
        for o in out:
            _leaves(o, acc)
    elif isinstance(out, dict):
        for o in out.values():
            _leaves(o, acc)


def _consts(nodes, extra=()):
    seen, out = set(), []
    for v in [v for n in nodes for v in n.inputs] + list(extra):
        if v.kind == "const" and id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _is_module(fn) -> bool:
    from ..nn.module import Module

    return isinstance(fn, Module)


def _name(fn) -> str:
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return name if name.isidentifier() else "compiled"
