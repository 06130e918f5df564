"""Movement primitives: reshape, permute, broadcast_to, concatenate, pad, flip, tile,
and the composites built on them (transpose, squeeze, unsqueeze, flatten, stack, split).

Each VJP is the inverse movement of the gradient (reshape back, inverse permutation,
``sum_to``, slicing, un-padding, flipping again, summing over the tiles).
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..errors import InvalidArgumentError, ShapeError
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from . import reduce as _reduce
from ._common import broadcast_shape, normalize_axis, resolve_dim

# ---- reshape -------------------------------------------------------------------------


def _resolve_shape(shape, size, src_shape) -> tuple:
    shape = tuple(int(s) for s in shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1 or any(s < -1 for s in shape):
        raise ShapeError(f"reshape(): invalid target shape {shape} (at most one -1, no other "
                         "negatives)")
    if unknown:
        rest = math.prod(s for s in shape if s != -1)
        if rest == 0 or size % rest:
            raise ShapeError(f"reshape(): cannot reshape {src_shape} ({size} elements) to "
                             f"{shape}")
        shape = tuple(size // rest if s == -1 else s for s in shape)
    if math.prod(shape) != size:
        raise ShapeError(
            f"reshape(): cannot reshape {src_shape} ({size} elements) to {shape} "
            f"({math.prod(shape)} elements)"
        )
    return shape


_reshape = register(
    Primitive("reshape", lambda x, shape: x.reshape(shape), category="movement",
              shape=lambda s, shape: _resolve_shape(shape, math.prod(s), s), is_view=True)
).defvjp(lambda g, ans, x, shape: reshape(g, x.shape))


def reshape(x, *shape) -> Tensor:
    """View ``x`` with a new shape (one entry may be -1). ``reshape(x, (2, 3))`` or
    ``x.reshape(2, 3)``."""
    x = as_tensor(x)
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = tuple(shape[0])
    shape = _resolve_shape(shape, x.numel(), x.shape)
    if shape == x.shape:
        return x
    return _reshape(x, shape=shape)


view = reshape


def flatten(x, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one (PyTorch). (N, C, H, W) -> (N, C*H*W)
    with ``start_dim=1``."""
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = normalize_axis(start_dim, x.ndim, "start_dim")[0], normalize_axis(
        end_dim, x.ndim, "end_dim")[0]
    if s > e:
        raise InvalidArgumentError(f"flatten(): start_dim ({start_dim}) must not come after "
                                   f"end_dim ({end_dim})")
    shape = x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:]
    return reshape(x, shape)


def ravel(x) -> Tensor:
    """Flatten to 1-D."""
    return reshape(x, (-1,))


def squeeze(x, dim=None) -> Tensor:
    """Remove size-1 dims (all, or those in ``dim``; others in ``dim`` are kept, as
    PyTorch)."""
    x = as_tensor(x)
    axes = normalize_axis(dim, x.ndim) if dim is not None else range(x.ndim)
    drop = {a for a in axes if x.ndim and x.shape[a] == 1}
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in drop))


def unsqueeze(x, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (``-1`` appends)."""
    x = as_tensor(x)
    d = normalize_axis(dim, x.ndim + 1, "dim")[0]
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


expand_dims = unsqueeze

# ---- permute -------------------------------------------------------------------------


def _check_perm(shape, dims):
    if sorted(dims) != list(range(len(shape))):
        raise InvalidArgumentError(
            f"permute(): dims must be a permutation of 0..{len(shape) - 1}, got {dims}"
        )
    return tuple(shape[d] for d in dims)


_permute = register(
    Primitive("permute", lambda x, dims: np.transpose(x, dims), category="movement",
              shape=_check_perm, is_view=True)
).defvjp(lambda g, ans, x, dims: permute(g, tuple(np.argsort(dims))))


def permute(x, *dims) -> Tensor:
    """Reorder dims: ``permute(x, (0, 2, 3, 1))`` turns NCHW into NHWC."""
    x = as_tensor(x)
    if len(dims) == 1 and not isinstance(dims[0], (int, np.integer)):
        dims = tuple(dims[0])
    if len(dims) != x.ndim:
        raise InvalidArgumentError(
            f"permute(): dims must list each of the {x.ndim} dims once, got {dims}")
    for k, d in enumerate(dims):
        if not isinstance(d, (int, np.integer)) or not -x.ndim <= d < builtins.max(x.ndim, 1):
            raise InvalidArgumentError(
                f"permute(): dims[{k}] = {d!r} is out of range for a {x.ndim}-D tensor "
                f"(expected an int in [{-x.ndim}, {x.ndim - 1}])")
    dims = tuple(int(d) % builtins.max(x.ndim, 1) for d in dims)
    _check_perm(x.shape, dims)
    if dims == tuple(range(x.ndim)):
        return x
    return _permute(x, dims=dims)


def transpose(x, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two dims (default the last two, so ``transpose(m)`` is the matrix transpose)."""
    x = as_tensor(x)
    if x.ndim < 2:
        return x
    a = normalize_axis(dim0, x.ndim, "dim0")[0]
    b = normalize_axis(dim1, x.ndim, "dim1")[0]
    dims = list(range(x.ndim))
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, tuple(dims))


# ---- broadcast_to --------------------------------------------------------------------


def _broadcast_shape_rule(s, shape):
    if broadcast_shape(s, shape, what="broadcast_to()") != tuple(shape):
        raise ShapeError(f"broadcast_to(): shape {tuple(s)} cannot be broadcast to {shape}")
    return tuple(shape)


_broadcast = register(
    Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape), category="movement",
              shape=_broadcast_shape_rule, is_view=True)
).defvjp(lambda g, ans, x, shape: _sum_to(g, x.shape))


def _sum_to(g, shape):
    return _reduce.sum_to(g, shape)


def broadcast_to(x, shape) -> Tensor:
    """Broadcast ``x`` to ``shape`` (a read-only view); gradient sums back."""
    x = as_tensor(x)
    shape = tuple(int(s) for s in shape)
    if x.shape == shape:
        return x
    _broadcast_shape_rule(x.shape, shape)
    return _broadcast(x, shape=shape)


def expand(x, *sizes) -> Tensor:
    """PyTorch's ``expand``: broadcast, with -1 keeping a dim's size."""
    x = as_tensor(x)
    if len(sizes) == 1 and not isinstance(sizes[0], (int, np.integer)):
        sizes = tuple(sizes[0])
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


# ---- concatenate, stack, split -------------------------------------------------------


def _concat_shape(*shapes, axis):
    first = shapes[0]
    for k, s in enumerate(shapes[1:], 1):
        if len(s) != len(first) or any(
            a != b for i, (a, b) in enumerate(zip(s, first)) if i != axis
        ):
            raise ShapeError(
                f"concatenate(): tensor {k} has shape {tuple(s)}, incompatible with tensor 0 "
                f"of shape {tuple(first)} (all dims but dim {axis} must match)"
            )
    out = list(first)
    out[axis] = sum(s[axis] for s in shapes)
    return tuple(out)


def _concat_vjp(argnum, g, ans, *inputs, axis):
    from .indexing import getitem

    start = sum(t.shape[axis] for t in inputs[:argnum])
    index = (slice(None),) * axis + (slice(start, start + inputs[argnum].shape[axis]),)
    return getitem(g, index)


_concat = register(
    Primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis),
              category="movement", shape=_concat_shape)
).defvjp_argnum(_concat_vjp)


def concatenate(tensors, dim: int = 0, *, axis=None) -> Tensor:
    """Join tensors along an existing ``dim`` (PyTorch ``cat``).

    As in PyTorch, 1-D empty tensors (shape ``(0,)``) are skipped when the others have
    more dims (its legacy rule for concatenating onto an empty start value).
    """
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise InvalidArgumentError("concatenate(): expected a non-empty sequence of tensors")
    if not all(t.ndim == 1 for t in tensors):
        tensors = [t for t in tensors if t.shape != (0,)]
    d = normalize_axis(resolve_dim(dim, axis, "concatenate"), tensors[0].ndim)[0]
    _concat_shape(*(t.shape for t in tensors), axis=d)
    if len(tensors) == 1:
        return tensors[0]
    return _concat(*tensors, axis=d)


cat = concat = concatenate


def stack(tensors, dim: int = 0, *, axis=None) -> Tensor:
    """Join same-shaped tensors along a new ``dim``."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise InvalidArgumentError("stack(): expected a non-empty sequence of tensors")
    for k, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack(): tensor {k} has shape {t.shape}, tensor 0 has "
                             f"{tensors[0].shape}; all must be equal")
    d = resolve_dim(dim, axis, "stack")
    return concatenate([unsqueeze(t, d) for t in tensors], dim=d)


def split(x, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into chunks along ``dim`` (PyTorch): an int is the chunk size, a list gives
    each chunk's size."""
    from .indexing import getitem

    x = as_tensor(x)
    d = normalize_axis(dim, x.ndim)[0]
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step <= 0:
            raise InvalidArgumentError(f"split(): split_size must be positive, got {step}")
        sizes = [min(step, n - i) for i in range(0, n, step)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise InvalidArgumentError(
                f"split(): sections {sizes} sum to {sum(sizes)}, dim {d} has size {n}"
            )
    out, start = [], 0
    for s in sizes:
        out.append(getitem(x, (slice(None),) * d + (slice(start, start + s),)))
        start += s
    return tuple(out)


# ---- pad -----------------------------------------------------------------------------


def _pad_shape(s, pad_width, value):
    return tuple(n + lo + hi for n, (lo, hi) in zip(s, pad_width))


def _unpad(g, ans, x, pad_width, value):
    from .indexing import getitem

    return getitem(g, tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape, pad_width)))


_pad = register(
    Primitive("pad", lambda x, pad_width, value: np.pad(x, pad_width, constant_values=value),
              category="movement", shape=_pad_shape)
).defvjp(_unpad)


def _pad_pairs(x: Tensor, pad, mode: str) -> list:
    """PyTorch's flat ``pad`` (last dim first) as one ``(lo, hi)`` pair per dim of ``x``,
    checked against what each mode can do."""
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise InvalidArgumentError(f"pad(): pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise InvalidArgumentError(
            f"pad(): pad must have an even number of values, at most 2 per dim "
            f"({2 * x.ndim} for this {x.ndim}-D input), got {len(pad)}: {tuple(pad)}")
    pairs = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        pairs[x.ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    for d, (lo, hi) in enumerate(pairs):
        n = x.shape[d]
        kept = n - max(-lo, 0) - max(-hi, 0)  # what is left after the crops
        if mode in ("constant", "circular"):
            if kept < 0:
                raise InvalidArgumentError(
                    f"pad(): cropping ({lo}, {hi}) of dim {d} removes more than its {n} "
                    "elements")
            if mode == "circular" and builtins.max(lo, hi) > kept:
                raise InvalidArgumentError(
                    f"pad(): mode='circular' wraps around at most once: padding ({lo}, {hi}) "
                    f"of dim {d} must be at most its {kept} (cropped) elements")
            continue
        if n + lo + hi < 0:
            raise InvalidArgumentError(
                f"pad(): padding ({lo}, {hi}) of dim {d} crops more than its {n} elements "
                f"(mode={mode!r})")
        if (lo > 0 or hi > 0) and n == 0:
            raise InvalidArgumentError(
                f"pad(): mode={mode!r} cannot pad dim {d} of size 0 (input shape {x.shape})")
        if mode == "reflect" and builtins.max(lo, hi) > builtins.max(n - 1, 0):
            raise InvalidArgumentError(
                f"pad(): mode='reflect' allows padding of at most {n - 1} on dim {d} of size "
                f"{n}, got ({lo}, {hi})")
    return pairs


def _crop(x: Tensor, pairs) -> Tensor:
    """Drop ``-lo``/``-hi`` elements where an amount is negative."""
    if all(lo >= 0 and hi >= 0 for lo, hi in pairs):
        return x
    from .indexing import getitem

    return getitem(x, tuple(slice(builtins.max(-lo, 0), n + hi if hi < 0 else None)
                            for n, (lo, hi) in zip(x.shape, pairs)))


def pad(x, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad ``x`` with PyTorch's convention: ``pad`` lists (left, right) pairs starting from
    the LAST dim, e.g. ``(1, 1, 2, 2)`` pads W by 1 and H by 2 on each side.

    ``mode``: ``"constant"`` (fill with ``value``, default 0), ``"reflect"``,
    ``"replicate"`` or ``"circular"`` (as ``torch.nn.functional.pad``). Negative amounts
    crop, in every mode, with PyTorch's meaning: ``constant`` and ``circular`` crop first
    and then pad (circular wraps around the cropped dim), ``reflect`` and ``replicate``
    map output index ``o`` to input index ``o - lo`` reflected/clamped into range (so a
    crop may reach into the new border). Shape: each dim grows by its two amounts.

    Examples
    --------
    >>> import autograd_cnn as ac, autograd_cnn.functional as F
    >>> F.pad(ac.tensor([1.0, 2.0, 3.0]), (-1, 2), mode="replicate").numpy()
    array([2., 3., 3., 3.], dtype=float32)
    """
    from ..kernels.conv_dispatch import check_output_size

    x = as_tensor(x)
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise InvalidArgumentError(
            f"pad(): mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    if mode != "constant" and value not in (None, 0, 0.0):
        raise InvalidArgumentError(
            f"pad(): value={value!r} is only meaningful with mode='constant', got "
            f"mode={mode!r}"
        )
    value = 0.0 if value is None else value
    if not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidArgumentError(f"pad(): value must be a number, got {value!r}")
    pairs = _pad_pairs(x, pad, mode)
    check_output_size(tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, pairs)),
                      f"pad(): pad={tuple(pad)}")
    grow = [(builtins.max(lo, 0), builtins.max(hi, 0)) for lo, hi in pairs]
    crop_first = mode in ("constant", "circular")
    if crop_first:
        x = _crop(x, pairs)
    if mode == "constant":  # also without growth: a new tensor, as PyTorch returns
        if any(lo or hi for lo, hi in grow) or not any(lo or hi for lo, hi in pairs):
            x = _pad(x, pad_width=tuple(grow), value=value)
    elif any(lo or hi for lo, hi in grow):
        from .conv import pad_nd

        first = next(d for d, (lo, hi) in enumerate(grow) if lo or hi)
        x = pad_nd(x, tuple(grow[first:]), mode)
    return x if crop_first else _crop(x, pairs)


# ---- flip, tile ----------------------------------------------------------------------

_flip = register(
    Primitive("flip", lambda x, dims: np.flip(x, dims), category="movement",
              shape=lambda s, dims: tuple(s), is_view=True)
).defvjp(lambda g, ans, x, dims: flip(g, dims))


def flip(x, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (int or tuple)."""
    x = as_tensor(x)
    return _flip(x, dims=normalize_axis(dims, x.ndim, "dims"))


def _tile_shape(s, reps):
    s = (1,) * (len(reps) - len(s)) + tuple(s)
    return tuple(a * r for a, r in zip(s, reps))


def _tile_vjp(g, ans, x, reps):
    # Reshape (r0*s0, r1*s1, ...) into (r0, s0, r1, s1, ...) and sum out the r's.
    padded = (1,) * (len(reps) - x.ndim) + x.shape
    inter = []
    for r, s in zip(reps, padded):
        inter += [r, s]
    summed = _reduce.sum(reshape(g, tuple(inter)), tuple(range(0, 2 * len(reps), 2)))
    return reshape(summed, x.shape)


_tile = register(
    Primitive("tile", lambda x, reps: np.tile(x, reps), category="movement", shape=_tile_shape)
).defvjp(_tile_vjp)


def tile(x, reps) -> Tensor:
    """Repeat the whole tensor ``reps[i]`` times along dim i (``numpy.tile``; PyTorch's
    ``Tensor.repeat``)."""
    x = as_tensor(x)
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    if any(r < 0 for r in reps):
        raise InvalidArgumentError(f"tile(): repetitions must be non-negative, got {reps}")
    reps = (1,) * (x.ndim - len(reps)) + reps
    from ..kernels.conv_dispatch import check_output_size

    check_output_size(_tile_shape(x.shape, reps), f"tile(): reps={reps}")
    return _tile(x, reps=reps)


def repeat(x, *sizes) -> Tensor:
    """PyTorch's ``Tensor.repeat(*sizes)``: same as :func:`tile`."""
    if len(sizes) == 1 and not isinstance(sizes[0], (int, np.integer)):
        sizes = tuple(sizes[0])
    x = as_tensor(x)
    if len(sizes) < x.ndim:
        raise InvalidArgumentError(
            f"repeat(): number of sizes ({len(sizes)}) can not be smaller than the number of "
            f"dims ({x.ndim})"
        )
    return tile(x, sizes)
