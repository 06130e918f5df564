"""Creating tensors: from data, constants, ranges and random numbers.

Random functions take a ``seed`` or a NumPy ``Generator`` (``generator=``); without
either they draw from the library's global generator, reset by :func:`manual_seed`.
"""

from __future__ import annotations

import numpy as np

from .errors import ArgumentTypeError, InvalidArgumentError
from .tensor import DEFAULT_DTYPE, Tensor, to_dtype

_GLOBAL_RNG = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator used when no ``seed``/``generator`` is given."""
    global _GLOBAL_RNG
    _GLOBAL_RNG = np.random.default_rng(seed)
    return _GLOBAL_RNG


def get_rng(seed=None, generator=None) -> np.random.Generator:
    """The Generator to draw from: ``generator``, a new one from ``seed``, or the global."""
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
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ArgumentTypeError(f"size: expected non-negative ints, got {size}")
    return tuple(int(s) for s in size)


def _dtype(dtype) -> np.dtype:
    return DEFAULT_DTYPE if dtype is None else to_dtype(dtype)


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``.

    Python floats become float32 (the default dtype), ints int64, bools bool; NumPy arrays
    keep their dtype. Shape: that of ``data``.

    >>> tensor([[1.0, 2.0]]).shape
    (1, 2)
    """
    t = Tensor(data, dtype=dtype, requires_grad=requires_grad)
    if isinstance(data, (np.ndarray, Tensor)) and t.data is (
        data.data if isinstance(data, Tensor) else data
    ):
        t.data = t.data.copy()
    return t


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Tensor of zeros with shape ``size`` (``zeros(2, 3)`` or ``zeros((2, 3))``)."""
    return Tensor(np.zeros(_shape(size), _dtype(dtype)), requires_grad=requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Tensor of ones with shape ``size``."""
    return Tensor(np.ones(_shape(size), _dtype(dtype)), requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """Tensor of shape ``size`` filled with ``fill_value``."""
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return Tensor(np.full(_shape(size), fill_value, _dtype(dtype)), requires_grad=requires_grad)


def zeros_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and, unless ``dtype`` is given, the dtype) of ``x``."""
    x = np.asarray(x)
    return Tensor(np.zeros(x.shape, dtype or x.dtype), requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and, unless ``dtype`` is given, the dtype) of ``x``."""
    x = np.asarray(x)
    return Tensor(np.ones(x.shape, dtype or x.dtype), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for int arguments,
    float32 when any is a float (as PyTorch)."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise InvalidArgumentError("arange(): step must be non-zero, got 0")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = DEFAULT_DTYPE if is_float else np.int64
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive. Shape (steps,)."""
    return Tensor(np.linspace(start, end, steps, dtype=_dtype(dtype)),
                  requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Identity matrix, shape (n, m) (m defaults to n)."""
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)), requires_grad=requires_grad)


def randn(*size, dtype=None, requires_grad: bool = False, seed=None, generator=None) -> Tensor:
    """Standard normal samples with shape ``size``."""
    rng = get_rng(seed, generator)
    data = rng.standard_normal(_shape(size), dtype=np.float64).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def rand(*size, dtype=None, requires_grad: bool = False, seed=None, generator=None) -> Tensor:
    """Uniform samples in [0, 1) with shape ``size``."""
    rng = get_rng(seed, generator)
    data = rng.random(_shape(size), dtype=np.float64).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def randint(low, high, size, seed=None, generator=None) -> Tensor:
    """Integers in [low, high) (int64) with shape ``size``."""
    rng = get_rng(seed, generator)
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return Tensor(rng.integers(low, high, size=size, dtype=np.int64))
