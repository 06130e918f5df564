"""Pooling: max and average pooling in 1, 2 and 3 dimensions, adaptive pooling, unpooling,
power-average (Lp) pooling and cross-channel max pooling (maxout). Layout is NCHW
(``(N, C, *spatial)``; an unbatched ``(C, *spatial)`` input works too).

The primitives close on themselves under differentiation:

- ``max_pool{1,2,3}d`` / ``adaptive_max_pool2d`` return the pooled values and keep the
  argmax (flat index into each input plane) as auxiliary data. Their VJP is
  ``pool_scatter(g, indices)`` - the output gradient added at the saved positions, so
  overlapping windows accumulate - whose VJP is ``pool_gather(gg, indices)`` at the same
  indices, whose VJP is ``pool_scatter`` again. Double backward therefore works and the
  backward graph shows both nodes.
- ``avg_pool{1,2,3}d`` / ``adaptive_avg_pool2d`` are linear; their VJP is
  ``avg_pool_backward`` (the adjoint, spreading ``g / divisor`` over each window), whose VJP
  is the forward average pool again.

Semantics follow PyTorch CPU: the gradient of a max goes to the first maximum in row-major
window order; a NaN in a window propagates to the output; padding counts as -inf for max
and follows ``count_include_pad`` for average; the output size uses PyTorch's
``ceil_mode`` rule (the last window must start inside the input or the left padding).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..errors import DTypeError, InvalidArgumentError, PoolShapeError
from ..kernels import pool as K
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from .pool_scatter import (  # noqa: F401  (the index primitives; re-exported)
    _pool_gather,
    _pool_scatter,
    _scatter_shape,
    _unpool_scatter,
    pool_gather,
    pool_scatter,
)

_DIMS = {1: "L", 2: "H, W", 3: "D, H, W"}


# ---- argument parsing ----------------------------------------------------------------


def _ntuple(value, nd: int, name: str, fn: str, minimum: int) -> tuple:
    """``value`` (int or sequence of nd ints) as a tuple of nd ints >= minimum."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        vals = (int(value),) * nd
    elif isinstance(value, (tuple, list)) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
    ):
        vals = tuple(int(v) for v in value)
        if len(vals) == 1:
            vals = vals * nd
        if len(vals) != nd:
            raise InvalidArgumentError(
                f"{fn}(): {name} must be an int or a tuple of {nd} ints, got {value!r}"
            )
    else:
        raise InvalidArgumentError(
            f"{fn}(): {name} must be an int or a tuple of {nd} ints, got {value!r}"
        )
    for v in vals:
        if v < minimum:
            what = "positive" if minimum == 1 else "non-negative"
            raise InvalidArgumentError(
                f"{fn}(): {name} must be {what}, got {value!r}"
            )
    return vals


def _check_input(x: Tensor, nd: int, fn: str, what: str = "input") -> None:
    if x.ndim not in (nd + 1, nd + 2):
        raise PoolShapeError(
            f"{fn}(): {what} must be {nd + 1}-D (C, {_DIMS[nd]}) or {nd + 2}-D "
            f"(N, C, {_DIMS[nd]}), got shape {x.shape}"
        )
    if x.dtype not in (np.float32, np.float64):
        raise DTypeError(f"{fn}(): {what} must be float32 or float64, got {x.dtype}")


def _window_args(fn, nd, kernel_size, stride, padding, dilation):
    k = _ntuple(kernel_size, nd, "kernel_size", fn, 1)
    s = k if stride is None or stride == () or stride == [] else _ntuple(
        stride, nd, "stride", fn, 1)
    p = _ntuple(padding, nd, "padding", fn, 0)
    d = _ntuple(dilation, nd, "dilation", fn, 1)
    return k, s, p, d


# ---- output sizes (the shape rules) ---------------------------------------------------


def pool_output_size(length, kernel, stride, padding, dilation, ceil_mode, fn="pool", dim=0):
    """PyTorch's pooled length along one dimension; raises :class:`PoolShapeError`.

    ``floor_or_ceil((L + 2p - d(k-1) - 1) / s) + 1``; with ``ceil_mode`` the last window
    is dropped when it would start past the input and left padding.
    """
    eff = dilation * (kernel - 1) + 1
    num = length + 2 * padding - eff + (stride - 1 if ceil_mode else 0)
    if length + 2 * padding < eff:
        raise PoolShapeError(
            f"{fn}(): kernel_size {kernel} (dilation {dilation}, effective {eff}) is larger "
            f"than the padded input along spatial dim {dim}: size {length} + 2*padding "
            f"{padding} = {length + 2 * padding}"
        )
    out = num // stride + 1
    if ceil_mode and (out - 1) * stride >= length + padding:
        out -= 1
    return out


def _regular_out(in_sp, kernel_size, stride, padding, dilation, ceil_mode, fn, max_pool):
    out = []
    for i, (n, k, s, p, d) in enumerate(zip(in_sp, kernel_size, stride, padding, dilation)):
        # PyTorch bounds padding by half the kernel itself, dilation or not.
        half = k // 2
        if p > half:
            raise InvalidArgumentError(
                f"{fn}(): padding should be at most half of the kernel size ({half}) along "
                f"spatial dim {i}, got padding={padding} with kernel_size={kernel_size}"
            )
        out.append(pool_output_size(n, k, s, p, d, ceil_mode, fn, i))
    return tuple(out)


def _lift(tabs, divs=None):
    """Pad per-dimension tables to three dimensions (leading dims: a single tap at 0)."""
    one = np.zeros((1, 1), dtype=np.int64)
    tabs = (one,) * (3 - len(tabs)) + tuple(tabs)
    if divs is None:
        return tabs
    divs = (np.ones(1),) * (3 - len(divs)) + tuple(divs)
    return tabs, divs


@lru_cache(maxsize=512)
def _tables(kind: str, in_sp: tuple, spec: tuple):
    """Window tables (and average divisors) of a pooling primitive, cached per shape.

    Returns ``(out_sp, tabs, divs, fast)``: the output spatial shape, three ``(O, K)``
    int64 tables, three divisor vectors (or None for max) and the fast-path argument.
    """
    p = dict(spec)
    is_max = kind.startswith("max") or kind.startswith("adaptive_max")
    if kind.startswith("adaptive"):
        out_sp = p["output_size"]
        tabs, divs = zip(*(K.adaptive_table(n, o) for n, o in zip(in_sp, out_sp)))
        tabs, divs = _lift(tabs, divs)
        return out_sp, tabs, (None if is_max else divs), None
    k, s, pad = p["kernel_size"], p["stride"], p["padding"]
    d = p.get("dilation", (1,) * len(k))
    out_sp = _regular_out(in_sp, k, s, pad, d, p["ceil_mode"], kind, is_max)
    tabs = _lift([K.regular_table(*a) for a in zip(in_sp, k, s, pad, d, out_sp)])
    for i, t in enumerate(tabs[3 - len(k):]):
        if (t < 0).all(axis=1).any():
            # PyTorch returns -inf with an out-of-range index here; we refuse instead
            raise PoolShapeError(
                f"{kind}(): with kernel_size={k}, dilation={d}, padding={pad} some window "
                f"along spatial dim {i} (size {in_sp[i]}) covers only padding; reduce the "
                "padding or dilation"
            )
    fast = None
    if is_max and len(k) <= 2:
        # the row kernel: W-direction stride, dilation, padding and in-bounds ranges
        fast = (s[-1], d[-1], pad[-1], *K.row_ranges(tabs[2]))
        fast += (K.is_2x2_stride_2(tabs[1], tabs[2], *fast[:3]),)
    if is_max:
        return out_sp, tabs, None, fast
    if p["divisor_override"] is not None:
        divs = [np.ones(o) for o in out_sp]
        divs[-1] = np.full(out_sp[-1], float(p["divisor_override"]))
    else:
        divs = [K.regular_divisor(n, kk, st, pp, o, p["count_include_pad"])
                for n, kk, st, pp, o in zip(in_sp, k, s, pad, out_sp)]
    _, divs = _lift(tabs[3 - len(k):], divs)
    return out_sp, tabs, divs, None


def _nd(params) -> int:
    return len(params["kernel_size"] if "kernel_size" in params else params["output_size"])


def _spec(params) -> tuple:
    return tuple(sorted(params.items()))


def _split(shape, nd):
    return tuple(shape[:-nd]), tuple(shape[-nd:])


def _pool_shape(kind):
    def rule(s, **params):
        nd = _nd(params)
        if len(s) not in (nd + 1, nd + 2):
            raise PoolShapeError(
                f"{kind}(): input must be {nd + 1}-D or {nd + 2}-D, got shape {tuple(s)}"
            )
        lead, in_sp = _split(s, nd)
        return lead + tuple(_tables(kind, in_sp, _spec(params))[0])

    return rule


def _as_planes(x: np.ndarray, nd: int) -> tuple[np.ndarray, tuple]:
    lead, in_sp = _split(x.shape, nd)
    return x.reshape((math.prod(lead),) + (1,) * (3 - nd) + in_sp), lead


# ---- max pooling: forward with argmax, scatter and gather -----------------------------


@lru_cache(maxsize=512)
def _max_2x2_plan(kind: str, shape: tuple, spec: tuple):
    """``(P, H*W, W, OH, OW, out_shape)`` when max pooling ``shape`` is 2x2 / stride 2
    without padding (the direct kernel), else None; cached per shape (the per-call Python
    work of the general path costs about as much as the kernel on LeNet's 10x10 planes)."""
    nd = _nd(dict(spec))
    if nd != 2 or len(shape) < 3:
        return None
    out_sp, _, _, fast = _tables(kind, shape[-2:], spec)
    if fast is None or not fast[5]:
        return None
    H, W = shape[-2:]
    return (math.prod(shape[:-2]), H * W, W, *out_sp, tuple(shape[:-2]) + tuple(out_sp))


def _max_impl(kind):
    def impl(x, **params):
        spec = _spec(params)
        plan = _max_2x2_plan(kind, x.shape, spec)
        if plan is not None:
            P, HW, W, OH, OW, shape = plan
            out, idx = K.max_pool_2x2(x.reshape(P, HW), W, OH, OW)
            return out.reshape(shape), idx.reshape(shape)
        nd = _nd(params)
        out_sp, tabs, _, fast = _tables(kind, x.shape[-nd:], spec)
        x3, lead = _as_planes(x, nd)
        out, idx = K.max_pool_forward(x3, *tabs, fast=fast)
        return out.reshape(lead + out_sp), idx.reshape(lead + out_sp)

    return impl


def _max_vjp(g, ans, x, aux=None, **params):
    return pool_scatter(g, Tensor._wrap(aux, False), x.shape[-_nd(params):])


# ---- average pooling and its adjoint -------------------------------------------------


def _avg_impl(kind):
    def impl(x, **params):
        nd = _nd(params)
        out_sp, tabs, divs, _ = _tables(kind, x.shape[-nd:], _spec(params))
        x3, lead = _as_planes(x, nd)
        return K.avg_pool_forward(x3, *tabs, *divs).reshape(lead + out_sp)

    return impl


def _avg_bwd_shape(g, kind, in_spatial, spec):
    nd = len(in_spatial)
    out_sp = _tables(kind, tuple(in_spatial), spec)[0]
    if tuple(g[len(g) - nd:]) != tuple(out_sp):
        raise PoolShapeError(
            f"avg_pool_backward(): gradient spatial shape must be {out_sp}, got {tuple(g)}"
        )
    return tuple(g[: len(g) - nd]) + tuple(in_spatial)


def _avg_bwd_impl(g, kind, in_spatial, spec):
    nd = len(in_spatial)
    shape = _avg_bwd_shape(g.shape, kind, in_spatial, spec)
    _, tabs, divs, _ = _tables(kind, tuple(in_spatial), spec)
    g3, lead = _as_planes(g, nd)
    in_dhw = (1,) * (3 - nd) + tuple(in_spatial)
    return K.avg_pool_backward(g3, in_dhw, *tabs, *divs).reshape(shape)


_avg_pool_backward = register(
    Primitive("avg_pool_backward", _avg_bwd_impl, category="pool", shape=_avg_bwd_shape,
              doc="adjoint of average pooling: g / divisor spread over each window")
).defvjp(lambda g, ans, gy, kind, in_spatial, spec: _PRIMS[kind](g, **dict(spec)))


def _avg_vjp(kind):
    def vjp(g, ans, x, **params):
        nd = _nd(params)
        return _avg_pool_backward(g, kind=kind, in_spatial=tuple(x.shape[-nd:]),
                                  spec=_spec(params))

    return vjp


_PRIMS: dict[str, Primitive] = {}
for _nd_ in (1, 2, 3):
    for _kind, _impl, _vjp in (
        (f"max_pool{_nd_}d", _max_impl, None),
        (f"avg_pool{_nd_}d", _avg_impl, _avg_vjp),
    ):
        _is_max = _kind.startswith("max")
        _PRIMS[_kind] = register(Primitive(
            _kind, _impl(_kind), category="pool", shape=_pool_shape(_kind), has_aux=_is_max,
        )).defvjp(_max_vjp if _is_max else _vjp(_kind))
for _kind in ("adaptive_max_pool2d", "adaptive_avg_pool2d"):
    _is_max = "max" in _kind
    _PRIMS[_kind] = register(Primitive(
        _kind, (_max_impl if _is_max else _avg_impl)(_kind), category="pool",
        shape=_pool_shape(_kind), has_aux=_is_max,
    )).defvjp(_max_vjp if _is_max else _avg_vjp(_kind))


def _with_indices(prim: Primitive, x: Tensor, params: dict, return_indices: bool):
    """Apply a has_aux pooling primitive; with ``return_indices`` also wrap the argmax."""
    from ..tape import STATE

    if not return_indices:
        return prim(x, **params)
    if STATE.meta:
        y = prim(x, **params)
        return y, Tensor._wrap(np.broadcast_to(np.zeros((), np.int64), y.shape), False)
    if STATE.grad_enabled and x.requires_grad:
        y = prim(x, **params)
        return y, Tensor._wrap(y._node.aux, False)
    out, idx = prim.impl(x.data, **params)
    return Tensor._wrap(out, False), Tensor._wrap(idx, False)


# ---- public faces --------------------------------------------------------------------


def _max_pool(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    fn = f"max_pool{nd}d"
    x = as_tensor(input)
    _check_input(x, nd, fn)
    k, s, p, d = _window_args(fn, nd, kernel_size, stride, padding, dilation)
    params = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=bool(ceil_mode))
    _regular_out(x.shape[-nd:], k, s, p, d, bool(ceil_mode), fn, True)  # validate early
    return _with_indices(_PRIMS[fn], x, params, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling. ``input: (N, C, L)`` or ``(C, L)`` -> ``(N, C, L_out)``.

    See :func:`max_pool2d`; indices are positions along ``L``.
    """
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling (PyTorch ``F.max_pool2d``).

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or unbatched ``(C, H, W)``; float32 or float64.
    kernel_size, stride, padding, dilation : int or (int, int)
        Window, step (default: the kernel size), implicit -inf padding (at most half the
        effective kernel), spacing between window taps.
    ceil_mode : bool
        Round the output size up (windows may hang past the input, never start past it).
    return_indices : bool
        Also return the argmax, flat ``h * W + w`` into each input plane (int64), for
        :func:`max_unpool2d`.

    Returns
    -------
    Tensor ``(N, C, H_out, W_out)``, plus indices of the same shape if asked.
    ``H_out = floor((H + 2p - d(k-1) - 1) / s) + 1`` (ceil with ``ceil_mode``).

    The gradient goes to the first maximum of each window in row-major order (PyTorch CPU's
    choice); overlapping windows add their contributions; a NaN propagates.

    Examples
    --------
    >>> import autograd_cnn as ac, autograd_cnn.functional as F
    >>> x = ac.tensor([[[[3., 1, 3, 5], [6, 0, 7, 9], [3, 2, 1, 4], [0, 2, 4, 3]]]])
    >>> F.max_pool2d(x, 2).numpy()[0, 0]
    array([[6., 9.],
           [3., 4.]], dtype=float32)
    """
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling. ``input: (N, C, D, H, W)`` or ``(C, D, H, W)``.

    See :func:`max_pool2d`; indices are flat ``(d * H + h) * W + w``.
    """
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_pool(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    fn = f"avg_pool{nd}d"
    x = as_tensor(input)
    _check_input(x, nd, fn)
    k, s, p, _ = _window_args(fn, nd, kernel_size, stride, padding, 1)
    if divisor_override is not None and (
        isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer))
        or divisor_override == 0
    ):  # any non-zero int, a negative one too (as PyTorch)
        raise InvalidArgumentError(
            f"{fn}(): divisor_override must be a non-zero int or None, got "
            f"{divisor_override!r}"
        )
    params = dict(kernel_size=k, stride=s, padding=p, ceil_mode=bool(ceil_mode),
                  count_include_pad=bool(count_include_pad),
                  divisor_override=None if divisor_override is None else int(divisor_override))
    _regular_out(x.shape[-nd:], k, s, p, (1,) * nd, bool(ceil_mode), fn, False)
    return _PRIMS[fn](x, **params)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """1-D average pooling. ``input: (N, C, L)`` or ``(C, L)``. See :func:`avg_pool2d`.

    (PyTorch's ``avg_pool1d`` has no ``divisor_override``; it is accepted here.)
    """
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling (PyTorch ``F.avg_pool2d``).

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    kernel_size, stride, padding : int or (int, int)
        Padding is zeros, at most half the kernel.
    ceil_mode : bool
        Round the output size up.
    count_include_pad : bool
        Divide by the window size including padding (clipped to the padded input) rather
        than by the number of real elements.
    divisor_override : int, optional
        Divide every window sum by this instead.

    Returns
    -------
    Tensor ``(N, C, H_out, W_out)``, sizes as in :func:`max_pool2d` with ``dilation=1``.

    Examples
    --------
    >>> import autograd_cnn as ac, autograd_cnn.functional as F
    >>> F.avg_pool2d(ac.ones(1, 1, 4, 4), 2).shape
    (1, 1, 2, 2)
    """
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling. ``input: (N, C, D, H, W)`` or ``(C, D, H, W)``."""
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive_size(x: Tensor, output_size, nd: int, fn: str) -> tuple:
    if output_size is None:
        raise InvalidArgumentError(f"{fn}(): output_size must be given, got None")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != nd:
            raise InvalidArgumentError(
                f"{fn}(): output_size must be an int or a tuple of {nd}, got {output_size!r}"
            )
        sizes = tuple(x.shape[-nd + i] if v is None else v for i, v in enumerate(output_size))
    else:
        sizes = output_size
    out = _ntuple(sizes, nd, "output_size", fn, 1)
    for i, n in enumerate(x.shape[-nd:]):
        if n < 1:
            raise PoolShapeError(f"{fn}(): input spatial dim {i} is empty (shape {x.shape})")
    from ..kernels.conv_dispatch import check_output_size

    check_output_size(x.shape[:-nd] + out, f"{fn}(): output_size={output_size!r}")
    return out


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Average over PyTorch's adaptive windows ``[floor(iH/O), ceil((i+1)H/O))``.

    ``input: (N, C, H, W)`` or ``(C, H, W)``; ``output_size``: int or ``(oH, oW)``, a None
    entry keeping that input size. Returns ``(N, C, oH, oW)``. When the sizes divide, equal
    to ``avg_pool2d`` with kernel = stride = ``H // oH``.
    """
    x = as_tensor(input)
    _check_input(x, 2, "adaptive_avg_pool2d")
    return _PRIMS["adaptive_avg_pool2d"](
        x, output_size=_adaptive_size(x, output_size, 2, "adaptive_avg_pool2d"))


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive windows (see :func:`adaptive_avg_pool2d`); first maximum wins."""
    x = as_tensor(input)
    _check_input(x, 2, "adaptive_max_pool2d")
    size = _adaptive_size(x, output_size, 2, "adaptive_max_pool2d")
    return _with_indices(_PRIMS["adaptive_max_pool2d"], x, {"output_size": size},
                         return_indices)


def global_avg_pool2d(input) -> Tensor:
    """Mean over ``H, W``: ``(N, C, H, W)`` -> ``(N, C, 1, 1)`` (= adaptive size 1)."""
    from .reduce import mean

    x = as_tensor(input)
    _check_input(x, 2, "global_avg_pool2d")
    return mean(x, dim=(-2, -1), keepdim=True)


__all__ = [
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "global_avg_pool2d", "max_pool1d", "max_pool2d", "max_pool3d", "pool_gather", "pool_scatter",
]
