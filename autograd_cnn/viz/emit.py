"""Emitting vertices and edges as DOT: :class:`Graph`, a Digraph that still displays in
notebooks when Graphviz ``dot`` is missing."""

from __future__ import annotations

from typing import Any

import graphviz

from .graph import _V, _Builder
from .labels import _bold, _fmt_shape, _html, escape_label
from .styles import _CORRESPONDENCE


class Graph(graphviz.Digraph):
    """A :class:`graphviz.Digraph` returned by :func:`draw`.

    Adds ``info`` (counts of what was drawn) and notebook display that degrades
    gracefully: when the Graphviz ``dot`` program is missing, notebooks show a one-line
    explanation and the DOT text instead of raising.
    """

    info: dict

    def _missing_text(self) -> str:
        return (f"{_MISSING_DOT} The DOT text follows (graph.source):\n\n{self.source}")

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            return {"text/plain": self._missing_text()}

    def _repr_svg_(self) -> str | None:
        """SVG for notebooks (None, so the text form shows, when ``dot`` is missing)."""
        try:
            return self.pipe(format="svg", encoding="utf-8")
        except graphviz.ExecutableNotFound:
            return None


_MISSING_DOT = (
    "The Graphviz 'dot' program was not found on PATH, so the graph cannot be laid out. "
    "Install it (apt-get install graphviz, brew install graphviz or conda install graphviz); "
    "the DOT text is still available as draw(...).source or render(..., format='dot')."
)


def _node_name(key, names: dict) -> str:
    n = names.get(key)
    if n is None:
        n = names[key] = f"n{len(names)}"
    return n


def _emit(vertices, edges, rankdir, title, show_shapes, both, correspondence, b) -> Graph:
    graph = Graph(name="autograd_cnn", format="svg")
    graph.attr("graph", rankdir=rankdir, fontname="Helvetica", fontsize="11",
               nodesep="0.25", ranksep="0.35")
    graph.attr("node", fontname="Helvetica", fontsize="11", margin="0.08,0.04", height="0.3")
    graph.attr("edge", fontname="Helvetica", fontsize="9", color="#404040",
               arrowsize="0.7")
    if title:
        graph.attr("graph", label=_html(_bold(title)), labelloc="t")
    names: dict[Any, str] = {}
    # clusters: every prefix of every vertex's cluster path
    paths: set[tuple] = set()
    for v in vertices:
        for k in range(1, len(v.cluster) + 1):
            paths.add(v.cluster[:k])
    subs: dict[tuple, graphviz.Digraph] = {}
    # forward before backward (left / top), then module paths in order of appearance
    first_seen: dict[tuple, int] = {}
    for v in vertices:
        for k in range(1, len(v.cluster) + 1):
            first_seen.setdefault(v.cluster[:k], v.order)

    def cluster_order(p):
        side = 0 if p[0] == ("side", "fwd") else 1
        return (side, len(p), first_seen[p])

    for i, p in enumerate(sorted(paths, key=cluster_order)):
        kind, val = p[-1]
        if kind == "side":
            text = "forward" if val == "fwd" else "backward (create_graph=True)"
            sub = graphviz.Digraph(name=f"cluster_{i}")
            sub.attr(label=_html(_bold(text)), style="rounded",
                     color="#2f5597" if val == "bwd" else "#7f7f7f", fontsize="12")
        else:
            sub = graphviz.Digraph(name=f"cluster_{i}")
            sub.attr(label=_html(escape_label(".".join(str(s) for s in val))),
                     style="rounded,dashed", color="#a6a6a6", fontsize="10",
                     labeljust="l")
        subs[p] = sub
    for v in vertices:
        target = subs[v.cluster] if v.cluster else graph
        target.node(_node_name(v.key, names), label=v.label, **v.attrs)
    # nest clusters: deepest first, so children are inside before a parent is copied
    for p in sorted(paths, key=lambda p: (-len(p),) + cluster_order(p)):
        parent = subs[p[:-1]] if len(p) > 1 else graph
        parent.subgraph(subs[p])
    kinds = {v.key: v.kind for v in vertices}
    for s, d, a in edges:
        attrs: dict[str, str] = {}
        if show_shapes and a.get("shape") is not None:
            attrs["label"] = _html(escape_label(_fmt_shape(a["shape"])))
        if a.get("cut"):
            attrs.update(style="dotted", color="#a6a6a6")
        elif kinds.get(s) == "saved" or (both and kinds.get(s) != "sink" and _crosses(s, d, b)):
            attrs.update(style="dashed", color="#7f7f7f")
        elif kinds.get(s) == "constant":
            attrs.update(color="#a6a6a6")
        graph.edge(_node_name(s, names), _node_name(d, names), **attrs)
    if correspondence:
        # one dotted line per forward op, to the first op its VJP ran (the one furthest
        # from the gradient sinks); the "∂ op #k" rows mark the others
        first: dict[Any, _V] = {}
        for v in vertices:
            if v.kind == "op" and v.side == "bwd":
                fkey = ("node", id(v.node.grad_of))
                if fkey in names and (fkey not in first or v.order > first[fkey].order):
                    first[fkey] = v
        for fkey, v in first.items():
            graph.edge(names[fkey], names[v.key], **_CORRESPONDENCE)
        for v in vertices:  # a folded module and its folded backward
            if v.kind == "group" and v.side == "bwd":
                fkey = ("group", "fwd", v.scope)
                if fkey in names:
                    graph.edge(names[fkey], names[v.key], **_CORRESPONDENCE)
    return graph


def _crosses(src_key, dst_key, b: _Builder) -> bool:
    """A forward value read by a backward op (drawn dashed in side-by-side mode)."""
    s, d = b.vs.get(src_key), b.vs.get(dst_key)
    return s is not None and d is not None and s.side == "fwd" and d.side == "bwd" and (
        s.kind == "op")
