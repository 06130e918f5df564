"""Shape-specialized 2-D convolution kernels, generated for one geometry at a time.

``ac.compile`` knows every convolution's shapes before the first step, and a kernel
compiled for exactly those shapes can do what no shape-generic kernel does: every loop
bound is a constant, the innermost reduction is unrolled into two dozen vector partial
sums that stay in registers for the whole reduction (:mod:`.vec`), and the one
remaining choice, which axis fills the vector lanes, is made per shape:

- *channel lanes* (``K`` scheme): 16 output channels (float32; 8 for float64) per vector,
  a block of output positions per pass, the input value broadcast to every lane. Good when
  the channel count fills the lanes (LeNet-5's second convolution: 16).
- *width lanes* (``W`` scheme): 16 consecutive output columns per vector, a block of output
  channels and rows per pass, the weight broadcast. Good for few channels and wide rows
  (LeNet-5's first convolution: 6 channels, 28 columns). A row that is not a multiple of
  the lanes ends with a vector that overlaps the one before (the overlap is computed
  twice, written with equal values, and masked out of weight-gradient sums).

Three kernels cover a convolution's forward and backward: the forward correlation, the
input gradient (the same correlation of the zero-padded output gradient with the flipped,
channel-swapped weight), and the weight gradient (a reduction over samples and positions,
into one partial sum per part of the batch, added in a fixed order: the result does not
depend on how many threads ran). Dilation 1, one group, float32/float64 only
(:func:`applies`); a stride above 1 takes channel lanes (which read scalars anywhere) and
leaves its input gradient to the generic kernels; everything else keeps them too. Sums
run in a different order than the generic kernels', so results agree to rounding, not
bitwise.

Each kernel's source names its sizes; it is compiled once per geometry (about 0.3-1 s)
and cached on disk like the fused elementwise kernels (:mod:`.generated`).
"""

from __future__ import annotations

import os
import threading

import numpy as np

from .generated import kernel_for
from .vec import BITS, LANES, REGISTERS

#: Whether ``ac.compile`` uses these kernels (``AUTOGRAD_CNN_GENERATED_CONV=0``: never).
ENABLED = os.environ.get("AUTOGRAD_CNN_GENERATED_CONV", "1") != "0"

#: ``ac.compile`` generates a kernel for a conv of at least this many vector
#: multiply-adds per call (~20 us of work): below it the generic kernels cost little
#: more, and a compile spends 0.3-0.9 s on each generated kernel.
MIN_FMAS = 100_000

#: Bumped when the generated code, :mod:`.vec` or :mod:`.vec_blocks` changes (it is part
#: of every source, so that Numba's disk cache does not serve the old code).
VERSION = 2

#: Most vector partial sums a kernel keeps in registers (25 of AVX-512's 32; 9 of 16).
MAX_ACCUMULATORS = REGISTERS - 7

#: From this many vector multiply-adds per call (about 1 ms of one core) on, a kernel
#: splits its batch into two halves run by Numba's threads; below it, one thread, and a
#: kernel that compiles in half the time. (On this project's 2-vCPU machines two threads
#: run these FMA-bound loops no faster than one: the vCPUs share a core's vector units.)
PARALLEL_MIN_FMAS = 4_000_000

_HEADER = (f"# autograd_cnn generated convolution (conv_gen v{VERSION}, {BITS}-bit vectors)\n"
           "import numpy as np\nfrom numba import njit, prange\n\n"
           "from autograd_cnn.kernels.vec import wide\n"
           "from autograd_cnn.kernels.vec_blocks import fma_block, hsum_store, init_block,"
           " lanes_store, store_block\n\n")
_DECORATOR = "\n\n@njit(cache=True, nogil=True, boundscheck=False, parallel=@PARALLEL@)\n"


def applies(x_shape, w_shape, stride, padding, dilation, groups, dtype) -> bool:
    """Whether the generated kernels cover a conv of ``x (N, C, H, W)`` with
    ``w (K, C, R, S)`` (the forward geometry; the same answer holds for its gradients,
    but for the input gradient of a stride above 1, which is left to the generic
    kernels)."""
    if len(x_shape) != 4 or len(w_shape) != 4 or np.dtype(dtype).name not in LANES:
        return False
    if min(stride) < 1 or tuple(dilation) != (1, 1) or groups != 1:
        return False
    (pt, pb), (pl, pr) = padding
    R, S = w_shape[2:]
    if min(pt, pb, pl, pr) < 0 or max(pt, pb) > R - 1 or max(pl, pr) > S - 1:
        return False
    oh, ow = x_shape[2] + pt + pb - R + 1, x_shape[3] + pl + pr - S + 1  # (at stride 1)
    return oh >= 1 and ow >= 1 and S <= MAX_ACCUMULATORS and min(x_shape) >= 1


def _divisor_at_most(n, cap):
    return max(d for d in range(1, min(n, cap) + 1) if n % d == 0)


def _starts(ow, lanes):
    """First columns of the width vectors covering ``ow`` columns (the last overlaps)."""
    if ow <= lanes:
        return [0]
    return list(range(0, ow - lanes, lanes)) + [ow - lanes]


def _width_efficiency(ow, lanes):
    return ow / (len(_starts(ow, lanes)) * lanes) if ow >= lanes else ow / lanes


def _channel_efficiency(k, lanes):
    return k / (-(-k // lanes) * lanes)


def _lanes_for(Co, OW, taps, L):
    """``"width"`` or ``"channels"``: the cheaper per output element, counting vector
    multiply-adds (``taps`` = Ci*R*S of them per output, over the lanes a scheme fills)
    and, for channel lanes, one scalar store per output (transposing lanes to channel
    planes; about two multiply-adds' time)."""
    width = taps / (L * _width_efficiency(OW, L))
    channels = taps / (L * _channel_efficiency(Co, L)) + 2
    return "width" if width <= channels else "channels"


class _Src:
    """Lines of a kernel's source; ``@P@`` stands for the number of parts of the batch
    (known once the generator has counted the work)."""

    def __init__(self, signature):
        self.decls = []  # module-level: the block intrinsics the kernel calls
        self.lines = [f"def kernel({signature}):"]
        self.depth = 1
        self.fmas = 0  # vector multiply-adds per sample

    def declare(self, factory, *args):
        """A module-level name for the block intrinsic ``factory(*args)``."""
        name = f"B{len(self.decls)}"
        self.decls.append(f"{name} = {factory}{args!r}")
        return name

    def parts_loop(self, N):
        """Open the loop over the batch's parts, each with its samples ``[n0, n1)``."""
        self.block("for part in prange(@P@):")
        self("wide()")
        self(f"n0 = part * {N} // @P@")
        self(f"n1 = (part + 1) * {N} // @P@")

    def __call__(self, line):
        self.lines.append("    " * self.depth + line)

    def block(self, line):
        self(line)
        self.depth += 1

    def end(self, n=1):
        self.depth -= n

    def text(self, parts):
        src = _HEADER + "\n".join(self.decls) + _DECORATOR + "\n".join(self.lines) + "\n"
        return src.replace("@PARALLEL@", str(parts > 1)).replace("@P@", str(parts))


def _weight_index(flip, co, ci, i, j, Co, Ci, R, S):
    """Flat index of the forward-form weight ``w'[co, ci, i, j]`` (``flip``: of the
    transposed conv's ``w[ci, co, R-1-i, S-1-j]``)."""
    if flip:
        return f"(({ci}) * {Co} + ({co})) * {R * S} + ({R - 1} - {i}) * {S} + {S - 1} - {j}"
    return f"(({co}) * {Ci} + ({ci})) * {R * S} + ({i}) * {S} + {j}"


# -- the correlation y[n, co] = sum_ci xp[n, ci] * w'[co, ci] ------------------------------
def _tap_rows(pt, H, R, oh0, rows):
    """The range of tap rows ``i`` that reach an unpadded input row for some output row
    in ``[oh0, oh0 + rows)`` (the others read only zero padding)."""
    return (f"max(0, {pt} - {oh0} - {rows - 1})", f"min({R}, {pt + H} - {oh0})")


def _rows_read(pt, H, R, OH, rows, stride=1):
    """Tap rows summed over all row blocks of ``rows`` rows (:func:`_tap_rows`); with a
    ``stride``, blocks of one row whose input rows start ``stride`` apart."""
    return sum(max(0, min(R, pt + H - oh0 * stride) - max(0, pt - oh0 * stride - rows + 1))
               for oh0 in range(0, OH, rows))


def _width_blocks(Co, OH, V, pt, H, R):
    """(channels, rows) per pass of the width scheme: the fewest cycles by a simple
    model (multiply-adds, loads, and the FMA latency that fewer than 8 independent
    partial sums cannot hide), among blocks that divide the output and fit the
    registers."""
    best = None
    for kb in (d for d in range(1, Co + 1) if Co % d == 0):
        for rb in (d for d in range(1, OH + 1) if OH % d == 0):
            acc = kb * rb * V
            if acc + rb * V > MAX_ACCUMULATORS + 3:
                continue
            taps = (Co // kb) * _rows_read(pt, H, R, OH, rb)
            cycles = taps * max(acc / 2, 4.0, (rb * V + kb) / 2)
            if best is None or cycles < best[0]:
                best = (cycles, kb, rb)
    return None if best is None else best[1:]  # (None: rows too wide for the registers)


def _correlate_width(N, Ci, Co, Hp, Wb, R, S, OH, OW, L, flip, bias, relu, pt, H):
    """Width lanes: a block of KB channels x RB rows x V vectors per pass."""
    starts = _starts(OW, L)
    V = len(starts)
    KB, RB = _width_blocks(Co, OH, V, pt, H, R)
    src = _Src("xp, w, b, y")
    src.fmas = (Co // KB) * _rows_read(pt, H, R, OH, RB) * S * Ci * KB * RB * V
    acc = [(k, r, v) for k in range(KB) for r in range(RB) for v in range(V)]
    n = len(acc)
    w_step = R * S if flip else Ci * R * S  # from w'[co] to w'[co + 1]
    terms = tuple((m, r * Wb + starts[v], "v", 0, k * w_step, "s")
                  for m, (k, r, v) in enumerate(acc))
    tap = src.declare("fma_block", n, terms)
    init = src.declare("init_block", n, "splat" if bias else "zero",
                       tuple(k for k, _, _ in acc))
    store = src.declare("store_block", n, tuple((k * OH + r) * OW + starts[v]
                                                for k, r, v in acc), relu, min(OW, L))
    w_base = _weight_index(flip, "k0", "ci", "i", "j", Co, Ci, R, S)
    src.parts_loop(N)
    src.block("for n in range(n0, n1):")
    src(f"xb = n * {Ci * Hp * Wb}")
    src(f"yb = n * {Co * OH * OW}")
    src.block(f"for k0 in range(0, {Co}, {KB}):")
    src.block(f"for oh0 in range(0, {OH}, {RB}):")
    src(f"acc = {init}(b, k0)")
    src.block(f"for ci in range({Ci}):")
    src.block("for i in range({}, {}):".format(*_tap_rows(pt, H, R, "oh0", RB)))
    src.block(f"for j in range({S}):")
    src(f"acc = {tap}(acc, xp, xb + (ci * {Hp} + oh0 + i) * {Wb} + j, w, {w_base})")
    src.end(3)
    src(f"{store}(acc, y, yb + (k0 * {OH} + oh0) * {OW})")
    return src


def _lane_stores(src, n, offsets, lane_stride, lanes, relu=False):
    """A store of channel-lane sums, lane ``q`` of sum ``k`` (of ``lanes[k]``) at
    ``offsets[k] + q * lane_stride``."""
    return src.declare("lanes_store", n, offsets, lane_stride, lanes, relu)


def _store_lanes(src, full, last, is_last, args):
    """``full`` everywhere but where ``is_last`` (the block holding a partial vector)."""
    if last is None:
        src(f"{full}({args})")
        return
    src.block(f"if not {is_last}:")
    src(f"{full}({args})")
    src.end()
    src.block("else:")
    src(f"{last}({args})")
    src.end()


def _correlate_channels(N, Ci, Co, Hp, Wb, R, S, OH, OW, L, flip, bias, relu, pt, H,
                        stride=(1, 1)):
    """Channel lanes: KVB vectors of L output channels x OB output columns per pass
    (input rows and columns ``stride`` apart)."""
    sh, sw = stride
    KV = -(-Co // L)
    OB = _divisor_at_most(OW, MAX_ACCUMULATORS - 11)
    KVB = _divisor_at_most(KV, max(1, 16 // OB))
    src = _Src("xp, w, b, y")
    src.fmas = KV * _rows_read(pt, H, R, OH, 1, sh) * OW * Ci * S
    acc = [(kb, o) for kb in range(KVB) for o in range(OB)]
    n = len(acc)
    tap = src.declare("fma_block", n, tuple((m, kb * Ci * R * S * L, "v", 0, o * sw, "s")
                                            for m, (kb, o) in enumerate(acc)))
    init = src.declare("init_block", n, "vector", tuple(kb * L for kb, _ in acc))
    offsets = tuple(kb * L * OH * OW + o for kb, o in acc)
    full = _lane_stores(src, n, offsets, OH * OW, (L,) * n, relu)
    last = _lane_stores(src, n, offsets, OH * OW, tuple(
        Co % L if kb == KVB - 1 else L for kb, _ in acc), relu) if Co % L else None
    src("wide()")
    src(f"wt = np.zeros({KV * Ci * R * S * L}, y.dtype)")
    src(f"bp = np.zeros({KV * L}, y.dtype)")
    src.block(f"for co in range({Co}):")
    if bias:
        src("bp[co] = b[co]")
    src.block(f"for ci in range({Ci}):")
    src.block(f"for i in range({R}):")
    src.block(f"for j in range({S}):")
    at = f"((((co // {L}) * {Ci} + ci) * {R} + i) * {S} + j) * {L} + co % {L}"
    src(f"wt[{at}] = w[{_weight_index(flip, 'co', 'ci', 'i', 'j', Co, Ci, R, S)}]")
    src.end(4)
    src.parts_loop(N)
    src.block("for n in range(n0, n1):")
    src(f"xb = n * {Ci * Hp * Wb}")
    src(f"yb = n * {Co * OH * OW}")
    src.block(f"for kv in range(0, {KV}, {KVB}):")
    src.block(f"for oh in range({OH}):")
    src.block(f"for ow0 in range(0, {OW}, {OB}):")
    src(f"acc = {init}(bp, kv * {L})")
    src.block(f"for ci in range({Ci}):")
    src.block("for i in range({}, {}):".format(*_tap_rows(pt, H, R, f"oh * {sh}", 1)))
    src(f"row = xb + (ci * {Hp} + oh * {sh} + i) * {Wb} + ow0 * {sw}")
    src.block(f"for j in range({S}):")
    src(f"acc = {tap}(acc, wt, ((kv * {Ci} + ci) * {R * S} + i * {S} + j) * {L}, xp, row + j)")
    src.end(3)
    _store_lanes(src, full, last, f"kv == {KV - KVB}",
                 f"acc, y, yb + (kv * {L * OH} + oh) * {OW} + ow0")
    return src


# -- the weight gradient dw[co, ci, i, j] = sum_n,oh,ow xp[n, ci, oh+i, ow+j] g[n, co, oh, ow]
def _wgrad_open(src, N, size):
    """A weight gradient's partial sums: one row of ``dwp`` per part of the batch."""
    src(f"dwp = np.empty(@P@ * {size}, dw.dtype)")
    src.parts_loop(N)
    src(f"pb = part * {size}")


def _wgrad_close(src, size):
    """``dw`` = the parts' partial sums, added in part order."""
    src.depth = 1
    src.block(f"for q in range({size}):")
    src("s = dwp[q]")
    src.block("for part in range(1, @P@):")
    src(f"s += dwp[part * {size} + q]")
    src.end()
    src("dw[q] = s")
    return src


def _wgrad_width(N, Ci, Co, Hp, Wb, R, S, OH, OW, L):
    starts = _starts(OW, L)
    IB = _divisor_at_most(R, MAX_ACCUMULATORS // S)
    src = _Src("xp, g, dw")
    src.fmas = Co * Ci * OH * len(starts) * R * S
    n = IB * S
    terms = []
    for v, st in enumerate(starts):
        covered = starts[v - 1] + L if v else 0
        keep = covered - st if covered > st else 0  # the overlapping last vector
        terms += [(i * S + j, st, "v", keep, i * Wb + st + j, "v")
                  for i in range(IB) for j in range(S)]
    tap = src.declare("fma_block", n, tuple(terms))
    init = src.declare("init_block", n, "zero", None)
    store = src.declare("hsum_store", n, tuple(range(n)))
    _wgrad_open(src, N, Co * Ci * R * S)
    src.block(f"for co in range({Co}):")
    src.block(f"for ci in range({Ci}):")
    src.block(f"for i0 in range(0, {R}, {IB}):")
    src(f"acc = {init}(dw, 0)")
    src.block("for n in range(n0, n1):")
    src.block(f"for oh in range({OH}):")
    src(f"acc = {tap}(acc, g, ((n * {Co} + co) * {OH} + oh) * {OW}, "
        f"xp, ((n * {Ci} + ci) * {Hp} + oh + i0) * {Wb})")
    src.end(2)
    src(f"{store}(acc, dwp, pb + ((co * {Ci} + ci) * {R} + i0) * {S})")
    return _wgrad_close(src, Co * Ci * R * S)


def _wgrad_channels(N, Ci, Co, Hp, Wb, R, S, OH, OW, L, stride=(1, 1)):
    sh, sw = stride
    KV = -(-Co // L)
    IB = _divisor_at_most(R, MAX_ACCUMULATORS // S)
    src = _Src("xp, g, dw")
    src.fmas = KV * Ci * OH * OW * R * S
    n = IB * S
    tap = src.declare("fma_block", n, tuple((i * S + j, 0, "v", 0, i * Wb + j, "s")
                                            for i in range(IB) for j in range(S)))
    init = src.declare("init_block", n, "zero", None)
    full = _lane_stores(src, n, tuple(range(n)), Ci * R * S, (L,) * n)
    last = _lane_stores(src, n, tuple(range(n)), Ci * R * S, (Co % L,) * n) if Co % L else None
    _wgrad_open(src, N, Co * Ci * R * S)
    src(f"gt = np.zeros((n1 - n0) * {OH * OW * KV * L}, dw.dtype)")
    src.block("for n in range(n0, n1):")
    src.block(f"for co in range({Co}):")
    src.block(f"for p in range({OH * OW}):")
    src(f"gt[((n - n0) * {OH * OW} + p) * {KV * L} + co] = g[(n * {Co} + co) * {OH * OW} + p]")
    src.end(3)
    src.block(f"for kv in range({KV}):")
    src.block(f"for ci in range({Ci}):")
    src.block(f"for i0 in range(0, {R}, {IB}):")
    src(f"acc = {init}(dw, 0)")
    src.block("for n in range(n0, n1):")
    src.block(f"for oh in range({OH}):")
    src(f"xb = ((n * {Ci} + ci) * {Hp} + oh * {sh} + i0) * {Wb}")
    src(f"gb = ((n - n0) * {OH * OW} + oh * {OW}) * {KV * L} + kv * {L}")
    src.block(f"for ow in range({OW}):")
    src(f"acc = {tap}(acc, gt, gb + ow * {KV * L}, xp, xb + ow * {sw})")
    src.end(3)
    _store_lanes(src, full, last, f"kv == {KV - 1}",
                 f"acc, dwp, pb + ((kv * {L * Ci} + ci) * {R} + i0) * {S}")
    return _wgrad_close(src, Co * Ci * R * S)


# -- the callable kernels ---------------------------------------------------------------
class _Padder:
    """``x`` zero-padded to ``(N, C, Hp, Wb)`` (top/left by ``pads``), flat, in a buffer
    of this thread's that is zeroed once and whose interior each call overwrites
    (``x`` itself when there is no padding at all)."""

    def __init__(self, x_shape, pads, Hp, Wb, dtype):
        self.shape, self.pads, self.Hp, self.Wb = tuple(x_shape), pads, Hp, Wb
        self.dtype, self.local = dtype, threading.local()
        self.none = (Hp, Wb) == tuple(x_shape[2:])
        #: bytes of the buffer each calling thread keeps
        self.nbytes = 0 if self.none else (
            x_shape[0] * x_shape[1] * Hp * Wb * np.dtype(dtype).itemsize)

    def __call__(self, x):
        if self.none:
            return np.ascontiguousarray(x, self.dtype).reshape(-1)
        xp = getattr(self.local, "xp", None)
        if xp is None:
            xp = self.local.xp = np.zeros(self.shape[:2] + (self.Hp, self.Wb), self.dtype)
        (pt, _), (pl, _) = self.pads
        H, W = self.shape[2:]
        xp[:, :, pt:pt + H, pl:pl + W] = x
        return xp.reshape(-1)


def _parts(n, fmas):
    return 2 if fmas * n >= PARALLEL_MIN_FMAS and n >= 2 else 1


class _Generated:
    """A generated kernel's source and work; compiled on first use (:attr:`kernel`)."""

    def _generated(self, src, N):
        self.parts = _parts(N, src.fmas)
        self.fmas = src.fmas * N  # vector multiply-adds per call
        self.source = src.text(self.parts)
        self._kernel = None

    @property
    def kernel(self):
        if self._kernel is None:
            self._kernel = kernel_for(self.source)
        return self._kernel


class Correlation(_Generated):
    """``y = correlate(pad(x), w') (+ b) (relu)``: a conv forward (``flip=False``, ``w``
    of shape ``(Co, Ci, R, S)``) or a stride-1 transposed conv (``flip=True``, ``w`` of
    shape ``(Ci, Co, R, S)`` as ``conv_transpose`` takes it, ``pads`` its full padding
    ``R - 1 - p``). ``x (N, Ci, H, W)`` -> ``y (N, Co, OH, OW)``; a forward may have a
    ``stride``."""

    def __init__(self, x_shape, w_shape, pads, dtype, flip=False, bias=False, relu=False,
                 stride=(1, 1)):
        N, Ci, H, W = x_shape
        Co = w_shape[1] if flip else w_shape[0]
        R, S = w_shape[2:]
        (pt, pb), (pl, pr) = pads
        Hp, Wp = H + pt + pb, W + pl + pr
        sh, sw = stride
        OH, OW = (Hp - R) // sh + 1, (Wp - S) // sw + 1
        L = LANES[np.dtype(dtype).name]
        args = (N, Ci, Co, Hp, None, R, S, OH, OW, L, flip, bias, relu)
        if tuple(stride) == (1, 1) and _lanes_for(Co, OW, Ci * R * S, L) == "width" \
                and _width_blocks(Co, OH, len(_starts(OW, L)), pt, H, R) is not None:
            self.scheme = "width"
            Wb = max(Wp, _starts(OW, L)[-1] + L + S - 1)
            src = _correlate_width(*args[:4], Wb, *args[5:], pt, H)
        else:  # (strided rows: channel lanes, which read scalars anywhere)
            self.scheme, Wb = "channels", Wp
            src = _correlate_channels(*args[:4], Wb, *args[5:], pt, H, tuple(stride))
        self._generated(src, N)
        self.pad = _Padder(x_shape, pads, Hp, Wb, dtype)
        self.out_shape = (N, Co, OH, OW)
        self.dtype = np.dtype(dtype)

    def __call__(self, x, w, b=None):
        xp = self.pad(x)
        wf = np.ascontiguousarray(w, self.dtype).reshape(-1)
        bf = wf if b is None else np.ascontiguousarray(b, self.dtype).reshape(-1)
        y = np.empty(self.out_shape, self.dtype)
        self.kernel(xp, wf, bf, y.reshape(-1))
        return y


class WeightGrad(_Generated):
    """``dw (Co, Ci, R, S)`` of a conv (of ``stride``) from ``x (N, Ci, H, W)`` and the
    output gradient ``g (N, Co, OH, OW)``."""

    def __init__(self, x_shape, g_shape, kernel_size, pads, dtype, stride=(1, 1)):
        N, Ci, H, W = x_shape
        Co, OH, OW = g_shape[1:]
        R, S = kernel_size
        (pt, pb), (pl, pr) = pads
        Hp, Wp = H + pt + pb, W + pl + pr
        L = LANES[np.dtype(dtype).name]
        args = (N, Ci, Co, Hp, Wp, R, S, OH, OW, L)
        if tuple(stride) == (1, 1) and OW >= L and _lanes_for(Co, OW, Ci * R * S, L) == "width":
            self.scheme, src = "width", _wgrad_width(*args)
        else:
            self.scheme, src = "channels", _wgrad_channels(*args, tuple(stride))
        self._generated(src, N)
        self.pad = _Padder(x_shape, pads, Hp, Wp, dtype)
        self.out_shape = (Co, Ci, R, S)
        self.dtype = np.dtype(dtype)

    def __call__(self, x, g):
        xp = self.pad(x)
        gf = np.ascontiguousarray(g, self.dtype).reshape(-1)
        dw = np.empty(self.out_shape, self.dtype)
        self.kernel(xp, gf, dw.reshape(-1))
        return dw
