"""Resampling: ``interpolate`` (nearest, linear, bilinear, trilinear) and
``pixel_shuffle`` / ``pixel_unshuffle``.

Both are composites of differentiable ops. Interpolation is separable: along each
spatial axis it gathers the two source rows ``i0, i1`` (``getitem`` with an index array,
whose VJP is an accumulating ``index_add``) and blends them with constant weights, so the
gradient of an upsampling is the matching adjoint downsampling and double backward works.
Index rules follow PyTorch (``align_corners``, and ``scale_factor`` used directly unless
``recompute_scale_factor=True``).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InterpolateError, InvalidArgumentError, ShapeError
from ..tensor import Tensor, as_tensor

_MODES = {"nearest": None, "linear": 1, "bilinear": 2, "trilinear": 3}


def _sizes_and_scales(x, size, scale_factor, recompute_scale_factor, nd):
    if (size is None) == (scale_factor is None):
        raise InterpolateError(
            "interpolate(): give exactly one of size and scale_factor, got "
            f"size={size!r}, scale_factor={scale_factor!r}"
        )
    in_sp = x.shape[2:]
    if size is not None:
        sizes = (size,) * nd if isinstance(size, (int, np.integer)) else tuple(size)
        if len(sizes) != nd or not all(isinstance(s, (int, np.integer)) and s >= 1
                                       for s in sizes):
            raise InterpolateError(
                f"interpolate(): size must be a positive int or {nd} positive ints for a "
                f"{x.ndim}-D input, got {size!r}"
            )
        return tuple(int(s) for s in sizes), tuple(n / o for n, o in zip(in_sp, sizes))
    factors = ((scale_factor,) * nd if isinstance(scale_factor, (int, float))
               else tuple(scale_factor))
    if len(factors) != nd or not all(isinstance(f, (int, float)) and f > 0 for f in factors):
        raise InterpolateError(
            f"interpolate(): scale_factor must be a positive number or {nd} of them, "
            f"got {scale_factor!r}"
        )
    sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sp, factors))
    if any(s < 1 for s in sizes):
        raise InterpolateError(
            f"interpolate(): scale_factor {scale_factor!r} makes an empty output from "
            f"spatial shape {in_sp}"
        )
    if recompute_scale_factor:
        return sizes, tuple(n / o for n, o in zip(in_sp, sizes))
    return sizes, tuple(1.0 / f for f in factors)


def _take(x: Tensor, axis: int, index: np.ndarray) -> Tensor:
    from .indexing import getitem

    return getitem(x, (slice(None),) * axis + (index,))


def _linear_axis(x: Tensor, axis: int, n_in: int, n_out: int, scale: float,
                 align_corners: bool) -> Tensor:
    o = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = o * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((o + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    # A dense (n_out, n_in) interpolation matrix with two taps per row: the resampling is
    # one BLAS product and its VJP the product with A^T (far faster than scatter-adding
    # through index_add); the matrix is small next to the planes it multiplies.
    a = np.zeros((n_out, n_in), dtype=x.dtype)
    np.add.at(a, (np.arange(n_out), i0), 1.0 - lam)
    np.add.at(a, (np.arange(n_out), i1), lam)
    return _apply_axis(x, axis, a)


def _apply_axis(x: Tensor, axis: int, a: np.ndarray) -> Tensor:
    """``x`` with ``a: (n_out, n_in)`` applied along ``axis`` (a matmul)."""
    from .linalg import matmul
    from .movement import reshape, transpose

    last = x.ndim - 1
    if axis != last:
        return transpose(_apply_axis(transpose(x, axis, last), last, a), axis, last)
    # one large GEMM over all rows rather than a broadcast batch of small ones
    rows = reshape(x, (-1, x.shape[-1]))
    out = matmul(rows, Tensor._wrap(np.ascontiguousarray(a.T), False))
    return reshape(out, x.shape[:-1] + (a.shape[0],))


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None) -> Tensor:
    """Resample ``(N, C, *spatial)`` to a new spatial size (PyTorch ``F.interpolate``).

    Parameters
    ----------
    input : Tensor
        ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
    size : int or tuple, optional
        Output spatial size. Exactly one of ``size`` and ``scale_factor``.
    scale_factor : float or tuple, optional
        Output size ``floor(in * scale_factor)``; the source coordinates use
        ``1 / scale_factor`` unless ``recompute_scale_factor=True``.
    mode : {"nearest", "linear", "bilinear", "trilinear"}
        ``nearest``: ``src = min(floor(dst * scale), in - 1)`` (PyTorch's legacy nearest).
        The linear modes need a 3-, 4-, 5-D input respectively.
    align_corners : bool, optional
        Linear modes only: map corner pixel centres onto each other
        (``src = dst * (in - 1) / (out - 1)``) rather than half-pixel centres.

    Returns
    -------
    Tensor ``(N, C, *size)``.

    Examples
    --------
    >>> import autograd_cnn as ac, autograd_cnn.functional as F
    >>> F.interpolate(ac.tensor([[[1.0, 2.0]]]), scale_factor=2).numpy()
    array([[[1., 1., 2., 2.]]], dtype=float32)
    """
    x = as_tensor(input)
    if mode not in _MODES:
        raise InterpolateError(
            f"interpolate(): mode must be one of {sorted(_MODES)}, got {mode!r}"
        )
    if x.ndim not in (3, 4, 5):
        raise ShapeError(
            f"interpolate(): input must be (N, C, L), (N, C, H, W) or (N, C, D, H, W), "
            f"got shape {x.shape}"
        )
    nd = x.ndim - 2
    if _MODES[mode] is not None and _MODES[mode] != nd:
        raise InterpolateError(
            f"interpolate(): mode {mode!r} needs a {_MODES[mode] + 2}-D input, got shape "
            f"{x.shape}"
        )
    if mode == "nearest" and align_corners is not None:
        raise InterpolateError(
            "interpolate(): align_corners only applies to the linear modes, got "
            f"align_corners={align_corners!r} with mode='nearest'"
        )
    if x.dtype.kind != "f":
        raise InvalidArgumentError(f"interpolate(): input must be floating point, got {x.dtype}")
    sizes, scales = _sizes_and_scales(x, size, scale_factor, recompute_scale_factor, nd)
    y = x
    for i, (n_in, n_out, sc) in enumerate(zip(x.shape[2:], sizes, scales)):
        axis = 2 + i
        if n_in == n_out and (mode == "nearest" or align_corners or sc == 1.0):
            continue  # identity along this axis
        if mode == "nearest":
            src = np.minimum(np.floor(np.arange(n_out) * sc).astype(np.int64), n_in - 1)
            y = _take(y, axis, src)
        else:
            y = _linear_axis(y, axis, n_in, n_out, sc, bool(align_corners))
    return y


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Alias of :func:`interpolate` (PyTorch's deprecated ``F.upsample``)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input, upscale_factor: int) -> Tensor:
    """Rearrange ``(N, C*r*r, H, W)`` into ``(N, C, H*r, W*r)`` (sub-pixel convolution).

    ``out[n, c, h*r + i, w*r + j] = in[n, c*r*r + i*r + j, h, w]`` (PyTorch's order).
    """
    from .movement import permute, reshape

    x = as_tensor(input)
    r = upscale_factor
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
        raise InvalidArgumentError(
            f"pixel_shuffle(): upscale_factor must be a positive int, got {r!r}")
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise ShapeError(
            f"pixel_shuffle(): input must be (*, C*r^2, H, W) with channels divisible by "
            f"r^2 = {r * r}, got shape {x.shape}"
        )
    *lead, c, h, w = x.shape
    lead = tuple(lead)
    k = len(lead)
    y = reshape(x, lead + (c // (r * r), r, r, h, w))
    y = permute(y, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return reshape(y, lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int) -> Tensor:
    """Inverse of :func:`pixel_shuffle`: ``(N, C, H*r, W*r)`` -> ``(N, C*r*r, H, W)``."""
    from .movement import permute, reshape

    x = as_tensor(input)
    r = downscale_factor
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
        raise InvalidArgumentError(
            f"pixel_unshuffle(): downscale_factor must be a positive int, got {r!r}")
    if x.ndim < 3 or x.shape[-1] % r or x.shape[-2] % r:
        raise ShapeError(
            f"pixel_unshuffle(): input must be (*, C, H, W) with H and W divisible by "
            f"{r}, got shape {x.shape}"
        )
    *lead, c, h, w = x.shape
    lead = tuple(lead)
    k = len(lead)
    y = reshape(x, lead + (c, h // r, r, w // r, r))
    y = permute(y, tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return reshape(y, lead + (c * r * r, h // r, w // r))


__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle", "upsample"]
