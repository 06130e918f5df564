"""Export rules of the backward primitives (the part of the rules table that gradient
graphs need): ``conv_weight_grad``, ``pool_scatter`` (with max-pool indices),
``avg_pool_backward``, ``index_add`` and ``nll_loss_backward``. With them, the graph of
``ac.gradients(loss(model(x), t), params)`` of a CNN exports and onnxruntime computes
the training gradients.

- ``conv_weight_grad`` is a correlation of ``x`` with ``g`` in which ``g`` plays the
  kernel: a ``Conv`` over the batch axis (channels and batch swapped), with stride and
  dilation exchanged, cropped to the kernel size.
- ``pool_scatter`` adds ``g`` at the argmax positions: ``ScatterElements`` (reduction
  add) over flattened planes; the indices come from ONNX MaxPool's second output, which
  counts over the whole tensor, so they are reduced modulo the plane size first.
- ``avg_pool_backward`` is the transpose of the (separable) averaging: per spatial axis a
  constant ``(out, in)`` matrix built from the library's own window tables and divisors.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ExportError
from ..graph.ir import Dim
from .export_rules import _in, _int64, _x, rule


def _perm_to_last(nd, axis):
    perm = [i for i in range(nd) if i != axis] + [axis]
    return perm, [int(i) for i in np.argsort(perm)]


def _matmul_axis(ctx, x, nd, axis, matrix):
    """``x`` with ``matrix: (n_in, n_out)`` applied along ``axis``."""
    if axis == nd - 1:
        return ctx.make("MatMul", [x, ctx.const(matrix)])
    perm, inv = _perm_to_last(nd, axis)
    y = ctx.make("MatMul", [ctx.make("Transpose", [x], perm=perm), ctx.const(matrix)])
    return ctx.make("Transpose", [y], perm=inv)


@rule("conv_weight_grad")
def _conv_weight_grad(node, ctx):
    p = node.params
    x, g = _in(node), _in(node, 1)
    nd = x.ndim - 2
    groups = int(p["groups"])
    n, c = x.shape[0], x.shape[1]
    if isinstance(c, Dim) or isinstance(g.shape[1], Dim):
        raise ExportError("conv_weight_grad: symbolic channel counts cannot be exported")
    cg = c // groups
    sp = list(x.shape[2:])
    # A[c', gi*N + n] = x[n, gi*Cg + c']: the batch becomes the (grouped) channel axis
    a = ctx.make("Reshape", [_x(node, ctx), ctx.shape((n, groups, cg) + tuple(sp))])
    a = ctx.make("Transpose", [a], perm=[2, 1, 0] + list(range(3, 3 + nd)))
    a = ctx.make("Reshape", [a, ctx.shape((cg, -1) + tuple(sp))])
    b = ctx.make("Transpose", [_x(node, ctx, 1)], perm=[1, 0] + list(range(2, 2 + nd)))
    pads = [int(q[0]) for q in p["padding"]] + [int(q[1]) for q in p["padding"]]
    y = ctx.make("Conv", [a, b], strides=list(p["dilation"]), dilations=list(p["stride"]),
                 pads=pads, group=groups)
    k = list(p["kernel_size"])
    y = ctx.make("Slice", [y, ctx.ints([0] * nd), ctx.ints(k), ctx.ints(list(range(2, 2 + nd)))])
    return ctx.make("Transpose", [y], perm=[1, 0] + list(range(2, 2 + nd)))


@rule("max_pool1d", "max_pool2d", "max_pool3d")
def _max_pool_with_indices(node, ctx):
    from .export_rules import _pads

    p = node.params
    attrs = dict(kernel_shape=list(p["kernel_size"]), strides=list(p["stride"]),
                 pads=_pads(p["padding"]), dilations=list(p["dilation"]),
                 ceil_mode=int(bool(p["ceil_mode"])))
    if not ctx.aux_used(node):
        return ctx.make("MaxPool", [_x(node, ctx)], **attrs)
    x = _in(node)
    nd = len(p["kernel_size"])
    plane = x.shape[-nd:]
    if any(isinstance(d, Dim) for d in plane):
        raise ExportError(f"{node.op}: indices of symbolic spatial dims cannot be exported")
    y, idx = ctx.make("MaxPool", [_x(node, ctx)], n_outputs=2, **attrs)
    # ONNX counts over the whole tensor, the library within each plane
    return [y, ctx.make("Mod", [idx, ctx.ints(math.prod(plane))])]


@rule("pool_scatter")
def _pool_scatter(node, ctx):
    return _plane_scatter(node, ctx, reduction="add")


def _plane_scatter(node, ctx, reduction):
    g = _in(node)
    plane = tuple(int(v) for v in node.params["plane"])
    nd = len(plane)
    lead = tuple(g.shape[: g.ndim - nd])
    q = math.prod(int(d) for d in g.shape[g.ndim - nd:])
    g2 = ctx.make("Reshape", [_x(node, ctx), ctx.ints([-1, q])])
    i2 = ctx.make("Reshape", [_int64(ctx, _in(node, 1)), ctx.ints([-1, q])])
    zeros = ctx.make("Mul", [ctx.make("Slice", [g2, ctx.ints([0]), ctx.ints([1]),
                                                ctx.ints([1])]),
                             ctx.const(np.zeros((1, math.prod(plane)), np.dtype(g.dtype)))])
    out = ctx.make("ScatterElements", [zeros, i2, g2], axis=1, reduction=reduction)
    return ctx.make("Reshape", [out, ctx.shape(lead + plane)])


def _avg_matrices(params):
    from ..ops.pool import _tables

    kind, in_sp = params["kind"], tuple(int(v) for v in params["in_spatial"])
    out_sp, tabs, divs, _ = _tables(kind, in_sp, params["spec"])
    nd = len(in_sp)
    mats = []
    for d in range(nd):
        tab, div = tabs[3 - nd + d], divs[3 - nd + d]
        a = np.zeros((out_sp[d], in_sp[d]))
        for o in range(out_sp[d]):
            for t in tab[o]:
                if t >= 0:
                    a[o, t] += 1.0 / div[o]
        mats.append(a)
    return mats


@rule("avg_pool_backward")
def _avg_pool_backward(node, ctx):
    g = _in(node)
    mats = _avg_matrices(node.params)
    nd = len(mats)
    y = _x(node, ctx)
    for d, a in enumerate(mats):  # the transpose of y = A x along each axis
        y = _matmul_axis(ctx, y, g.ndim, g.ndim - nd + d, a.astype(np.dtype(g.dtype)))
    return y


@rule("index_add")
def _index_add(node, ctx):
    src = _in(node)
    shape = tuple(node.params["shape"])
    index = node.params["index"]
    parts = list(index) if isinstance(index, tuple) else [index]
    nd = len(shape)
    if any(p is Ellipsis for p in parts):
        i = parts.index(Ellipsis)
        n_real = sum(1 for p in parts if p is not None and p is not Ellipsis)
        parts[i:i + 1] = [slice(None)] * (nd - n_real)
    y = _x(node, ctx)
    # walk the index: None dims are squeezed away, ints unsqueezed back, slices padded
    squeeze, axis, pairs, arrays = [], 0, [], []
    out_axis = 0
    for p in parts:
        if p is None:
            squeeze.append(out_axis)
            out_axis += 1
            continue
        n = shape[axis]
        if isinstance(p, slice):
            if isinstance(n, Dim) and p != slice(None):
                raise ExportError("index_add: slices of symbolic dims cannot be exported")
            if p == slice(None):
                pairs.append((0, 0))
            else:
                start, stop, step = p.indices(n)
                if step != 1:
                    raise ExportError("index_add: stepped slices cannot be exported")
                pairs.append((start, n - max(stop, start)))
            out_axis += 1
        elif isinstance(p, (int, np.integer)) or (isinstance(p, np.ndarray) and p.ndim == 0):
            i = int(p) % n
            arrays.append(("int", axis, i))
            pairs.append((i, n - i - 1))
        else:
            arrays.append(("array", axis, np.asarray(p, dtype=np.int64), out_axis))
            pairs.append(None)
            out_axis += np.asarray(p).ndim
        axis += 1
    pairs += [(0, 0)] * (nd - len(pairs))
    if squeeze:
        y = ctx.make("Squeeze", [y, ctx.ints(squeeze)])
    ints = [a for a in arrays if a[0] == "int"]
    if ints:
        y = ctx.make("Unsqueeze", [y, ctx.ints([a[1] for a in ints])])
    arrs = [a for a in arrays if a[0] == "array"]
    if len(arrs) > 1:
        raise ExportError("index_add: several array indices cannot be exported")
    if arrs:
        _, ax, idx, _ = arrs[0]
        if idx.ndim != 1:
            raise ExportError("index_add: multi-dimensional array indices cannot be exported")
        # scatter along ax into zeros of the full size of that axis
        n = shape[ax]
        nd_y = nd
        front = [ax] + [i for i in range(nd_y) if i != ax]
        back = [int(i) for i in np.argsort(front)]
        yt = ctx.make("Transpose", [y], perm=front)
        zeros = ctx.make("Mul", [ctx.make("Slice", [yt, ctx.ints([0]), ctx.ints([1]),
                                                    ctx.ints([0])]),
                                 ctx.const(np.zeros(1, np.dtype(src.dtype)))])
        zeros = ctx.make("Tile", [zeros, ctx.ints([n] + [1] * (nd_y - 1))])
        yt = ctx.make("ScatterND", [zeros, ctx.const(idx.reshape(-1, 1) % n), yt],
                      reduction="add")
        y = ctx.make("Transpose", [yt], perm=back)
    widths = [(0, 0) if p is None else p for p in pairs]
    if any(w != (0, 0) for w in widths):
        y = ctx.make("Pad", [y, ctx.ints([w[0] for w in widths] + [w[1] for w in widths]),
                             ctx.const(np.zeros((), np.dtype(src.dtype)))], mode="constant")
    return y


@rule("tanh_grad")
def _tanh_grad(node, ctx):
    g, y = _x(node, ctx), _x(node, ctx, 1)
    one = ctx.scalar(1.0, _in(node, 1))
    return ctx.make("Mul", [g, ctx.make("Sub", [one, ctx.make("Mul", [y, y])])])


@rule("sigmoid_grad")
def _sigmoid_grad(node, ctx):
    g, y = _x(node, ctx), _x(node, ctx, 1)
    one = ctx.scalar(1.0, _in(node, 1))
    return ctx.make("Mul", [ctx.make("Mul", [g, y]), ctx.make("Sub", [one, y])])


@rule("relu_grad")
def _relu_grad(node, ctx):
    g, x = _x(node, ctx), _x(node, ctx, 1)
    zero = ctx.scalar(0.0, _in(node))
    return ctx.make("Where", [ctx.make("Greater", [x, ctx.scalar(0.0, _in(node, 1))]), g, zero])


@rule("log_softmax_grad")
def _log_softmax_grad(node, ctx):
    g, y = _x(node, ctx), _x(node, ctx, 1)
    axis = ctx.ints([int(node.params["axis"])])
    total = ctx.make("ReduceSum", [g, axis], keepdims=1)
    return ctx.make("Sub", [g, ctx.make("Mul", [ctx.make("Exp", [y]), total])])


@rule("softmax_grad")
def _softmax_grad(node, ctx):
    g, y = _x(node, ctx), _x(node, ctx, 1)
    axis = ctx.ints([int(node.params["axis"])])
    total = ctx.make("ReduceSum", [ctx.make("Mul", [g, y]), axis], keepdims=1)
    return ctx.make("Mul", [y, ctx.make("Sub", [g, total])])


@rule("unpool_scatter")
def _unpool_scatter(node, ctx):
    return _plane_scatter(node, ctx, reduction="none")


@rule("nll_loss_backward")
def _nll_loss_backward(node, ctx):

    g, target = _in(node), _in(node, 1)
    shape = tuple(node.params["shape"])
    cdim = 1 if len(shape) >= 2 else 0
    c = shape[cdim]
    dt = np.dtype(g.dtype)
    t = _int64(ctx, target)
    ignore = int(node.params["ignore_index"])
    valid = ctx.make("Not", [ctx.make("Equal", [t, ctx.ints(ignore)])])
    safe = ctx.make("Where", [valid, t, ctx.ints(0)])
    onehot = ctx.make("OneHot", [safe, ctx.ints([c]), ctx.const(np.array([0, 1], dt))],
                      axis=cdim)
    w = ctx.make("Cast", [valid], to=ctx_dtype(dt))
    if len(node.inputs) > 2:
        w = ctx.make("Mul", [w, ctx.make("Gather", [ctx.name(node.inputs[2]), safe], axis=0)])
    coef = ctx.make("Neg", [ctx.make("Mul", [w, ctx.name(g)])])
    if node.params["reduction"] == "mean":
        coef = ctx.make("Div", [coef, ctx.make("ReduceSum", [w], keepdims=0)])
    coef = ctx.make("Unsqueeze", [coef, ctx.ints([cdim])])
    return ctx.make("Mul", [onehot, coef])


def ctx_dtype(dt):
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dt))

