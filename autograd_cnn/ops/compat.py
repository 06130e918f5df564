"""Tensor functions PyTorch programs use that the core DSL spells differently or lacks:
``clone``, ``mm``/``bmm``/``t``, ``chunk``, ``one_hot``, ``isnan``/``isinf``/``isfinite``,
``any``/``all``, ``embedding``, ``linear``, ``group_norm``, ``instance_norm``.

``clone`` is a primitive (an identity with its own buffer, VJP ``g``); the rest are
compositions of existing differentiable ops, or non-differentiable boolean/integer maps.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DTypeError, IndexOutOfRangeError, InvalidArgumentError, ShapeError
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from . import elementwise as E
from . import movement as M
from . import reduce as R
from ._common import as_operand, normalize_axis, same_shape

_clone = register(Primitive("clone", lambda x: np.array(x, copy=True), category="elementwise",
                            shape=same_shape))
_clone.defvjp(lambda g, ans, x: g)


def clone(input) -> Tensor:  # noqa: A002 - PyTorch's name
    """A copy with its own memory; differentiable (gradient passes through unchanged)."""
    return _clone(as_tensor(input))


def mm(input, mat2) -> Tensor:  # noqa: A002
    """Matrix product of two 2-D tensors: (n, m) @ (m, p) -> (n, p)."""
    from .linalg import matmul

    a, b = as_operand(input), as_operand(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"mm(): expected 2-D tensors, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def bmm(input, mat2) -> Tensor:  # noqa: A002
    """Batched matrix product: (b, n, m) @ (b, m, p) -> (b, n, p)."""
    from .linalg import matmul

    a, b = as_operand(input), as_operand(mat2)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ShapeError(
            f"bmm(): expected 3-D tensors with the same batch size, got {a.shape} and {b.shape}")
    return matmul(a, b)


def t(input) -> Tensor:  # noqa: A002
    """Transpose of a tensor with at most 2 dims (0-D and 1-D come back as they are)."""
    x = as_tensor(input)
    if x.ndim > 2:
        raise ShapeError(f"t(): expects a tensor with <= 2 dims, got shape {x.shape}; use "
                         "transpose(dim0, dim1)")
    return x if x.ndim < 2 else M.transpose(x, 0, 1)


def chunk(input, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    """Split into ``chunks`` pieces along ``dim``, each of size ``ceil(n / chunks)`` (the
    last may be smaller, and there may be fewer pieces), as ``torch.chunk``."""
    x = as_tensor(input)
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise InvalidArgumentError(f"chunk(): chunks must be a positive int, got {chunks!r}")
    d = normalize_axis(dim, x.ndim)[0]
    n = x.shape[d]
    return M.split(x, _max2(1, math.ceil(n / chunks)), d) if n else (x,)


def _max2(a, b):
    return a if a > b else b


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """``(..., num_classes)`` int64 tensor with a 1 at each class index of ``tensor``.

    ``num_classes=-1`` uses ``tensor.max() + 1``. Not differentiable.

    >>> one_hot(Tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    idx = as_tensor(tensor)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"one_hot(): tensor must hold integer class indices, got dtype "
                         f"{idx.dtype}")
    a = idx.data
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or \
            num_classes < 0:
        raise InvalidArgumentError(f"one_hot(): num_classes must be an int >= 0 or -1, got "
                                   f"{num_classes!r}")
    if a.size and (a.min() < 0 or a.max() >= num_classes):
        raise IndexOutOfRangeError(
            f"one_hot(): class values must be in [0, {num_classes}), got [{a.min()}, {a.max()}]")
    out = np.zeros(a.shape + (int(num_classes),), dtype=np.int64)
    np.put_along_axis(out, a[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._wrap(out, False)


def _predicate(fn, doc):
    def op(input) -> Tensor:  # noqa: A002
        return Tensor._wrap(np.asarray(fn(as_tensor(input).data)), False)

    op.__name__ = fn.__name__
    op.__doc__ = doc
    return op


isnan = _predicate(np.isnan, "Elementwise ``x != x`` (NaN test) as a boolean tensor.")
isinf = _predicate(np.isinf, "Elementwise test for +-inf, as a boolean tensor.")
isfinite = _predicate(np.isfinite, "Elementwise test for finite values, as a boolean tensor.")


def _logical_reduce(fn, name):
    def op(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
        x = as_tensor(input)
        axes = normalize_axis(dim, x.ndim, "dim") if x.ndim else None
        return Tensor._wrap(np.asarray(fn(x.data, axis=axes, keepdims=keepdim)), False)

    op.__name__ = name
    op.__doc__ = (f"Whether {'any' if name == 'any' else 'every'} element (over ``dim``, or "
                  "all) is non-zero, as a boolean tensor.")
    return op


any = _logical_reduce(np.any, "any")  # noqa: A001
all = _logical_reduce(np.all, "all")  # noqa: A001


def embedding(input, weight, padding_idx: int | None = None) -> Tensor:  # noqa: A002
    """Rows of ``weight`` (num_embeddings, dim) at integer ``input``: shape
    ``input.shape + (dim,)``. Differentiable in ``weight`` (rows at ``padding_idx`` get no
    gradient, as in PyTorch)."""
    from .indexing import getitem

    idx, w = as_operand(input), as_operand(weight)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"embedding(): input must hold integer indices, got {idx.dtype}")
    if w.ndim != 2:
        raise ShapeError(f"embedding(): weight must be 2-D, got shape {w.shape}")
    a = idx.data
    if a.size and (a.min() < 0 or a.max() >= w.shape[0]):
        raise IndexOutOfRangeError(
            f"embedding(): indices must be in [0, {w.shape[0]}), got [{a.min()}, {a.max()}]")
    out = getitem(w, a)
    if padding_idx is not None and w.requires_grad:
        keep = Tensor._wrap((a != padding_idx)[..., None].astype(w.dtype), False)
        out = E.where(keep.data.astype(bool), out, out.detach())
    return out


def linear(input, weight, bias=None) -> Tensor:  # noqa: A002
    """``input @ weight.T + bias``: (..., in) x (out, in) -> (..., out)."""
    from .linalg import matmul

    x, w = as_operand(input), as_operand(weight)
    y = matmul(x, M.transpose(w, 0, 1) if w.ndim == 2 else w)
    return y if bias is None else y + bias


def _affine(y, weight, bias, c, nd):
    shape = (1, c) + (1,) * (nd - 2)
    if weight is not None:
        y = y * M.reshape(as_operand(weight), shape)
    if bias is not None:
        y = y + M.reshape(as_operand(bias), shape)
    return y


def group_norm(input, num_groups: int, weight=None, bias=None,  # noqa: A002
               eps: float = 1e-5) -> Tensor:
    """Normalize (N, C, ...) over each group of ``C // num_groups`` channels and all
    spatial positions (biased variance), then scale/shift per channel."""
    x = as_tensor(input)
    if x.ndim < 2:
        raise ShapeError(f"group_norm(): expected (N, C, ...), got shape {x.shape}")
    n, c = x.shape[:2]
    if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 or c % num_groups:
        raise InvalidArgumentError(
            f"group_norm(): num_groups must divide the {c} channels, got {num_groups!r}")
    # explicit group size (not -1): an empty batch has no size to infer from
    g = x.reshape(n, int(num_groups), (c // int(num_groups)) * math.prod(x.shape[2:]))
    mu = R.mean(g, 2, keepdim=True)
    var = R.var(g, 2, keepdim=True, correction=0)
    y = ((g - mu) / E.sqrt(var + eps)).reshape(x.shape)
    return _affine(y, weight, bias, c, x.ndim)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,  # noqa: A002
                  use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Normalize each (sample, channel) plane of (N, C, ...) over its spatial positions.

    Running statistics are updated in place when given and ``use_input_stats``; with
    ``use_input_stats=False`` they are used instead of the input's."""
    x = as_tensor(input)
    if x.ndim < 3:
        raise ShapeError(f"instance_norm(): expected (N, C, ...spatial), got shape {x.shape}")
    c = x.shape[1]
    axes = tuple(range(2, x.ndim))
    if use_input_stats:
        mu = R.mean(x, axes, keepdim=True)
        var = R.var(x, axes, keepdim=True, correction=0)
        if running_mean is not None and running_var is not None:
            m = int(np.prod(x.shape[2:]))
            bm = mu.data.reshape(x.shape[:2]).mean(0)
            bv = var.data.reshape(x.shape[:2]).mean(0) * (m / _max2(m - 1, 1))
            running_mean.data[...] = (1 - momentum) * running_mean.data + momentum * bm
            running_var.data[...] = (1 - momentum) * running_var.data + momentum * bv
            running_mean._bump()
            running_var._bump()
    else:
        shape = (1, c) + (1,) * (x.ndim - 2)
        mu = M.reshape(as_tensor(running_mean), shape)
        var = M.reshape(as_tensor(running_var), shape)
    y = (x - mu) / E.sqrt(var + eps)
    return _affine(y, weight, bias, c, x.ndim)
