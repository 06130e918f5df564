"""unfold (im2col) and fold (col2im, its adjoint) on arrays, PyTorch's layouts (see
:mod:`.conv_dispatch`, which re-exports both; import them from there)."""

from __future__ import annotations

import math

import numpy as np

from . import conv_dispatch as D

# ---- unfold / fold --------------------------------------------------------------------------


@D._half_in_float32
def unfold(x, kernel_size, stride, padding, dilation, algorithm="auto"):
    """im2col: x (N, C, *S) -> (N, C * prod(K), L) (PyTorch's ``unfold`` layout)."""
    nd = x.ndim - 2
    n, c = x.shape[:2]
    q = tuple(D.out_size(s, k, st, lo, hi, d) for s, k, st, (lo, hi), d in
              zip(x.shape[2:], kernel_size, stride, padding, dilation))
    kk = math.prod(kernel_size)
    out_shape = (n, c * kk, math.prod(q))
    D.check_output_size(out_shape, "unfold")
    if algorithm == "reference" or nd > 3:
        return D.ref.unfold_ref(x, kernel_size, stride, padding, dilation)
    from .conv_numba import im2col

    dt = D._float_dtype(x)
    xp = D._pad5(D._as5(x.astype(dt, copy=False), nd), D._t3(padding, (0, 0)))
    cols = np.empty((c * kk, n, math.prod(q)), dt)
    with D._limits(cols.size, 0):
        im2col(xp, 0, n, D._t3(kernel_size, 1), D._t3(stride, 1), D._t3(dilation, 1), D._t3(q, 1),
               cols)
    return np.ascontiguousarray(cols.transpose(1, 0, 2))


@D._half_in_float32
def fold(cols, output_size, kernel_size, stride, padding, dilation, algorithm="auto"):
    """col2im, the adjoint of :func:`unfold`: (N, C * prod(K), L) -> (N, C, *output_size),
    overlapping taps summed."""
    nd = len(output_size)
    n = cols.shape[0]
    kk = math.prod(kernel_size)
    c = cols.shape[1] // kk
    out_shape = (n, c) + tuple(output_size)
    D.check_output_size(out_shape, "fold")
    q = tuple(D.out_size(s, k, st, lo, hi, d) for s, k, st, (lo, hi), d in
              zip(output_size, kernel_size, stride, padding, dilation))
    dt = D._float_dtype(cols)
    cols = cols.astype(dt, copy=False)
    full = tuple(s + lo + hi for s, (lo, hi) in zip(output_size, padding))
    crop = tuple(slice(lo, f - hi) for (lo, hi), f in zip(padding, full))
    if algorithm == "reference" or nd > 3:
        # the adjoint of unfold as a transposed conv with an identity kernel per channel
        eye = np.eye(kk, dtype=dt).reshape((kk, 1) + tuple(kernel_size))
        w = np.tile(eye, (c, 1) + (1,) * nd)
        y = cols.reshape((n, c * kk) + q)
        op = tuple(f - ((qq - 1) * st + d * (k - 1) + 1) for f, qq, st, d, k in
                   zip(full, q, stride, dilation, kernel_size))
        return D.ref.conv_transpose_ref(y, w, stride, padding, dilation, c, op)
    from .conv_numba import col2im

    full3 = D._t3(full, 1)
    xp = np.zeros((n, c) + full3, dt)
    ct = np.ascontiguousarray(cols.transpose(1, 0, 2))
    with D._limits(ct.size, 0):
        col2im(ct, n, D._t3(kernel_size, 1), D._t3(stride, 1), D._t3(dilation, 1), D._t3(q, 1), xp)
    xp = xp.reshape((n, c) + full)
    return np.ascontiguousarray(xp[(slice(None), slice(None)) + crop])
