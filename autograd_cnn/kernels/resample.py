"""Numba kernels of resampling along one axis through a tap table, and NumPy references.

A resampling of one axis (nearest, linear, cubic interpolation, area averaging) is a
sparse linear map: output ``o`` is ``sum_k w[o, k] * x[idx[o, k]]`` over at most ``K``
taps (``idx < 0`` marks an unused tap). ``x`` is viewed as ``(A, N, B)`` with the
resampled axis in the middle, so no transpose is needed for any axis.

- :func:`taps_forward`: ``(A, N, B) -> (A, O, B)``;
- :func:`taps_adjoint`: its transpose ``(A, O, B) -> (A, N, B)`` (the VJP), which scatters
  each output back onto its taps.

Only the taps an output reads touch it, so a NaN or infinity in the input reaches only the
outputs whose taps include it (a zero-weight tap included, as in PyTorch's kernels).

The last axis (``B == 1``) has row kernels of its own (a scalar accumulator per output).

Race freedom: the kernels run ``prange`` over ``A``, and each iteration writes only its
own ``(O, B)`` or ``(N, B)`` slab, accumulating serially inside it: parallel equals serial
bitwise. Nothing is compiled at import (float32 and float64 signatures, cached on disk).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def _taps_fwd(x, idx, w, out):
    A, N, B = x.shape
    O, K = idx.shape
    for a in prange(A):
        for o in range(O):
            for b in range(B):
                out[a, o, b] = 0
            for k in range(K):
                i = idx[o, k]
                if i >= 0:
                    c = w[o, k]
                    for b in range(B):
                        out[a, o, b] += c * x[a, i, b]


@njit(parallel=True, cache=True)
def _taps_adj(g, idx, w, out):
    A, O, B = g.shape
    N = out.shape[1]
    K = idx.shape[1]
    for a in prange(A):
        for i in range(N):
            for b in range(B):
                out[a, i, b] = 0
        for o in range(O):
            for k in range(K):
                i = idx[o, k]
                if i >= 0:
                    c = w[o, k]
                    for b in range(B):
                        out[a, i, b] += c * g[a, o, b]


@njit(parallel=True, cache=True)
def _taps_fwd_rows(x, idx, w, out):
    # the last axis (B == 1): one scalar accumulator per output
    A, N = x.shape
    O, K = idx.shape
    for a in prange(A):
        for o in range(O):
            acc = x.dtype.type(0)
            for k in range(K):
                i = idx[o, k]
                if i >= 0:
                    acc += w[o, k] * x[a, i]
            out[a, o] = acc


@njit(parallel=True, cache=True)
def _taps_adj_rows(g, idx, w, out):
    A, O = g.shape
    N = out.shape[1]
    K = idx.shape[1]
    for a in prange(A):
        for i in range(N):
            out[a, i] = 0
        for o in range(O):
            v = g[a, o]
            for k in range(K):
                i = idx[o, k]
                if i >= 0:
                    out[a, i] += w[o, k] * v


def taps_forward(x: np.ndarray, idx: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``out[a, o, b] = sum_k w[o, k] * x[a, idx[o, k], b]`` for ``x: (A, N, B)``, tables
    ``idx: (O, K)`` int64 (< 0: no tap), ``w: (O, K)`` of x's dtype. Returns ``(A, O, B)``."""
    x = np.ascontiguousarray(x)
    out = np.empty((x.shape[0], idx.shape[0], x.shape[2]), dtype=x.dtype)
    w = w.astype(x.dtype, copy=False)
    if x.shape[2] == 1:
        _taps_fwd_rows(x.reshape(x.shape[:2]), idx, w, out.reshape(out.shape[:2]))
    else:
        _taps_fwd(x, idx, w, out)
    return out


def taps_adjoint(g: np.ndarray, idx: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """The transpose of :func:`taps_forward`: ``g: (A, O, B)`` -> ``(A, n, B)``."""
    g = np.ascontiguousarray(g)
    out = np.empty((g.shape[0], n, g.shape[2]), dtype=g.dtype)
    w = w.astype(g.dtype, copy=False)
    if g.shape[2] == 1:
        _taps_adj_rows(g.reshape(g.shape[:2]), idx, w, out.reshape(out.shape[:2]))
    else:
        _taps_adj(g, idx, w, out)
    return out


def taps_matrix(idx: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """The dense ``(O, n)`` matrix of a tap table (for references and tests)."""
    m = np.zeros((idx.shape[0], n))
    for o in range(idx.shape[0]):
        for k in range(idx.shape[1]):
            if idx[o, k] >= 0:
                m[o, idx[o, k]] += w[o, k]
    return m


def taps_forward_reference(x, idx, w):
    """NumPy reference of :func:`taps_forward` (finite inputs): an einsum with the matrix."""
    return np.einsum("on,anb->aob", taps_matrix(idx, w, x.shape[1]), x)


def taps_adjoint_reference(g, idx, w, n):
    """NumPy reference of :func:`taps_adjoint`."""
    return np.einsum("on,aob->anb", taps_matrix(idx, w, n), g)
