"""Numba kernels of the convolution family, on 5-D arrays (N, C, D, H, W).

1-D and 2-D convolutions run through the same kernels with leading singleton spatial
dims, so there is one compiled signature per dtype (float32, float64) and kernel.

Every kernel is ``@njit(parallel=True, cache=True)`` with ``prange`` over an axis whose
iterations write disjoint slices (rows of the column matrix; (sample, channel) planes
of an input gradient; output channels of a weight gradient), so no two threads ever
add into the same element and the order of the additions into each element does not
depend on the number of threads: parallel and serial runs are bitwise equal.

Indices are formed by slicing first (``row = x[..., off:]``) and then looping over
``range(n)``: an index like ``x[i + d]`` with a possibly negative ``d`` makes Numba emit
wraparound checks that defeat vectorisation.

Compilation happens on first call (no eager signatures); ``cache=True`` stores the
machine code next to this file, so a second process pays only the cache load.
"""

from __future__ import annotations

from numba import njit, prange

_FLAGS = dict(parallel=True, cache=True, fastmath={"contract"})


@njit(**_FLAGS)
def im2col(xp, n0, nb, kernel, stride, dilation, out, cols):  # pragma: no cover - numba
    """cols[(c, kd, kh, kw), b, (qd, qh, qw)] = xp[n0 + b, c, qd*sd + kd*dd, ...].

    xp: (N, C, Dp, Hp, Wp) padded input; cols: (C*KD*KH*KW, nb, QD*QH*QW), C-contiguous,
    written in place (the GEMM-ready layout: one matmul multiplies all nb samples).
    """
    KD, KH, KW = kernel
    sd, sh, sw = stride
    dd, dh, dw = dilation
    QD, QH, QW = out
    C = xp.shape[1]
    KK = KD * KH * KW
    for r in prange(C * KK):
        c = r // KK
        k = r - c * KK
        kd = k // (KH * KW)
        kh = (k // KW) % KH
        kw = k % KW
        for b in range(nb):
            for qd in range(QD):
                for qh in range(QH):
                    src = xp[n0 + b, c, qd * sd + kd * dd, qh * sh + kh * dh, kw * dw:]
                    base = (qd * QH + qh) * QW
                    dst = cols[r, b, base:base + QW]
                    if sw == 1:
                        for qw in range(QW):
                            dst[qw] = src[qw]
                    else:
                        for qw in range(QW):
                            dst[qw] = src[qw * sw]


@njit(**_FLAGS)
def col2im(cols, nb, kernel, stride, dilation, out, xp):  # pragma: no cover - numba
    """Adjoint of :func:`im2col`: xp[b, c, ...] += cols[(c, k), b, q] at q*s + k*d.

    cols: (C*KK, nb, Q); xp: (nb, C, Dp, Hp, Wp), zeroed by the caller. Parallel over
    (b, c) planes, each owned by one thread.
    """
    KD, KH, KW = kernel
    sd, sh, sw = stride
    dd, dh, dw = dilation
    QD, QH, QW = out
    C = xp.shape[1]
    KK = KD * KH * KW
    for bc in prange(nb * C):
        b = bc // C
        c = bc - b * C
        for k in range(KK):
            r = c * KK + k
            kd = k // (KH * KW)
            kh = (k // KW) % KH
            kw = k % KW
            for qd in range(QD):
                for qh in range(QH):
                    dst = xp[b, c, qd * sd + kd * dd, qh * sh + kh * dh, kw * dw:]
                    base = (qd * QH + qh) * QW
                    src = cols[r, b, base:base + QW]
                    if sw == 1:
                        for qw in range(QW):
                            dst[qw] += src[qw]
                    else:
                        for qw in range(QW):
                            dst[qw * sw] += src[qw]


@njit(**_FLAGS)
def conv_direct(xp, w, groups, stride, dilation, y):  # pragma: no cover - numba
    """Direct loops (best for depthwise/grouped convs): y (N, O, QD, QH, QW) overwritten.
    Parallel over (n, o) output planes."""
    sd, sh, sw = stride
    dd, dh, dw = dilation
    N, O, QD, QH, QW = y.shape
    Cg, KD, KH, KW = w.shape[1], w.shape[2], w.shape[3], w.shape[4]
    Og = O // groups
    for no in prange(N * O):
        n = no // O
        o = no - n * O
        gi = o // Og
        acc = y[n, o]
        acc[:] = 0
        for ci in range(Cg):
            c = gi * Cg + ci
            for kd in range(KD):
                for kh in range(KH):
                    for kw in range(KW):
                        wv = w[o, ci, kd, kh, kw]
                        for qd in range(QD):
                            for qh in range(QH):
                                src = xp[n, c, qd * sd + kd * dd, qh * sh + kh * dh, kw * dw:]
                                dst = acc[qd, qh]
                                if sw == 1:
                                    for qw in range(QW):
                                        dst[qw] += wv * src[qw]
                                else:
                                    for qw in range(QW):
                                        dst[qw] += wv * src[qw * sw]


@njit(**_FLAGS)
def conv_transpose_direct(y, w, groups, stride, dilation, xp):  # pragma: no cover - numba
    """Direct transposed conv (input gradient): xp (N, C, Dp, Hp, Wp), zeroed by the
    caller, receives sum_o w[o, c, k] * y[n, o, q] at q*s + k*d. Parallel over (n, c)."""
    sd, sh, sw = stride
    dd, dh, dw = dilation
    N, O, QD, QH, QW = y.shape
    Cg, KD, KH, KW = w.shape[1], w.shape[2], w.shape[3], w.shape[4]
    C = xp.shape[1]
    Og = O // groups
    for nc in prange(N * C):
        n = nc // C
        c = nc - n * C
        gi = c // Cg
        ci = c - gi * Cg
        acc = xp[n, c]
        for oi in range(Og):
            o = gi * Og + oi
            for kd in range(KD):
                for kh in range(KH):
                    for kw in range(KW):
                        wv = w[o, ci, kd, kh, kw]
                        for qd in range(QD):
                            for qh in range(QH):
                                src = y[n, o, qd, qh]
                                dst = acc[qd * sd + kd * dd, qh * sh + kh * dh, kw * dw:]
                                if sw == 1:
                                    for qw in range(QW):
                                        dst[qw] += wv * src[qw]
                                else:
                                    for qw in range(QW):
                                        dst[qw * sw] += wv * src[qw]


@njit(**_FLAGS)
def conv_weight_grad_direct(xp, g, groups, stride, dilation, dw_out):  # pragma: no cover
    """Direct weight gradient: dw_out (O, Cg, KD, KH, KW) overwritten with
    sum_{n, q} g[n, o, q] * xp[n, c, q*s + k*d]. Parallel over (o, c) pairs of output
    channels, each thread owning its own weight slice."""
    sd, sh, sw = stride
    dd, dh, dw = dilation
    N, O, QD, QH, QW = g.shape
    Cg, KD, KH, KW = dw_out.shape[1], dw_out.shape[2], dw_out.shape[3], dw_out.shape[4]
    Og = O // groups
    for oc in prange(O * Cg):
        o = oc // Cg
        ci = oc - o * Cg
        c = (o // Og) * Cg + ci
        for kd in range(KD):
            for kh in range(KH):
                for kw in range(KW):
                    acc = 0.0
                    for n in range(N):
                        for qd in range(QD):
                            for qh in range(QH):
                                src = xp[n, c, qd * sd + kd * dd, qh * sh + kh * dh, kw * dw:]
                                gr = g[n, o, qd, qh]
                                part = 0.0
                                if sw == 1:
                                    for qw in range(QW):
                                        part += gr[qw] * src[qw]
                                else:
                                    for qw in range(QW):
                                        part += gr[qw] * src[qw * sw]
                                acc += part
                    dw_out[o, ci, kd, kh, kw] = acc
