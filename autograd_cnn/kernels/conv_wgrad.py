"""The weight gradient of the convolution family (see :mod:`.conv_dispatch`, which
re-exports :func:`conv_weight_grad`; import it from there).

:func:`conv_weight_grad` ``(x, g) -> dw`` is the correlation of the input x (N, C, *S)
with the output gradient g (N, O, *Q), over the batch: per algorithm one GEMM per sample
(1x1 kernels), direct loops (depthwise and thin convs; the register-blocked kernels of
:mod:`.conv_small` for one group and stride 1), fused per-sample im2col + GEMM (thin
GEMMs) or im2col + GEMM in blocks of samples. Partial sums over parts of the batch are
added in a fixed order, so results never depend on the number of threads.
"""

from __future__ import annotations

import math

import numpy as np

from . import conv_dispatch as D

# ---- weight gradient ---------------------------------------------------------------------


@D._half_in_float32
def conv_weight_grad(x, g, stride, padding, dilation, groups, kernel_size, algorithm="auto"):
    """Weight gradient (see :func:`_conv_weight_grad`)."""
    w_shape = (g.shape[1], x.shape[1] // max(groups, 1)) + tuple(kernel_size)
    D.check_output_size(w_shape, "conv_weight_grad")
    alg = D._check_alg(algorithm, "conv_weight_grad", x.shape, w_shape, stride, padding, groups,
                     dilation)
    full_q = D.conv_out_shape(x.shape, w_shape, stride, padding, dilation)[2:]
    if alg == "gemm" and tuple(full_q) != tuple(g.shape[2:]):
        alg = "im2col"
    with D._limits(*D._work(x.shape, w_shape, g.shape[2:]), alg):
        return _conv_weight_grad(x, g, stride, padding, dilation, groups, kernel_size, alg)


def _conv_weight_grad(x, g, stride, padding, dilation, groups, kernel_size,
                      algorithm="auto"):
    """dw (O, C/groups, *K) = sum_{n, q} g[n, o, q] * xpad[n, c, q*stride + k*dilation],
    for x (N, C, *S) and g (N, O, *Q)."""
    n, c = x.shape[:2]
    o = g.shape[1]
    cg, og = c // groups, o // groups
    w_shape = (o, cg) + tuple(kernel_size)
    D.check_output_size(w_shape, "conv_weight_grad")
    alg = D._check_alg(algorithm, "conv_weight_grad", x.shape, w_shape, stride, padding, groups)
    dt = D._float_dtype(x, g)
    x = x.astype(dt, copy=False)
    g = g.astype(dt, copy=False)
    if alg == "reference" or x.ndim - 2 > 3:
        return D.ref.conv_weight_grad_ref(x, g, stride, padding, dilation, groups, kernel_size)
    nd = x.ndim - 2
    q = math.prod(g.shape[2:])
    full_q = D.conv_out_shape(x.shape, w_shape, stride, padding, dilation)[2:]
    if alg == "gemm" and tuple(full_q) == tuple(g.shape[2:]):
        x3 = x.reshape(n, c, math.prod(x.shape[2:]))
        g3 = g.reshape(n, o, math.prod(g.shape[2:]))
        # one GEMM per sample, summed in sample order: no transposed copy of x (tensordot
        # copies it, 1.5x slower on shape e); x3[i].T is a Fortran view BLAS takes as is;
        # the samples in threads.PARTS parts (run_blocks), their partial sums added in order

        def run(part):
            (a, b), = part
            dw = np.zeros((o, cg), dt)
            tmp = np.empty((og, cg), dt)
            for gi in range(groups):
                acc = dw[gi * og:(gi + 1) * og]
                if (b - a) * groups > 64:  # many small GEMMs: Python overhead, one tensordot
                    acc[...] = np.tensordot(g3[a:b, gi * og:(gi + 1) * og],
                                            x3[a:b, gi * cg:(gi + 1) * cg],
                                            axes=([0, 2], [0, 2]))
                    continue
                for i in range(a, b):
                    np.matmul(g3[i, gi * og:(gi + 1) * og], x3[i, gi * cg:(gi + 1) * cg].T,
                              out=tmp)
                    acc += tmp
            return dw

        return D._sum_in_order(D._threads.run_blocks(D._sample_parts(n), run)).reshape(w_shape)
    if alg == "gemm":
        alg = "im2col"
    s3, d3 = D._t3(stride, 1), D._t3(dilation, 1)
    k3 = D._t3(kernel_size, 1)
    q3 = D._t3(g.shape[2:], 1)
    g5 = D._as5(g, nd)
    if alg == "direct":
        from . import conv_small
        from .conv_numba import conv_weight_grad_direct

        x5, p3 = D._as5(x, nd), D._t3(padding, (0, 0))
        if conv_small.applies(groups, s3, o):  # register-blocked loops
            return conv_small.weight_grad(x5, g5, d3, p3, (o, cg) + k3).reshape(w_shape)

        def part(k, a, b):
            dw = np.empty((o, cg) + k3, dt)
            k(x5[a:b], g5[a:b], groups, s3, d3, p3, dw)
            return dw

        parts = D._direct_in_parts(n, x5, g5, part, conv_weight_grad_direct)
        return D._sum_in_order(parts).reshape(w_shape)
    xp = D._pad5(D._as5(x, nd), D._t3(padding, (0, 0)))
    from .conv_numba import im2col

    kk = math.prod(k3)
    rows = c * kk
    g3 = g5.reshape(n, o, q)
    if D._fused(groups, og, rows * q):  # im2col and GEMM per sample, in one kernel call
        from .conv_numba import im2col_gemm_wgrad

        def run_fused(part):  # this part's partial sum, transposed
            (a, b), = part
            dwt = np.empty((rows, o), dt)
            im2col_gemm_wgrad(xp, a, b, g3, k3, s3, d3, q3, D._buffer("cols", rows * q, dt),
                              dwt)
            return dwt

        dwt = D._sum_in_order(D._threads.run_blocks(D._sample_parts(n), run_fused))
        return np.ascontiguousarray(dwt.T).reshape(w_shape)
    blocks, nb = D._blocks(n, rows * q)

    def run(part):  # a partial sum over this part's blocks, with its own buffers
        dw = np.zeros((o, cg * kk), dt)
        colbuf = D._buffer("cols", rows * nb * q, dt)
        gtbuf = D._buffer("gt", o * nb * q, dt) if nb > 1 else None
        for n0, b in part:
            cols = colbuf[: rows * b * q].reshape(rows, b, q)
            im2col(xp, n0, b, k3, s3, d3, q3, cols)
            cols2 = cols.reshape(rows, b * q)
            gt = D.channel_rows(g3, n0, b, gtbuf)
            for gi in range(groups):
                # as cols @ g^T, transposed after: OpenBLAS runs this orientation 1.2-1.7x
                # faster than g @ cols^T (LeNet's second conv 0.40 vs 0.68 ms, 1 thread)
                dw[gi * og:(gi + 1) * og] += (cols2[gi * cg * kk:(gi + 1) * cg * kk]
                                              @ gt[gi * og:(gi + 1) * og].T).T
        return dw

    return D._sum_in_order(D._threads.run_blocks(blocks, run)).reshape(w_shape)
