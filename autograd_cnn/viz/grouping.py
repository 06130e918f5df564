"""Reshaping the vertex list before emission: folding modules into one box each
(``collapse``), the ``max_nodes`` cap, and the module clusters."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import tape as _tape
from .graph import _V, _Builder
from .labels import _bold, _fmt_shape, _html, _small, _wrap, escape_label, op_label
from .styles import _BACKWARD_BORDER, KIND_STYLES


def _group_prefix(scope: tuple, collapse) -> tuple | None:
    """The module path a node is folded into, or None (not collapsed)."""
    if not scope or collapse is None:
        return None
    if collapse == "modules":
        # the first element of a container (Sequential / ModuleList child: a numeric
        # component) such as layer1.0 or features.3; else the top-level module (conv1).
        for k, part in enumerate(scope):
            if str(part).isdigit():
                return scope[: k + 1]
        return scope[:1]
    return scope[:collapse]


def _group_op_keys(groups: dict) -> list:
    """Keys of the op vertices folded into ``groups``."""
    return [m.key for g in groups.values() for m in g.members if m.kind == "op"]


def _collapse(b: _Builder, collapse, show_shapes) -> tuple[list[_V], list]:
    vs = b.vs
    if collapse is None:
        return [vs[k] for k in b.order], b.edges
    rep: dict[Any, Any] = {}  # vertex key -> group key
    groups: dict[Any, _V] = {}
    for key in b.order:
        v = vs[key]
        if v.kind != "op":
            continue
        prefix = _group_prefix(v.scope, collapse)
        if prefix is None:
            continue
        gkey = ("group", v.side, prefix)
        g = groups.get(gkey)
        if g is None:
            g = _V(gkey, "group", scope=prefix, side=v.side)
            g.order = v.order
            groups[gkey] = g
        g.order = min(g.order, v.order)
        g.members.append(v)
        rep[key] = gkey
    # fold leaves whose consumers all sit in one group, and constants of at most one
    # dimension (literals, masks, running statistics); data inputs (2+ dims) stay visible
    consumers: dict[Any, set] = {}
    for src, dst, _ in b.edges:
        consumers.setdefault(src, set()).add(rep.get(dst, dst))
    for key, cons in consumers.items():
        v = vs[key]
        # backward side: constants (masks, seeds' reshapes) and the forward values the
        # VJPs read ("saved") fold too
        foldable = v.kind in ("parameter", "input", "saved") or (
            v.kind == "constant" and (len(v.shape) <= 1 or v.side == "bwd")
        )
        # a module's forward box and its backward box (side by side) count as one
        modules = {("module", groups[c].scope) if c in groups else c for c in cons}
        if foldable and len(modules) == 1:
            (c,) = cons if len(cons) == 1 else [
                c for c in cons if c in groups and groups[c].side == "fwd"] or [None]
            if c in groups:
                rep[key] = c
                groups[c].members.append(v)
    # gradients of named parameters computed inside a folded module end there
    for src, dst, _ in b.edges:
        v = vs[dst]
        if v.kind == "sink" and rep.get(src) in groups and v.tensor is not None and (
            b.names.get(id(v.tensor), v.tensor.name) is not None
        ):
            rep[dst] = rep[src]
            groups[rep[src]].members.append(v)
    order = _tape._toposort([vs[k].node for k in _group_op_keys(groups)])
    rank = {id(n): -i for i, n in enumerate(order)}  # producers before consumers
    out_edges: dict[Any, list] = {}
    for src, dst, _ in b.edges:
        out_edges.setdefault(src, []).append(dst)
    # group labels
    for g in groups.values():
        # op names in execution order, with counts
        ops = sorted((m for m in g.members if m.kind == "op"),
                     key=lambda m: rank.get(id(m.node), 0))
        counts: dict[str, int] = {}
        for m in ops:
            counts[op_label(m.node)] = counts.get(op_label(m.node), 0) + 1
        summary = ", ".join(f"{n}×{c}" if c > 1 else n for n, c in counts.items())
        path = ".".join(str(p) for p in g.scope)
        head = ("∂ " if g.side == "bwd" else "") + path
        rows = [_bold(head)]
        rows += [_small(line) for line in _wrap(
            f"{len(ops)} op{'s' if len(ops) != 1 else ''}: {summary}", 44)]
        pars = [m for m in g.members if m.kind in ("parameter", "input")]
        if pars:
            n = sum(int(np.prod(m.shape)) for m in pars)
            rows.append(_small(f"{len(pars)} parameter tensor{'s' if len(pars) > 1 else ''}, "
                               f"{n:,} values"))
        grads_out = [m for m in g.members if m.kind == "sink"]
        if grads_out:
            rows.append(_small(f"→ gradients of {len(grads_out)} parameter"
                               f"{'s' if len(grads_out) > 1 else ''}", "#c55a11"))
        if show_shapes:
            # shapes of the values leaving the group (or of its only op)
            outs = []
            for m in ops:
                # consumers on the same side (forward values read by VJPs don't count)
                consumers_of = [d for d in out_edges.get(m.key, ()) if vs[d].side == m.side]
                if len(ops) == 1 or not consumers_of or any(
                    rep.get(d, d) != g.key for d in consumers_of
                ):
                    outs.append(_fmt_shape(m.shape))
            if outs:
                rows.append(_small("out " + ", ".join(dict.fromkeys(outs))))
        g.label = _html(*rows)
        g.attrs = dict(KIND_STYLES["group"])
        if g.side == "bwd":
            g.attrs.update(_BACKWARD_BORDER)
    vertices = []
    emitted = set()
    for key in b.order:
        r = rep.get(key, key)
        if r in emitted:
            continue
        emitted.add(r)
        vertices.append(groups[r] if r in groups else vs[r])
    vertices.sort(key=lambda v: v.order)
    edges = []
    seen = set()
    for src, dst, a in b.edges:
        s, d = rep.get(src, src), rep.get(dst, dst)
        if s == d or (s, d) in seen:
            continue
        seen.add((s, d))
        edges.append((s, d, a))
    return vertices, edges


def _truncate(vertices: list[_V], edges, max_nodes, b: _Builder):
    if max_nodes is None or len(vertices) <= max_nodes:
        return vertices, edges, 0
    # Keep the ends of a backward drawing: the seeds (grad_output) always, and the sinks
    # (∂out/∂param, appended after the walk, so last in discovery order) - all of them
    # when they fit in half the budget, else the first half-budget of them (those of the
    # parameters nearest the output). The rest of the budget goes to the vertices nearest
    # to the roots (discovery order is breadth first).
    def holds(v, kind):
        return v.kind == kind or (v.kind == "group" and any(m.kind == kind for m in v.members))

    seeds = [v.key for v in vertices if holds(v, "seed")]
    sinks = [v.key for v in vertices if holds(v, "sink") and v.key not in seeds]
    keep = set(seeds)
    keep.update(sinks[:max(max_nodes // 2, 1)])
    budget = max(max_nodes - len(keep), 0)
    for v in vertices:
        if budget == 0:
            break
        if v.key not in keep and not holds(v, "sink"):
            keep.add(v.key)
            budget -= 1
    kept = [v for v in vertices if v.key in keep]
    hidden = len(vertices) - len(kept)
    if not hidden:
        return vertices, edges, 0
    more = _V(("more",), "more")
    more.label = _html(escape_label(f"... {hidden:,} more nodes not shown"),
                       _small("(max_nodes; pass max_nodes=None or collapse=...)"))
    more.attrs = dict(KIND_STYLES["more"])
    new_edges = []
    cut_into = set()
    cut_from = set()
    for s, d, a in edges:
        if s in keep and d in keep:
            new_edges.append((s, d, a))
        elif d in keep and d not in cut_into:
            cut_into.add(d)
            new_edges.append((more.key, d, {"shape": None, "input": -1, "cut": True}))
        elif s in keep and s in seeds and s not in cut_from:
            # a seed whose consumers are hidden: join it to the marker, not float alone
            cut_from.add(s)
            new_edges.append((s, more.key, {"shape": None, "input": -1, "cut": True}))
    kept.append(more)
    return kept, new_edges, hidden


def _assign_clusters(vertices: list[_V], edges, group_modules: bool, both: bool) -> None:
    by_key = {v.key: v for v in vertices}
    for v in vertices:
        base = (("side", v.side),) if both else ()
        if v.kind in ("op", "saved") and group_modules:
            scope = v.scope if v.kind == "op" else ()
            v.cluster = base + tuple(("mod", scope[: k + 1]) for k in range(len(scope)))
        elif v.kind == "group" and group_modules:
            scope = v.scope[:-1]
            v.cluster = base + tuple(("mod", scope[: k + 1]) for k in range(len(scope)))
        else:
            v.cluster = base
    # leaves and constants go in the cluster of their consumers when all share one
    consumers: dict[Any, set] = {}
    for s, d, _ in edges:
        if d in by_key:
            consumers.setdefault(s, set()).add(by_key[d].cluster)
    for v in vertices:
        if v.kind in ("parameter", "input", "constant"):
            cl = consumers.get(v.key, set())
            data = v.kind == "constant" and len(v.shape) >= 2  # data inputs stay outside
            if len(cl) == 1 and not data:
                v.cluster = next(iter(cl))
            elif both:
                # shared leaves belong to the forward side
                v.cluster = (("side", "fwd"),)
