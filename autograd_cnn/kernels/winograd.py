"""Winograd F(2x2, 3x3) convolution: 3x3 kernels, stride 1, no dilation, one group.

Each 2x2 block of outputs is computed from a 4x4 tile of input with 16 multiplications
per (output, input) channel pair instead of 36 (Lavin & Gray, 2015):

    Y = A^T [ (G g G^T) * (B^T d B) ] A

with ``g`` the 3x3 kernel, ``d`` the input tile, ``*`` elementwise and

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]].

Summed over input channels, the elementwise products are 16 independent GEMMs
``M[k] = U[k] (O x C) @ V[k] (C x tiles)``: 2.25x fewer flops than im2col + GEMM, with a
column matrix of 16/9 * 1/4 the size (4 tiles per 16 output pixels, 16 values each,
versus 9 values per pixel). The transforms only add and subtract (the 1/2 of G is
exact), so float32 results stay within a few ulps of the direct sum (tested against
the float64 reference). The transposed conv with the same restrictions is a Winograd
conv of its input with the flipped, channel-swapped kernel. The weight gradient stays
with im2col: as 16 GEMMs (O x tiles) @ (tiles x C) it was measured no faster (16.7 vs
17.8 ms on shape c, one thread; the GEMMs are too small in O and C).

Both transforms are serial Numba kernels (they run while BLAS owns the cores, as
im2col does); the batch is processed in blocks so that the tile matrices stay small.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

U = uint64
# nogil: blocks of samples run concurrently in Python threads (threads.run_blocks)
_FLAGS = dict(cache=True, nogil=True, fastmath={"contract"})

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])

#: Upper bound (elements) of one block's tile matrix V (16, C, tiles).
BLOCK_ELEMENTS = 1 << 20


def applies(x_shape, w_shape, stride, dilation, groups) -> bool:
    """Whether F(2x2, 3x3) serves this conv: 2-D, 3x3 kernel, stride 1, dilation 1, one
    group."""
    return (len(w_shape) == 4 and tuple(w_shape[2:]) == (3, 3) and groups == 1
            and all(s == 1 for s in stride) and all(d == 1 for d in (dilation or (1, 1))))


def weight_transform(w):
    """U[(i, j), o, c] = (G w[o, c] G^T)[i, j]: w (O, C, 3, 3) -> (16, O, C), in w's dtype
    (computed in float64)."""
    u = np.einsum("ik,ockl,jl->ijoc", _G, w.astype(np.float64, copy=False), _G)
    return np.ascontiguousarray(u.reshape(16, w.shape[0], w.shape[1]), dtype=w.dtype)


@njit(cache=True, inline="always")
def _bt(a0, a1, a2, a3):  # pragma: no cover - numba
    """One line of B^T d (or of its columns): B^T applied to 4 values."""
    return a0 - a2, a1 + a2, a2 - a1, a1 - a3


@njit(**_FLAGS)
def input_transform(xp, n0, nb, TH, TW, vf, kstride):  # pragma: no cover - numba
    """V[(i, j), c, (b, th, tw)] = (B^T d B)[i, j], d = xp[n0 + b, c, 2th:2th+4, 2tw:2tw+4].

    xp: (N, C, Hp, Wp) zero-padded input with Hp >= 2 TH + 2, Wp >= 2 TW + 2;
    vf: flat buffer holding V[k] (C, nb * TH * TW) at offset ``k * kstride``.
    """
    C, Hp, Wp = U(xp.shape[1]), U(xp.shape[2]), U(xp.shape[3])
    xf = xp.reshape(xp.size)
    THu, TWu, nbu = U(TH), U(TW), U(nb)
    T = THu * TWu
    cols = nbu * T
    kstride = U(kstride)
    for b in range(nbu):
        for c in range(C):
            base = ((U(n0) + b) * C + c) * Hp * Wp
            vbase = c * cols + b * T
            for th in range(THu):
                r0 = base + U(2) * th * Wp
                for tw in range(TWu):
                    s = r0 + U(2) * tw
                    # rows of d, each transformed along W: (B^T applied to a row)
                    a0, a1, a2, a3 = _bt(xf[s], xf[s + U(1)], xf[s + U(2)], xf[s + U(3)])
                    s += Wp
                    b0, b1, b2, b3 = _bt(xf[s], xf[s + U(1)], xf[s + U(2)], xf[s + U(3)])
                    s += Wp
                    c0, c1, c2, c3 = _bt(xf[s], xf[s + U(1)], xf[s + U(2)], xf[s + U(3)])
                    s += Wp
                    d0, d1, d2, d3 = _bt(xf[s], xf[s + U(1)], xf[s + U(2)], xf[s + U(3)])
                    # then along H, column by column
                    o = vbase + th * TWu + tw
                    v0, v4, v8, v12 = _bt(a0, b0, c0, d0)
                    v1, v5, v9, v13 = _bt(a1, b1, c1, d1)
                    v2, v6, v10, v14 = _bt(a2, b2, c2, d2)
                    v3, v7, v11, v15 = _bt(a3, b3, c3, d3)
                    vf[o] = v0
                    vf[o + kstride] = v1
                    vf[o + U(2) * kstride] = v2
                    vf[o + U(3) * kstride] = v3
                    vf[o + U(4) * kstride] = v4
                    vf[o + U(5) * kstride] = v5
                    vf[o + U(6) * kstride] = v6
                    vf[o + U(7) * kstride] = v7
                    vf[o + U(8) * kstride] = v8
                    vf[o + U(9) * kstride] = v9
                    vf[o + U(10) * kstride] = v10
                    vf[o + U(11) * kstride] = v11
                    vf[o + U(12) * kstride] = v12
                    vf[o + U(13) * kstride] = v13
                    vf[o + U(14) * kstride] = v14
                    vf[o + U(15) * kstride] = v15


@njit(cache=True, inline="always")
def _at(a0, a1, a2, a3):  # pragma: no cover - numba
    """A^T applied to 4 values."""
    return a0 + a1 + a2, a1 - a2 - a3


@njit(**_FLAGS)
def output_transform(mf, ks, n0, nb, TH, TW, y):  # pragma: no cover - numba
    """y[n0 + b, o, 2th:2th+2, 2tw:2tw+2] = A^T m A, m[i, j] = M[(i, j), o, (b, th, tw)];
    outputs past y's edge (odd sizes) are dropped. mf: flat buffer holding M[k]
    (O, nb * TH * TW) at offset ``k * ks``; y: (N, O, QH, QW)."""
    O, QH, QW = U(y.shape[1]), U(y.shape[2]), U(y.shape[3])
    yf = y.reshape(y.size)
    THu, TWu, nbu = U(TH), U(TW), U(nb)
    T = THu * TWu
    cols = nbu * T
    ks = U(ks)
    for b in range(nbu):
        for o in range(O):
            ybase = ((U(n0) + b) * O + o) * QH * QW
            mbase = o * cols + b * T
            for th in range(THu):
                for tw in range(TWu):
                    m = mbase + th * TWu + tw
                    # A^T m along H (rows i of m), column by column
                    s00, s10 = _at(mf[m], mf[m + U(4) * ks], mf[m + U(8) * ks],
                                   mf[m + U(12) * ks])
                    s01, s11 = _at(mf[m + ks], mf[m + U(5) * ks], mf[m + U(9) * ks],
                                   mf[m + U(13) * ks])
                    s02, s12 = _at(mf[m + U(2) * ks], mf[m + U(6) * ks], mf[m + U(10) * ks],
                                   mf[m + U(14) * ks])
                    s03, s13 = _at(mf[m + U(3) * ks], mf[m + U(7) * ks], mf[m + U(11) * ks],
                                   mf[m + U(15) * ks])
                    y00, y01 = _at(s00, s01, s02, s03)
                    y10, y11 = _at(s10, s11, s12, s13)
                    h, w = U(2) * th, U(2) * tw
                    p = ybase + h * QW + w
                    yf[p] = y00
                    if w + U(1) < QW:
                        yf[p + U(1)] = y01
                    if h + U(1) < QH:
                        yf[p + QW] = y10
                        if w + U(1) < QW:
                            yf[p + QW + U(1)] = y11


def _padded_tiles(x, padding):
    """x (N, C, H, W) zero-padded onto the tile grid: (xp, TH, TW, QH, QW)."""
    n, c, h, wd = x.shape
    (pt, pb), (pl, pr) = padding
    qh, qw = h + pt + pb - 2, wd + pl + pr - 2
    th, tw = (qh + 1) // 2, (qw + 1) // 2
    xp = np.zeros((n, c, 2 * th + 2, 2 * tw + 2), x.dtype)
    xp[:, :, pt:pt + h, pl:pl + wd] = x  # 2 TH + 2 >= h + pt + pb: x always fits
    return xp, th, tw, qh, qw


def _strided(buf, k_pitch, rows, cols):
    """The (16, rows, cols) view of a flat buffer whose 16 matrices are k_pitch apart."""
    item = buf.itemsize
    return np.lib.stride_tricks.as_strided(buf, (16, rows, cols),
                                           (k_pitch * item, cols * item, item))


def _blocking(n, c, o, t, dt, buffer, names):
    """Samples per block and the flat buffers of the blocks' (16, C | O, tiles) matrices.
    The 16 matrices sit one cache line more than their size apart: at a pitch that is a
    multiple of 4 KiB (C * tiles * 4 bytes often is) the transforms' 16 store streams
    fall into one L1 set and thrash it (measured: 10x slower transforms)."""
    nb = max(1, min(n, BLOCK_ELEMENTS // max(16 * max(c, o) * t, 1)))
    vpitch, mpitch = c * nb * t + 16, o * nb * t + 16
    if names is None:
        return nb, vpitch, mpitch, None, None
    get = buffer or (lambda name, size, dtype: np.empty(size, dtype))
    return nb, vpitch, mpitch, get(names[0], 16 * vpitch, dt), get(names[1], 16 * mpitch, dt)


def conv2d(x, w, padding, buffer=None):
    """Cross-correlation of x (N, C, H, W) with w (O, C, 3, 3), stride 1, zero padding
    ``((top, bottom), (left, right))``: y (N, O, H + top + bottom - 2, W + left + right
    - 2). ``buffer(name, size, dtype)`` may supply reusable scratch arrays. Blocks of
    samples run in two parts at once (:func:`~autograd_cnn.kernels.threads.run_blocks`),
    each with single-threaded BLAS: 16 small multithreaded GEMMs per block lost the
    2.25x flop saving to their barriers under load."""
    n, c = x.shape[:2]
    o = w.shape[0]
    xp, th, tw, qh, qw = _padded_tiles(x, padding)
    u = weight_transform(w)
    y = np.empty((n, o, qh, qw), x.dtype)
    t = th * tw
    nb = _blocking(n, c, o, t, x.dtype, None, None)[0]

    def run(part):  # in its own thread: its own (thread-local) scratch buffers
        _, vpitch, mpitch, vbuf, mbuf = _blocking(n, c, o, t, x.dtype, buffer,
                                                  ("wino_v", "wino_m"))
        for n0, b in part:
            input_transform(xp, n0, b, th, tw, vbuf, vpitch)
            np.matmul(u, _strided(vbuf, vpitch, c, b * t),
                      out=_strided(mbuf, mpitch, o, b * t))
            output_transform(mbuf, mpitch, n0, b, th, tw, y)

    from .threads import run_blocks

    run_blocks([(n0, min(nb, n - n0)) for n0 in range(0, n, nb)], run)
    return y


def conv_transpose2d(g, w, padding, buffer=None):
    """The adjoint of :func:`conv2d` (stride 1): g (N, O, QH, QW), w (O, C, 3, 3) ->
    (N, C, QH + 2 - top - bottom, QW + 2 - left - right), as the Winograd conv of g with
    the flipped, channel-swapped kernel and padding ``2 - p`` (each p at most 2)."""
    wt = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    pad = tuple((2 - lo, 2 - hi) for lo, hi in padding)
    return conv2d(g, wt, pad, buffer)
