"""``torch.nn.utils``: gradient clipping and flattening parameters to one vector."""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError
from ..tape import no_grad
from ..tensor import Tensor


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients in place so that their joint ``norm_type``-norm is at most
    ``max_norm`` (PyTorch: ``coef = max_norm / (total_norm + 1e-6)``, applied when < 1).

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
    max_norm : float
    norm_type : float
        ``inf`` for the largest absolute value.
    error_if_nonfinite : bool
        Raise when the total norm is NaN or infinite.

    Returns
    -------
    Tensor
        The total norm before clipping (0-d, float).
    """
    ps = [p for p in _params(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not ps:
        return Tensor(np.zeros((), np.float32))
    grads = [p.grad.data for p in ps]
    dtype = np.result_type(*grads)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        total = float(sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type))
                          for g in grads) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise InvalidArgumentError(
            f"clip_grad_norm_(): the total norm of order {norm_type} of the gradients is "
            f"{total}; set error_if_nonfinite=False to clip anyway")
    coef = float(max_norm) / (total + 1e-6)
    if coef < 1:
        with no_grad():
            for p in ps:
                p.grad = Tensor(p.grad.data * p.grad.data.dtype.type(coef))
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place."""
    for p in _params(parameters):
        if p.grad is not None:
            p.grad = Tensor(np.clip(p.grad.data, -clip_value, clip_value))


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated (a copy, not differentiable)."""
    return Tensor(np.concatenate([p.data.reshape(-1) for p in _params(parameters)]))


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place)."""
    v = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    ps = _params(parameters)
    n = sum(p.numel() for p in ps)
    if v.ndim != 1 or v.size != n:
        raise InvalidArgumentError(
            f"vector_to_parameters(): vec must be 1-D with {n} elements, got shape {v.shape}")
    start = 0
    with no_grad():
        for p in ps:
            p.copy_(v[start:start + p.numel()].reshape(p.shape))
            start += p.numel()
