"""Trigonometric primitives ``sin`` and ``cos`` (the polynomial-fitting tutorials fit
``sin(x)``). Their VJPs close on each other: ``sin' = cos``, ``cos' = -sin``."""

from __future__ import annotations

import numpy as np

from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from ._common import same_shape

_sin = register(Primitive("sin", np.sin, category="elementwise", shape=same_shape))
_cos = register(Primitive("cos", np.cos, category="elementwise", shape=same_shape))
_sin.defvjp(lambda g, ans, x: g * _cos(x))
_cos.defvjp(lambda g, ans, x: -(g * _sin(x)))


def sin(input) -> Tensor:  # noqa: A002 - PyTorch's name
    """Elementwise sine. Shape: that of ``input``."""
    return _sin(as_tensor(input))


def cos(input) -> Tensor:  # noqa: A002
    """Elementwise cosine. Shape: that of ``input``."""
    return _cos(as_tensor(input))
