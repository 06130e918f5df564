"""Normalization and regularization: ``batch_norm``, ``layer_norm``, ``dropout``.

These are composites of differentiable ops (mean, var, sqrt, mul...): their gradients,
and gradients of gradients, come from those ops' VJPs, and the backward graph shows the
familiar pieces. Running statistics of ``batch_norm`` are updated in place under
``no_grad`` (they are buffers, not part of the graph).
"""

from __future__ import annotations

import math

import numpy as np

from ..creation import get_rng
from ..errors import InvalidArgumentError, ShapeError
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from ._common import as_operand


def _check_p(p, fn):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise InvalidArgumentError(f"{fn}(): p must be a probability in [0, 1], got {p!r}")


def _dropout_mask_impl(x, p, keep_dims, seed, generator):
    mask_shape = x.shape[:keep_dims] + (1,) * (x.ndim - keep_dims)
    if p == 1.0:
        return np.zeros(mask_shape, dtype=x.dtype)
    rng = get_rng(seed=seed, generator=generator)
    return (rng.random(mask_shape) >= p).astype(x.dtype) / x.dtype.type(1.0 - p)


# The random mask is a primitive (not a constant made beside the graph), so a traced or
# compiled model draws a fresh mask on every call, as eager code does.
_dropout_mask = register(Primitive(
    "dropout_mask", _dropout_mask_impl, category="normalization", differentiable=False,
    shape=lambda s, p, keep_dims, seed, generator: tuple(s[:keep_dims]) + (1,) * (
        len(s) - keep_dims)))


def _mask_dropout(x: Tensor, p: float, keep_dims: int, seed, generator) -> Tensor:
    from .elementwise import mul

    return mul(x, _dropout_mask(x, p=p, keep_dims=keep_dims, seed=seed, generator=generator))


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False, *,
            seed=None, generator=None) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Parameters
    ----------
    input : Tensor
        Any shape.
    p : float
        Drop probability in ``[0, 1]``.
    training : bool
        When False, return ``input`` unchanged (inverted dropout needs no eval scaling).
    inplace : bool
        Accepted for PyTorch compatibility; the result is always a new tensor.
    seed, generator : optional
        Randomness via :func:`autograd_cnn.creation.get_rng` (the global generator by
        default), so runs are reproducible.

    Returns
    -------
    Tensor of ``input``'s shape. The gradient is the same mask times the output gradient.

    Examples
    --------
    >>> import autograd_cnn as ac, autograd_cnn.functional as F
    >>> y = F.dropout(ac.ones(1000), 0.5, seed=0)
    >>> sorted(set(y.numpy().tolist()))
    [0.0, 2.0]
    """
    _check_p(p, "dropout")
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    return _mask_dropout(x, float(p), x.ndim, seed, generator)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False, *,
              seed=None, generator=None) -> Tensor:
    """Channel dropout: zero whole channels of ``(N, C, H, W)`` input with probability
    ``p``, scaling kept channels by ``1 / (1 - p)``.

    A 3-D input is read as ``(N, C, L)`` (channel-wise 1-D dropout), as PyTorch 2 does,
    with PyTorch's warning (older PyTorch read it as an unbatched ``(C, H, W)``).
    """
    _check_p(p, "dropout2d")
    x = as_tensor(input)
    if x.ndim not in (3, 4):
        raise ShapeError(f"dropout2d(): input must be (N, C, H, W) or (N, C, L), got {x.shape}")
    if x.ndim == 3:
        import warnings

        warnings.warn(
            "dropout2d(): received a 3-D input; as in PyTorch it is read as (N, C, L) and "
            "whole channels of length L are dropped (use dropout1d to say so)",
            UserWarning, stacklevel=2)
    if not training or p == 0.0:
        return x
    return _mask_dropout(x, float(p), x.ndim - 2, seed, generator)


def _bessel(x, axes, n):
    """``n / (n - 1)``: a number for a static shape, a graph value while tracing."""
    from ..tape import concrete
    from .logic import numel

    if concrete(x) is not None:
        return n / (n - 1)
    count = numel(x, axes, x.dtype)
    return count / (count - 1)


def _param(t, c, name, fn):
    t = as_operand(t)
    if t.shape != (c,):
        raise ShapeError(f"{fn}(): {name} must have shape ({c},) (one per channel), "
                         f"got {t.shape}")
    return t


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5) -> Tensor:
    """Batch normalization over ``(N, *spatial)`` per channel (PyTorch ``F.batch_norm``).

    Parameters
    ----------
    input : Tensor
        ``(N, C)``, ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
    running_mean, running_var : Tensor ``(C,)`` or None
        Buffers. In training they are updated in place (under ``no_grad``):
        ``r = (1 - momentum) * r + momentum * batch_stat``, the variance unbiased
        (``n / (n - 1)``). In evaluation they normalize the input.
    weight, bias : Tensor ``(C,)``, optional
        Affine scale and shift.
    training : bool
        Normalize with the batch's statistics (biased variance) rather than the running ones.
    momentum : float
        Weight of the new batch statistic.
    eps : float
        Added to the variance.

    Returns
    -------
    Tensor of ``input``'s shape: ``(x - mean) / sqrt(var + eps) * weight + bias``.

    Examples
    --------
    >>> import autograd_cnn as ac, autograd_cnn.functional as F
    >>> x = ac.randn(8, 3, 4, 4, seed=0)
    >>> rm, rv = ac.zeros(3), ac.ones(3)
    >>> y = F.batch_norm(x, rm, rv, training=True)
    >>> abs(float(y.numpy().mean())) < 1e-6
    True
    """
    from ..tape import assign, no_grad
    from .elementwise import sqrt
    from .movement import reshape
    from .reduce import mean, var

    fn = "batch_norm"
    x = as_tensor(input)
    if x.ndim < 2:
        raise ShapeError(f"{fn}(): input must be (N, C, *), got shape {x.shape}")
    c = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, c) + (1,) * (x.ndim - 2)
    n = x.shape[0] * math.prod(x.shape[2:])
    if training:
        if n <= 1:
            raise InvalidArgumentError(
                f"{fn}(): expected more than 1 value per channel when training, got input "
                f"shape {x.shape}"
            )
        mu = mean(x, dim=axes, keepdim=True)
        v = var(x, dim=axes, keepdim=True, correction=0)
        if running_mean is not None or running_var is not None:
            if momentum is None or not 0.0 <= float(momentum) <= 1.0:
                raise InvalidArgumentError(
                    f"{fn}(): momentum must be a number in [0, 1], got {momentum!r}"
                )
            m = float(momentum)
            # Computed with ops and written with ``assign``, so a traced graph records
            # the update and its replays perform it too.
            with no_grad():
                if running_mean is not None:
                    rm = _param(running_mean, c, "running_mean", fn)
                    assign(rm, rm * (1.0 - m) + reshape(mu, (c,)).astype(rm.dtype) * m)
                if running_var is not None:
                    rv = _param(running_var, c, "running_var", fn)
                    unbiased = reshape(v, (c,)).astype(rv.dtype) * _bessel(x, axes, n)
                    assign(rv, rv * (1.0 - m) + unbiased * m)
    else:
        if running_mean is None or running_var is None:
            raise InvalidArgumentError(
                f"{fn}(): running_mean and running_var are required when training=False"
            )
        mu = reshape(_param(running_mean, c, "running_mean", fn), bshape).astype(x.dtype)
        v = reshape(_param(running_var, c, "running_var", fn), bshape).astype(x.dtype)
    y = (x - mu) / sqrt(v + eps)
    if weight is not None:
        y = y * reshape(_param(weight, c, "weight", fn), bshape)
    if bias is not None:
        y = y + reshape(_param(bias, c, "bias", fn), bshape)
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5) -> Tensor:
    """Normalize over the trailing ``normalized_shape`` dims (PyTorch ``F.layer_norm``).

    ``input: (*, *normalized_shape)``; ``weight, bias: normalized_shape`` (optional).
    Returns ``(x - mean) / sqrt(var + eps) * weight + bias`` (biased variance).
    """
    from .elementwise import sqrt
    from .reduce import mean, var

    x = as_tensor(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(
        normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ShapeError(
            f"layer_norm(): normalized_shape {shape} must match the trailing dims of the "
            f"input, got input shape {x.shape}"
        )
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = mean(x, dim=axes, keepdim=True)
    v = var(x, dim=axes, keepdim=True, correction=0)
    y = (x - mu) / sqrt(v + eps)
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and as_tensor(t).shape != shape:
            raise ShapeError(f"layer_norm(): {name} must have shape {shape}, "
                             f"got {as_tensor(t).shape}")
    if weight is not None:
        y = y * as_operand(weight)
    if bias is not None:
        y = y + as_operand(bias)
    return y


__all__ = ["batch_norm", "dropout", "dropout2d", "layer_norm"]
