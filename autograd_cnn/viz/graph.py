"""The intermediate graph: walking the tape (forward, or the VJPs recorded with
``create_graph=True``) into vertices and edges."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import tape as _tape
from ..errors import ArgumentTypeError, GraphFreedError, NoGradError
from ..tensor import Tensor


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
