"""``ac.onnx.export``: a traced graph (:func:`autograd_cnn.trace`) as an ONNX model.

The exporter walks the IR in order and asks each node's primitive for its export rule
(``prim.export(node, ctx)``, declared in :mod:`autograd_cnn.onnx.export_rules`). Inputs
keep their symbolic dims as ONNX ``dim_param`` (the batch ``N``); shape-valued params
that follow a symbol (``reshape`` to ``(N, 400)``) become shape tensors computed in the
graph from the input that defines the symbol, so the exported model runs at any batch.
Parameters and constants become initializers named as in the IR.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ExportError
from ..graph.ir import Dim

DEFAULT_OPSET = 18


class ExportContext:
    """What an export rule uses: value names, node emission, constants, shape tensors."""

    def __init__(self, graph, opset):
        from onnx import helper  # noqa: F401

        self.graph, self.opset = graph, opset
        self.nodes, self.initializers = [], []
        self.names: dict[int, str] = {}
        self._count = 0
        self._symbols: dict[str, tuple[str, int]] = {}
        self._consts: dict[tuple, str] = {}
        self.consumers: dict[int, list] = {}
        self.native = True  # native ONNX ops for recognized composites (BN, LRN, Resize)

    # -- names ------------------------------------------------------------------------
    def fresh(self, hint="t") -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def name(self, value) -> str:
        try:
            return self.names[id(value)]
        except KeyError:
            if value.kind == "const" and value.data is not None:  # initializers on demand
                self.names[id(value)] = self.const(value.data)
                return self.names[id(value)]
            raise ExportError(f"value {value.name} is used before it is defined") from None

    def bind(self, value, name):
        self.names[id(value)] = name

    def aux_used(self, node) -> bool:
        """Whether a node's auxiliary output (e.g. max-pool indices) is read later."""
        return len(node.outputs) > 1 and id(node.outputs[1]) in self.consumers

    # -- emission ---------------------------------------------------------------------
    def make(self, op_type, inputs, n_outputs=1, **attrs):
        """Emit a node; ``inputs`` are names (or IR Values); returns the output name(s)."""
        from onnx import helper

        ins = [i if isinstance(i, str) else self.name(i) for i in inputs]
        outs = [self.fresh(op_type.lower()) for _ in range(n_outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, ins, outs, name=outs[0], **attrs))
        return outs[0] if n_outputs == 1 else outs

    def const(self, array, dtype=None) -> str:
        """An initializer holding ``array`` (deduplicated for small arrays)."""
        from onnx import numpy_helper

        a = np.asarray(array, dtype=dtype)
        key = (a.dtype.str, a.shape, a.tobytes()) if a.size <= 64 else None
        if key is not None and key in self._consts:
            return self._consts[key]
        name = self.fresh("const")
        self.initializers.append(numpy_helper.from_array(np.array(a, order="C"), name))
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values) -> str:
        return self.const(np.asarray(values, dtype=np.int64))

    def scalar(self, v, like) -> str:
        return self.const(np.asarray(v, dtype=like.dtype))

    # -- symbolic shapes --------------------------------------------------------------
    def define_symbols(self):
        for v in self.graph.inputs:
            for axis, d in enumerate(v.shape):
                if isinstance(d, Dim) and d.scale == 1 and d.offset == 0:
                    self._symbols.setdefault(d.name, (self.name(v), axis))

    def dim(self, d) -> str:
        """A 1-element int64 tensor holding dim ``d`` (an int or a :class:`Dim`)."""
        if not isinstance(d, Dim):
            return self.ints([int(d)])
        if d.name not in self._symbols:
            raise ExportError(f"symbolic dim {d!r} is not the size of any input axis")
        src, axis = self._symbols[d.name]
        out = self.make("Shape", [src], start=axis, end=axis + 1)
        if d.scale != 1:
            out = self.make("Mul", [out, self.ints([d.scale])])
        if d.offset:
            out = self.make("Add", [out, self.ints([d.offset])])
        return out

    def shape(self, shape) -> str:
        """An int64 shape tensor for ``shape`` (ints and Dims)."""
        if not any(isinstance(d, Dim) for d in shape):
            return self.ints([int(d) for d in shape])
        parts = []
        run = []
        for d in shape:
            if isinstance(d, Dim):
                if run:
                    parts.append(self.ints(run))
                    run = []
                parts.append(self.dim(d))
            else:
                run.append(int(d))
        if run:
            parts.append(self.ints(run))
        return parts[0] if len(parts) == 1 else self.make("Concat", parts, axis=0)


def _dims(shape):
    return [d.name if isinstance(d, Dim) and d.scale == 1 and d.offset == 0
            else (repr(d) if isinstance(d, Dim) else int(d)) for d in shape]


def _specs(args, dynamic_batch):
    from ..graph import ShapeSpec
    from ..tensor import Tensor

    out = []
    for a in args:
        if dynamic_batch and isinstance(a, (Tensor, np.ndarray)) and np.ndim(a) >= 1:
            arr = a.data if isinstance(a, Tensor) else a
            sizes = {"N": arr.shape[0]} if arr.shape[0] > 1 else None
            out.append(ShapeSpec((None,) + arr.shape[1:], arr.dtype, sizes=sizes))
        else:
            out.append(a)
    return out


def to_model(model_or_fn, example_args, *, opset: int = DEFAULT_OPSET, dynamic_batch=True,
             input_names=None, output_names=None, graph=None, native=True):
    """The ONNX ``ModelProto`` of ``model_or_fn`` traced at ``example_args``.

    See :func:`export` for the parameters; ``graph`` may be an already traced
    :class:`~autograd_cnn.Graph` (then ``model_or_fn``/``example_args`` are ignored);
    ``native=False`` exports batch norm, LRN and interpolation op by op instead of as
    ONNX's BatchNormalization, LRN and Resize (:mod:`autograd_cnn.onnx.export_fuse`).
    """
    import onnx
    from onnx import helper, numpy_helper

    from ..graph import trace
    from . import export_rules  # noqa: F401  (declares the rules)

    if not 13 <= int(opset) <= onnx.defs.onnx_opset_version():
        raise ExportError(f"opset: expected 13 to {onnx.defs.onnx_opset_version()}, got {opset}")
    if graph is None:
        if not isinstance(example_args, (tuple, list)):
            example_args = (example_args,)
        graph = trace(model_or_fn, *_specs(example_args, dynamic_batch))
    if graph.updates:
        raise ExportError(
            "the traced graph updates buffers (BatchNorm in training mode): export a model "
            "in eval() mode")
    ctx = ExportContext(graph, int(opset))
    ctx.native = bool(native)
    inputs = []
    names = list(input_names or [])
    for i, v in enumerate(graph.inputs):
        n = names[i] if i < len(names) else (v.name if v.name.isidentifier() else f"input_{i}")
        ctx.bind(v, n)
        inputs.append(helper.make_tensor_value_info(
            n, helper.np_dtype_to_tensor_dtype(np.dtype(v.dtype)), _dims(v.shape)))
    for v in graph.params:
        data = graph.bindings[v.name]
        data = data.data if hasattr(data, "data") else np.asarray(data)
        ctx.initializers.append(numpy_helper.from_array(np.array(data, order="C"), v.name))
        ctx.bind(v, v.name)
    ctx.define_symbols()
    consumers = ctx.consumers
    for node in graph.nodes:
        for v in node.inputs:
            consumers.setdefault(id(v), []).append(node)
    from .export_fuse import plan

    skip, fused = plan(graph, int(opset)) if native else (set(), {})
    for node in graph.nodes:
        if id(node) in skip:
            continue
        if id(node) in fused:
            ctx.bind(node.outputs[0], fused[id(node)](ctx))
            continue
        rule = node.prim.export
        if rule is None:
            hint = (": dropout in training mode draws random masks; export a model in "
                    "eval() mode") if node.op == "dropout_mask" else ""
            raise ExportError(
                f"primitive {node.op!r} has no ONNX export rule (node {node.outputs[0].name} "
                f"at {node.where or '?'}){hint}")
        out = rule(node, ctx)
        outs = out if isinstance(out, (list, tuple)) else [out]
        for i, v in enumerate(node.outputs):
            if i < len(outs):
                ctx.bind(v, outs[i])
            elif id(v) in consumers:
                raise ExportError(
                    f"primitive {node.op!r}: its output {i} (auxiliary) is used by "
                    f"{consumers[id(v)][0].op!r}, which ONNX cannot express")
    outputs = []
    onames = list(output_names or [])
    for i, v in enumerate(graph.outputs):
        src = ctx.name(v)
        n = onames[i] if i < len(onames) else f"output_{i}" if len(graph.outputs) > 1 else "output"
        ctx.nodes.append(helper.make_node("Identity", [src], [n], name=f"out_{i}"))
        outputs.append(helper.make_tensor_value_info(
            n, helper.np_dtype_to_tensor_dtype(np.dtype(v.dtype)), _dims(v.shape)))
    g = helper.make_graph(ctx.nodes, getattr(graph, "name", None) or "autograd_cnn", inputs,
                          outputs, initializer=ctx.initializers)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", int(opset))],
                              producer_name="autograd_cnn")
    model.ir_version = min(model.ir_version, 10)
    return model


def export(model_or_fn, example_args, f, *, opset: int = DEFAULT_OPSET, dynamic_batch=True,
           input_names=None, output_names=None, native=True):
    """Export a module or function to ONNX, through :func:`autograd_cnn.trace`.

    Parameters
    ----------
    model_or_fn : nn.Module or callable
        Traced at ``example_args`` (put modules in ``eval()`` mode first).
    example_args : Tensor or tuple
        Example inputs, e.g. ``ac.randn(1, 3, 224, 224)``; ``ShapeSpec`` works too.
    f : str, os.PathLike or binary file object
        Where the model is written.
    opset : int
        ONNX opset of the default domain (13 or newer; default 18).
    dynamic_batch : bool
        Make dim 0 of every tensor input symbolic (ONNX ``dim_param`` ``"N"``).
    input_names, output_names : list of str, optional
        ONNX names of the graph inputs and outputs.
    native : bool
        Write ONNX's BatchNormalization, LRN and Resize for the library's composites of
        them (checked to compute the same); False exports those op by op.

    Returns
    -------
    onnx.ModelProto
        The exported model (also written to ``f``), checked by ``onnx.checker``.

    Raises
    ------
    ExportError
        When a primitive has no ONNX mapping (the message names it).

    Examples
    --------
    >>> import autograd_cnn as ac  # doctest: +SKIP
    >>> m = ac.models.LeNet5().eval()  # doctest: +SKIP
    >>> ac.onnx.export(m, ac.randn(1, 1, 32, 32), "lenet.onnx")  # doctest: +SKIP
    """
    import onnx

    model = to_model(model_or_fn, example_args, opset=opset, dynamic_batch=dynamic_batch,
                     input_names=input_names, output_names=output_names, native=native)
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    else:
        f.write(data)
    return model
