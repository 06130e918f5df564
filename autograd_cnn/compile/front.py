"""``ac.compile``: the compiled callable, its per-signature cache, and its link to the tape.

The first call for an input signature (shapes, dtypes, which inputs require grad, the
modules' train/eval flags, static arguments) traces the function with ``ac.trace``: in
``mode="train"``, the forward *and* the joint backward (the gradients of every
parameter and grad-requiring input, from cotangent inputs). The joint graph is split
(:mod:`.partition`), each part fused (:mod:`.fusion`, :mod:`.codegen`), planned
(:mod:`.memory`) and lowered (:mod:`.program`). Later calls run the forward program.

Each differentiable output gets a tape node whose primitive is this compiled graph's
own (unregistered) :class:`~autograd_cnn.primitive.Primitive`; its VJP runs the backward
program once per ``backward()`` and hands each parameter its gradient, so
``loss.backward()`` accumulates ``.grad`` exactly as eager code would, and compiled
calls compose with eager ops before and after them.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import tape as _tape
from ..errors import (
    ArgumentTypeError,
    CompileError,
    CompileFallbackWarning,
    InvalidArgumentError,
    TraceError,
)
from ..graph import trace
from ..graph.ir import unflatten
from ..primitive import Primitive
from ..tensor import Tensor
from .autotune import Tuner
from .capture import (
    _batch_specs,
    _consts,
    _input_names,
    _leaves,
    _modules_of,
    _name,
    _param_source,
    _restore,
    _seed_example,
    _snapshot,
    _untraced_changes,
)
from .concrete import concretize
from .fusion import fuse
from .memory import MemoryPlan
from .partition import Split
from .program import Program
from .rewrite import relu_masks

MODES = ("train", "inference")


class _Backward:
    """One forward run's link to the backward program (kept by the outputs' tape nodes)."""

    __slots__ = ("entry", "saved", "arena", "cache", "pending", "__weakref__")

    def __init__(self, entry, saved, arena):
        self.entry, self.saved, self.arena = entry, saved, arena
        self.cache = None
        self.pending = 0

    def grad(self, argnum, g, k):
        """Gradient for tape input ``argnum`` of output ``k`` given its cotangent ``g``
        (the backward program runs once per cotangent; each input takes its share)."""
        if _tape.STATE.grad_enabled:
            raise CompileError(
                "create_graph=True (or a higher-order gradient) through an ac.compile'd call "
                "is not supported: its backward is a compiled program, not recorded ops. "
                "Call the eager function (or ac.trace(...) graph replay) for higher-order "
                "derivatives.")
        e = self.entry
        if self.cache is None or self.cache[0] is not g:
            seeds = []
            for j, (shape, dtype) in enumerate(e.seed_types):
                seeds.append(g.data if j == e.diff_seed[k] else np.zeros(shape, dtype))
            inputs = self.saved + seeds
            grads, arena = e.bwd.run(inputs)
            e.bwd.release(arena)
            self.cache = (g, grads)
            self.pending = e.node_arity[k]
        arr = self.cache[1][e.node_grads[k][argnum]]
        if not arr.flags.owndata or not arr.flags.writeable:
            arr = np.array(arr)
        self.pending -= 1
        if self.pending <= 0:
            self.cache = None
        return Tensor._wrap(arr, False)

    def __del__(self):
        try:
            self.entry.fwd.release(self.arena)
        except Exception:  # interpreter shutdown
            pass


def _vjp(argnum, g, ans, *inputs, ctx, k):
    return ctx.grad(argnum, g, k)


class _Entry:
    """What one input signature compiled to."""

    def __init__(self, cf, args, kwargs):
        self.cf = cf
        fn = cf.fn
        self.tuner = Tuner(cf.autotune)
        self.tensor_pos = [i for i, a in enumerate(args) if isinstance(a, (Tensor, np.ndarray))]
        self.grad_inputs = [k for k, i in enumerate(self.tensor_pos)
                            if isinstance(args[i], Tensor) and args[i].requires_grad]
        self.symbolic = False
        specs = _batch_specs(args, self.tensor_pos)
        if specs is not None:
            try:
                self._build(args, kwargs, specs)
                self.symbolic = True
            except Exception:  # noqa: BLE001  a batch that does not fit a symbol (or a
                specs = None      # real trace error, which the concrete trace raises again)
        if specs is None:
            examples = [a.data if isinstance(a, Tensor) else a for a in args]
            self._build(args, kwargs, (examples, None))
        self.prim = Primitive(f"compiled:{_name(fn)}", None, category="linalg",
                              shape=lambda *s, **p: ())
        self.prim.defvjp_argnum(_vjp)

    def _build(self, args, kwargs, specs):
        fn, mode = self.cf.fn, self.cf.mode
        examples, env = specs
        runs = [0]

        def call(*a):
            runs[0] += 1
            return fn(*a, **kwargs)

        module = _param_source(fn)
        grad_ctx = _tape.enable_grad if mode == "train" else _tape.no_grad
        snap = _snapshot(_modules_of(fn))
        try:
            with grad_ctx():
                g_fwd = trace(call, *examples, params=module, check=mode == "inference",
                              name=_name(fn))
            self.counters = _untraced_changes(snap, g_fwd, runs[0])
            for v, name in zip(g_fwd.inputs, _input_names(fn, args, self.tensor_pos)):
                v.name = name
            _restore(snap)
            params = [p for p in g_fwd.params
                      if g_fwd.bindings[p.name].requires_grad and p.dtype.kind == "f"]
            self.train = mode == "train" and bool(params or self.grad_inputs)
            if self.train:
                self._build_train(call, examples, module, g_fwd, params, env)
            else:
                self._build_forward(_simplify(concretize(g_fwd, env) if env else g_fwd))
        finally:
            _restore(snap)
        self.out_tree = g_fwd.out_tree

    # -- building -----------------------------------------------------------------------
    def _build_forward(self, g):
        self.graph, self.backward_graph = g, None
        self.param_names = [p.name for p in g.params]
        self.bindings = g.bindings
        self.n_out = len(g.outputs)
        self.updates = [(g.bindings[p.name], v) for p, v in g.updates]
        items = fuse(g.nodes, enabled=self.cf.fuse)
        outs = g.outputs + [v for _, v in g.updates]
        self.fwd = Program(items, g.inputs + g.params, outs, g.outputs,
                           _consts(g.nodes, g.outputs), name=f"{g.name}_forward",
                           tuner=self.tuner)
        self.bwd = None
        self.n_saved = 0

    def _build_train(self, call, examples, module, g_fwd, params, env):
        n_args = len(examples)
        n_tensors = len(self.tensor_pos)
        float_outs = [k for k, v in enumerate(g_fwd.outputs) if v.dtype.kind == "f"]
        seed_examples = [_seed_example(g_fwd.outputs[k], env) for k in float_outs]
        wrt_params = [g_fwd.bindings[p.name] for p in params]
        grad_inputs = [self.tensor_pos[k] for k in self.grad_inputs]
        record = {}

        def joint(*all_args):
            user = list(all_args[:n_args])
            seeds = all_args[n_args:]
            for i in grad_inputs:
                user[i] = Tensor(user[i].data, requires_grad=True)
            out = call(*user)
            leaves = []
            _leaves(out, leaves)
            diff = [(j, k) for j, k in enumerate(float_outs) if leaves[k].requires_grad]
            wrt = wrt_params + [user[i] for i in grad_inputs]
            if not diff:
                grads = [None] * len(wrt)
            else:
                grads = _tape.gradients([leaves[k] for _, k in diff], wrt,
                                        grad_outputs=[seeds[j] for j, _ in diff],
                                        allow_unused=True)
            record["diff"] = diff
            record["got"] = [w for w, gr in enumerate(grads) if gr is not None]
            return tuple(leaves) + tuple(gr for gr in grads if gr is not None)

        with _tape.enable_grad():
            g = trace(joint, *examples, *seed_examples, params=module, check=True,
                      name=_name(self.cf.fn))
        if env:
            g = concretize(g, env)
        g = relu_masks(_simplify(g), len(g_fwd.outputs))
        n_out = len(g_fwd.outputs)
        seeds = g.inputs[n_tensors:]
        for v, w in zip(g.inputs, g_fwd.inputs):
            v.name = w.name
        for k, v in enumerate(seeds):
            v.name = f"grad_out{k}"
        split = Split(g, n_out, seeds)
        self.split = split
        self.graph = split.forward_graph()
        self.backward_graph = split.backward_graph()
        self.param_names = [p.name for p in g.params]
        self.bindings = g.bindings
        self.n_out = n_out
        self.updates = [(g.bindings[p.name], v) for p, v in g.updates]
        wrt_names = [p.name for p in params] + [None] * len(grad_inputs)
        got = record["got"]
        # tape-node inputs: the differentiated tensors that received a gradient
        self.node_inputs = [("param", wrt_names[w]) if w < len(params)
                            else ("arg", grad_inputs[w - len(params)]) for w in got]
        self.diff_outs = [k for _, k in record["diff"]]
        self.diff_seed = {k: j for j, k in record["diff"]}
        self.seed_types = [(tuple(v.shape), v.dtype) for v in seeds]
        self.node_grads = {k: list(range(len(got))) for k in self.diff_outs}
        self.node_arity = {k: len(got) for k in self.diff_outs}
        fwd_items = fuse(split.forward, enabled=self.cf.fuse)
        outs = split.outputs + [v for _, v in g.updates] + split.saved
        self.fwd = Program(fwd_items, g.inputs[:n_tensors] + g.params, outs, split.outputs,
                           _consts(split.forward, split.outputs), name=f"{g.name}_forward",
                           tuner=self.tuner)
        self.n_saved = len(split.saved)
        bwd_items = fuse(split.backward, enabled=self.cf.fuse)
        self.bwd = Program(bwd_items, split.saved + seeds, split.grads, split.grads,
                           _consts(split.backward, split.grads), name=f"{g.name}_backward",
                           tuner=self.tuner, inplace=True)

    # -- running ------------------------------------------------------------------------
    def __call__(self, args):
        b = self.bindings
        arrays = [args[i].data if isinstance(args[i], Tensor) else args[i]
                  for i in self.tensor_pos]
        arrays += [b[n].data for n in self.param_names]
        outs, arena = self.fwd.run(arrays)
        n, nu = self.n_out, len(self.updates)
        for (t, _), arr in zip(self.updates, outs[n:n + nu]):
            t.data[...] = arr
            t._version[0] += 1
        for t in self.counters:
            t.data[...] += 1
        results = []
        buf = arena[0]
        for arr in outs[:n]:
            if np.may_share_memory(arr, buf):
                arr = np.array(arr)
            results.append(arr)
        if self.train and _tape.STATE.grad_enabled:
            ctx = _Backward(self, outs[n + nu:], arena)
            wrt = [b[name] if kind == "param" else args[name] for kind, name in self.node_inputs]
            tensors = []
            for k, arr in enumerate(results):
                if k in self.diff_seed:
                    t = Tensor._wrap(arr, True)
                    t._node = _tape.Node(self.prim, wrt, {"ctx": ctx, "k": k}, None, t)
                else:
                    t = Tensor._wrap(arr, False)
                tensors.append(t)
        else:
            self.fwd.release(arena)
            tensors = [Tensor._wrap(arr, False) for arr in results]
        return unflatten(self.out_tree, tensors)

    def memory_plan(self) -> MemoryPlan:
        """The plan of this signature's programs."""
        return MemoryPlan(self.fwd, self.bwd)


class _Eager:
    """A signature that could not be compiled (``fallback=True``): runs the function."""

    graph = backward_graph = fwd = bwd = None

    def __init__(self, cf, kwargs, err):
        self.cf, self.kwargs, self.error = cf, kwargs, err

    def __call__(self, args):
        return self.cf.fn(*args, **self.kwargs)

    def memory_plan(self):
        """No plan: this signature runs eagerly."""
        raise CompileError(f"this signature runs eagerly (not compiled: {self.error})")


#: Rewrites applied before lowering (graph/passes.py): no ``contractions`` (an einsum is
#: slower than the matmul it replaces here) and no ``fold_batchnorm`` (train graphs).
SIMPLIFY = ("dce", "fold_constants", "identities", "cse", "dce")


def _simplify(g):
    return g.simplify(passes=SIMPLIFY) if SIMPLIFY else g


def _static_key(a, what):
    try:
        hash(a)
    except TypeError:
        raise CompileError(f"ac.compile: {what} is a {type(a).__name__}, which is neither a "
                           "tensor nor hashable; static arguments must be hashable (they "
                           "are part of the compiled signature)") from None
    return ("S", type(a).__name__, a)


class CompiledFunction:
    """The callable returned by :func:`compile` (same signature as the function).

    Attributes
    ----------
    graph : Graph
        The forward graph of the most recently compiled signature (``print`` it).
    backward_graph : Graph or None
        Its backward graph (train mode).
    """

    def __init__(self, fn, mode, fallback, fuse, autotune=False):
        self.fn, self.mode, self.fallback, self.fuse = fn, mode, fallback, fuse
        self.autotune = autotune
        self._cache: dict = {}
        self._last = None
        self.compiles = 0
        # modules the function reaches: their train/eval and requires_grad flags are part
        # of every signature (a bound forward, a closure over a model, the model itself)
        self._modules = _modules_of(fn)

    def _key(self, args, kwargs):
        key = []
        for k, a in enumerate(args):
            if isinstance(a, Tensor):
                key.append(("T", a.data.shape, a.data.dtype.str, a._requires_grad))
            elif isinstance(a, np.ndarray):
                key.append(("A", a.shape, a.dtype.str))
            else:
                key.append(_static_key(a, f"argument {k}"))
        for name, v in sorted(kwargs.items()):
            if isinstance(v, (Tensor, np.ndarray)):
                raise CompileError(f"ac.compile: tensor keyword argument {name!r} is not "
                                   "supported; pass tensors positionally")
            key.append((name, _static_key(v, f"keyword argument {name!r}")))
        for m in self._modules:  # (one walk of the tree: this runs on every call)
            mods = list(m.modules())
            key.append(tuple(s.training for s in mods))
            key.append(tuple(p._requires_grad for s in mods for p in s._parameters.values()
                             if p is not None))
        return tuple(key)

    def __call__(self, *args, **kwargs):
        key = self._key(args, kwargs)
        entry = self._cache.get(key)
        if entry is not None:
            self._last = entry
            return entry(args)
        entry = self._compile(args, kwargs)
        self._cache[key] = self._last = entry
        try:  # the first run compiles the generated kernels for their argument types
            return entry(args)
        except Exception as err:
            from numba.core.errors import NumbaError

            if not isinstance(err, NumbaError):
                raise
            err = CompileError(f"ac.compile({_name(self.fn)}): a generated kernel failed to "
                               f"compile: {str(err).splitlines()[0]}")
            if not self.fallback:
                raise err from None
            warnings.warn(f"{err}; running eagerly (fallback=True)", CompileFallbackWarning,
                          stacklevel=2)
            entry = self._cache[key] = self._last = _Eager(self, kwargs, err)
            return entry(args)

    def _compile(self, args, kwargs):
        self.compiles += 1
        try:
            return _Entry(self, args, kwargs)
        except (TraceError, CompileError) as err:
            if not self.fallback:
                raise
            warnings.warn(f"ac.compile({_name(self.fn)}): cannot compile this call ({err}); "
                          "running it eagerly (fallback=True)", CompileFallbackWarning,
                          stacklevel=3)
            return _Eager(self, kwargs, err)

    # -- inspection ---------------------------------------------------------------------
    def _entry(self):
        if self._last is None:
            raise CompileError("nothing compiled yet: call the compiled function first "
                               "(compiling happens at the first call for each signature)")
        return self._last

    @property
    def graph(self):
        return self._entry().graph

    @property
    def backward_graph(self):
        return self._entry().backward_graph

    @property
    def programs(self):
        """(forward, backward) lowered programs of the latest signature."""
        e = self._entry()
        return e.fwd, e.bwd

    def memory_plan(self) -> MemoryPlan:
        """The latest signature's :class:`~autograd_cnn.compile.memory.MemoryPlan`."""
        return self._entry().memory_plan()

    def draw(self, path=None, *, which="forward"):
        """DOT source of a program's graph, fused groups drawn as clusters; rendered to
        ``path`` (``.svg``/``.png``/``.pdf``) with graphviz ``dot`` when given."""
        from .dot import program_dot, render

        e = self._entry()
        prog = {"forward": e.fwd, "backward": e.bwd}.get(which)
        if prog is None:
            raise InvalidArgumentError(f"draw(which=...): expected 'forward' or 'backward' "
                                       f"(train mode), got {which!r}")
        src = program_dot(prog)
        if path is not None:
            render(src, path)
        return src

    def __repr__(self):
        return (f"<CompiledFunction {_name(self.fn)} mode={self.mode!r}: "
                f"{len(self._cache)} signature(s)>")


def compile(fn, *, mode: str = "train", fallback: bool = False,  # noqa: A001
            fuse: bool = True, autotune: bool = False) -> CompiledFunction:
    """Compile ``fn`` (a function of tensors, or an ``nn.Module``) to fused, planned kernels.

    Parameters
    ----------
    fn : callable or nn.Module
        Its outputs: a Tensor, or tuples/lists/dicts of them. Non-tensor arguments are
        static (part of the signature, baked into the graph).
    mode : {"train", "inference"}
        ``"train"`` also compiles the backward: differentiable outputs get a tape node,
        so ``loss.backward()`` runs the compiled backward and accumulates ``.grad``.
        ``"inference"`` compiles the forward only (outputs do not require grad).
    fallback : bool
        When a call cannot be traced (value-dependent Python control flow, ...), run the
        function eagerly with a :class:`~autograd_cnn.errors.CompileFallbackWarning`
        instead of raising the :class:`~autograd_cnn.errors.TraceError`.
    fuse : bool
        Generate fused elementwise kernels (False: every node runs its own kernel; for
        debugging and comparisons).
    autotune : bool
        Choose each convolution's algorithm by measuring the candidates once per shape
        (remembered on disk). Default False: the per-shape rule that eager code applies
        on every call, applied once at compile time (measured in isolation, a choice
        did not beat the rule inside a LeNet-5 step on this machine).

    Returns
    -------
    CompiledFunction
        Call it like ``fn``. The first call per signature (tensor shapes and dtypes,
        requires_grad flags, modules' train/eval flags, static arguments) traces and
        compiles; later calls replay. Parameters are read at call time.

    Examples
    --------
    >>> import autograd_cnn as ac
    >>> lin = ac.nn.Linear(3, 2)
    >>> step = ac.compile(lambda x: ac.tanh(lin(x)).sum())
    >>> loss = step(ac.ones(4, 3))
    >>> loss.backward()
    >>> lin.weight.grad.shape
    (2, 3)
    """
    if mode not in MODES:
        raise InvalidArgumentError(f"compile(): mode must be one of {MODES}, got {mode!r}")
    if not callable(fn):
        raise ArgumentTypeError(f"compile(): fn must be callable (a function or nn.Module), "
                                f"got {type(fn).__name__}")
    return CompiledFunction(fn, mode, bool(fallback), bool(fuse), bool(autotune))


__all__ = ["CompiledFunction", "compile"]
