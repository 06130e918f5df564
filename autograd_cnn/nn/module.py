"""``Module`` and ``Parameter``: PyTorch's ``torch.nn.Module`` contract on our tape.

A module registers parameters, buffers and submodules by attribute assignment, so
``named_parameters``/``state_dict`` walk them in definition order. Calling a module runs
``forward`` inside :class:`autograd_cnn.tape.scope` named after the module's attribute,
so every node recorded during the call carries the module path (``("features", "3")``)
for the graph renderer; the root module pushes nothing.

Differences from PyTorch: the CPU is the only device (``.to("cpu")`` is accepted, other
devices raise :class:`~autograd_cnn.errors.DeviceUnavailableError`); parameters
can be created shape-only with :func:`meta_init` (for :func:`autograd_cnn.summary` of large
models without allocating them).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..errors import ArgumentTypeError, ModuleError, StateDictError
from ..tape import STATE, no_grad, scope
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module parameter: a leaf with ``requires_grad=True``.

    Assigning a Parameter to a module attribute registers it; its ``name`` becomes its
    dotted path in the module tree (``"features.0.weight"``), so rendered graphs label it.

    Parameters
    ----------
    data : array_like or Tensor
        Copied only when it is not already an ndarray/Tensor.
    requires_grad : bool
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.zeros((0,), dtype=np.float32)
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


# ---- shape-only ("meta") parameters ----------------------------------------------------

_META_INIT = [False]


@contextlib.contextmanager
def meta_init():
    """Create parameters and buffers shape-only inside this block.

    ``with nn.meta_init(): m = models.vgg16()`` builds VGG-16 with zero-stride
    placeholders (no 550 MB of weights, no random init): enough for
    :func:`autograd_cnn.summary`, :func:`count_parameters` and shape checks. Calling such a
    module outside :func:`autograd_cnn.tape.meta_mode` raises :class:`ModuleError`
    (like PyTorch's ``device="meta"``).
    """
    prev = _META_INIT[0]
    _META_INIT[0] = True
    try:
        yield
    finally:
        _META_INIT[0] = prev


def is_meta_array(a: np.ndarray) -> bool:
    """True for a shape-only placeholder (zero strides, read-only)."""
    # size-1 placeholders count too (a BatchNorm2d(1) under meta_init); a genuine read-only
    # 0-d array has no strides to tell, so 0-d arrays are never taken for placeholders
    return a.size >= 1 and a.ndim > 0 and not a.flags.writeable and all(
        s == 0 for s in a.strides)


def empty_array(shape, dtype=None) -> np.ndarray:
    """Storage for a new parameter or buffer: zeros, or a placeholder under meta_init."""
    from ..tensor import get_default_dtype

    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    if _META_INIT[0]:
        return np.broadcast_to(np.zeros((), dtype=dtype), shape)
    return np.zeros(shape, dtype=dtype)


def new_parameter(shape, dtype=None) -> Parameter:
    """A zero (or meta) Parameter of ``shape``, to be filled by an initializer."""
    return Parameter(empty_array(shape, dtype))


# ---- Module ----------------------------------------------------------------------------


class _Handle:
    """Returned by ``register_forward_hook``; ``.remove()`` unregisters the hook."""

    def __init__(self, store: dict, key: int):
        self._store, self._key = store, key

    def remove(self):
        self._store.pop(self._key, None)


_HOOK_ID = [0]


class Module:
    """Base class of layers and models (``torch.nn.Module``).

    Subclasses call ``super().__init__()`` first, assign parameters/submodules as
    attributes and define ``forward``. Call the module, not ``forward``.

    Examples
    --------
    >>> import autograd_cnn.nn as nn
    >>> class Tiny(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = nn.Linear(3, 2)
    ...     def forward(self, x):
    ...         return self.fc(x).relu()
    >>> [n for n, _ in Tiny().named_parameters()]
    ['fc.weight', 'fc.bias']
    """

    training: bool

    def __init__(self):
        d = self.__dict__
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_scope_name"] = None
        d["training"] = True

    # -- registration ---------------------------------------------------------------------
    def _check_init(self, what):
        if "_parameters" not in self.__dict__:
            raise ModuleError(
                f"{type(self).__name__}: cannot assign {what} before Module.__init__() is "
                "called; call super().__init__() first in your __init__"
            )

    def __setattr__(self, name: str, value: Any):
        d = self.__dict__
        if isinstance(value, Parameter):
            self._check_init(f"parameter {name!r}")
            self._remove_name(name)
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self._check_init(f"module {name!r}")
            self._remove_name(name)
            self.add_module(name, value)
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise ArgumentTypeError(
                    f"{name}: cannot assign {type(value).__name__} to parameter {name!r} of "
                    f"{type(self).__name__} (expected a Parameter or None)"
                )
            d["_parameters"][name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise ArgumentTypeError(
                    f"{name}: buffer {name!r} of {type(self).__name__} must be a Tensor or "
                    f"None, got {type(value).__name__}"
                )
            d["_buffers"][name] = value
        elif "_modules" in d and name in d["_modules"] and value is None:
            d["_modules"][name] = None
        else:
            object.__setattr__(self, name, value)

    def _remove_name(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            d[store].pop(name, None)
        d.pop(name, None)

    def __getattr__(self, name: str):
        # only called when normal lookup fails
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d.get(store, ()):
                del d[store][name]
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules)
                      | set(self._buffers))

    def register_parameter(self, name: str, param: Parameter | None):
        """Register ``param`` under ``name`` (None keeps a slot, e.g. ``bias=False``)."""
        self._check_init(f"parameter {name!r}")
        if not isinstance(name, str) or not name or "." in name:
            raise ArgumentTypeError(f"name: expected a non-empty string without '.', got {name!r}")
        if param is not None and not isinstance(param, Parameter):
            raise ArgumentTypeError(
                f"param: expected a Parameter or None for {name!r}, got {type(param).__name__}"
            )
        self._parameters[name] = param
        if param is not None and param.name is None:
            param.name = name

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True):
        """Register a non-parameter state tensor (BatchNorm's running statistics)."""
        self._check_init(f"buffer {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise ArgumentTypeError(
                f"tensor: buffer {name!r} must be a Tensor or None, got {type(tensor).__name__}"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None):
        """Register ``module`` as a child called ``name``."""
        self._check_init(f"module {name!r}")
        if module is not None and not isinstance(module, Module):
            raise ArgumentTypeError(
                f"module: expected a Module for {name!r}, got {type(module).__name__}"
            )
        name = str(name)
        if not name or "." in name:
            raise ArgumentTypeError(f"name: expected a non-empty string without '.', got {name!r}")
        self._modules[name] = module
        if module is not None:
            module.__dict__["_scope_name"] = name
            # parameters are named by their path relative to the outermost module that
            # has been assembled so far; the final assignment into the root fixes them.
            for pname, p in module.named_parameters(prefix=name):
                p.name = pname

    register_module = add_module

    # -- traversal -------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, Module]]:
        """``(path, module)`` for this module and every descendant (pre-order)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                       remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, t in getattr(m, store).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{mprefix}.{name}" if mprefix else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs, each shared parameter once."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The descendant at dotted path ``target`` (``""`` is self)."""
        m = self
        for part in target.split(".") if target else []:
            if part not in m._modules or m._modules[part] is None:
                raise ArgumentTypeError(
                    f"target: {type(m).__name__} has no submodule {part!r} (in {target!r})"
                )
            m = m._modules[part]
        return m

    # -- modes and gradients ---------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active, BatchNorm uses batch statistics)."""
        if not isinstance(mode, bool):
            raise ArgumentTypeError(f"mode: expected a bool, got {type(mode).__name__}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True):
        """Reset the gradients of all parameters (to None by default, as PyTorch 2)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor(np.zeros_like(p.data))

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first) and on self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs) -> Module:
        """``module.to(device)``, ``.to(dtype)``, ``.to(device, dtype)``: cast floating
        parameters and buffers to ``dtype``, in place. The device must be the CPU
        (others raise :class:`~autograd_cnn.errors.DeviceUnavailableError`)."""
        from ..device import parse_to_args

        dtype, _ = parse_to_args(args, kwargs)
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        for m in self.modules():
            for store in ("_parameters", "_buffers"):
                for t in getattr(m, store).values():
                    if t is not None and t.dtype.kind == "f" and t.dtype != dtype:
                        t.data = t.data.astype(dtype)
                        t.grad = None
        return self

    def cpu(self) -> Module:
        """``self``: parameters already live on the CPU."""
        return self

    def cuda(self, device=None) -> Module:
        """Raises :class:`~autograd_cnn.errors.DeviceUnavailableError` (no CUDA here)."""
        from ..device import check_device

        check_device("cuda" if device is None else device, "cuda()")

    def double(self) -> Module:
        return self.to("float64")

    def float(self) -> Module:
        return self.to("float32")

    # -- calling ---------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def register_forward_hook(self, hook: Callable) -> _Handle:
        """``hook(module, inputs, output)`` after each call; may return a new output."""
        _HOOK_ID[0] += 1
        self._forward_hooks[_HOOK_ID[0]] = hook
        return _Handle(self._forward_hooks, _HOOK_ID[0])

    def register_forward_pre_hook(self, hook: Callable) -> _Handle:
        """``hook(module, inputs)`` before each call; may return new inputs (a tuple)."""
        _HOOK_ID[0] += 1
        self._forward_pre_hooks[_HOOK_ID[0]] = hook
        return _Handle(self._forward_pre_hooks, _HOOK_ID[0])

    def _check_not_meta(self):
        if STATE.meta:
            return
        for name, p in self._parameters.items():
            if p is not None and is_meta_array(p.data):
                raise ModuleError(
                    f"{type(self).__name__}: parameter {p.name or name!r} was created under "
                    "nn.meta_init() and has no values; it can only run inside "
                    "autograd_cnn.tape.meta_mode() (e.g. through ac.summary)"
                )

    def __call__(self, *args, **kwargs):
        self._check_not_meta()
        name = self.__dict__["_scope_name"]
        # the outermost module of a call pushes nothing: its own name is not in the paths
        ctx = scope(name) if name is not None and _CALL_DEPTH[0] else _NULL
        _CALL_DEPTH[0] += 1
        try:
            with ctx:
                for hook in list(self._forward_pre_hooks.values()):
                    res = hook(self, args)
                    if res is not None:
                        args = res if isinstance(res, tuple) else (res,)
                out = self.forward(*args, **kwargs)
                for hook in list(self._forward_hooks.values()):
                    res = hook(self, args, out)
                    if res is not None:
                        out = res
        finally:
            _CALL_DEPTH[0] -= 1
        return out

    # -- state dicts -------------------------------------------------------------------------
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name (tensors detached unless
        ``keep_vars``); the values share memory with the module, as in PyTorch."""
        out: OrderedDict = OrderedDict()
        prefix = prefix.rstrip(".")
        self._collect_state(out, f"{prefix}." if prefix else "", keep_vars, set())
        return out

    def _collect_state(self, out, prefix, keep_vars, ancestors):
        # as torch: a module (or tensor) reachable by several paths is listed under each
        # of them, e.g. ``Sequential(l, ReLU(), l)`` -> 0.weight, 0.bias, 2.weight, 2.bias
        for name, t in self._parameters.items():
            if t is not None:
                out[prefix + name] = t if keep_vars else t.detach()
        for name, t in self._buffers.items():
            if t is not None and name not in self._non_persistent:
                out[prefix + name] = t if keep_vars else t.detach()
        ancestors.add(id(self))
        for name, m in self._modules.items():
            if m is not None and id(m) not in ancestors:  # a cycle would never end
                m._collect_state(out, f"{prefix}{name}.", keep_vars, ancestors)
        ancestors.discard(id(self))

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Raises :class:`StateDictError` listing missing and unexpected keys (when
        ``strict``) and every shape mismatch (always). Returns
        ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "items"):
            raise ArgumentTypeError(
                f"state_dict: expected a mapping of names to tensors, got "
                f"{type(state_dict).__name__}"
            )
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and unexpected:
            problems.append("unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
        if strict and missing:
            problems.append("missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
        values = {}
        for k, t in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v.data if isinstance(v, Tensor) else np.asarray(v)
            if arr.dtype.kind not in "biuf":
                problems.append(f"{k!r}: expected a numeric array, got dtype {arr.dtype}")
            elif tuple(arr.shape) != tuple(t.shape):
                problems.append(
                    f"size mismatch for {k!r}: copying a param with shape {tuple(arr.shape)} "
                    f"from checkpoint, the shape in the current model is {tuple(t.shape)}"
                )
            else:
                values[k] = arr
        if problems:
            raise StateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(problems)
            )
        with no_grad():
            for k, arr in values.items():
                t = own[k]
                if not t.data.flags.writeable:  # meta placeholder: materialize
                    t.data = np.array(arr, dtype=t.dtype)
                    t._bump()
                else:
                    t.copy_(arr)
        return missing, unexpected

    # -- printing ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        main = type(self).__name__ + "("
        if not lines:
            return main + ")"
        if len(lines) == 1 and not self._modules:
            return main + lines[0] + ")"
        return main + "\n  " + "\n  ".join(lines) + "\n)"


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NULL = _Null()
_CALL_DEPTH = [0]
