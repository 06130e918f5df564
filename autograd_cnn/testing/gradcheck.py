"""Numerical gradient checks: the VJPs against float64 central differences.

``gradcheck`` compares, for a random output cotangent ``v``, the analytic ``J^T v``
(one reverse pass) with the numerical directional derivatives ``(f(x+eps e_j) -
f(x-eps e_j)) / 2eps . v`` for every input element ``j``. It also checks that a zero
cotangent gives zero gradients, that two reverse passes agree exactly, and that every
gradient has its input's shape and dtype. ``gradgradcheck`` applies the same test to
the gradient map ``(x, v) -> J(x)^T v`` recorded with ``create_graph=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import AutogradCNNError
from ..tape import enable_grad, gradients, no_grad
from ..tensor import Tensor


class GradcheckError(AutogradCNNError, AssertionError):
    """A gradient check failed; the message names the input, element and both values."""


def _as_outputs(out) -> list[Tensor]:
    return [out] if isinstance(out, Tensor) else list(out)


def _leaves(inputs) -> list[Tensor]:
    leaves = []
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise GradcheckError(f"inputs[{k}] must be a Tensor, got {type(x).__name__}")
        data = np.array(x.data, dtype=np.float64) if x.dtype.kind == "f" else x.data
        leaves.append(Tensor(data, requires_grad=x.requires_grad and x.dtype.kind == "f"))
    return leaves


def _dot(outs: Sequence[Tensor], vs: Sequence[np.ndarray]) -> float:
    return float(sum(np.sum(o.data.astype(np.float64) * v) for o, v in zip(outs, vs)))


def _analytic(fn, leaves, vs, diff_idx):
    with enable_grad():
        outs = _as_outputs(fn(*leaves))
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if not live:
        return [np.zeros_like(leaves[i].data) for i in diff_idx], outs
    grads = gradients(
        [o for o, _ in live],
        [leaves[i] for i in diff_idx],
        grad_outputs=[Tensor(v.astype(o.dtype)) for o, v in live],
        allow_unused=True,
    )
    result = []
    for i, g in zip(diff_idx, grads):
        x = leaves[i]
        if g is None:
            result.append(np.zeros_like(x.data))
            continue
        if g.shape != x.shape:
            raise GradcheckError(f"gradient of input {i} has shape {g.shape}, input {x.shape}")
        if g.dtype != x.dtype:
            raise GradcheckError(f"gradient of input {i} has dtype {g.dtype}, input {x.dtype}")
        result.append(g.data.astype(np.float64))
    return result, outs


def gradcheck(
    fn: Callable,
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check ``fn``'s VJPs against central differences, in float64.

    Parameters
    ----------
    fn : callable
        ``fn(*inputs) -> Tensor or tuple of Tensor``.
    inputs : sequence of Tensor
        Floating inputs with ``requires_grad=True`` are checked (converted to float64
        copies); others are passed through as constants.
    eps, atol, rtol : float
        Finite-difference step and tolerances: ``|analytic - numeric| <= atol + rtol*|numeric|``.

    Returns
    -------
    bool
        True if all checks pass; otherwise raises :class:`GradcheckError` (or returns
        False when ``raise_exception=False``).
    """
    try:
        _gradcheck(fn, inputs, eps, atol, rtol, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _gradcheck(fn, inputs, eps, atol, rtol, seed):
    leaves = _leaves(inputs)
    diff_idx = [i for i, x in enumerate(leaves) if x.requires_grad]
    if not diff_idx:
        raise GradcheckError("gradcheck: no input requires grad, nothing to check")
    with no_grad():
        outs0 = _as_outputs(fn(*leaves))
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(o.shape) for o in outs0]

    analytic, _ = _analytic(fn, leaves, vs, diff_idx)
    again, _ = _analytic(fn, leaves, vs, diff_idx)
    for i, a, b in zip(diff_idx, analytic, again):
        if not np.array_equal(a, b, equal_nan=True):
            raise GradcheckError(f"input {i}: two backward passes gave different gradients")
    zero, _ = _analytic(fn, leaves, [np.zeros_like(v) for v in vs], diff_idx)
    for i, z in zip(diff_idx, zero):
        if np.any(z != 0):
            raise GradcheckError(f"input {i}: a zero output gradient gave a non-zero gradient")

    for i, a in zip(diff_idx, analytic):
        x = leaves[i].data
        flat = x.reshape(-1) if x.flags.c_contiguous else None
        if flat is None:
            leaves[i].data = x = np.ascontiguousarray(x)
            flat = x.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            with no_grad():
                flat[j] = orig + eps
                fp = _dot(_as_outputs(fn(*leaves)), vs)
                flat[j] = orig - eps
                fm = _dot(_as_outputs(fn(*leaves)), vs)
            flat[j] = orig
            numeric = (fp - fm) / (2 * eps)
            analytic_j = a.reshape(-1)[j]
            if not abs(analytic_j - numeric) <= atol + rtol * abs(numeric):
                idx = np.unravel_index(j, x.shape) if x.ndim else ()
                raise GradcheckError(
                    f"gradcheck: input {i} (shape {x.shape}), element {tuple(int(k) for k in idx)}:"
                    f" analytic {analytic_j!r} != numerical {numeric!r} "
                    f"(atol={atol}, rtol={rtol})"
                )


def gradgradcheck(
    fn: Callable,
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Second-order check: ``gradcheck`` of ``(*inputs, v) -> J(inputs)^T v``.

    The gradient map is built with ``create_graph=True``, so this checks the VJPs of
    the ops the VJPs are made of. ``v`` (one per output) is drawn at random and is
    checked as an input too (the gradient is linear in it).
    """
    leaves = _leaves(inputs)
    diff_idx = [i for i, x in enumerate(leaves) if x.requires_grad]
    with no_grad():
        outs0 = _as_outputs(fn(*leaves))
    rng = np.random.default_rng(seed + 1)
    vs = [Tensor(rng.standard_normal(o.shape).astype(o.dtype), requires_grad=True)
          for o in outs0]
    n_in = len(leaves)

    def grad_map(*args):
        xs, cot = args[:n_in], args[n_in:]
        with enable_grad():
            outs = _as_outputs(fn(*xs))
            live = [(o, v) for o, v in zip(outs, cot) if o.requires_grad]
            wrt = [xs[i] for i in diff_idx]
            gs = gradients([o for o, _ in live], wrt, grad_outputs=[v for _, v in live],
                           create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(grad_map, list(leaves) + vs, eps, atol, rtol, seed, raise_exception)
