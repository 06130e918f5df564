"""Register-blocked direct kernels for small stride-1 convolutions with one group (LeNet's
first layer: 1 input channel, 6 filters 5x5 on 28x28 images): the ``direct`` algorithm's
forward, transposed conv (as the forward of the flipped kernel) and weight gradient for
such calls (``conv_dispatch``; ``auto`` picks ``direct`` for them, except for the
forward when the fused im2col+GEMM kernel serves it, see ``choose_algorithm``).

The direct kernels of :mod:`~autograd_cnn.kernels.conv_numba` add one kernel tap at a
time into an accumulator plane in memory (``buf[i] += w * x[off + i]``): two loads and a
store per multiply-add, so they are load/store bound. Here the multiply-adds of
:data:`TAPS` taps and :data:`OUTS` output channels are done per loaded element while the
partial sums stay in registers: the compiler vectorizes the loop over the plane
positions ``i`` and every vector of ``x[off_t + i]`` feeds :data:`OUTS` channels (the
weights are loop-invariant scalars), so one accumulator load and store serve
``TAPS`` multiply-adds. Measured on one core (float32, batch 64): LeNet's first conv
0.50 -> 0.21 ms, its weight gradient 0.44 -> 0.21 ms (the ``conv_numba`` loops).

Layout, as in ``conv_numba``: each sample's input planes are zero-padded into a private
buffer and the output is computed on the padded-width grid, flattened (stride 1), so
that a tap is a constant offset into the buffer. The taps (c, kd, kh, kw) are a table
of offsets, grouped by :data:`TAPS` (the last group padded with zero-weight taps), so
any kernel size and dilation, 1-3 spatial dims, run through the same loops; the output
channels are grouped by :data:`OUTS` (padded with zero-weight channels that are never
written out).

Each sample is computed on its own, in a fixed order (taps in (c, kd, kh, kw) order),
so splitting the batch over threads never changes a result; the weight gradient's
partial sums over a range of samples are added in sample order in float64 (its dot
products run in the data's dtype, as in ``conv_numba``), and the caller adds the
ranges' sums in a fixed order. Serial kernels (``nogil``): the dispatcher runs parts of
the batch on Python threads (:func:`~autograd_cnn.kernels.threads.run_blocks`).
Compiled on first use, cached on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

U = uint64
_FLAGS = dict(cache=True, nogil=True, fastmath={"contract"})
# the weight gradient's dot products vectorize only if their sums may be reassociated
# (a fixed order per compiled loop: still independent of the thread split)
_REDUCE_FLAGS = dict(cache=True, nogil=True, fastmath={"contract", "reassoc"})

#: Kernel taps per pass over the plane (the loops below are written for 5).
TAPS = 5
#: Output channels per pass over the plane (the loops below are written for 3).
OUTS = 3


def applies(groups, stride, channels) -> bool:
    """Whether these kernels serve a call: one group, stride 1 along every dim and at
    least 2 output channels (``channels``; 1 would be computed 3 times, see OUTS: the
    loops of ``conv_numba`` are faster then)."""
    return groups == 1 and all(s == 1 for s in stride) and channels >= 2


@njit(cache=True, inline="always")
def _geometry(x_shape, k_shape, q_shape, dilation, padding):  # pragma: no cover - numba
    """Padded sizes, plane, flat grid length L and the tap offset table (uint64; the
    last group of TAPS padded with offset-0 taps) of x (N, C, D, H, W) with kernel
    (., C, KD, KH, KW) and output (N, O, QD, QH, QW), stride 1."""
    C, D_, H_, W_ = U(x_shape[1]), U(x_shape[2]), U(x_shape[3]), U(x_shape[4])
    KD, KH, KW = U(k_shape[2]), U(k_shape[3]), U(k_shape[4])
    QD, QH, QW = U(q_shape[2]), U(q_shape[3]), U(q_shape[4])
    dd, dh, dw = U(dilation[0]), U(dilation[1]), U(dilation[2])
    Dp = D_ + U(padding[0][0]) + U(padding[0][1])
    Hp = H_ + U(padding[1][0]) + U(padding[1][1])
    Wp = W_ + U(padding[2][0]) + U(padding[2][1])
    plane = Dp * Hp * Wp
    L = ((QD - U(1)) * Hp + (QH - U(1))) * Wp + QW
    KK = KD * KH * KW
    ngrp = (C * KK + U(TAPS - 1)) // U(TAPS)
    offs = np.zeros(ngrp * U(TAPS), np.uint64)
    for c in range(C):
        for kd in range(KD):
            for kh in range(KH):
                for kw in range(KW):
                    offs[c * KK + (kd * KH + kh) * KW + kw] = (
                        c * plane + (kd * dd * Hp + kh * dh) * Wp + kw * dw)
    return C, D_, H_, W_, QD, QH, QW, Hp, Wp, plane, L, KK, ngrp, offs


@njit(cache=True, inline="always")
def _fill_sample(pbuf, xf, n, C, D_, H_, W_, pads, Hp, Wp, plane):  # pragma: no cover
    """Copy the C unpadded planes of sample n of xf into the interiors of the padded
    planes of pbuf (whose borders stay zero)."""
    pd0, ph0, pw0 = U(pads[0][0]), U(pads[1][0]), U(pads[2][0])
    for c in range(C):
        for d in range(D_):
            for h in range(H_):
                dst = c * plane + ((d + pd0) * Hp + h + ph0) * Wp + pw0
                src = (((n * C + c) * D_ + d) * H_ + h) * W_
                for i in range(W_):
                    pbuf[dst + i] = xf[src + i]


@njit(**_FLAGS)
def conv_small(x, w, dilation, padding, a, b, y):  # pragma: no cover - numba
    """y[n] (O, QD, QH, QW) overwritten, for a <= n < b, with the stride-1
    cross-correlation of the UNPADDED x[n] (C, D, H, W), zero-padded by ``padding``
    ((lo, hi) per dim), with w (O, C, KD, KH, KW), dilated by ``dilation``. Serial."""
    C, D_, H_, W_, QD, QH, QW, Hp, Wp, plane, L, KK, ngrp, offs = _geometry(
        x.shape, w.shape, y.shape, dilation, padding)
    O = U(w.shape[0])
    nob = (O + U(OUTS - 1)) // U(OUTS)
    T = ngrp * U(TAPS)
    # the weights as (output channel, tap), both padded with zeros
    wt = np.zeros((nob * U(OUTS), T), dtype=y.dtype)
    wf = w.reshape(w.size)
    for o in range(O):
        for t in range(C * KK):
            wt[o, t] = wf[o * C * KK + t]
    pbuf = np.zeros(C * plane, dtype=x.dtype)
    acc = np.zeros((OUTS, L), dtype=y.dtype)
    a0, a1, a2 = acc[0], acc[1], acc[2]
    xf = x.reshape(x.size)
    yf = y.reshape(y.size)
    Q = QD * QH * QW
    for n_ in range(a, b):
        n = U(n_)
        _fill_sample(pbuf, xf, n, C, D_, H_, W_, padding, Hp, Wp, plane)
        for ob in range(nob):
            r0, r1, r2 = wt[ob * U(3)], wt[ob * U(3) + U(1)], wt[ob * U(3) + U(2)]
            acc[:] = 0
            for g in range(ngrp):
                t = g * U(5)
                o0, o1, o2, o3, o4 = (offs[t], offs[t + U(1)], offs[t + U(2)],
                                      offs[t + U(3)], offs[t + U(4)])
                w00, w01, w02, w03, w04 = (r0[t], r0[t + U(1)], r0[t + U(2)],
                                           r0[t + U(3)], r0[t + U(4)])
                w10, w11, w12, w13, w14 = (r1[t], r1[t + U(1)], r1[t + U(2)],
                                           r1[t + U(3)], r1[t + U(4)])
                w20, w21, w22, w23, w24 = (r2[t], r2[t + U(1)], r2[t + U(2)],
                                           r2[t + U(3)], r2[t + U(4)])
                for i in range(L):
                    x0, x1, x2 = pbuf[o0 + i], pbuf[o1 + i], pbuf[o2 + i]
                    x3, x4 = pbuf[o3 + i], pbuf[o4 + i]
                    a0[i] = a0[i] + w00 * x0 + w01 * x1 + w02 * x2 + w03 * x3 + w04 * x4
                    a1[i] = a1[i] + w10 * x0 + w11 * x1 + w12 * x2 + w13 * x3 + w14 * x4
                    a2[i] = a2[i] + w20 * x0 + w21 * x1 + w22 * x2 + w23 * x3 + w24 * x4
            for j in range(U(OUTS)):
                o = ob * U(OUTS) + j
                if o < O:
                    row = acc[j]
                    base = (n * O + o) * Q
                    for qd in range(QD):
                        for qh in range(QH):
                            s = (qd * Hp + qh) * Wp
                            d = base + (qd * QH + qh) * QW
                            for qw in range(QW):
                                yf[d + qw] = row[s + qw]


@njit(**_REDUCE_FLAGS)
def conv_small_wgrad(x, g, dilation, padding, a, b, dw_out):  # pragma: no cover - numba
    """dw_out (O, C, KD, KH, KW) overwritten with sum_{a <= n < b, q} g[n, o, q] *
    xpad[n, c, q + k*dilation] (stride 1), x (N, C, D, H, W) unpadded, g (N, O, QD, QH,
    QW). The sum over samples in float64, in sample order; serial."""
    C, D_, H_, W_, QD, QH, QW, Hp, Wp, plane, L, KK, ngrp, offs = _geometry(
        x.shape, dw_out.shape, g.shape, dilation, padding)
    O = U(g.shape[1])
    nob = (O + U(OUTS - 1)) // U(OUTS)
    T = ngrp * U(TAPS)
    acc = np.zeros((nob * U(OUTS), T), dtype=np.float64)
    pbuf = np.zeros(C * plane, dtype=x.dtype)
    gbuf = np.zeros((nob * U(OUTS), L), dtype=x.dtype)  # extra columns and rows stay 0
    xf = x.reshape(x.size)
    gf = g.reshape(g.size)
    Q = QD * QH * QW
    zero = np.zeros(1, dtype=x.dtype)[0]
    for n_ in range(a, b):
        n = U(n_)
        _fill_sample(pbuf, xf, n, C, D_, H_, W_, padding, Hp, Wp, plane)
        for o in range(O):  # g[n] spread onto the padded-width grid
            row = gbuf[o]
            base = (n * O + o) * Q
            for qd in range(QD):
                for qh in range(QH):
                    s = base + (qd * QH + qh) * QW
                    d = (qd * Hp + qh) * Wp
                    for qw in range(QW):
                        row[d + qw] = gf[s + qw]
        for ob in range(nob):
            g0b, g1b, g2b = gbuf[ob * U(3)], gbuf[ob * U(3) + U(1)], gbuf[ob * U(3) + U(2)]
            r0, r1, r2 = acc[ob * U(3)], acc[ob * U(3) + U(1)], acc[ob * U(3) + U(2)]
            for gr in range(ngrp):
                t = gr * U(5)
                o0, o1, o2, o3, o4 = (offs[t], offs[t + U(1)], offs[t + U(2)],
                                      offs[t + U(3)], offs[t + U(4)])
                s00 = s01 = s02 = s03 = s04 = zero
                s10 = s11 = s12 = s13 = s14 = zero
                s20 = s21 = s22 = s23 = s24 = zero
                for i in range(L):
                    x0, x1, x2 = pbuf[o0 + i], pbuf[o1 + i], pbuf[o2 + i]
                    x3, x4 = pbuf[o3 + i], pbuf[o4 + i]
                    g0, g1, g2 = g0b[i], g1b[i], g2b[i]
                    s00 += g0 * x0
                    s01 += g0 * x1
                    s02 += g0 * x2
                    s03 += g0 * x3
                    s04 += g0 * x4
                    s10 += g1 * x0
                    s11 += g1 * x1
                    s12 += g1 * x2
                    s13 += g1 * x3
                    s14 += g1 * x4
                    s20 += g2 * x0
                    s21 += g2 * x1
                    s22 += g2 * x2
                    s23 += g2 * x3
                    s24 += g2 * x4
                r0[t] += s00
                r0[t + U(1)] += s01
                r0[t + U(2)] += s02
                r0[t + U(3)] += s03
                r0[t + U(4)] += s04
                r1[t] += s10
                r1[t + U(1)] += s11
                r1[t + U(2)] += s12
                r1[t + U(3)] += s13
                r1[t + U(4)] += s14
                r2[t] += s20
                r2[t + U(1)] += s21
                r2[t + U(2)] += s22
                r2[t + U(3)] += s23
                r2[t + U(4)] += s24
    wf = dw_out.reshape(dw_out.size)
    for o in range(O):
        for t in range(C * KK):
            wf[o * C * KK + t] = acc[o, t]


# ---- Python side: the batch in parts ------------------------------------------------------


def forward(x5, w5, dilation3, padding3, y5):
    """Run :func:`conv_small` over the batch (parts at once on Python threads): y5
    (N, O, QD, QH, QW) overwritten; x5 (N, C, D, H, W) unpadded, w5 (O, C, KD, KH, KW)."""
    from . import conv_dispatch as D
    from . import threads

    threads.run_blocks(D._direct_parts(x5.shape[0], x5, y5), lambda part: conv_small(
        x5, w5, dilation3, padding3, part[0][0], part[0][1], y5))
    return y5


def transpose_padding(k3, dilation3, padding3, output_padding3):
    """The padding of the forward conv that computes the stride-1 transposed conv
    (``None`` when some side would be negative: padding > dilation * (K - 1))."""
    pads = tuple((d * (k - 1) - lo, d * (k - 1) - hi + op)
                 for k, d, (lo, hi), op in zip(k3, dilation3, padding3, output_padding3))
    return None if any(lo < 0 or hi < 0 for lo, hi in pads) else pads


def transpose(y5, w5, dilation3, padding3, output_padding3, x5):
    """The stride-1 transposed conv (input gradient) as the forward conv of y5 with the
    flipped, transposed kernel (see :func:`transpose_padding`): x5 overwritten."""
    pads = transpose_padding(w5.shape[2:], dilation3, padding3, output_padding3)
    wf = np.ascontiguousarray(w5.transpose(1, 0, 2, 3, 4)[:, :, ::-1, ::-1, ::-1])
    return forward(y5, wf, dilation3, pads, x5)


def weight_grad(x5, g5, dilation3, padding3, dw_shape):
    """Run :func:`conv_small_wgrad` over the batch; the parts' sums added in order."""
    from . import conv_dispatch as D
    from . import threads

    def run(part):
        dw = np.empty(dw_shape, x5.dtype)
        conv_small_wgrad(x5, g5, dilation3, padding3, part[0][0], part[0][1], dw)
        return dw

    return D._sum_in_order(threads.run_blocks(D._direct_parts(x5.shape[0], x5, g5), run))


# ---- im2col of one sample with short rows (stride 1) --------------------------------------

#: The fused im2col+GEMM kernels of ``conv_numba`` copy output rows of SHORT_MIN..SHORT_MAX
#: elements (stride 1) with :func:`im2col_short`: 8-wide moves written out, since the
#: compiler's vectorized loop needs 32 elements and such rows ran element by element.
#: Measured on one thread, im2col of 64 samples of LeNet's second conv: 8-wide rows
#: (shape b) 0.155 -> 0.09 ms, 10-wide rows 0.31 -> 0.23 ms. (The same for the adds of
#: col2im measured 0.17 -> 0.15 ms on 8-wide rows and slower on others: not used.)
SHORT_MIN, SHORT_MAX = 8, 31


def is_short(stride, out) -> bool:
    """Whether :func:`im2col_short` serves this geometry (stride 1, short rows)."""
    return all(s == 1 for s in stride) and SHORT_MIN <= out[-1] <= SHORT_MAX


@njit(**_FLAGS)
def im2col_short(xp, n, kernel, dilation, out, cf):  # pragma: no cover - numba
    """cf[(c, kd, kh, kw), (qd, qh, qw)] = xp[n, c, qd + kd*dd, qh + kh*dh, qw + kw*dw]
    for one sample n of the padded xp (N, C, Dp, Hp, Wp), stride 1, rows of
    SHORT_MIN <= QW <= SHORT_MAX (8-wide moves, the last one overlapping);
    cf flat, C*KD*KH*KW*QD*QH*QW elements. The values of ``conv_numba.im2col``."""
    C, Dp, Hp, Wp = U(xp.shape[1]), U(xp.shape[2]), U(xp.shape[3]), U(xp.shape[4])
    KD, KH, KW = U(kernel[0]), U(kernel[1]), U(kernel[2])
    dd, dh, dw = U(dilation[0]), U(dilation[1]), U(dilation[2])
    QD, QH, QW = U(out[0]), U(out[1]), U(out[2])
    xf = xp.reshape(xp.size)
    Q = QD * QH * QW
    r = U(0)
    for c in range(C):
        base = (U(n) * C + c) * Dp * Hp * Wp
        for kd in range(KD):
            for kh in range(KH):
                for kw in range(KW):
                    s0 = base + (kd * dd * Hp + kh * dh) * Wp + kw * dw
                    d0 = r * Q
                    for qd in range(QD):
                        for qh in range(QH):
                            s = s0 + (qd * Hp + qh) * Wp
                            d = d0 + (qd * QH + qh) * QW
                            # 8-wide moves (a constant trip count: one vector
                            # move each), the last one overlapping
                            j = U(0)
                            while j < QW:
                                j = min(j, QW - U(8))
                                for t in range(8):
                                    cf[d + j + U(t)] = xf[s + j + U(t)]
                                j += U(8)
                    r += U(1)


# ---- the transposed conv of thin convs, on the padded-width grid (stride 1) ---------------


@njit(**_FLAGS)
def gemm_col2im_flat(y3, a, b, wt, kernel, dilation, out, gbuf, cols,
                     xp):  # pragma: no cover - numba
    """xp[n] += col2im(wt @ y3[n]) for a <= n < b, stride 1, computed on the padded-width
    grid: y3[n] (O, Q) is spread onto gbuf (O, L), whose other columns stay zero (the
    caller zeroes gbuf), one GEMM gives the (C*KK, L) columns and every row is added into
    its plane of xp as ONE contiguous run at the tap's offset (the zero columns add zeros
    past the row ends, inside the plane), instead of a short run per output row: shape
    b's 64 samples 0.31 -> 0.25 ms, LeNet's second conv 0.62 -> 0.43 ms on one thread,
    though the GEMM is (L/Q)x as wide. xp (N, C, Fd, Fh, Fw) is the full (uncropped)
    grid, zeroed by the caller; wt (C*KK, O) C-contiguous; cols C*KK*L elements. The
    additions into each element come in the order of ``conv_numba.col2im``. Serial."""
    C, Fd, Fh, Fw = U(xp.shape[1]), U(xp.shape[2]), U(xp.shape[3]), U(xp.shape[4])
    KD, KH, KW = U(kernel[0]), U(kernel[1]), U(kernel[2])
    dd, dh, dw = U(dilation[0]), U(dilation[1]), U(dilation[2])
    QD, QH, QW = U(out[0]), U(out[1]), U(out[2])
    O = U(y3.shape[1])
    L = ((QD - U(1)) * Fh + (QH - U(1))) * Fw + QW
    rows = U(wt.shape[0])
    KK = KD * KH * KW
    plane = Fd * Fh * Fw
    c2 = cols[: rows * L].reshape(rows, L)
    xf = xp.reshape(xp.size)
    for n_ in range(a, b):
        n = U(n_)
        yn = y3[n]
        for o in range(O):
            for qd in range(QD):
                for qh in range(QH):
                    d = o * L + (qd * Fh + qh) * Fw
                    s = (qd * QH + qh) * QW
                    for qw in range(QW):
                        gbuf[d + qw] = yn[o, s + qw]
        np.dot(wt, gbuf.reshape(O, L), c2)
        for c in range(C):
            base = (n * C + c) * plane
            for kd in range(KD):
                for kh in range(KH):
                    for kw in range(KW):
                        r = c * KK + (kd * KH + kh) * KW + kw
                        d = base + (kd * dd * Fh + kh * dh) * Fw + kw * dw
                        row = c2[r]
                        for i in range(L):
                            xf[d + i] += row[i]
