"""Helpers shared by the layers: argument tuples, the calling layer's path, checks."""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentTypeError, InvalidArgumentError, LayerInputError
from ..tape import STATE


def ntuple(value, n: int, name: str) -> tuple:
    """``value`` (int or sequence of n ints) as a tuple of n ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise ArgumentTypeError(
            f"{name}: expected an int or a tuple of {n} ints, got {value!r}"
        ) from None
    if len(out) != n:
        raise InvalidArgumentError(f"{name}: expected {n} values, got {value!r}")
    return out


def positive_int(value, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise InvalidArgumentError(f"{name}: expected a positive int, got {value!r}")
    return int(value)


def layer_path(module) -> str:
    """The dotted path of the module being called (``features.3``), or its class name."""
    path = ".".join(STATE.scope)
    return f"{path!r} ({type(module).__name__})" if path else type(module).__name__


def check_input(module, x, *, ndims: tuple, dim: int, expected: int, what: str):
    """Raise :class:`LayerInputError` naming the layer, the expected and the actual shape."""
    shape = tuple(x.shape)
    if len(shape) not in ndims:
        raise LayerInputError(
            f"layer {layer_path(module)}: expected a {' or '.join(map(str, ndims))}-D input, "
            f"got shape {shape}"
        )
    if expected is not None and shape[dim] != expected:
        raise LayerInputError(
            f"layer {layer_path(module)}: expected input with {expected} {what} (dim {dim}), "
            f"got input of shape {shape}; the layer's weight has shape "
            f"{tuple(module.weight.shape) if getattr(module, 'weight', None) is not None else '-'}"
        )
