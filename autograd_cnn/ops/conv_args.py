"""Argument parsing of the convolution family: int tuples, padding (including
``'same'`` and padding modes), dtype and operand checks, bias, and the N-d padding used
by ``padding_mode``. Split from :mod:`autograd_cnn.ops.conv` so each file reads alone."""

from __future__ import annotations

import numpy as np

from ..errors import (
    ConvShapeError,
    DTypeError,
    InvalidArgumentError,
)
from ..tensor import Tensor, as_tensor
from .indexing import getitem
from .movement import broadcast_to, concatenate, flip, reshape

#: Largest stride, dilation, padding or output_padding accepted (kernels index in 64 bits).
MAX_PARAM = 2**62

#: Input dtypes of the conv family: float32 and float64 run natively, float16 is computed
#: in float32 and rounded back (as PyTorch returns float16); longdouble has no kernel and
#: is refused rather than silently computed in float64.
CONV_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def _ints(v, nd: int, name: str, fn: str, minimum: int) -> tuple:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        t = (int(v),) * nd
    elif isinstance(v, (tuple, list)) and all(
        isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in v
    ):
        if len(v) == 1:
            v = tuple(v) * nd
        if len(v) != nd:
            raise InvalidArgumentError(
                f"{fn}: {name} must be an int or a tuple of {nd} ints, got {tuple(v)} "
                f"({len(v)} values)"
            )
        t = tuple(int(e) for e in v)
    else:
        raise InvalidArgumentError(f"{fn}: {name} must be an int or a tuple of {nd} ints, "
                                   f"got {v!r}")
    if any(e < minimum for e in t):
        kind = "positive" if minimum == 1 else "non-negative"
        raise InvalidArgumentError(f"{fn}: {name} must be {kind}, got {t}")
    if any(e > MAX_PARAM for e in t):
        # the kernels index with 64-bit integers: refuse before anything overflows
        raise InvalidArgumentError(f"{fn}: {name} must be at most 2**62, got {t}")
    return t


def _same_padding(size, k, stride, dilation):
    """'same' padding along one dim, the extra pixel (odd total) on the high side as in
    PyTorch; with stride > 1 the output has ceil(size / stride) positions (TensorFlow's
    SAME), again with the odd pixel at the high end."""
    span = dilation * (k - 1) + 1
    if stride == 1:
        total = span - 1
    else:
        total = max((-(-size // stride) - 1) * stride + span - size, 0)
    return (total // 2, total - total // 2)


def _padding(padding, nd, fn, spatial=None, kernel=None, stride=None, dilation=None,
             allow_strings=True) -> tuple:
    if isinstance(padding, str):
        if not allow_strings:
            raise InvalidArgumentError(f"{fn}: padding must be an int or tuple, got {padding!r}")
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            return tuple(_same_padding(spatial[i], kernel[i], stride[i], dilation[i])
                         for i in range(nd))
        raise InvalidArgumentError(
            f"{fn}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    if isinstance(padding, (tuple, list)) and any(isinstance(p, (tuple, list)) for p in padding):
        if len(padding) != nd or not all(isinstance(p, (tuple, list)) and len(p) == 2 and all(
                isinstance(e, (int, np.integer)) for e in p) for p in padding):
            raise InvalidArgumentError(
                f"{fn}: asymmetric padding must be {nd} (low, high) pairs of ints, got "
                f"{padding!r}")
        pairs = tuple((int(lo), int(hi)) for lo, hi in padding)
    else:
        pairs = tuple((p, p) for p in _ints(padding, nd, "padding", fn, minimum=-(2**62)))
    if any(lo < 0 or hi < 0 for lo, hi in pairs):
        raise InvalidArgumentError(f"{fn}: padding must be non-negative, got {pairs}")
    if any(lo > MAX_PARAM or hi > MAX_PARAM for lo, hi in pairs):
        raise InvalidArgumentError(f"{fn}: padding must be at most 2**62, got {pairs}")
    return pairs


def _check_conv_dtype(fn, *named):
    for name, dt in named:
        if np.dtype(dt) not in CONV_DTYPES:
            raise DTypeError(
                f"{fn}: {name} must be floating point (float16, float32 or float64), got "
                f"{np.dtype(dt)}"
                + (" (no longdouble kernel: cast with .astype(np.float64))"
                   if np.dtype(dt).kind == "f" else ""))


def _check_operands(fn, x, w, nd, bias, w_name="weight"):
    _check_conv_dtype(fn, ("input", x.dtype), (w_name, w.dtype))
    if x.dtype != w.dtype:
        raise DTypeError(
            f"{fn}: input ({x.dtype}) and {w_name} ({w.dtype}) must have the same dtype (as in "
            "PyTorch; no silent promotion: cast one of them with .astype)")
    if w.ndim != nd + 2:
        raise ConvShapeError(
            f"{fn}: {w_name} must be {nd + 2}-D (out_channels, in_channels/groups, *kernel), "
            f"got shape {w.shape}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ConvShapeError(
            f"{fn}: input must be {nd + 1}-D (unbatched) or {nd + 2}-D (batched), got shape "
            f"{x.shape}")
    if bias is not None and bias.dtype != x.dtype:
        raise DTypeError(f"{fn}: bias ({bias.dtype}) must have the input's dtype ({x.dtype})")


def _groups(groups, fn):
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise InvalidArgumentError(f"{fn}: groups must be a positive int, got {groups!r}")
    return int(groups)


def _add_bias(y, bias, nd, fn):
    if bias is None:
        return y
    bias = as_tensor(bias)
    if bias.shape != (y.shape[1],):
        raise ConvShapeError(
            f"{fn}: bias must have shape ({y.shape[1]},) (one per output channel), got "
            f"{bias.shape}")
    return y + reshape(bias, (1, y.shape[1]) + (1,) * nd)


def _axis_slice(x, axis, start, stop):
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(start, stop)
    return getitem(x, tuple(idx))


def pad_nd(x, pairs, mode: str = "zeros") -> Tensor:
    """Pad the trailing ``len(pairs)`` dims of ``x`` by (low, high) ``pairs`` with mode
    ``zeros``/``constant``, ``reflect``, ``replicate`` or ``circular`` (PyTorch's
    semantics; differentiable: built from slices, flips and concatenation)."""
    x = as_tensor(x)
    nd = len(pairs)
    if mode not in ("zeros", "constant", "reflect", "replicate", "circular"):
        raise InvalidArgumentError(
            "padding_mode: expected 'zeros', 'reflect', 'replicate' or 'circular', got "
            f"{mode!r}")
    if mode in ("zeros", "constant"):
        from .movement import pad

        flat = tuple(v for lo_hi in reversed(pairs) for v in lo_hi)
        return pad(x, flat) if any(flat) else x
    for i, (lo, hi) in enumerate(pairs):
        axis = x.ndim - nd + i
        n = x.shape[axis]
        limit = n - 1 if mode == "reflect" else n
        if mode != "replicate" and (lo > limit or hi > limit):
            raise InvalidArgumentError(
                f"padding_mode={mode!r}: padding ({lo}, {hi}) of spatial dim {i} must be at "
                f"most {limit} for an input of size {n}")
        if not (lo or hi):
            continue
        parts = []
        if mode == "circular":
            if lo:
                parts.append(_axis_slice(x, axis, n - lo, n))
            parts.append(x)
            if hi:
                parts.append(_axis_slice(x, axis, 0, hi))
        elif mode == "replicate":
            if lo:
                edge = _axis_slice(x, axis, 0, 1)
                parts.append(broadcast_to(edge, edge.shape[:axis] + (lo,) + edge.shape[axis + 1:]))
            parts.append(x)
            if hi:
                edge = _axis_slice(x, axis, n - 1, n)
                parts.append(broadcast_to(edge, edge.shape[:axis] + (hi,) + edge.shape[axis + 1:]))
        else:  # reflect (edge not repeated)
            if lo:
                parts.append(flip(_axis_slice(x, axis, 1, lo + 1), (axis,)))
            parts.append(x)
            if hi:
                parts.append(flip(_axis_slice(x, axis, n - 1 - hi, n - 1), (axis,)))
        x = concatenate(parts, axis)
    return x


