"""Non-differentiable primitives: comparisons, logic, ``sign``, ``argmax``, ``one_hot``.

Their outputs carry no gradient (they are booleans, integers, or piecewise constant),
so they are never recorded on the tape. They are primitives all the same: VJPs build
their masks with them (``relu``'s gradient is ``where(x > 0, g, 0)``), and a traced
graph then recomputes each mask from its inputs instead of freezing the values seen
while tracing.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from ._common import broadcast_shape, operands, same_shape


def _bshape(a, b, **_):
    return broadcast_shape(a, b)


def _nondiff(name, impl, shape, category="elementwise"):
    return register(Primitive(name, impl, category=category, shape=shape,
                              differentiable=False))


_COMPARISONS = {
    "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
    "gt": np.greater, "ge": np.greater_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or,
}
_PRIMS = {name: _nondiff(name, fn, _bshape) for name, fn in _COMPARISONS.items()}
_logical_not = _nondiff("logical_not", np.logical_not, same_shape)
_sign = _nondiff("sign", np.sign, same_shape)


def _compare(name, symbol):
    prim = _PRIMS[name]

    def op(a, b) -> Tensor:
        return prim(*operands(a, b))

    op.__name__ = name
    op.__doc__ = (f"Elementwise ``a {symbol} b`` as a boolean tensor (broadcast; not "
                  "differentiable).")
    return op


eq = _compare("eq", "==")
ne = _compare("ne", "!=")
lt = _compare("lt", "<")
le = _compare("le", "<=")
gt = _compare("gt", ">")
ge = _compare("ge", ">=")
logical_and = _compare("logical_and", "and")
logical_or = _compare("logical_or", "or")


def logical_not(x) -> Tensor:
    """Elementwise ``not x`` as a boolean tensor (not differentiable)."""
    return _logical_not(as_tensor(x))


def sign(x) -> Tensor:
    """Elementwise sign, -1, 0 or 1 (not differentiable: its derivative is 0 almost
    everywhere)."""
    return _sign(as_tensor(x))


# ---- argmax / argmin -------------------------------------------------------------------


def _arg_shape(s, axis, keepdims):
    if axis is None:
        return (1,) * len(s) if keepdims else ()
    return tuple(1 if i == axis else n for i, n in enumerate(s)) if keepdims else tuple(
        n for i, n in enumerate(s) if i != axis)


def _arg_impl(fn):
    def impl(x, axis, keepdims):
        # an empty result is fine (shape (0, 3) along dim 1); an empty reduced dim is not
        if (x.size == 0 and axis is None) or (axis is not None and x.shape[axis] == 0):
            raise InvalidArgumentError(f"{fn.__name__}(): cannot reduce an empty tensor of "
                                       f"shape {x.shape}")
        return np.asarray(fn(x, axis=axis, keepdims=keepdims), dtype=np.int64)

    return impl


_argmax = _nondiff("argmax", _arg_impl(np.argmax), _arg_shape, category="reduce")
_argmin = _nondiff("argmin", _arg_impl(np.argmin), _arg_shape, category="reduce")


def _arg_axis(x, dim, axis, fn):
    from ._common import normalize_axis, resolve_dim

    d = resolve_dim(dim, axis, fn)
    if d is None:
        return None
    return normalize_axis(d, x.ndim, "dim")[0] if x.ndim else None


def argmax(x, dim=None, keepdim=False, *, axis=None) -> Tensor:
    """Index of the first maximum (int64, not differentiable); flat index if dim is None.

    Shapes: ``x`` any; the result drops ``dim`` (kept as 1 with ``keepdim``).
    """
    x = as_tensor(x)
    return _argmax(x, axis=_arg_axis(x, dim, axis, "argmax"), keepdims=bool(keepdim))


def argmin(x, dim=None, keepdim=False, *, axis=None) -> Tensor:
    """Index of the first minimum (int64, not differentiable); flat index if dim is None."""
    x = as_tensor(x)
    return _argmin(x, axis=_arg_axis(x, dim, axis, "argmin"), keepdims=bool(keepdim))


# ---- numel: a count read off a shape ------------------------------------------------------


def _numel_impl(x, axis, dtype):
    n = math.prod(x.shape) if axis is None else math.prod(x.shape[a] for a in axis)
    return np.asarray(n, dtype=dtype)


_numel = _nondiff("numel", _numel_impl, lambda s, axis, dtype: (), category="reduce")


def numel(x, dim=None, dtype="float64") -> Tensor:
    """The number of elements of ``x`` (over ``dim`` only, when given) as a 0-d tensor.

    A count that a VJP divides by (a mean's gradient) is computed from the shape when
    the graph runs, so a graph traced with a symbolic batch stays right at any batch.
    """
    x = as_tensor(x)
    from ._common import normalize_axis

    return _numel(x, axis=normalize_axis(dim, x.ndim, "dim"), dtype=np.dtype(dtype))


# ---- full: a constant of a shape that may be symbolic ---------------------------------------

_full = _nondiff("full", lambda shape, value, dtype: np.full(shape, value, dtype=dtype),
                 lambda shape, value, dtype: tuple(shape), category="movement")


def full_like_shape(shape, value, dtype) -> Tensor:
    """``np.full(shape, value, dtype)`` as a primitive: a traced graph whose constant
    has a symbolic shape (zeros of the batch's size) makes it on every run."""
    return _full(shape=tuple(shape), value=value, dtype=np.dtype(dtype))


__all__ = ["argmax", "argmin", "eq", "ge", "gt", "le", "logical_and", "logical_not",
           "logical_or", "lt", "ne", "numel", "sign"]
