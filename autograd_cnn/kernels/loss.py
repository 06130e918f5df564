"""Serial Numba kernels for the loss side of a classifier's step: ``log_softmax`` over
the class axis, its gradient, ``nll_loss`` and ``nll_loss_backward``.

At LeNet-5's sizes (batch 64, 10 classes) these ops are a few hundred flops each, and
their NumPy compositions spend nearly all their time in the dozen NumPy calls (and the
temporaries) each one makes: 15-100 us per call in a compiled step. One pass of a small
loop does each in 1-3 us, most of it Numba's argument unboxing.

Only the common case is served here: ``x: (N, C)`` C-contiguous float32/float64,
``target: (N,)`` int64, ``weight: (C,)`` of ``x``'s dtype. The ops in
:mod:`autograd_cnn.ops` check those conditions (:func:`rows_2d`) and otherwise run their
NumPy code, which stays the reference the kernels are tested against. By default the
kernels serve ``ac.compile``'s programs only (:data:`EAGER`): eager code keeps the NumPy
path, and with it a cold first step without these compiles.

Semantics are those of the NumPy code, operation for operation: the same arithmetic in
the array's dtype (a float32 step computes in float32), a NaN making its row NaN,
ignored rows weighing ``weight[0] * 0`` (so a NaN/inf ``weight[0]`` makes a ``'mean'``
NaN, as in the NumPy code). Sums run in index order (serial, deterministic);
they may differ from NumPy's pairwise sums by rounding only. The kernels do not raise:
an out-of-range target makes them return its row, and the caller runs the NumPy code,
which raises the error with its message.

Nothing is compiled at import: each kernel compiles on its first call (per dtype) and is
cached on disk. ``error_model="numpy"`` makes a division by zero give inf/NaN instead of
raising (the all-ignored ``'mean'`` is 0/0 = NaN).
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np
from numba import njit

#: Set to False (or ``AUTOGRAD_CNN_LOSS_KERNELS=0``) to route every call to the NumPy
#: code (tests compare the two).
ENABLED = os.environ.get("AUTOGRAD_CNN_LOSS_KERNELS", "1") != "0"

#: Whether eager code uses the kernels too (``AUTOGRAD_CNN_LOSS_KERNELS=eager``). By
#: default only ``ac.compile``'s programs do (:func:`compiled_run`): compiling the four
#: kernels costs ~0.85 s on an empty Numba cache, which a compile step absorbs but which
#: would push an eager script's cold first step past its 5 s budget, for ~0.18 ms a step.
EAGER = os.environ.get("AUTOGRAD_CNN_LOSS_KERNELS") == "eager"

_RUN = threading.local()


@contextlib.contextmanager
def compiled_run():
    """Inside: the kernels serve this thread's calls (a compiled program's run)."""
    before = getattr(_RUN, "on", False)
    _RUN.on = True
    try:
        yield
    finally:
        _RUN.on = before


def active() -> bool:
    """Whether calls from this thread take the kernels' path now."""
    return ENABLED and (EAGER or getattr(_RUN, "on", False))

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_I64 = np.dtype(np.int64)
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

#: reduction name -> the kernels' code
REDUCTION_CODES = {"none": 0, "mean": 1, "sum": 2}


def is_float(a) -> bool:
    """Whether ``a`` is an ndarray of native float32 or float64."""
    if type(a) is not np.ndarray:
        return False
    dt = a.dtype
    return dt is _F32 or dt is _F64 or dt == _F32 or dt == _F64


def _plain(a):
    """``a`` if it is C-contiguous, aligned and writeable, else a C-contiguous copy: Numba
    types read-only and unaligned arrays apart, and each type is one more compile."""
    return a if a.flags.carray else np.array(a, order="C")


def rows_2d(a):
    """``a`` (see :func:`_plain`) when it is a C-contiguous 2-D float32/float64 ndarray, the
    kernels' input, else None; None also when they are not :func:`active`."""
    if not (active() and is_float(a) and a.ndim == 2 and a.flags.c_contiguous):
        return None
    return _plain(a)


def class_targets(target, n: int, ignore_index: int):
    """``target`` as a plain int64 ``(n,)`` array, or None when the kernels cannot take it
    (another shape, a non-integer dtype, an ``ignore_index`` beyond int64)."""
    if type(target) is not np.ndarray or target.ndim != 1 or target.shape[0] != n:
        return None
    if not _INT64_MIN <= ignore_index <= _INT64_MAX:
        return None
    if target.dtype is not _I64:
        if target.dtype.kind not in "iu":
            return None
        return np.array(target, dtype=np.int64, order="C")  # as the NumPy code's astype
    return _plain(target)


# ---- kernels -------------------------------------------------------------------------
# Outputs are allocated by the caller and written in place: a kernel that returns arrays
# (or a tuple) compiles about twice as long and is slower to call (boxing).


@njit(cache=True, nogil=True, error_model="numpy")
def log_softmax_rows(x, out):
    """``out = x - max - log(sum(exp(x - max)))`` along the rows of ``x, out: (N, C)``,
    ``C >= 1``. A NaN in a row makes the row NaN (through the sum, whatever the maximum
    skipped), as in the NumPy code, whose ``np.max`` is NaN."""
    N, C = x.shape
    for i in range(N):
        m = x[i, 0]
        for j in range(1, C):
            if x[i, j] > m:
                m = x[i, j]
        s = np.exp(x[i, 0] - m)
        for j in range(1, C):
            s += np.exp(x[i, j] - m)
        lse = np.log(s)
        for j in range(C):
            out[i, j] = (x[i, j] - m) - lse


@njit(cache=True, nogil=True, error_model="numpy")
def log_softmax_grad_rows(g, y, out):
    """``out = g - exp(y) * sum(g)`` along the rows of ``g, y, out: (N, C)``, ``C >= 1``."""
    N, C = g.shape
    for i in range(N):
        s = g[i, 0]
        for j in range(1, C):
            s += g[i, j]
        for j in range(C):
            out[i, j] = g[i, j] - np.exp(y[i, j]) * s


@njit(cache=True, nogil=True, error_model="numpy")
def nll_forward(logp, target, weight, has_weight, ignore_index, reduction, out):
    """Per-row losses ``-w_i logp[i, t_i]`` (0 on ignored rows) or their reduction, into
    ``out``; returns the first row whose target is out of range, or -1.

    ``logp: (N, C)``, ``target: (N,)`` int64, ``weight: (C,)`` (read only when
    ``has_weight``; any array of ``logp``'s dtype otherwise). ``reduction``: 0 none
    (``out: (N,)``), 1 mean (the sum over the sum of the row weights), 2 sum (``out:
    (1,)``)."""
    N, C = logp.shape
    zero = logp.dtype.type(0)
    total = zero
    wsum = zero
    for i in range(N):
        t = target[i]
        if t == ignore_index:
            # an ignored row weighs weight[0] * 0 (NaN if weight[0] is): the NumPy rule
            w = weight[0] * zero if has_weight else zero
            v = zero
        elif t < 0 or t >= C:
            return i
        else:
            w = weight[t] if has_weight else logp.dtype.type(1)
            v = -logp[i, t] * w
        if reduction == 0:
            out[i] = v
        else:
            total += v
            wsum += w
    if reduction != 0:
        # 'mean' of all-ignored rows: 0/0 = NaN (error_model="numpy")
        out[0] = total / wsum if reduction == 1 else total
    return -1


@njit(cache=True, nogil=True, error_model="numpy")
def nll_backward(g, target, weight, has_weight, ignore_index, reduction, out):
    """The gradient of :func:`nll_forward` wrt ``logp`` into ``out: (N, C)`` (zeros on
    entry): ``-w_i * g_i`` at ``[i, t_i]`` (at ``[i, 0]`` on ignored rows, where ``w_i``
    is 0); returns the first row whose target is out of range, or -1.

    ``g: (N,)`` for reduction 0 (none), ``(1,)`` otherwise; for 'mean' it is divided by
    the sum of the row weights, and a zero sum leaves the gradient zero."""
    N, C = out.shape
    zero = g.dtype.type(0)
    wsum = zero
    for i in range(N):
        t = target[i]
        if t == ignore_index:
            if has_weight:
                wsum += weight[0] * zero
        elif t < 0 or t >= C:
            return i
        else:
            wsum += weight[t] if has_weight else g.dtype.type(1)
    scale = g[0]
    if reduction == 1:
        if wsum == 0:
            return -1
        scale = g[0] / wsum
    for i in range(N):
        gi = g[i] if reduction == 0 else scale
        t = target[i]
        if t == ignore_index:
            w = weight[0] * zero if has_weight else zero
            out[i, 0] = -w * gi
        else:
            w = weight[t] if has_weight else g.dtype.type(1)
            out[i, t] = -w * gi
    return -1


def kernels():
    """The Numba dispatchers of this module (for the cold-cache check in
    :mod:`autograd_cnn.kernels.jit`)."""
    return [log_softmax_rows, log_softmax_grad_rows, nll_forward, nll_backward]


# ---- the ops' fast paths (None: the caller runs its NumPy code) ----------------------

_DUMMY_WEIGHT = {_F32: np.ones(1, np.float32), _F64: np.ones(1, np.float64)}


def _weight_arg(weight, dtype, C):
    """``(weight, has_weight)`` for the kernels, or None when they cannot take it."""
    if weight is None:
        return _DUMMY_WEIGHT[_F32 if dtype == _F32 else _F64], False
    if type(weight) is not np.ndarray or weight.shape != (C,) or weight.dtype != dtype:
        return None
    return _plain(weight), True


def nll_loss_fast(logp, target, weight, ignore_index: int, reduction: str):
    """``nll_loss`` of ``logp: (N, C)`` by :func:`nll_forward`, or None when the inputs
    are not the kernel's case or a target is out of range (the NumPy code then raises).
    Returns ``(N,)`` for 'none', a 0-d array otherwise, in ``logp``'s dtype."""
    logp = rows_2d(logp)
    if logp is None:
        return None
    N, C = logp.shape
    code = REDUCTION_CODES.get(reduction)
    t = class_targets(target, N, ignore_index) if C and code is not None else None
    wa = None if t is None else _weight_arg(weight, logp.dtype, C)
    if wa is None:
        return None
    out = np.empty(N if code == 0 else 1, logp.dtype)
    if nll_forward(logp, t, wa[0], wa[1], ignore_index, code, out) >= 0:
        return None
    return out if code == 0 else out.reshape(())


def nll_loss_backward_fast(g, target, weight, ignore_index: int, reduction: str, shape):
    """``nll_loss_backward`` into ``shape == (N, C)`` by :func:`nll_backward`, or None as
    :func:`nll_loss_fast`. ``g``: ``(N,)`` for 'none', 0-d otherwise."""
    if not (active() and is_float(g) and len(shape) == 2):
        return None
    N, C = shape
    code = REDUCTION_CODES.get(reduction)
    if code is None or not C:
        return None
    if code == 0:
        if g.shape != (N,):
            return None
        g1 = _plain(g)
    elif g.ndim == 0:
        g1 = np.array(g, ndmin=1)  # a fresh (1,) array
    else:
        return None
    t = class_targets(target, N, ignore_index)
    wa = None if t is None else _weight_arg(weight, g.dtype, C)
    if wa is None:
        return None
    out = np.zeros((N, C), g.dtype)
    return None if nll_backward(g1, t, wa[0], wa[1], ignore_index, code, out) >= 0 else out


def log_softmax_fast(x, axis):
    """``log_softmax`` of ``x: (N, C)`` along its last axis by :func:`log_softmax_rows`,
    or None when ``x`` is not the kernel's case."""
    if axis == 1 or axis == -1:
        x = rows_2d(x)
        if x is not None and x.shape[1]:
            out = np.empty_like(x)
            log_softmax_rows(x, out)
            return out
    return None


def log_softmax_grad_fast(g, y, axis):
    """``g - exp(y) sum(g)`` along the last axis of ``g, y: (N, C)`` by
    :func:`log_softmax_grad_rows`, or None when they are not the kernel's case."""
    if axis == 1 or axis == -1:
        g, y = rows_2d(g), rows_2d(y)
        if (g is not None and y is not None and g.shape == y.shape and g.dtype == y.dtype
                and g.shape[1]):
            out = np.empty_like(g)
            log_softmax_grad_rows(g, y, out)
            return out
    return None
