"""Operators and methods of :class:`~autograd_cnn.tensor.Tensor`, attached here so the
tensor module stays free of op details. Each method calls the op of the same name."""

from __future__ import annotations

from ..tensor import Tensor
from . import elementwise as E
from . import indexing as IX
from . import linalg as L
from . import movement as M
from . import reduce as R


def _swap(fn):
    return lambda self, other: fn(other, self)


_OPERATORS = {
    "__add__": E.add,
    "__radd__": _swap(E.add),
    "__sub__": E.sub,
    "__rsub__": _swap(E.sub),
    "__mul__": E.mul,
    "__rmul__": _swap(E.mul),
    "__truediv__": E.div,
    "__rtruediv__": _swap(E.div),
    "__pow__": E.pow,
    "__rpow__": _swap(E.pow),
    "__matmul__": L.matmul,
    "__rmatmul__": _swap(L.matmul),
    "__neg__": E.neg,
    "__pos__": lambda self: self,
    "__abs__": E.abs,
    "__getitem__": IX.getitem,
    "__eq__": E.eq,
    "__ne__": E.ne,
    "__lt__": E.lt,
    "__le__": E.le,
    "__gt__": E.gt,
    "__ge__": E.ge,
}

_METHODS = {
    # elementwise
    "add": E.add, "sub": E.sub, "mul": E.mul, "div": E.div, "pow": E.pow, "neg": E.neg,
    "exp": E.exp, "log": E.log, "sqrt": E.sqrt, "abs": E.abs, "relu": E.relu,
    "sigmoid": E.sigmoid, "tanh": E.tanh, "clip": E.clip, "clamp": E.clip,
    "maximum": E.maximum, "minimum": E.minimum, "astype": E.astype, "sign": E.sign,
    # reductions
    "sum": R.sum, "mean": R.mean, "var": R.var, "std": R.std, "max": R.max, "min": R.min,
    "amax": R.max, "amin": R.min, "argmax": R.argmax, "argmin": R.argmin,
    "logsumexp": R.logsumexp, "softmax": R.softmax, "log_softmax": R.log_softmax,
    # movement
    "reshape": M.reshape, "view": M.reshape, "flatten": M.flatten, "ravel": M.ravel,
    "squeeze": M.squeeze, "unsqueeze": M.unsqueeze, "permute": M.permute,
    "transpose": M.transpose, "broadcast_to": M.broadcast_to, "expand": M.expand,
    "flip": M.flip, "repeat": M.repeat, "tile": M.tile, "split": M.split,
    # linalg
    "matmul": L.matmul,
}

for _name, _fn in {**_OPERATORS, **_METHODS}.items():
    setattr(Tensor, _name, _fn)

Tensor.T = property(lambda self: M.permute(self, tuple(reversed(range(self.ndim)))))
Tensor.mT = property(lambda self: M.transpose(self, -2, -1))


_MEMORY_FORMATS = ("preserve_format", "contiguous_format", "channels_last",
                   "channels_last_3d")


def _check_memory_format(memory_format, fn: str) -> None:
    """``memory_format`` is accepted for PyTorch compatibility and has no effect: a NumPy
    array has one layout here, and values never depend on it. Any of PyTorch's four
    formats, given as ``torch.<name>`` or as the name, passes; anything else raises."""
    if memory_format is None:
        return
    name = str(memory_format).removeprefix("torch.")
    if name not in _MEMORY_FORMATS:
        from ..errors import InvalidArgumentError

        raise InvalidArgumentError(
            f"{fn}(): memory_format must be one of {_MEMORY_FORMATS} (accepted and ignored), "
            f"got {memory_format!r}")


def _float(self, memory_format=None):
    """Cast to float32 (``Tensor.float``); ``memory_format`` is accepted and ignored."""
    _check_memory_format(memory_format, "float")
    return E.astype(self, "float32")


def _double(self, memory_format=None):
    """Cast to float64 (``Tensor.double``); ``memory_format`` is accepted and ignored."""
    _check_memory_format(memory_format, "double")
    return E.astype(self, "float64")


Tensor.float = _float
Tensor.double = _double
