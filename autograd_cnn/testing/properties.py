"""Reusable mathematical property checks for linear (conv-like) ops.

Each ``check_*`` function computes both sides of an identity in the library, compares
them with ``numpy.allclose``-style tolerances, and raises :class:`PropertyError`
(an ``AssertionError``) naming the property and the largest deviation; it returns True
otherwise. Use them on your own ops:

>>> import numpy as np, autograd_cnn as ac
>>> from autograd_cnn.testing.properties import check_linearity
>>> f = lambda x: ac.functional.conv1d(x, ac.tensor(np.ones((1, 1, 3))))
>>> x1, x2 = (ac.tensor(np.random.default_rng(i).normal(size=(1, 1, 8))) for i in (1, 2))
>>> check_linearity(f, x1, x2, 2.0, -3.0)
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import AutogradCNNError
from ..tape import enable_grad, gradients
from ..tensor import Tensor, as_tensor

__all__ = [
    "PropertyError", "check_close", "check_linearity", "check_adjointness",
    "check_toeplitz_equivalence", "check_shift_equivariance", "check_commutativity",
    "check_associativity",
]


class PropertyError(AutogradCNNError, AssertionError):
    """A mathematical property does not hold; the message names it and the deviation."""


def _np(t) -> np.ndarray:
    return t.numpy() if isinstance(t, Tensor) else np.asarray(t)


def check_close(name: str, lhs, rhs, rtol: float = 1e-7, atol: float = 1e-9) -> bool:
    """``lhs == rhs`` up to tolerances, else :class:`PropertyError` naming ``name``."""
    a, b = _np(lhs), _np(rhs)
    if a.shape != b.shape:
        raise PropertyError(f"{name}: shapes differ, {a.shape} vs {b.shape}")
    if not np.allclose(a, b, rtol=rtol, atol=atol):
        err = np.abs(a.astype(np.float64) - b)
        i = np.unravel_index(np.argmax(err), err.shape) if err.ndim else ()
        raise PropertyError(
            f"{name}: does not hold: max |lhs - rhs| = {err.max():.3g} at {i} "
            f"(lhs {a[i]!r}, rhs {b[i]!r}; rtol={rtol}, atol={atol})")
    return True


def check_linearity(f: Callable, x1, x2, a: float = 2.0, b: float = -0.5, rtol=1e-7,
                    atol=1e-9) -> bool:
    """``f(a x1 + b x2) == a f(x1) + b f(x2)`` (linearity, e.g. of a conv in its input
    or, with the input fixed, in its kernel)."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    lhs = f(x1 * a + x2 * b)
    rhs = f(x1) * a + f(x2) * b
    return check_close("linearity", lhs, rhs, rtol, atol)


def check_adjointness(f: Callable, f_adjoint: Callable, x, y, rtol=1e-7, atol=1e-9) -> bool:
    """``<f(x), y> == <x, f_adjoint(y)>`` (e.g. conv and conv_transpose with the same
    weight and parameters)."""
    fx = _np(f(as_tensor(x)))
    aty = _np(f_adjoint(as_tensor(y)))
    lhs = np.vdot(fx.astype(np.float64), _np(y).astype(np.float64))
    rhs = np.vdot(_np(x).astype(np.float64), aty.astype(np.float64))
    scale = np.abs(fx).sum() * np.abs(_np(y)).max() + atol
    if abs(lhs - rhs) > atol + rtol * scale:
        raise PropertyError(f"adjointness: <f(x), y> = {lhs!r} but <x, f^T(y)> = {rhs!r}")
    return True


def check_toeplitz_equivalence(f: Callable, matrix, x, g=None, rtol=1e-7, atol=1e-9) -> bool:
    """A linear ``f`` on one sample equals multiplication by ``matrix`` (dense or
    scipy.sparse): ``f(x).ravel() == M @ x.ravel()``, and its input gradient is
    ``M.T @ g`` (the notes' ``E_{n-1} = W^T E_n``)."""
    x = Tensor(_np(x), requires_grad=True)
    with enable_grad():
        y = f(x)
    check_close("Toeplitz equivalence (forward)", _np(y).ravel(), matrix @ _np(x).ravel(),
                rtol, atol)
    if g is None:
        g = np.random.default_rng(0).standard_normal(y.shape).astype(y.dtype)
    (gx,) = gradients([y], [x], grad_outputs=[Tensor(_np(g).astype(y.dtype))])
    check_close("Toeplitz equivalence (input gradient = M^T g)", _np(gx).ravel(),
                matrix.T @ _np(g).ravel(), rtol, atol)
    return True


def check_shift_equivariance(f: Callable, x, shift: Sequence[int], axes: Sequence[int],
                             out_shift: Sequence[int] | None = None,
                             interior: Sequence[slice] | None = None, rtol=1e-7,
                             atol=1e-9) -> bool:
    """``f(roll(x, shift)) == roll(f(x), out_shift)`` over ``axes`` (``out_shift``
    defaults to ``shift``; with stride s use ``shift = s * out_shift``). ``interior``
    (slices over the output) restricts the comparison, for zero padding where the
    borders differ."""
    xs = _np(x)
    out_shift = tuple(shift) if out_shift is None else tuple(out_shift)
    lhs = _np(f(as_tensor(np.roll(xs, tuple(shift), tuple(axes)))))
    rhs = np.roll(_np(f(as_tensor(xs))), out_shift, tuple(axes))
    if interior is not None:
        lhs, rhs = lhs[tuple(interior)], rhs[tuple(interior)]
    return check_close(f"shift equivariance (shift {tuple(shift)})", lhs, rhs, rtol, atol)


def check_commutativity(op: Callable, a, b, rtol=1e-7, atol=1e-9) -> bool:
    """``op(a, b) == op(b, a)`` (true convolution in mode 'full')."""
    return check_close("commutativity", op(as_tensor(a), as_tensor(b)),
                       op(as_tensor(b), as_tensor(a)), rtol, atol)


def check_associativity(op: Callable, a, b, c, rtol=1e-7, atol=1e-9) -> bool:
    """``op(op(a, b), c) == op(a, op(b, c))`` (true convolution in mode 'full')."""
    a, b, c = as_tensor(a), as_tensor(b), as_tensor(c)
    return check_close("associativity", op(op(a, b), c), op(a, op(b, c)), rtol, atol)
