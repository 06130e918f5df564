"""Indexing: ``x[index]`` and its adjoint, a scatter-add into zeros.

Basic indexing (ints, slices, None, Ellipsis) produces views; advanced indexing (integer
or boolean arrays) copies. The VJP of ``getitem`` is ``index_add`` (accumulating, so
repeated indices receive every contribution), and the VJP of ``index_add`` is
``getitem`` at the same index: the pair closes for higher-order gradients.
"""

from __future__ import annotations

import numpy as np

from ..errors import IndexOutOfRangeError
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor


def normalize_index(index):
    """Replace Tensors inside an index by their arrays (lists become arrays)."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        from ..tape import concrete

        if concrete(index) is None:
            from ..errors import TraceError

            raise TraceError(
                "indexing with a traced integer tensor cannot be traced (the index would "
                "be frozen); use ac.gather(x, dim, index) or a one-hot product instead")
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def is_basic(index) -> bool:
    """True when indexing cannot repeat elements (no integer/boolean arrays)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts
    )


def _getitem_shape(s, index):
    return _getitem_impl(np.empty(s, dtype=np.bool_), index).shape


def _getitem_impl(x, index):
    try:
        return x[index]
    except IndexError as e:
        raise IndexOutOfRangeError(f"index: {e} (tensor shape {x.shape})") from None


_getitem = register(
    Primitive("getitem", _getitem_impl, category="indexing", shape=_getitem_shape,
              is_view=True)
).defvjp(lambda g, ans, x, index: index_add(g, x.shape, index))


def _index_add_impl(g, shape, index):
    out = np.zeros(shape, dtype=g.dtype)
    if is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


_index_add = register(
    Primitive("index_add", _index_add_impl, category="indexing",
              shape=lambda s, shape, index: tuple(shape))
).defvjp(lambda g, ans, src, shape, index: getitem(g, index))


def getitem(x, index) -> Tensor:
    """``x[index]`` with NumPy semantics (basic and advanced indexing)."""
    x = as_tensor(x)
    return _getitem(x, index=normalize_index(index))


def index_add(src, shape, index) -> Tensor:
    """``zeros(shape)`` with ``src`` added at ``index``; repeated indices accumulate.

    The adjoint of ``getitem``: ``src`` has the shape of ``zeros(shape)[index]``.
    """
    return _index_add(as_tensor(src), shape=tuple(shape), index=normalize_index(index))
