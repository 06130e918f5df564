"""The Tensor: a NumPy array plus what the tape needs to differentiate through it.

Operators and most methods (``+``, ``@``, ``.sum()``, ``.reshape()`` ...) are attached by
:mod:`autograd_cnn.ops.methods`, so that this module knows nothing of individual ops.
"""

from __future__ import annotations

import numpy as np

from .errors import ArgumentTypeError, DTypeError, GradientDTypeError, InplaceError

DEFAULT_DTYPE = np.dtype(np.float32)

# Set by the tape: ``guard(tensor, what)`` raises a TraceError when ``tensor``'s value is
# being traced in this thread (a Python ``if`` or ``float()`` on it cannot become part of
# a graph).
VALUE_GUARD = [None]


def _guard(t, what: str):
    g = VALUE_GUARD[0]
    if g is not None:
        g(t, what)
_FLOAT_KINDS = "f"


def to_dtype(dtype, name: str = "dtype") -> np.dtype:
    """``np.dtype(dtype)`` with a named error for names NumPy does not know."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise DTypeError(
            f"{name}: expected a NumPy dtype such as 'float32' or 'float64', got {dtype!r}"
        ) from None


def get_default_dtype() -> np.dtype:
    """The dtype Python floats and the creation functions use (float32 unless changed)."""
    return DEFAULT_DTYPE


def set_default_dtype(dtype) -> None:
    """Make Python floats, creation functions and new layers' parameters use ``dtype``
    (``float32`` or ``float64``), as ``torch.set_default_dtype``. Process-wide."""
    global DEFAULT_DTYPE
    d = to_dtype(dtype)
    if d not in (np.float32, np.float64):
        raise DTypeError(f"set_default_dtype(): dtype must be float32 or float64, got {d}")
    DEFAULT_DTYPE = d


def is_differentiable_dtype(dtype) -> bool:
    """Only floating-point tensors can require grad."""
    return np.dtype(dtype).kind in _FLOAT_KINDS


def _to_array(data, dtype=None) -> np.ndarray:
    """Convert user data: Python floats become float32, NumPy arrays keep their dtype."""
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
    else:
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as e:
            raise ArgumentTypeError(
                f"data: expected a number, nested sequence or array, got {type(data).__name__}"
                f" ({e})"
            ) from None
        if arr.dtype == np.float64 and dtype is None:
            arr = arr.astype(DEFAULT_DTYPE)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise DTypeError(f"data: expected numeric or boolean values, got dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(to_dtype(dtype), copy=False)
    return arr


class Size(tuple):
    """A shape, as returned by :meth:`Tensor.size` (a tuple, like ``torch.Size``)."""

    def numel(self) -> int:
        """The product of the dimensions."""
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"Size({list(self)})"


class Tensor:
    """A multi-dimensional array that records operations for differentiation.

    Parameters
    ----------
    data : array_like
        Numbers, nested sequences or an ndarray. Python floats become float32; NumPy
        arrays keep their dtype (float64 stays float64).
    dtype : dtype, optional
    requires_grad : bool
        Record operations on this tensor so gradients can flow to it. Only floating
        dtypes can require grad.

    Examples
    --------
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.numpy()
    array([2., 4.], dtype=float32)
    """

    __slots__ = ("data", "_requires_grad", "grad", "_node", "_version", "name", "__weakref__")
    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__

    def __init__(self, data, dtype=None, requires_grad: bool = False):
        self.data = _to_array(data, dtype)
        self._node = None
        self._version = [0]
        self.grad = None
        self.name = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool) -> Tensor:
        """Fast constructor for op outputs (no conversion, no checks)."""
        t = object.__new__(cls)
        t.data = array
        t._requires_grad = requires_grad
        t._node = None
        t._version = [0]
        t.grad = None
        t.name = None
        return t

    # -- autograd attributes -----------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool):
        if self._node is not None and not flag:
            raise InplaceError(
                "requires_grad: can only be switched off on leaf tensors; use .detach() on "
                f"this result of op {self._node.prim.name!r}"
            )
        if flag and not is_differentiable_dtype(self.data.dtype):
            raise GradientDTypeError(
                f"requires_grad: only floating-point tensors can require gradients, got "
                f"dtype {self.data.dtype}; convert with .astype('float32') or 'float64' first"
            )
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = flag
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user-created, parameters)."""
        return self._node is None

    @property
    def grad_fn(self):
        """The tape node that produced this tensor (None for leaves)."""
        return self._node

    @property
    def op(self) -> str | None:
        """Name of the primitive that produced this tensor, or None."""
        return None if self._node is None else self._node.prim.name

    @property
    def version(self) -> int:
        """How many times the data was changed in place."""
        return self._version[0]

    def backward(self, gradient=None, retain_graph: bool = False, create_graph: bool = False):
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf.

        Parameters
        ----------
        gradient : array_like, optional
            d(loss)/d(self), shape ``self.shape``; required unless self has one element.
        retain_graph : bool
            Keep saved buffers so backward can run through this graph again.
        create_graph : bool
            Record the backward pass (for higher-order derivatives); implies retain.
        """
        from .tape import backward

        backward(self, gradient, retain_graph, create_graph)

    def detach(self) -> Tensor:
        """A tensor sharing this data (and version counter) with no graph history."""
        t = Tensor._wrap(self.data, False)
        t._version = self._version
        return t

    def zero_grad(self):
        self.grad = None

    # -- array attributes --------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def size(self, dim: int | None = None):
        """The shape, as PyTorch: ``x.size()`` is a :class:`Size` (a tuple), ``x.size(d)``
        the length of dimension ``d``. (Not NumPy's element count: use :meth:`numel`.)"""
        if dim is None:
            return Size(self.data.shape)
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise ArgumentTypeError(f"size(): dim must be an int, got {dim!r}")
        nd = self.data.ndim
        if not -max(nd, 1) <= dim < max(nd, 1) or nd == 0:
            from .errors import IndexOutOfRangeError

            raise IndexOutOfRangeError(
                f"size(): dim {dim} out of range for a tensor with {nd} dims"
            )
        return self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    ndimension = dim

    def numel(self) -> int:
        """The number of elements (NumPy's ``.size``)."""
        return self.data.size

    nelement = numel

    @property
    def device(self):
        """Always ``device(type='cpu')``: tensors live on the CPU."""
        from .device import CPU

        return CPU

    is_cuda = False

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        _guard(self, "numpy()")
        return self.data

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        _guard(self, "item()")
        if self.data.size != 1:
            raise InplaceError(
                f"item(): only one-element tensors can be converted to a Python number, "
                f"got shape {self.shape}"
            )
        return self.data.item()

    def tolist(self):
        _guard(self, "tolist()")
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        _guard(self, "conversion to a NumPy array")
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        if copy:
            return self.data.copy()
        return self.data

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise ArgumentTypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        _guard(self, "bool() (an `if` or `while` on a tensor)")
        if self.data.size != 1:
            raise InplaceError(
                f"the truth value of a tensor with shape {self.shape} is ambiguous; use "
                ".any() or .all()"
            )
        return bool(self.data)

    def __float__(self):
        _guard(self, "float()")
        return float(self.item())

    def __int__(self):
        _guard(self, "int()")
        return int(self.item())

    def __index__(self):
        """A 0-d integer tensor can index a Python sequence (``classes[label]``). Only 0-d:
        NumPy would take a shape-(1,) tensor for a scalar index and drop a dimension."""
        if self.data.ndim != 0 or self.data.dtype.kind not in "iub":
            raise ArgumentTypeError(
                f"__index__: only 0-d integer tensors can be used as an index, got "
                f"shape {self.shape} dtype {self.dtype}"
            )
        return int(self.data.item())

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, threshold=20,
                               edgeitems=2, prefix="tensor(")
        extra = f"shape={self.shape}, dtype={self.dtype}"
        if self._node is not None:
            extra += f", op={self._node.prim.name}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}, {extra})"

    # -- in-place changes (bump the version counter) -----------------------------------
    def _check_inplace(self, what: str, value=None):
        from .tape import is_grad_enabled

        _guard(self, f"in-place {what}")  # raw writes cannot be part of a traced graph
        if isinstance(value, Tensor):
            _guard(value, f"{what} with a traced value")
        grad_flows = self._requires_grad or (isinstance(value, Tensor) and value.requires_grad)
        if is_grad_enabled() and grad_flows:
            raise InplaceError(
                f"{what}: in-place change of a tensor that requires grad while recording; "
                "the tape cannot record it. Wrap it in `with ac.no_grad():` (e.g. parameter "
                "updates) or use out-of-place ops."
            )

    def _bump(self):
        self._version[0] += 1

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__", value)
        from .ops.indexing import normalize_index

        self.data[normalize_index(index)] = value.data if isinstance(value, Tensor) else value
        self._bump()

    def _inplace(self, what, fn, other=None):
        self._check_inplace(what, other)
        other = other.data if isinstance(other, Tensor) else other
        fn(self.data, other)
        self._bump()
        return self

    def add_(self, other, alpha=1.0):
        """self += alpha * other, in place."""
        return self._inplace("add_", lambda a, b: np.add(a, alpha * b, out=a, casting="unsafe"),
                             other)

    def sub_(self, other, alpha=1.0):
        return self._inplace("sub_", lambda a, b: np.subtract(a, alpha * b, out=a,
                                                              casting="unsafe"), other)

    def mul_(self, other):
        return self._inplace("mul_", lambda a, b: np.multiply(a, b, out=a, casting="unsafe"),
                             other)

    def div_(self, other):
        return self._inplace("div_", lambda a, b: np.divide(a, b, out=a, casting="unsafe"),
                             other)

    def copy_(self, src):
        return self._inplace("copy_", lambda a, b: np.copyto(a, b, casting="unsafe"), src)

    def fill_(self, value):
        return self._inplace("fill_", lambda a, b: a.fill(b), value)

    def zero_(self):
        return self.fill_(0)


def as_tensor(x, dtype=None) -> Tensor:
    """Return ``x`` if it is a Tensor (cast if ``dtype`` differs), else wrap it."""
    if isinstance(x, Tensor):
        if dtype is None or np.dtype(dtype) == x.dtype:
            return x
        return x.astype(dtype)
    return Tensor(x, dtype=dtype)
