"""Selecting along a dimension: gather, max/min with indices, sort, argsort, topk.

Two primitives close on each other: ``take_along_dim(x, idx, dim)`` picks ``x`` at
integer indices along ``dim`` (``torch.gather``), and its VJP is
``scatter_add_along_dim(g, idx, dim, shape)``, which adds ``g`` into zeros at the same
indices (repeated indices accumulate); the VJP of the scatter is the gather again.
``max(x, dim)``, ``sort`` and ``topk`` compute their integer indices first and then
*gather* their values, so the gradient goes to exactly the selected elements, as in
PyTorch (``amax`` instead shares it among ties).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..errors import ArgumentTypeError, DTypeError, IndexOutOfRangeError, ShapeError
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from . import reduce as R
from ._common import as_operand, normalize_axis

#: ``(values, indices)`` results, as ``torch.return_types``.
MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])
SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def _gather_shape(xs, idxs, dim):
    if len(idxs) != len(xs):
        raise ShapeError(
            f"gather(): index must have as many dims as input ({len(xs)}), got {len(idxs)}")
    for d, (a, b) in enumerate(zip(xs, idxs)):
        if d != dim and b > a:
            raise ShapeError(
                f"gather(): index shape {tuple(idxs)} exceeds input shape {tuple(xs)} in dim {d}")
    return tuple(idxs)


def _gather_index(idx, dim):
    """Full advanced index tuple: ``idx`` along ``dim``, a broadcast grid elsewhere."""
    grid = list(np.ogrid[tuple(slice(0, s) for s in idx.shape)])
    grid[dim] = idx
    return tuple(grid)


def _take_impl(x, idx, dim):
    if idx.size and (idx.min() < -x.shape[dim] or idx.max() >= x.shape[dim]):
        raise IndexOutOfRangeError(
            f"gather(): index values must be in [{-x.shape[dim]}, {x.shape[dim]}) for dim "
            f"{dim} of size {x.shape[dim]}, got [{idx.min()}, {idx.max()}]")
    return x[_gather_index(idx, dim)]


def _scatter_impl(src, idx, dim, shape):
    out = np.zeros(shape, dtype=src.dtype)
    np.add.at(out, _gather_index(idx, dim), src)
    return out


_take = register(Primitive("take_along_dim", _take_impl, category="indexing",
                           shape=_gather_shape))
_scatter = register(Primitive("scatter_add_along_dim", _scatter_impl, category="indexing",
                              shape=lambda ss, idxs, dim, shape: tuple(shape)))
_take.defvjp(lambda g, ans, x, idx, dim: _scatter(g, idx, dim=dim, shape=x.shape), None)
_scatter.defvjp(lambda g, ans, src, idx, dim, shape: _take(g, idx, dim=dim), None)


def _index_tensor(index, who):
    index = as_operand(index)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"{who}: index must be an integer tensor, got dtype {index.dtype}")
    return index


def gather(input, dim: int, index) -> Tensor:  # noqa: A002 - PyTorch's names
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` for ``dim=1`` (``torch.gather``).

    Parameters
    ----------
    input : Tensor, shape (..., n, ...)
    dim : int
    index : integer Tensor, same ndim as ``input``; no larger than it except along ``dim``

    Returns
    -------
    Tensor, shape ``index.shape``; differentiable in ``input``.

    >>> gather(Tensor([[1.0, 2.0], [3.0, 4.0]]), 1, Tensor([[1], [0]])).tolist()
    [[2.0], [3.0]]
    """
    x = as_tensor(input)
    index = _index_tensor(index, "gather()")
    d = normalize_axis(dim, x.ndim)[0] if x.ndim else 0
    if x.ndim == 0:
        # a 0-d input: the result has the index's shape, () or (1,), as torch
        return _take(x.reshape(1), index.reshape(-1), dim=0).reshape(index.shape)
    return _take(x, index, dim=d)


def take_along_dim(input, indices, dim: int | None = None) -> Tensor:  # noqa: A002
    """``torch.take_along_dim``: like :func:`gather` but ``indices`` broadcasts against
    ``input``; ``dim=None`` works on the flattened input."""
    x = as_tensor(input)
    indices = _index_tensor(indices, "take_along_dim()")
    if dim is None:
        return gather(x.reshape(-1), 0, indices.reshape(-1))
    d = normalize_axis(dim, x.ndim)[0]
    shape = list(np.broadcast_shapes(
        tuple(1 if i == d else s for i, s in enumerate(x.shape)),
        tuple(1 if i == d else s for i, s in enumerate(indices.shape))))
    xs = shape.copy()
    xs[d] = x.shape[d]
    shape[d] = indices.shape[d]
    x = x.broadcast_to(tuple(xs)) if tuple(xs) != x.shape else x
    idx = np.broadcast_to(indices.data, tuple(shape))
    return _take(x, Tensor._wrap(np.ascontiguousarray(idx), False), dim=d)


def _one_dim(x, dim, who):
    if isinstance(dim, (tuple, list)):
        raise ArgumentTypeError(
            f"{who}: dim must be one int when indices are returned, got {dim!r}; use amax/amin "
            "to reduce over several dims")
    if x.ndim == 0:
        normalize_axis(dim, 1, "dim")
        return None
    return normalize_axis(dim, x.ndim, "dim")[0]


def _extremum_with_indices(x, dim, keepdim, find, result, who):
    d = _one_dim(x, dim, who)
    if d is None:  # 0-d: the value itself, index 0
        return result(x, Tensor(np.zeros((), np.int64)))
    if x.shape[d] == 0:
        raise ShapeError(f"{who}: cannot reduce dim {d} of size 0 (shape {x.shape})")
    idx = find(x, d, True)
    values = _take(x, idx, dim=d)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return result(values, idx)


def max(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=False):  # noqa: A001
    """``torch.max``: with no ``dim`` the largest value (a 0-d tensor); with an int
    ``dim`` a ``(values, indices)`` named tuple; with a tensor second argument the
    elementwise :func:`maximum`.

    Parameters
    ----------
    input : Tensor
    dim : int, Tensor or None
    keepdim : bool
    axis, keepdims :
        NumPy spelling: returns the values only (``amax``), for any int or tuple axis.

    Returns
    -------
    Tensor or MaxResult(values, indices)
        ``values`` and ``indices`` (int64) have the reduced shape. The gradient flows to
        the element at ``indices`` only.

    >>> max(Tensor([[1.0, 5.0], [7.0, 2.0]]), 1).indices.tolist()
    [1, 0]
    """
    x = as_tensor(input)
    if isinstance(dim, Tensor) or isinstance(dim, np.ndarray):
        from .elementwise import maximum

        return maximum(x, dim)
    if axis is not None or dim is None:
        return R.max(x, dim, keepdim, axis=axis, keepdims=keepdims)
    return _extremum_with_indices(x, dim, keepdim, R.argmax, MaxResult, "max()")


def min(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=False):  # noqa: A001
    """``torch.min``: like :func:`max` (``(values, indices)`` with an int ``dim``)."""
    x = as_tensor(input)
    if isinstance(dim, Tensor) or isinstance(dim, np.ndarray):
        from .elementwise import minimum

        return minimum(x, dim)
    if axis is not None or dim is None:
        return R.min(x, dim, keepdim, axis=axis, keepdims=keepdims)
    return _extremum_with_indices(x, dim, keepdim, R.argmin, MinResult, "min()")


def _sort_indices(a: np.ndarray, d: int, descending: bool) -> np.ndarray:
    if a.dtype.kind in "ub":
        a = a.astype(np.int64)
    if descending:
        # NaN sorts as the largest value in PyTorch: first when descending
        key = -a if a.dtype.kind != "f" else np.where(np.isnan(a), -np.inf, -a)
        if a.dtype.kind == "f":
            # -inf ties between NaN and +inf: order NaN before +inf explicitly
            idx = np.argsort(key, axis=d, kind="stable")
            nan_first = np.argsort(~np.isnan(np.take_along_axis(a, idx, d)), axis=d,
                                   kind="stable")
            return np.take_along_axis(idx, nan_first, d)
        return np.argsort(key, axis=d, kind="stable")
    return np.argsort(a, axis=d, kind="stable")


def argsort(input, dim: int = -1, descending: bool = False,  # noqa: A002
            stable: bool = False) -> Tensor:
    """Indices (int64) that sort ``input`` along ``dim``; ties keep their order."""
    x = as_tensor(input)
    if x.ndim == 0:
        return Tensor(np.zeros((), np.int64))
    d = normalize_axis(dim, x.ndim)[0]
    return Tensor._wrap(_sort_indices(x.data, d, descending), False)


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """``(values, indices)`` sorted along ``dim`` (ascending unless ``descending``).

    Shapes: both as ``input``. Sorting is always stable; the gradient of ``values`` goes
    back through the permutation.

    >>> sort(Tensor([3.0, 1.0, 2.0])).values.tolist()
    [1.0, 2.0, 3.0]
    """
    x = as_tensor(input)
    if x.ndim == 0:
        return SortResult(x, Tensor(np.zeros((), np.int64)))
    d = normalize_axis(dim, x.ndim)[0]
    idx = argsort(x, d, descending)
    return SortResult(_take(x, idx, dim=d), idx)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim``: ``(values, indices)``.

    Shapes: as ``input`` with ``dim`` of size ``k``. Results are always sorted.
    """
    x = as_tensor(input)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ArgumentTypeError(f"topk(): k must be an int, got {k!r}")
    d = normalize_axis(dim, x.ndim)[0] if x.ndim else 0
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise IndexOutOfRangeError(f"topk(): k must be in [0, {n}] for dim {d}, got {k}")
    if x.ndim == 0:
        return TopkResult(x, Tensor(np.zeros((), np.int64)))
    idx = _sort_indices(x.data, d, largest)
    idx = Tensor._wrap(np.ascontiguousarray(np.take(idx, np.arange(k), axis=d)), False)
    return TopkResult(_take(x, idx, dim=d), idx)
