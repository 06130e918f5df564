"""Optimizers and learning-rate schedulers (``torch.optim`` semantics).

Updates run under :class:`autograd_cnn.no_grad` with in-place tensor methods
(``sub_``, ``copy_``), so they are never recorded on the tape and bump each parameter's
version counter (a graph that saved the old value then refuses to backward through it).
State (momentum buffers, Adam moments) is kept as float tensors of the parameter's dtype.

Adam follows the standard update (Kingma & Ba, PyTorch):
``w -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1^t)``,
``v_hat = v / (1 - b2^t)``. (The seeds' slide adds eps in the numerator: a typo.)

>>> import autograd_cnn as ac
>>> w = ac.nn.Parameter(ac.tensor([1.0, -2.0]))
>>> opt = SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
>>> w.numpy()
array([ 0.8, -1.6], dtype=float32)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .errors import ArgumentTypeError, InvalidArgumentError, StateDictError
from .tape import enable_grad, no_grad
from .tensor import Tensor

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler", "LRScheduler", "StepLR",
    "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau", "LambdaLR",
]


class _ParamState(dict):
    """Optimizer state keyed by parameter identity (Tensor ``==`` is elementwise, so
    tensors cannot be ordinary dict keys safely)."""

    def __init__(self):
        super().__init__()
        self._params = {}

    def __getitem__(self, p):
        key = id(p)
        if not super().__contains__(key):
            super().__setitem__(key, {})
            self._params[key] = p
        return super().__getitem__(key)

    def __setitem__(self, p, value):
        super().__setitem__(id(p), value)
        self._params[id(p)] = p

    def __contains__(self, p):
        return super().__contains__(id(p))

    def get(self, p, default=None):
        return super().get(id(p), default)

    def items(self):
        return [(self._params[k], v) for k, v in super().items()]


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``state_dict``.

    Parameters
    ----------
    params : iterable of Tensor, or of dicts
        Tensors to optimize, or param groups ``{"params": [...], "lr": ...}`` whose keys
        override ``defaults``.
    defaults : dict
        Hyperparameters used by groups that do not set them.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state = _ParamState()
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise ArgumentTypeError(
                "params: expected an iterable of Tensors or dicts, got a single Tensor; wrap "
                "it in a list"
            )
        params = list(params)
        if not params:
            raise InvalidArgumentError("params: optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for g in params:
            self.add_param_group(g)

    def add_param_group(self, group: dict):
        if not isinstance(group, dict) or "params" not in group:
            raise ArgumentTypeError(f"param group: expected a dict with 'params', got {group!r}")
        g = dict(group)
        ps = g["params"]
        ps = [ps] if isinstance(ps, Tensor) else list(ps)
        for i, p in enumerate(ps):
            if not isinstance(p, Tensor):
                raise ArgumentTypeError(
                    f"params[{i}]: optimizer can only optimize Tensors, got {type(p).__name__}"
                )
            if not p.is_leaf:
                raise InvalidArgumentError(
                    f"params[{i}]: can't optimize a non-leaf Tensor (result of op {p.op!r})"
                )
            if p.dtype.kind != "f":
                raise InvalidArgumentError(
                    f"params[{i}]: can only optimize floating tensors, got dtype {p.dtype}"
                )
        seen = {id(p) for grp in self.param_groups for p in grp["params"]}
        if any(id(p) in seen for p in ps):
            raise InvalidArgumentError("params: some parameters appear in more than one group")
        g["params"] = ps
        for k, v in self.defaults.items():
            g.setdefault(k, v)
        self._validate(g)
        self.param_groups.append(g)

    def _validate(self, group):
        if group.get("lr", 0) < 0:
            raise InvalidArgumentError(f"lr: expected a learning rate >= 0, got {group['lr']}")
        if group.get("weight_decay", 0) < 0:
            raise InvalidArgumentError(
                f"weight_decay: expected a value >= 0, got {group['weight_decay']}"
            )

    def zero_grad(self, set_to_none: bool = True):
        """Reset ``.grad`` of every parameter (to None by default, as PyTorch 2)."""
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor(np.zeros_like(p.data))

    def step(self, closure: Callable | None = None):
        """One update of every parameter that has a gradient; ``closure`` (optional)
        recomputes the loss and returns it."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad.data
                    if g.shape != p.shape:
                        raise InvalidArgumentError(
                            f"grad: parameter {p.name or ''} of shape {p.shape} has a "
                            f"gradient of shape {g.shape}"
                        )
                    g = g.astype(p.dtype, copy=False)
                    if group.get("maximize", False):
                        g = -g
                    self._update(p, g, group, self.state[p])
        return loss

    def _update(self, p: Tensor, g: np.ndarray, group: dict, state: dict):
        raise NotImplementedError

    # -- state dicts ----------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {name: value}}, "param_groups": [...]}`` with parameters
        replaced by their index (PyTorch's layout); tensors are copies."""
        index = {}
        groups = []
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": ids})
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {
                        k: (Tensor(v.data.copy()) if isinstance(v, Tensor) else v)
                        for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict):
        """Restore hyperparameters and state saved by :meth:`state_dict`."""
        try:
            groups, state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            raise StateDictError(
                "state_dict: expected a dict with 'state' and 'param_groups'"
            ) from None
        if len(groups) != len(self.param_groups):
            raise StateDictError(
                f"state_dict: has {len(groups)} parameter groups, this optimizer has "
                f"{len(self.param_groups)}"
            )
        params = {}
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise StateDictError(
                    f"state_dict: group {i} has {len(saved['params'])} parameters, this "
                    f"optimizer's has {len(own['params'])}"
                )
            for idx, p in zip(saved["params"], own["params"]):
                params[int(idx)] = p
        self.state = _ParamState()
        for idx, st in state.items():
            p = params.get(int(idx))
            if p is None:
                raise StateDictError(f"state_dict: state for unknown parameter index {idx}")
            new = {}
            for k, v in st.items():
                if isinstance(v, (Tensor, np.ndarray)):
                    arr = np.asarray(v.data if isinstance(v, Tensor) else v)
                    if arr.ndim and arr.shape != p.shape:
                        raise StateDictError(
                            f"state_dict: state {k!r} of parameter {idx} has shape {arr.shape},"
                            f" the parameter has shape {p.shape}"
                        )
                    new[k] = Tensor(arr.astype(p.dtype, copy=True)) if arr.ndim else (
                        arr.item())
                else:
                    new[k] = v
            self.state[p] = new
        for saved, own in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    own[k] = v

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines) + "\n)"


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
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
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
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False):
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
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


class RMSprop(Optimizer):
    """RMSprop: ``s = alpha s + (1-alpha) g^2``; ``w -= lr g / (sqrt(s) + eps)``
    (``centered`` subtracts the squared mean gradient; ``momentum`` buffers the step)."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 *, maximize: bool = False):
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


# ---- learning-rate schedulers -------------------------------------------------------------


class LRScheduler:
    """Base class: ``step()`` once per epoch after ``optimizer.step()``; ``get_last_lr()``.

    Schedules are computed in closed form from ``base_lrs`` and the epoch counter
    (PyTorch's ``_get_closed_form_lr``), so they do not drift.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise ArgumentTypeError(
                f"optimizer: expected an Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"])
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, epoch: int) -> list[float]:
        raise NotImplementedError

    def step(self, epoch: int | None = None):
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        lrs = self.lr_at(self.last_epoch)
        for g, lr in zip(self.optimizer.param_groups, lrs):
            g["lr"] = lr
        self._last_lr = list(lrs)

    def get_last_lr(self) -> list[float]:
        return self._last_lr

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}

    def load_state_dict(self, state_dict: dict):
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (epoch // step_size)``."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if not isinstance(step_size, int) or step_size <= 0:
            raise InvalidArgumentError(f"step_size: expected a positive int, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        return [b * self.gamma ** (epoch // self.step_size) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """``lr = base_lr * gamma ** (number of milestones <= epoch)``."""

    def __init__(self, optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        k = sum(1 for m in self.milestones if m <= epoch)
        return [b * self.gamma**k for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** epoch``."""

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        return [b * self.gamma**epoch for b in self.base_lrs]


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)`` (one function, or one per group)."""

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        n = len(optimizer.param_groups)
        self.lr_lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else (
            [lr_lambda] * n)
        if len(self.lr_lambdas) != n:
            raise InvalidArgumentError(
                f"lr_lambda: expected {n} functions (one per group), got {len(self.lr_lambdas)}"
            )
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        return [b * f(epoch) for b, f in zip(self.base_lrs, self.lr_lambdas)]


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2`` (SGDR without
    restarts; PyTorch's closed form, which its recursive form equals when nothing else
    changes the lr)."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        if T_max <= 0:
            raise InvalidArgumentError(f"T_max: expected a positive number, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        c = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


class ReduceLROnPlateau:
    """Multiply the lr by ``factor`` when a metric has stopped improving for more than
    ``patience`` epochs (``step(metric)`` once per epoch), as PyTorch.

    ``mode='min'``: improvement means ``metric < best * (1 - threshold)`` (rel) or
    ``< best - threshold`` (abs); ``'max'`` mirrors it. After a reduction, ``cooldown``
    epochs pass before counting again; lrs never go below ``min_lr``, and changes smaller
    than ``eps`` are skipped.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0.0, eps: float = 1e-8):
        if factor >= 1.0:
            raise InvalidArgumentError(f"factor: expected a value < 1.0, got {factor}")
        if mode not in ("min", "max"):
            raise InvalidArgumentError(f"mode: expected 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise InvalidArgumentError(
                f"threshold_mode: expected 'rel' or 'abs', got {threshold_mode!r}"
            )
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def _better(self, a, best):
        if self.mode == "min":
            ref = best * (1 - self.threshold) if self.threshold_mode == "rel" else (
                best - self.threshold)
            return a < ref
        ref = best * (1 + self.threshold) if self.threshold_mode == "rel" else (
            best + self.threshold)
        return a > ref

    def step(self, metrics):
        current = float(metrics.item() if isinstance(metrics, Tensor) else metrics)
        self.last_epoch += 1
        if self._better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for g, lo in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(g["lr"] * self.factor, lo)
                if g["lr"] - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return self._last_lr

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict):
        self.__dict__.update(state_dict)


class _SchedulerNamespace:
    """``optim.lr_scheduler.StepLR`` ... as in PyTorch."""

    LRScheduler = LRScheduler
    StepLR = StepLR
    MultiStepLR = MultiStepLR
    ExponentialLR = ExponentialLR
    LambdaLR = LambdaLR
    CosineAnnealingLR = CosineAnnealingLR
    ReduceLROnPlateau = ReduceLROnPlateau


lr_scheduler = _SchedulerNamespace()
