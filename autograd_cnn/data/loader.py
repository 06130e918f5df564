"""DataLoader: batches of a dataset, optionally shuffled with a seeded generator."""

from __future__ import annotations

import math

import numpy as np

from ..creation import get_rng
from ..errors import ArgumentTypeError, InvalidArgumentError
from ..tensor import Tensor


def default_collate(items):
    """Stack a list of items into a batch of Tensors.

    Each item is an array/number or a tuple of them; the result is a Tensor or a tuple of
    Tensors with a new leading batch dimension. Floats keep their dtype (float64 Python
    floats become float32, the library default); ints become int64.
    """
    first = items[0]
    if isinstance(first, (tuple, list)):
        return tuple(default_collate([it[k] for it in items]) for k in range(len(first)))
    return _to_tensor(np.stack([it.data if isinstance(it, Tensor) else np.asarray(it)
                                for it in items]))


def _to_tensor(a) -> Tensor:
    if isinstance(a, Tensor):
        return a
    a = np.asarray(a)
    if a.dtype.kind in "iu":
        a = a.astype(np.int64, copy=False)
    elif a.dtype.kind == "f" and a.dtype.itemsize < 4:
        a = a.astype(np.float32)
    return Tensor(np.ascontiguousarray(a))


class DataLoader:
    """Iterate over a dataset in mini-batches (PyTorch's ``DataLoader``, single process).

    Parameters
    ----------
    dataset : Dataset
        Anything with ``__len__`` and ``__getitem__``; a ``__getitems__(indices)`` method,
        when present (``TensorDataset`` has one), fetches a whole batch without a Python
        loop per sample.
    batch_size : int
        Items per batch (>= 1).
    shuffle : bool
        Draw a new random order at the start of every epoch.
    drop_last : bool
        Drop the last batch when it has fewer than ``batch_size`` items.
    seed : int, optional
        Seed of the shuffling generator: two loaders with the same seed produce the same
        sequence of epochs. Without ``seed`` or ``generator``, the library's global
        generator (:func:`autograd_cnn.manual_seed`) is used.
    generator : numpy.random.Generator, optional
    collate_fn : callable, optional
        Turns a list of items into a batch (default: :func:`default_collate`).

    Yields
    ------
    tuple of Tensor
        For ``TensorDataset(x, y)``: ``(x_batch (B, ...), y_batch (B,))``.

    Examples
    --------
    >>> from autograd_cnn.data import TensorDataset
    >>> ds = TensorDataset(np.zeros((10, 1, 8, 8), np.float32), np.arange(10))
    >>> [xb.shape[0] for xb, yb in DataLoader(ds, batch_size=4)]
    [4, 4, 2]
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed=None, generator=None, collate_fn=None):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise ArgumentTypeError(
                f"dataset: expected an object with __len__ and __getitem__, got "
                f"{type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise ArgumentTypeError(f"batch_size: expected an int, got {batch_size!r}")
        if batch_size < 1:
            raise InvalidArgumentError(f"batch_size: expected an int >= 1, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn or default_collate
        self._rng = get_rng(seed, generator) if shuffle else None

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        return self._rng.permutation(n) if self.shuffle else np.arange(n)

    def __iter__(self):
        order = self._order()
        n = len(order)
        stop = n - n % self.batch_size if self.drop_last else n
        fetch_many = getattr(self.dataset, "__getitems__", None)
        for start in range(0, stop, self.batch_size):
            idx = order[start:start + self.batch_size]
            if fetch_many is not None and self.collate_fn is default_collate:
                batch = fetch_many(idx)
                if isinstance(batch, tuple):
                    yield tuple(_to_tensor(b) for b in batch)
                else:
                    yield self.collate_fn(list(batch))
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in idx])
