"""Drawing a traced :class:`~autograd_cnn.graph.Graph` (the IR) with the same boxes,
styles, module clusters and folding as tape drawings; and two graphs side by side."""

from __future__ import annotations

import graphviz

from ..primitive import REGISTRY
from .emit import Graph
from .graph import _V, _Builder
from .labels import _bold, _fmt_shape, _html, _small, escape_label
from .styles import KIND_STYLES


class _Leaf:
    """What the labeller reads of a leaf: its name."""

    def __init__(self, name, requires_grad):
        self.name, self.requires_grad, self.grad = name, requires_grad, None


class _NodeView:
    """An IR node seen through the tape node's attributes that the labeller reads."""

    freed = False
    inputs = out = aux = None

    def __init__(self, node, views):
        self.node = node
        self.prim = REGISTRY[node.op]
        self.params = node.params
        self.out_shape = node.outputs[0].shape
        self.out_dtype = node.outputs[0].dtype
        self.input_meta = tuple((v.shape, v.dtype) for v in node.inputs)
        self.grad_of = views.get(id(node.grad_of)) if node.grad_of is not None else None
        if node.grad_of is not None and self.grad_of is None:  # its forward was removed
            self.grad_of = _NodeView(node.grad_of, {})
        self.scope = node.scope


def _build(graph, show_shapes):
    from .drawing import _label_all

    b = _Builder({})
    views: dict[int, _NodeView] = {}
    keys: dict[int, tuple] = {}
    for kind, values in (("input", graph.inputs), ("parameter", graph.params)):
        for v in values:
            keys[id(v)] = ("leaf", id(v))
            b._add(_V(keys[id(v)], kind, tensor=_Leaf(v.name, True), shape=v.shape,
                      dtype=v.dtype))
    for v in graph.consts:
        keys[id(v)] = ("leaf", id(v))
        b._add(_V(keys[id(v)], "constant", tensor=_Leaf(None, False), shape=v.shape,
                  dtype=v.dtype))
    nums, order = {}, 0
    for n in graph.nodes:
        view = views[id(n)] = _NodeView(n, views)
        side = "bwd" if n.grad_of is not None else "fwd"
        if side == "fwd":
            order += 1
            nums[id(view)] = order
        scope = view.grad_of.scope if side == "bwd" else n.scope
        vx = b._add(_V(("node", id(view)), "op", node=view, shape=view.out_shape,
                       dtype=view.out_dtype, scope=scope, side=side))
        for o in n.outputs:
            keys[id(o)] = vx.key
        for i, v in enumerate(n.inputs):
            b.edges.append((keys[id(v)], vx.key, {"shape": v.shape, "input": i}))
    has_bwd = any(n.grad_of is not None for n in graph.nodes)
    _label_all(b, nums if has_bwd else {}, show_shapes, True, False, None)
    for k, v in enumerate(graph.outputs):
        sink = b._add(_V(("sink", k), "sink", shape=v.shape, dtype=v.dtype,
                         side="bwd" if has_bwd else "fwd"))
        rows = [_bold(f"output {k}" if len(graph.outputs) > 1 else "output")]
        if show_shapes:
            rows.append(_small(f"{_fmt_shape(v.shape)} {v.dtype}"))
        sink.label, sink.attrs = _html(*rows), dict(KIND_STYLES["sink"])
        b.edges.append((keys[id(v)], sink.key, {"shape": v.shape, "input": 0}))
    return b, has_bwd


def draw_graph(graph, *, show_shapes=True, group_modules=True, collapse=None, rankdir="TB",
               max_nodes=2000, title=None) -> Graph:
    """Draw a traced graph; backward nodes (``grad_of`` set) get the backward border and
    their ``∂ op #k`` row, and forward/backward sit side by side when both are present."""
    from .drawing import _lay_out

    b, both = _build(graph, show_shapes)
    return _lay_out(b, collapse=collapse, show_shapes=show_shapes, max_nodes=max_nodes,
                    group_modules=group_modules, both=both, rankdir=rankdir, title=title)


def side_by_side(graphs, titles=None, **kwargs) -> Graph:
    """Draw several graphs (drawings or IR graphs) next to each other, each in a titled
    frame: ``side_by_side([g, g.simplify()], ["traced", "simplified"])``."""
    from ..graph import Graph as IRGraph

    titles = list(titles) if titles is not None else [f"graph {i}" for i in range(len(graphs))]
    out = Graph(name="autograd_cnn", format="svg")
    out.attr("graph", rankdir=kwargs.get("rankdir", "TB"), fontname="Helvetica")
    info = {}
    for i, (g, t) in enumerate(zip(graphs, titles)):
        d = draw_graph(g, **kwargs) if isinstance(g, IRGraph) else g
        body = d.source
        sub = graphviz.Digraph(name=f"cluster_side{i}")
        sub.attr(label=_html(_bold(escape_label(t))), style="rounded", color="#7f7f7f")
        # node names are per drawing: prefix them so the frames do not share nodes
        inner = body[body.index("{") + 1: body.rindex("}")]
        inner = _prefix_names(inner, f"g{i}_")
        sub.body.append(inner)
        out.subgraph(sub)
        info[t] = d.info
    out.info = {"graphs": info, "nodes": sum(i["nodes"] for i in info.values())}
    return out


def _prefix_names(dot_body: str, prefix: str) -> str:
    import re

    # node names the emitter makes are n<digits>; cluster names cluster_<digits>
    dot_body = re.sub(r"\bn(\d+)\b", lambda m: f"{prefix}n{m.group(1)}", dot_body)
    return re.sub(r"\bcluster_(\d+)\b", lambda m: f"cluster_{prefix}{m.group(1)}", dot_body)
