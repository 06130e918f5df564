"""Optimization algorithms (``torch.optim`` semantics): SGD, Adam, AdamW, RMSprop,
Adagrad, Adadelta. Updates run under ``no_grad`` with in-place tensor methods, so they bump
each parameter's version counter."""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError
from ..tensor import Tensor
from .optimizer import Optimizer, check_impl_options


def _buf(state, key, p, init=None):
    if key not in state:
        state[key] = Tensor(np.zeros_like(p.data) if init is None else
                            np.array(init, dtype=p.dtype, copy=True))
    return state[key]


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov, weight decay.

    With ``g = grad + weight_decay * w``: ``b = momentum * b + (1 - dampening) * g``
    (``b = g`` at the first step), then ``g = g + momentum * b`` (Nesterov) or ``g = b``,
    and ``w -= lr * g``.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 **impl):
        check_impl_options(impl, type(self).__name__)
        if momentum < 0:
            raise InvalidArgumentError(f"momentum: expected a value >= 0, got {momentum}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise InvalidArgumentError(
                f"nesterov: requires momentum > 0 and dampening = 0, got momentum={momentum}, "
                f"dampening={dampening}"
            )
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, p, g, group, state):
        wd, mom = group["weight_decay"], group["momentum"]
        if wd:
            g = g + wd * p.data
        if mom:
            if "momentum_buffer" not in state:
                buf = _buf(state, "momentum_buffer", p, g)
            else:
                buf = state["momentum_buffer"]
                buf.mul_(mom).add_(g, alpha=1 - group["dampening"])
            g = g + mom * buf.data if group["nesterov"] else buf.data
        p.sub_(g, alpha=group["lr"])


class Adam(Optimizer):
    """Adam with bias correction (and ``amsgrad``); ``weight_decay`` is L2 added to the
    gradient (use :class:`AdamW` for decoupled decay).

    ``m = b1 m + (1-b1) g``, ``v = b2 v + (1-b2) g^2``,
    ``w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``.
    """

    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 **impl):
        check_impl_options(impl, type(self).__name__)
        b1, b2 = betas
        for name, b in (("betas[0]", b1), ("betas[1]", b2)):
            if not 0.0 <= b < 1.0:
                raise InvalidArgumentError(f"{name}: expected a value in [0, 1), got {b}")
        if eps < 0:
            raise InvalidArgumentError(f"eps: expected a value >= 0, got {eps}")
        super().__init__(params, dict(lr=lr, betas=(b1, b2), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, p, g, group, state):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if wd:
            if self._decoupled:
                p.mul_(1 - lr * wd)
            else:
                g = g + wd * p.data
        state["step"] = t = state.get("step", 0) + 1
        m = _buf(state, "exp_avg", p)
        v = _buf(state, "exp_avg_sq", p)
        # in place on the optimizer's own buffers (few temporaries; same arithmetic as
        # PyTorch's single-tensor Adam: denom = sqrt(v)/sqrt(1-b2^t) + eps)
        md, vd = m.data, v.data
        md *= b1
        md += (1 - b1) * g
        vd *= b2
        gg = g * g
        gg *= 1 - b2
        vd += gg
        m._bump()
        v._bump()
        if group["amsgrad"]:
            vmax = _buf(state, "max_exp_avg_sq", p)
            np.maximum(vmax.data, vd, out=vmax.data)
            vmax._bump()
            v_used = vmax.data
        else:
            v_used = vd
        denom = np.sqrt(v_used)
        denom /= math.sqrt(1 - b2**t)
        denom += eps
        step = md / denom
        step *= lr / (1 - b1**t)
        p.sub_(step)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``w *= 1 - lr * wd`` before
    the Adam step. Default ``weight_decay=0.01`` as PyTorch."""

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 **impl):
        check_impl_options(impl, type(self).__name__)
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, **impl)


class RMSprop(Optimizer):
    """RMSprop: ``s = alpha s + (1-alpha) g^2``; ``w -= lr g / (sqrt(s) + eps)``
    (``centered`` subtracts the squared mean gradient; ``momentum`` buffers the step)."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 *, maximize: bool = False, **impl):
        check_impl_options(impl, type(self).__name__)
        if not 0.0 <= alpha <= 1.0:
            raise InvalidArgumentError(f"alpha: expected a value in [0, 1], got {alpha}")
        if momentum < 0:
            raise InvalidArgumentError(f"momentum: expected a value >= 0, got {momentum}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _update(self, p, g, group, state):
        alpha, eps, wd, mom = group["alpha"], group["eps"], group["weight_decay"], group[
            "momentum"]
        if wd:
            g = g + wd * p.data
        state["step"] = state.get("step", 0) + 1
        sq = _buf(state, "square_avg", p)
        sq.mul_(alpha).add_(g * g, alpha=1 - alpha)
        if group["centered"]:
            ga = _buf(state, "grad_avg", p)
            ga.mul_(alpha).add_(g, alpha=1 - alpha)
            avg = np.sqrt(sq.data - ga.data * ga.data) + eps
        else:
            avg = np.sqrt(sq.data) + eps
        if mom > 0:
            buf = _buf(state, "momentum_buffer", p)
            buf.mul_(mom).add_(g / avg)
            p.sub_(buf.data, alpha=group["lr"])
        else:
            p.sub_(g / avg, alpha=group["lr"])




class Adagrad(Optimizer):
    """Adagrad: ``s += g^2``; ``w -= clr * g / (sqrt(s) + eps)`` with
    ``clr = lr / (1 + (t - 1) * lr_decay)`` (PyTorch's update)."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False, **impl):
        check_impl_options(impl, type(self).__name__)
        if lr_decay < 0:
            raise InvalidArgumentError(f"lr_decay: expected a value >= 0, got {lr_decay}")
        if initial_accumulator_value < 0:
            raise InvalidArgumentError(
                f"initial_accumulator_value: expected a value >= 0, got "
                f"{initial_accumulator_value}")
        if eps < 0:
            raise InvalidArgumentError(f"eps: expected a value >= 0, got {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _update(self, p, g, group, state):
        if "sum" not in state:
            state["sum"] = Tensor(np.full_like(p.data, group["initial_accumulator_value"]))
        state["step"] = t = state.get("step", 0) + 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.data
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        s = state["sum"]
        s.add_(g * g)
        p.sub_(g / (np.sqrt(s.data) + group["eps"]), alpha=clr)


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012): ``v = rho v + (1-rho) g^2``;
    ``d = sqrt(u + eps) / sqrt(v + eps) * g``; ``u = rho u + (1-rho) d^2``;
    ``w -= lr * d`` (PyTorch's default ``lr=1.0``)."""

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False, **impl):
        check_impl_options(impl, type(self).__name__)
        if not 0.0 <= rho <= 1.0:
            raise InvalidArgumentError(f"rho: expected a value in [0, 1], got {rho}")
        if eps < 0:
            raise InvalidArgumentError(f"eps: expected a value >= 0, got {eps}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, p, g, group, state):
        rho, eps = group["rho"], group["eps"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.data
        state["step"] = state.get("step", 0) + 1
        v = _buf(state, "square_avg", p)
        u = _buf(state, "acc_delta", p)
        v.mul_(rho).add_(g * g, alpha=1 - rho)
        delta = np.sqrt(u.data + eps) / np.sqrt(v.data + eps) * g
        u.mul_(rho).add_(delta * delta, alpha=1 - rho)
        p.sub_(delta, alpha=group["lr"])
