"""In-place operators (``+=``, ``-=``, ``*=``, ``/=``, ``**=``) with PyTorch's semantics.

Python falls back to ``x = x + y`` when a class has no ``__iadd__``: the name is rebound
to a new tensor and the object other code holds (a module's parameter) is left unchanged,
so the tutorial idiom ``with no_grad(): p -= lr * p.grad`` would silently not train.
Here the operators change the tensor itself:

- when no gradient flows through the update (under ``no_grad``, or no operand requires
  grad), the array is updated in place (views see the change) and the version counter is
  bumped, so a graph that saved the old value refuses to backward through it
  (:class:`~autograd_cnn.errors.SavedTensorModifiedError`), as PyTorch does;
- on a leaf that requires grad, while recording, they raise
  :class:`~autograd_cnn.errors.InplaceError` (PyTorch: "a leaf Variable that requires grad
  is being used in an in-place operation");
- on a recorded intermediate (or a tensor combined with one that requires grad) the op is
  recorded out of place on a private copy of the old value, the result is written into the
  tensor's array, and the tensor takes the new node as its history (PyTorch's rebase).
  An intermediate that is the output of a view op (reshape, indexing...) refuses: its
  base would not see the recorded history.
"""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError, InplaceError, ShapeError
from ..tensor import Tensor
from . import elementwise as E


def _arr(v):
    return v.data if isinstance(v, Tensor) else np.asarray(v)


def _check_result(self: Tensor, out_shape, out_dtype, what: str):
    if tuple(out_shape) != self.data.shape:
        raise ShapeError(
            f"{what}: the result of shape {tuple(out_shape)} cannot be written in place into "
            f"a tensor of shape {self.data.shape} (in-place ops do not broadcast the target)"
        )
    if not np.can_cast(out_dtype, self.data.dtype, casting="same_kind"):
        raise DTypeError(
            f"{what}: result type {out_dtype} can't be cast to the tensor's dtype "
            f"{self.data.dtype} in place (PyTorch refuses too); convert first"
        )


def update_inplace(self: Tensor, fn, other, what: str) -> Tensor:
    """Make ``self`` hold ``fn(self, other)``, in place, with PyTorch's rules (above).

    Parameters
    ----------
    self : Tensor
        The tensor to change.
    fn : callable
        An out-of-place op ``fn(a, b) -> Tensor`` (``other`` may be None for unary ops).
    other : Tensor, array or number, or None
    what : str
        The operator's name for error messages (``"__isub__"``).

    Returns
    -------
    Tensor
        ``self``, changed.
    """
    from ..tape import STATE, trace_alias

    grad_flows = STATE.grad_enabled and (
        self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)
    )
    if not grad_flows:
        args = (self,) if other is None else (self, other)
        with _no_record():
            out = fn(*args)
        _check_result(self, out.data.shape, out.data.dtype, what)
        try:
            np.copyto(self.data, out.data, casting="same_kind")
        except ValueError as e:  # read-only (broadcast or meta) arrays
            raise InplaceError(f"{what}: cannot write into this tensor's array ({e})") from None
        self._bump()
        trace_alias(self, out)
        return self
    if self._node is None and self._requires_grad:
        raise InplaceError(
            f"{what}: a leaf tensor that requires grad is being used in an in-place "
            "operation while recording; wrap parameter updates in `with ac.no_grad():`"
        )
    if self._node is not None and self._node.prim.is_view:
        raise InplaceError(
            f"{what}: in-place change, while recording, of the output of view op "
            f"{self._node.prim.name!r}; its base would not see the change. Use an "
            "out-of-place op (y = y + ...) or .clone() first"
        )
    old = Tensor._wrap(self.data.copy(), self._requires_grad)
    trace_alias(old, self)  # the copy of the old value is the same graph value
    old._node = self._node
    old._version = [self._version[0]]  # a saved output already stale stays detectably so
    if self._node is not None and self._node.out is self:
        self._node.out = old  # the producing op's VJP reads the old value
    out = fn(old) if other is None else fn(old, other)
    _check_result(self, out.data.shape, out.data.dtype, what)
    try:
        np.copyto(self.data, out.data, casting="same_kind")
    except ValueError as e:
        raise InplaceError(f"{what}: cannot write into this tensor's array ({e})") from None
    self._bump()
    self._node = out._node
    self._requires_grad = out._requires_grad
    trace_alias(self, out)
    return self


class _no_record:
    def __enter__(self):
        from ..tape import STATE

        self._prev = STATE.grad_enabled
        STATE.grad_enabled = False

    def __exit__(self, *exc):
        from ..tape import STATE

        STATE.grad_enabled = self._prev
        return False


def _iop(fn, name):
    def method(self, other):
        return update_inplace(self, fn, other, name)

    method.__name__ = name
    method.__doc__ = f"``{name}``: update this tensor in place (see :mod:`{__name__}`)."
    return method


INPLACE_OPERATORS = {
    "__iadd__": _iop(E.add, "__iadd__"),
    "__isub__": _iop(E.sub, "__isub__"),
    "__imul__": _iop(E.mul, "__imul__"),
    "__itruediv__": _iop(E.div, "__itruediv__"),
    "__ipow__": _iop(E.pow, "__ipow__"),
}


def relu_(x: Tensor) -> Tensor:
    """``x = relu(x)`` in place (``F.relu(x, inplace=True)``, ``Tensor.relu_``)."""
    return update_inplace(x, E.relu, None, "relu_")
