"""Elementwise primitives: arithmetic, transcendental functions, activations, where.

Binary ops follow NumPy broadcasting; their VJPs reduce the gradient back to each
input's shape with ``sum_to``. Python scalars adopt the tensor's dtype (float32 stays
float32), as in NumPy 2 and PyTorch.
"""

from __future__ import annotations

import numpy as np

from ..primitive import Primitive, register
from ..tape import concrete
from ..tensor import Tensor, as_tensor
from . import activation_grads as _grads
from . import reduce as _reduce
from ._common import as_operand, broadcast_shape, operand_like, operands, same_shape
from .logic import eq, ge, gt, le, logical_and, lt, ne, sign  # noqa: F401  (re-exported)


def _const(array) -> Tensor:
    """A tensor that never requires grad (a constant inside a VJP)."""
    return Tensor._wrap(np.asarray(array), False)


def _bshape(a, b, **_):
    return broadcast_shape(a, b)


def _sum_to(g, shape):
    return g if g.shape == shape else _reduce.sum_to(g, shape)


# ---- binary arithmetic -----------------------------------------------------------------

_add = register(Primitive("add", np.add, category="elementwise", shape=_bshape))
_add.defvjp(lambda g, ans, a, b: _sum_to(g, a.shape), lambda g, ans, a, b: _sum_to(g, b.shape))

_sub = register(Primitive("sub", np.subtract, category="elementwise", shape=_bshape))
_sub.defvjp(
    lambda g, ans, a, b: _sum_to(g, a.shape), lambda g, ans, a, b: _sum_to(-g, b.shape)
)

_mul = register(Primitive("mul", np.multiply, category="elementwise", shape=_bshape))
_mul.defvjp(
    lambda g, ans, a, b: _sum_to(g * b, a.shape), lambda g, ans, a, b: _sum_to(g * a, b.shape)
)

_div = register(Primitive("div", np.true_divide, category="elementwise", shape=_bshape))
_div.defvjp(
    lambda g, ans, a, b: _sum_to(g / b, a.shape),
    lambda g, ans, a, b: _sum_to(-g * a / (b * b), b.shape),
)


def _pow_impl(a, b):
    return np.power(a, b)


def _pow_vjp_base(g, ans, a, b):
    # b * a**(b-1); at a == b == 0 the base is replaced by 1 so the term is exactly 0 (as
    # PyTorch) instead of 0 * inf = nan. Elsewhere the expression (and its own
    # derivative, for double backward) is untouched. A known nonzero exponent (x ** 2)
    # cannot meet the singular point, so its gradient stays the plain formula; a known
    # exponent of 2 gives 2 * a, the textbook form.
    b_value = concrete(b)
    if b_value is not None and b_value.ndim == 0 and b_value == 2:
        return _sum_to(g * (a * 2), a.shape)
    if b_value is not None and np.all(b_value != 0):
        base = a
    else:
        base = where(logical_and(eq(a, 0), eq(b, 0)), 1.0, a)
    return _sum_to(g * b * base ** (b - 1), a.shape)


def _pow_vjp_exponent(g, ans, a, b):
    # d(a**b)/db = a**b * log(a); PyTorch's convention: 0 where a == 0 (and b >= 0).
    zero = eq(a, 0)
    safe = where(zero, _const(np.ones((), a.dtype)), a)
    return _sum_to(where(zero, 0.0, g * ans * log(safe)), b.shape)


_pow = register(
    Primitive("pow", _pow_impl, category="elementwise", shape=_bshape, saves_output=True)
)
_pow.defvjp(
    _pow_vjp_base,
    _pow_vjp_exponent,
)


def _extremum_vjp(which, wins):
    # The winner takes the gradient; at ties each side takes half (as PyTorch).
    def vjp(g, ans, a, b):
        x, y = (a, b) if which == 0 else (b, a)
        half = g * 0.5
        return _sum_to(where(wins(x, y), g, where(eq(x, y), half, 0.0)), x.shape)

    return vjp


def _maximum_vjp(which):
    return _extremum_vjp(which, gt)


def _minimum_vjp(which):
    return _extremum_vjp(which, lt)


_maximum = register(Primitive("maximum", np.maximum, category="elementwise", shape=_bshape))
_maximum.defvjp(_maximum_vjp(0), _maximum_vjp(1))
_minimum = register(Primitive("minimum", np.minimum, category="elementwise", shape=_bshape))
_minimum.defvjp(_minimum_vjp(0), _minimum_vjp(1))


def _scaled(b: Tensor, alpha, fn: str) -> Tensor:
    """``alpha * b`` for ``add``/``sub``'s ``alpha`` (PyTorch), ``b`` itself when 1."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        from ..errors import InvalidArgumentError

        raise InvalidArgumentError(f"{fn}(): alpha must be a number, got {alpha!r}")
    if b.dtype.kind != "f" and float(alpha) != int(alpha):
        from ..errors import DTypeError

        raise DTypeError(
            f"{fn}(): alpha must be an integer for a {b.dtype} operand, got {alpha!r}")
    return b if alpha == 1 else mul(b, alpha)


def add(a, b, *, alpha=1) -> Tensor:
    """Elementwise ``a + alpha * b`` with broadcasting (``alpha`` as in ``torch.add``).

    Shapes: any, broadcastable; e.g. ``add(x, y, alpha=2)`` is ``x + 2 * y``.
    """
    a, b = operands(a, b)
    return _add(a, _scaled(b, alpha, "add"))


def sub(a, b, *, alpha=1) -> Tensor:
    """Elementwise ``a - alpha * b`` with broadcasting (``alpha`` as in ``torch.sub``)."""
    a, b = operands(a, b)
    return _sub(a, _scaled(b, alpha, "sub"))


def mul(a, b) -> Tensor:
    """Elementwise ``a * b`` with broadcasting."""
    return _mul(*operands(a, b))


def _div_rounded_impl(a, b, rounding_mode):
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        if np.any(b == 0):
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError("div(): integer division by zero (other has a 0)")
        q = np.floor_divide(a, b)
        if rounding_mode == "trunc":  # floor rounds negative quotients down, trunc up
            q = q + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0)))
        return q
    with np.errstate(divide="ignore", invalid="ignore"):
        if rounding_mode == "trunc":
            return np.trunc(np.true_divide(a, b))
        return np.floor_divide(a, b)  # Python's floor division, as torch.floor_divide


# PyTorch defines the gradient of a rounded quotient as ``grad * 0`` (a step function is
# flat almost everywhere); ``g * 0`` keeps its NaN/inf propagation.
_div_rounded = register(
    Primitive("div_rounded", _div_rounded_impl, category="elementwise", shape=_bshape)
).defvjp(
    lambda g, ans, a, b, rounding_mode: _sum_to(g * 0.0, a.shape),
    lambda g, ans, a, b, rounding_mode: _sum_to(g * 0.0, b.shape),
)


def div(a, b, *, rounding_mode=None) -> Tensor:
    """Elementwise division ``a / b`` with broadcasting (``torch.div``).

    ``rounding_mode``: None (true division; ints give floats), ``"trunc"`` (round toward
    zero) or ``"floor"`` (round down, Python's ``//``). Rounded quotients keep integer
    dtypes and have zero gradient, as in PyTorch.
    """
    if rounding_mode is None:
        return _div(*operands(a, b))
    if rounding_mode not in ("trunc", "floor"):
        from ..errors import InvalidArgumentError

        raise InvalidArgumentError(
            f"div(): rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return _div_rounded(*operands(a, b), rounding_mode=rounding_mode)


def pow(a, b) -> Tensor:  # noqa: A001 - PyTorch's name
    """Elementwise ``a ** b`` with broadcasting; differentiable in both."""
    return _pow(*operands(a, b))


def maximum(a, b) -> Tensor:
    """Elementwise maximum; at ties each input gets half the gradient (as PyTorch)."""
    return _maximum(*operands(a, b))


def minimum(a, b) -> Tensor:
    """Elementwise minimum; at ties each input gets half the gradient (as PyTorch)."""
    return _minimum(*operands(a, b))


# ---- unary ----------------------------------------------------------------------------


def _unary(name, impl, *, saves_output=False):
    return register(
        Primitive(name, impl, category="elementwise", shape=same_shape, saves_output=saves_output)
    )


_neg = _unary("neg", np.negative).defvjp(lambda g, ans, x: -g)
_exp = _unary("exp", np.exp, saves_output=True).defvjp(lambda g, ans, x: g * ans)
_log = _unary("log", np.log).defvjp(lambda g, ans, x: g / x)
_sqrt = _unary("sqrt", np.sqrt, saves_output=True).defvjp(lambda g, ans, x: g / (2 * ans))
_abs = _unary("abs", np.abs).defvjp(lambda g, ans, x: g * astype(sign(x), g.dtype))
_relu = _unary("relu", lambda x: np.maximum(x, 0)).defvjp(
    lambda g, ans, x: _grads.relu_grad(g, x)
)


def _sigmoid_impl(x):
    # 0.5 * (1 + tanh(x / 2)) never overflows, unlike 1 / (1 + exp(-x)).
    half = x.dtype.type(0.5) if x.dtype.kind == "f" else 0.5
    return half * (1 + np.tanh(half * x))


_sigmoid = _unary("sigmoid", _sigmoid_impl, saves_output=True).defvjp(
    lambda g, ans, x: _grads.sigmoid_grad(g, ans)
)
_tanh = _unary("tanh", np.tanh, saves_output=True).defvjp(
    lambda g, ans, x: _grads.tanh_grad(g, ans)
)

_leaky_relu = register(
    Primitive(
        "leaky_relu",
        lambda x, negative_slope: np.where(x > 0, x, x * x.dtype.type(negative_slope)),
        category="elementwise",
        shape=same_shape,
    )
).defvjp(
    lambda g, ans, x, negative_slope: where(gt(x, 0), g, g * negative_slope)
)


def _softplus_impl(x, beta, threshold):
    bx = x * x.dtype.type(beta)
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / x.dtype.type(beta))


_softplus = register(
    Primitive("softplus", _softplus_impl, category="elementwise", shape=same_shape)
).defvjp(
    lambda g, ans, x, beta, threshold: where(
        gt(x * beta, threshold), g, g * sigmoid(x * beta)
    )
)


def _clip_impl(x, min, max):  # noqa: A002
    return np.clip(x, min, max).astype(x.dtype, copy=False)


def _clip_vjp(g, ans, x, min, max):  # noqa: A002
    # Gradient 1 inside [min, max], bounds included (as PyTorch).
    if min is not None and max is not None:
        keep = logical_and(ge(x, min), le(x, max))
    else:
        keep = ge(x, min) if min is not None else le(x, max)
    return where(keep, g, 0.0)


_clip = register(
    Primitive("clip", _clip_impl, category="elementwise", shape=same_shape)
).defvjp(_clip_vjp)

_cast = register(
    Primitive(
        "astype",
        lambda x, dtype: x.astype(dtype),
        category="elementwise",
        shape=same_shape,
    )
).defvjp(lambda g, ans, x, dtype: astype(g, x.dtype))


def neg(x) -> Tensor:
    """``-x``."""
    return _neg(x)


def exp(x) -> Tensor:
    """Elementwise e**x."""
    return _exp(x)


def log(x) -> Tensor:
    """Elementwise natural logarithm."""
    return _log(x)


def sqrt(x) -> Tensor:
    """Elementwise square root."""
    return _sqrt(x)


def abs(x) -> Tensor:  # noqa: A001
    """Elementwise absolute value; gradient ``sign(x)`` (0 at 0, as PyTorch)."""
    return _abs(x)


def relu(x) -> Tensor:
    """``max(x, 0)``; gradient 0 at 0 (as PyTorch)."""
    return _relu(x)


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """``x`` where positive, else ``negative_slope * x``."""
    return _leaky_relu(x, negative_slope=float(negative_slope))


def sigmoid(x) -> Tensor:
    """Logistic function ``1 / (1 + exp(-x))``, computed without overflow."""
    return _sigmoid(x)


def tanh(x) -> Tensor:
    """Hyperbolic tangent."""
    return _tanh(x)


def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold`` (PyTorch)."""
    return _softplus(x, beta=float(beta), threshold=float(threshold))


def _clip_tensor_impl(x, *bounds, which):
    out = x
    for b, w in zip(bounds, which):
        out = np.maximum(out, b) if w == "min" else np.minimum(out, b)
    return out


def _clip_tensor_shape(*shapes, which):
    return broadcast_shape(*shapes, what="clamp()")


def _clip_tensor_vjp(argnum, g, ans, x, *bounds, which):
    # PyTorch's clamp_backward / clamp_backward_min_max: x passes the gradient where
    # min <= x <= max (bounds included); min gets it where x < min < max, max where
    # x > max or max < min (the output is then max everywhere).
    lo = bounds[which.index("min")] if "min" in which else None
    hi = bounds[which.index("max")] if "max" in which else None
    if argnum == 0:
        out = g
        if hi is not None:
            out = where(le(x, hi), out, 0.0)
        if lo is not None:
            out = where(ge(x, lo), out, 0.0)
        return _sum_to(out, x.shape)
    if which[argnum - 1] == "min":
        take = where(lt(x, lo), g, 0.0)
        if hi is not None:
            take = where(lt(lo, hi), take, 0.0)
        return _sum_to(take, lo.shape)
    take = where(gt(x, hi), g, 0.0)
    if lo is not None:
        take = where(lt(hi, lo), g, take)
    return _sum_to(take, hi.shape)


_clip_tensor = register(
    Primitive("clip_tensor", _clip_tensor_impl, category="elementwise",
              shape=_clip_tensor_shape)
).defvjp_argnum(_clip_tensor_vjp)


def clip(x, min=None, max=None) -> Tensor:  # noqa: A002
    """Clamp to ``[min, max]`` (``torch.clamp``); either bound may be None, a number or a
    tensor (broadcast with ``x``; tensor bounds receive gradients, as in PyTorch).

    ``out = minimum(maximum(x, min), max)``, so ``max`` wins where ``min > max``. The
    gradient of ``x`` is 1 inside ``[min, max]``, bounds included; ``min`` gets it where
    ``x < min`` (and ``min < max``), ``max`` where ``x > max`` (or ``max < min``).
    Shapes: ``x``, ``min``, ``max`` broadcastable; the result has the broadcast shape.
    """
    if min is None and max is None:
        from ..errors import InvalidArgumentError

        raise InvalidArgumentError("clip(): at least one of min and max must be given")
    x = as_tensor(x)
    scalars = (bool, int, float, np.integer, np.floating)
    if all(b is None or isinstance(b, scalars) for b in (min, max)):
        return _clip(x, min=min, max=max)
    which = tuple(w for w, b in (("min", min), ("max", max)) if b is not None)
    bounds = [operand_like(b, x) for b in (min, max) if b is not None]
    return _clip_tensor(x, *bounds, which=which)


clamp = clip


def astype(x, dtype) -> Tensor:
    """Cast to ``dtype``; differentiable between floating dtypes."""
    x = as_tensor(x)
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    return _cast(x, dtype=dtype)


# ---- where ---------------------------------------------------------------------------


def _where_shape(c, a, b, **_):
    return broadcast_shape(c, a, b, what="where()")


_where = register(
    Primitive("where", np.where, category="elementwise", shape=_where_shape)
).defvjp(
    None,
    lambda g, ans, c, a, b: _sum_to(where(c, g, 0.0), a.shape),
    lambda g, ans, c, a, b: _sum_to(where(c, 0.0, g), b.shape),
)


def where(condition, x, y) -> Tensor:
    """``x`` where ``condition`` else ``y`` (broadcast); differentiable in x and y."""
    # an array condition is copied (as_operand): changing it later must not change the
    # recorded graph
    cond = as_operand(condition)
    if cond.dtype != bool:
        cond = ne(cond, 0)
    x, y = operands(x, y)
    return _where(cond, x, y)
