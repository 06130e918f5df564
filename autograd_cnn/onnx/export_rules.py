"""The ONNX export rules of the primitives, in one table.

Each rule is ``rule(node, ctx) -> name | [names]`` (see
:class:`~autograd_cnn.onnx.exporter.ExportContext`) and is attached with
``REGISTRY[name].defexport(rule)``. Native ONNX ops are used where they exist (Conv,
ConvTranspose with pads and output_padding, MaxPool with dilations and ceil_mode,
AveragePool, Softmax, reductions...); adaptive pooling with non-divisible sizes is
decomposed (average: two constant averaging matrices; max: per-row/column slices).
Primitives without a rule (training-only ops such as ``dropout_mask``, losses, the
backward-only scatters) raise :class:`~autograd_cnn.errors.ExportError` on export.
"""

from __future__ import annotations

import numpy as np

from ..errors import ExportError
from ..graph.ir import Dim
from ..primitive import REGISTRY


def rule(*names):
    def put(fn):
        for n in names:
            REGISTRY[n].defexport(fn)
        return fn

    return put


def exportable() -> dict:
    """``primitive name -> bool``: which registered primitives have an export rule."""
    return {name: p.export is not None for name, p in REGISTRY.items()}


def _in(node, i=0):
    return node.inputs[i]


def _x(node, ctx, i=0):
    return ctx.name(node.inputs[i])


# ---- elementwise -------------------------------------------------------------------------

_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow",
           "maximum": "Max", "minimum": "Min", "eq": "Equal", "lt": "Less", "le": "LessOrEqual",
           "gt": "Greater", "ge": "GreaterOrEqual", "logical_and": "And", "logical_or": "Or"}
_UNARY = {"neg": "Neg", "abs": "Abs", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
          "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "sign": "Sign",
          "logical_not": "Not"}


def _binary(op):
    return lambda node, ctx: ctx.make(op, [_x(node, ctx), _x(node, ctx, 1)])


def _unary(op):
    return lambda node, ctx: ctx.make(op, [_x(node, ctx)])


for _name, _op in _BINARY.items():
    REGISTRY[_name].defexport(_binary(_op))
for _name, _op in _UNARY.items():
    REGISTRY[_name].defexport(_unary(_op))


@rule("ne")
def _ne(node, ctx):
    return ctx.make("Not", [ctx.make("Equal", [_x(node, ctx), _x(node, ctx, 1)])])


@rule("leaky_relu")
def _leaky(node, ctx):
    return ctx.make("LeakyRelu", [_x(node, ctx)], alpha=float(node.params["negative_slope"]))


@rule("softplus")
def _softplus(node, ctx):
    beta = float(node.params.get("beta", 1.0))
    x = _x(node, ctx)
    if beta == 1.0:
        return ctx.make("Softplus", [x])
    like = _in(node)
    y = ctx.make("Softplus", [ctx.make("Mul", [x, ctx.scalar(beta, like)])])
    return ctx.make("Div", [y, ctx.scalar(beta, like)])


@rule("clip")
def _clip(node, ctx):
    like = _in(node)
    lo, hi = node.params.get("min"), node.params.get("max")
    return ctx.make("Clip", [_x(node, ctx), "" if lo is None else ctx.scalar(lo, like),
                             "" if hi is None else ctx.scalar(hi, like)])


@rule("astype")
def _astype(node, ctx):
    from onnx import helper

    return ctx.make("Cast", [_x(node, ctx)],
                    to=helper.np_dtype_to_tensor_dtype(np.dtype(node.params["dtype"])))


@rule("where")
def _where(node, ctx):
    cond = _x(node, ctx)
    if np.dtype(_in(node).dtype) != np.bool_:
        from onnx import TensorProto

        cond = ctx.make("Cast", [cond], to=TensorProto.BOOL)
    return ctx.make("Where", [cond, _x(node, ctx, 1), _x(node, ctx, 2)])


# ---- linear algebra ----------------------------------------------------------------------

@rule("matmul")
def _matmul(node, ctx):
    return ctx.make("MatMul", [_x(node, ctx), _x(node, ctx, 1)])


@rule("einsum")
def _einsum(node, ctx):
    eq = ",".join(node.params["terms"]) + "->" + node.params["out"]
    return ctx.make("Einsum", [ctx.name(v) for v in node.inputs], equation=eq)


# ---- movement ----------------------------------------------------------------------------

@rule("reshape")
def _reshape(node, ctx):
    shape = tuple(node.params["shape"])
    dims = [d for d in shape if isinstance(d, Dim)]
    if len(dims) == 1:  # one symbolic dim: let ONNX infer it
        shape = tuple(-1 if isinstance(d, Dim) else d for d in shape)
    return ctx.make("Reshape", [_x(node, ctx), ctx.shape(shape)])


@rule("permute")
def _permute(node, ctx):
    return ctx.make("Transpose", [_x(node, ctx)], perm=[int(d) for d in node.params["dims"]])


@rule("broadcast_to")
def _broadcast_to(node, ctx):
    return ctx.make("Expand", [_x(node, ctx), ctx.shape(tuple(node.params["shape"]))])


@rule("concatenate")
def _concat(node, ctx):
    return ctx.make("Concat", [ctx.name(v) for v in node.inputs], axis=int(node.params["axis"]))


@rule("pad")
def _pad(node, ctx):
    pw = node.params["pad_width"]
    if any(isinstance(v, Dim) for p in pw for v in p):
        raise ExportError("pad: symbolic pad widths cannot be exported")
    pads = [int(p[0]) for p in pw] + [int(p[1]) for p in pw]
    return ctx.make("Pad", [_x(node, ctx), ctx.ints(pads),
                            ctx.scalar(node.params.get("value", 0.0), _in(node))],
                    mode="constant")


@rule("flip")
def _flip(node, ctx):
    dims = node.params["dims"]
    dims = [int(d) for d in (dims if isinstance(dims, (tuple, list)) else (dims,))]
    n = len(dims)
    big = np.iinfo(np.int64)
    return ctx.make("Slice", [_x(node, ctx), ctx.ints([-1] * n), ctx.ints([big.min] * n),
                              ctx.ints(dims), ctx.ints([-1] * n)])


@rule("tile")
def _tile(node, ctx):
    reps = list(node.params["reps"])
    nd = _in(node).ndim
    x = _x(node, ctx)
    if len(reps) > nd:
        x = ctx.make("Reshape", [x, ctx.shape((1,) * (len(reps) - nd) + tuple(_in(node).shape))])
    reps = [1] * (nd - len(reps)) + reps
    return ctx.make("Tile", [x, ctx.ints(reps)])


@rule("getitem")
def _getitem(node, ctx):
    index = node.params["index"]
    parts = index if isinstance(index, tuple) else (index,)
    x = _x(node, ctx)
    shape = list(_in(node).shape)
    nd = len(shape)
    n_real = sum(1 for p in parts if p is not None and p is not Ellipsis)
    arrays = [p for p in parts if isinstance(p, np.ndarray) and p.ndim > 0 or isinstance(p, list)]
    if any(isinstance(p, np.ndarray) and p.dtype == np.bool_ for p in parts) or len(arrays) > 1:
        raise ExportError("getitem: boolean or multiple array indices cannot be exported")
    # expand Ellipsis
    expanded = []
    for p in parts:
        if p is Ellipsis:
            expanded.extend([slice(None)] * (nd - n_real))
        else:
            expanded.append(p)
    starts, ends, axes, steps = [], [], [], []
    squeeze, unsq, gather = [], [], None
    axis = 0
    out_axis = 0
    for p in expanded:
        if p is None:
            unsq.append(out_axis)
            out_axis += 1
            continue
        if isinstance(p, slice):
            if p != slice(None):
                if any(isinstance(v, Dim) for v in (p.start, p.stop)):
                    raise ExportError("getitem: symbolic slice bounds cannot be exported")
                n = shape[axis] if not isinstance(shape[axis], Dim) else None
                st, en, sp = p.start, p.stop, p.step or 1
                if n is not None:
                    st, en, sp = p.indices(n)
                    if sp < 0 and en < 0:
                        en = np.iinfo(np.int64).min
                else:
                    st = 0 if st is None else st
                    en = np.iinfo(np.int64).max if en is None else en
                starts.append(st), ends.append(en), axes.append(axis), steps.append(sp)
            out_axis += 1
        elif isinstance(p, (int, np.integer)) or (isinstance(p, np.ndarray) and p.ndim == 0):
            i = int(p)
            starts.append(i), ends.append(i + 1 if i != -1 else np.iinfo(np.int64).max)
            axes.append(axis), steps.append(1)
            squeeze.append(axis)
        else:
            gather = (axis, np.asarray(p, dtype=np.int64), out_axis)
            out_axis += np.asarray(p).ndim
        axis += 1
    if starts:
        x = ctx.make("Slice", [x, ctx.ints(starts), ctx.ints(ends), ctx.ints(axes),
                               ctx.ints(steps)])
    if gather is not None:
        g_axis, idx, _ = gather
        x = ctx.make("Gather", [x, ctx.const(idx)], axis=g_axis)
        # a gathered index of ndim k replaces one axis by k axes
        shift = idx.ndim - 1
        squeeze = [a + shift if a > g_axis else a for a in squeeze]
    if squeeze:
        x = ctx.make("Squeeze", [x, ctx.ints(squeeze)])
    if unsq:
        x = ctx.make("Unsqueeze", [x, ctx.ints(unsq)])
    return x


# ---- reductions --------------------------------------------------------------------------

def _axes(node):
    ax = node.params.get("axis")
    nd = _in(node).ndim
    if ax is None:
        return list(range(nd))
    return [int(a) for a in (ax if isinstance(ax, (tuple, list)) else (ax,))]


def _reduce(op):
    def r(node, ctx):
        keep = int(bool(node.params.get("keepdims", False)))
        axes = _axes(node)
        if op == "ReduceSum" or ctx.opset >= 18:
            return ctx.make(op, [_x(node, ctx), ctx.ints(axes)], keepdims=keep)
        return ctx.make(op, [_x(node, ctx)], axes=axes, keepdims=keep)

    return r


for _name, _op in {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax",
                   "min": "ReduceMin", "logsumexp": "ReduceLogSumExp"}.items():
    REGISTRY[_name].defexport(_reduce(_op))


@rule("sum_to")
def _sum_to(node, ctx):
    src, dst = list(_in(node).shape), list(node.params["shape"])
    lead = len(src) - len(dst)
    axes = list(range(lead)) + [lead + i for i, d in enumerate(dst)
                                if d == 1 and src[lead + i] != 1]
    x = _x(node, ctx)
    if axes:
        x = ctx.make("ReduceSum", [x, ctx.ints(axes)], keepdims=1)
    return ctx.make("Reshape", [x, ctx.shape(tuple(dst))]) if lead else x


@rule("softmax", "log_softmax")
def _softmax(node, ctx):
    op = "Softmax" if node.op == "softmax" else "LogSoftmax"
    return ctx.make(op, [_x(node, ctx)], axis=int(node.params["axis"]))


@rule("argmax", "argmin")
def _argext(node, ctx):
    op = "ArgMax" if node.op == "argmax" else "ArgMin"
    ax = node.params.get("axis")
    x = _x(node, ctx)
    keep = int(bool(node.params.get("keepdims", False)))
    if ax is None:
        x = ctx.make("Reshape", [x, ctx.ints([-1])])
        ax = 0
    return ctx.make(op, [x], axis=int(ax), keepdims=keep)


@rule("full")
def _full(node, ctx):
    from onnx import numpy_helper

    dt = np.dtype(node.params["dtype"])
    value = numpy_helper.from_array(np.asarray([node.params["value"]], dtype=dt))
    return ctx.make("ConstantOfShape", [ctx.shape(tuple(node.params["shape"]))], value=value)


# ---- convolution and pooling -------------------------------------------------------------

def _pads(padding):
    pairs = [p if isinstance(p, (tuple, list)) else (p, p) for p in padding]
    return [int(p[0]) for p in pairs] + [int(p[1]) for p in pairs]


@rule("conv")
def _conv(node, ctx):
    p = node.params
    w = _in(node, 1)
    return ctx.make("Conv", [_x(node, ctx), _x(node, ctx, 1)],
                    kernel_shape=[int(k) for k in w.shape[2:]],
                    strides=list(p["stride"]), pads=_pads(p["padding"]),
                    dilations=list(p["dilation"]), group=int(p["groups"]))


@rule("conv_transpose")
def _conv_transpose(node, ctx):
    p = node.params
    w = _in(node, 1)
    return ctx.make("ConvTranspose", [_x(node, ctx), _x(node, ctx, 1)],
                    kernel_shape=[int(k) for k in w.shape[2:]],
                    strides=list(p["stride"]), pads=_pads(p["padding"]),
                    dilations=list(p["dilation"]), group=int(p["groups"]),
                    output_padding=[int(v) for v in p["output_padding"]])


@rule("avg_pool1d", "avg_pool2d", "avg_pool3d")
def _avg_pool(node, ctx):
    p = node.params
    if p.get("divisor_override") is not None:
        k = int(np.prod(p["kernel_size"]))
        if any(p["padding"]) or p["ceil_mode"]:
            raise ExportError(f"{node.op}: divisor_override with padding or ceil_mode cannot "
                              "be exported")
        y = ctx.make("AveragePool", [_x(node, ctx)], kernel_shape=list(p["kernel_size"]),
                     strides=list(p["stride"]))
        return ctx.make("Mul", [y, ctx.scalar(k / p["divisor_override"], _in(node))])
    return ctx.make("AveragePool", [_x(node, ctx)], kernel_shape=list(p["kernel_size"]),
                    strides=list(p["stride"]), pads=_pads(p["padding"]),
                    ceil_mode=int(bool(p["ceil_mode"])),
                    count_include_pad=int(bool(p["count_include_pad"])))


def _adaptive_windows(n_in, n_out):
    return [(i * n_in // n_out, -(-(i + 1) * n_in // n_out)) for i in range(n_out)]


@rule("adaptive_avg_pool2d")
def _adaptive_avg(node, ctx):
    x = _in(node)
    h, w = (int(d) for d in x.shape[-2:])
    oh, ow = (int(d) for d in node.params["output_size"])
    if (oh, ow) == (1, 1):
        return ctx.make("GlobalAveragePool", [_x(node, ctx)])
    if h % oh == 0 and w % ow == 0:
        k = [h // oh, w // ow]
        return ctx.make("AveragePool", [_x(node, ctx)], kernel_shape=k, strides=k)
    # non-divisible: y = A_h @ x @ A_w^T with constant averaging matrices
    def avg_matrix(n_in, n_out):
        a = np.zeros((n_out, n_in), dtype=np.dtype(x.dtype))
        for i, (s, e) in enumerate(_adaptive_windows(n_in, n_out)):
            a[i, s:e] = 1.0 / (e - s)
        return a

    y = ctx.make("MatMul", [_x(node, ctx), ctx.const(avg_matrix(w, ow).T)])
    return ctx.make("MatMul", [ctx.const(avg_matrix(h, oh)), y])


@rule("adaptive_max_pool2d")
def _adaptive_max(node, ctx):
    x = _in(node)
    h, w = (int(d) for d in x.shape[-2:])
    oh, ow = (int(d) for d in node.params["output_size"])
    if h % oh == 0 and w % ow == 0:
        k = [h // oh, w // ow]
        return ctx.make("MaxPool", [_x(node, ctx)], kernel_shape=k, strides=k)
    y = _x(node, ctx)
    nd = x.ndim
    for axis, n_in, n_out in ((nd - 2, h, oh), (nd - 1, w, ow)):
        parts = [ctx.make("ReduceMax", [ctx.make("Slice", [y, ctx.ints([s]), ctx.ints([e]),
                                                            ctx.ints([axis])]),
                                         ctx.ints([axis])], keepdims=1)
                 if ctx.opset >= 18 else
                 ctx.make("ReduceMax", [ctx.make("Slice", [y, ctx.ints([s]), ctx.ints([e]),
                                                            ctx.ints([axis])])],
                          axes=[axis], keepdims=1)
                 for s, e in _adaptive_windows(n_in, n_out)]
        y = ctx.make("Concat", parts, axis=axis)
    return y


# ---- indexing and losses (so loss functions export too) ------------------------------------

def _int64(ctx, value):
    from onnx import TensorProto

    name = ctx.name(value)
    return name if np.dtype(value.dtype) == np.int64 else ctx.make("Cast", [name],
                                                                   to=TensorProto.INT64)


@rule("take_along_dim")
def _gather(node, ctx):
    return ctx.make("GatherElements", [_x(node, ctx), _int64(ctx, _in(node, 1))],
                    axis=int(node.params["dim"]))


@rule("scatter_add_along_dim")
def _scatter_add(node, ctx):
    from onnx import numpy_helper

    if ctx.opset < 16:
        raise ExportError("scatter_add: needs opset >= 16 (ScatterElements reduction='add')")
    g = _in(node)
    zero = numpy_helper.from_array(np.zeros(1, dtype=np.dtype(g.dtype)))
    base = ctx.make("ConstantOfShape", [ctx.shape(tuple(node.params["shape"]))], value=zero)
    return ctx.make("ScatterElements", [base, _int64(ctx, _in(node, 1)), ctx.name(g)],
                    axis=int(node.params["dim"]), reduction="add")


@rule("numel")
def _numel(node, ctx):
    from onnx import helper

    shape = ctx.make("Shape", [_x(node, ctx)])
    axes = node.params.get("axis")
    if axes is not None:
        shape = ctx.make("Gather", [shape, ctx.ints(list(axes))], axis=0)
    if ctx.opset >= 18:
        n = ctx.make("ReduceProd", [shape, ctx.ints([0])], keepdims=0)
    else:
        n = ctx.make("ReduceProd", [shape], axes=[0], keepdims=0)
    return ctx.make("Cast", [n], to=helper.np_dtype_to_tensor_dtype(
        np.dtype(node.params["dtype"])))


@rule("nll_loss")
def _nll_loss(node, ctx):
    ins = [_x(node, ctx), _int64(ctx, _in(node, 1))] + [ctx.name(v) for v in node.inputs[2:]]
    return ctx.make("NegativeLogLikelihoodLoss", ins, reduction=node.params["reduction"],
                    ignore_index=int(node.params["ignore_index"]))


@rule("bce")
def _bce(node, ctx):
    # -(y log x + (1 - y) log(1 - x)), each log clamped at -100 as PyTorch does
    x, y = _x(node, ctx), _x(node, ctx, 1)
    like = _in(node)
    one, floor = ctx.scalar(1.0, like), ctx.scalar(-100.0, like)
    log_x = ctx.make("Max", [ctx.make("Log", [x]), floor])
    log_1mx = ctx.make("Max", [ctx.make("Log", [ctx.make("Sub", [one, x])]), floor])
    pos = ctx.make("Mul", [y, log_x])
    neg = ctx.make("Mul", [ctx.make("Sub", [one, y]), log_1mx])
    return ctx.make("Neg", [ctx.make("Add", [pos, neg])])


# ---- more elementwise --------------------------------------------------------------------

for _name, _op in {"erf": "Erf", "sin": "Sin", "cos": "Cos", "clone": "Identity"}.items():
    REGISTRY[_name].defexport(_unary(_op))


@rule("clip_tensor")
def _clip_tensor(node, ctx):
    y = _x(node, ctx)
    for v, which in zip(node.inputs[1:], node.params["which"]):
        y = ctx.make("Max" if which == "min" else "Min", [y, ctx.name(v)])
    return y


@rule("div_rounded")
def _div_rounded(node, ctx):
    a, b = _x(node, ctx), _x(node, ctx, 1)
    mode = node.params["rounding_mode"]
    if np.dtype(_in(node).dtype).kind == "f":
        q = ctx.make("Div", [a, b])
        if mode == "floor":
            return ctx.make("Floor", [q])
        return ctx.make("Mul", [ctx.make("Sign", [q]), ctx.make("Floor", [ctx.make("Abs", [q])])])
    q = ctx.make("Div", [a, b])  # ONNX integer Div truncates
    if mode == "trunc":
        return q
    # floor: one less where the remainder is non-zero and the signs differ
    rem = ctx.make("Mod", [a, b], fmod=1)
    zero = ctx.scalar(0, _in(node))
    fix = ctx.make("And", [ctx.make("Not", [ctx.make("Equal", [rem, zero])]),
                           ctx.make("Xor", [ctx.make("Less", [a, zero]),
                                            ctx.make("Less", [b, zero])])])
    return ctx.make("Sub", [q, ctx.make("Cast", [fix], to=_onnx_dtype(_in(node).dtype))])


def _onnx_dtype(dt):
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dt))


# the backward primitives' rules, and resample_axis with its adjoint
from . import export_rules_grad, export_rules_resample  # noqa: E402,F401
