"""Datasets: the abstract :class:`Dataset`, :class:`TensorDataset`, subsets and splits,
the embedded 8x8 digits and the MNIST/Fashion-MNIST IDX reader.

Images are NCHW ``float32`` in [0, 1]; labels are ``int64`` class indices, as PyTorch's
``torchvision`` datasets give them after ``ToTensor``.
"""

from __future__ import annotations

import gzip
import math
import os
from collections.abc import Sequence
from importlib import resources

import numpy as np

from ..creation import get_rng
from ..errors import (
    ArgumentTypeError,
    CorruptDataError,
    DataFileNotFoundError,
    InvalidArgumentError,
    ShapeError,
)


def _as_array(x) -> np.ndarray:
    # Accept Tensors without importing tensor.py's class here (duck typing on .data).
    if hasattr(x, "data") and isinstance(x.data, np.ndarray):
        return x.data
    return np.asarray(x)


class Dataset:
    """A map-style dataset: ``len(ds)`` items, ``ds[i]`` returns one item.

    Subclasses implement ``__len__`` and ``__getitem__``. They may also implement
    ``__getitems__(indices)`` returning a whole batch at once (as PyTorch's fetcher
    does); :class:`~autograd_cnn.data.DataLoader` uses it when present, which avoids a
    Python loop per sample.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")


def _check_index(index, n: int, who: str) -> int:
    if not isinstance(index, (int, np.integer)):
        raise ArgumentTypeError(f"{who}: index must be an int, got {type(index).__name__}")
    i = int(index)
    if i < -n or i >= n:
        raise IndexError(f"{who}: index {i} out of range for a dataset of {n} items")
    return i % n if n else i


class TensorDataset(Dataset):
    """Wraps arrays (or Tensors) that share their first dimension.

    Parameters
    ----------
    *arrays : array_like or Tensor
        Each of shape ``(N, ...)``; item ``i`` is ``tuple(a[i] for a in arrays)``.
    transform : callable, optional
        Applied to the first array of each item (or batch: transforms of
        :mod:`autograd_cnn.data.transforms` accept ``(C, H, W)`` and ``(B, C, H, W)``).

    Examples
    --------
    >>> ds = TensorDataset(np.zeros((5, 1, 8, 8)), np.arange(5))
    >>> len(ds), ds[2][1]
    (5, 2)
    """

    def __init__(self, *arrays, transform=None):
        if not arrays:
            raise InvalidArgumentError("arrays: expected at least one array, got none")
        self.arrays = tuple(_as_array(a) for a in arrays)
        n = self.arrays[0].shape[0] if self.arrays[0].ndim else None
        for k, a in enumerate(self.arrays):
            if a.ndim == 0 or a.shape[0] != n:
                raise ShapeError(
                    f"arrays: every array must have the same first dimension {n}; "
                    f"array {k} has shape {a.shape}"
                )
        self.transform = transform

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        i = _check_index(index, len(self), "TensorDataset")
        items = [a[i] for a in self.arrays]
        if self.transform is not None:
            items[0] = self.transform(items[0])
        return tuple(items)

    def __getitems__(self, indices):
        idx = np.asarray(indices, dtype=np.int64)
        items = [a[idx] for a in self.arrays]
        if self.transform is not None:
            items[0] = self.transform(items[0])
        return tuple(items)


class Subset(Dataset):
    """The items of ``dataset`` at ``indices`` (in that order)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= n):
            raise InvalidArgumentError(
                f"indices: expected values in [0, {n}), got range "
                f"[{self.indices.min()}, {self.indices.max()}]"
            )

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index):
        i = _check_index(index, len(self), "Subset")
        return self.dataset[int(self.indices[i])]

    def __getitems__(self, indices):
        inner = self.indices[np.asarray(indices, dtype=np.int64)]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(inner)
        return [self.dataset[int(j)] for j in inner]


def random_split(dataset, lengths: Sequence, seed=None, generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets (PyTorch's ``random_split``).

    Parameters
    ----------
    lengths : sequence of int, or of floats summing to 1
        Sizes of the subsets; fractions are rounded down and the remainder is dealt one
        by one to the first subsets, as PyTorch does.
    seed, generator
        Reproducibility: the same seed gives the same split.
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(f, float) for f in lengths):
        if abs(sum(lengths) - 1.0) > 1e-6 or any(f < 0 for f in lengths):
            raise InvalidArgumentError(
                f"lengths: fractions must be non-negative and sum to 1, got {lengths}"
            )
        sizes = [int(np.floor(n * f)) for f in lengths]
        for k in range(n - sum(sizes)):
            sizes[k % len(sizes)] += 1
        lengths = sizes
    if any(not isinstance(v, (int, np.integer)) or v < 0 for v in lengths) or sum(lengths) != n:
        raise InvalidArgumentError(
            f"lengths: expected non-negative ints summing to len(dataset) = {n}, got {lengths}"
        )
    perm = get_rng(seed, generator).permutation(n)
    out, start = [], 0
    for v in lengths:
        out.append(Subset(dataset, perm[start:start + v]))
        start += v
    return out


def train_test_split(*arrays, test_size=0.2, seed=None, generator=None, stratify=None):
    """Split arrays into random train and test parts (scikit-learn's order of results).

    Parameters
    ----------
    *arrays : array_like, each ``(N, ...)``
    test_size : float in (0, 1) or int in [1, N)
    stratify : array_like ``(N,)``, optional
        Class labels: each class is split in the same proportion.

    Returns
    -------
    list
        ``[a_train, a_test, b_train, b_test, ...]``.

    Examples
    --------
    >>> x_tr, x_te = train_test_split(np.arange(10), test_size=0.3, seed=0)
    >>> len(x_tr), len(x_te)
    (7, 3)
    """
    if not arrays:
        raise InvalidArgumentError("arrays: expected at least one array, got none")
    arrays = [_as_array(a) for a in arrays]
    n = arrays[0].shape[0]
    for k, a in enumerate(arrays):
        if a.shape[0] != n:
            raise ShapeError(f"arrays: array {k} has {a.shape[0]} rows, array 0 has {n}")
    if isinstance(test_size, float):
        if not 0.0 < test_size < 1.0:
            raise InvalidArgumentError(f"test_size: expected a float in (0, 1), got {test_size}")
        n_test = int(np.ceil(n * test_size))
    elif isinstance(test_size, (int, np.integer)):
        n_test = int(test_size)
    else:
        raise ArgumentTypeError(f"test_size: expected float or int, got {type(test_size)}")
    if not 0 < n_test < n:
        raise InvalidArgumentError(
            f"test_size: gives {n_test} test items out of {n}; need between 1 and {n - 1}"
        )
    rng = get_rng(seed, generator)
    if stratify is None:
        perm = rng.permutation(n)
        test_idx, train_idx = perm[:n_test], perm[n_test:]
    else:
        labels = _as_array(stratify)
        if labels.shape != (n,):
            raise ShapeError(f"stratify: expected shape ({n},), got {labels.shape}")
        test_parts, train_parts = [], []
        frac = n_test / n
        for c in np.unique(labels):
            idx = rng.permutation(np.flatnonzero(labels == c))
            k = int(round(len(idx) * frac))
            test_parts.append(idx[:k])
            train_parts.append(idx[k:])
        test_idx = rng.permutation(np.concatenate(test_parts))
        train_idx = rng.permutation(np.concatenate(train_parts))
    out = []
    for a in arrays:
        out.extend([a[train_idx], a[test_idx]])
    return out


# ---- the embedded digits -------------------------------------------------------------


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits that ship with the library (no download).

    1,797 images of the UCI "Optical Recognition of Handwritten Digits" set (Alpaydin &
    Kaynak, 1998; CC BY 4.0), as scikit-learn ships them; see ``DIGITS_LICENSE.txt``
    beside this module.

    Returns
    -------
    images : ndarray, float32, shape (1797, 1, 8, 8)
        Pixel values scaled from 0..16 to [0, 1].
    labels : ndarray, int64, shape (1797,)
        Digit classes 0..9.

    Examples
    --------
    >>> x, y = load_digits()
    >>> x.shape, y.shape, int(y.max())
    ((1797, 1, 8, 8), (1797,), 9)
    """
    ref = resources.files(__package__).joinpath("digits.csv.gz")
    with ref.open("rb") as raw, gzip.open(raw, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    if table.shape != (1797, 65):
        raise CorruptDataError(
            f"digits.csv.gz: expected 1797 rows of 65 values, got shape {table.shape}"
        )
    images = (table[:, :64] / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    labels = table[:, 64].astype(np.int64)
    return images, labels


class Digits(TensorDataset):
    """The embedded digits as a dataset, with a fixed stratified train/test split.

    Parameters
    ----------
    train : bool
        The training part (``1 - test_fraction`` of each class) or the test part.
    test_fraction : float
        Share of each class held out for testing (default 0.25: 451 of the 1,797
        images, rounded per class).
    seed : int
        Seed of the split (default 0): the same seed always gives the same split.
    transform : callable, optional
        Applied to the images (one ``(1, 8, 8)`` or a batch ``(B, 1, 8, 8)``).

    Items are ``(image (1, 8, 8) float32, label int64)``.
    """

    def __init__(self, train: bool = True, test_fraction: float = 0.25, seed: int = 0,
                 transform=None):
        x, y = load_digits()
        i_tr, i_te = train_test_split(np.arange(len(y)), test_size=test_fraction, seed=seed,
                                      stratify=y)
        #: positions of this part's images in :func:`load_digits`'s arrays
        self.indices = i_tr if train else i_te
        super().__init__(x[self.indices], y[self.indices], transform=transform)
        self.train = train
        self.classes = list(range(10))


# ---- MNIST / Fashion-MNIST IDX files -------------------------------------------------

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def parse_idx(buf: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an IDX file (the format of MNIST and Fashion-MNIST).

    Layout: two zero bytes, a type code (0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, then each dimension as a
    big-endian uint32, then the values in row-major order, big-endian.

    Raises
    ------
    CorruptDataError
        Bad magic, unknown type code, truncated header or data, or trailing bytes.
    """
    if len(buf) < 4:
        raise CorruptDataError(f"{name}: expected an IDX header of at least 4 bytes, "
                               f"got a file of {len(buf)} bytes")
    if buf[0] != 0 or buf[1] != 0:
        raise CorruptDataError(
            f"{name}: expected IDX magic bytes 00 00, got {buf[0]:02x} {buf[1]:02x} "
            "(not an IDX file, or a gzip file saved without the .gz suffix?)"
        )
    code, ndim = buf[2], buf[3]
    if code not in _IDX_DTYPES:
        raise CorruptDataError(
            f"{name}: unknown IDX type code 0x{code:02x}; expected one of "
            + ", ".join(f"0x{c:02x}" for c in _IDX_DTYPES)
        )
    if ndim == 0:
        raise CorruptDataError(f"{name}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise CorruptDataError(
            f"{name}: truncated IDX header: {ndim} dimensions need {header} bytes, "
            f"the file has {len(buf)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(buf, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no int64 wrap-around
    got = len(buf) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise CorruptDataError(
            f"{name}: IDX data {what}: shape {shape} of {dtype.name} needs {expected} "
            f"bytes after the header, found {got}"
        )
    data = np.frombuffer(buf, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def read_idx(path) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed (decided by the content, not the name).

    Raises
    ------
    DataFileNotFoundError
        The file does not exist.
    CorruptDataError
        The file is not a valid IDX file (see :func:`parse_idx`) or a broken gzip.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataFileNotFoundError(f"path: IDX file not found: {path}")
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:2] == b"\x1f\x8b":
        try:
            buf = gzip.decompress(buf)
        except (OSError, EOFError) as e:
            raise CorruptDataError(f"{path}: broken gzip stream ({e})") from None
    return parse_idx(buf, name=path)


_MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find_idx(root: str, stem: str) -> str | None:
    # The plain names, torchvision's <root>/<Name>/raw layout, and the dotted variant
    # (train-images.idx3-ubyte) some mirrors use.
    names = [stem, stem.replace("-idx", ".idx")]
    dirs = [root] + [os.path.join(root, d, "raw") for d in ("MNIST", "FashionMNIST")]
    for d in dirs:
        for n in names:
            for suffix in ("", ".gz"):
                p = os.path.join(d, n + suffix)
                if os.path.isfile(p):
                    return p
    return None


def load_mnist(root, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST or Fashion-MNIST (same file names and format) from a local folder.

    Looks in ``root`` (and ``root/MNIST/raw``, ``root/FashionMNIST/raw``) for
    ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (or ``t10k-...`` when
    ``train=False``), raw or with ``.gz``. Nothing is downloaded.

    Returns
    -------
    images : ndarray, float32, shape (N, 1, H, W)
        Pixel values scaled from 0..255 to [0, 1].
    labels : ndarray, int64, shape (N,)

    Raises
    ------
    DataFileNotFoundError
        ``root`` or one of the two files is missing (the message lists what was looked for).
    CorruptDataError
        A malformed file, images that are not 3-D uint8, or counts that disagree.
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise DataFileNotFoundError(f"data_dir: folder not found: {root}")
    img_stem, lbl_stem = _MNIST_FILES[bool(train)]
    paths = {}
    for stem in (img_stem, lbl_stem):
        p = _find_idx(root, stem)
        if p is None:
            raise DataFileNotFoundError(
                f"data_dir: {stem} (or {stem}.gz) not found in {root}; download the "
                "MNIST or Fashion-MNIST IDX files there (the library never downloads)"
            )
        paths[stem] = p
    images = read_idx(paths[img_stem])
    labels = read_idx(paths[lbl_stem])
    if images.ndim != 3 or images.dtype != np.uint8:
        raise CorruptDataError(
            f"{paths[img_stem]}: expected uint8 images of shape (N, H, W), got "
            f"{images.dtype.name} {images.shape}"
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise CorruptDataError(
            f"{paths[lbl_stem]}: expected {images.shape[0]} labels (one per image), got "
            f"shape {labels.shape}"
        )
    x = (images.astype(np.float32) / 255.0)[:, None, :, :]
    return x, labels.astype(np.int64)


class MNIST(TensorDataset):
    """MNIST from local IDX files (see :func:`load_mnist`); items ``(image (1, 28, 28),
    label)``. ``FashionMNIST`` is the same reader pointed at Fashion-MNIST's files."""

    def __init__(self, root, train: bool = True, transform=None):
        x, y = load_mnist(root, train=train)
        super().__init__(x, y, transform=transform)
        self.root, self.train = os.fspath(root), train


class FashionMNIST(MNIST):
    """Fashion-MNIST from local IDX files (same names and format as MNIST)."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
