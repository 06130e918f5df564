"""The tape: recording nodes, reverse-mode traversal, and the functional faces.

Every op applied to a tensor that requires grad (while recording is on) creates a
:class:`Node` holding the primitive, its inputs, its static parameters and whatever the
VJPs need. ``backward`` sorts the nodes once (iteratively, so a chain of any length
works), walks them in reverse, and accumulates gradients. With ``create_graph=False``
the VJPs run with recording off and cost no graph; with ``create_graph=True`` they are
recorded like any forward computation, giving higher-order derivatives.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence

import numpy as np

from . import tensor as _tensor_module
from .errors import (
    ArgumentTypeError,
    AutogradCNNError,
    GraphFreedError,
    NoGradError,
    NonScalarBackwardError,
    RegistryError,
    SavedTensorModifiedError,
    ShapeError,
    UnusedInputError,
)
from .tensor import Tensor, as_tensor


class _State(threading.local):
    """Per-thread autodiff state, as in PyTorch: grad mode, module scope, the running
    VJP's node, hooks and meta mode are each thread's own (``__init__`` runs once in every
    thread that touches it), so a ``no_grad`` evaluator thread cannot switch off recording
    in a training thread."""

    def __init__(self):
        self.grad_enabled = True
        self.scope: tuple = ()
        # The forward node whose VJP is running (so nodes recorded with create_graph=True
        # know which forward op they differentiate), or None outside backward.
        self.grad_of = None
        # Optional callback ``f(node, g)`` seeing each node's total output gradient during
        # backward (the renderer's gradient statistics use it).
        self.on_node_grad = None
        # Shape-only execution: ops return zero-stride placeholder arrays of the right
        # shape and dtype, computed by the primitives' shape rules (summary uses it).
        self.meta = False
        # The active graph tracer (autograd_cnn.graph.trace), which sees every applied
        # primitive, or None.
        self.tracer = None


STATE = _State()


def _value_guard(t, what: str):
    # tensor.py's conversions (bool, float, .numpy()...) ask the tracer of *this* thread
    tracer = STATE.tracer
    if tracer is not None:
        tracer.guard(t, what)


_tensor_module.VALUE_GUARD[0] = _value_guard


def is_grad_enabled() -> bool:
    """Whether ops are currently recorded on the tape."""
    return STATE.grad_enabled


class _GradMode:
    """Context manager and decorator that sets recording on or off, then restores it."""

    enabled: bool

    def __enter__(self):
        self._prev = STATE.grad_enabled
        STATE.grad_enabled = self.enabled

    def __exit__(self, *exc):
        STATE.grad_enabled = self._prev
        return False

    def __call__(self, fn: Callable) -> Callable:
        mode = type(self)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with mode():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Switch recording off: ``with ac.no_grad(): ...`` or ``@ac.no_grad()``."""

    enabled = False


class enable_grad(_GradMode):
    """Switch recording on (inside a ``no_grad`` block): context manager or decorator."""

    enabled = True


class set_grad_enabled(_GradMode):
    """``ac.set_grad_enabled(flag)`` switches recording at once (as PyTorch); used as
    ``with ac.set_grad_enabled(flag): ...`` the previous mode comes back on exit."""

    def __init__(self, mode: bool):
        self.enabled = bool(mode)
        self._prev = STATE.grad_enabled
        STATE.grad_enabled = self.enabled

    def __enter__(self):
        pass  # already switched by __init__; __exit__ restores the mode from before

    def __call__(self, fn: Callable) -> Callable:
        STATE.grad_enabled = self._prev  # used as a decorator: the call is not a switch
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(enabled):
                return fn(*args, **kwargs)

        return wrapper


class scope:
    """Name the nodes recorded inside (``nn.Module`` calls use it: ``features.3``)."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self._prev = STATE.scope
        STATE.scope = self._prev + (self.name,)

    def __exit__(self, *exc):
        STATE.scope = self._prev
        return False


# ---- nodes ---------------------------------------------------------------------------


class Node:
    """One recorded application of a primitive.

    ``edges[i]`` is where the gradient of input ``i`` goes: the input's own node, the
    input tensor itself when it is a leaf that requires grad, or None. ``inputs``,
    ``out`` and ``aux`` are the saved buffers; they are dropped after backward unless
    ``retain_graph=True``, while the metadata (shapes, dtypes, params, scope) stays so
    that graphs can still be drawn.
    """

    __slots__ = (
        "prim",
        "params",
        "inputs",
        "edges",
        "out",
        "aux",
        "saved_versions",
        "out_version",
        "input_meta",
        "out_shape",
        "out_dtype",
        "scope",
        "grad_of",
        "freed",
        "__weakref__",
    )

    def __init__(self, prim, inputs, params, aux, result):
        self.prim = prim
        self.params = params
        self.inputs = inputs
        self.edges = tuple(
            (t._node if t._node is not None else t) if t.requires_grad else None for t in inputs
        )
        self.out = result if prim.saves_output else None
        self.aux = aux
        self.saved_versions = tuple(t._version[0] for t in inputs)
        self.out_version = result._version[0]
        self.input_meta = tuple((t.data.shape, t.data.dtype) for t in inputs)
        self.out_shape = result.data.shape
        self.out_dtype = result.data.dtype
        self.scope = STATE.scope
        self.grad_of = STATE.grad_of
        self.freed = False

    @property
    def name(self) -> str:
        return self.prim.name

    def parents(self):
        """Nodes whose outputs feed this one (leaf edges excluded)."""
        return [e for e in self.edges if isinstance(e, Node)]

    def free(self):
        self.inputs = None
        self.out = None
        self.aux = None
        self.freed = True

    def __repr__(self):
        return f"<Node {self.prim.name} -> {self.out_shape} {self.out_dtype}>"


def apply(prim, inputs, params) -> Tensor:
    """Run ``prim`` on ``inputs`` (tensors or array-likes) and record it if needed."""
    return apply_aux(prim, inputs, params)[0]


def apply_aux(prim, inputs, params) -> tuple[Tensor, np.ndarray | None]:
    """:func:`apply`, also returning the primitive's auxiliary output (or None)."""
    if not all(isinstance(t, Tensor) for t in inputs):
        inputs = tuple(t if isinstance(t, Tensor) else as_tensor(t) for t in inputs)
    arrays = [t.data for t in inputs]
    if STATE.meta:
        return _apply_meta(prim, inputs, arrays, params), None
    try:
        out = prim.impl(*arrays, **params)
    except (ValueError, IndexError, TypeError) as err:
        if isinstance(err, AutogradCNNError):
            raise
        # Give the shape rule a chance to explain in our own words; it raises a named
        # error when the shapes cannot work. If it finds nothing wrong, the original
        # error stands.
        try:
            prim.shape(*(a.shape for a in arrays), **params)
        except AutogradCNNError:
            raise
        except Exception:
            pass
        raise err
    aux = None
    if prim.has_aux:
        out, aux = out
    if not isinstance(out, np.ndarray):
        out = np.asarray(out)
    record = False
    if STATE.grad_enabled and out.dtype.kind == "f" and prim.differentiable:
        for t in inputs:
            if t._requires_grad:
                record = True
                break
    result = Tensor._wrap(out, record)
    if prim.is_view and np.may_share_memory(out, arrays[0]):
        result._version = inputs[0]._version
    if record:
        result._node = Node(prim, inputs, params, aux, result)
    if STATE.tracer is not None:
        STATE.tracer.record(prim, inputs, params, result, aux)
    return result, aux


def concrete(t) -> np.ndarray | None:
    """The value of ``t`` when it is known while tracing (a constant), else None.

    Ops may branch on concrete values (a constant exponent of 2, say); a value that
    depends on a traced input has no concrete value, and branching on it would freeze
    one trace's data into the graph. Outside tracing every value is concrete.
    """
    arr = t.data if isinstance(t, Tensor) else np.asarray(t)
    tracer = STATE.tracer
    if tracer is not None and tracer.is_traced(t):
        return None
    return arr


def trace_alias(t: Tensor, like: Tensor) -> None:
    """While tracing, make ``t`` stand for ``like``'s graph value from now on (an
    in-place update rebinds the updated tensor to the op that computed its new value)."""
    tracer = STATE.tracer
    if tracer is not None:
        tracer.bind(t, tracer.value_of(like))


def assign(target: Tensor, value: Tensor) -> None:
    """Write ``value`` into ``target`` in place (a buffer update, e.g. running statistics).

    Not differentiable. While tracing, the graph records the update, so replays perform
    it too (``Graph.updates``).
    """
    target.data[...] = value.data
    target._version[0] += 1
    if STATE.tracer is not None:
        STATE.tracer.record_update(target, value)


def _apply_meta(prim, inputs, arrays, params) -> Tensor:
    shape = tuple(prim.shape(*(a.shape for a in arrays), **params))
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    dtype = np.result_type(*floats) if floats else np.result_type(*(a.dtype for a in arrays))
    out = np.broadcast_to(np.zeros((), dtype=dtype), shape)
    return Tensor._wrap(out, False)


class meta_mode:
    """Run ops on shapes only: ``with meta_mode(): y = model(x)`` gives outputs of the
    right shape and dtype (zero-stride placeholders) without computing or allocating."""

    def __enter__(self):
        self._prev = STATE.meta, STATE.grad_enabled
        STATE.meta, STATE.grad_enabled = True, False

    def __exit__(self, *exc):
        STATE.meta, STATE.grad_enabled = self._prev
        return False


# ---- the backward pass ---------------------------------------------------------------


def _toposort(roots: Sequence[Node]) -> list[Node]:
    """Nodes reachable from ``roots``, every node after all nodes that consume it."""
    order: list[Node] = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for e in node.edges:
                if type(e) is Node and id(e) not in visited:
                    stack.append((e, False))
    order.reverse()  # post-order reversed: consumers first
    return order


def _check_saved(node: Node):
    if node.freed:
        raise GraphFreedError(
            f"Trying to backward through the graph a second time (at op {node.prim.name!r}): "
            "its saved tensors were freed after the first backward. Pass "
            "retain_graph=True to the first backward() if you need to differentiate twice."
        )
    out = node.out  # a saved output changed in place (y = x.exp(); y += 1) is stale too
    if out is not None and out._version[0] != node.out_version:
        raise SavedTensorModifiedError(
            f"the output of op {node.prim.name!r} (shape {out.shape}), saved for its "
            f"backward, was modified in place: expected version {node.out_version}, found "
            f"version {out._version[0]}. Clone it before modifying it."
        )
    for i, (t, v) in enumerate(zip(node.inputs, node.saved_versions)):
        if t._version[0] != v:
            raise SavedTensorModifiedError(
                f"input {i} of op {node.prim.name!r} (shape {t.shape}) was modified in place "
                f"after it was saved for backward: expected version {v}, found version "
                f"{t._version[0]}. Clone it before modifying, or modify it before using it."
            )


def _accumulate(a: Tensor | None, b: Tensor) -> Tensor:
    return b if a is None else a + b


def _run_backward(outputs, grad_outputs, retain_graph, create_graph, wanted=()):
    """Core engine. Returns ``{id(x): grad}`` for the tensors in ``wanted`` (None
    entries absent), and when ``wanted`` is empty accumulates into leaves' ``.grad``."""
    node_grads: dict[int, Tensor] = {}
    leaf_grads: dict[int, tuple[Tensor, Tensor]] = {}
    roots = []
    for out, g in zip(outputs, grad_outputs):
        if out._node is None:
            prev = leaf_grads.get(id(out))
            leaf_grads[id(out)] = (out, _accumulate(prev[1] if prev else None, g))
        else:
            node_grads[id(out._node)] = _accumulate(node_grads.get(id(out._node)), g)
            roots.append(out._node)

    wanted_nodes = {id(t._node): id(t) for t in wanted if t._node is not None}
    captured: dict[int, Tensor] = {}
    order = _toposort(roots)
    prev_mode = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    try:
        for node in order:
            g = node_grads.pop(id(node), None)
            if g is None:
                continue
            if id(node) in wanted_nodes:
                captured[wanted_nodes[id(node)]] = g
            if STATE.on_node_grad is not None:
                STATE.on_node_grad(node, g)
            _check_saved(node)
            STATE.grad_of = node
            prim = node.prim
            extra = {"aux": node.aux} if prim.has_aux else {}
            for i, edge in enumerate(node.edges):
                if edge is None:
                    continue
                vjp = prim.vjp_for(i)
                if vjp is None:
                    continue
                gi = vjp(g, node.out, *node.inputs, **node.params, **extra)
                shape, dtype = node.input_meta[i]
                if gi.data.shape != shape:
                    raise RegistryError(
                        f"VJP {i} of {prim.name!r} returned shape {gi.data.shape}, "
                        f"expected the input's shape {shape}"
                    )
                if gi.data.dtype != dtype:
                    gi = gi.astype(dtype)
                if type(edge) is Node:
                    node_grads[id(edge)] = _accumulate(node_grads.get(id(edge)), gi)
                else:
                    prev = leaf_grads.get(id(edge))
                    leaf_grads[id(edge)] = (edge, _accumulate(prev[1] if prev else None, gi))
        if not retain_graph:
            for node in order:
                node.free()
    finally:
        STATE.grad_enabled = prev_mode
        STATE.grad_of = None

    if wanted:
        for key, (_, g) in leaf_grads.items():
            captured.setdefault(key, g)
        return captured
    for leaf, g in leaf_grads.values():
        if not create_graph:
            g = g.detach()
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    return None


def _seed_gradients(outputs: Sequence[Tensor], grad_outputs, who: str) -> list[Tensor]:
    seeds = []
    for k, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise NoGradError(
                f"{who}: output {k} (shape {out.shape}) does not require grad and has no "
                "graph; make an input require grad (requires_grad=True) before computing it, "
                "and do not compute it under no_grad()."
            )
        if g is None:
            if out.data.size != 1:
                raise NonScalarBackwardError(
                    f"{who}: gradient can be implicitly created only for scalar outputs; "
                    f"output {k} has shape {out.shape}. Pass gradient= (or grad_outputs=) "
                    "with that shape."
                )
            g = Tensor._wrap(np.ones(out.data.shape, dtype=out.data.dtype), False)
        else:
            g = as_tensor(g)
            if g.shape != out.shape:
                raise ShapeError(
                    f"{who}: gradient for output {k} must have the output's shape "
                    f"{out.shape}, got {g.shape}"
                )
            if g.dtype != out.dtype:
                g = g.astype(out.dtype)
        seeds.append(g)
    return seeds


def backward(tensor: Tensor, gradient=None, retain_graph: bool = False, create_graph=False):
    """Accumulate d(tensor)/d(leaf) into every reachable leaf's ``.grad``."""
    (seed,) = _seed_gradients([tensor], [gradient], "backward()")
    _run_backward([tensor], [seed], retain_graph or create_graph, create_graph)


def gradients(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
):
    """Gradients of ``outputs`` with respect to ``inputs`` (``torch.autograd.grad``).

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
    inputs : Tensor or sequence of Tensor
        Leaves or intermediate tensors of the graph; their ``.grad`` is not touched.
    grad_outputs : Tensor, sequence, or None
        Cotangents with the shapes of ``outputs`` (None allowed for scalar outputs).
    retain_graph : bool, optional
        Keep saved buffers for another backward; defaults to ``create_graph``.
    create_graph : bool
        Record the backward pass, so the result can be differentiated again.
    allow_unused : bool
        Return None for inputs the outputs do not depend on, instead of raising.

    Returns
    -------
    tuple of Tensor
        One gradient per input, each with that input's shape.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ArgumentTypeError(
            f"gradients(): grad_outputs must have one entry per output ({len(outputs)}), "
            f"got {len(grad_outputs)}"
        )
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise ArgumentTypeError(f"gradients(): inputs[{k}] must be a Tensor, got {type(x)}")
        if not x.requires_grad:
            raise NoGradError(
                f"gradients(): inputs[{k}] (shape {x.shape}) does not require grad, so no "
                "gradient can be computed for it"
            )
    seeds = _seed_gradients(outputs, grad_outputs, "gradients()")
    if retain_graph is None:
        retain_graph = create_graph
    got = _run_backward(outputs, seeds, retain_graph, create_graph, wanted=inputs)
    result = []
    for k, x in enumerate(inputs):
        g = got.get(id(x))
        if g is None:
            if not allow_unused:
                raise UnusedInputError(
                    f"gradients(): inputs[{k}] (shape {x.shape}) was not used to compute the "
                    "outputs; pass allow_unused=True to get None for it"
                )
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


# The functional faces (grad, value_and_grad, vjp, hvp) live in transforms.py.
from .transforms import grad, hvp, value_and_grad, vjp  # noqa: E402,F401
