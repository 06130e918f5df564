"""Small helpers shared by the op modules: operand conversion, shape rules, axes."""

from __future__ import annotations

import numpy as np

from ..errors import BroadcastError, InvalidArgumentError
from ..tensor import Tensor, as_tensor

_PY_SCALARS = (bool, int, float)


def as_operand(v, dtype=None) -> Tensor:
    """``v`` as an operand of an op: Tensors as they are, anything else converted, and a
    NumPy array COPIED (as PyTorch converts arrays given to an op), so that changing the
    array afterwards cannot change a recorded graph or the gradients it computes.
    ``Tensor(array)`` itself still shares the array, like ``torch.from_numpy``."""
    if isinstance(v, np.ndarray):
        v = v.copy()
    return as_tensor(v, dtype)


def operand_like(v, ref: Tensor) -> Tensor:
    """Wrap ``v`` for a binary op with ``ref``: Python scalars take ref's dtype when it
    can hold them (NumPy 2's weak scalars), so ``float32_tensor * 2.0`` stays float32."""
    if isinstance(v, Tensor):
        return v
    if isinstance(v, np.generic) and v.ndim == 0 and not isinstance(v, np.bool_):
        v = v.item()  # NumPy scalars (np.sqrt(2.0)) are weak like Python's, as in PyTorch
    if isinstance(v, _PY_SCALARS):
        return Tensor._wrap(np.asarray(v, dtype=np.result_type(ref.data.dtype, v)), False)
    return as_operand(v)


def operands(a, b) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors, scalars adopting the other's dtype."""
    if isinstance(a, Tensor):
        return a, operand_like(b, a)
    if isinstance(b, Tensor):
        return operand_like(a, b), b
    return as_operand(a), as_operand(b)


def broadcast_shape(*shapes: tuple, what: str = "operands") -> tuple:
    """NumPy broadcast of ``shapes``; a :class:`BroadcastError` naming all of them."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise BroadcastError(
            f"{what}: shapes {listed} cannot be broadcast together (trailing dimensions must "
            "be equal or 1)"
        ) from None


def same_shape(shape, *rest, **params) -> tuple:
    return tuple(shape)


def normalize_axis(axis, ndim: int, name: str = "dim") -> tuple | None:
    """``axis`` (None, int or sequence) as a sorted tuple of non-negative ints."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise InvalidArgumentError(f"{name}: expected int or tuple of ints, got {a!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise InvalidArgumentError(
                f"{name}: {a} is out of range for a tensor with {ndim} dimensions "
                f"(expected {-max(ndim, 1)} <= {name} < {max(ndim, 1)})"
            )
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise InvalidArgumentError(f"{name}: repeated dimension in {axis!r}")
    return tuple(sorted(out))


def resolve_dim(dim, axis, fn: str):
    """PyTorch's ``dim`` with NumPy's ``axis`` accepted as an alias (not both)."""
    if axis is not None:
        if dim is not None:
            raise InvalidArgumentError(f"{fn}(): pass dim or axis, not both (axis is an alias)")
        return axis
    return dim
