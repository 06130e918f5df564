"""Numba kernels of the convolution family, on 5-D arrays (N, C, D, H, W).

1-D and 2-D convolutions run through the same kernels with leading singleton spatial
dims, so there is one compiled signature per dtype (float32, float64) and kernel.

The direct kernels are :class:`~autograd_cnn.kernels.jit.Twin` s (a serial and a
``parallel=True`` build of one source, both ``cache=True``; the parallel one is compiled
only when a call is big enough to use it), with ``prange`` over an axis whose
iterations write disjoint slices ((sample, channel) planes of an input gradient; output
planes; (out, in) channel pairs of a weight gradient), so no two threads ever add into
the same element and the order of the additions into each element does not depend on
the number of threads: parallel and serial runs are bitwise equal. im2col/col2im are
serial: they run on the GEMM path, where BLAS owns the cores.

Indexing. Arrays are flattened once, outside the parallel loop, and indexed with
*unsigned* (uint64) offsets computed by hand. Two measured reasons: an index like
``x[i + d]`` with a signed ``d`` makes Numba emit a negative-index wraparound check that
defeats SIMD (3 vs 26 GFMA/s on one core here); and slicing views inside the hot loops
(the other way around it) increments the parent array's reference count atomically,
which two threads sharing one input turn into cache-line ping-pong (the depthwise conv
did not scale past one thread). All arithmetic below therefore stays in uint64 (mixing
uint64 and int64 would give floats in Numba).

Compilation happens on first call (no eager signatures); ``cache=True`` stores the
machine code next to this file, so a second process pays only the cache load.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

from .conv_small import SHORT_MAX, SHORT_MIN, im2col_short
from .jit import twin

# nogil: the serial builds run on halves of the batch at once on Python threads
_FLAGS = dict(cache=True, nogil=True, fastmath={"contract"})
# the weight gradient's dot products vectorize only if their sum may be reassociated;
# each (o, c) slice is still computed by one thread in one fixed order, so parallel and
# serial runs stay bitwise equal
_REDUCE_FLAGS = dict(cache=True, nogil=True, fastmath={"contract", "reassoc"})

U = uint64

#: Planes are processed in (at most) this many chunks, so a thread's scratch buffers
#: are allocated once per chunk; the chunking never changes an element's sum order.
CHUNKS = 64


# serial: on the GEMM path, blocks of samples run on Python threads (see _FLAGS)
@njit(**_FLAGS)
def im2col(xp, n0, nb, kernel, stride, dilation, out, cols):  # pragma: no cover - numba
    """cols[(c, kd, kh, kw), b, (qd, qh, qw)] = xp[n0 + b, c, qd*sd + kd*dd, ...].

    xp: (N, C, Dp, Hp, Wp) padded input; cols: (C*KD*KH*KW, nb, QD*QH*QW), C-contiguous,
    written in place (the GEMM-ready layout: one matmul multiplies all nb samples).
    Serial (memory-bound; it runs while BLAS owns the cores).
    """
    KD, KH, KW = U(kernel[0]), U(kernel[1]), U(kernel[2])
    sd, sh, sw = U(stride[0]), U(stride[1]), U(stride[2])
    dd, dh, dw = U(dilation[0]), U(dilation[1]), U(dilation[2])
    QD, QH, QW = U(out[0]), U(out[1]), U(out[2])
    C, Dp, Hp, Wp = U(xp.shape[1]), U(xp.shape[2]), U(xp.shape[3]), U(xp.shape[4])
    xf = xp.reshape(xp.size)
    cf = cols.reshape(cols.size)
    KK = KD * KH * KW
    Q = QD * QH * QW
    plane = Dp * Hp * Wp
    nbu, n0u = U(nb), U(n0)
    for r_ in range(C * KK):
        r = U(r_)
        c = r // KK
        k = r - c * KK
        kd = k // (KH * KW)
        kh = (k // KW) % KH
        kw = k % KW
        for b in range(nbu):
            src0 = ((n0u + b) * C + c) * plane + kw * dw
            dst0 = (r * nbu + b) * Q
            for qd in range(QD):
                for qh in range(QH):
                    s = src0 + ((qd * sd + kd * dd) * Hp + qh * sh + kh * dh) * Wp
                    d = dst0 + (qd * QH + qh) * QW
                    if sw == U(1):
                        for qw in range(QW):
                            cf[d + qw] = xf[s + qw]
                    else:
                        for qw in range(QW):
                            cf[d + qw] = xf[s + qw * sw]


@njit(**_FLAGS)
def col2im(cols, nb, kernel, stride, dilation, out, xp):  # pragma: no cover - numba
    """Adjoint of :func:`im2col`: xp[b, c, ...] += cols[(c, k), b, q] at q*s + k*d.

    cols: (C*KK, nb, Q); xp: (nb, C, Dp, Hp, Wp), zeroed by the caller. Serial, like
    :func:`im2col`.
    """
    KD, KH, KW = U(kernel[0]), U(kernel[1]), U(kernel[2])
    sd, sh, sw = U(stride[0]), U(stride[1]), U(stride[2])
    dd, dh, dw = U(dilation[0]), U(dilation[1]), U(dilation[2])
    QD, QH, QW = U(out[0]), U(out[1]), U(out[2])
    C, Dp, Hp, Wp = U(xp.shape[1]), U(xp.shape[2]), U(xp.shape[3]), U(xp.shape[4])
    xf = xp.reshape(xp.size)
    cf = cols.reshape(cols.size)
    KK = KD * KH * KW
    Q = QD * QH * QW
    plane = Dp * Hp * Wp
    nbu = U(nb)
    for bc_ in range(nbu * C):
        bc = U(bc_)
        b = bc // C
        c = bc - b * C
        for k in range(KK):
            r = c * KK + k
            kd = k // (KH * KW)
            kh = (k // KW) % KH
            kw = k % KW
            src0 = (r * nbu + b) * Q
            dst0 = bc * plane + kw * dw
            for qd in range(QD):
                for qh in range(QH):
                    d = dst0 + ((qd * sd + kd * dd) * Hp + qh * sh + kh * dh) * Wp
                    s = src0 + (qd * QH + qh) * QW
                    if sw == U(1):
                        for qw in range(QW):
                            xf[d + qw] += cf[s + qw]
                    else:
                        for qw in range(QW):
                            xf[d + qw * sw] += cf[s + qw]


@njit(cache=True, inline="always")
def _short(stride, out):  # pragma: no cover - numba
    """Whether the rows of one sample's im2col are short enough for
    :func:`~autograd_cnn.kernels.conv_small.im2col_short` (stride 1)."""
    return (stride[0] == 1 and stride[1] == 1 and stride[2] == 1
            and SHORT_MIN <= out[2] and out[2] <= SHORT_MAX)


@njit(**_FLAGS)
def im2col_gemm(xp, a, b, w2, kernel, stride, dilation, out, cols, y):  # pragma: no cover
    """y[n] = w2 @ im2col(xp[n]) for the samples a <= n < b, one sample at a time.

    w2 (O, C*KK) C-contiguous; y (N, O, Q); cols a scratch buffer of C*KK*Q elements.
    For thin GEMMs (few output channels, small images: LeNet's second conv) the column
    matrix of one sample stays in L1/L2 cache between its im2col and its GEMM, and the
    loop over samples pays no Python call per sample (shape b forward 0.40 -> 0.27 ms);
    rows of 8-31 outputs (stride 1) are copied by ``conv_small.im2col_short``.
    Serial (callers run parts of the batch on Python threads, BLAS on one thread each).
    """
    rows, q = U(w2.shape[1]), U(y.shape[2])
    c3 = cols[: rows * q].reshape(rows, 1, q)
    c2 = cols[: rows * q].reshape(rows, q)
    short = _short(stride, out)
    for n in range(a, b):
        if short:
            im2col_short(xp, n, kernel, dilation, out, cols)
        else:
            im2col(xp, n, 1, kernel, stride, dilation, out, c3)
        np.dot(w2, c2, y[n])


@njit(**_FLAGS)
def gemm_col2im(y3, a, b, wt, kernel, stride, dilation, out, cols, xp):  # pragma: no cover
    """The adjoint of :func:`im2col_gemm`: xp[n] += col2im(wt @ y3[n]) for a <= n < b.

    wt (C*KK, O) C-contiguous (the transposed weights); y3 (N, O, Q); xp (N, C, Dp, Hp,
    Wp), zeroed by the caller; cols a scratch buffer of C*KK*Q elements. Serial.
    """
    rows, q = U(wt.shape[0]), U(y3.shape[2])
    c3 = cols[: rows * q].reshape(rows, 1, q)
    c2 = cols[: rows * q].reshape(rows, q)
    for n in range(a, b):
        np.dot(wt, y3[n], c2)
        col2im(c3, 1, kernel, stride, dilation, out, xp[n:n + 1])


@njit(**_FLAGS)
def im2col_gemm_wgrad(xp, a, b, g3, kernel, stride, dilation, out, cols,
                      dwt):  # pragma: no cover - numba
    """The weight gradient of :func:`im2col_gemm`, transposed: dwt (C*KK, O) overwritten
    with the sum over a <= n < b (in order) of im2col(xp[n]) @ g3[n].T, g3 (N, O, Q).
    Serial; cols a scratch buffer of C*KK*Q elements. g3[n] is copied transposed into a
    (Q, O) buffer first: OpenBLAS multiplies cols @ g^T 1.45x faster from that layout
    than from the transposed view (shape b's 64 samples: 0.15 vs 0.22 ms, one thread)."""
    rows, q = U(dwt.shape[0]), U(g3.shape[2])
    o_ = U(g3.shape[1])
    c3 = cols[: rows * q].reshape(rows, 1, q)
    c2 = cols[: rows * q].reshape(rows, q)
    tmp = np.empty_like(dwt)
    gt = np.empty((q, o_), dtype=g3.dtype)
    dwt[:] = 0
    short = _short(stride, out)
    for n in range(a, b):
        if short:
            im2col_short(xp, n, kernel, dilation, out, cols)
        else:
            im2col(xp, n, 1, kernel, stride, dilation, out, c3)
        gn = g3[n]
        for o in range(o_):
            for i in range(q):
                gt[i, o] = gn[o, i]
        np.dot(c2, gt, tmp)
        dwt += tmp


@njit(cache=True, inline="always")
def _direct_geometry(x_shape, k_shape, q_shape, groups, stride, dilation, padding):
    """The loop bounds of the direct kernels, as uint64 (see the module docstring):
    x (N, C, D, H, W) unpadded input, k (., Cg, KD, KH, KW) kernel, q (N, O, QD, QH, QW)
    output (or output gradient); Hp, Wp the padded sizes, plane the padded plane size,
    flat whether the stride is 1 (then L is the length of the padded-width output grid).
    """
    sd, sh, sw = U(stride[0]), U(stride[1]), U(stride[2])
    dd, dh, dw = U(dilation[0]), U(dilation[1]), U(dilation[2])
    N, O = U(q_shape[0]), U(q_shape[1])
    QD, QH, QW = U(q_shape[2]), U(q_shape[3]), U(q_shape[4])
    Cg, KD, KH, KW = U(k_shape[1]), U(k_shape[2]), U(k_shape[3]), U(k_shape[4])
    C, D_, H_, W_ = U(x_shape[1]), U(x_shape[2]), U(x_shape[3]), U(x_shape[4])
    pd0, ph0, pw0 = U(padding[0][0]), U(padding[1][0]), U(padding[2][0])
    Dp = D_ + pd0 + U(padding[0][1])
    Hp = H_ + ph0 + U(padding[1][1])
    Wp = W_ + pw0 + U(padding[2][1])
    Og = O // U(groups)
    plane = Dp * Hp * Wp
    Q = QD * QH * QW
    KK = KD * KH * KW
    flat = sd == U(1) and sh == U(1) and sw == U(1)
    L = ((QD - U(1)) * Hp + (QH - U(1))) * Wp + QW
    return (sd, sh, sw, dd, dh, dw, N, O, QD, QH, QW, Cg, KD, KH, KW, C, D_, H_, W_,
            pd0, ph0, pw0, Hp, Wp, Og, plane, Q, KK, flat, L)


@njit(cache=True, inline="always")
def _fill_padded(pbuf, xf, xbase, D_, H_, W_, pd0, ph0, pw0, Hp, Wp):  # pragma: no cover
    """Copy one unpadded (D_, H_, W_) plane of xf (at xbase) into the interior of the
    padded plane pbuf, whose borders the caller keeps at zero."""
    for d in range(D_):
        for h in range(H_):
            dst = ((d + pd0) * Hp + h + ph0) * Wp + pw0
            src = xbase + (d * H_ + h) * W_
            for i in range(W_):
                pbuf[dst + i] = xf[src + i]


@twin(**_FLAGS)
def _conv_direct_flat(x, w, groups, stride, dilation, padding, y):  # pragma: no cover
    """Direct loops (best for depthwise/grouped convs): y (N, O, QD, QH, QW) overwritten
    with the correlation of the UNPADDED x (N, C, D, H, W) zero-padded by ``padding``
    ((lo, hi) per dim). Parallel over (n, o) output planes.

    Each thread pads its input planes into a private buffer (no padded copy of the whole
    input), and with stride 1 computes its plane on the padded-width grid, flattened, so
    that every kernel tap is one long contiguous multiply-add (SIMD) instead of QD*QH
    short rows; the Wp - QW extra columns per row are computed and dropped.
    """
    (sd, sh, sw, dd, dh, dw, N, O, QD, QH, QW, Cg, KD, KH, KW, C, D_, H_, W_,
     pd0, ph0, pw0, Hp, Wp, Og, plane, Q, KK, flat, L) = _direct_geometry(
        x.shape, w.shape, y.shape, groups, stride, dilation, padding)
    xf = x.reshape(x.size)
    yf = y.reshape(y.size)
    wf = w.reshape(w.size)
    # chunks of planes, each allocating its scratch buffers once (not once per plane)
    total = N * O
    nch = min(total, U(CHUNKS))
    for ch_ in prange(nch):
        ch = U(ch_)
        pbuf = np.zeros(plane, dtype=x.dtype)  # borders stay zero
        buf = np.zeros(L, dtype=y.dtype)
        for no_ in range(ch * total // nch, (ch + U(1)) * total // nch):
            no = U(no_)
            n = no // O
            o = no - n * O
            gi = o // Og
            ybase = no * Q
            buf[:] = 0
            for ci in range(Cg):
                _fill_padded(pbuf, xf, (n * C + gi * Cg + ci) * D_ * H_ * W_, D_, H_, W_,
                             pd0, ph0, pw0, Hp, Wp)
                wbase = (o * Cg + ci) * KK
                for kd in range(KD):
                    for kh in range(KH):
                        for kw in range(KW):
                            wv = wf[wbase + (kd * KH + kh) * KW + kw]
                            off = (kd * dd * Hp + kh * dh) * Wp + kw * dw
                            for i in range(L):
                                buf[i] += wv * pbuf[off + i]
            for qd in range(QD):
                for qh in range(QH):
                    b0 = (qd * Hp + qh) * Wp
                    d0 = ybase + (qd * QH + qh) * QW
                    for qw in range(QW):
                        yf[d0 + qw] = buf[b0 + qw]


@twin(**_FLAGS)
def _conv_direct_strided(x, w, groups, stride, dilation, padding, y):  # pragma: no cover
    """Direct loops (best for depthwise/grouped convs): y (N, O, QD, QH, QW) overwritten
    with the correlation of the UNPADDED x (N, C, D, H, W) zero-padded by ``padding``
    ((lo, hi) per dim). Parallel over (n, o) output planes.

    Each thread pads its input planes into a private buffer (no padded copy of the whole
    input), and with stride 1 computes its plane on the padded-width grid, flattened, so
    that every kernel tap is one long contiguous multiply-add (SIMD) instead of QD*QH
    short rows; the Wp - QW extra columns per row are computed and dropped.
    """
    (sd, sh, sw, dd, dh, dw, N, O, QD, QH, QW, Cg, KD, KH, KW, C, D_, H_, W_,
     pd0, ph0, pw0, Hp, Wp, Og, plane, Q, KK, flat, L) = _direct_geometry(
        x.shape, w.shape, y.shape, groups, stride, dilation, padding)
    xf = x.reshape(x.size)
    yf = y.reshape(y.size)
    wf = w.reshape(w.size)
    # chunks of planes, each allocating its scratch buffers once (not once per plane)
    total = N * O
    nch = min(total, U(CHUNKS))
    for ch_ in prange(nch):
        ch = U(ch_)
        pbuf = np.zeros(plane, dtype=x.dtype)  # borders stay zero
        for no_ in range(ch * total // nch, (ch + U(1)) * total // nch):
            no = U(no_)
            n = no // O
            o = no - n * O
            gi = o // Og
            ybase = no * Q
            for i in range(Q):
                yf[ybase + i] = 0
            for ci in range(Cg):
                _fill_padded(pbuf, xf, (n * C + gi * Cg + ci) * D_ * H_ * W_, D_, H_, W_,
                             pd0, ph0, pw0, Hp, Wp)
                wbase = (o * Cg + ci) * KK
                for kd in range(KD):
                    for kh in range(KH):
                        for kw in range(KW):
                            wv = wf[wbase + (kd * KH + kh) * KW + kw]
                            for qd in range(QD):
                                for qh in range(QH):
                                    s = ((qd * sd + kd * dd) * Hp + qh * sh
                                         + kh * dh) * Wp + kw * dw
                                    d = ybase + (qd * QH + qh) * QW
                                    for qw in range(QW):
                                        yf[d + qw] += wv * pbuf[s + qw * sw]


@twin(**_FLAGS)
def _conv_transpose_direct_flat(y, w, groups, stride, dilation, padding,
                                x):  # pragma: no cover - numba
    """Direct transposed conv (input gradient): x (N, C, D, H, W) overwritten with the
    crop (by ``padding``) of the padded plane that receives sum_o w[o, c, k] * y[n, o, q]
    at q*s + k*d. The padded plane lives in a private per-thread buffer; parallel over
    (n, c) planes, each owned by one thread."""
    (sd, sh, sw, dd, dh, dw, N, O, QD, QH, QW, Cg, KD, KH, KW, C, D_, H_, W_,
     pd0, ph0, pw0, Hp, Wp, Og, plane, Q, KK, flat, L) = _direct_geometry(
        x.shape, w.shape, y.shape, groups, stride, dilation, padding)
    xf = x.reshape(x.size)
    yf = y.reshape(y.size)
    wf = w.reshape(w.size)
    # chunks of planes, each allocating its scratch buffers once (not once per plane)
    total = N * C
    nch = min(total, U(CHUNKS))
    for ch_ in prange(nch):
        ch = U(ch_)
        acc = np.zeros(plane, dtype=x.dtype)
        ybuf = np.zeros(L, dtype=x.dtype)  # extra columns stay 0
        for nc_ in range(ch * total // nch, (ch + U(1)) * total // nch):
            nc = U(nc_)
            n = nc // C
            c = nc - n * C
            gi = c // Cg
            ci = c - gi * Cg
            acc[:] = 0
            # y spread onto the padded-width grid (zeros in the extra columns), then one
            # long multiply-add per kernel tap into this thread's own plane
            for oi in range(Og):
                o = gi * Og + oi
                ybase = (n * O + o) * Q
                for qd in range(QD):
                    for qh in range(QH):
                        b0 = (qd * Hp + qh) * Wp
                        s0 = ybase + (qd * QH + qh) * QW
                        for qw in range(QW):
                            ybuf[b0 + qw] = yf[s0 + qw]
                wbase = (o * Cg + ci) * KK
                for kd in range(KD):
                    for kh in range(KH):
                        for kw in range(KW):
                            wv = wf[wbase + (kd * KH + kh) * KW + kw]
                            off = (kd * dd * Hp + kh * dh) * Wp + kw * dw
                            for i in range(L):
                                acc[off + i] += wv * ybuf[i]
            xbase = nc * D_ * H_ * W_
            for d in range(D_):
                for h in range(H_):
                    src = ((d + pd0) * Hp + h + ph0) * Wp + pw0
                    dst = xbase + (d * H_ + h) * W_
                    for i in range(W_):
                        xf[dst + i] = acc[src + i]


@twin(**_FLAGS)
def _conv_transpose_direct_strided(y, w, groups, stride, dilation, padding,
                                   x):  # pragma: no cover - numba
    """Direct transposed conv (input gradient): x (N, C, D, H, W) overwritten with the
    crop (by ``padding``) of the padded plane that receives sum_o w[o, c, k] * y[n, o, q]
    at q*s + k*d. The padded plane lives in a private per-thread buffer; parallel over
    (n, c) planes, each owned by one thread."""
    (sd, sh, sw, dd, dh, dw, N, O, QD, QH, QW, Cg, KD, KH, KW, C, D_, H_, W_,
     pd0, ph0, pw0, Hp, Wp, Og, plane, Q, KK, flat, L) = _direct_geometry(
        x.shape, w.shape, y.shape, groups, stride, dilation, padding)
    xf = x.reshape(x.size)
    yf = y.reshape(y.size)
    wf = w.reshape(w.size)
    # chunks of planes, each allocating its scratch buffers once (not once per plane)
    total = N * C
    nch = min(total, U(CHUNKS))
    for ch_ in prange(nch):
        ch = U(ch_)
        acc = np.zeros(plane, dtype=x.dtype)
        for nc_ in range(ch * total // nch, (ch + U(1)) * total // nch):
            nc = U(nc_)
            n = nc // C
            c = nc - n * C
            gi = c // Cg
            ci = c - gi * Cg
            acc[:] = 0
            for oi in range(Og):
                o = gi * Og + oi
                ybase = (n * O + o) * Q
                wbase = (o * Cg + ci) * KK
                for kd in range(KD):
                    for kh in range(KH):
                        for kw in range(KW):
                            wv = wf[wbase + (kd * KH + kh) * KW + kw]
                            for qd in range(QD):
                                for qh in range(QH):
                                    d = ((qd * sd + kd * dd) * Hp + qh * sh
                                         + kh * dh) * Wp + kw * dw
                                    s = ybase + (qd * QH + qh) * QW
                                    for qw in range(QW):
                                        acc[d + qw * sw] += wv * yf[s + qw]
            xbase = nc * D_ * H_ * W_
            for d in range(D_):
                for h in range(H_):
                    src = ((d + pd0) * Hp + h + ph0) * Wp + pw0
                    dst = xbase + (d * H_ + h) * W_
                    for i in range(W_):
                        xf[dst + i] = acc[src + i]


@twin(**_REDUCE_FLAGS)
def _conv_weight_grad_direct_flat(x, g, groups, stride, dilation, padding,
                                  dw_out):  # pragma: no cover - numba
    """Direct weight gradient: dw_out (O, Cg, KD, KH, KW) overwritten with
    sum_{n, q} g[n, o, q] * xpad[n, c, q*s + k*d], x (N, C, D, H, W) unpadded and padded
    per plane into a private buffer. Parallel over (o, c) pairs of channels, each thread
    owning its own weight slice."""
    (sd, sh, sw, dd, dh, dw, N, O, QD, QH, QW, Cg, KD, KH, KW, C, D_, H_, W_,
     pd0, ph0, pw0, Hp, Wp, Og, plane, Q, KK, flat, L) = _direct_geometry(
        x.shape, dw_out.shape, g.shape, groups, stride, dilation, padding)
    xf = x.reshape(x.size)
    gf = g.reshape(g.size)
    wf = dw_out.reshape(dw_out.size)
    for oc_ in prange(O * Cg):
        oc = U(oc_)
        o = oc // Cg
        ci = oc - o * Cg
        c = (o // Og) * Cg + ci
        acc = np.zeros(KK, dtype=np.float64)
        # each dot product runs in the data's dtype (float32 SIMD lanes, 16 per AVX-512
        # register, summed in a fixed reassociated order), the sum over samples in float64
        zero = np.zeros(1, dtype=x.dtype)[0]
        pbuf = np.zeros(plane, dtype=x.dtype)
        gbuf = np.zeros(L, dtype=x.dtype)
        for n in range(N):
            _fill_padded(pbuf, xf, (n * C + c) * D_ * H_ * W_, D_, H_, W_, pd0, ph0, pw0,
                         Hp, Wp)
            gbase = (n * O + o) * Q
            for qd in range(QD):
                for qh in range(QH):
                    b0 = (qd * Hp + qh) * Wp
                    s0 = gbase + (qd * QH + qh) * QW
                    for qw in range(QW):
                        gbuf[b0 + qw] = gf[s0 + qw]
            for kd in range(KD):
                for kh in range(KH):
                    for kw in range(KW):
                        off = (kd * dd * Hp + kh * dh) * Wp + kw * dw
                        part = zero
                        for i in range(L):
                            part += gbuf[i] * pbuf[off + i]
                        acc[(kd * KH + kh) * KW + kw] += part
        for k in range(KK):
            wf[oc * KK + k] = acc[k]


@twin(**_REDUCE_FLAGS)
def _conv_weight_grad_direct_strided(x, g, groups, stride, dilation, padding,
                                     dw_out):  # pragma: no cover - numba
    """Direct weight gradient: dw_out (O, Cg, KD, KH, KW) overwritten with
    sum_{n, q} g[n, o, q] * xpad[n, c, q*s + k*d], x (N, C, D, H, W) unpadded and padded
    per plane into a private buffer. Parallel over (o, c) pairs of channels, each thread
    owning its own weight slice."""
    (sd, sh, sw, dd, dh, dw, N, O, QD, QH, QW, Cg, KD, KH, KW, C, D_, H_, W_,
     pd0, ph0, pw0, Hp, Wp, Og, plane, Q, KK, flat, L) = _direct_geometry(
        x.shape, dw_out.shape, g.shape, groups, stride, dilation, padding)
    xf = x.reshape(x.size)
    gf = g.reshape(g.size)
    wf = dw_out.reshape(dw_out.size)
    for oc_ in prange(O * Cg):
        oc = U(oc_)
        o = oc // Cg
        ci = oc - o * Cg
        c = (o // Og) * Cg + ci
        acc = np.zeros(KK, dtype=np.float64)
        # each dot product runs in the data's dtype (float32 SIMD lanes, 16 per AVX-512
        # register, summed in a fixed reassociated order), the sum over samples in float64
        zero = np.zeros(1, dtype=x.dtype)[0]
        pbuf = np.zeros(plane, dtype=x.dtype)
        for n in range(N):
            _fill_padded(pbuf, xf, (n * C + c) * D_ * H_ * W_, D_, H_, W_, pd0, ph0, pw0,
                         Hp, Wp)
            gbase = (n * O + o) * Q
            for kd in range(KD):
                for kh in range(KH):
                    for kw in range(KW):
                        part = zero
                        for qd in range(QD):
                            for qh in range(QH):
                                s = ((qd * sd + kd * dd) * Hp + qh * sh
                                     + kh * dh) * Wp + kw * dw
                                g0 = gbase + (qd * QH + qh) * QW
                                for qw in range(QW):
                                    part += gf[g0 + qw] * pbuf[s + qw * sw]
                        acc[(kd * KH + kh) * KW + kw] += part
        for k in range(KK):
            wf[oc * KK + k] = acc[k]


class ByStride:
    """A direct kernel as two :class:`~autograd_cnn.kernels.jit.Twin` s, the stride-1 loops
    (``flat``: one long multiply-add per tap on the padded-width grid) and the strided
    ones, compiled separately: a program compiles only what its strides use (LeNet: the
    flat ones; about half the compile time of one kernel holding both). Called like the
    kernels, it picks by ``stride`` (the 4th argument); ``serial`` / ``parallel`` pick the
    build as :class:`~autograd_cnn.kernels.jit.Twin` does."""

    def __init__(self, name, flat, strided):
        self.__name__ = name
        self.flat, self.strided = flat, strided

    def variant(self, stride):
        """The twin serving ``stride``."""
        return self.flat if all(s == 1 for s in stride) else self.strided

    def __call__(self, *args):
        return self.variant(args[3])(*args)

    def serial(self, *args):
        """Run the serial build."""
        return self.variant(args[3]).serial(*args)

    def parallel(self, *args):
        """Run the parallel build."""
        return self.variant(args[3]).parallel(*args)

    def dispatchers(self):
        """All four Numba dispatchers."""
        return self.flat.dispatchers() + self.strided.dispatchers()


conv_direct = ByStride("conv_direct", _conv_direct_flat, _conv_direct_strided)
conv_transpose_direct = ByStride("conv_transpose_direct", _conv_transpose_direct_flat,
                                 _conv_transpose_direct_strided)
conv_weight_grad_direct = ByStride("conv_weight_grad_direct", _conv_weight_grad_direct_flat,
                                   _conv_weight_grad_direct_strided)
