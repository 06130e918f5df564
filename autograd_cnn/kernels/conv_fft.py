"""Convolution by FFT, and when it is accurate enough for ``algorithm="auto"``.

The FFT serves stride-1, undilated forward convs (any spatial rank); it is always
computed in float64 and used by ``auto`` only on finite data of moderate dynamic range
(:func:`fft_is_accurate`).
"""

from __future__ import annotations

import math

import numpy as np

from . import conv_reference as ref

#: Largest dynamic range ``max|x| max|w| / (s_x s_w)`` (``s``: typical magnitude, the
#: median of the nonzero absolute values) at which ``auto`` still uses the FFT, per input
#: dtype; see :func:`fft_is_accurate`.
FFT_MAX_RANGE = {np.dtype(np.float32): 1e6, np.dtype(np.float64): 1e3}


def _typical_magnitude(a) -> float:
    """Median of the nonzero absolute values (of at most 65536 evenly spaced samples)."""
    flat = a.reshape(-1)
    sample = np.abs(flat[:: max(1, flat.size // 65536)])
    sample = sample[sample > 0]
    return float(np.median(sample)) if sample.size else 0.0


def _all_finite(*arrays) -> bool:
    return all(not a.size or math.isfinite(float(np.max(np.abs(a)))) for a in arrays)


def fft_is_accurate(x, w, padding=None) -> bool:
    """Whether the FFT conv of x with w is as accurate as the direct sum, so that
    ``algorithm="auto"`` may use it.

    The FFT fails in two ways the direct sum does not. (1) Every output mixes every
    input: one NaN or inf anywhere makes the whole output NaN, where the direct sum
    keeps it inside its receptive field; so all values must be finite. (2) Its rounding
    error is global, about ``eps * log2(n) * max|x| * max|w|`` at *every* output, where
    the direct sum's is local, ``eps * sum |x| |w|`` over the window: next to large values
    small outputs drown (float32 FFT: off by 0.19). So the FFT runs in float64
    (:func:`_conv_fft`), which puts its error 2**29 below float32's rounding, and is used
    only when the dynamic range ``max|x| max|w| / (s_x s_w)``, with ``s`` the typical
    (median nonzero) magnitude, is at most :data:`FFT_MAX_RANGE` of the dtype: 1e6 for
    float32 (the FFT's error stays below 1e-8 of a typical product, under float32's
    ulp), 1e3 for float64 (within about 1e-12 relative of the direct float64 sum).
    ``padding`` is accepted for symmetry with the conv call and not needed."""
    mx = float(np.max(np.abs(x))) if x.size else 0.0
    mw = float(np.max(np.abs(w))) if w.size else 0.0
    if not (math.isfinite(mx) and math.isfinite(mw)):  # NaN propagates through max
        return False
    if mx == 0.0 or mw == 0.0:
        return True
    limit = FFT_MAX_RANGE.get(np.result_type(x, w), FFT_MAX_RANGE[np.dtype(np.float32)])
    return mx * mw <= limit * _typical_magnitude(x) * _typical_magnitude(w)


def _conv_fft(x, w, padding, groups):
    """Stride-1, undilated cross-correlation by FFT (any spatial rank): the product of
    the spectra of the padded input and of the flipped kernel, summed over input
    channels per group; the valid part of the full convolution is the result. Computed
    in float64 whatever the input dtype (see :func:`fft_is_accurate`)."""
    out_dtype = x.dtype
    x = x.astype(np.float64, copy=False)
    w = w.astype(np.float64, copy=False)
    nd = x.ndim - 2
    xp = ref.pad_input(x, padding)
    sp = xp.shape[2:]
    kernel = w.shape[2:]
    axes = tuple(range(2, 2 + nd))
    full = tuple(s + k - 1 for s, k in zip(sp, kernel))
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    og = o // groups
    fx = np.fft.rfftn(xp, full, axes)
    fw = np.fft.rfftn(np.flip(w, axes), full, axes)
    spec = np.empty((n, o) + fx.shape[2:], fx.dtype)
    for g in range(groups):
        spec[:, g * og:(g + 1) * og] = np.einsum(
            "nc...,oc...->no...", fx[:, g * cg:(g + 1) * cg], fw[g * og:(g + 1) * og])
    y = np.fft.irfftn(spec, full, axes)
    valid = tuple(slice(k - 1, s) for s, k in zip(sp, kernel))
    return np.ascontiguousarray(y[(slice(None), slice(None)) + valid], dtype=out_dtype)
