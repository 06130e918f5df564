"""``gather`` along a dim by an index tensor, and its adjoint ``scatter_add``.

``gather(x, dim, index)[i][j][k] = x[i][index[i][j][k]][k]`` (for ``dim=1``), as
``torch.gather``. The index is a tensor input of the graph (not a parameter), so a traced
``nll_loss`` reads each batch's labels. The VJP of ``gather`` scatters the gradient back
(adding where an index repeats); the VJP of ``scatter_add`` gathers: the pair closes for
higher-order gradients.
"""

from __future__ import annotations

import numpy as np

from ..errors import IndexOutOfRangeError, ShapeError
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from ._common import normalize_axis


def _check_index(x_shape, index, dim, fn):
    if index.dtype.kind not in "iu":
        raise ShapeError(f"{fn}(): index must hold integers, got dtype {index.dtype}")
    if len(x_shape) != index.ndim:
        raise ShapeError(f"{fn}(): index must have as many dims as the input "
                         f"({len(x_shape)}), got shape {index.shape}")
    n = x_shape[dim]
    if index.size and (index.min() < -n or index.max() >= n):
        bad = index[(index < -n) | (index >= n)].ravel()[:5].tolist()
        raise IndexOutOfRangeError(f"{fn}(): index: values must be in [-{n}, {n}) along dim "
                                   f"{dim} of size {n}, got {bad}")


def _gather_impl(x, index, dim):
    _check_index(x.shape, index, dim, "gather")
    for d in range(x.ndim):
        if d != dim and index.shape[d] > x.shape[d]:
            raise ShapeError(f"gather(): index shape {index.shape} exceeds input shape "
                             f"{x.shape} in dim {d}")
    x = x[tuple(slice(0, index.shape[d]) if d != dim else slice(None) for d in range(x.ndim))]
    return np.take_along_axis(x, index.astype(np.intp, copy=False), axis=dim)


def _scatter_add_impl(g, index, dim, shape):
    _check_index(shape, index, dim, "scatter_add")
    out = np.zeros(shape, dtype=g.dtype)
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index.astype(np.intp, copy=False) % shape[dim]
    np.add.at(out, tuple(grid), g)
    return out


_gather = register(Primitive("gather", _gather_impl, category="indexing",
                             shape=lambda xs, ixs, dim: tuple(ixs)))
_scatter_add = register(Primitive("scatter_add", _scatter_add_impl, category="indexing",
                                  shape=lambda gs, ixs, dim, shape: tuple(shape)))
_gather.defvjp(lambda g, ans, x, index, dim: scatter_add(g, index, dim, x.shape), None)
_scatter_add.defvjp(lambda g, ans, src, index, dim, shape: gather(g, dim, index), None)


def gather(input, dim: int, index) -> Tensor:
    """Values of ``input`` along ``dim`` at ``index`` (``torch.gather``).

    Shapes: ``input (d0, ..., dn)``, ``index`` integer with the same number of dims and
    ``index.shape[d] <= input.shape[d]`` for ``d != dim``; the result has ``index``'s
    shape. Differentiable in ``input``.

    >>> import autograd_cnn as ac
    >>> ac.gather(ac.tensor([[1.0, 2.0], [3.0, 4.0]]), 1, ac.tensor([[1], [0]])).tolist()
    [[2.0], [3.0]]
    """
    x, idx = as_tensor(input), as_tensor(index)
    (d,) = normalize_axis(dim, x.ndim, "dim")
    return _gather(x, idx, dim=d)


def scatter_add(src, index, dim: int, shape) -> Tensor:
    """``zeros(shape)`` with ``src`` added at ``index`` along ``dim`` (the adjoint of
    :func:`gather`; repeated indices accumulate). Shapes: ``src`` and ``index`` alike."""
    s, idx = as_tensor(src), as_tensor(index)
    shape = tuple(int(n) for n in shape)
    (d,) = normalize_axis(dim, len(shape), "dim")
    return _scatter_add(s, idx, dim=d, shape=shape)


__all__ = ["gather", "scatter_add"]
