""":func:`draw`: checks its options, builds the forward and/or backward graph, labels it
and hands it to the emitter."""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentTypeError, InvalidArgumentError
from ..tensor import Tensor
from .emit import Graph, _emit
from .graph import (
    _V,
    _as_outputs,
    _Builder,
    _compute_gradients,
    _is_backward,
    _number_forward,
    _param_names,
)
from .grouping import _assign_clusters, _collapse, _truncate
from .labels import (
    _bold,
    _fmt_params,
    _fmt_shape,
    _html,
    _saved_text,
    _shown_params,
    _small,
    op_label,
)
from .stats import GradStats, _Stat
from .styles import _BACKWARD_BORDER, _BAD_GRAD_BORDER, KIND_STYLES, style_for

_RANKDIRS = ("TB", "LR", "BT", "RL")
_MODES = (False, True, "both")


def draw(
    output,
    *,
    backward: bool | str = False,
    params=None,
    show_shapes: bool = True,
    show_attrs: bool = True,
    show_saved: bool = False,
    group_modules: bool = True,
    collapse: str | int | None = None,
    rankdir: str = "TB",
    max_nodes: int | None = 2000,
    grads: GradStats | None = None,
    title: str | None = None,
) -> Graph:
    """Draw the graph that computed ``output`` (or its backward graph).

    Parameters
    ----------
    output : Tensor, sequence of Tensor, or Graph
        The result(s) whose history is drawn; any shape (a non-scalar output is
        differentiated against a gradient of ones when ``backward`` is set). A traced
        :class:`~autograd_cnn.graph.Graph` is drawn from its IR (its backward nodes, if
        any, beside the forward ones); ``backward``, ``params`` and ``grads`` do not
        apply to it.
    backward : bool or "both"
        False: the forward graph. True: the graph of the gradient computation, recorded
        by running the VJPs with ``create_graph=True`` (gradients of ``output`` with
        respect to every leaf that requires grad; ``.grad`` is not touched); forward
        values the VJPs read appear as dashed "saved" boxes. ``"both"``: forward and
        backward side by side, each forward op joined by a dotted line to the first op
        of its VJP (forward ops are numbered, backward ops name theirs: ``∂ conv2d
        #3``). Needs the forward graph's saved tensors (draw before
        ``backward()`` or use ``retain_graph=True``).
    params : mapping, iterable of (name, Tensor), or module, optional
        Names for leaf tensors (like ``dict(model.named_parameters())``); otherwise a
        leaf's ``.name`` is used. Named leaves are drawn as parameters.
    show_shapes : bool
        Output shape and dtype in each box, and input shapes on the edges.
    show_attrs : bool
        Hyper-parameters (stride, padding, axis, index...) in each op box.
    show_saved : bool
        List the buffers each node keeps for backward (or "freed" after backward).
    group_modules : bool
        Draw nodes recorded inside ``tape.scope`` (module calls) in nested clusters
        labelled with the module path (``features.3``).
    collapse : None, "modules" or int
        Fold modules into one box each: an int ``k`` folds every module at depth ``k``
        (``1``: ``features``, ``classifier``; ``2``: ``layer1.0``...); ``"modules"`` folds
        each element of a container (the first numeric path component, ``layer1.0`` or
        ``features.3``, else the top-level module). Parameters used only inside a folded
        module are folded with it.
    rankdir : {"TB", "LR", "BT", "RL"}
        Graphviz layout direction.
    max_nodes : int or None
        Draw at most this many boxes (the ones nearest to the outputs) and a marker
        saying how many were left out; None draws everything. A truncated backward
        drawing keeps its seeds (``grad_output``) and its gradient sinks (``∂out /
        ∂param``; at most ``max_nodes // 2`` of them, those nearest the output).
    grads : GradStats, optional
        Gradient statistics recorded during a backward (see :class:`GradStats`); boxes
        then show gradient norm/min/max, with NaN/Inf flagged in red.
    title : str, optional
        A caption drawn above the graph.

    Returns
    -------
    Graph
        A :class:`graphviz.Digraph` subclass; ``.source`` is the DOT text, ``.info`` a dict
        of counts (``ops``, ``backward_ops``, ``leaves``, ``groups``, ``nodes``,
        ``hidden``). Shown inline in notebooks.

    Examples
    --------
    >>> import autograd_cnn as ac
    >>> x = ac.randn(2, 3, requires_grad=True)
    >>> g = draw((x * x).sum(), backward=True)
    >>> g.info["backward_ops"] > 0
    True
    """
    from ..graph import Graph as IRGraph

    if isinstance(output, IRGraph):  # a traced graph: drawn from the IR
        from .ir_drawing import draw_graph

        return draw_graph(output, show_shapes=show_shapes, group_modules=group_modules,
                          collapse=collapse, rankdir=rankdir, max_nodes=max_nodes,
                          title=title)
    outputs = _as_outputs(output)
    if isinstance(backward, (bool, np.bool_)):
        backward = bool(backward)
    elif not (isinstance(backward, str) and backward == "both"):
        raise InvalidArgumentError(
            f"draw(): backward must be False, True or 'both', got {backward!r}"
        )
    if rankdir not in _RANKDIRS:
        raise InvalidArgumentError(
            f"draw(): rankdir must be one of {_RANKDIRS}, got {rankdir!r}"
        )
    if collapse is not None and collapse != "modules" and (
        isinstance(collapse, bool) or not isinstance(collapse, int) or collapse < 1
    ):
        raise InvalidArgumentError(
            f"draw(): collapse must be None, 'modules' or an int >= 1, got {collapse!r}"
        )
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1
    ):
        raise InvalidArgumentError(
            f"draw(): max_nodes must be None or an int >= 1, got {max_nodes!r}"
        )
    if grads is not None and not isinstance(grads, GradStats):
        raise ArgumentTypeError(
            f"draw(): grads must be a GradStats (or None), got {type(grads).__name__}"
        )

    names = _param_names(params)
    b = _Builder(names)
    sinks: list[tuple[Tensor, Tensor]] = []
    if backward is False:
        b.walk(outputs, expand=lambda n: True)
    else:
        sinks, seeds = _compute_gradients(outputs)
        b.seed_ids = {id(t) for t in seeds}
        if backward == "both":
            b.walk(outputs, expand=lambda n: True)
        b.walk([g for _, g in sinks], expand=lambda n: backward == "both" or _is_backward(n))

    fwd_numbers = _number_forward(outputs, b)
    _label_all(b, fwd_numbers, show_shapes, show_attrs, show_saved, grads)

    # gradient sinks: d output / d leaf
    out_name = "out" if len(outputs) == 1 else "outputs"
    unnamed = [id(leaf) for leaf, _ in sinks if names.get(id(leaf), leaf.name) is None]
    for k, (leaf, g) in enumerate(sinks):
        lname = names.get(id(leaf), leaf.name)
        if lname is None:
            lname = "input" if len(unnamed) == 1 else f"input {unnamed.index(id(leaf))}"
        v = b._add(_V(("sink", k), "sink", tensor=leaf, shape=leaf.shape, dtype=leaf.dtype,
                      side="bwd"))
        rows = [_bold(f'∂{out_name} / ∂{lname}')]
        if show_shapes:
            rows.append(_small(f"{_fmt_shape(leaf.shape)} {leaf.dtype}"))
        v.label = _html(*rows)
        v.attrs = dict(KIND_STYLES["sink"])
        src = b.op(g._node) if g._node is not None else b.leaf(g)
        if src.kind == "constant":
            # a gradient that does not depend on anything differentiable (e.g. of a sum)
            src.label = _html(_bold('constant gradient'),
                              _small(f"{_fmt_shape(g.shape)} {g.dtype}"))
        b.edges.append((src.key, v.key, {"shape": g.shape, "input": 0}))

    return _lay_out(b, collapse=collapse, show_shapes=show_shapes, max_nodes=max_nodes,
                    group_modules=group_modules, both=backward == "both", rankdir=rankdir,
                    title=title)


def _lay_out(b: _Builder, *, collapse, show_shapes, max_nodes, group_modules, both, rankdir,
             title) -> Graph:
    """Fold, truncate, cluster and emit the collected vertices (tape and IR drawings)."""
    vertices, edges = _collapse(b, collapse, show_shapes)
    vertices, edges, hidden = _truncate(vertices, edges, max_nodes, b)
    _assign_clusters(vertices, edges, group_modules, both=both)
    graph = _emit(vertices, edges, rankdir, title, show_shapes, both=both,
                  correspondence=both, b=b)

    def count(*kinds, side=None):
        return sum(1 for v in vertices if v.kind in kinds and side in (None, v.side))

    graph.info = {
        "ops": count("op", side="fwd"),
        "backward_ops": count("op", side="bwd"),
        "leaves": count("parameter", "input"),
        "constants": count("constant"),
        "saved": count("saved"),
        "sinks": count("sink"),
        "groups": count("group"),
        "nodes": len(vertices),  # the "... more nodes" marker is among them
        "hidden": hidden,
    }
    return graph


def _label_all(b: _Builder, nums, show_shapes, show_attrs, show_saved, grads) -> None:
    for v in b.vs.values():
        if v.kind == "op":
            node = v.node
            num = nums.get(id(node))
            title = op_label(node) + (f" #{num}" if num else "")
            rows = [_bold(title)]
            if v.side == "bwd":
                f = node.grad_of
                fnum = nums.get(id(f))
                rows.append(_small(f"∂ {op_label(f)}" + (f" #{fnum}" if fnum else ""),
                                   "#2f5597"))
            if show_attrs:
                shown = _shown_params(node)
                if shown:
                    rows += [_small(line) for line in _fmt_params(shown)]
            if show_shapes:
                rows.append(_small(f"{_fmt_shape(node.out_shape)} {node.out_dtype}"))
            if show_saved:
                rows.append(_small(_saved_text(node), "#7f6000"))
            attrs = style_for(node.prim)
            if v.side == "bwd":
                attrs.update(_BACKWARD_BORDER)
            st = grads.get(node) if grads is not None else None
            if st is not None:
                rows += st.rows()
                if st.bad:
                    attrs.update(_BAD_GRAD_BORDER)
            v.label = _html(*rows)
            v.attrs = attrs
        elif v.kind in ("parameter", "input", "constant", "seed"):
            t = v.tensor
            if t is not None:
                name = b.names.get(id(t), t.name)
                head = name if name is not None else (
                    "input" if t.requires_grad else "constant")
            else:
                head = "constant"
            rows = [_bold(head)]
            if show_shapes:
                rows.append(_small(f"{_fmt_shape(v.shape)} {v.dtype}"))
            attrs = dict(KIND_STYLES[v.kind])
            if grads is not None and t is not None and t.grad is not None:
                st = _Stat(t.grad.data)
                rows += st.rows()
                if st.bad:
                    attrs.update(_BAD_GRAD_BORDER)
            v.label = _html(*rows)
            v.attrs = attrs
        elif v.kind == "saved":
            node = v.node
            num = nums.get(id(node))
            rows = [_bold(f"saved: {op_label(node)}" + (f" #{num}" if num else ""))]
            if show_shapes:
                rows.append(_small(f"{_fmt_shape(node.out_shape)} {node.out_dtype}"))
            v.label = _html(*rows)
            v.attrs = dict(KIND_STYLES["saved"])
