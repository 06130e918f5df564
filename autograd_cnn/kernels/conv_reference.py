"""Slow, obviously-correct NumPy oracles of the convolution kernels (any number of
spatial dims). Tests compare every Numba/BLAS algorithm against these in float64.

Conventions shared by every conv kernel (see :mod:`.conv_dispatch`):

- ``x``: (N, C, *S), ``w``: (O, C // groups, *K), ``y``: (N, O, *Q);
- ``stride``, ``dilation``: one int per spatial dim; ``padding``: one (low, high) pair
  per spatial dim (asymmetric padding allowed);
- cross-correlation (PyTorch's "convolution"):
  ``y[n, o, q] = sum_{c, k} w[o, c, k] * xpad[n, g(o) * Cg + c, q * stride + k * dilation]``.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def pad_input(x, padding):
    """Zero-pad the spatial dims of ``x`` (N, C, *S) by ``padding`` pairs."""
    if not any(lo or hi for lo, hi in padding):
        return x
    return np.pad(x, ((0, 0), (0, 0)) + tuple(tuple(p) for p in padding))


def _windows(xp, kernel, stride, dilation, out):
    """(N, C, *Q, *K) view: window q of xp, sampled at the dilated kernel taps."""
    nd = len(kernel)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    win = sliding_window_view(xp, span, axis=tuple(range(2, 2 + nd)))
    idx = (slice(None), slice(None))
    idx += tuple(slice(0, q * s, s) if q else slice(0, 0) for q, s in zip(out, stride))
    idx += tuple(slice(None, None, d) for d in dilation)
    return win[idx]


def conv_forward_ref(x, w, stride, padding, dilation, groups):
    """Cross-correlation by sliding windows and einsum. x (N, C, *S) -> (N, O, *Q)."""
    nd = x.ndim - 2
    kernel = w.shape[2:]
    xp = pad_input(x, padding)
    out = tuple(
        (xp.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(nd)
    )
    win = _windows(xp, kernel, stride, dilation, out)
    n, c = x.shape[:2]
    o = w.shape[0]
    cg, og = c // groups, o // groups
    res = np.empty((n, o) + out, dtype=np.result_type(x, w))
    sp = "defg"[:nd]
    ks = "pqrs"[:nd]
    expr = f"nc{sp}{ks},oc{ks}->no{sp}"
    for g in range(groups):
        res[:, g * og:(g + 1) * og] = np.einsum(
            expr, win[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og]
        )
    return res


def conv_transpose_ref(y, w, stride, padding, dilation, groups, output_padding):
    """Adjoint of :func:`conv_forward_ref`: y (N, O, *Q) -> (N, C, *S), scattering each
    kernel tap's contribution with strided slices."""
    nd = y.ndim - 2
    kernel = w.shape[2:]
    q = y.shape[2:]
    full = tuple(
        (q[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 + output_padding[i]
        for i in range(nd)
    )
    n, o = y.shape[:2]
    og, cg = o // groups, w.shape[1]
    c = cg * groups
    buf = np.zeros((n, c) + full, dtype=np.result_type(y, w))
    sp = "defg"[:nd]
    for g in range(groups):
        yg = y[:, g * og:(g + 1) * og]
        wg = w[g * og:(g + 1) * og]
        for k in itertools.product(*(range(kk) for kk in kernel)):
            dst = tuple(
                slice(k[i] * dilation[i], k[i] * dilation[i] + (q[i] - 1) * stride[i] + 1,
                      stride[i])
                for i in range(nd)
            )
            contrib = np.einsum(f"no{sp},oc->nc{sp}", yg, wg[(slice(None), slice(None)) + k])
            buf[(slice(None), slice(g * cg, (g + 1) * cg)) + dst] += contrib
    crop = tuple(slice(lo, full[i] - hi) for i, (lo, hi) in enumerate(padding))
    return buf[(slice(None), slice(None)) + crop]


def conv_weight_grad_ref(x, g, stride, padding, dilation, groups, kernel_size):
    """Weight gradient: dw[o, c, k] = sum_{n, q} g[n, o, q] xpad[n, c', q*s + k*d]
    (a correlation of the input with the output gradient). -> (O, C // groups, *K)."""
    nd = x.ndim - 2
    xp = pad_input(x, padding)
    out = g.shape[2:]
    win = _windows(xp, kernel_size, stride, dilation, out)
    n, c = x.shape[:2]
    o = g.shape[1]
    cg, og = c // groups, o // groups
    res = np.empty((o, cg) + tuple(kernel_size), dtype=np.result_type(x, g))
    sp = "defg"[:nd]
    ks = "pqrs"[:nd]
    for gi in range(groups):
        res[gi * og:(gi + 1) * og] = np.einsum(
            f"nc{sp}{ks},no{sp}->oc{ks}", win[:, gi * cg:(gi + 1) * cg],
            g[:, gi * og:(gi + 1) * og]
        )
    return res


def unfold_ref(x, kernel_size, stride, padding, dilation):
    """im2col: x (N, C, *S) -> (N, C * prod(K), L), PyTorch's unfold layout (channel
    major, then kernel taps in row-major order)."""
    nd = x.ndim - 2
    xp = pad_input(x, padding)
    out = tuple(
        (xp.shape[2 + i] - dilation[i] * (kernel_size[i] - 1) - 1) // stride[i] + 1
        for i in range(nd)
    )
    win = _windows(xp, kernel_size, stride, dilation, out)  # (N, C, *Q, *K)
    n, c = x.shape[:2]
    perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    return np.ascontiguousarray(win.transpose(perm)).reshape(
        n, c * int(np.prod(kernel_size)), int(np.prod(out))
    )
