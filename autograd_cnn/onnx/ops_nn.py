"""Import handlers, part 3: convolutions, pooling, normalization, dropout, gradients.

ONNX pads are ``[x1_begin, x2_begin, ..., x1_end, x2_end, ...]``; the library's conv
primitive takes one ``(low, high)`` pair per spatial dim, so asymmetric padding maps
directly. Pooling windows follow PyTorch's rules, which ONNX adopted (``ceil_mode``
drops a last window starting in the right padding; windows are clipped to the padded
input); where the pooling primitives cannot express a case (asymmetric or large pads,
dilated average pooling, Lp pooling) it is composed from pad + a depthwise convolution.
"""

from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..primitive import REGISTRY
from ._common import T, arr, const, ints, is_float, norm_axis
from .ops_basic import handles


def _spatial_args(attrs, x_shape, kernel):
    nd = len(kernel)
    strides = list(attrs.get("strides") or [1] * nd)
    dil = list(attrs.get("dilations") or [1] * nd)
    pads = list(attrs.get("pads") or [0] * (2 * nd))
    auto = attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for i in range(nd):
            n = x_shape[2 + i]
            out = -(-n // strides[i])
            total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - n)
            small, big = total // 2, total - total // 2
            pads.append((small, big) if auto == "SAME_UPPER" else (big, small))
        pairs = pads
    elif auto == "VALID":
        pairs = [(0, 0)] * nd
    else:
        pairs = [(pads[i], pads[i + nd]) for i in range(nd)]
    return strides, dil, [tuple(int(v) for v in p) for p in pairs]


def _bias(y, b):
    return y if b is None else y + ops.reshape(T(b), (1, -1) + (1,) * (y.ndim - 2))


@handles("Conv")
def _conv(ctx, attrs, x, w, b=None):
    x, w = T(x), T(w)
    kernel = list(attrs.get("kernel_shape") or w.shape[2:])
    strides, dil, pairs = _spatial_args(attrs, x.shape, kernel)
    y = REGISTRY["conv"](x, w, stride=tuple(strides), padding=tuple(pairs),
                         dilation=tuple(dil), groups=int(attrs.get("group", 1)),
                         algorithm="auto")
    return _bias(y, b)


@handles("ConvTranspose")
def _conv_transpose(ctx, attrs, x, w, b=None):
    x, w = T(x), T(w)
    nd = w.ndim - 2
    kernel = list(attrs.get("kernel_shape") or w.shape[2:])
    strides = list(attrs.get("strides") or [1] * nd)
    dil = list(attrs.get("dilations") or [1] * nd)
    opad = list(attrs.get("output_padding") or [0] * nd)
    pads = list(attrs.get("pads") or [0] * (2 * nd))
    auto = attrs.get("auto_pad", "NOTSET")
    full = [(x.shape[2 + i] - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 for i in range(nd)]
    out_shape = attrs.get("output_shape")
    if out_shape or auto in ("SAME_UPPER", "SAME_LOWER"):
        target = list(out_shape)[-nd:] if out_shape else [x.shape[2 + i] * strides[i]
                                                          for i in range(nd)]
        pairs = []
        for i in range(nd):
            total = full[i] + opad[i] - target[i]
            if auto == "SAME_UPPER":
                pairs.append((total // 2, total - total // 2))
            else:
                pairs.append((total - total // 2, total // 2))
    else:
        pairs = [(pads[i], pads[i + nd]) for i in range(nd)]
    y = REGISTRY["conv_transpose"](x, w, stride=tuple(strides), padding=((0, 0),) * nd,
                                   dilation=tuple(dil), groups=int(attrs.get("group", 1)),
                                   output_padding=(0,) * nd, algorithm="auto")
    # crop the padding, extend by output_padding (zeros), as ONNX's output-size formula
    index, extra = [slice(None), slice(None)], []
    for i, (lo, hi) in enumerate(pairs):
        stop = full[i] - hi + opad[i]
        index.append(slice(max(lo, 0), min(stop, full[i])))
        extra.append((max(-lo, 0), max(stop - full[i], 0)))
    y = ops.getitem(y, tuple(index))
    if any(e != (0, 0) for e in extra):
        torch_pad = [v for pair in reversed(extra) for v in pair]
        y = ops.pad(y, tuple(torch_pad))
    return _bias(y, b)


# ---- pooling ---------------------------------------------------------------------------

def _pool_geometry(attrs, x_shape, kernel):
    strides, dil, pairs = _spatial_args(attrs, x_shape, kernel)
    ceil = bool(attrs.get("ceil_mode", 0))
    out, extra = [], []
    for i, k in enumerate(kernel):
        n, s, d, (lo, hi) = x_shape[2 + i], strides[i], dil[i], pairs[i]
        eff = d * (k - 1) + 1
        num = n + lo + hi - eff
        o = (-(-num // s) if ceil else num // s) + 1
        if ceil and (o - 1) * s >= n + lo:
            o -= 1
        out.append(o)
        extra.append(max(0, (o - 1) * s + eff - (n + lo + hi)))
    return strides, dil, pairs, out, extra


def _fits_primitive(kernel, pairs, dil=None):
    return all(lo == hi and lo <= k // 2 for (lo, hi), k in zip(pairs, kernel)) and (
        dil is None or all(d == 1 for d in dil))


def _window_sum(x, kernel, strides, dil, pairs, extra):
    """Sum over each pooling window: zero padding, then a depthwise conv with ones."""
    nd = len(kernel)
    c = x.shape[1]
    widths = [(lo, hi + e) for (lo, hi), e in zip(pairs, extra)]
    if any(w != (0, 0) for w in widths):
        x = ops.pad(x, tuple(v for pair in reversed(widths) for v in pair))
    ones = const(np.ones((c, 1) + tuple(kernel), dtype=x.dtype))
    return REGISTRY["conv"](x, ones, stride=tuple(strides), padding=((0, 0),) * nd,
                            dilation=tuple(dil), groups=c, algorithm="auto")


def _window_count(x_shape, kernel, strides, dil, pairs, extra, include_pad, dtype):
    """Elements counted per window (a shape-only constant, computed with NumPy)."""
    nd = len(kernel)
    sp = x_shape[2:]
    m = np.ones(sp, dtype=np.float64)
    if include_pad:
        m = np.pad(m, [(lo, hi) for lo, hi in pairs], constant_values=1.0)
        m = np.pad(m, [(0, e) for e in extra])
    else:
        m = np.pad(m, [(lo, hi + e) for (lo, hi), e in zip(pairs, extra)])
    for i in range(nd):  # separable sum along each axis
        k, s, d = kernel[i], strides[i], dil[i]
        n_out = (m.shape[i] - (d * (k - 1) + 1)) // s + 1
        taken = [np.take(m, np.arange(n_out) * s + j * d, axis=i) for j in range(k)]
        m = np.sum(taken, axis=0)
    return const(m.reshape((1, 1) + m.shape).astype(dtype))


@handles("AveragePool")
def _avg_pool(ctx, attrs, x):
    x = T(x)
    kernel = list(attrs["kernel_shape"])
    nd = len(kernel)
    strides, dil, pairs, out, extra = _pool_geometry(attrs, x.shape, kernel)
    include = bool(attrs.get("count_include_pad", 0))
    if 1 <= nd <= 3 and _fits_primitive(kernel, pairs, dil):
        fn = (ops.avg_pool1d, ops.avg_pool2d, ops.avg_pool3d)[nd - 1]
        return fn(x, tuple(kernel), tuple(strides), tuple(p[0] for p in pairs),
                  ceil_mode=bool(attrs.get("ceil_mode", 0)), count_include_pad=include)
    s = _window_sum(x, kernel, strides, dil, pairs, extra)
    return s / _window_count(x.shape, kernel, strides, dil, pairs, extra, include, x.dtype)


@handles("LpPool")
def _lp_pool(ctx, attrs, x):
    x = T(x)
    kernel = list(attrs["kernel_shape"])
    p = float(attrs.get("p", 2))
    strides, dil, pairs, out, extra = _pool_geometry(attrs, x.shape, kernel)
    powered = x * x if p == 2 else ops.abs(x) ** p
    s = _window_sum(powered, kernel, strides, dil, pairs, extra)
    return ops.sqrt(s) if p == 2 else s ** (1.0 / p)


@handles("MaxPool")
def _max_pool(ctx, attrs, x):
    x = T(x)
    kernel = list(attrs["kernel_shape"])
    nd = len(kernel)
    strides, dil, pairs, out, extra = _pool_geometry(attrs, x.shape, kernel)
    prim = REGISTRY[f"max_pool{nd}d"]
    params = dict(kernel_size=tuple(kernel), stride=tuple(strides), dilation=tuple(dil))
    if _fits_primitive(kernel, pairs):
        xin, lo_pads = x, [0] * nd
        params.update(padding=tuple(p[0] for p in pairs),
                      ceil_mode=bool(attrs.get("ceil_mode", 0)))
    else:
        widths = [(lo, hi + e) for (lo, hi), e in zip(pairs, extra)]
        fill = -np.inf if is_float(x) else np.iinfo(x.dtype).min
        xin = ops.pad(x if is_float(x) else x.astype(np.float64),
                      tuple(v for pair in reversed(widths) for v in pair), value=float(fill))
        lo_pads = [lo for lo, _ in pairs]
        params.update(padding=(0,) * nd, ceil_mode=False)
    if not is_float(x):
        y, idx = prim.impl(arr(xin), **params)
        y = const(y.astype(x.dtype))
    else:
        from ..ops.pool import _with_indices

        y, idx = _with_indices(prim, xin, params, True)
        idx = arr(idx)
    if ctx.n_outputs < 2:
        return y
    # plane-flat argmax (in xin's plane) -> ONNX's index into the whole input tensor
    in_sp = x.shape[2:]
    coords = np.unravel_index(idx, xin.shape[2:])
    coords = [c - lo for c, lo in zip(coords, lo_pads)]
    if attrs.get("storage_order", 0):
        flat = np.ravel_multi_index(coords[::-1], in_sp[::-1])
    else:
        flat = np.ravel_multi_index(coords, in_sp)
    n, c = x.shape[:2]
    plane = np.arange(n * c, dtype=np.int64).reshape((n, c) + (1,) * nd) * math.prod(in_sp)
    return y, const((flat + plane).astype(np.int64))


@handles("GlobalAveragePool")
def _gap(ctx, attrs, x):
    x = T(x)
    return ops.mean(x, dim=tuple(range(2, x.ndim)), keepdim=True)


@handles("GlobalMaxPool")
def _gmp(ctx, attrs, x):
    x = T(x)
    return ops.amax(x, dim=tuple(range(2, x.ndim)), keepdim=True)


@handles("MaxUnpool")
def _max_unpool(ctx, attrs, x, indices, output_shape=None):
    x = T(x)
    kernel = list(attrs["kernel_shape"])
    nd = len(kernel)
    strides = list(attrs.get("strides") or [1] * nd)
    pads = list(attrs.get("pads") or [0] * (2 * nd))
    shape = tuple(x.shape[:2]) + tuple(
        (x.shape[2 + i] - 1) * strides[i] + kernel[i] - pads[i] - pads[i + nd]
        for i in range(nd))
    flat = ops.index_add(ops.reshape(x, (-1,)), (math.prod(shape),),
                         (arr(indices).reshape(-1).astype(np.int64),))
    y = ops.reshape(flat, shape)
    if output_shape is not None:  # ONNX pads the inferred shape at the end
        target = ints(output_shape)
        y = ops.pad(y, tuple(v for a in reversed(range(2, len(shape)))
                             for v in (0, target[a] - shape[a])))
    return y


# ---- normalization ---------------------------------------------------------------------

def _chan(t, nd):
    return ops.reshape(T(t), (1, -1) + (1,) * (nd - 2))


@handles("BatchNormalization")
def _batch_norm(ctx, attrs, x, scale, b, mean, var, *unused):
    from ..tape import assign, no_grad

    x = T(x)
    eps = float(attrs.get("epsilon", 1e-5))
    mom = float(attrs.get("momentum", 0.9))
    training = bool(attrs.get("training_mode", 0)) or (ctx.training and ctx.opset >= 7)
    if ctx.opset < 7 and not attrs.get("is_test", 0):
        training = ctx.training
    axes = (0,) + tuple(range(2, x.ndim))
    if x.ndim == 2 or attrs.get("spatial", 1):
        if training:
            mu = ops.mean(x, dim=axes, keepdim=True)
            v = ops.mean((x - mu) * (x - mu), dim=axes, keepdim=True)
        else:
            mu, v = _chan(mean, x.ndim), _chan(var, x.ndim)
    else:  # opset < 9, spatial=0: statistics per (C, H, W)
        mu = ops.reshape(T(mean), (1,) + tuple(T(mean).shape))
        v = ops.reshape(T(var), (1,) + tuple(T(var).shape))
        y = (x - mu) / ops.sqrt(v + eps)
        return y * ops.reshape(T(scale), mu.shape) + ops.reshape(T(b), mu.shape)
    y = (x - mu) / ops.sqrt(v + eps) * _chan(scale, x.ndim) + _chan(b, x.ndim)
    if not training:
        return y
    c = x.shape[1]
    new_mean = T(mean) * mom + ops.reshape(mu, (c,)).astype(T(mean).dtype) * (1 - mom)
    new_var = T(var) * mom + ops.reshape(v, (c,)).astype(T(var).dtype) * (1 - mom)
    if attrs.get("training_mode", 0):  # the node returns the running statistics
        return y, new_mean, new_var
    # module.train(): update the running statistics held as buffers (PyTorch-style)
    names = getattr(ctx.module, "_onnx_names", {})
    with no_grad():
        for i, new in ((3, new_mean), (4, new_var)):
            name = ctx.node.input[i]
            if name in names and names[name][2]:
                assign(ctx.module._current(name), new.detach())
    return y


@handles("InstanceNormalization")
def _instance_norm(ctx, attrs, x, scale, b):
    x = T(x)
    eps = float(attrs.get("epsilon", 1e-5))
    axes = tuple(range(2, x.ndim))
    mu = ops.mean(x, dim=axes, keepdim=True)
    d = x - mu
    v = ops.mean(d * d, dim=axes, keepdim=True)
    return d / ops.sqrt(v + eps) * _chan(scale, x.ndim) + _chan(b, x.ndim)


@handles("LayerNormalization")
def _layer_norm(ctx, attrs, x, scale, b=None):
    x = T(x)
    eps = float(attrs.get("epsilon", 1e-5))
    axis = norm_axis(attrs.get("axis", -1), x.ndim)
    axes = tuple(range(axis, x.ndim))
    mu = ops.mean(x, dim=axes, keepdim=True)
    d = x - mu
    inv = 1.0 / ops.sqrt(ops.mean(d * d, dim=axes, keepdim=True) + eps)
    y = d * inv * T(scale)
    if b is not None:
        y = y + T(b)
    return (y, mu, inv)[:max(ctx.n_outputs, 1)]


@handles("LRN")
def _lrn(ctx, attrs, x):
    x = T(x)
    size = int(attrs["size"])
    alpha, beta = float(attrs.get("alpha", 1e-4)), float(attrs.get("beta", 0.75))
    bias = float(attrs.get("bias", 1.0))
    c = x.shape[1]
    lo, hi = (size - 1) // 2, size - 1 - (size - 1) // 2
    sq = ops.pad(x * x, (0, 0) * (x.ndim - 2) + (lo, hi))
    window = ops.getitem(sq, (slice(None), slice(0, c)))
    for i in range(1, size):
        window = window + ops.getitem(sq, (slice(None), slice(i, i + c)))
    return x / (window * (alpha / size) + bias) ** beta


@handles("Dropout")
def _dropout(ctx, attrs, x, ratio=None, training_mode=None):
    x = T(x)
    if ctx.opset < 12:
        p = float(attrs.get("ratio", 0.5))
        training = ctx.training and not attrs.get("is_test", 0)
    else:
        p = 0.5 if ratio is None else float(arr(ratio).item())
        training = bool(arr(training_mode).item()) if training_mode is not None else ctx.training
    mask_dtype = bool if ctx.opset >= 10 else x.dtype  # Dropout-7/9 type the mask as T
    if not training or p == 0.0:
        return x, const(np.ones(x.shape, dtype=mask_dtype))
    y = ops.dropout(x, p=p, training=True) if hasattr(ops, "dropout") else None
    if y is None:
        from ..ops.norm import dropout as _d

        y = _d(x, p=p, training=True)
    return y, const((arr(y) != 0).astype(mask_dtype))


# ---- the Gradient operator (ai.onnx.preview.training) ------------------------------------

@handles("Gradient", domain="ai.onnx.preview.training")
def _gradient(ctx, attrs, *inputs):
    from ..tape import enable_grad, gradients

    xs, y = attrs["xs"], attrs["y"]
    targets = [ctx.env[n] for n in xs]
    with enable_grad():
        out = ctx.env[y]
        seed = ops.sum(out) if out.ndim else out
        return tuple(gradients(seed, targets))


# ---- losses (what torch.onnx.export writes for NLLLoss / CrossEntropyLoss) ---------------

def _nll(ctx, attrs, logp, target, weight):
    from .. import functional as F

    kw = dict(reduction=attrs.get("reduction", "mean"))
    if "ignore_index" in attrs:
        kw["ignore_index"] = int(attrs["ignore_index"])
    return F.nll_loss(logp, T(target), None if weight is None else T(weight), **kw)


@handles("NegativeLogLikelihoodLoss")
def _nll_loss(ctx, attrs, x, target, weight=None):
    return _nll(ctx, attrs, T(x), target, weight)


@handles("SoftmaxCrossEntropyLoss")
def _softmax_ce(ctx, attrs, x, target, weight=None):
    logp = ops.log_softmax(T(x), 1)
    loss = _nll(ctx, attrs, logp, target, weight)
    return (loss, logp) if ctx.n_outputs > 1 else loss
