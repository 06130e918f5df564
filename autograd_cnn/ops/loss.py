"""Loss functions (``torch.nn.functional`` semantics), composed from differentiable ops.

Every loss but one is a short composition of ``log_softmax``, ``softplus``, products with
constant masks and reductions, so first and higher-order gradients come from the ops'
VJPs. ``binary_cross_entropy`` is a primitive of its own (``bce``): its logs are clamped
at -100 as in PyTorch, and a composition would inherit the clamp's zero gradient, which
stalls training on saturated wrong predictions; its VJP is PyTorch's
``(x - y) / max(x (1 - x), 1e-12)``. Large logits are safe: ``cross_entropy`` goes through
the stable ``log_softmax`` and ``binary_cross_entropy_with_logits`` through the stable
``softplus``, never through ``exp`` of a logit.

Shapes: ``input (N, C)``, ``(C,)`` or ``(N, C, d1, ...)`` for the classification losses;
class-index targets ``(N,)``/``(N, d1, ...)`` (int), probability targets like ``input``.
``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'``.

When every target of a ``'mean'`` ``nll_loss``/``cross_entropy`` is ignored, the loss is
NaN (0/0, as PyTorch) and the gradient is zero.
"""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError, InvalidArgumentError, ShapeError
from ..kernels import loss as K
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from . import elementwise as E
from . import movement as M
from . import reduce as R
from ._common import as_operand
from .logic import numel

_REDUCTIONS = ("none", "mean", "sum")

__all__ = [
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
]


def _check_reduction(reduction, fn):
    if reduction not in _REDUCTIONS:
        raise InvalidArgumentError(
            f"{fn}(): reduction must be one of {_REDUCTIONS}, got {reduction!r}"
        )


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    return loss


def _class_shape(weight_or_none, ndim, C, dtype):
    """A (1, C, 1, ...) view of a per-class vector for broadcasting against input."""
    shape = (1, C) + (1,) * (ndim - 2) if ndim >= 2 else (C,)
    return M.reshape(as_tensor(weight_or_none, dtype), shape)


def _prepare(input, target, weight, fn):
    input = as_tensor(input)
    target = as_operand(target)
    if input.dtype.kind != "f":
        raise DTypeError(f"{fn}(): input must be floating point, got dtype {input.dtype}")
    if input.ndim == 0:
        raise ShapeError(f"{fn}(): input must have a class dimension, got a 0-d tensor")
    C = input.shape[1] if input.ndim >= 2 else input.shape[0]
    if weight is not None:
        weight = as_operand(weight)
        if weight.shape != (C,):
            raise ShapeError(
                f"{fn}(): weight must have shape ({C},) (one per class), got {weight.shape}"
            )
    return input, target, weight, C


def _nll_rows(logp, target, weight, ignore_index):
    """Shared by the nll primitives: the class dim, valid rows, safe indices, row
    weights (0 where ignored) and their total."""
    cdim = 1 if logp.ndim >= 2 else 0
    t = target.astype(np.int64, copy=False)
    valid = t != ignore_index
    C = logp.shape[cdim]
    bad = valid & ((t < 0) | (t >= C))
    if np.any(bad):
        raise InvalidArgumentError(
            f"nll_loss(): target: class indices must be in [0, {C}) (or ignore_index="
            f"{ignore_index}), got {t[bad].ravel()[:5].tolist()}"
        )
    safe = np.expand_dims(np.where(valid, t, 0), cdim)
    w = (weight[safe.squeeze(cdim)] if weight is not None else 1.0) * valid
    return cdim, valid, safe, w.astype(logp.dtype, copy=False)


def _nll_impl(logp, target, *weight, ignore_index, reduction):
    # (N, C) float rows: one Numba pass (kernels/loss.py; by default in compiled programs
    # only); None = not that case (or not active), or a
    # target out of range, which the NumPy code below reports
    fast = K.nll_loss_fast(logp, target, weight[0] if weight else None, ignore_index,
                           reduction)
    if fast is not None:
        return fast
    cdim, valid, safe, w = _nll_rows(logp, target, weight[0] if weight else None,
                                     ignore_index)
    picked = np.take_along_axis(logp, safe, cdim).squeeze(cdim)
    loss = np.where(valid, -picked * w, 0).astype(logp.dtype, copy=False)
    if reduction == "none":
        return loss
    total = loss.sum(dtype=logp.dtype)
    if reduction == "sum":
        return np.asarray(total)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / w.sum(dtype=logp.dtype))  # 0/0 = NaN when all ignored


def _nll_backward_impl(g, target, *weight, ignore_index, reduction, shape):
    fast = K.nll_loss_backward_fast(g, target, weight[0] if weight else None, ignore_index,
                                    reduction, shape)
    if fast is not None:
        return fast
    out = np.zeros(shape, dtype=g.dtype)
    dummy = np.empty((1,) * len(shape), dtype=g.dtype)
    cdim, valid, safe, w = _nll_rows(np.broadcast_to(dummy, shape), target,
                                     weight[0] if weight else None, ignore_index)
    if reduction == "mean":
        denom = w.sum(dtype=g.dtype)
        coef = -w * (g / denom) if denom != 0 else np.zeros_like(w)
    else:
        coef = -w * g
    np.put_along_axis(out, safe, np.expand_dims(coef.astype(g.dtype), cdim), cdim)
    return out


def _nll_shape(ls, ts, *ws, ignore_index, reduction):
    return tuple(ts) if reduction == "none" else ()


_nll = register(Primitive("nll_loss", _nll_impl, category="loss", shape=_nll_shape))
_nll_backward = register(Primitive(
    "nll_loss_backward", _nll_backward_impl, category="loss",
    shape=lambda gs, ts, *ws, ignore_index, reduction, shape: tuple(shape)))
# nll is linear in logp: its VJP scatters -w g into the target classes, and that
# scatter's own VJP (wrt g) is nll again, at the same targets: the pair closes.
_nll.defvjp(
    lambda g, ans, logp, target, *w, ignore_index, reduction: _nll_backward(
        g, target, *w, ignore_index=ignore_index, reduction=reduction, shape=logp.shape),
)
_nll_backward.defvjp(
    lambda g, ans, gin, target, *w, ignore_index, reduction, shape: _nll(
        g, target, *w, ignore_index=ignore_index, reduction=reduction),
)


def _sorting():
    from . import sorting

    return sorting


def _check_target(input, target, fn):
    cdim = 1 if input.ndim >= 2 else 0
    expected = input.shape[:cdim] + input.shape[cdim + 1:]
    if target.shape != expected:
        raise ShapeError(
            f"{fn}(): target of class indices must have shape {expected} for input of shape "
            f"{input.shape}, got {target.shape}"
        )
    return cdim


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"
             ) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` at class indices ``target``.

    ``loss_i = -weight[t_i] * input[i, t_i]``; ``'mean'`` divides by the sum of the
    weights of the non-ignored targets (PyTorch's weighted mean). The log-probability of
    each target is gathered (not multiplied by a one-hot mask), so ``-inf`` at other
    classes does no harm. Shapes: ``input (N, C, *)`` or ``(C,)``, ``target (N, *)``.
    """
    _check_reduction(reduction, "nll_loss")
    input, target, weight, C = _prepare(input, target, weight, "nll_loss")
    if target.dtype.kind not in "iu":
        raise DTypeError(f"nll_loss(): target must hold integer class indices, got "
                         f"dtype {target.dtype}")
    _check_target(input, target, "nll_loss")
    extra = () if weight is None else (weight.astype(input.dtype),)
    return _nll(input, target, *extra, ignore_index=int(ignore_index), reduction=reduction)


def cross_entropy(input, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits ``input`` against class indices or class probabilities.

    Parameters
    ----------
    input : Tensor
        Logits ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``.
    target : Tensor
        Class indices (integer dtype, ``input``'s shape without the class dim) or class
        probabilities (floating dtype, ``input``'s shape).
    weight : Tensor, optional
        Per-class weights ``(C,)``.
    ignore_index : int
        Target value that contributes nothing (index targets only).
    reduction : {'mean', 'sum', 'none'}
    label_smoothing : float in [0, 1]
        Mix the target with the uniform distribution: ``(1-e) * target + e/C``.

    Examples
    --------
    >>> import autograd_cnn as ac
    >>> x = ac.tensor([[1e4, 0.0, -1e4]])
    >>> float(cross_entropy(x, ac.tensor([0])))
    0.0
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise InvalidArgumentError(
            f"cross_entropy(): label_smoothing must be in [0, 1], got {label_smoothing}"
        )
    input, target, weight, C = _prepare(input, target, weight, "cross_entropy")
    cdim = 1 if input.ndim >= 2 else 0
    logp = R.log_softmax(input, dim=cdim)
    if target.dtype.kind == "f":  # class probabilities
        if target.shape != input.shape:
            raise ShapeError(
                f"cross_entropy(): a probability target must have the input's shape "
                f"{input.shape}, got {target.shape}"
            )
        tgt = target.astype(input.dtype) if target.dtype != input.dtype else target
        if label_smoothing > 0:
            tgt = tgt * (1 - label_smoothing) + label_smoothing / C
        prod = logp * tgt
        if weight is not None:
            prod = prod * _class_shape(weight, input.ndim, C, input.dtype)
        loss = -R.sum(prod, dim=cdim)
        return _reduce(loss, reduction)
    if target.dtype.kind not in "iu":
        raise DTypeError(
            f"cross_entropy(): target must be integer class indices or floating "
            f"probabilities, got dtype {target.dtype}"
        )
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0:
        return nll
    # The smoothing term: the (weighted) mean log-probability over classes, over the
    # non-ignored rows; its mean divides by the same total weight as nll's.
    valid = E.ne(target, ignore_index)
    if weight is not None:
        smooth = -R.sum(logp * _class_shape(weight, input.ndim, C, input.dtype), dim=cdim)
        rows = M.reshape(E.where(valid, target, 0), (-1,))
        picked = _sorting().gather(as_tensor(weight).astype(input.dtype), 0, rows)
        w_rows = E.where(valid, picked.reshape(target.shape), 0.0)
    else:
        smooth = -R.sum(logp, dim=cdim)
        w_rows = E.astype(valid, input.dtype)
    smooth = E.where(valid, smooth, 0.0)
    if reduction == "mean":
        denom = R.sum(w_rows)
        empty = E.eq(denom, 0)
        smooth = E.where(empty, float("nan"), R.sum(smooth) / E.where(empty, 1.0, denom))
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / C)


def _pair(input, target, fn):
    input, target = as_tensor(input), as_operand(target)
    if input.dtype.kind != "f":
        raise DTypeError(f"{fn}(): input must be floating point, got dtype {input.dtype}")
    if input.shape != target.shape:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ShapeError(
                f"{fn}(): target shape {target.shape} cannot be broadcast to input shape "
                f"{input.shape}"
            ) from None
    if target.dtype != input.dtype:
        target = target.astype(input.dtype)
    return input, target


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target)^2`` (broadcasting like PyTorch)."""
    _check_reduction(reduction, "mse_loss")
    input, target = _pair(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|``."""
    _check_reduction(reduction, "l1_loss")
    input, target = _pair(input, target, "l1_loss")
    return _reduce(E.abs(input - target), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """``0.5 d^2`` for ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise InvalidArgumentError(f"huber_loss(): delta must be positive, got {delta}")
    input, target = _pair(input, target, "huber_loss")
    d = input - target
    a = E.abs(d)
    loss = E.where(E.lt(a, delta), 0.5 * d * d, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` for ``|d| < beta``, else ``|d| - 0.5 beta``."""
    _check_reduction(reduction, "smooth_l1_loss")
    input, target = _pair(input, target, "smooth_l1_loss")
    d = input - target
    a = E.abs(d)
    if beta == 0:
        return _reduce(a, reduction)
    loss = E.where(E.lt(a, beta), 0.5 * d * d / beta, a - 0.5 * beta)
    return _reduce(loss, reduction)


def _clamped_logs(x):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), -100.0), np.maximum(np.log1p(-x), -100.0)


def _bce_impl(x, y):
    if x.size and (x.min() < 0 or x.max() > 1):
        raise InvalidArgumentError(
            "binary_cross_entropy(): input must hold probabilities in [0, 1], got values in "
            f"[{x.min()}, {x.max()}]; use binary_cross_entropy_with_logits for logits"
        )
    log_x, log_1mx = _clamped_logs(x)
    return (-(y * log_x + (1 - y) * log_1mx)).astype(x.dtype, copy=False)


def _bce_vjp_input(g, ans, x, y):
    # PyTorch's derivative: (x - y) / max(x (1 - x), eps), finite even where x is 0 or 1
    return g * (x - y) / E.clip(x * (1 - x), 1e-12, None)


def _bce_vjp_target(g, ans, x, y):
    tiny = float(np.finfo(x.dtype).smallest_subnormal)
    log_x = E.maximum(E.log(E.clip(x, tiny, None)), -100.0)
    log_1mx = E.maximum(E.log(E.clip(1 - x, tiny, None)), -100.0)
    return g * (log_1mx - log_x)


_bce = register(Primitive("bce", _bce_impl, category="loss",
                          shape=lambda xs, ys: tuple(xs)))
_bce.defvjp(_bce_vjp_input, _bce_vjp_target)


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:
    """``-(y log x + (1-y) log(1-x))`` for probabilities ``input`` in [0, 1]; the logs are
    clamped at -100 as in PyTorch. Prefer :func:`binary_cross_entropy_with_logits`."""
    _check_reduction(reduction, "binary_cross_entropy")
    input, target = _pair(input, target, "binary_cross_entropy")
    shape = tuple(np.broadcast_shapes(input.shape, target.shape))
    loss = _bce(M.broadcast_to(input, shape), M.broadcast_to(target, shape))
    if weight is not None:
        loss = loss * as_operand(weight, input.dtype)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable expression:
    ``(1 - y) x + (1 + (pos_weight - 1) y) softplus(-x)``."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    input, target = _pair(input, target, "binary_cross_entropy_with_logits")
    sp = E.softplus(-input, 1.0, float("inf"))
    if pos_weight is not None:
        pw = as_operand(pos_weight, input.dtype)
        loss = (1 - target) * input + (1 + (pw - 1) * target) * sp
    else:
        loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * as_operand(weight, input.dtype)
    return _reduce(loss, reduction)


def kl_div(input, target, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence with ``input`` log-probabilities: ``target (log target - input)``;
    reduction also accepts ``'batchmean'`` (sum / N), the mathematically right one."""
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise InvalidArgumentError(
            f"kl_div(): reduction must be one of {_REDUCTIONS + ('batchmean',)}, got "
            f"{reduction!r}"
        )
    input, target = _pair(input, target, "kl_div")
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        positive = E.gt(target, 0)
        safe = E.where(positive, target, 1.0)
        loss = E.where(positive, target * (E.log(safe) - input), 0.0 * input)
    if reduction == "batchmean":
        return R.sum(loss) / (numel(input, 0, input.dtype) if input.ndim else 1)
    return _reduce(loss, reduction)
