"""Reductions and normalizing maps: sum, mean, var, std, max, min, logsumexp, softmax.

Every reduction takes ``dim`` (PyTorch) or ``axis`` (its NumPy alias), an int or a tuple,
and ``keepdim`` (``keepdims`` accepted too). ``max``/``min`` return values only (like
``torch.amax``/``numpy.max``); at ties the gradient is shared equally among the tied
elements, as ``torch.amax`` does.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..errors import ShapeError
from ..kernels import loss as _loss_kernels
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from . import movement as _movement
from ._common import normalize_axis, resolve_dim


def _reduced_shape(shape, axis, keepdims):
    if axis is None:
        return (1,) * len(shape) if keepdims else ()
    if keepdims:
        return tuple(1 if i in axis else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axis)


def _reduce_shape_rule(shape, axis=None, keepdims=False, **_):
    return _reduced_shape(shape, axis, keepdims)


def _expand_back(g: Tensor, x_shape, axis, keepdims) -> Tensor:
    """Gradient of a reduction, reshaped with kept dims and broadcast to the input."""
    if not keepdims:
        g = _movement.reshape(g, _reduced_shape(x_shape, axis, True))
    return _movement.broadcast_to(g, x_shape)


# ---- sum_to: the adjoint of broadcasting ---------------------------------------------


def _sum_to_impl(x, shape):
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(shape)


def _sum_to_shape(x_shape, shape):
    try:
        if tuple(np.broadcast_shapes(x_shape, shape)) == tuple(x_shape):
            return tuple(shape)
    except ValueError:
        pass
    raise ShapeError(f"sum_to(): shape {tuple(x_shape)} cannot be reduced to shape {shape}")


_sum_to = register(Primitive("sum_to", _sum_to_impl, category="reduce", shape=_sum_to_shape))
_sum_to.defvjp(lambda g, ans, x, shape: _broadcast_to(g, x.shape))


def _broadcast_to(g, shape):
    return _movement.broadcast_to(g, shape)


def sum_to(x, shape) -> Tensor:
    """Sum ``x`` down to ``shape`` (the reverse of broadcasting ``shape`` to ``x.shape``).

    Used by VJPs to undo broadcasting. Returns ``x`` itself when shapes already match.
    """
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return _sum_to(x, shape=shape)


# ---- sum / mean ----------------------------------------------------------------------

_sum = register(
    Primitive(
        "sum",
        lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
        category="reduce",
        shape=_reduce_shape_rule,
    )
).defvjp(lambda g, ans, x, axis, keepdims: _expand_back(g, x.shape, axis, keepdims))


def _count(shape, axis) -> int:
    return math.prod(shape) if axis is None else math.prod(shape[a] for a in axis)


def _mean_impl(x, axis, keepdims):
    n = _count(x.shape, axis)
    s = np.sum(x, axis=axis, keepdims=keepdims)
    if n == 0:
        return np.full(s.shape, np.nan, dtype=s.dtype)
    return s / s.dtype.type(n) if s.dtype.kind == "f" else s / n


_mean = register(
    Primitive("mean", _mean_impl, category="reduce", shape=_reduce_shape_rule)
).defvjp(
    lambda g, ans, x, axis, keepdims: _expand_back(g, x.shape, axis, keepdims)
    / _count_of(x, axis, g.dtype, floor=1)
)


def _count_of(x, axis, dtype, minus=0, floor=0):
    """``max(count - minus, floor)`` of ``x``'s reduced dims, as a value: a number when
    the shape is static, a ``numel`` node while tracing (so a graph with a symbolic
    batch divides by the batch it runs on)."""
    from ..tape import concrete
    from .elementwise import maximum
    from .logic import numel

    if concrete(x) is not None:
        return float(builtins.max(_count(x.shape, axis) - minus, floor))
    return maximum(numel(x, axis, dtype) - minus, float(floor))


def _reduce_args(x, dim, axis, keepdim, keepdims, fn):
    x = as_tensor(x)
    axes = normalize_axis(resolve_dim(dim, axis, fn), x.ndim, "dim")
    # ``dim=()`` reduces over every dim, as in PyTorch (NumPy's ``axis=()`` over none);
    # a 0-d tensor's only dim (0 or -1) is all of it.
    if axes == () or (axes is not None and x.ndim == 0):
        axes = None
    kd = bool(keepdim or keepdims)
    return x, axes, kd


def sum(x, dim=None, keepdim=False, *, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (int, tuple, or None for all). Shape: reduced dims dropped
    unless ``keepdim``."""
    x, axes, kd = _reduce_args(x, dim, axis, keepdim, keepdims, "sum")
    return _sum(x, axis=axes, keepdims=kd)


def mean(x, dim=None, keepdim=False, *, axis=None, keepdims=False) -> Tensor:
    """Arithmetic mean over ``dim``; integer input gives float64 (NumPy)."""
    x, axes, kd = _reduce_args(x, dim, axis, keepdim, keepdims, "mean")
    return _mean(x, axis=axes, keepdims=kd)


def var(x, dim=None, keepdim=False, *, correction=1, unbiased=None, axis=None,
        keepdims=False) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (default 1, as PyTorch;
    NumPy's default corresponds to ``correction=0``; None means the default).

    ``var(x, True)`` / ``var(x, False)`` is PyTorch's ``var(input, unbiased)`` overload.
    """
    if isinstance(dim, (bool, np.bool_)):  # torch.var(input, unbiased)
        if unbiased is not None:
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError("var(): unbiased given twice (positionally and by name)")
        dim, unbiased = None, bool(dim)
    x, axes, kd = _reduce_args(x, dim, axis, keepdim, keepdims, "var")
    if unbiased is not None:
        correction = 1 if unbiased else 0
    elif correction is None:
        correction = 1
    centered = x - _mean(x, axis=axes, keepdims=True)
    dof = _count_of(x, axes, x.dtype, minus=correction)
    return _sum(centered * centered, axis=axes, keepdims=kd) / dof


def std(x, dim=None, keepdim=False, *, correction=1, unbiased=None, axis=None,
        keepdims=False) -> Tensor:
    """Standard deviation: ``sqrt(var(...))`` with the same arguments (also PyTorch's
    ``std(input, unbiased)`` overload)."""
    from .elementwise import sqrt

    return sqrt(var(x, dim, keepdim, correction=correction, unbiased=unbiased, axis=axis,
                    keepdims=keepdims))


# ---- max / min -----------------------------------------------------------------------


def _extremum_vjp(g, ans, x, axis, keepdims):
    # Tied extrema share the gradient equally: g * hit / count(hit).
    from .elementwise import astype
    from .logic import eq

    kept = ans if keepdims else _movement.reshape(ans, _reduced_shape(x.shape, axis, True))
    hit = astype(eq(x, kept), g.dtype)
    share = hit / _sum(hit, axis=axis, keepdims=True)
    return _expand_back(g, x.shape, axis, keepdims) * share


def _extremum(name, fn):
    def impl(x, axis, keepdims):
        if x.size == 0:
            raise ShapeError(f"{name}(): cannot reduce an empty tensor of shape {x.shape}")
        return fn(x, axis=axis, keepdims=keepdims)

    return register(
        Primitive(name, impl, category="reduce", shape=_reduce_shape_rule, saves_output=True)
    ).defvjp(_extremum_vjp)


_max = _extremum("max", np.max)
_min = _extremum("min", np.min)


def max(x, dim=None, keepdim=False, *, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    """Largest value over ``dim`` (values only, like ``torch.amax``; for indices use
    :func:`argmax`). Tied maxima share the gradient equally."""
    x, axes, kd = _reduce_args(x, dim, axis, keepdim, keepdims, "max")
    return _max(x, axis=axes, keepdims=kd)


def min(x, dim=None, keepdim=False, *, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    """Smallest value over ``dim`` (values only, like ``torch.amin``)."""
    x, axes, kd = _reduce_args(x, dim, axis, keepdim, keepdims, "min")
    return _min(x, axis=axes, keepdims=kd)


amax = max
amin = min


from .logic import argmax, argmin  # noqa: E402,F401  (index reductions live with logic)

# ---- logsumexp, softmax, log_softmax -------------------------------------------------


def _logsumexp_impl(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
    with np.errstate(divide="ignore"):  # log(0) = -inf for all -inf rows, as intended
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else out.reshape(_reduced_shape(x.shape, axis, False))


def _logsumexp_vjp(g, ans, x, axis, keepdims):
    from .elementwise import exp
    from .movement import reshape

    kept = ans if keepdims else reshape(ans, _reduced_shape(x.shape, axis, True))
    return _expand_back(g, x.shape, axis, keepdims) * exp(x - kept)


_logsumexp = register(
    Primitive("logsumexp", _logsumexp_impl, category="reduce", shape=_reduce_shape_rule,
              saves_output=True)
).defvjp(_logsumexp_vjp)


def logsumexp(x, dim=None, keepdim=False, *, axis=None, keepdims=False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, stable for large magnitudes."""
    x, axes, kd = _reduce_args(x, dim, axis, keepdim, keepdims, "logsumexp")
    return _logsumexp(x, axis=axes, keepdims=kd)


def _softmax_impl(x, axis):
    if x.size == 0:  # a zero-length dim (or another empty one): nothing to normalize
        return np.empty_like(x)
    z = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax_impl(x, axis):
    # (N, C) rows along the last axis: one Numba pass (kernels/loss.py; by default in
    # compiled programs only)
    fast = _loss_kernels.log_softmax_fast(x, axis)
    if fast is not None:
        return fast
    if x.size == 0:
        return np.empty_like(x)
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _axis_shape(shape, axis):
    normalize_axis(axis, len(shape))
    return tuple(shape)


_softmax = register(
    Primitive("softmax", _softmax_impl, category="reduce", shape=_axis_shape, saves_output=True)
).defvjp(lambda g, ans, x, axis: _activation_grads().softmax_grad(g, ans, axis=axis))

_log_softmax = register(
    Primitive("log_softmax", _log_softmax_impl, category="reduce", shape=_axis_shape,
              saves_output=True)
).defvjp(lambda g, ans, x, axis: _activation_grads().log_softmax_grad(g, ans, axis=axis))


def _activation_grads():
    from . import activation_grads

    return activation_grads


def _one_axis(x, dim, axis, fn):
    d = resolve_dim(dim, axis, fn)
    if d is None:
        d = -1
    return normalize_axis(d, x.ndim, "dim")[0] if x.ndim else 0


def _cast_first(x, dtype, fn):
    from ..errors import DTypeError
    from ..tensor import to_dtype
    from .elementwise import astype

    x = as_tensor(x)
    if dtype is None:
        return x
    dt = to_dtype(dtype, f"{fn}(): dtype")
    if dt.kind != "f":
        raise DTypeError(f"{fn}(): dtype must be a floating dtype, got {dt}")
    return astype(x, dt)


def softmax(x, dim=-1, *, dtype=None, axis=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (default last); stable for any magnitude.

    ``dtype``: cast ``x`` to it first (as PyTorch, e.g. float32 logits computed in
    float64). Shape: that of ``x``; a zero-length ``dim`` gives an empty result.
    """
    x = _cast_first(x, dtype, "softmax")
    return _softmax(x, axis=_one_axis(x, dim, axis, "softmax"))


def log_softmax(x, dim=-1, *, dtype=None, axis=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``; stable for logits of +-1e4 in float32.
    ``dtype`` as in :func:`softmax`."""
    x = _cast_first(x, dtype, "log_softmax")
    return _log_softmax(x, axis=_one_axis(x, dim, axis, "log_softmax"))
