"""Hypothesis strategies for tensors and shapes.

>>> from hypothesis import given
>>> from autograd_cnn.testing import tensors
>>> @given(tensors(shape=(2, 3)))
... def test_neg_neg(x):
...     assert ((-(-x)).numpy() == x.numpy()).all()
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Array shapes, 0-d and size-1 dims included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         max_side: int = 4):
    """Tuples of ``num_shapes`` shapes that broadcast together (NumPy rules)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda r: r.input_shapes)


def floats(min_value: float = -3.0, max_value: float = 3.0, away_from: float | None = None,
           gap: float = 0.1):
    """Finite floats in a range, optionally at least ``gap`` away from ``away_from``."""
    base = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=64)
    if away_from is None:
        return base
    return base.filter(lambda v: abs(v - away_from) >= gap)


@st.composite
def tensors(
    draw,
    shape=None,
    dtype=np.float64,
    elements=None,
    requires_grad: bool = True,
    unique: bool = False,
    contiguous: bool | None = None,
    min_value: float = -3.0,
    max_value: float = 3.0,
):
    """Tensors of a given (or drawn) shape.

    Parameters
    ----------
    shape : tuple or strategy, optional
        Fixed shape, a strategy of shapes, or None for :func:`shapes`.
    dtype : dtype
        float64 by default (what gradient checks need).
    elements : strategy, optional
        Element values; default uniform finite floats in ``[min_value, max_value]``.
    unique : bool
        All values distinct (no ties for max/argmax-like ops).
    contiguous : bool, optional
        False forces a non-contiguous (strided) tensor, True a contiguous one, None draws.
    """
    if shape is None:
        shape = shapes()
    if not isinstance(shape, tuple):
        shape = draw(shape)
    if elements is None:
        elements = floats(min_value, max_value)
    if contiguous is None:
        contiguous = draw(st.booleans())
    if contiguous or len(shape) == 0:
        arr = draw(hnp.arrays(dtype, shape, elements=elements, unique=unique))
    else:
        # Draw twice the last dim and take every other element: a strided view.
        big = shape[:-1] + (2 * shape[-1],)
        arr = draw(hnp.arrays(dtype, big, elements=elements, unique=unique))[..., ::2]
    return Tensor(arr, requires_grad=requires_grad and np.dtype(dtype).kind == "f")
