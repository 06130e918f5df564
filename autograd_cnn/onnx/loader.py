"""``ac.onnx.load``: an ONNX model as a differentiable :class:`OnnxModule`.

The module interprets the ONNX graph node by node with the library's ops, so the tape
records everything (``backward`` gives parameter and input gradients) and ``ac.trace``
turns it into the library's IR. Float initializers become Parameters named after them
(``"conv1.weight"`` is the parameter ``weight`` of a submodule ``conv1``, so
``named_parameters()`` yields the ONNX names); BatchNormalization statistics are buffers.
Integer initializers, ``Constant`` nodes and everything computed from shapes only are
*static*: they are evaluated with the tracer paused, so shape arithmetic (``Shape``,
``Gather``, ``Concat`` feeding a ``Reshape``) becomes op parameters, not graph nodes.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..errors import OnnxImportError
from ..nn.module import Module, Parameter
from ..tensor import Tensor, as_tensor
from . import ops_nn, ops_resize, ops_shape  # noqa: F401  (register their handlers)
from ._common import NodeContext, attributes, const
from .ops_basic import HANDLERS
from .safety import read_model

_TRAINING_DOMAIN = "ai.onnx.preview.training"


class _Holder(Module):
    """A namespace module: holds the parameters of one ONNX name prefix."""

    def forward(self, *args):  # pragma: no cover - never called
        raise OnnxImportError("an ONNX parameter holder is not callable")


@contextlib.contextmanager
def _static_mode():
    """Compute shape-only values eagerly: no tracer, no tape."""
    from ..tape import STATE, no_grad

    saved = STATE.tracer
    STATE.tracer = None
    try:
        with no_grad():
            yield
    finally:
        STATE.tracer = saved


def _domain(d: str) -> str:
    return "" if d in ("", "ai.onnx") else d


def _walk_nodes(graph):
    for node in graph.node:
        yield node
        for a in node.attribute:
            if a.HasField("g"):
                yield from _walk_nodes(a.g)
            for g in a.graphs:
                yield from _walk_nodes(g)


def check_supported(model) -> None:
    """Raise :class:`OnnxImportError` naming the first op (with its domain and opset) that
    has no import handler."""
    opsets = {_domain(o.domain): int(o.version) for o in model.opset_import}
    for node in _walk_nodes(model.graph):
        dom = _domain(node.domain)
        if (dom, node.op_type) not in HANDLERS:
            raise OnnxImportError(
                f"node {node.name or '?'!r}: op {node.op_type!r} of domain "
                f"{dom or 'ai.onnx'!r} (opset {opsets.get(dom, '?')}) is not supported by "
                "the importer")


class OnnxModule(Module):
    """An imported ONNX model, callable like any module: ``model(x) -> Tensor``.

    Parameters
    ----------
    model : onnx.ModelProto
        A checked model (use :func:`load` to read files safely).

    Attributes
    ----------
    input_names, output_names : list of str
        The graph's (non-initializer) inputs and its outputs, in order.
    opsets : dict
        ``domain -> version`` of the model's opset imports.

    Notes
    -----
    Starts in ``eval()`` mode (ONNX graphs are inference graphs); ``train()`` makes
    Dropout drop and BatchNormalization use batch statistics and update its buffers.
    """

    def __init__(self, model):
        import onnx

        super().__init__()
        graph = model.graph
        self.opsets = {_domain(o.domain): int(o.version) for o in model.opset_import}
        self.opsets.setdefault("", 1)
        newest = onnx.defs.onnx_opset_version()
        if self.opsets[""] > newest:
            raise OnnxImportError(
                f"model: opset {self.opsets['']} is newer than the newest the installed onnx "
                f"knows ({newest})")
        check_supported(model)
        self._graph = graph
        self._model = model
        self._attrs: dict = {}  # id(GraphProto) -> (graph, [(node, decoded attributes)])
        stats = {n.input[i] for n in graph.node if n.op_type == "BatchNormalization"
                 for i in (3, 4) if len(n.input) > i}
        self._static: dict[str, np.ndarray] = {}
        self._state: dict[str, Tensor] = {}
        from onnx import numpy_helper

        for init in graph.initializer:
            a = numpy_helper.to_array(init)
            if a.dtype.kind != "f":
                self._static[init.name] = a
                continue
            a = np.array(a, copy=True)
            if init.name in stats:
                t = Tensor._wrap(a, False)
                self._place(init.name, t, buffer=True)
            else:
                t = Parameter(a)
                self._place(init.name, t, buffer=False)
            self._state[init.name] = t
        inits = {i.name for i in graph.initializer}
        self.input_names = [i.name for i in graph.input if i.name not in inits]
        self.output_names = [o.name for o in graph.output]
        self._grad_xs = {x for n in graph.node if n.op_type == "Gradient"
                         for x in attributes(n).get("xs", [])}
        self.eval()

    def _place(self, name, t, buffer):
        parts = name.split(".")
        owner = self
        ok = all(parts)
        if ok:
            for p in parts[:-1]:
                sub = owner._modules.get(p)
                if sub is None:
                    if p in owner._parameters or p in owner._buffers:
                        ok = False
                        break
                    sub = _Holder()
                    owner.add_module(p, sub)
                owner = sub
            leaf = parts[-1]
            if ok and (leaf in owner._modules or leaf in owner._parameters
                       or leaf in owner._buffers or hasattr(type(owner), leaf)):
                ok = False
        if not ok:
            owner, leaf = self, "p_" + "".join(c if c.isalnum() else "_" for c in name)
            while leaf in owner._parameters or leaf in owner._buffers:
                leaf += "_"
        if buffer:
            owner.register_buffer(leaf, t)
        else:
            owner.register_parameter(leaf, t)
        self.__dict__.setdefault("_onnx_names", {})[name] = (owner, leaf, buffer)

    def _current(self, name):
        owner, leaf, buffer = self._onnx_names[name]
        return (owner._buffers if buffer else owner._parameters)[leaf]

    def run_all(self, *args, **kwargs) -> dict:
        """Run the graph and return every computed value: ``{onnx name: Tensor}``
        (for per-node comparisons with another runtime)."""
        self._keep_env = {}
        try:
            self.forward(*args, **kwargs)
            return self._keep_env
        finally:
            self.__dict__.pop("_keep_env", None)

    def forward(self, *args, **kwargs):
        """Run the graph: positional inputs in :attr:`input_names` order (or by name).

        Returns a Tensor for a single-output graph, else a tuple of Tensors.
        """
        if len(args) > len(self.input_names):
            raise OnnxImportError(
                f"forward(): the model takes {len(self.input_names)} inputs "
                f"{self.input_names}, got {len(args)}")
        feeds = dict(zip(self.input_names, args))
        for k, v in kwargs.items():
            if k not in self.input_names:
                raise OnnxImportError(f"forward(): unknown input {k!r}; inputs are "
                                      f"{self.input_names}")
            feeds[k] = v
        missing = [n for n in self.input_names if n not in feeds]
        optional = {i.name for i in self._graph.input if not i.type.HasField("tensor_type")}
        if [m for m in missing if m not in optional]:
            raise OnnxImportError(f"forward(): missing inputs {missing}")
        env: dict = {}
        static: set = set()
        for name, a in self._static.items():
            env[name] = const(a)
            static.add(name)
        for name in self._state:
            env[name] = self._current(name)
        for name, v in feeds.items():
            t = v if isinstance(v, Tensor) else as_tensor(np.asarray(v))
            if name in self._grad_xs and not t.requires_grad:
                t = t.detach().requires_grad_(True)
            env[name] = t
        self._run_nodes(self._graph, env, static)
        if isinstance(self.__dict__.get("_keep_env"), dict):
            self._keep_env.update(env)
        outs = []
        for name in self.output_names:
            if name not in env:
                raise OnnxImportError(f"graph output {name!r} was never computed")
            outs.append(env[name])
        return outs[0] if len(outs) == 1 else tuple(outs)

    def _run_nodes(self, graph, env, static):
        from onnx import numpy_helper

        for init in graph.initializer if graph is not self._graph else ():
            env[init.name] = const(numpy_helper.to_array(init))
            static.add(init.name)
        cached = self._attrs.get(id(graph))
        if cached is None:  # keep the protobuf wrappers alive so their ids stay unique
            cached = self._attrs[id(graph)] = (graph, [(n, attributes(n)) for n in graph.node])
        for node, attrs in cached[1]:
            dom = _domain(node.domain)
            handler = HANDLERS[(dom, node.op_type)]
            for n in node.input:
                if n and n not in env:
                    raise OnnxImportError(f"node {node.name!r} ({node.op_type}): input {n!r} "
                                          "is not defined")
            inputs = [env[n] if n else None for n in node.input]
            ctx = NodeContext(self.opsets.get(dom, 1), self.training, self, node,
                              len(node.output), env)
            ctx.static = static
            # Static: computed from constants and shapes only (never from input values),
            # so evaluated eagerly even while tracing. Dropout draws, If picks a branch
            # whose ops may read inputs, Gradient differentiates: never static.
            if node.op_type in ("Shape", "Size"):
                is_static = True
            elif node.op_type in ("Dropout", "If", "Gradient"):
                is_static = False
            else:
                is_static = all(n in static for n in node.input if n)
            try:
                if is_static:
                    with _static_mode():
                        out = handler(ctx, attrs, *inputs)
                else:
                    out = handler(ctx, attrs, *inputs)
            except OnnxImportError:
                raise
            except Exception as e:
                raise OnnxImportError(
                    f"node {node.name or '?'!r} ({node.op_type}, opset "
                    f"{ctx.opset}): {type(e).__name__}: {e}") from e
            outs = out if isinstance(out, tuple) else (out,)
            for name, v in zip(node.output, outs):
                if name:
                    env[name] = v
                    if is_static:
                        static.add(name)
        return env

    def extra_repr(self) -> str:
        return (f"inputs={self.input_names}, outputs={self.output_names}, "
                f"nodes={len(self._graph.node)}, opset={self.opsets.get('')}")


def run_subgraph(ctx, graph):
    """Run an ``If`` branch in the enclosing scope; returns its outputs."""
    env = dict(ctx.env)
    static = set(ctx.static)
    ctx.module._run_nodes(graph, env, static)
    return [env[o.name] for o in graph.output]


def load(f) -> OnnxModule:
    """Import an ONNX model as a differentiable module.

    Parameters
    ----------
    f : str, os.PathLike, bytes, file object or onnx.ModelProto
        The model.

    Returns
    -------
    OnnxModule
        In ``eval()`` mode; call it on tensors shaped as the graph's inputs.

    Raises
    ------
    OnnxImportError
        For bad files (see :mod:`autograd_cnn.onnx.safety`) and unsupported ops (the
        message names the op, its domain and opset).

    Examples
    --------
    >>> import autograd_cnn as ac  # doctest: +SKIP
    >>> m = ac.onnx.load("lenet.onnx")  # doctest: +SKIP
    >>> y = m(ac.randn(1, 1, 32, 32))  # doctest: +SKIP
    """
    return OnnxModule(read_model(f, before_checker=check_supported))
