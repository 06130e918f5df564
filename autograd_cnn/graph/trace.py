"""``ac.trace``: run a function once on example values and record every primitive applied.

Tracing runs the function eagerly (it may call ``ac.grad``, ``backward`` or ``hvp``:
the VJPs it runs are primitives too, so they become nodes, linked to the forward node
they differentiate). The tape reports each applied primitive to the active
:class:`Tracer`, which maps tensors to graph values.

A second run checks the first. It uses other values (and other sizes for symbolic
dims), and must apply the same primitives to the same operands: a parameter that
differs follows a symbolic dim (it is fitted as ``scale * N + offset``), a constant that
differs was computed outside the ops from a traced value (``.data`` arithmetic, say) and
is refused with a :class:`~autograd_cnn.errors.TraceError` instead of being frozen.
"""

from __future__ import annotations

import inspect
import itertools
import os
import sys

import numpy as np

from .. import tape as _tape
from ..errors import ArgumentTypeError, TraceError
from ..tensor import Tensor
from .ir import Dim, Graph, Node, Value

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Ops that must run again on every call even when their operands are constants.
_NOT_FOLDABLE = {"dropout_mask", "full"}


class ShapeSpec:
    """A placeholder example argument: a shape (dims may be symbolic) and a dtype.

    Parameters
    ----------
    shape : tuple
        Ints, or a name (``"N"``) / ``None`` for a symbolic dim (``None`` in the first
        axis is named ``N``, elsewhere ``d<axis>``).
    dtype : dtype
        Default float32.
    sizes : dict, optional
        Sizes to trace the symbols at (default 3); a symbol whose size matters to the
        model (a spatial dim) needs one that works.

    >>> spec = ShapeSpec((None, 1, 28, 28))
    >>> spec
    ShapeSpec((N, 1, 28, 28), float32)
    """

    def __init__(self, shape, dtype="float32", sizes=None):
        dims = []
        for axis, d in enumerate(tuple(shape)):
            if d is None:
                d = "N" if axis == 0 else f"d{axis}"
            if isinstance(d, str):
                dims.append(Dim(d))
            elif isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0:
                dims.append(int(d))
            else:
                raise ArgumentTypeError(f"ShapeSpec: shape entries must be non-negative ints, "
                                        f"names or None, got {d!r} in {tuple(shape)}")
        self.shape = tuple(dims)
        self.dtype = np.dtype(dtype)
        self.sizes = dict(sizes or {})

    def __repr__(self):
        return f"ShapeSpec(({', '.join(str(s) for s in self.shape)}), {self.dtype})"


def user_frame() -> str:
    """``file:line`` of the innermost caller outside this package (the user's code)."""
    f = sys._getframe(1)
    while f is not None:
        fname = f.f_code.co_filename
        if not os.path.abspath(fname).startswith(_PACKAGE_DIR):
            return f"{fname}:{f.f_lineno}"
        f = f.f_back
    return "<unknown>"


class Tracer:
    """Maps tensors to graph values while a function runs; builds the node list."""

    def __init__(self, param_names: dict):
        self.param_names = param_names  # id(tensor) -> name
        self.by_tensor: dict[int, Value] = {}
        self.by_array: dict[int, Value] = {}
        self.keep: list = []  # keeps mapped objects alive, so their ids stay unique
        self.inputs: list[Value] = []
        self.params: list[Value] = []
        self.bindings: dict[str, Tensor] = {}
        self.consts: list[Value] = []
        self.nodes: list[Node] = []
        self.updates: list[tuple[Value, Value]] = []
        self.tape_nodes: dict[int, Node] = {}

    # -- values -----------------------------------------------------------------------
    def bind(self, t: Tensor, v: Value):
        self.by_tensor[id(t)] = v
        self.by_array[id(t.data)] = v
        self.keep.append(t)

    def lookup(self, t) -> Value | None:
        if isinstance(t, Tensor):
            v = self.by_tensor.get(id(t))
            return v if v is not None else self.by_array.get(id(t.data))
        return self.by_array.get(id(t))

    def is_traced(self, t) -> bool:
        v = self.lookup(t)
        return v is not None and v.kind != "const"

    def value_of(self, t: Tensor) -> Value:
        v = self.lookup(t)
        if v is not None:
            return v
        from ..nn.module import Parameter

        name = self.param_names.get(id(t))
        if name is None and isinstance(t, Parameter):
            name = t.name or f"param{len(self.params)}"
        if name is not None:
            v = Value(name, t.shape, t.dtype, "param")
            self.params.append(v)
            self.bindings[name] = t
        else:
            v = Value(f"c{len(self.consts)}", t.shape, t.dtype, "const",
                      data=np.array(t.data, copy=True))
            self.consts.append(v)
        self.bind(t, v)
        return v

    # -- the tape's hooks ---------------------------------------------------------------
    def record(self, prim, inputs, params, result, aux):
        ins = [self.value_of(t) for t in inputs]
        if inputs and all(v.kind == "const" for v in ins) and prim.name not in _NOT_FOLDABLE:
            return  # constant in, constant out: the result is a constant when used
        k = len(self.nodes)
        outs = [Value(f"%{k}", result.shape, result.dtype, "node")]
        if aux is not None:
            aux = np.asarray(aux)
            outs.append(Value(f"%{k}.aux", aux.shape, aux.dtype, "node"))
        grad_of = _tape.STATE.grad_of
        node = Node(prim.name, ins, params, outs, scope=_tape.STATE.scope, where=user_frame(),
                    grad_of=self.tape_nodes.get(id(grad_of)) if grad_of is not None else None)
        self.nodes.append(node)
        self.bind(result, outs[0])
        if aux is not None:
            self.by_array[id(aux)] = outs[1]
            self.keep.append(aux)
        if result._node is not None:
            self.tape_nodes[id(result._node)] = node
            self.keep.append(result._node)

    def record_update(self, target: Tensor, value: Tensor):
        tv = self.value_of(target)
        if tv.kind == "const":  # a plain tensor updated in place becomes a graph buffer
            self.consts.remove(tv)
            tv.kind, tv.data, tv.name = "param", None, f"buffer{len(self.params)}"
            self.params.append(tv)
            self.bindings[tv.name] = target
        if tv.kind != "param":
            raise TraceError(f"an in-place update of {tv.name} (not a parameter or buffer) "
                             "cannot be traced")
        self.updates.append((tv, self.value_of(value)))

    def guard(self, t: Tensor, what: str):
        if self.is_traced(t):
            raise TraceError(
                f"{what} on a traced tensor (shape {t.shape}) at {user_frame()}: its value "
                "is not known while tracing, so Python control flow or conversions cannot "
                "depend on it. Use ac.where(cond, a, b) for a data-dependent choice, or "
                "compute the value outside the traced function.")


def _flatten(out, leaves, where="output"):
    if isinstance(out, Tensor):
        leaves.append(out)
        return ("leaf", len(leaves) - 1)
    if isinstance(out, tuple) and not hasattr(out, "_fields"):
        return ("tuple", [_flatten(o, leaves, where) for o in out])
    if isinstance(out, tuple):  # a namedtuple: keep it a tuple of its fields
        return ("tuple", [_flatten(o, leaves, where) for o in out])
    if isinstance(out, list):
        return ("list", [_flatten(o, leaves, where) for o in out])
    if isinstance(out, dict):
        return ("dict", [(k, _flatten(v, leaves, where)) for k, v in out.items()])
    raise TraceError(f"the traced function must return tensors (or tuples, lists, dicts of "
                     f"them); its {where} is a {type(out).__name__}")


def _arg_names(fn, n):
    target = fn.forward if hasattr(fn, "forward") and hasattr(fn, "named_parameters") else fn
    try:
        ps = [p for p in inspect.signature(target).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = [p.name for p in ps[:n]]
    except (TypeError, ValueError):
        names = []
    names += [f"x{i}" for i in range(len(names), n)]
    return names


def _check_arity(fn, example_args):
    target = fn.forward if hasattr(fn, "forward") and hasattr(fn, "named_parameters") else fn
    if not callable(target):
        raise ArgumentTypeError(f"trace(): expected a function or nn.Module, got "
                                f"{type(fn).__name__}")
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return  # builtins without a signature: the call itself will tell
    try:
        sig.bind(*example_args)
    except TypeError as e:
        raise ArgumentTypeError(
            f"trace(): {getattr(target, '__qualname__', target)}{sig} cannot take the "
            f"{len(example_args)} example argument(s) given ({e})") from None


def _example_values(specs, sizes, rng, base=None):
    """Concrete example arrays for each spec at the given symbol sizes."""
    out = []
    for i, (shape, dtype, data) in enumerate(specs):
        concrete_shape = tuple(s.eval(sizes) if isinstance(s, Dim) else s for s in shape)
        if base is None and data is not None:
            out.append(data)
            continue
        src = base[i] if base is not None else None
        if src is not None and src.size:
            # the first trace's values, resampled: other values in the same domain
            # (probabilities stay probabilities, labels stay labels)
            arr = rng.choice(src.ravel(), size=concrete_shape).astype(dtype)
        elif dtype.kind == "f":
            arr = rng.uniform(0.05, 0.95, concrete_shape).astype(dtype)
        elif dtype.kind == "b":
            arr = rng.random(concrete_shape) < 0.5
        else:
            arr = rng.integers(0, 2, concrete_shape).astype(dtype)
        out.append(arr)
    return out


def _run_once(fn, specs, statics, arrays, param_names, names):
    tracer = Tracer(param_names)
    tensors = []
    for arr, name in zip(arrays, names):
        t = Tensor(np.array(arr, copy=True))
        v = Value(name, t.shape, t.dtype, "input")
        tracer.inputs.append(v)
        tracer.bind(t, v)
        tensors.append(t)
    args = [tensors[a.k] if isinstance(a, _Slot) else a for a in statics]
    prev = _tape.STATE.tracer
    _tape.STATE.tracer = tracer
    try:
        out = fn(*args)
    finally:
        _tape.STATE.tracer = prev
    leaves: list = []
    tree = _flatten(out, leaves)
    outputs = [tracer.value_of(t) for t in leaves]
    return tracer, outputs, tree


class _Slot:
    """Placeholder for the k-th tensor argument among static ones."""

    def __init__(self, k):
        self.k = k


def trace(fn, *example_args, params=None, check: bool = True, name: str | None = None
          ) -> Graph:
    """Trace ``fn`` (a function of tensors or an ``nn.Module``) into a :class:`Graph`.

    Parameters
    ----------
    fn : callable or nn.Module
        It may call ``ac.grad``/``gradients``/``backward``/``hvp``: the backward pass is
        traced too. Its output: a Tensor, or tuples/lists/dicts of them.
    *example_args : Tensor, ndarray, ShapeSpec, or a Python value
        Tensors and arrays give the input types (their values are used to trace);
        :class:`ShapeSpec` may have symbolic dims. Other values are baked in as static.
    params : nn.Module or dict, optional
        Names for parameters used by ``fn`` (a module's are found automatically when
        ``fn`` is a module); any ``nn.Parameter`` met becomes a named graph parameter,
        read when the graph runs (so optimizer updates are seen).
    check : bool
        Trace a second time on other values to refuse values computed outside the ops
        (always done when a dim is symbolic).

    Returns
    -------
    Graph
        ``str(graph)`` prints it; ``graph(*args)`` replays it.

    Examples
    --------
    >>> import autograd_cnn as ac
    >>> g = ac.trace(lambda x: (x * x).sum(), ac.ShapeSpec((None, 3)))
    >>> print(g)
    graph(x: f32[N,3]) {
      %0 = mul(x, x) : f32[N,3]
      %1 = sum(%0; keepdims=False) : f32[]
      return %1
    }
    >>> float(g(ac.ones(5, 3)))
    15.0
    """
    from ..nn.module import Module

    _check_arity(fn, example_args)
    param_names: dict[int, str] = {}
    sources = [fn] if isinstance(fn, Module) else []
    if isinstance(params, Module):
        sources.append(params)
    elif isinstance(params, dict):
        param_names.update({id(t): k for k, t in params.items()})
    for m in sources:
        for k, t in itertools.chain(m.named_parameters(), m.named_buffers()):
            param_names.setdefault(id(t), k)
    specs, statics = [], []
    for a in example_args:
        if isinstance(a, ShapeSpec):
            statics.append(_Slot(len(specs)))
            specs.append((a.shape, a.dtype, None, a.sizes))
        elif isinstance(a, (Tensor, np.ndarray)):
            arr = a.data if isinstance(a, Tensor) else a
            statics.append(_Slot(len(specs)))
            specs.append((arr.shape, arr.dtype, arr, {}))
        else:
            statics.append(a)
    symbols: dict[str, int] = {}
    for shape, _, _, sizes in specs:
        for s in shape:
            if isinstance(s, Dim):
                symbols.setdefault(s.name, int(sizes.get(s.name, 3)))
    specs3 = [(s, d, a) for s, d, a, _ in specs]
    names = _arg_names(fn, len(example_args))
    names = [n for n, a in zip(names, statics) if isinstance(a, _Slot)]
    rng = np.random.default_rng(0)
    arrays_a = _example_values(specs3, symbols, rng)
    run_a = _run_once(fn, specs3, statics, arrays_a, param_names, names)
    graph_name = name or getattr(fn, "__name__", None) or type(fn).__name__
    if not graph_name.isidentifier():
        graph_name = "graph"
    if not symbols and not check:
        return _assemble(run_a, graph_name)
    deltas = dict(zip(symbols, (2, 3, 5, 7, 11, 13, 17, 19)))
    sizes_b = {k: v + deltas[k] for k, v in symbols.items()}
    arrays_b = _example_values(specs3, sizes_b, rng, base=arrays_a)
    try:
        run_b = _run_once(fn, specs3, statics, arrays_b, param_names, names)
    except Exception as e:
        if symbols:
            raise TraceError(
                f"{graph_name}: tracing again at other sizes of the symbolic dims "
                f"{sizes_b} failed ({type(e).__name__}: {e}); give ShapeSpec(sizes=...) "
                "that the function accepts, or use concrete shapes") from e
        return _assemble(run_a, graph_name)  # the values could not be varied: no check
    from .reconcile import reconcile

    return reconcile(run_a, run_b, symbols, sizes_b, [s for s, _, _ in specs3],
                     graph_name)


def _assemble(run, name) -> Graph:
    tracer, outputs, tree = run
    return Graph(tracer.inputs, tracer.params, tracer.consts, tracer.nodes, outputs,
                 out_tree=tree, updates=tracer.updates, bindings=tracer.bindings, name=name)


__all__ = ["ShapeSpec", "Tracer", "trace"]
