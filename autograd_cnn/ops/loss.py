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
from ..primitive import Primitive, register
from ..tape import STATE
from ..tensor import Tensor, as_tensor
from . import elementwise as E
from . import movement as M
from . import reduce as R

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


def _const(array, like: Tensor) -> Tensor:
    return Tensor._wrap(np.asarray(array, dtype=like.dtype), False)


def _class_shape(weight_or_none, ndim, C, dtype):
    """A (1, C, 1, ...) view of a per-class vector for broadcasting against input."""
    shape = (1, C) + (1,) * (ndim - 2) if ndim >= 2 else (C,)
    return M.reshape(as_tensor(weight_or_none, dtype), shape)


def _prepare(input, target, weight, fn):
    input = as_tensor(input)
    target = as_tensor(target)
    if input.dtype.kind != "f":
        raise DTypeError(f"{fn}(): input must be floating point, got dtype {input.dtype}")
    if input.ndim == 0:
        raise ShapeError(f"{fn}(): input must have a class dimension, got a 0-d tensor")
    C = input.shape[1] if input.ndim >= 2 else input.shape[0]
    if weight is not None:
        weight = as_tensor(weight)
        if weight.shape != (C,):
            raise ShapeError(
                f"{fn}(): weight must have shape ({C},) (one per class), got {weight.shape}"
            )
    return input, target, weight, C


def _index_mask(input, target, C, ignore_index, fn):
    """One-hot float mask (input's shape) of the target classes; ignored rows are 0."""
    cdim = 1 if input.ndim >= 2 else 0
    expected = input.shape[:cdim] + input.shape[cdim + 1:]
    if target.shape != expected:
        raise ShapeError(
            f"{fn}(): target of class indices must have shape {expected} for input of shape "
            f"{input.shape}, got {target.shape}"
        )
    t = target.data.astype(np.int64)
    valid = t != ignore_index
    if not STATE.meta and np.any(valid & ((t < 0) | (t >= C))):
        bad = t[valid & ((t < 0) | (t >= C))]
        raise InvalidArgumentError(
            f"{fn}(): target: class indices must be in [0, {C}) (or ignore_index="
            f"{ignore_index}), got {bad.ravel()[:5].tolist()}"
        )
    safe = np.where(valid, t, 0)
    onehot = np.moveaxis(np.eye(C, dtype=input.dtype)[safe], -1, cdim)
    onehot = onehot * np.expand_dims(valid, cdim)
    return onehot, valid, safe


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"
             ) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` at class indices ``target``.

    ``loss_i = -weight[t_i] * input[i, t_i]``; ``'mean'`` divides by the sum of the
    weights of the non-ignored targets (PyTorch's weighted mean).
    """
    _check_reduction(reduction, "nll_loss")
    input, target, weight, C = _prepare(input, target, weight, "nll_loss")
    if target.dtype.kind not in "iu":
        raise DTypeError(f"nll_loss(): target must hold integer class indices, got "
                         f"dtype {target.dtype}")
    onehot, valid, safe = _index_mask(input, target, C, ignore_index, "nll_loss")
    cdim = 1 if input.ndim >= 2 else 0
    if weight is not None:
        w_rows = weight.data[safe] * valid
        onehot = onehot * np.expand_dims(w_rows, cdim)
    else:
        w_rows = valid.astype(input.dtype)
    loss = -R.sum(input * _const(onehot, input), dim=cdim)
    if reduction == "mean":
        total = w_rows.sum()
        if total == 0:  # all targets ignored: NaN loss (0/0) but a zero gradient
            return R.sum(loss) * 0.0 + float("nan")
        return R.sum(loss) / _const(total, input)
    return _reduce(loss, reduction)


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
    _, valid, safe = _index_mask(input, target, C, ignore_index, "cross_entropy")
    if weight is not None:
        smooth = -R.sum(logp * _class_shape(weight, input.ndim, C, input.dtype), dim=cdim)
        denom = (weight.data[safe] * valid).sum()
    else:
        smooth = -R.sum(logp, dim=cdim)
        denom = valid.sum()
    smooth = smooth * _const(valid, input)
    if reduction == "mean":
        smooth = R.sum(smooth) / _const(denom, input)
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / C)


def _pair(input, target, fn):
    input, target = as_tensor(input), as_tensor(target)
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
    loss = E.where(a.data < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` for ``|d| < beta``, else ``|d| - 0.5 beta``."""
    _check_reduction(reduction, "smooth_l1_loss")
    input, target = _pair(input, target, "smooth_l1_loss")
    d = input - target
    a = E.abs(d)
    if beta == 0:
        return _reduce(a, reduction)
    loss = E.where(a.data < beta, 0.5 * d * d / beta, a - 0.5 * beta)
    return _reduce(loss, reduction)


def _clamped_logs(x):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), -100.0), np.maximum(np.log1p(-x), -100.0)


def _bce_impl(x, y):
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
    if not STATE.meta and input.numel() and (input.data.min() < 0 or input.data.max() > 1):
        raise InvalidArgumentError(
            "binary_cross_entropy(): input must hold probabilities in [0, 1], got values in "
            f"[{input.data.min()}, {input.data.max()}]; use binary_cross_entropy_with_logits "
            "for logits"
        )
    shape = tuple(np.broadcast_shapes(input.shape, target.shape))
    loss = _bce(M.broadcast_to(input, shape), M.broadcast_to(target, shape))
    if weight is not None:
        loss = loss * as_tensor(weight, input.dtype)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable expression:
    ``(1 - y) x + (1 + (pos_weight - 1) y) softplus(-x)``."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    input, target = _pair(input, target, "binary_cross_entropy_with_logits")
    sp = E.softplus(-input, 1.0, float("inf"))
    if pos_weight is not None:
        pw = as_tensor(pos_weight, input.dtype)
        loss = (1 - target) * input + (1 + (pw - 1) * target) * sp
    else:
        loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * as_tensor(weight, input.dtype)
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
        safe = E.where(target.data > 0, target, 1.0)
        loss = E.where(target.data > 0, target * (E.log(safe) - input), 0.0 * input)
    if reduction == "batchmean":
        return R.sum(loss) / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)
