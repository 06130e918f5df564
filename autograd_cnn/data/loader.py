"""DataLoader: batches of a dataset, optionally shuffled with a seeded generator."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np

from ..creation import get_rng
from ..errors import ArgumentTypeError, InvalidArgumentError
from ..tensor import Tensor


def default_collate(items):
    """Stack a list of items into a batch of Tensors.

    Each item is an array/number, a tuple of them, or a dict of them; the result is a
    Tensor, a tuple of Tensors or a dict of Tensors (same keys) with a new leading batch
    dimension. Floats keep their dtype (float64 Python floats become float32, the library
    default); ints become int64; strings are gathered into lists, as PyTorch does.
    """
    first = items[0]
    if isinstance(first, Mapping):
        return {k: default_collate([it[k] for it in items]) for k in first}
    if isinstance(first, str):
        return list(items)
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
    sampler : iterable of int, optional
        The order of the indices (instead of ``shuffle``).
    num_workers : int
        Accepted for PyTorch compatibility; loading always runs in the main process
        (values above 0 warn once per loader, and change nothing else).
    pin_memory, timeout, worker_init_fn, prefetch_factor, persistent_workers :
        Accepted and without effect (no worker processes, no device memory).

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

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers: bool = False,
                 pin_memory_device: str = "", seed=None):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise ArgumentTypeError(
                f"dataset: expected an object with __len__ and __getitem__, got "
                f"{type(dataset).__name__}"
            )
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
                or num_workers < 0:
            raise InvalidArgumentError(
                f"num_workers: expected an int >= 0, got {num_workers!r}")
        if num_workers > 0:
            warnings.warn(
                f"DataLoader(num_workers={num_workers}): autograd_cnn loads in the main "
                "process; the batches are the same, without worker processes",
                UserWarning, stacklevel=2)
        if sampler is not None and shuffle:
            raise InvalidArgumentError("sampler: mutually exclusive with shuffle=True")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise InvalidArgumentError(
                    "batch_sampler: mutually exclusive with batch_size, shuffle, sampler and "
                    "drop_last")
            batch_size = 1
        self.num_workers, self.pin_memory = int(num_workers), bool(pin_memory)
        self.sampler, self.batch_sampler = sampler, batch_sampler
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
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        if self.sampler is not None:
            return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        n = len(self.dataset)
        return self._rng.permutation(n) if self.shuffle else np.arange(n)

    def __iter__(self):
        if self.batch_sampler is not None:
            for idx in self.batch_sampler:
                yield self._fetch(np.asarray(list(idx), dtype=np.int64))
            return
        order = self._order()
        n = len(order)
        stop = n - n % self.batch_size if self.drop_last else n
        fetch_many = getattr(self.dataset, "__getitems__", None)
        for start in range(0, stop, self.batch_size):
            yield self._fetch(order[start:start + self.batch_size], fetch_many)

    def _fetch(self, idx, fetch_many=None):
        if fetch_many is None:
            fetch_many = getattr(self.dataset, "__getitems__", None)
        if fetch_many is not None and self.collate_fn is default_collate:
            batch = fetch_many(idx)
            if isinstance(batch, tuple):
                return tuple(_to_tensor(b) for b in batch)
            return self.collate_fn(list(batch))
        return self.collate_fn([self.dataset[int(i)] for i in idx])
