"""Activations PyTorch programs ask for beyond relu/tanh/sigmoid: GELU, SiLU, ELU, PReLU,
hardtanh, built on one new primitive, ``erf`` (whose VJP ``2/sqrt(pi) exp(-x^2)`` is
written with the library's ops, so second derivatives work); the others are compositions
of existing differentiable ops.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError, ShapeError
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from . import elementwise as E
from ._common import as_operand, same_shape

try:  # SciPy's erf is vectorized C; without SciPy, math.erf per element (slower)
    from scipy.special import erf as _np_erf
except ImportError:  # pragma: no cover - depends on the environment
    _vec_erf = np.vectorize(math.erf, otypes=[np.float64])

    def _np_erf(x):
        return _vec_erf(x).astype(x.dtype, copy=False)


def _erf_impl(x):
    return np.asarray(_np_erf(x)).astype(x.dtype, copy=False)


_erf = register(Primitive("erf", _erf_impl, category="elementwise", shape=same_shape))
_erf.defvjp(lambda g, ans, x: g * (E.exp(-(x * x)) * (2.0 / math.sqrt(math.pi))))


def erf(input) -> Tensor:  # noqa: A002 - PyTorch's name
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``, elementwise."""
    return _erf(as_tensor(input))


def gelu(input, approximate: str = "none") -> Tensor:  # noqa: A002
    """GELU: ``x * Phi(x)`` with Phi the standard normal CDF (``approximate="tanh"``:
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``). Shape: that of ``input``."""
    x = as_tensor(input)
    if approximate == "none":
        return x * (erf(x * (1.0 / math.sqrt(2.0))) + 1.0) * 0.5
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * (E.tanh(inner) + 1.0) * 0.5
    raise InvalidArgumentError(f"gelu(): approximate must be 'none' or 'tanh', got "
                               f"{approximate!r}")


def silu(input) -> Tensor:  # noqa: A002
    """SiLU (swish): ``x * sigmoid(x)``."""
    x = as_tensor(input)
    return x * E.sigmoid(x)


def elu(input, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """ELU: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    x = as_tensor(input)
    neg = (E.exp(E.minimum(x, 0.0)) - 1.0) * alpha
    return E.where(E.gt(x, 0), x, neg)


def prelu(input, weight) -> Tensor:  # noqa: A002
    """PReLU: ``x`` for ``x > 0`` else ``weight * x``; ``weight`` has 1 or C values
    (C = ``input.shape[1]``), differentiable in both."""
    x, w = as_operand(input), as_operand(weight)
    if w.ndim > 1:
        raise ShapeError(f"prelu(): weight must be 0-d or 1-D, got shape {w.shape}")
    if w.numel() == 1:  # one slope for every channel (also a 0-d weight, as torch)
        w = w.reshape(())
    else:
        c = x.shape[1] if x.ndim >= 2 else (x.shape[0] if x.ndim == 1 else 1)
        if w.shape[0] != c:
            raise ShapeError(f"prelu(): weight has {w.shape[0]} values for {c} channels")
        if x.ndim >= 2:
            w = w.reshape((1, c) + (1,) * (x.ndim - 2))
    return E.where(E.gt(x, 0), x, x * w)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """Clamp to ``[min_val, max_val]``."""
    return E.clip(as_tensor(input), min_val, max_val)
