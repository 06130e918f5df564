"""Mathematical convolution and correlation of N-d signals, Toeplitz and conv matrices.

Deep learning's "convolution" (:func:`autograd_cnn.functional.conv2d`) is a
cross-correlation. This module has the real thing, as the lecture notes define it:

    (f * h)[u] = sum_t f[t] h[u - t]          (convolution: commutative, associative)
    (h ** f)[u] = sum_t h[t] f[u + t]         (correlation = convolution with h flipped)

with SciPy's modes (``full``: every overlap, length n + m - 1; ``same``: centred, length
n; ``valid``: full overlaps only, length n - m + 1). All functions take tensors of any
number of dims (both operands with the same ndim) and are differentiable: they are built
on the conv primitive (direct) or on the ``fftconvolve`` primitive (FFT), whose VJPs are
again FFT convolutions.

>>> import autograd_cnn as ac
>>> ac.signal.convolve(ac.tensor([1.0, 2.0, 3.0]), ac.tensor([0.0, 1.0, 0.5])).numpy()
array([0. , 1. , 2.5, 4. , 1.5], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConvShapeError, InvalidArgumentError
from .kernels.conv_dispatch import check_output_size
from .ops import conv as _conv
from .ops.indexing import getitem
from .ops.movement import concatenate, flip, reshape
from .primitive import Primitive, register
from .tensor import Tensor, as_tensor

__all__ = ["convolve", "correlate", "fftconvolve", "toeplitz", "conv_matrix"]

_MODES = ("full", "same", "valid")


def _float(t) -> Tensor:
    t = as_tensor(t)
    if t.dtype.kind != "f":
        t = Tensor(t.numpy().astype(np.float64))
    return t


def _operands(a, v, mode, fn):
    a, v = _float(a), _float(v)
    if mode not in _MODES:
        raise InvalidArgumentError(f"{fn}: mode must be one of {_MODES}, got {mode!r}")
    if a.ndim != v.ndim or a.ndim == 0:
        raise ConvShapeError(
            f"{fn}: both operands must have the same number (>= 1) of dims, got shapes "
            f"{a.shape} and {v.shape}")
    if a.dtype != v.dtype:
        dt = np.result_type(a.dtype, v.dtype)
        a, v = a.astype(dt), v.astype(dt)
    if mode == "valid":
        if all(m >= n for n, m in zip(a.shape, v.shape)) and a.shape != v.shape:
            a, v = v, a  # convolution commutes: make the first operand the larger
        elif any(m > n for n, m in zip(a.shape, v.shape)):
            raise ConvShapeError(
                f"{fn}: mode 'valid' needs one operand at least as large as the other in every "
                f"dim, got shapes {a.shape} and {v.shape}")
    return a, v


def _mode_window(n, m, mode):
    """(start, length) of the ``mode`` part inside the full convolution, per dim."""
    if mode == "full":
        return 0, n + m - 1
    if mode == "same":
        return (m - 1) // 2, n
    return m - 1, n - m + 1


def convolve(a, v, mode: str = "full") -> Tensor:
    """True N-d convolution ``(a * v)[u] = sum_t a[t] v[u - t]`` (SciPy's
    ``signal.convolve`` semantics), differentiable in both operands.

    Parameters
    ----------
    a, v : Tensor or array-like
        Same number of dims (any); integer inputs are converted to float64.
    mode : {'full', 'same', 'valid'}
        Output shape ``n + m - 1``, ``n`` (centred like SciPy: the extra element of an
        even kernel falls at the start), or ``n - m + 1`` (the operands are swapped when
        ``v`` is the larger, since convolution commutes).

    Returns
    -------
    Tensor
        Computed as a cross-correlation (the conv primitive) with the flipped kernel.
    """
    a, v = _operands(a, v, mode, "convolve()")
    nd = a.ndim
    pads = []
    for n, m in zip(a.shape, v.shape):
        start, _ = _mode_window(n, m, mode)
        lo = m - 1 - start
        hi = {"full": m - 1, "same": m - 1 - lo, "valid": 0}[mode]
        pads.append((lo, hi))
    x = reshape(a, (1, 1) + a.shape)
    w = reshape(flip(v, tuple(range(nd))), (1, 1) + v.shape)
    y = _conv.conv(x, w, padding=tuple(pads), _fn="convolve")
    return reshape(y, y.shape[2:])


def correlate(a, v, mode: str = "full") -> Tensor:
    """Cross-correlation ``(a ** v)[k] = sum_n a[n + k] v[n]`` in SciPy's lag convention,
    i.e. ``convolve(a, flip(v), mode)``; differentiable."""
    a, v = _operands(a, v, "full", "correlate()")  # checks only: convolve swaps if needed
    return convolve(a, flip(v, tuple(range(v.ndim))), mode)


# ---- FFT convolution ----------------------------------------------------------------------


def _fft_shape(sa, sv):
    if len(sa) != len(sv):
        raise ConvShapeError(f"fftconvolve: operands {tuple(sa)} and {tuple(sv)} must have the "
                             "same number of dims")
    out = tuple(n + m - 1 for n, m in zip(sa, sv))
    check_output_size(out, "fftconvolve")
    return out


def _fft_impl(a, v):
    full = _fft_shape(a.shape, v.shape)
    dt = np.result_type(a, v)
    axes = tuple(range(a.ndim))
    fa = np.fft.rfftn(a, full, axes)
    fv = np.fft.rfftn(v, full, axes)
    return np.fft.irfftn(fa * fv, full, axes).astype(dt, copy=False)


def _crop(t, starts, lengths):
    return getitem(t, tuple(slice(s, s + n) for s, n in zip(starts, lengths)))


fftconvolve_p = register(Primitive("fftconvolve", _fft_impl, category="conv", shape=_fft_shape,
                                   doc="full N-d convolution by FFT"))
# y = a * v  =>  da[i] = sum_j g[j] v[j - i] = (g * flip v)[i + m - 1], symmetrically for v
fftconvolve_p.defvjp(
    lambda g, ans, a, v: _crop(fftconvolve_p(g, flip(v, tuple(range(v.ndim)))),
                               [m - 1 for m in v.shape], a.shape),
    lambda g, ans, a, v: _crop(fftconvolve_p(g, flip(a, tuple(range(a.ndim)))),
                               [n - 1 for n in a.shape], v.shape),
)


def fftconvolve(a, v, mode: str = "full") -> Tensor:
    """:func:`convolve` computed with FFTs (``numpy.fft``): ``O(N log N)`` instead of
    ``O(N M)``, worth it for large kernels. Same modes and result up to rounding;
    differentiable (its VJPs are FFT convolutions with the flipped operands)."""
    a, v = _operands(a, v, mode, "fftconvolve()")
    y = fftconvolve_p(a, v)
    if mode == "full":
        return y
    win = [_mode_window(n, m, mode) for n, m in zip(a.shape, v.shape)]
    return _crop(y, [s for s, _ in win], [n for _, n in win])


# ---- matrices -------------------------------------------------------------------------------


def toeplitz(h, n: int, mode: str = "full") -> Tensor:
    """The Toeplitz matrix ``H_n^h`` of the notes: ``H @ f == convolve(f, h, mode)`` for a
    signal ``f`` of length ``n``.

    Parameters
    ----------
    h : Tensor, (m,)
        The kernel.
    n : int
        Signal length.
    mode : {'full', 'same', 'valid'}
        Rows kept: (n + m - 1, n) for full (``H[i, j] = h[i - j]``, zero outside
        ``0 <= i - j < m``), (n, n) for same, (n - m + 1, n) for valid.

    Returns
    -------
    Tensor
        Differentiable in ``h`` (built by gathering from ``h``).

    >>> import autograd_cnn as ac
    >>> ac.signal.toeplitz(ac.tensor([1.0, 2.0]), 3).numpy().tolist()
    [[1.0, 0.0, 0.0], [2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]]
    """
    h = _float(h)
    if h.ndim != 1 or h.shape[0] < 1:
        raise ConvShapeError(f"toeplitz(): h must be a non-empty 1-D kernel, got shape {h.shape}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidArgumentError(f"toeplitz(): n must be a positive int, got {n!r}")
    if mode not in _MODES:
        raise InvalidArgumentError(f"toeplitz(): mode must be one of {_MODES}, got {mode!r}")
    m = h.shape[0]
    if mode == "valid" and n < m:
        raise ConvShapeError(f"toeplitz(): mode 'valid' needs n >= len(h), got n={n}, m={m}")
    i = np.arange(n + m - 1)[:, None]
    j = np.arange(n)[None, :]
    lag = i - j
    # index 0 of the padded kernel is a zero: every entry outside the band reads it
    idx = np.where((lag >= 0) & (lag < m), lag + 1, 0)
    hp = concatenate([Tensor(np.zeros(1, dtype=h.dtype)), h])
    start, length = _mode_window(n, m, mode)
    return getitem(hp, idx[start:start + length])


def conv_matrix(weight, input_shape, stride=1, padding=0, dilation=1, groups: int = 1,
                sparse: bool = False):
    """The matrix ``M`` of a conv layer: ``conv(x, weight).ravel() == M @ x.ravel()`` for
    one sample ``x`` of shape ``input_shape``.

    Parameters
    ----------
    weight : Tensor or array, (O, C / groups, *K)
    input_shape : tuple
        (C, *S) (or (1, C, *S)).
    stride, padding, dilation, groups
        As :func:`autograd_cnn.functional.conv2d` (padding: int, tuple, pairs, 'same',
        'valid').
    sparse : bool
        Return a ``scipy.sparse.csr_matrix`` (requires SciPy) instead of a dense array.

    Returns
    -------
    ndarray or scipy.sparse.csr_matrix
        (O * prod(Q), C * prod(S)). Its transpose maps output gradients to input
        gradients (the notes' ``E_{n-1} = W^T E_n``), i.e. it is the transposed conv.
    """
    w = np.asarray(weight.numpy() if isinstance(weight, Tensor) else weight)
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == w.ndim and shape[0] == 1:
        shape = shape[1:]
    nd = w.ndim - 2
    fn = "conv_matrix()"
    if len(shape) != nd + 1:
        raise ConvShapeError(f"{fn}: input_shape must be (C, *S) with {nd} spatial dims for "
                             f"weight {w.shape}, got {tuple(input_shape)}")
    st = _conv._ints(stride, nd, "stride", fn, 1)
    dil = _conv._ints(dilation, nd, "dilation", fn, 1)
    pads = _conv._padding(padding, nd, fn, shape[1:], w.shape[2:], st, dil)
    groups = _conv._groups(groups, fn)
    out = _conv._conv_shape((1,) + shape, w.shape, st, pads, dil, groups)
    o_n, cg = w.shape[:2]
    q, s, k = out[2:], shape[1:], w.shape[2:]
    n_out, n_in = o_n * math.prod(q), shape[0] * math.prod(s)
    check_output_size((n_out, n_in) if not sparse else (n_out,), fn)
    # one entry per (o, q, ci, k): input position q*stride + k*dilation - pad_low
    o = np.arange(o_n).reshape((-1,) + (1,) * (2 * nd + 1))
    ci = np.arange(cg).reshape((1,) + (1,) * nd + (-1,) + (1,) * nd)
    qs = [np.arange(q[i]).reshape((1,) + tuple(-1 if j == i else 1 for j in range(nd)) + (1,)
                                  + (1,) * nd) for i in range(nd)]
    ks = [np.arange(k[i]).reshape((1,) * (nd + 2) + tuple(-1 if j == i else 1
                                                          for j in range(nd)))
          for i in range(nd)]
    pos = [qs[i] * st[i] + ks[i] * dil[i] - pads[i][0] for i in range(nd)]
    full = (o_n,) + tuple(q) + (cg,) + tuple(k)
    valid = np.ones(full, dtype=bool)
    for p, size in zip(pos, s):
        valid &= (p >= 0) & (p < size)
    c = (o // (o_n // groups)) * cg + ci
    row = o
    for i in range(nd):
        row = row * q[i] + qs[i]
    col = c
    for i in range(nd):
        col = col * s[i] + pos[i]
    row = np.broadcast_to(row, full)[valid]
    col = np.broadcast_to(col, full)[valid]
    vals = np.broadcast_to(w.reshape((o_n,) + (1,) * nd + (cg,) + tuple(k)), full)[valid]
    if sparse:
        try:
            from scipy import sparse as sp
        except ImportError as e:  # pragma: no cover - scipy is installed in the test env
            raise InvalidArgumentError(f"{fn}: sparse=True needs SciPy") from e
        return sp.csr_matrix((vals, (row, col)), shape=(n_out, n_in))
    m = np.zeros((n_out, n_in), dtype=w.dtype)
    m[row, col] = vals
    return m
