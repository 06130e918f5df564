"""Resampling: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic,
trilinear, area) and ``pixel_shuffle`` / ``pixel_unshuffle``.

Interpolation is separable: each spatial axis in turn is resampled by the primitive
``resample_axis``, a sparse linear map given by a tap table (output ``o`` reads input
positions ``idx[o, k]`` with weights ``w[o, k]``: one tap for the nearest modes, two for
linear, four for cubic, a window for area). Its VJP is ``resample_axis_adjoint`` (the
transposed map) and the adjoint's VJP is the forward map again, so double backward works.
Since an output only reads its own taps, a NaN stays local (PyTorch's footprint). Index
rules, including the float32 arithmetic of the nearest modes and the same-size shortcut of
the linear modes, follow PyTorch's CPU kernels (``align_corners``, and ``scale_factor`` used
directly unless ``recompute_scale_factor=True``).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..errors import InterpolateError, InvalidArgumentError, ShapeError
from ..kernels import resample as K
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor

# mode -> number of spatial dims it needs (None: any of 1, 2, 3)
_MODES = {"nearest": None, "nearest-exact": None, "area": None, "linear": 1, "bilinear": 2,
          "bicubic": 2, "trilinear": 3}
_AXIS_KIND = {"nearest": "nearest", "nearest-exact": "nearest-exact", "area": "area",
              "linear": "linear", "bilinear": "linear", "trilinear": "linear",
              "bicubic": "cubic"}


def _sizes_and_factors(x, size, scale_factor, recompute_scale_factor, nd):
    """Output sizes and the scale factors the kernels use (None: derive from sizes)."""
    if (size is None) == (scale_factor is None):
        raise InterpolateError(
            "interpolate(): give exactly one of size and scale_factor, got "
            f"size={size!r}, scale_factor={scale_factor!r}"
        )
    in_sp = x.shape[2:]
    if size is not None and recompute_scale_factor:
        raise InterpolateError(
            "interpolate(): recompute_scale_factor is only meaningful with scale_factor, "
            f"got size={size!r} and recompute_scale_factor={recompute_scale_factor!r}")
    if size is not None:
        sizes = (size,) * nd if isinstance(size, (int, np.integer)) else tuple(size)
        if len(sizes) != nd or not all(isinstance(s, (int, np.integer)) and s >= 1
                                       for s in sizes):
            raise InterpolateError(
                f"interpolate(): size must be a positive int or {nd} positive ints for a "
                f"{x.ndim}-D input, got {size!r}"
            )
        return tuple(int(s) for s in sizes), (None,) * nd
    factors = ((scale_factor,) * nd if isinstance(scale_factor, (int, float, np.number))
               else tuple(scale_factor))
    if len(factors) != nd or not all(
            isinstance(f, (int, float, np.number)) and math.isfinite(f) and f > 0
            for f in factors):
        raise InterpolateError(
            f"interpolate(): scale_factor must be a positive number or {nd} of them, "
            f"got {scale_factor!r}"
        )
    sizes = tuple(int(math.floor(n * float(f))) for n, f in zip(in_sp, factors))
    if any(s < 1 for s in sizes):
        raise InterpolateError(
            f"interpolate(): scale_factor {scale_factor!r} makes an empty output from "
            f"spatial shape {in_sp}"
        )
    if recompute_scale_factor:
        return sizes, (None,) * nd
    return sizes, tuple(float(f) for f in factors)


# ---- tap tables (PyTorch's index and weight rules, one axis) -------------------------


def _scale(n_in, n_out, factor, align_corners, ftype):
    """PyTorch's ``area_pixel_compute_scale``: the source step per output step."""
    if align_corners:
        return ftype((n_in - 1) / (n_out - 1)) if n_out > 1 else ftype(0)
    if factor is not None and factor > 0:
        return ftype(1.0 / factor)
    return ftype(n_in) / ftype(n_out)


def _cubic_weights(t):
    a = -0.75  # PyTorch's (and OpenCV's) cubic convolution constant

    def near(v):  # |v| <= 1
        return ((a + 2) * v - (a + 3)) * v * v + 1

    def far(v):  # 1 < |v| < 2
        return ((a * v - 5 * a) * v + 8 * a) * v - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)


@functools.lru_cache(maxsize=256)
def tap_table(kind: str, n_in: int, n_out: int, factor, align_corners: bool, dtype: str):
    """``(idx, w)``, each ``(n_out, K)``: the taps of one axis resampled from ``n_in`` to
    ``n_out`` points by ``kind`` (nearest, nearest-exact, linear, cubic, area).

    ``factor``: the user's scale factor for this axis (None: ``n_in / n_out`` is used);
    source positions are computed in ``dtype`` like PyTorch's ``opmath`` (float32 for the
    nearest modes whatever the input). Cached and read-only (shared between calls and
    threads).
    """
    idx, w = _tap_table(kind, n_in, n_out, factor, align_corners, dtype)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    idx.flags.writeable = False
    w.flags.writeable = False
    return idx, w


def _tap_table(kind: str, n_in: int, n_out: int, factor, align_corners: bool, dtype: str):
    o = np.arange(n_out)
    if kind in ("nearest", "nearest-exact"):
        f32 = np.float32
        sc = f32(1.0 / factor) if factor is not None and factor > 0 else f32(n_in) / f32(n_out)
        if kind == "nearest" and n_out == n_in:
            src = o
        elif kind == "nearest" and n_out == 2 * n_in:
            src = o >> 1
        elif kind == "nearest":
            src = np.floor(o.astype(f32) * sc).astype(np.int64)
        else:
            src = np.floor(((o + 0.5) * np.float64(sc)).astype(f32)).astype(np.int64)
        idx = np.minimum(src, n_in - 1).reshape(-1, 1)
        return idx.astype(np.int64), np.ones((n_out, 1))
    if kind == "area":
        start = (o * n_in) // n_out
        end = ((o + 1) * n_in + n_out - 1) // n_out
        width = int((end - start).max())
        k = np.arange(width)
        idx = start[:, None] + k[None, :]
        inside = idx < end[:, None]
        w = np.where(inside, 1.0 / (end - start)[:, None], 0.0)
        return np.where(inside, idx, -1).astype(np.int64), w
    ftype = np.dtype(dtype).type
    if kind == "linear" and n_in == n_out:  # PyTorch copies an axis of unchanged size
        return o.reshape(-1, 1).astype(np.int64), np.ones((n_out, 1))
    sc = _scale(n_in, n_out, factor, align_corners, ftype)
    of = o.astype(ftype)
    src = sc * of if align_corners else sc * (of + ftype(0.5)) - ftype(0.5)
    if kind == "linear":
        src = np.maximum(src, ftype(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0, 0, 1).astype(np.float64)
    if kind == "linear":
        i1 = i0 + (i0 < n_in - 1)
        return np.stack([i0, i1], axis=1), np.stack([1.0 - lam, lam], axis=1)
    taps = np.clip(i0[:, None] + np.arange(-1, 3)[None, :], 0, n_in - 1)
    return taps.astype(np.int64), _cubic_weights(lam)


def _is_identity(idx, w, n_in):
    return (idx.shape[1] == 1 and idx.shape[0] == n_in
            and np.array_equal(idx[:, 0], np.arange(n_in)) and np.all(w == 1.0))


# ---- the primitives ------------------------------------------------------------------


def _planes3(shape, axis):
    return (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:]))


def _axis_shape(s, axis, table):
    kind, n_in, n_out = table[:3]
    if len(s) <= axis or s[axis] != n_in:
        raise ShapeError(f"resample_axis(): dim {axis} of shape {tuple(s)} must be {n_in}")
    return tuple(s[:axis]) + (n_out,) + tuple(s[axis + 1:])


def _adjoint_shape(s, axis, table):
    kind, n_in, n_out = table[:3]
    if len(s) <= axis or s[axis] != n_out:
        raise ShapeError(
            f"resample_axis_adjoint(): dim {axis} of shape {tuple(s)} must be {n_out}")
    return tuple(s[:axis]) + (n_in,) + tuple(s[axis + 1:])


def _tables_for(x, table):
    return tap_table(*table, np.dtype(x.dtype).name if x.dtype.kind == "f" else "float64")


def _axis_impl(x, axis, table):
    idx, w = _tables_for(x, table)
    out = K.taps_forward(x.reshape(_planes3(x.shape, axis)), idx, w)
    return out.reshape(_axis_shape(x.shape, axis, table))


def _adjoint_impl(g, axis, table):
    idx, w = _tables_for(g, table)
    out = K.taps_adjoint(g.reshape(_planes3(g.shape, axis)), idx, w, table[1])
    return out.reshape(_adjoint_shape(g.shape, axis, table))


_resample = register(
    Primitive("resample_axis", _axis_impl, category="resample", shape=_axis_shape,
              doc="resample one axis through a tap table (interpolation, area averaging)")
).defvjp(lambda g, ans, x, axis, table: _resample_adjoint(g, axis=axis, table=table))

_resample_adjoint = register(
    Primitive("resample_axis_adjoint", _adjoint_impl, category="resample",
              shape=_adjoint_shape, doc="the transpose of resample_axis (its VJP)")
).defvjp(lambda g, ans, x, axis, table: _resample(g, axis=axis, table=table))


def resample_axis(x, axis: int, kind: str, n_out: int, factor=None,
                  align_corners: bool = False) -> Tensor:
    """Resample dim ``axis`` of ``x`` to ``n_out`` points (one axis of :func:`interpolate`).

    ``kind``: ``"nearest"``, ``"nearest-exact"``, ``"linear"``, ``"cubic"`` or ``"area"``;
    ``factor``: the scale factor the source positions use (None: ``n_in / n_out``).
    Shape: ``x.shape`` with ``n_out`` at ``axis``.
    """
    x = as_tensor(x)
    table = (kind, int(x.shape[axis]), int(n_out),
             None if factor is None else float(factor), bool(align_corners))
    return _resample(x, axis=int(axis), table=table)


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
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
    mode : {"nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"}
        ``nearest``: ``src = min(floor(dst * scale), in - 1)`` (PyTorch's legacy nearest);
        ``nearest-exact``: ``floor((dst + 0.5) * scale)`` (pixel centres, as PIL/OpenCV);
        ``linear``/``bilinear``/``trilinear`` need a 3-, 4-, 5-D input, ``bicubic`` a 4-D
        one (cubic convolution with a = -0.75, taps clamped at the border); ``area``:
        the mean over PyTorch's adaptive windows (``adaptive_avg_pool``).
    align_corners : bool, optional
        Linear and cubic modes only: map corner pixel centres onto each other
        (``src = dst * (in - 1) / (out - 1)``) rather than half-pixel centres.
    antialias : bool
        Only False (PyTorch's default) is supported; True raises.

    Returns
    -------
    Tensor ``(N, C, *size)``. Each output reads only its own taps, so a NaN spreads only
    to the outputs next to it.

    Examples
    --------
    >>> import autograd_cnn as ac, autograd_cnn.functional as F
    >>> F.interpolate(ac.tensor([[[1.0, 2.0]]]), scale_factor=2).numpy()
    array([[[1., 1., 2., 2.]]], dtype=float32)
    """
    from ..kernels.conv_dispatch import check_output_size

    x = as_tensor(input)
    if mode not in _MODES:
        raise InterpolateError(
            f"interpolate(): mode must be one of {sorted(_MODES)}, got {mode!r}"
        )
    if antialias:
        raise InterpolateError(
            "interpolate(): antialias=True is not supported (only PyTorch's default False)")
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
    kind = _AXIS_KIND[mode]
    if kind in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise InterpolateError(
            "interpolate(): align_corners only applies to the linear and cubic modes, got "
            f"align_corners={align_corners!r} with mode={mode!r}"
        )
    if x.dtype.kind != "f":
        raise InvalidArgumentError(f"interpolate(): input must be floating point, got {x.dtype}")
    if x.dtype == np.float16:  # computed in float32 (PyTorch's opmath for half), cast back
        from .elementwise import astype

        y = interpolate(astype(x, np.float32), size, scale_factor, mode, align_corners,
                        recompute_scale_factor, antialias)
        return astype(y, np.float16)
    if x.dtype not in (np.float32, np.float64):
        from ..errors import DTypeError

        raise DTypeError(
            f"interpolate(): input must be float16, float32 or float64, got {x.dtype}")
    sizes, factors = _sizes_and_factors(x, size, scale_factor, recompute_scale_factor, nd)
    check_output_size(x.shape[:2] + sizes,
                      f"interpolate(): size={size!r}, scale_factor={scale_factor!r}")
    for n in x.shape[2:]:
        if n < 1:
            raise ShapeError(f"interpolate(): input spatial dims must be non-empty, got "
                             f"shape {x.shape}")
    y = x
    for i, (n_in, n_out, f) in enumerate(zip(x.shape[2:], sizes, factors)):
        if kind == "area":
            f = None  # adaptive windows depend on the sizes only
        table = (kind, int(n_in), int(n_out), f, bool(align_corners))
        if _is_identity(*tap_table(*table, "float64"), n_in):
            continue
        y = _resample(y, axis=2 + i, table=table)
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
