"""Creating tensors: from data, constants, ranges and random numbers.

Random functions take a ``seed`` or a NumPy ``Generator`` (``generator=``); without
either they draw from the library's global generator, reset by :func:`manual_seed`.
"""

from __future__ import annotations

import os

import numpy as np

from .device import check_device
from .errors import ArgumentTypeError, InvalidArgumentError, OutputTooLargeError
from .tensor import Tensor, get_default_dtype, to_dtype

#: Largest number of elements a creation function may allocate: ``zeros(10**7, 10**7)``
#: gets a named error at once instead of a MemoryError after seconds. The same default
#: and environment variable as the conv family's cap (``AUTOGRAD_CNN_MAX_OUTPUT_ELEMENTS``).
MAX_ELEMENTS = int(os.environ.get("AUTOGRAD_CNN_MAX_OUTPUT_ELEMENTS", 2**31))


def _max_elements() -> int:
    return MAX_ELEMENTS


def _guard(shape, who: str = "size"):
    n = 1
    for s in shape:
        n *= int(s)
    cap = _max_elements()
    if n > cap:
        raise OutputTooLargeError(
            f"{who}: a tensor of shape {tuple(shape)} would have {n} elements, over the cap "
            f"of {cap} (set AUTOGRAD_CNN_MAX_OUTPUT_ELEMENTS to raise it)")
    return shape

_GLOBAL_RNG = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator used when no ``seed``/``generator`` is given."""
    global _GLOBAL_RNG
    _GLOBAL_RNG = np.random.default_rng(seed)
    return _GLOBAL_RNG


class Generator:
    """``torch.Generator``: a seedable source of random numbers to pass as ``generator=``
    (``Generator().manual_seed(42)``); wraps a ``numpy.random.Generator``.

    Parameters
    ----------
    device : str or device
        Must be the CPU.
    """

    def __init__(self, device="cpu"):
        check_device(device)
        self.rng = np.random.default_rng()
        self._seed = None

    def manual_seed(self, seed: int) -> Generator:
        """Reseed and return self."""
        self.rng = np.random.default_rng(seed)
        self._seed = seed
        return self

    def initial_seed(self):
        """The seed last given to :meth:`manual_seed` (None if never seeded)."""
        return self._seed


def get_rng(seed=None, generator=None) -> np.random.Generator:
    """The Generator to draw from: ``generator``, a new one from ``seed``, or the global."""
    if isinstance(generator, Generator):
        return generator.rng
    if generator is not None:
        if not isinstance(generator, np.random.Generator):
            raise ArgumentTypeError(
                f"generator: expected a numpy.random.Generator, got {type(generator).__name__}"
            )
        return generator
    if seed is not None:
        return np.random.default_rng(seed)
    return _GLOBAL_RNG


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, Tensor) and s.data.size == 1 and s.dtype.kind in "iu":
            s = int(s.data.item())
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ArgumentTypeError(f"size: expected non-negative ints, got {size}")
    return _guard(tuple(int(s) for s in size))


def _dtype(dtype) -> np.dtype:
    return get_default_dtype() if dtype is None else to_dtype(dtype)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``.

    Python floats become float32 (the default dtype), ints int64, bools bool; NumPy arrays
    keep their dtype. Shape: that of ``data``.

    >>> tensor([[1.0, 2.0]]).shape
    (1, 2)
    """
    check_device(device)
    t = Tensor(data, dtype=dtype, requires_grad=requires_grad)
    if isinstance(data, (np.ndarray, Tensor)) and t.data is (
        data.data if isinstance(data, Tensor) else data
    ):
        t.data = t.data.copy()
    return t


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Tensor of zeros with shape ``size`` (``zeros(2, 3)`` or ``zeros((2, 3))``)."""
    check_device(device)
    return Tensor(np.zeros(_shape(size), _dtype(dtype)), requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Tensor of ones with shape ``size``."""
    check_device(device)
    return Tensor(np.ones(_shape(size), _dtype(dtype)), requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Tensor of shape ``size`` filled with ``fill_value``."""
    check_device(device)
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    if dtype is None and isinstance(fill_value, (bool, int)):
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64  # as PyTorch
    return Tensor(np.full(_shape(size), fill_value, _dtype(dtype)), requires_grad=requires_grad)


def zeros_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and, unless ``dtype`` is given, the dtype) of ``x``."""
    check_device(device)
    x = np.asarray(x)
    return Tensor(np.zeros(x.shape, dtype or x.dtype), requires_grad=requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and, unless ``dtype`` is given, the dtype) of ``x``."""
    check_device(device)
    x = np.asarray(x)
    return Tensor(np.ones(x.shape, dtype or x.dtype), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for int arguments,
    float32 when any is a float (as PyTorch)."""
    check_device(device)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise InvalidArgumentError("arange(): step must be non-zero, got 0")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = get_default_dtype() if is_float else np.int64
    n = max(0, int(np.ceil((float(end) - float(start)) / float(step))))
    _guard((n,), "arange()")
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive. Shape (steps,)."""
    check_device(device)
    _shape((steps,))
    return Tensor(np.linspace(start, end, steps, dtype=_dtype(dtype)),
                  requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """Identity matrix, shape (n, m) (m defaults to n)."""
    check_device(device)
    _shape((n, n if m is None else m))
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)), requires_grad=requires_grad)


def randn(*size, dtype=None, device=None, requires_grad: bool = False, seed=None,
          generator=None) -> Tensor:
    """Standard normal samples with shape ``size``."""
    check_device(device)
    rng = get_rng(seed, generator)
    data = rng.standard_normal(_shape(size), dtype=np.float64).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def rand(*size, dtype=None, device=None, requires_grad: bool = False, seed=None,
          generator=None) -> Tensor:
    """Uniform samples in [0, 1) with shape ``size``."""
    check_device(device)
    rng = get_rng(seed, generator)
    data = rng.random(_shape(size), dtype=np.float64).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def randint(low, high=None, size=None, seed=None, generator=None, dtype=None,
            device=None) -> Tensor:
    """Integers in [low, high) (int64) with shape ``size``; ``randint(high, size)`` draws
    from [0, high) as PyTorch."""
    check_device(device)
    if size is None and high is not None and not isinstance(high, (int, np.integer)):
        low, high, size = 0, low, high
    if size is None:
        raise ArgumentTypeError("randint(): missing the size argument")
    rng = get_rng(seed, generator)
    size = _shape((size,) if isinstance(size, (int, np.integer)) else tuple(size))
    out = rng.integers(low, high, size=size, dtype=np.int64)
    return Tensor(out if dtype is None else out.astype(to_dtype(dtype)))


def randperm(n: int, dtype=None, device=None, seed=None, generator=None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 unless ``dtype``). Shape (n,)."""
    check_device(device)
    (n,) = _shape((n,))
    out = get_rng(seed, generator).permutation(n)
    return Tensor(out.astype(np.int64 if dtype is None else to_dtype(dtype)),
                  requires_grad=requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` (zero-filled here: uninitialized memory is never handed
    out)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (keeps its dtype, as ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise ArgumentTypeError(f"from_numpy(): expected an np.ndarray, got "
                                f"{type(array).__name__}")
    return Tensor(array)


def _like(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def full_like(x, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with the shape (and, unless ``dtype``, dtype) of ``x``."""
    check_device(device)
    a = _like(x)
    return Tensor(np.full(a.shape, fill_value, dtype or a.dtype), requires_grad=requires_grad)


def empty_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape of ``x`` (see :func:`empty`)."""
    return zeros_like(x, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(x, dtype=None, device=None, requires_grad: bool = False, seed=None,
               generator=None) -> Tensor:
    """Standard normal samples with the shape (and dtype) of ``x``."""
    a = _like(x)
    return randn(*a.shape, dtype=dtype or a.dtype, device=device,
                 requires_grad=requires_grad, seed=seed, generator=generator)


def rand_like(x, dtype=None, device=None, requires_grad: bool = False, seed=None,
              generator=None) -> Tensor:
    """Uniform [0, 1) samples with the shape (and dtype) of ``x``."""
    a = _like(x)
    return rand(*a.shape, dtype=dtype or a.dtype, device=device,
                requires_grad=requires_grad, seed=seed, generator=generator)
