"""Drawing forward and backward graphs with Graphviz.

:func:`draw` turns the tape behind a tensor into a :class:`graphviz.Digraph`: one box per
recorded op (name, hyper-parameters, output shape and dtype), leaves styled by kind
(named parameter, input, constant), edges labelled with the shapes that flow along them.
With ``backward=True`` it draws the *gradient computation itself*: the VJPs are run with
``create_graph=True``, so every op they apply is recorded like a forward op, and each
recorded node knows (``Node.grad_of``) which forward op it differentiates. That is how a
user sees that the input-gradient of ``conv2d`` is a ``conv_transpose2d`` and that of
``max_pool2d`` is a scatter to the argmax. ``backward="both"`` draws forward and backward
side by side with dotted lines joining each forward op to the ops of its VJP.

Nodes recorded inside ``tape.scope(name)`` (every ``nn.Module`` call) are drawn in
clusters named by the module path (``features.3``); ``collapse`` folds each module into
a single box. Traversal is iterative (no recursion limit), works after ``backward()`` freed
the saved buffers (the metadata stays on the nodes), and every label is escaped, so names
with quotes, backslashes, angle brackets or newlines still give valid DOT.

>>> import autograd_cnn as ac
>>> from autograd_cnn import viz
>>> x = ac.tensor([[1.0, 2.0]], requires_grad=True)
>>> w = ac.tensor([[0.5], [-1.0]], requires_grad=True)
>>> w.name = "w"
>>> g = viz.draw(ac.relu(x @ w).sum())
>>> g.info["ops"], g.info["leaves"]
(3, 2)
>>> "matmul" in g.source
True
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import weakref
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from . import tape as _tape
from .errors import (
    ArgumentTypeError,
    GraphFreedError,
    GraphvizNotFoundError,
    GraphvizRenderError,
    InvalidArgumentError,
    NoGradError,
)
from .primitive import CATEGORIES, REGISTRY, Primitive
from .tensor import Tensor

__all__ = [
    "CATEGORY_STYLES",
    "KIND_STYLES",
    "FORMATS",
    "Graph",
    "GradStats",
    "draw",
    "render",
    "to_dot",
    "dot_available",
    "escape_label",
    "op_label",
    "style_for",
]

# ---- styles --------------------------------------------------------------------------

#: Fill colour and shape per primitive category (every entry of primitive.CATEGORIES must
#: have one: tests/test_viz.py enforces it, like gradcheck cases for the registry).
CATEGORY_STYLES: dict[str, dict[str, str]] = {
    "elementwise": {"fillcolor": "#fff2cc", "shape": "box"},
    "reduce": {"fillcolor": "#e1d5e7", "shape": "box"},
    "movement": {"fillcolor": "#dae8fc", "shape": "box"},
    "indexing": {"fillcolor": "#d5e8d4", "shape": "box"},
    "linalg": {"fillcolor": "#f8cecc", "shape": "box"},
    "conv": {"fillcolor": "#ffcc99", "shape": "box"},
    "pool": {"fillcolor": "#b3e0dc", "shape": "box"},
    "resample": {"fillcolor": "#e6f0c2", "shape": "box"},
    "normalization": {"fillcolor": "#f4d8f0", "shape": "box"},
    "loss": {"fillcolor": "#ff9999", "shape": "box"},
}

#: Styles of the other kinds of boxes.
KIND_STYLES: dict[str, dict[str, str]] = {
    # a leaf that requires grad and has a name (a module parameter, or named by the user)
    "parameter": {"shape": "box", "style": "filled", "fillcolor": "#c6e0b4"},
    # a leaf that requires grad without a name (the input being differentiated)
    "input": {"shape": "ellipse", "style": "filled", "fillcolor": "#bdd7ee"},
    # an input that does not require grad (data, labels, literal scalars)
    "constant": {"shape": "box", "style": "filled,dashed", "fillcolor": "#f2f2f2",
                 "color": "#999999", "fontcolor": "#555555"},
    # in a backward-only drawing: a forward value a VJP reads (saved for backward)
    "saved": {"shape": "box", "style": "dashed,rounded", "color": "#7f7f7f",
              "fontcolor": "#404040"},
    # in a backward drawing: where a gradient ends (d output / d leaf)
    "sink": {"shape": "ellipse", "style": "filled,bold", "fillcolor": "#fce4d6",
             "color": "#c55a11"},
    # a module folded into one box by ``collapse``
    "group": {"shape": "box3d", "style": "filled", "fillcolor": "#f5f5f5"},
    # in a backward drawing: the gradient of the output(s) the backward starts from
    "seed": {"shape": "box", "style": "filled,bold", "fillcolor": "#fce4d6",
             "color": "#c55a11"},
    # the marker for nodes cut by ``max_nodes``
    "more": {"shape": "plaintext", "fontcolor": "#7f7f7f"},
}

_FALLBACK_STYLE = {"fillcolor": "#ffffff", "shape": "box"}
_BACKWARD_BORDER = {"color": "#2f5597", "penwidth": "1.6"}
_BAD_GRAD_BORDER = {"color": "#e00000", "penwidth": "3"}
_CORRESPONDENCE = {"style": "dotted", "color": "#8064a2", "arrowhead": "none",
                   "constraint": "false"}

FORMATS = ("svg", "png", "pdf", "dot")
_RANKDIRS = ("TB", "LR", "BT", "RL")
_MODES = (False, True, "both")


def style_for(prim: Primitive) -> dict[str, str]:
    """Graphviz attributes of the box of an op of primitive ``prim`` (by its category).

    Returns a fresh dict (``shape``, ``style``, ``fillcolor``) that callers may modify.
    """
    base = CATEGORY_STYLES.get(prim.category, _FALLBACK_STYLE)
    return {"style": "filled,rounded", **base}


# ---- escaping ------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape_label(text: Any) -> str:
    """Escape ``text`` for use inside a Graphviz HTML-like label.

    Quotes, ampersands and angle brackets become XML entities, newlines become line
    breaks, other control characters are dropped; backslashes are literal in HTML-like
    labels, so they need no escaping; text that is not valid Unicode (lone surrogates)
    becomes "?". The result is safe to concatenate with markup.
    """
    s = str(text).encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    s = _CONTROL.sub("", s).replace("\r\n", "\n").replace("\r", "\n")
    s = s.replace("\t", " ")
    return "<BR/>".join(html.escape(line, quote=True) for line in s.split("\n"))


def _html(*rows: str) -> str:
    """An HTML-like label from already escaped rows (first row bold-able by caller)."""
    return "<" + "<BR/>".join(r for r in rows if r) + ">"


def _small(text: str, color: str | None = None) -> str:
    """An escaped row in a smaller font ("" for empty text: Graphviz rejects empty
    elements)."""
    esc = escape_label(text)
    if not esc:
        return ""
    colour = f' COLOR="{color}"' if color else ""
    return f'<FONT POINT-SIZE="9"{colour}>{esc}</FONT>'


def _bold(text: str) -> str:
    """An escaped bold row; an empty name shows as ``''`` (empty elements are invalid)."""
    esc = escape_label(text)
    return f"<B>{esc}</B>" if esc.strip() else "<B>&#39;&#39;</B>"


# ---- formatting values ----------------------------------------------------------------


def _fmt_shape(shape) -> str:
    shape = tuple(int(s) for s in shape)
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _fmt_value(v, depth: int = 0) -> str:
    """Short printable form of a hyper-parameter value (slices as ``a:b:c``...)."""
    if isinstance(v, slice):
        parts = ["" if p is None else str(p) for p in (v.start, v.stop, v.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if v.step is not None else "")
    if v is Ellipsis:
        return "..."
    if isinstance(v, np.ndarray):
        if v.size <= 6:
            return "[" + ", ".join(_fmt_value(x, depth + 1) for x in v.ravel().tolist()) + "]"
        return f"array{_fmt_shape(v.shape)} {v.dtype}"
    if isinstance(v, Tensor):
        return f"tensor{_fmt_shape(v.shape)} {v.dtype}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    if isinstance(v, (tuple, list)):
        if depth > 3:
            return "..."
        if v and all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str)
                     for x in v):
            # a frozen mapping ((key, value), ...), as hashable params are often stored
            return "{" + ", ".join(f"{k}={_fmt_value(x, depth + 1)}" for k, x in v) + "}"
        inner = ", ".join(_fmt_value(x, depth + 1) for x in v)
        if isinstance(v, tuple):
            return f"({inner}{',' if len(v) == 1 else ''})"
        return f"[{inner}]"
    if isinstance(v, np.dtype):
        return str(v)
    return repr(v) if isinstance(v, str) else str(v)


def _fmt_params(params: Mapping, width: int = 36, limit: int = 100) -> list[str]:
    """``k=v`` items wrapped into lines of about ``width`` characters (a long item is cut
    at ``limit`` characters and split at its commas)."""
    lines: list[str] = []
    cur = ""
    for k, v in params.items():
        item = f"{k}={_fmt_value(v)}"
        if len(item) > limit:
            item = item[: limit - 3] + "..."
        if len(item) > width:
            if cur:
                lines.append(cur)
            *full, cur = _wrap(item, width)
            lines += full
            continue
        if cur and len(cur) + 2 + len(item) > width:
            lines.append(cur)
            cur = item
        else:
            cur = f"{cur}, {item}" if cur else item
    if cur:
        lines.append(cur)
    return lines


def _fmt_num(x: float) -> str:
    return f"{x:.3g}"


# ---- gradient statistics ----------------------------------------------------------------


class _Stat:
    __slots__ = ("norm", "min", "max", "nan", "inf")

    def __init__(self, arr: np.ndarray):
        a = np.asarray(arr, dtype=np.float64)
        finite = np.isfinite(a)
        self.nan = bool(np.isnan(a).any())
        self.inf = bool(np.isinf(a).any())
        fa = a[finite] if not finite.all() else a
        self.norm = float(np.sqrt(np.sum(fa * fa))) if fa.size else float("nan")
        self.min = float(fa.min()) if fa.size else float("nan")
        self.max = float(fa.max()) if fa.size else float("nan")

    @property
    def bad(self) -> bool:
        return self.nan or self.inf

    def rows(self) -> list[str]:
        color = "#e00000" if self.bad else "#1f4e79"
        out = [_small(f"grad norm {_fmt_num(self.norm)}", color),
               _small(f"min {_fmt_num(self.min)} max {_fmt_num(self.max)}", color)]
        if self.bad:
            flags = " ".join(f for f, on in (("NaN", self.nan), ("Inf", self.inf)) if on)
            out.append(f'<B><FONT COLOR="#e00000">{escape_label(flags + " in gradient")}'
                       "</FONT></B>")
        return out

    def __repr__(self):
        return (f"_Stat(norm={self.norm:.4g}, min={self.min:.4g}, max={self.max:.4g}, "
                f"nan={self.nan}, inf={self.inf})")


class GradStats:
    """Record each node's total output gradient statistics during a backward pass.

    Use as a context manager around ``backward()`` (it installs ``tape.STATE.on_node_grad``
    and chains to any hook already there), then pass it to ``draw(..., grads=stats)``:
    each op box then shows the gradient's norm, min and max, and is outlined in red with
    a "NaN"/"Inf" flag when the gradient holds non-finite values. Leaves show the
    statistics of their ``.grad``.

    Examples
    --------
    >>> import autograd_cnn as ac
    >>> from autograd_cnn import viz
    >>> x = ac.tensor([1.0, -2.0], requires_grad=True)
    >>> y = ac.relu(x * 3.0).sum()
    >>> with viz.GradStats() as stats:
    ...     y.backward()
    >>> len(stats)
    3
    """

    def __init__(self):
        self._stats: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._prev = None

    def __enter__(self) -> GradStats:
        self._prev = _tape.STATE.on_node_grad
        prev = self._prev

        def hook(node, g):
            self._stats[node] = _Stat(g.data)
            if prev is not None:
                prev(node, g)

        _tape.STATE.on_node_grad = hook
        return self

    def __exit__(self, *exc):
        _tape.STATE.on_node_grad = self._prev
        return False

    def get(self, node) -> _Stat | None:
        """The statistics recorded for ``node`` (a tape Node), or None."""
        return self._stats.get(node)

    def __len__(self) -> int:
        return len(self._stats)

    def nonfinite(self) -> list:
        """Nodes whose gradient held NaN or Inf."""
        return [n for n, s in self._stats.items() if s.bad]


# ---- the intermediate graph -----------------------------------------------------------


class _V:
    """A visible vertex: an op node, a leaf, a constant, a saved stub, a sink or a group."""

    __slots__ = ("key", "kind", "node", "tensor", "shape", "dtype", "scope", "side", "label",
                 "attrs", "members", "cluster", "order")

    def __init__(self, key, kind, *, node=None, tensor=None, shape=(), dtype=None, scope=(),
                 side="fwd"):
        self.key = key
        self.kind = kind
        self.node = node
        self.tensor = tensor
        self.shape = shape
        self.dtype = dtype
        self.scope = scope
        self.side = side
        self.label = ""
        self.attrs: dict[str, str] = {}
        self.members: list[_V] = []
        self.cluster: tuple = ()
        self.order = 0


def _is_backward(node) -> bool:
    return node is not None and node.grad_of is not None


def _as_outputs(output) -> list[Tensor]:
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, (list, tuple)) and output and all(
        isinstance(t, Tensor) for t in output
    ):
        return list(output)
    raise ArgumentTypeError(
        "draw(): output must be a Tensor or a non-empty list/tuple of Tensors, got "
        f"{type(output).__name__}"
    )


def _param_names(params) -> dict[int, str]:
    """``id(tensor) -> name`` from a mapping, (name, tensor) pairs, or a module."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters") and callable(params.named_parameters):
        params = params.named_parameters()
    items = params.items() if isinstance(params, Mapping) else params
    names: dict[int, str] = {}
    try:
        for name, t in items:
            if not isinstance(t, Tensor):
                raise ArgumentTypeError(
                    f"draw(): params[{name!r}] must be a Tensor, got {type(t).__name__}"
                )
            names[id(t)] = str(name)
    except (TypeError, ValueError) as e:
        if isinstance(e, ArgumentTypeError):
            raise
        raise ArgumentTypeError(
            "draw(): params must be a mapping name -> Tensor, an iterable of (name, Tensor) "
            f"pairs or a module with named_parameters(), got {type(params).__name__}"
        ) from None
    return names


def _leaves_requiring_grad(outputs: Sequence[Tensor]) -> list[Tensor]:
    """Leaf tensors that require grad reachable from ``outputs``, in discovery order."""
    leaves: list[Tensor] = []
    seen_leaf: set[int] = set()
    seen: set[int] = set()
    stack = []
    for t in outputs:
        if t._node is None:
            if t.requires_grad and id(t) not in seen_leaf:
                seen_leaf.add(id(t))
                leaves.append(t)
        else:
            stack.append(t._node)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for e in node.edges:
            if isinstance(e, Tensor):
                if id(e) not in seen_leaf:
                    seen_leaf.add(id(e))
                    leaves.append(e)
            elif e is not None and id(e) not in seen:
                stack.append(e)
    return leaves


def _compute_gradients(outputs: Sequence[Tensor]):
    """Run the VJPs with ``create_graph=True``. Returns ``[(leaf, gradient), ...]`` for
    each reachable leaf that requires grad, and the seed tensors (``grad_output``)."""
    live = [t for t in outputs if t.requires_grad]
    if not live:
        raise NoGradError(
            "draw(backward=True): the output does not require grad, so there is no backward "
            "graph; make an input require grad (requires_grad=True) before computing it"
        )
    leaves = _leaves_requiring_grad(live)
    # The seed requires grad, so every VJP (even of ops whose inputs are constants, like
    # relu's mask) is recorded: the picture shows the whole gradient computation.
    seeds = []
    for t in live:
        s = Tensor(np.ones(t.shape, dtype=t.dtype), requires_grad=True)
        s.name = "grad_output" if len(live) == 1 else f"grad_output {len(seeds)}"
        seeds.append(s)
    try:
        grads = _tape.gradients(live, leaves, grad_outputs=seeds, create_graph=True,
                                retain_graph=True, allow_unused=True)
    except GraphFreedError as e:
        raise GraphFreedError(
            "draw(backward=True) runs the VJPs again with create_graph=True, which needs the "
            "forward graph's saved tensors, but a backward() already freed them. Draw before "
            "calling backward(), call backward(retain_graph=True), or draw the gradients you "
            f"computed yourself with create_graph=True: draw(x.grad). ({e})"
        ) from None
    return [(leaf, g) for leaf, g in zip(leaves, grads, strict=True) if g is not None], seeds


class _Builder:
    """Collects vertices and edges (iteratively, breadth first from the roots)."""

    def __init__(self, names: dict[int, str]):
        self.names = names
        self.vs: dict[Any, _V] = {}
        self.order: list[Any] = []  # discovery order (BFS from the roots)
        # (src_key, dst_key, attrs) with attrs a dict: label, style...
        self.edges: list[tuple[Any, Any, dict]] = []
        self.seed_ids: set[int] = set()  # the grad_output leaves of a backward drawing

    def _add(self, v: _V) -> _V:
        if v.key not in self.vs:
            v.order = len(self.order)
            self.vs[v.key] = v
            self.order.append(v.key)
        return self.vs[v.key]

    def leaf(self, t: Tensor) -> _V:
        name = self.names.get(id(t), t.name)
        if id(t) in self.seed_ids:
            kind = "seed"
        elif t.requires_grad:
            kind = "parameter" if name is not None else "input"
        else:
            kind = "constant"
        return self._add(_V(("leaf", id(t)), kind, tensor=t, shape=t.shape, dtype=t.dtype))

    def op(self, node) -> _V:
        side = "bwd" if _is_backward(node) else "fwd"
        scope = node.grad_of.scope if side == "bwd" else node.scope
        return self._add(_V(("node", id(node)), "op", node=node, shape=node.out_shape,
                             dtype=node.out_dtype, scope=scope, side=side))

    def walk(self, roots: Iterable, expand) -> None:
        """Breadth-first over ``roots`` (Tensors or Nodes); ``expand(node)`` decides whether
        a node's inputs are followed (otherwise it becomes a 'saved' stub)."""
        queue: deque = deque()
        for r in roots:
            node = r._node if isinstance(r, Tensor) else r
            if node is None:
                self.leaf(r)
                continue
            if ("node", id(node)) not in self.vs:
                self.op(node)
                queue.append(node)
        while queue:
            node = queue.popleft()
            dst = ("node", id(node))
            for i, e in enumerate(node.edges):
                shape = node.input_meta[i][0]
                if e is None:
                    shp, dt = node.input_meta[i]
                    # while the node keeps its inputs, a constant used twice (the data
                    # of a residual block) is one box; after backward freed them, one
                    # box per use
                    t = node.inputs[i] if node.inputs is not None else None
                    key = ("leaf", id(t)) if t is not None else ("const", id(node), i)
                    v = self._add(_V(key, "constant", tensor=t, shape=shp, dtype=dt,
                                     scope=self.vs[dst].scope, side=self.vs[dst].side))
                elif isinstance(e, Tensor):
                    v = self.leaf(e)
                else:
                    key = ("node", id(e))
                    if key in self.vs:
                        v = self.vs[key]
                    elif expand(e):
                        v = self.op(e)
                        queue.append(e)
                    else:
                        v = self._add(_V(("stub", id(e)), "saved", node=e, shape=e.out_shape,
                                         dtype=e.out_dtype, scope=e.scope, side="bwd"))
                self.edges.append((v.key, dst, {"shape": shape, "input": i}))


# ---- draw -----------------------------------------------------------------------------


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
    output : Tensor or sequence of Tensor
        The result(s) whose history is drawn; any shape (a non-scalar output is
        differentiated against a gradient of ones when ``backward`` is set).
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
        saying how many were left out; None draws everything.
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

    vertices, edges = _collapse(b, collapse, show_shapes)
    vertices, edges, hidden = _truncate(vertices, edges, max_nodes, b)
    _assign_clusters(vertices, edges, group_modules, both=backward == "both")
    graph = _emit(vertices, edges, rankdir, title, show_shapes, both=backward == "both",
                  correspondence=backward == "both", b=b)
    graph.info = {
        "ops": sum(1 for v in vertices if v.kind == "op" and v.side == "fwd"),
        "backward_ops": sum(1 for v in vertices if v.kind == "op" and v.side == "bwd"),
        "leaves": sum(1 for v in vertices if v.kind in ("parameter", "input")),
        "constants": sum(1 for v in vertices if v.kind == "constant"),
        "saved": sum(1 for v in vertices if v.kind == "saved"),
        "sinks": sum(1 for v in vertices if v.kind == "sink"),
        "groups": sum(1 for v in vertices if v.kind == "group"),
        "nodes": len(vertices) + (1 if hidden else 0),
        "hidden": hidden,
    }
    return graph


def _number_forward(outputs, b: _Builder) -> dict[int, int]:
    """Execution-order numbers (1, 2, ...) of forward ops, shown when backward ops are
    drawn so a reader can match ``∂ conv2d #3`` with ``conv2d #3``."""
    roots = [t._node for t in outputs if t._node is not None and not _is_backward(t._node)]
    has_bwd = False
    for v in b.vs.values():
        if v.node is None:
            continue
        if _is_backward(v.node):
            has_bwd = True
            f = v.node.grad_of
            while _is_backward(f):
                f = f.grad_of
            roots.append(f)
        else:
            roots.append(v.node)
    if not has_bwd:
        return {}
    order = _tape._toposort(roots)
    order.reverse()
    nums: dict[int, int] = {}
    for n in order:
        if not _is_backward(n):
            nums[id(n)] = len(nums) + 1
    return nums


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


_WEIGHTED_CONVS = {"conv", "conv_transpose"} | {
    f"{n}{k}d" for n in ("conv", "conv_transpose") for k in (1, 2, 3)
}
# parameters that only choose an implementation, hidden at their default value
_HIDDEN_DEFAULTS = {"algorithm": "auto"}


def op_label(node) -> str:
    """The name drawn for a node: the primitive's name, with the number of spatial
    dimensions appended for N-d primitives of the conv family (``conv`` on a 4-d input
    shows as ``conv2d``, its VJP as ``conv_transpose2d``, like PyTorch's names)."""
    name = node.prim.name
    if node.prim.category == "conv" and not re.search(r"\dd$", name):
        nd = len(node.out_shape) - 2
        if 1 <= nd <= 3:
            return f"{name}{nd}d"
    return name


def _compact_padding(p):
    """((1, 1), (2, 2)) -> (1, 2) when every side pair is symmetric."""
    if isinstance(p, tuple) and p and all(
        isinstance(q, tuple) and len(q) == 2 and q[0] == q[1] for q in p
    ):
        return tuple(q[0] for q in p)
    return p


def _shown_params(node) -> dict:
    """The hyper-parameters drawn in an op's box; convolutions also show their kernel
    size (read from the weight's shape, which is an input, not a parameter)."""
    params = {k: v for k, v in node.params.items()
              if not (k in _HIDDEN_DEFAULTS and v == _HIDDEN_DEFAULTS[k])}
    if "padding" in params:
        params["padding"] = _compact_padding(params["padding"])
    if node.prim.name in _WEIGHTED_CONVS and "kernel_size" not in params and len(
        node.input_meta
    ) > 1:
        wshape = node.input_meta[1][0]
        if len(wshape) >= 3:
            params = {"kernel": tuple(int(k) for k in wshape[2:]), **params}
    return params


def _saved_text(node) -> str:
    if node.freed:
        return "saved: freed by backward"
    parts = []
    if node.inputs is not None:
        parts += [f"in{i} {_fmt_shape(t.shape)}" for i, t in enumerate(node.inputs)]
    if node.out is not None:
        parts.append(f"out {_fmt_shape(node.out.shape)}")
    if node.aux is not None:
        aux = node.aux
        parts.append("aux " + (_fmt_shape(aux.shape) if hasattr(aux, "shape") else
                               type(aux).__name__))
    return "saved: " + (", ".join(parts) if parts else "nothing")


# ---- collapse, truncate, clusters, emit -------------------------------------------------


def _group_op_keys(groups: dict) -> list:
    """Keys of the op vertices folded into ``groups``."""
    return [m.key for g in groups.values() for m in g.members if m.kind == "op"]


def _wrap(text: str, width: int) -> list[str]:
    """Split ``text`` at ", " into lines of about ``width`` characters."""
    lines: list[str] = []
    cur = ""
    for part in text.split(", "):
        if cur and len(cur) + 2 + len(part) > width:
            lines.append(cur + ",")
            cur = part
        else:
            cur = f"{cur}, {part}" if cur else part
    return lines + [cur] if cur else lines


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
    # keep the vertices nearest to the roots (discovery order is breadth first)
    kept = vertices[:max_nodes]
    keep = {v.key for v in kept}
    hidden = len(vertices) - len(kept)
    more = _V(("more",), "more")
    more.label = _html(escape_label(f"... {hidden:,} more nodes not shown"),
                       _small("(max_nodes; pass max_nodes=None or collapse=...)"))
    more.attrs = dict(KIND_STYLES["more"])
    new_edges = []
    cut_into = set()
    for s, d, a in edges:
        if s in keep and d in keep:
            new_edges.append((s, d, a))
        elif d in keep and d not in cut_into:
            cut_into.add(d)
            new_edges.append((more.key, d, {"shape": None, "input": -1, "cut": True}))
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


# ---- output ---------------------------------------------------------------------------


def dot_available() -> bool:
    """Whether the Graphviz ``dot`` program is on PATH (needed for svg/png/pdf)."""
    return shutil.which("dot") is not None


def to_dot(output, **kwargs) -> str:
    """The DOT text of ``draw(output, **kwargs)`` (needs no Graphviz installation)."""
    return draw(output, **kwargs).source


def render(output, path, format: str | None = None, **kwargs) -> Path:
    """Draw ``output`` and write the picture to ``path``.

    Parameters
    ----------
    output : Tensor, sequence of Tensor, or graphviz.Digraph
        What to draw (a Digraph, e.g. from :func:`draw`, is written as is).
    path : str or Path
        Destination file; parent directories are created.
    format : {"svg", "png", "pdf", "dot"}, optional
        Defaults to the extension of ``path``. "dot" writes the DOT text and works
        without Graphviz; the others run the system ``dot`` program.
    **kwargs
        Passed to :func:`draw` (backward, collapse, rankdir...).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    GraphvizNotFoundError
        The ``dot`` program is missing (the message says how to get the DOT text).
    """
    path = Path(path)
    if format is None:
        format = path.suffix.lstrip(".").lower()
        if format not in FORMATS:
            raise InvalidArgumentError(
                f"render(): cannot infer the format from path {str(path)!r}: expected an "
                f"extension among {FORMATS}, got {path.suffix or 'none'!r}; pass format="
            )
    if format not in FORMATS:
        raise InvalidArgumentError(f"render(): format must be one of {FORMATS}, got {format!r}")
    if isinstance(output, graphviz.Digraph):
        if kwargs:
            raise ArgumentTypeError(
                "render(): drawing options "
                f"({', '.join(sorted(kwargs))}) apply to tensors, not to an already drawn graph"
            )
        graph = output
    else:
        graph = draw(output, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "dot":
        path.write_text(graph.source, encoding="utf-8")
        return path
    if not dot_available():
        raise GraphvizNotFoundError(f"render(): cannot write {format}. {_MISSING_DOT}")
    try:
        data = graph.pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(f"render(): cannot write {format}. {_MISSING_DOT}") from None
    except subprocess.CalledProcessError as e:  # graphviz's own error subclasses it
        err = getattr(e, "stderr", b"") or b""
        raise GraphvizRenderError(
            f"render(): Graphviz dot failed to produce {format}: "
            f"{err.decode(errors='replace').strip()[:500]}"
        ) from None
    path.write_bytes(data)
    return path


def _check_styles() -> list[str]:
    """Categories (of CATEGORIES and of registered primitives) without a render style."""
    cats = set(CATEGORIES) | {p.category for p in REGISTRY.values()}
    return sorted(c for c in cats if c not in CATEGORY_STYLES)



# ---- command line: ``autograd-cnn graph`` ---------------------------------------------


def _expression_model():
    """The demo expression of ``autograd-cnn demo`` as a (model, input) pair."""
    import autograd_cnn as ac

    rng = np.random.default_rng(0)
    w = ac.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    b = ac.tensor(np.array([0.5, -0.5]), requires_grad=True)
    w.name, b.name = "w", "b"

    def model(x):
        h = ac.tanh(x @ w + b)
        return (ac.log_softmax(h, dim=1)[:, 0] * -1).mean()

    return model, {"w": w, "b": b}, (3, 4)


def _zoo_factories() -> dict[str, Any]:
    """Lower-case name -> constructor for the models of the zoo that can be built without
    arguments (classes such as ``LeNet5`` and functions such as ``resnet18``)."""
    import inspect

    try:
        from . import models
        from .nn import Module
    except ImportError:
        return {}
    found: dict[str, Any] = {}
    for attr in getattr(models, "__all__", ()):
        obj = getattr(models, attr, None)
        is_model_class = isinstance(obj, type) and issubclass(obj, Module)
        if not (is_model_class or inspect.isfunction(obj)):
            continue
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            continue
        required = [p for p in sig.parameters.values() if p.default is p.empty
                    and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if not required:
            found[attr.lower()] = obj
    return found


def _zoo_names() -> list[str]:
    return ["expr", *sorted(_zoo_factories())]


def _load_model(name: str):
    """``(model, params, default_input_shape)`` for a model of the zoo (or "expr")."""
    if name == "expr":
        return _expression_model()
    factory = _zoo_factories().get(name.lower().replace("-", "").replace("_", "")) or (
        _zoo_factories().get(name.lower()))
    if factory is None:
        raise InvalidArgumentError(
            f"unknown model {name!r}; available: {', '.join(_zoo_names())}"
        )
    model = factory()
    return model, model, _default_shape(model, name)


def _default_shape(model, name: str) -> tuple:
    for attr in ("input_shape", "default_input_shape", "example_input_shape"):
        shp = getattr(model, attr, None)
        if shp is not None:
            shp = tuple(int(s) for s in shp)
            return shp if len(shp) == 4 else (1,) + shp
    # batch of two: batch-norm layers in training mode need more than one value
    return (2, 1, 32, 32) if "lenet" in name.lower() else (2, 3, 64, 64)


def _parse_shape(text: str) -> tuple:
    try:
        shape = tuple(int(s) for s in text.replace("x", ",").split(",") if s.strip())
    except ValueError:
        shape = ()
    if not shape or any(s < 1 for s in shape):
        raise InvalidArgumentError(
            f"--input-shape: expected positive integers separated by commas (e.g. "
            f"1,1,32,32), got {text!r}"
        )
    return shape


def _parse_collapse(text: str | None):
    if text is None or text == "modules":
        return text
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise InvalidArgumentError(
        f"--collapse: expected 'modules' or a depth >= 1, got {text!r}"
    )


def add_graph_command(subparsers) -> None:
    """Register ``autograd-cnn graph`` on an argparse sub-parser collection."""
    p = subparsers.add_parser(
        "graph",
        help="draw the forward or backward graph of a model (svg, png, pdf or dot)",
        description="Draw the forward or backward graph of a model of the zoo (or the demo "
        "expression, --model expr). Example: autograd-cnn graph --model lenet5 --backward "
        "-o lenet5_backward.svg",
    )
    p.add_argument("--model", default="expr", help="model name (default: expr)")
    p.add_argument("--input-shape", default=None,
                   help="input shape N,C,H,W (default: the model's own)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--backward", action="store_true", help="draw the backward graph")
    mode.add_argument("--both", action="store_true",
                      help="draw forward and backward side by side")
    p.add_argument("--collapse", default=None, help="'modules' or a module depth")
    p.add_argument("--rankdir", default="TB", choices=_RANKDIRS)
    p.add_argument("--max-nodes", type=int, default=2000,
                   help="draw at most this many boxes (0: no limit)")
    p.add_argument("--no-shapes", action="store_true", help="hide shapes")
    p.add_argument("--no-attrs", action="store_true", help="hide hyper-parameters")
    p.add_argument("--show-saved", action="store_true", help="list saved buffers")
    p.add_argument("-o", "--output", default=None,
                   help="output file (.svg, .png, .pdf, .dot); default: DOT on stdout")
    p.add_argument("--format", default=None, choices=FORMATS,
                   help="output format (default: from the file extension)")
    p.set_defaults(func=_cmd_graph, _parser=p)


def _cmd_graph(args) -> int:
    import sys

    import autograd_cnn as ac

    parser = args._parser
    try:
        collapse = _parse_collapse(args.collapse)
        if args.max_nodes < 0:
            raise InvalidArgumentError(f"--max-nodes: expected >= 0, got {args.max_nodes}")
        model, params, shape = _load_model(args.model)
        if args.input_shape is not None:
            shape = _parse_shape(args.input_shape)
        if args.output is not None and args.format is None:
            suffix = Path(args.output).suffix.lstrip(".").lower()
            if suffix not in FORMATS:
                raise InvalidArgumentError(
                    f"--output: cannot infer the format of {args.output!r} (expected an "
                    f"extension among {FORMATS}); pass --format"
                )
    except InvalidArgumentError as e:
        parser.exit(2, f"autograd-cnn graph: error: {e}\n")
    x = ac.randn(*shape, seed=0) if args.model != "expr" else ac.tensor(
        np.random.default_rng(1).standard_normal(shape))
    try:
        out = model(x)
    except (ValueError, TypeError) as e:
        parser.exit(2, f"autograd-cnn graph: error: --input-shape {shape} does not fit model "
                       f"{args.model!r}: {str(e).splitlines()[0] if str(e) else e}\n")
    backward = "both" if args.both else bool(args.backward)
    graph = draw(out, backward=backward, params=params, show_shapes=not args.no_shapes,
                 show_attrs=not args.no_attrs, show_saved=args.show_saved,
                 collapse=collapse, rankdir=args.rankdir,
                 max_nodes=args.max_nodes or None,
                 title=f"{args.model} {'backward' if backward else 'forward'} "
                       f"{_fmt_shape(shape)}")
    if args.output is None:
        sys.stdout.write(graph.source)
        return 0
    try:
        path = render(graph, args.output, format=args.format)
    except (GraphvizNotFoundError, GraphvizRenderError) as e:
        print(f"autograd-cnn graph: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({graph.info['nodes']} nodes)")
    return 0
