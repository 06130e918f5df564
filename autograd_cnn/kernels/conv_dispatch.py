"""Array-level entry points of the convolution family, with the algorithm choice.

Three operations close the family under differentiation (see ``ops/conv.py``):

- :func:`conv_forward` ``(x, w) -> y``: cross-correlation, x (N, C, *S), w (O, C/g, *K);
- :func:`conv_transpose_forward` ``(y, w) -> x``: its adjoint (the input gradient);
- :func:`conv_weight_grad` ``(x, g) -> dw``: the weight gradient, a correlation of x
  with g;

plus :func:`unfold` / :func:`fold` (im2col and its adjoint col2im).

Algorithms (``algorithm=``): ``"im2col"`` (Numba im2col into a reused GEMM-ready buffer,
then BLAS GEMM, batch processed in blocks so the buffer stays under
:data:`BLOCK_ELEMENTS`), ``"gemm"`` (1x1 kernels, stride 1, no padding: the conv *is* a
GEMM), ``"direct"`` (Numba loops; best for depthwise and small-group convs; one-group
stride-1 convs run the register-blocked loops of :mod:`~autograd_cnn.kernels.conv_small`),
``"winograd"`` (F(2x2, 3x3) for 3x3 stride-1 convs and their transposes,
:mod:`~autograd_cnn.kernels.winograd`), ``"fft"`` (forward convs with stride 1 and no
dilation; large kernels; :mod:`~autograd_cnn.kernels.conv_fft`), ``"reference"`` (the
NumPy oracle) and ``"auto"`` (chosen per shape, from measurements recorded in
docs/performance.md and benchmarks/results_conv.md; the FFT only where it is accurate).

Threads (:mod:`~autograd_cnn.kernels.threads`): the GEMM paths split the batch into two
parts run at once on Python threads with single-threaded BLAS, mid-sized direct convs
run their serial kernels the same way, and only big direct convs use Numba's parallel
builds. The split depends on the shapes alone, so results never depend on the number
of threads (tested bitwise).

Spatial dims 1-3 run through the same 5-D kernels (leading singleton dims are added),
the reference handles any number of spatial dims.
"""

from __future__ import annotations

import math
import os
import threading

import numpy as np

from ..errors import InvalidArgumentError, OutputTooLargeError
from . import conv_reference as ref
from . import threads as _threads  # sets OMP_WAIT_POLICY (before any parallel call)
from .conv_fft import FFT_MAX_RANGE, _all_finite, _conv_fft, fft_is_accurate  # noqa: F401
from .conv_shapes import (  # noqa: F401  (shape helpers, part of this module's interface)
    _as5,
    _float_dtype,
    _half_in_float32,
    _pad5,
    _t3,
    conv_out_shape,
    out_size,
    transpose_out_shape,
)
from .threads import _blas_controllers, _limits  # noqa: F401  (re-exported for tests)

ALGORITHMS = ("auto", "im2col", "gemm", "direct", "fft", "winograd", "reference")

#: ``auto`` uses the FFT for stride-1, undilated convs with kernels of at least this many
#: taps (the direct/GEMM cost grows with the kernel, the FFT's does not).
FFT_MIN_TAPS = 81

#: Largest number of elements an op of the conv family may produce; bigger outputs are
#: refused before anything is allocated. Set with :func:`set_max_output_elements` or the
#: ``AUTOGRAD_CNN_MAX_OUTPUT_ELEMENTS`` environment variable.
MAX_OUTPUT_ELEMENTS = int(os.environ.get("AUTOGRAD_CNN_MAX_OUTPUT_ELEMENTS", 2**31))

#: GEMMs with at most this many rows (output channels per group) run one per sample,
#: straight into the output (a wide GEMM with so few rows is slow and needs a transpose).
THIN_GEMM_ROWS = 64

#: Upper bound of the im2col buffer (elements); the batch is processed in blocks of
#: samples so that the column matrix of one block fits (a single sample may exceed it).
BLOCK_ELEMENTS = 1 << 20


def set_max_output_elements(n: int) -> int:
    """Set the output element cap of the conv family; returns the previous value."""
    global MAX_OUTPUT_ELEMENTS
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidArgumentError(
            f"set_max_output_elements(): n must be a positive int, got {n!r}")
    prev, MAX_OUTPUT_ELEMENTS = MAX_OUTPUT_ELEMENTS, int(n)
    return prev


def check_output_size(shape, what: str):
    """Raise :class:`OutputTooLargeError` when ``shape`` has more elements than the cap."""
    size = math.prod(shape)
    if size > MAX_OUTPUT_ELEMENTS:
        raise OutputTooLargeError(
            f"{what}: the output would have shape {tuple(shape)} = {size} elements, over the "
            f"cap of {MAX_OUTPUT_ELEMENTS} (set autograd_cnn.kernels.conv_dispatch."
            "set_max_output_elements or AUTOGRAD_CNN_MAX_OUTPUT_ELEMENTS to raise it)"
        )


# ---- helpers ---------------------------------------------------------------------------

_local = threading.local()


def _buffer(name: str, size: int, dtype) -> np.ndarray:
    """A flat, reused scratch buffer of at least ``size`` elements (per thread, dtype)."""
    cache = getattr(_local, "bufs", None)
    if cache is None:
        cache = _local.bufs = {}
    key = (name, np.dtype(dtype).str)
    buf = cache.get(key)
    if buf is None or buf.size < size:
        buf = np.empty(max(size, 1), dtype=dtype)
        # keep only buffers of a sane size alive between calls
        if size <= 2 * BLOCK_ELEMENTS:
            cache[key] = buf
    return buf[:size]


def channel_rows(a3, n0, b, buf):
    """Samples ``[n0, n0 + b)`` of ``a3 (N, O, Q)`` as one ``(O, b * Q)`` matrix: a view
    for one sample, else a channel-major copy into ``buf`` (a flat scratch buffer of at
    least ``O * b * Q`` elements)."""
    if b == 1:
        return a3[n0]
    o, q = a3.shape[1:]
    rows = buf[: o * b * q].reshape(o, b, q)
    rows[...] = a3[n0:n0 + b].transpose(1, 0, 2)
    return rows.reshape(o, b * q)


def choose_algorithm(kind, x_shape, w_shape, stride, padding, groups, dilation=None,
                     allow_fft=True) -> str:
    """The measured choice (benchmarks/results_conv.md): GEMM for 1x1/stride 1/no padding;
    the FFT for stride-1 undilated forward convs of at least :data:`FFT_MIN_TAPS` taps
    (``allow_fft``; :func:`conv_forward` then checks that it is accurate on the data, see
    :func:`fft_is_accurate`);
    direct loops for grouped convs with few channels per group (depthwise) and for convs
    whose GEMM would have a tiny inner dimension C/groups * prod(K) <= 32 (LeNet's first
    layer: 1 channel, 5x5; its weight gradient runs the register-blocked loops of
    :mod:`~autograd_cnn.kernels.conv_small`), except their forward with one group when
    the fused im2col+GEMM kernel serves it (:func:`_thin_forward_is_fused`); im2col +
    GEMM for the rest."""
    k = math.prod(w_shape[2:])
    cg = w_shape[1]
    og = w_shape[0] // groups
    dilation = dilation or (1,) * len(stride)
    if k == 1 and all(s == 1 for s in stride) and not any(lo or hi for lo, hi in padding):
        return "gemm"
    if (kind == "conv" and allow_fft and k >= FFT_MIN_TAPS and all(s == 1 for s in stride)
            and all(d == 1 for d in dilation)):
        return "fft"
    if (groups > 1 and cg * og <= 64) or cg * k <= 32:
        if kind == "conv" and groups == 1 and _thin_forward_is_fused(
                x_shape, w_shape, stride, padding, dilation):
            return "im2col"
        return "direct"
    if (kind != "conv_weight_grad" and _winograd_fits(kind, w_shape, stride, padding, groups,
                                                       dilation)
            and min(cg, og) >= WINOGRAD_MIN_CHANNELS
            and all(s >= WINOGRAD_MIN_SIZE for s in x_shape[2:])):
        return "winograd"
    return "im2col"


def _thin_forward_is_fused(x_shape, w_shape, stride, padding, dilation) -> bool:
    """Whether the forward of a thin conv (one group) runs the fused im2col+GEMM kernel,
    which ``auto`` then prefers to the direct loops. Measured on LeNet's first conv
    (64 x 1x28x28, 6 filters 5x5, pad 2), one thread: fused 0.27 ms, register-blocked
    direct (:mod:`~autograd_cnn.kernels.conv_small`) 0.22 ms, the old direct loops 0.50
    ms; the fused kernel is compiled anyway for the next layers, the direct one would
    add 1.4 s to a new user's first training step (cold start limit: 5 s)."""
    q = conv_out_shape(x_shape, w_shape, stride, padding,
                       dilation or (1,) * len(stride))[2:]
    if min(q, default=1) < 1:
        return False
    return _fused(1, w_shape[0], w_shape[1] * math.prod(w_shape[2:]) * math.prod(q))


#: ``auto`` takes Winograd F(2x2, 3x3) for 3x3 stride-1 convs with at least this many
#: input and output channels and images of at least WINOGRAD_MIN_SIZE per side (below,
#: the 16 GEMMs are too thin to beat one im2col GEMM). Shape c (64 channels, 56x56):
#: forward 12.9 ms vs 20.1 ms with im2col, transposed 13.5 vs 17.2 (one thread each).
WINOGRAD_MIN_CHANNELS = 16
WINOGRAD_MIN_SIZE = 8


def _winograd_fits(kind, w_shape, stride, padding, groups, dilation) -> bool:
    from . import winograd

    ok = winograd.applies(None, w_shape, stride, dilation, groups)
    if kind == "conv_transpose":  # computed as a conv with padding 2 - p
        ok = ok and all(lo <= 2 and hi <= 2 for lo, hi in padding)
    return ok


def _check_alg(algorithm, kind, x_shape, w_shape, stride, padding, groups, dilation=None):
    if algorithm not in ALGORITHMS:
        raise InvalidArgumentError(f"algorithm: expected one of {ALGORITHMS}, got {algorithm!r}")
    if (algorithm == "fft" and kind != "conv") or (algorithm == "winograd"
                                                   and kind == "conv_weight_grad"):
        # the FFT path serves the forward conv, Winograd the conv and its transpose; the
        # other gradients use the measured choice
        algorithm = "auto"
    if algorithm == "winograd" and not _winograd_fits(kind, w_shape, stride, padding, groups,
                                                      dilation):
        raise InvalidArgumentError(
            f"algorithm: 'winograd' needs a 2-D 3x3 kernel, stride 1, dilation 1, groups 1 "
            f"(and padding <= 2 when transposed), got kernel {tuple(w_shape[2:])}, stride "
            f"{tuple(stride)}, dilation {tuple(dilation or ())}, groups {groups}, padding "
            f"{tuple(padding)}")
    if algorithm == "auto":
        return choose_algorithm(kind, x_shape, w_shape, stride, padding, groups, dilation)
    if algorithm == "gemm" and not (
        math.prod(w_shape[2:]) == 1
        and all(s == 1 for s in stride)
        and not any(lo or hi for lo, hi in padding)
    ):
        raise InvalidArgumentError(
            "algorithm: 'gemm' needs a 1x1 kernel, stride 1 and no padding, got kernel "
            f"{tuple(w_shape[2:])}, stride {tuple(stride)}, padding {tuple(padding)}"
        )
    if algorithm == "fft" and not (all(s == 1 for s in stride)
                                   and all(d == 1 for d in (dilation or ()))):
        raise InvalidArgumentError(
            f"algorithm: 'fft' needs stride 1 and dilation 1, got stride {tuple(stride)}, "
            f"dilation {tuple(dilation or ())}")
    return algorithm


#: The im2col path of thin convs (one group, at most THIN_GEMM_ROWS output channels)
#: whose column matrix of one sample has at most this many elements runs the fused
#: per-sample kernels ``im2col_gemm`` / ``gemm_col2im`` / ``im2col_gemm_wgrad`` (the
#: matrix stays in cache, no Python call per sample; measured on shape b: forward 0.41
#: -> 0.35 ms, transposed 0.49 -> 0.40, weight gradient 0.46 -> 0.39).
FUSED_MAX_COLS = 1 << 16

#: The fused transposed conv of stride 1 runs on the padded-width grid
#: (``conv_small.gemm_col2im_flat``) when that grid has at most this many times the
#: output positions (its GEMM is that much wider).
FLAT_MAX_WIDENING = 1.4


def numba_has_blas() -> bool:
    """Whether Numba can call BLAS from compiled code (``np.dot`` in nopython mode needs
    SciPy's BLAS bindings). Without SciPy the fused im2col+GEMM kernels are not used and
    convolutions take the im2col + NumPy GEMM path instead."""
    global _NUMBA_BLAS
    if _NUMBA_BLAS is None:
        import importlib.util

        _NUMBA_BLAS = importlib.util.find_spec("scipy") is not None
    return _NUMBA_BLAS


_NUMBA_BLAS = None


def _fused(groups, og, cols_per_sample) -> bool:
    return (groups == 1 and og <= THIN_GEMM_ROWS and cols_per_sample <= FUSED_MAX_COLS
            and numba_has_blas())


def _sample_parts(n):
    """[(a, b)] sample ranges, one per part (threads.PARTS), for run_blocks."""
    parts = max(1, min(n, _threads.PARTS))
    return [(i * n // parts, (i + 1) * n // parts) for i in range(parts)]


def _direct_in_parts(n, a5, b5, call, kernel):
    """Run a direct kernel over the batch: ``call(k, a, b)`` runs kernel build ``k`` on
    samples [a, b); a5, b5 are the batched input and output (their sizes decide). Calls
    big enough for the parallel twin (the conv dispatcher's
    :func:`~autograd_cnn.kernels.threads._limits` left Numba more than one thread) run
    it on each part of the batch in turn; smaller ones run the *serial* build on the
    parts at once on Python threads (no parallel kernel to compile: LeNet's first conv
    about 2x faster at no compile cost). Tiny calls run in one piece. Returns the
    parts' results in order."""
    import numba

    parts = _direct_parts(n, a5, b5)
    if numba.get_num_threads() > 1:  # _limits kept the pool: the parallel twin per part
        return [call(kernel.parallel, a, b) for a, b in parts]
    if len(parts) == 1:
        return [call(kernel.serial, 0, n)]
    return _threads.run_blocks(parts, lambda part: call(kernel.serial, *part[0]))


def _direct_parts(n, a5, b5):
    """The sample ranges a direct kernel runs on: :func:`_sample_parts` for calls moving
    (batched input a5 + output b5) at least :data:`SPLIT_MIN_ELEMENTS`, one piece
    otherwise. The split depends on the shapes only (a weight gradient sums the parts'
    results, so its rounding follows the split): results never depend on the thread
    count."""
    if n >= 2 and a5.size + b5.size >= SPLIT_MIN_ELEMENTS:
        return _sample_parts(n)
    return [(0, n)]


#: Direct convs moving fewer elements (batched input + output) run in one piece.
SPLIT_MIN_ELEMENTS = 1 << 16


def _sum_in_order(parts):
    """parts[0] + parts[1] + ... (in place in parts[0]), a fixed order."""
    total = parts[0]
    for p in parts[1:]:
        total += p
    return total


def _blocks(n, per_sample):
    """Blocks (n0, size) of samples whose column matrix fits BLOCK_ELEMENTS, at least
    ``threads.PARTS`` of them (when n allows) so that run_blocks can split them."""
    nb = max(1, min(n, BLOCK_ELEMENTS // max(per_sample, 1), -(-n // _threads.PARTS)))
    return [(n0, min(nb, n - n0)) for n0 in range(0, n, nb)], nb


# ---- forward ---------------------------------------------------------------------------


def _work(x_shape, w_shape, q_shape):
    """(elements moved by im2col/col2im, GEMM flops) of one conv-family call."""
    n = x_shape[0]
    kk = math.prod(w_shape[2:])
    q = math.prod(q_shape)
    return n * x_shape[1] * kk * q, 2.0 * n * w_shape[0] * w_shape[1] * kk * q


@_half_in_float32
def conv_forward(x, w, stride, padding, dilation, groups, algorithm="auto"):
    """Cross-correlation y (N, O, *Q) of x (N, C, *S) with w (O, C/groups, *K)."""
    q = conv_out_shape(x.shape, w.shape, stride, padding, dilation)[2:]
    check_output_size((x.shape[0], w.shape[0]) + tuple(q), "conv")
    alg = _check_alg(algorithm, "conv", x.shape, w.shape, stride, padding, groups, dilation)
    if alg == "fft" and algorithm == "fft" and not _all_finite(x, w):
        import warnings

        # a NaN or inf would spread over the whole output: keep it in its receptive field
        warnings.warn("conv: algorithm='fft' needs finite inputs (one NaN or inf would make "
                      "the whole output NaN); computing this call directly instead",
                      RuntimeWarning, stacklevel=4)
        alg = choose_algorithm("conv", x.shape, w.shape, stride, padding, groups, dilation,
                               allow_fft=False)
    elif alg == "fft" and algorithm != "fft" and not fft_is_accurate(x, w, padding):
        alg = choose_algorithm("conv", x.shape, w.shape, stride, padding, groups, dilation,
                               allow_fft=False)
    with _limits(*_work(x.shape, w.shape, q), alg):
        return _conv_forward(x, w, stride, padding, dilation, groups, alg)


def _conv_forward(x, w, stride, padding, dilation, groups, algorithm="auto"):
    """Cross-correlation y (N, O, *Q) of x (N, C, *S) with w (O, C/groups, *K)."""
    out_shape = conv_out_shape(x.shape, w.shape, stride, padding, dilation)
    check_output_size(out_shape, "conv")
    alg = _check_alg(algorithm, "conv", x.shape, w.shape, stride, padding, groups)
    dt = _float_dtype(x, w)
    x = x.astype(dt, copy=False)
    w = w.astype(dt, copy=False)
    if alg == "reference" or x.ndim - 2 > 3:
        return ref.conv_forward_ref(x, w, stride, padding, dilation, groups)
    if alg == "fft":
        return _conv_fft(x, w, padding, groups)
    if alg == "winograd":
        from . import winograd

        return winograd.conv2d(x, w, padding, _buffer)
    nd = x.ndim - 2
    n, c = x.shape[:2]
    o = w.shape[0]
    og, cg = o // groups, w.shape[1]
    q = math.prod(out_shape[2:])
    if alg == "gemm":
        x3 = x.reshape(n, c, math.prod(x.shape[2:]))
        y = np.empty((n, o, q), dt)
        w2 = w.reshape(o, cg)
        def run(part):  # samples [a, b): one GEMM per sample and group
            (a, b), = part
            for gi in range(groups):
                np.matmul(w2[gi * og:(gi + 1) * og], x3[a:b, gi * cg:(gi + 1) * cg],
                          out=y[a:b, gi * og:(gi + 1) * og])

        _threads.run_blocks(_sample_parts(n), run)
        return y.reshape(out_shape)
    s3, d3 = _t3(stride, 1), _t3(dilation, 1)
    k3 = _t3(w.shape[2:], 1)
    q3 = _t3(out_shape[2:], 1)
    w5 = _as5(w, nd)
    if alg == "direct":  # pads each plane privately: no padded copy of the input
        y = np.empty((n, o) + q3, dt)
        from . import conv_small
        from .conv_numba import conv_direct

        x5, p3 = _as5(x, nd), _t3(padding, (0, 0))
        if conv_small.applies(groups, s3, o):  # register-blocked loops
            return conv_small.forward(x5, w5, d3, p3, y).reshape(out_shape)
        _direct_in_parts(n, x5, y, lambda k, a, b: k(x5[a:b], w5, groups, s3, d3, p3,
                                                      y[a:b]), conv_direct)
        return y.reshape(out_shape)
    xp = _pad5(_as5(x, nd), _t3(padding, (0, 0)))
    # im2col + GEMM, in blocks of samples
    from .conv_numba import im2col

    kk = math.prod(k3)
    rows = c * kk
    if _fused(groups, og, rows * q):  # im2col and GEMM per sample, in one kernel call
        from .conv_numba import im2col_gemm

        y = np.empty((n, o, q), dt)
        w2 = np.ascontiguousarray(w.reshape(o, rows))

        def run_fused(part):
            (a, b), = part
            im2col_gemm(xp, a, b, w2, k3, s3, d3, q3, _buffer("cols", rows * q, dt), y)

        _threads.run_blocks(_sample_parts(n), run_fused)
        return y.reshape(out_shape)
    blocks, nb = _blocks(n, rows * q)
    y = np.empty((n, o, q), dt)
    w2 = w.reshape(o, cg * kk)

    def run(part):  # in its own thread: its own (thread-local) scratch buffers
        colbuf = _buffer("cols", rows * nb * q, dt)
        resbuf = _buffer("res", o * nb * q, dt) if nb > 1 else None
        for n0, b in part:
            cols = colbuf[: rows * b * q].reshape(rows, b, q)
            im2col(xp, n0, b, k3, s3, d3, q3, cols)
            if b > 1 and og <= THIN_GEMM_ROWS:
                # thin GEMMs (LeNet: 16 filters): one per sample straight into y beats one
                # wide GEMM + a transposed copy (0.33 vs 0.55 ms for LeNet's second conv)
                for gi in range(groups):
                    np.matmul(w2[gi * og:(gi + 1) * og],
                              cols[gi * cg * kk:(gi + 1) * cg * kk].transpose(1, 0, 2),
                              out=y[n0:n0 + b, gi * og:(gi + 1) * og])
                continue
            cols2 = cols.reshape(rows, b * q)
            # with one sample per block the GEMM writes straight into y
            res = y[n0] if b == 1 else resbuf[: o * b * q].reshape(o, b * q)
            for gi in range(groups):
                np.matmul(w2[gi * og:(gi + 1) * og], cols2[gi * cg * kk:(gi + 1) * cg * kk],
                          out=res[gi * og:(gi + 1) * og])
            if b > 1:
                y[n0:n0 + b] = res.reshape(o, b, q).transpose(1, 0, 2)

    _threads.run_blocks(blocks, run)
    return y.reshape(out_shape)


# ---- transposed conv (input gradient) ---------------------------------------------------


@_half_in_float32
def conv_transpose_forward(y, w, stride, padding, dilation, groups, output_padding,
                           algorithm="auto"):
    """Adjoint of :func:`conv_forward` (see :func:`_conv_transpose_forward`)."""
    x_shape = (y.shape[0], w.shape[1] * groups) + tuple(y.shape[2:])
    out_shape = transpose_out_shape(y.shape, w.shape, stride, padding, dilation, groups,
                                    output_padding)
    check_output_size(out_shape, "conv_transpose")
    alg = _check_alg(algorithm, "conv_transpose", out_shape, w.shape, stride, padding, groups,
                     dilation)
    if alg == "gemm" and any(output_padding):
        alg = "im2col"  # output_padding adds a zero border the GEMM does not produce
    with _limits(*_work(x_shape, w.shape, y.shape[2:]), alg):
        return _conv_transpose_forward(y, w, stride, padding, dilation, groups,
                                       output_padding, alg)


def _conv_transpose_forward(y, w, stride, padding, dilation, groups, output_padding,
                            algorithm="auto"):
    """Adjoint of :func:`conv_forward`: y (N, O, *Q), w (O, C/groups, *K) ->
    (N, C, *S) with S = (Q-1)*stride + dilation*(K-1) + 1 + output_padding - padding."""
    out_shape = transpose_out_shape(y.shape, w.shape, stride, padding, dilation, groups,
                                    output_padding)
    check_output_size(out_shape, "conv_transpose")
    alg = _check_alg(algorithm, "conv_transpose", out_shape, w.shape, stride, padding, groups)
    dt = _float_dtype(y, w)
    y = y.astype(dt, copy=False)
    w = w.astype(dt, copy=False)
    if alg == "reference" or y.ndim - 2 > 3:
        return ref.conv_transpose_ref(y, w, stride, padding, dilation, groups, output_padding)
    if alg == "winograd":
        from . import winograd

        return winograd.conv_transpose2d(y, w, padding, _buffer)
    nd = y.ndim - 2
    n, o = y.shape[:2]
    og, cg = o // groups, w.shape[1]
    c = cg * groups
    q = math.prod(y.shape[2:])
    if alg == "gemm" and not any(output_padding):
        y3 = y.reshape(n, o, q)
        x = np.empty((n, c, q), dt)
        w2 = w.reshape(o, cg)
        # contiguous W^T: numpy's batched matmul is far slower with a transposed view
        wts = [np.ascontiguousarray(w2[gi * og:(gi + 1) * og].T) for gi in range(groups)]

        def run(part):
            (a, b), = part
            for gi in range(groups):
                np.matmul(wts[gi], y3[a:b, gi * og:(gi + 1) * og],
                          out=x[a:b, gi * cg:(gi + 1) * cg])

        _threads.run_blocks(_sample_parts(n), run)
        return x.reshape(out_shape)
    if alg == "gemm":  # output_padding adds a zero border the GEMM does not produce
        alg = "im2col"
    s3, d3 = _t3(stride, 1), _t3(dilation, 1)
    k3 = _t3(w.shape[2:], 1)
    q3 = _t3(y.shape[2:], 1)
    op3 = _t3(output_padding, 0)
    full = tuple((qq - 1) * st + d * (k - 1) + 1 + op
                 for qq, st, d, k, op in zip(q3, s3, d3, k3, op3))
    pad3 = _t3(padding, (0, 0))
    crop = tuple(slice(lo, f - hi) for (lo, hi), f in zip(pad3, full))
    y5 = _as5(y, nd)
    w5 = _as5(w, nd)
    if alg == "direct":  # crops inside the kernel, from a private padded plane
        from . import conv_small
        from .conv_numba import conv_transpose_direct

        x = np.empty((n, c) + _t3(out_shape[2:], 1), dt)
        if (conv_small.applies(groups, s3, c)
                and conv_small.transpose_padding(k3, d3, pad3, op3) is not None):
            # as the forward conv of y with the flipped kernel (register-blocked loops)
            return conv_small.transpose(y5, w5, d3, pad3, op3, x).reshape(out_shape)
        _direct_in_parts(n, y5, x, lambda k, a, b: k(y5[a:b], w5, groups, s3, d3, pad3,
                                                      x[a:b]), conv_transpose_direct)
        return x.reshape(out_shape)
    xp = np.zeros((n, c) + full, dt)
    from .conv_numba import col2im

    kk = math.prod(k3)
    rows = c * kk
    blocks, nb = _blocks(n, rows * q)
    w2 = w.reshape(o, cg * kk)
    wts = [np.ascontiguousarray(w2[gi * og:(gi + 1) * og].T) for gi in range(groups)]
    y3 = y5.reshape(n, o, q)
    if _fused(groups, og, rows * q):  # GEMM and col2im per sample, in one kernel call
        from .conv_numba import gemm_col2im
        from .conv_small import gemm_col2im_flat

        # stride 1, on the padded-width grid (long runs to add) unless that grid makes the
        # GEMM much wider: LeNet's second conv (136 columns for 100) 0.78 -> 0.62 ms, shape
        # b (92 for 64) 0.40 -> 0.45 ms (load average 2, one thread)
        L = ((q3[0] - 1) * full[1] + q3[1] - 1) * full[2] + q3[2]
        flat = all(st == 1 for st in s3) and L <= FLAT_MAX_WIDENING * q

        def run_fused(part):
            (a, b), = part
            if flat:
                gemm_col2im_flat(y3, a, b, wts[0], k3, d3, q3, np.zeros(o * L, dt),
                                 _buffer("cols", rows * L, dt), xp)
                return
            gemm_col2im(y3, a, b, wts[0], k3, s3, d3, q3, _buffer("cols", rows * q, dt), xp)

        _threads.run_blocks(_sample_parts(n), run_fused)
        return np.ascontiguousarray(xp[(slice(None), slice(None)) + crop]).reshape(out_shape)

    def run(part):  # in its own thread: its own scratch buffers, its own samples of xp
        colbuf = _buffer("cols", rows * nb * q, dt)
        ytbuf = _buffer("yt", o * nb * q, dt) if nb > 1 else None
        for n0, b in part:
            if b > 1 and og <= THIN_GEMM_ROWS:  # as in the forward: per-sample GEMMs
                cols = colbuf[: rows * b * q].reshape(rows, b, q)
                for gi in range(groups):
                    np.matmul(wts[gi], y3[n0:n0 + b, gi * og:(gi + 1) * og],
                              out=cols[gi * cg * kk:(gi + 1) * cg * kk].transpose(1, 0, 2))
                col2im(cols, b, k3, s3, d3, q3, xp[n0:n0 + b])
                continue
            yt = channel_rows(y3, n0, b, ytbuf)
            cols = colbuf[: rows * b * q].reshape(rows, b * q)
            for gi in range(groups):
                np.matmul(wts[gi], yt[gi * og:(gi + 1) * og],
                          out=cols[gi * cg * kk:(gi + 1) * cg * kk])
            col2im(cols.reshape(rows, b, q), b, k3, s3, d3, q3, xp[n0:n0 + b])

    _threads.run_blocks(blocks, run)
    x = xp[(slice(None), slice(None)) + crop]
    return np.ascontiguousarray(x).reshape(out_shape)


# the weight gradient and unfold/fold live in their own modules (file size); their public
# functions are part of this module's interface
from .conv_unfold import fold, unfold  # noqa: E402,F401
from .conv_wgrad import _conv_weight_grad, conv_weight_grad  # noqa: E402,F401
