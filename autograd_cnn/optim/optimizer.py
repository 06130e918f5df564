"""The optimizer base class (``torch.optim.Optimizer``): parameter groups, ``zero_grad``,
``step``, state dicts. The algorithms are in :mod:`.algorithms`, schedulers in
:mod:`.lr_scheduler`.

Updates run under :class:`autograd_cnn.no_grad` with in-place tensor methods
(``sub_``, ``copy_``), so they are never recorded on the tape and bump each parameter's
version counter (a graph that saved the old value then refuses to backward through it).
State (momentum buffers, Adam moments) is kept as float tensors of the parameter's dtype.

Adam follows the standard update (Kingma & Ba, PyTorch):
``w -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1^t)``,
``v_hat = v / (1 - b2^t)``. (The seeds' slide adds eps in the numerator: a typo.)

>>> import autograd_cnn as ac
>>> w = ac.nn.Parameter(ac.tensor([1.0, -2.0]))
>>> opt = ac.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
>>> w.numpy()
array([ 0.8, -1.6], dtype=float32)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from ..errors import ArgumentTypeError, InvalidArgumentError, StateDictError
from ..tape import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["Optimizer"]


#: PyTorch's implementation switches: accepted, and without effect here (one NumPy
#: implementation); ``differentiable=True`` (differentiating through ``step``) is refused.
IMPL_OPTIONS = ("foreach", "fused", "capturable", "differentiable")


def check_impl_options(options: dict, who: str) -> None:
    """Validate PyTorch's ``foreach=``/``fused=``/``capturable=``/``differentiable=``."""
    unknown = sorted(set(options) - set(IMPL_OPTIONS))
    if unknown:
        raise ArgumentTypeError(f"{who}: unexpected keyword arguments {unknown}")
    if options.get("differentiable"):
        raise InvalidArgumentError(
            f"{who}: differentiable=True (differentiating through the update) is not "
            "supported; updates run under no_grad")


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
        unique = list({id(p): p for p in ps}.values())
        if len(unique) != len(ps):
            # PyTorch warns and then updates such a parameter once per appearance (twice
            # for SGD([p, p])); we warn and keep each parameter once.
            warnings.warn(
                f"params: the parameter group lists {len(ps) - len(unique)} parameter(s) "
                "more than once; each is kept (and updated) once", UserWarning, stacklevel=3)
            ps = unique
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


