"""Containers: Sequential, ModuleList, ModuleDict (PyTorch semantics)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable

from ..errors import ArgumentTypeError, IndexOutOfRangeError
from .module import Module


def _index(i, n, what):
    """``i`` (any integer, numpy ones included) as a non-negative index below ``n``;
    :class:`IndexOutOfRangeError` (an ``IndexError``) when out of range, as in PyTorch."""
    try:
        i = operator.index(i)
    except TypeError:
        raise ArgumentTypeError(
            f"index: {what} indices must be integers or slices, got {i!r}") from None
    if not -n <= i < n:
        raise IndexOutOfRangeError(f"index: {i} is out of range for a {what} of length {n}")
    return i % n


def _renumber(container: Module) -> None:
    """Rename the children of ``container`` to ``"0"``, ``"1"``... in order (what PyTorch
    does after ``del``), keeping their scope names and parameter names in step."""
    items = list(container._modules.items())
    container._modules.clear()
    for j, (old, m) in enumerate(items):
        new = str(j)
        container._modules[new] = m
        if m is None or old == new or m.__dict__.get("_scope_name") != old:
            continue
        m.__dict__["_scope_name"] = new
        for rel, p in m.named_parameters():
            # a parameter's name is its path from the outermost assembled module: swap
            # only the segment naming this child, keeping whatever prefix precedes it
            suffix = f"{old}.{rel}"
            name = p.name or ""
            if name == suffix or name.endswith("." + suffix):
                p.name = name[: len(name) - len(suffix)] + f"{new}.{rel}"


class Sequential(Module):
    """Modules called in order, each on the previous one's output.

    ``Sequential(m0, m1, ...)`` names children ``"0"``, ``"1"``...;
    ``Sequential(OrderedDict(name=m))`` uses the given names.

    >>> import autograd_cnn.nn as nn
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> len(net), type(net[1]).__name__
    (3, 'ReLU')
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            # a view sharing the children; their names and scopes stay those of self
            out = Sequential()
            out._modules.update(list(self._modules.items())[idx])
            return out
        return list(self._modules.values())[_index(idx, len(self), "Sequential")]

    def __setitem__(self, idx, module):
        key = list(self._modules)[_index(idx, len(self), "Sequential")]
        self.add_module(key, module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        doomed = keys[idx] if isinstance(idx, slice) else [
            keys[_index(idx, len(keys), "Sequential")]]
        for k in doomed:
            del self._modules[k]
        _renumber(self)  # as torch: keys stay 0..n-1, so a later append() overwrites nothing

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(Module):
    """A list of modules, registered (their parameters belong to the parent)."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            # a view sharing the children: registered directly, not through add_module,
            # so their scope names and parameter names stay those of self
            out = ModuleList()
            for i, m in enumerate(list(self._modules.values())[idx]):
                out._modules[str(i)] = m
            return out
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx, module):
        self.add_module(str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        doomed = keys[idx] if isinstance(idx, slice) else [
            keys[_index(idx, len(keys), "ModuleList")]]
        for k in doomed:
            del self._modules[k]
        _renumber(self)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module):
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for m in mods:
            self.append(m)

    def forward(self, *args):
        raise ArgumentTypeError("ModuleList is not callable; iterate over it in forward()")


class ModuleDict(Module):
    """An ordered dict of modules, registered under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no key {key!r}; keys: {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __contains__(self, key):
        return key in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self.add_module(k, m)

    def forward(self, *args):
        raise ArgumentTypeError("ModuleDict is not callable; index it in forward()")


class ParameterList(Module):
    """A list of parameters registered as ``"0"``, ``"1"``, ... (so ``parameters()`` and
    ``state_dict`` see them). Tensors appended are wrapped as :class:`Parameter`."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _as_param(self, p):
        from .module import Parameter

        return p if isinstance(p, Parameter) else Parameter(p)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, idx):
        vals = list(self._parameters.values())
        if isinstance(idx, slice):
            return ParameterList(vals[idx])
        return vals[_index(idx, len(vals), "ParameterList")]

    def __setitem__(self, idx, p):
        i = _index(idx, len(self), "ParameterList")
        self.register_parameter(str(i), self._as_param(p))

    def append(self, p) -> ParameterList:
        self.register_parameter(str(len(self)), self._as_param(p))
        return self

    def extend(self, values) -> ParameterList:
        for p in values:
            self.append(p)
        return self

    def forward(self, *args):
        raise ArgumentTypeError("ParameterList is not callable; iterate over it in forward()")


class ParameterDict(Module):
    """An ordered dict of parameters registered under their (string) keys."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        if key not in self._parameters:
            raise KeyError(f"ParameterDict has no key {key!r}; keys: {list(self._parameters)}")
        return self._parameters[key]

    def __setitem__(self, key, p):
        from .module import Parameter

        self.register_parameter(key, p if isinstance(p, Parameter) else Parameter(p))

    def __contains__(self, key):
        return key in self._parameters

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def update(self, parameters):
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for k, p in items:
            self[k] = p

    def forward(self, *args):
        raise ArgumentTypeError("ParameterDict is not callable; index it in forward()")
