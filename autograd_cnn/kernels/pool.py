"""Pooling kernels (Numba) and their NumPy reference oracles.

Every pooling op here works on a stack of planes ``x: (P, D, H, W)`` (``P = N*C``; 1-D and
2-D pooling use ``D = H = 1`` / ``D = 1``) and is described by one *window table* per
spatial dimension: ``tab[o, k]`` is the input index that tap ``k`` of output position ``o``
reads, or ``-1`` when that tap falls into the padding (or past the end of a shorter
adaptive window). Regular pooling (kernel, stride, padding, dilation, ceil_mode) and
adaptive pooling only differ in their tables, so the same four kernels serve both:

- :func:`max_pool_forward`: values and the argmax (flat index ``(d*H + h)*W + w`` into
  the plane, PyTorch's ``return_indices`` convention). The first maximum in row-major
  window order wins; a NaN wins over everything (the last NaN, as on PyTorch CPU).
  Regular 1-D/2-D max pooling (the common case) takes a row kernel instead of the table
  kernel: branch-free selects along a row of outputs, about 2x faster on 3x3/2 windows.
  2x2 / stride-2 windows (:func:`max_pool_2x2`) have their own kernels: explicit-vector
  blocks of windows (:mod:`autograd_cnn.kernels.simd`) for rows of 4-15 outputs, which
  LLVM leaves scalar (LeNet-5: 4x faster), a vectorized row loop otherwise.
- :func:`plane_scatter_add` / :func:`plane_gather`: the max-pool gradient (scatter of the
  output gradient to the saved argmax, accumulating where windows overlap) and its
  adjoint (gather at the same indices); :func:`plane_scatter_set`: max unpooling (a
  scatter that keeps one value where indices repeat, as PyTorch).
  :func:`plane_scatter_add_2x2`: the same result for 2x2 / stride-2 shapes, written
  directly when every index lies in its own window (checked; else the general scatter).
- :func:`avg_pool_forward` / :func:`avg_pool_backward`: windowed mean with a separable
  divisor ``div_d[od] * div_h[oh] * div_w[ow]``, and its adjoint.

Race freedom: every kernel runs ``prange`` over planes, and each iteration writes only its
own plane, so overlapping windows accumulate serially inside one thread. The result is
therefore independent of the thread count (parallel equals serial bitwise).
Nothing is compiled at import: Numba compiles each kernel on its first call (float32 and
float64 signatures, cached on disk). Each kernel is a serial/parallel twin
(:mod:`autograd_cnn.kernels.jit`); calls below :data:`PARALLEL_MIN_ELEMENTS` run (and
compile) only the serial one.
"""

from __future__ import annotations

import numpy as np
from numba import prange, uintp

from .jit import twin
from .simd import max_block4, max_block8, scatter_block8

#: Below this many input (or gradient) elements, pooling runs serially: waking the thread
#: pool costs more than it saves, and the parallel twin of a kernel is compiled only for
#: a call at least this big (see :mod:`autograd_cnn.kernels.jit`).
PARALLEL_MIN_ELEMENTS = 1 << 19


def _par(n_elements: int) -> bool:
    import numba

    return n_elements >= PARALLEL_MIN_ELEMENTS and numba.get_num_threads() > 1

# ---- Numba kernels -------------------------------------------------------------------


@twin(cache=True)
def _max_fwd(x, td, th, tw, out, idx):
    P, D, H, W = x.shape
    OD, KD = td.shape
    OH, KH = th.shape
    OW, KW = tw.shape
    for p in prange(P):
        for od in range(OD):
            for oh in range(OH):
                for ow in range(OW):
                    best = -np.inf
                    bi = -1
                    for a in range(KD):
                        d = td[od, a]
                        if d < 0:
                            continue
                        for b in range(KH):
                            h = th[oh, b]
                            if h < 0:
                                continue
                            base = (d * H + h) * W
                            for c in range(KW):
                                w = tw[ow, c]
                                if w < 0:
                                    continue
                                v = x[p, d, h, w]
                                if bi < 0:
                                    bi = base + w
                                # NaN propagates: "v != v" takes it (and later NaNs)
                                if v > best or v != v:
                                    best = v
                                    bi = base + w
                    out[p, od, oh, ow] = best
                    idx[p, od, oh, ow] = bi


@twin(cache=True)
def _max_fwd_2d(x, W, th, wlo, whi, sw, dw, pw, out, idx):
    # 2-D (and 1-D) regular max pooling on flat planes ``x: (P, H*W)``. Rows come from
    # the window table ``th``; along W the window is ``ow*sw - pw + c*dw`` and tap ``c`` is
    # in bounds exactly for ``wlo[c] <= ow < whi[c]``, so the inner loop runs along a row
    # of outputs with no bounds tests. Taps are visited in row-major window order for
    # every ``ow``, which keeps PyTorch's first-maximum rule and its NaN rule.
    # The update is written as selects with unconditional loads and stores (the
    # ``ci < 0`` term, which takes the first in-bounds tap, also keeps LLVM from turning
    # the stores back into branches): a branch on random data mispredicts about once per
    # window, which made the branchy loop 2-3x slower. Unsigned indices skip Numba's
    # negative-index wraparound (another 20-25%).
    P = x.shape[0]
    OH, KH = th.shape
    KW = wlo.shape[0]
    OW = out.shape[1] // OH
    for p in prange(P):
        xp = x[p]
        op = out[p]
        ip = idx[p]
        for oh in range(OH):
            o0 = oh * OW
            for ow in range(OW):
                op[o0 + ow] = -np.inf
                ip[o0 + ow] = -1
            for b in range(KH):
                h = th[oh, b]
                if h < 0:
                    continue
                for c in range(KW):
                    base = h * W + c * dw - pw
                    for ow in range(wlo[c], whi[c]):
                        j = base + ow * sw  # in bounds by construction of wlo/whi
                        v = xp[uintp(j)]
                        o = uintp(o0 + ow)
                        cur = op[o]
                        ci = ip[o]
                        t = (v > cur) | (v != v) | (ci < 0)
                        op[o] = v if t else cur
                        ip[o] = j if t else ci


@twin(cache=True)
def _max_2x2(x, W, out, idx, OH, OW):
    # 2x2 windows, stride 2, no padding (the common case; 1.5x faster than the row kernel).
    # Taps in row-major order; a later tap wins if greater or NaN, so the first maximum
    # and the last NaN win, as in the general kernels.
    P = x.shape[0]
    Wu = uintp(W)
    for p in prange(P):
        xp = x[p]
        op = out[p]
        ip = idx[p]
        for oh in range(OH):
            r0 = uintp(2 * oh) * Wu
            o0 = uintp(oh * OW)
            for ow in range(OW):
                j = r0 + uintp(2 * ow)
                best = xp[j]
                bi = j
                for t in (uintp(1), Wu, Wu + uintp(1)):
                    v = xp[j + t]
                    take = (v > best) | (v != v)
                    best = v if take else best
                    bi = j + t if take else bi
                op[o0 + uintp(ow)] = best
                ip[o0 + uintp(ow)] = bi


@twin(cache=True)
def _max_2x2_blocks(x, W, out, idx, OH, OW):
    # _max_2x2 for rows of 4 to 15 outputs, which LLVM's vector loop (16 outputs a step)
    # never enters: explicit-vector blocks (kernels/simd.py; 4x faster on rows of 14),
    # two per row: blocks of 8 at 0 and OW - 8 for rows of 8-15, of 4 at 0 and OW - 4 for
    # rows of 4-7 (an output covered twice gets the same value twice). The same rule as
    # the scalar kernels: taps in row-major order, a later tap wins if greater or NaN.
    if OW < 4 or OW > 15:
        raise ValueError("_max_2x2_blocks: rows of 4 to 15 outputs only")
    P = x.shape[0]
    for p in prange(P):
        xp = x[p]
        op = out[p]
        ip = idx[p]
        for oh in range(OH):
            r0 = 2 * oh * W
            o0 = oh * OW
            if OW >= 8:
                max_block8(xp, r0, W, op, ip, o0)
                max_block8(xp, r0 + 2 * (OW - 8), W, op, ip, o0 + OW - 8)
            else:
                max_block4(xp, r0, W, op, ip, o0)
                max_block4(xp, r0 + 2 * (OW - 4), W, op, ip, o0 + OW - 4)


@twin(cache=True)
def _scatter_2x2(g, idx, out, OH, OW, W):
    # The max-pool gradient of 2x2 / stride-2 windows, rows of at least 8 outputs, without
    # zeroing then scattering: each window's four positions are written once (0 + g at the
    # saved index, 0 at the others) by blocks of 8 windows (kernels/simd.py; the last one
    # ends at the row's end, overlapping the previous), then the row and column a
    # floor-mode pool leaves uncovered are zeroed. Valid only if every index lies in its
    # own window (the windows are disjoint, so each position then receives at most one
    # value, exactly what a scatter-add into zeros gives); returns the number of planes
    # where one did not (the caller then reruns the general scatter over everything).
    P = g.shape[0]
    S = out.shape[1]
    if OW < 8:  # (the blocks would start before the row): "every plane failed"
        return P
    nbad = 0
    for p in prange(P):
        gp = g[p]
        ip = idx[p]
        op = out[p]
        ok = True
        for oh in range(OH):
            r0 = 2 * oh * W
            o0 = oh * OW
            s = 0
            while s < OW:
                s = min(s, OW - 8)
                ok &= scatter_block8(gp, ip, o0 + s, r0 + 2 * s, W, op)
                s += 8
            for w in range(2 * OW, W):  # odd W: the last column
                op[r0 + w] = 0
                op[r0 + W + w] = 0
        for k in range(2 * OH * W, S):  # odd H: the last row
            op[k] = 0
        nbad += 0 if ok else 1
    return nbad


@twin(cache=True)
def _scatter_add(g, idx, out, bad):
    P, M = g.shape
    S = out.shape[1]
    for p in prange(P):
        for s in range(S):
            out[p, s] = 0
        for m in range(M):
            i = idx[p, m]
            if i < 0 or i >= S:
                bad[p] = 1
            else:
                out[p, i] += g[p, m]


@twin(cache=True)
def _scatter_set(g, idx, out, bad):
    P, M = g.shape
    S = out.shape[1]
    for p in prange(P):
        for s in range(S):
            out[p, s] = 0
        for m in range(M):  # serial within a plane: the last of repeated indices wins
            i = idx[p, m]
            if i < 0 or i >= S:
                bad[p] = 1
            else:
                out[p, i] = g[p, m]


@twin(cache=True)
def _gather(x, idx, out, bad):
    P, M = idx.shape
    S = x.shape[1]
    for p in prange(P):
        for m in range(M):
            i = idx[p, m]
            if i < 0 or i >= S:
                bad[p] = 1
                out[p, m] = 0
            else:
                out[p, m] = x[p, i]


@twin(cache=True)
def _avg_fwd(x, td, th, tw, vd, vh, vw, out):
    P, D, H, W = x.shape
    OD, KD = td.shape
    OH, KH = th.shape
    OW, KW = tw.shape
    for p in prange(P):
        for od in range(OD):
            for oh in range(OH):
                for ow in range(OW):
                    s = 0.0
                    for a in range(KD):
                        d = td[od, a]
                        if d < 0:
                            continue
                        for b in range(KH):
                            h = th[oh, b]
                            if h < 0:
                                continue
                            for c in range(KW):
                                w = tw[ow, c]
                                if w < 0:
                                    continue
                                s += x[p, d, h, w]
                    out[p, od, oh, ow] = s / (vd[od] * vh[oh] * vw[ow])


@twin(cache=True)
def _avg_bwd(g, td, th, tw, vd, vh, vw, out):
    P, D, H, W = out.shape
    OD, KD = td.shape
    OH, KH = th.shape
    OW, KW = tw.shape
    for p in prange(P):
        for d in range(D):
            for h in range(H):
                for w in range(W):
                    out[p, d, h, w] = 0
        for od in range(OD):
            for oh in range(OH):
                for ow in range(OW):
                    v = g[p, od, oh, ow] / (vd[od] * vh[oh] * vw[ow])
                    for a in range(KD):
                        d = td[od, a]
                        if d < 0:
                            continue
                        for b in range(KH):
                            h = th[oh, b]
                            if h < 0:
                                continue
                            for c in range(KW):
                                w = tw[ow, c]
                                if w < 0:
                                    continue
                                out[p, d, h, w] += v


# ---- Python entry points (arrays in, arrays out) -------------------------------------


def _planes(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x)


def max_pool_forward(x, td, th, tw, fast=None):
    """Max over windows. ``x: (P, D, H, W)``; tables ``(O*, K*)`` int64.

    ``fast``: ``(sw, dw, pw, wlo, whi, two)`` for regular 1-D/2-D pooling (``D == 1``):
    stride, dilation and padding along W; per tap column ``c`` the range ``[wlo[c],
    whi[c])`` of outputs whose tap is in bounds (:func:`row_ranges`); ``two`` =
    :func:`is_2x2_stride_2` of the tables. Or None (the table kernel). Returns
    ``out: (P, OD, OH, OW)`` of x's dtype and ``idx: (P, OD, OH, OW)`` int64 flat indices
    into the plane.
    """
    x = _planes(x)
    shape = (x.shape[0], td.shape[0], th.shape[0], tw.shape[0])
    out = np.empty(shape, dtype=x.dtype)
    idx = np.empty(shape, dtype=np.int64)
    if fast is not None and x.shape[1] == 1:
        P, _, H, W = x.shape
        sw, dw, pw, wlo, whi, two = fast
        if two:
            kernel = _max_2x2_kernel(tw.shape[0]).pick(_par(x.size))
            kernel(x.reshape(P, H * W), W, out.reshape(P, -1), idx.reshape(P, -1),
                   th.shape[0], tw.shape[0])
            return out, idx
        _max_fwd_2d.pick(_par(x.size))(x.reshape(P, H * W), W, th, wlo, whi, sw, dw, pw,
                                       out.reshape(P, -1), idx.reshape(P, -1))
    else:
        _max_fwd.pick(_par(x.size))(x, td, th, tw, out, idx)
    return out, idx


def max_pool_2x2(x, W: int, OH: int, OW: int):
    """:func:`max_pool_forward` of 2x2 / stride-2 windows without padding on flat planes
    ``x: (P, H * W)`` (``OH = H // 2``, ``OW = W // 2``): ``(out, idx)``, ``(P, OH * OW)``."""
    x = _planes(x)
    out = np.empty((x.shape[0], OH * OW), dtype=x.dtype)
    idx = np.empty((x.shape[0], OH * OW), dtype=np.int64)
    _max_2x2_kernel(OW).pick(_par(x.size))(x, W, out, idx, OH, OW)
    return out, idx


def _max_2x2_kernel(OW):
    """The blocks for rows of 4-15 outputs, LLVM's vector loop otherwise (as fast on long
    rows, faster on large memory-bound inputs: 0.78 vs 0.82 ms on (16, 64, 56, 56))."""
    return _max_2x2_blocks if 4 <= OW < 16 else _max_2x2


def is_2x2_stride_2(th, tw, sw, dw, pw) -> bool:
    """The window of LeNet/VGG/ResNet pooling: 2x2, stride 2, no padding, no dilation."""
    if (sw, dw, pw) != (2, 1, 0) or th.shape[1] != 2 or tw.shape[1] != 2:
        return False
    return (np.array_equal(th, 2 * np.arange(th.shape[0])[:, None] + np.arange(2))
            and np.array_equal(tw, 2 * np.arange(tw.shape[0])[:, None] + np.arange(2)))




def row_ranges(tw):
    """Per tap column ``c`` of a regular table ``tw: (OW, KW)``, the outputs ``[lo, hi)``
    whose tap ``c`` is in bounds (a contiguous range: the position grows with ``ow``)."""
    valid = tw >= 0
    any_ = valid.any(axis=0)
    lo = np.where(any_, valid.argmax(axis=0), 0)
    hi = np.where(any_, tw.shape[0] - valid[::-1].argmax(axis=0), 0)
    return lo.astype(np.int64), hi.astype(np.int64)


def plane_scatter_add(g, idx, plane_size: int):
    """``out[p, idx[p, m]] += g[p, m]`` into zeros ``(P, plane_size)``.

    Returns ``(out, ok)``; ``ok`` is False when an index was outside ``[0, plane_size)``
    (those entries are skipped, never written out of bounds).
    """
    g = _planes(g)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    out = np.empty((g.shape[0], plane_size), dtype=g.dtype)
    bad = np.zeros(g.shape[0], dtype=np.uint8)
    _scatter_add.pick(_par(out.size))(g, idx, out, bad)
    return out, not bad.any()


def plane_scatter_add_2x2(g, idx, H: int, W: int):
    """:func:`plane_scatter_add` of ``g, idx: (P, H // 2, W // 2)`` into ``(P, H * W)``,
    by the direct kernel of 2x2 / stride-2 max pooling when every index lies in its own
    window ``{2oh, 2oh+1} x {2ow, 2ow+1}`` (then the two agree bitwise), by the general
    scatter otherwise (overlapping or foreign indices, bad indices). Returns ``(out, ok)``.

    The direct kernel runs for float32 rows of at least 8 windows only: measured on one
    core it takes 0.048 ms against 0.064 for LeNet-5's (64, 6, 14, 14) -> 28x28, but loses
    on shorter rows ((64, 16, 5, 5): 0.029 vs 0.018, blocks of 4 for 5 windows) and in
    float64 (0.136 vs 0.122), where zeroing then scattering is as fast as the traffic.
    """
    P, OH, OW = g.shape
    g = _planes(g).reshape(P, OH * OW)
    idx = np.ascontiguousarray(idx, dtype=np.int64).reshape(P, OH * OW)
    if g.dtype != np.float32 or OW < 8:
        return plane_scatter_add(g, idx, H * W)
    out = np.empty((P, H * W), dtype=g.dtype)
    if _scatter_2x2.pick(_par(out.size))(g, idx, out, OH, OW, W) == 0:
        return out, True
    return plane_scatter_add(g, idx, H * W)


def plane_scatter_set(g, idx, plane_size: int):
    """``out[p, idx[p, m]] = g[p, m]`` into zeros ``(P, plane_size)``; where an index
    repeats, the last value in ``m`` order is kept (max unpooling). Returns ``(out, ok)``
    like :func:`plane_scatter_add`."""
    g = _planes(g)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    out = np.empty((g.shape[0], plane_size), dtype=g.dtype)
    bad = np.zeros(g.shape[0], dtype=np.uint8)
    _scatter_set.pick(_par(out.size))(g, idx, out, bad)
    return out, not bad.any()


def plane_gather(x, idx):
    """``out[p, m] = x[p, idx[p, m]]``; returns ``(out, ok)`` like :func:`plane_scatter_add`."""
    x = _planes(x)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    out = np.empty(idx.shape, dtype=x.dtype)
    bad = np.zeros(idx.shape[0], dtype=np.uint8)
    _gather.pick(_par(x.size))(x, idx, out, bad)
    return out, not bad.any()


def avg_pool_forward(x, td, th, tw, vd, vh, vw):
    """Windowed sums over the tables divided by ``vd[od] * vh[oh] * vw[ow]``."""
    x = _planes(x)
    out = np.empty((x.shape[0], td.shape[0], th.shape[0], tw.shape[0]), dtype=x.dtype)
    _avg_fwd.pick(_par(x.size))(x, td, th, tw, vd, vh, vw, out)
    return out


def avg_pool_backward(g, in_dhw, td, th, tw, vd, vh, vw):
    """Adjoint of :func:`avg_pool_forward`: ``g: (P, OD, OH, OW)`` -> ``(P, D, H, W)``."""
    g = _planes(g)
    out = np.empty((g.shape[0],) + tuple(in_dhw), dtype=g.dtype)
    _avg_bwd.pick(_par(out.size))(g, td, th, tw, vd, vh, vw, out)
    return out


# ---- window tables -------------------------------------------------------------------


def regular_table(length, kernel, stride, padding, dilation, out_len):
    """Table of a regular pooling window along one dimension: ``(out_len, kernel)``."""
    o = np.arange(out_len)[:, None]
    k = np.arange(kernel)[None, :]
    pos = o * stride - padding + k * dilation
    return np.where((pos >= 0) & (pos < length), pos, -1).astype(np.int64)


def regular_divisor(length, kernel, stride, padding, out_len, count_include_pad):
    """PyTorch's average-pool divisor factor along one dimension (float64, ``(out_len,)``).

    With ``count_include_pad`` the window is clipped to the padded input (so a ceil_mode
    window hanging past the padding counts only what lies inside it); otherwise to the
    input itself.
    """
    start = np.arange(out_len) * stride - padding
    end = np.minimum(start + kernel, length + padding)
    if count_include_pad:
        return (end - start).astype(np.float64)
    return (np.minimum(end, length) - np.maximum(start, 0)).astype(np.float64)


def adaptive_bounds(length, out_len):
    """PyTorch's adaptive windows: ``[floor(o*L/O), ceil((o+1)*L/O))`` per output ``o``."""
    o = np.arange(out_len)
    start = (o * length) // out_len
    end = -((-(o + 1) * length) // out_len)
    return start, end


def adaptive_table(length, out_len):
    """Table of adaptive windows ``(out_len, max window)`` and their sizes (float64)."""
    start, end = adaptive_bounds(length, out_len)
    kmax = int((end - start).max())
    pos = start[:, None] + np.arange(kmax)[None, :]
    tab = np.where(pos < end[:, None], pos, -1).astype(np.int64)
    return tab, (end - start).astype(np.float64)


# ---- NumPy references (slow, obvious; the oracles of the tests) -----------------------


def max_pool_reference(x, td, th, tw):
    """Loop-free reference of :func:`max_pool_forward` (same tie and NaN rules)."""
    P, D, H, W = x.shape
    xp = np.concatenate([x.reshape(P, -1), np.full((P, 1), -np.inf, x.dtype)], axis=1)
    lin = ((td[:, None, None, :, None, None] * H + th[None, :, None, None, :, None]) * W
           + tw[None, None, :, None, None, :])
    valid = ((td >= 0)[:, None, None, :, None, None] & (th >= 0)[None, :, None, None, :, None]
             & (tw >= 0)[None, None, :, None, None, :])
    lin = np.where(valid, lin, D * H * W)  # the appended -inf column
    OD, OH, OW = td.shape[0], th.shape[0], tw.shape[0]
    lin = lin.reshape(OD, OH, OW, -1)
    vals = xp[:, lin]  # (P, OD, OH, OW, K)
    nan = np.isnan(vals)
    # first maximum in window order, except that the last NaN wins
    first = np.argmax(vals, axis=-1)
    last_nan = vals.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    pick = np.where(nan.any(axis=-1), last_nan, first)
    # all taps -inf: the first in-bounds tap (argmax already returns position 0, which may
    # be padding; pick the first valid tap instead)
    first_valid = np.argmax(valid.reshape(OD, OH, OW, -1), axis=-1)
    allneg = np.all(vals == -np.inf, axis=-1)
    pick = np.where(allneg, first_valid[None], pick)
    out = np.take_along_axis(vals, pick[..., None], -1)[..., 0]
    idx = np.take_along_axis(np.broadcast_to(lin, vals.shape), pick[..., None], -1)[..., 0]
    return out.astype(x.dtype), idx.astype(np.int64)


def scatter_add_reference(g, idx, plane_size):
    out = np.zeros((g.shape[0], plane_size), dtype=g.dtype)
    for p in range(g.shape[0]):
        np.add.at(out[p], idx[p], g[p])
    return out


def scatter_set_reference(g, idx, plane_size):
    out = np.zeros((g.shape[0], plane_size), dtype=g.dtype)
    for p in range(g.shape[0]):
        for m in range(g.shape[1]):
            out[p, idx[p, m]] = g[p, m]
    return out


def gather_reference(x, idx):
    return np.take_along_axis(x, idx, axis=1)


def avg_pool_reference(x, td, th, tw, vd, vh, vw):
    P, D, H, W = x.shape
    xp = np.concatenate([x.reshape(P, -1), np.zeros((P, 1), x.dtype)], axis=1)
    lin = ((td[:, None, None, :, None, None] * H + th[None, :, None, None, :, None]) * W
           + tw[None, None, :, None, None, :])
    valid = ((td >= 0)[:, None, None, :, None, None] & (th >= 0)[None, :, None, None, :, None]
             & (tw >= 0)[None, None, :, None, None, :])
    lin = np.where(valid, lin, D * H * W).reshape(td.shape[0], th.shape[0], tw.shape[0], -1)
    s = xp[:, lin].astype(np.float64).sum(-1)
    div = vd[:, None, None] * vh[None, :, None] * vw[None, None, :]
    return (s / div).astype(x.dtype)


def avg_pool_backward_reference(g, in_dhw, td, th, tw, vd, vh, vw):
    P = g.shape[0]
    D, H, W = in_dhw
    lin = ((td[:, None, None, :, None, None] * H + th[None, :, None, None, :, None]) * W
           + tw[None, None, :, None, None, :])
    valid = ((td >= 0)[:, None, None, :, None, None] & (th >= 0)[None, :, None, None, :, None]
             & (tw >= 0)[None, None, :, None, None, :])
    lin = np.where(valid, lin, D * H * W).reshape(td.shape[0], th.shape[0], tw.shape[0], -1)
    div = vd[:, None, None] * vh[None, :, None] * vw[None, None, :]
    v = g.astype(np.float64) / div
    out = np.zeros((P, D * H * W + 1))
    for p in range(P):
        np.add.at(out[p], lin, np.broadcast_to(v[p][..., None], lin.shape))
    return out[:, :-1].reshape(P, D, H, W).astype(g.dtype)
