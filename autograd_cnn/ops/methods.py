"""Operators and methods of :class:`~autograd_cnn.tensor.Tensor`, attached here so the
tensor module stays free of op details. Each method calls the op of the same name."""

from __future__ import annotations

from ..tensor import Tensor
from . import activation as A
from . import compat as C
from . import elementwise as E
from . import indexing as IX
from . import linalg as L
from . import movement as M
from . import reduce as R
from . import sorting as S
from . import trig as TR
from .inplace import INPLACE_OPERATORS, relu_


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
    "sum": R.sum, "mean": R.mean, "var": R.var, "std": R.std, "max": S.max, "min": S.min,
    "amax": R.max, "amin": R.min, "argmax": R.argmax, "argmin": R.argmin,
    "logsumexp": R.logsumexp, "softmax": R.softmax, "log_softmax": R.log_softmax,
    # movement
    "reshape": M.reshape, "view": M.reshape, "flatten": M.flatten, "ravel": M.ravel,
    "squeeze": M.squeeze, "unsqueeze": M.unsqueeze, "permute": M.permute,
    "transpose": M.transpose, "broadcast_to": M.broadcast_to, "expand": M.expand,
    "flip": M.flip, "repeat": M.repeat, "tile": M.tile, "split": M.split,
    # linalg
    "matmul": L.matmul,
    # PyTorch-compatibility methods (ops/compat.py, ops/sorting.py, ops/activation.py)
    "eq": E.eq, "ne": E.ne, "lt": E.lt, "le": E.le, "gt": E.gt, "ge": E.ge,
    "sort": S.sort, "argsort": S.argsort, "topk": S.topk, "gather": S.gather,
    "take_along_dim": S.take_along_dim, "clone": C.clone, "mm": L.matmul, "bmm": C.bmm,
    "t": C.t, "chunk": C.chunk, "isnan": C.isnan, "isinf": C.isinf, "isfinite": C.isfinite,
    "any": C.any, "all": C.all, "erf": A.erf, "relu_": relu_, "sin": TR.sin, "cos": TR.cos,
}
_METHODS.update(INPLACE_OPERATORS)

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


# ---- PyTorch-style conversions and shape helpers -----------------------------------------

_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def _cast(dtype):
    def method(self, memory_format=None):
        return E.astype(self, dtype)

    method.__doc__ = f"Cast to {dtype} (differentiable between float dtypes)."
    return method


Tensor.long = _cast("int64")
Tensor.int = _cast("int32")
Tensor.short = _cast("int16")
Tensor.byte = _cast("uint8")
Tensor.bool = _cast("bool")


def _type(self, dtype=None, non_blocking: bool = False):
    """``x.type()``: the type name (``"autograd_cnn.FloatTensor"``); ``x.type(dtype)``:
    cast (dtype may also be a name such as ``"torch.LongTensor"``)."""
    if dtype is None:
        return "autograd_cnn." + _TYPE_NAMES.get(str(self.dtype), f"{self.dtype}Tensor")
    if isinstance(dtype, str) and dtype.endswith("Tensor"):
        tail = dtype.rsplit(".", 1)[-1]
        names = {v: k for k, v in _TYPE_NAMES.items()}
        if tail not in names:
            from ..errors import DTypeError

            raise DTypeError(f"type(): unknown tensor type {dtype!r}; expected one of "
                             f"{sorted(names)}")
        dtype = names[tail]
    return E.astype(self, dtype)


def _to(self, *args, **kwargs):
    """``x.to(device)``, ``x.to(dtype)``, ``x.to(device, dtype)``, ``x.to(other)``.

    The device must be the CPU (anything else raises
    :class:`~autograd_cnn.errors.DeviceUnavailableError`). Returns ``self`` when nothing
    changes (as PyTorch), a differentiable cast when the dtype does, a copy with
    ``copy=True``. ``non_blocking`` and ``memory_format`` are accepted and have no effect.
    """
    from ..device import parse_to_args
    from ..tensor import to_dtype

    dtype, copy = parse_to_args(args, kwargs, allow_copy=True)
    out = self
    if dtype is not None and to_dtype(dtype) != self.dtype:
        out = E.astype(self, dtype)
    if copy and out is self:
        out = C.clone(self)
    return out


def _cpu(self, memory_format=None):
    """``self``: tensors already live on the CPU."""
    return self


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    """Raises :class:`~autograd_cnn.errors.DeviceUnavailableError`: no CUDA here."""
    from ..device import check_device

    check_device("cuda" if device is None else device, "cuda()")


def _contiguous(self, memory_format=None):
    """``self`` (arrays are laid out as the ops need them; no copy is made)."""
    return self


def _is_contiguous(self, memory_format=None) -> bool:
    """Whether the array is C-contiguous."""
    return bool(self.data.flags.c_contiguous)


def _new(fill):
    def method(self, *size, dtype=None, device=None, requires_grad: bool = False):
        import numpy as np

        from ..creation import _shape
        from ..device import check_device

        check_device(device, "device")
        shape = _shape(size)
        arr = np.full(shape, fill, dtype=self.dtype if dtype is None else np.dtype(dtype))
        return Tensor(arr, requires_grad=requires_grad)

    method.__doc__ = (f"A new tensor of shape ``size`` filled with {fill}, with this "
                      "tensor's dtype unless ``dtype`` is given.")
    return method


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    """A new tensor of shape ``size`` filled with ``fill_value`` (this tensor's dtype)."""
    return _new(fill_value)(self, tuple(size), dtype=dtype, device=device,
                            requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``, with this tensor's dtype by default."""
    from ..creation import tensor

    return tensor(data, dtype=self.dtype if dtype is None else dtype, device=device,
                  requires_grad=requires_grad)


def _view_as(self, other):
    """``self.reshape(other.shape)``."""
    return M.reshape(self, other.shape)


def _expand_as(self, other):
    """``self.expand(other.shape)``."""
    return M.expand(self, *other.shape)


def _type_as(self, other):
    """Cast to ``other``'s dtype."""
    return E.astype(self, other.dtype)


def _equal(self, other) -> bool:
    """True when both have the same shape and values (``torch.equal``)."""
    import numpy as np

    other = other.data if isinstance(other, Tensor) else np.asarray(other)
    return self.shape == other.shape and bool(np.array_equal(self.data, other))


def _clamp_(self, min=None, max=None):  # noqa: A002
    """Clamp in place (the rules of ``+=``, :mod:`autograd_cnn.ops.inplace`)."""
    from .inplace import update_inplace

    return update_inplace(self, lambda a: E.clip(a, min, max), None, "clamp_")


for _name, _fn in {
    "type": _type, "to": _to, "cpu": _cpu, "cuda": _cuda, "contiguous": _contiguous,
    "is_contiguous": _is_contiguous, "new_zeros": _new(0), "new_ones": _new(1),
    "new_empty": _new(0), "new_full": _new_full, "new_tensor": _new_tensor,
    "view_as": _view_as, "reshape_as": _view_as, "expand_as": _expand_as,
    "type_as": _type_as, "equal": _equal, "clamp_": _clamp_, "clip_": _clamp_,
}.items():
    setattr(Tensor, _name, _fn)
