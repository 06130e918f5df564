"""The index primitives of max pooling: ``pool_scatter`` (the max-pool VJP: values added
into zero planes at flat indices, accumulating where indices repeat), its adjoint
``pool_gather``, and ``unpool_scatter`` (max unpooling: one value kept per position).

``pool_scatter`` takes a direct kernel when its values have the shape of a 2x2 / stride-2
max pool of the planes (each window's four positions written at once, every index checked
to lie in its own window, else the general scatter reruns), see
:func:`autograd_cnn.kernels.pool.plane_scatter_add_2x2`. Bad indices raise
:class:`~autograd_cnn.errors.PoolIndicesError`.
"""

from __future__ import annotations

import math
from functools import lru_cache

from ..errors import PoolIndicesError
from ..kernels import pool as K
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor


def _scatter_shape(g, idx, plane):
    if tuple(g) != tuple(idx):
        raise PoolIndicesError(
            f"pool_scatter(): indices must have the shape of the values {tuple(g)}, "
            f"got {tuple(idx)}"
        )
    return tuple(g[: len(g) - len(plane)]) + tuple(plane)


@lru_cache(maxsize=512)
def _scatter_plan(gshape: tuple, ishape: tuple, plane: tuple):
    """``(planes shape of g, output shape, (H, W) if g has the shape of a 2x2 / stride-2
    max pool of the planes else None)``; raises on mismatched shapes; cached per shape."""
    nd = len(plane)
    shape = _scatter_shape(gshape, ishape, plane)
    P = math.prod(shape[: len(shape) - nd])
    two = (nd == 2 and tuple(gshape[-2:]) == (plane[0] // 2, plane[1] // 2)
           and math.prod(gshape) > 0)
    if two:  # the direct backward of that pool (checked per index, else general)
        return (P,) + tuple(gshape[-2:]), shape, tuple(plane)
    return (P, math.prod(gshape[len(gshape) - nd:])), shape, None


def _scatter_impl(g, idx, plane):
    gp, shape, two = _scatter_plan(g.shape, idx.shape, plane)
    if two is not None:
        out, ok = K.plane_scatter_add_2x2(g.reshape(gp), idx.reshape(gp), *two)
    else:
        out, ok = K.plane_scatter_add(g.reshape(gp), idx.reshape(gp), math.prod(plane))
    if not ok:
        raise PoolIndicesError(
            f"pool_scatter(): indices must lie in [0, {math.prod(plane)}) for output planes "
            f"of shape {tuple(plane)}; got values in [{idx.min()}, {idx.max()}]"
        )
    return out.reshape(shape)


def _gather_shape(x, idx, nd):
    if tuple(x[: len(x) - nd]) != tuple(idx[: len(idx) - nd]) or len(idx) != len(x):
        raise PoolIndicesError(
            f"pool_gather(): indices {tuple(idx)} must share the leading dims of {tuple(x)}"
        )
    return tuple(idx)


def _gather_impl(x, idx, nd):
    _gather_shape(x.shape, idx.shape, nd)
    lead = x.shape[: x.ndim - nd]
    P = math.prod(lead)
    out, ok = K.plane_gather(x.reshape(P, -1), idx.reshape(P, -1))
    if not ok:
        raise PoolIndicesError(
            f"pool_gather(): indices must lie in [0, {math.prod(x.shape[x.ndim - nd:])}), "
            f"got values in [{idx.min()}, {idx.max()}]"
        )
    return out.reshape(idx.shape)


_pool_scatter = register(
    Primitive("pool_scatter", _scatter_impl, category="pool", shape=_scatter_shape,
              doc="add values into zero planes at flat indices (max-pool VJP, unpool)")
).defvjp(lambda g, ans, v, idx, plane: pool_gather(g, idx, len(plane)), None)

_pool_gather = register(
    Primitive("pool_gather", _gather_impl, category="pool", shape=_gather_shape,
              doc="read planes at flat indices (the adjoint of pool_scatter)")
).defvjp(lambda g, ans, x, idx, nd: pool_scatter(g, idx, x.shape[x.ndim - nd:]), None)


def _unpool_impl(v, idx, plane):
    nd = len(plane)
    lead = _scatter_shape(v.shape, idx.shape, plane)[: v.ndim - nd]
    P = math.prod(lead)
    out, ok = K.plane_scatter_set(v.reshape(P, -1), idx.reshape(P, -1), math.prod(plane))
    if not ok:
        raise PoolIndicesError(
            f"max_unpool: indices must lie in [0, {math.prod(plane)}) for output planes of "
            f"shape {tuple(plane)}; got values in [{idx.min()}, {idx.max()}]"
        )
    return out.reshape(lead + tuple(plane))


# Max unpooling keeps one value where indices repeat (overlapping pooling windows), as
# PyTorch does; its gradient, like PyTorch's, reads the output gradient at every index
# (a gather), so each repeated entry receives it in full.
_unpool_scatter = register(
    Primitive("unpool_scatter", _unpool_impl, category="pool", shape=_scatter_shape,
              doc="write values into zero planes at flat indices, one per position")
).defvjp(lambda g, ans, v, idx, plane: pool_gather(g, idx, len(plane)), None)


def pool_scatter(values, indices, plane) -> Tensor:
    """Zero planes of spatial shape ``plane`` with ``values`` added at flat ``indices``.

    ``values, indices: (*lead, *S)`` -> ``(*lead, *plane)``; repeated indices accumulate.
    The VJP of max pooling, and max unpooling.
    """
    return _pool_scatter(as_tensor(values), as_tensor(indices), plane=tuple(int(v) for v in plane))


def pool_gather(x, indices, nd: int) -> Tensor:
    """``x: (*lead, *plane)`` read at flat plane ``indices: (*lead, *S)`` -> ``(*lead, *S)``."""
    return _pool_gather(as_tensor(x), as_tensor(indices), nd=int(nd))
