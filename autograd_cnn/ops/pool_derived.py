"""Pools built on the primitives of :mod:`autograd_cnn.ops.pool`: max unpooling (the
``unpool_scatter`` primitive at max-pool indices), power-average (Lp) pooling (an average
pool of ``x ** p``) and cross-channel max pooling / maxout (a 1-D max pool over channels).
PyTorch's names, signatures and NCHW layout.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError, PoolIndicesError, PoolShapeError
from ..tensor import Tensor, as_tensor
from .pool import _avg_pool, _check_input, _ntuple, _window_args, max_pool1d
from .pool_scatter import _unpool_scatter


def _max_unpool(nd, input, indices, kernel_size, stride, padding, output_size):
    fn = f"max_unpool{nd}d"
    x, idx = as_tensor(input), as_tensor(indices)
    _check_input(x, nd, fn)
    if idx.shape != x.shape:
        raise PoolIndicesError(
            f"{fn}(): indices must have the input's shape {x.shape}, got {idx.shape}"
        )
    if idx.dtype.kind not in "iu":
        raise PoolIndicesError(f"{fn}(): indices must be integers, got dtype {idx.dtype}")
    k, s, p, _ = _window_args(fn, nd, kernel_size, stride, padding, 1)
    default = tuple((n - 1) * st - 2 * pp + kk
                    for n, kk, st, pp in zip(x.shape[-nd:], k, s, p))
    if output_size is None:
        size = default
    else:
        size = tuple(int(v) for v in output_size)
        if len(size) == nd + 2 or (len(size) == nd + 1 and x.ndim == nd + 1):
            size = size[-nd:]
        if len(size) != nd:
            raise InvalidArgumentError(
                f"{fn}(): output_size must have {nd} spatial entries, got {output_size!r}"
            )
        for i, (want, dflt, st) in enumerate(zip(size, default, s)):
            if not dflt - st < want < dflt + st:
                raise InvalidArgumentError(
                    f"{fn}(): output_size[{i}] must lie strictly between {dflt - st} and "
                    f"{dflt + st} for these pooling parameters, got {want}"
                )
    if any(v < 1 for v in size):
        raise PoolShapeError(f"{fn}(): output size {size} is empty")
    from ..kernels.conv_dispatch import check_output_size

    check_output_size(x.shape[:-nd] + size, f"{fn}(): output_size={output_size!r}")
    idx = idx.astype(np.int64) if idx.dtype != np.int64 else idx
    return _unpool_scatter(x, idx, plane=tuple(int(v) for v in size))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of :func:`max_pool1d` at its indices (see :func:`max_unpool2d`)."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Place ``input`` at ``indices`` (from ``max_pool2d(..., return_indices=True)``) in
    zero planes. ``input, indices: (N, C, H, W)`` -> ``(N, C, H_out, W_out)``, by default
    ``H_out = (H - 1) * stride - 2 * padding + kernel_size``.

    Where indices repeat (overlapping pooling windows), one value is kept, as in
    PyTorch: the last in flattened order (from ``max_pool2d`` the repeats carry the same
    value). The gradient of ``input`` is the output gradient read at ``indices``, so every
    repeated entry receives it (PyTorch's rule too).
    """
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of :func:`max_pool3d` at its indices (see :func:`max_unpool2d`)."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    from .elementwise import abs as _abs
    from .elementwise import relu, sign

    fn = f"lp_pool{nd}d"
    if not isinstance(norm_type, (int, float)) or isinstance(norm_type, bool) or norm_type <= 0:
        raise InvalidArgumentError(f"{fn}(): norm_type must be a positive number, "
                                   f"got {norm_type!r}")
    x = as_tensor(input)
    _check_input(x, nd, fn)
    k = _ntuple(kernel_size, nd, "kernel_size", fn, 1)
    avg = _avg_pool(nd, x ** float(norm_type), k, stride, 0, ceil_mode, True, None)
    # PyTorch's formula: sign(out) * relu(|out|) keeps a negative sum (odd p) at zero
    return (sign(avg) * relu(_abs(avg)) * float(math.prod(k))) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling ``(sum x^p)^(1/p)`` over 1-D windows. See :func:`lp_pool2d`."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling ``(sum_{window} x^p)^(1/p)`` (PyTorch ``F.lp_pool2d``).

    ``input: (N, C, H, W)``; p = ``norm_type`` (p = 1: sum pooling; large p -> max
    pooling). No padding. Returns ``(N, C, H_out, W_out)``.
    """
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def channel_max_pool(input, kernel_size: int, stride: int | None = None) -> Tensor:
    """Cross-channel max pooling: max over windows of ``kernel_size`` adjacent channels.

    ``input: (N, C, *spatial)`` -> ``(N, C_out, *spatial)``, ``C_out = (C - k) // s + 1``.
    Same routing as :func:`max_pool1d` (first maximum in each channel window).
    """
    from .movement import permute, reshape

    x = as_tensor(input)
    if x.ndim < 2:
        raise PoolShapeError(f"channel_max_pool(): input must be (N, C, ...), got {x.shape}")
    k = _ntuple(kernel_size, 1, "kernel_size", "channel_max_pool", 1)[0]
    s = k if stride is None else _ntuple(stride, 1, "stride", "channel_max_pool", 1)[0]
    if k > x.shape[1]:
        raise PoolShapeError(
            f"channel_max_pool(): kernel_size {k} is larger than the {x.shape[1]} channels"
        )
    n, c, sp = x.shape[0], x.shape[1], x.shape[2:]
    # channels last, one 1-D pooling row per (sample, position)
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    rows = reshape(permute(x, perm), (-1, 1, c))
    pooled = max_pool1d(rows, k, s)
    co = pooled.shape[-1]
    back = reshape(pooled, (n,) + sp + (co,))
    return permute(back, (0, x.ndim - 1) + tuple(range(1, x.ndim - 1)))


def maxout(input, pool_size: int) -> Tensor:
    """Maxout: the max over each group of ``pool_size`` consecutive channels.

    ``input: (N, C, *spatial)`` with ``C`` divisible by ``pool_size`` ->
    ``(N, C // pool_size, *spatial)``.
    """
    x = as_tensor(input)
    if x.ndim < 2 or x.shape[1] % int(pool_size) != 0:
        raise PoolShapeError(
            f"maxout(): channels ({x.shape[1] if x.ndim > 1 else None}) must be divisible by "
            f"pool_size {pool_size}; input shape {x.shape}"
        )
    return channel_max_pool(x, pool_size, pool_size)


__all__ = [
    "channel_max_pool", "lp_pool1d", "lp_pool2d", "max_unpool1d", "max_unpool2d",
    "max_unpool3d", "maxout",
]
