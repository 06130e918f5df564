"""Image transforms on NumPy arrays, for one image ``(C, H, W)`` or a batch
``(B, C, H, W)`` (each image of a batch gets its own random draw).

Random transforms take a ``seed`` or ``generator`` so augmentation is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..creation import get_rng
from ..errors import InvalidArgumentError, ShapeError


def _check_image(x, who: str) -> np.ndarray:
    x = np.asarray(getattr(x, "data", x) if not isinstance(x, np.ndarray) else x)
    if x.ndim not in (3, 4):
        raise ShapeError(f"{who}: expected an image (C, H, W) or a batch (B, C, H, W), "
                         f"got shape {x.shape}")
    return x


def _keep_kind(x, out):
    """Tensors in, Tensors out (torchvision transforms on tensors return tensors)."""
    from ..tensor import Tensor

    return Tensor(out) if isinstance(x, Tensor) else out


def _pair(v, who: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        v = (int(v), int(v))
    v = tuple(int(a) for a in v)
    if len(v) != 2 or any(a < 0 for a in v):
        raise InvalidArgumentError(f"{who}: expected a non-negative int or pair, got {v}")
    return v


class Compose:
    """Apply transforms in order: ``Compose([RandomShift(1), Normalize(0.5, 0.5)])``."""

    def __init__(self, transforms: Sequence):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return "Compose(" + ", ".join(map(repr, self.transforms)) + ")"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel ``c``, as ``torchvision.transforms.Normalize``.

    Parameters
    ----------
    mean, std : float or sequence of float (one per channel)
    """

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if np.any(self.std == 0):
            raise InvalidArgumentError(f"std: must be non-zero, got {self.std.tolist()}")
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise InvalidArgumentError("mean, std: expected scalars or 1-D sequences")

    def __call__(self, x):
        raw = x
        x = _check_image(x, "Normalize")
        c = x.shape[-3]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.size not in (1, c):
                raise ShapeError(f"Normalize: {name} has {v.size} values for {c} channels")
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        mean = self.mean.reshape(-1, 1, 1).astype(dtype)
        std = self.std.reshape(-1, 1, 1).astype(dtype)
        out = ((x.astype(dtype, copy=False) - mean) / std).astype(dtype, copy=False)
        return _keep_kind(raw, out)

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Pad:
    """Zero-pad (or pad with ``fill``) the last two dimensions by ``padding`` pixels."""

    def __init__(self, padding, fill: float = 0.0):
        self.padding = _pair(padding, "padding")
        self.fill = fill

    def __call__(self, x):
        x = _check_image(x, "Pad")
        ph, pw = self.padding
        width = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
        return np.pad(x, width, constant_values=self.fill)

    def __repr__(self):
        return f"Pad({self.padding})"


class RandomCrop:
    """Crop a random ``size`` window, after optional padding (torchvision semantics).

    Parameters
    ----------
    size : int or (h, w)
    padding : int or (ph, pw)
        Zero padding added on every side before cropping.
    seed, generator
        Reproducibility of the random positions.
    """

    def __init__(self, size, padding=0, seed=None, generator=None):
        self.size = _pair(size, "size")
        if min(self.size) < 1:
            raise InvalidArgumentError(f"size: expected positive sizes, got {self.size}")
        self.padding = _pair(padding, "padding")
        self.rng = get_rng(seed, generator)

    def __call__(self, x):
        return _keep_kind(x, self._crop(x))

    def _crop(self, x):
        x = Pad(self.padding)(_check_image(x, "RandomCrop"))
        h, w = x.shape[-2:]
        th, tw = self.size
        if th > h or tw > w:
            raise ShapeError(f"RandomCrop: size {self.size} larger than the padded image "
                             f"{(h, w)}")
        if x.ndim == 3:
            i = self.rng.integers(0, h - th + 1)
            j = self.rng.integers(0, w - tw + 1)
            return x[:, i:i + th, j:j + tw].copy()
        b = x.shape[0]
        ii = self.rng.integers(0, h - th + 1, size=b)
        jj = self.rng.integers(0, w - tw + 1, size=b)
        return np.stack([x[k, :, ii[k]:ii[k] + th, jj[k]:jj[k] + tw] for k in range(b)])

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomShift:
    """Translate by a random integer offset in ``[-max_shift, max_shift]`` on each axis,
    filling with ``fill``; the output has the input's shape (augmentation for digits).

    Equivalent to ``RandomCrop(size=(H, W), padding=max_shift)``.
    """

    def __init__(self, max_shift: int = 1, fill: float = 0.0, seed=None, generator=None):
        self.max_shift = _pair(max_shift, "max_shift")
        self.fill = fill
        self.rng = get_rng(seed, generator)

    def __call__(self, x):
        x = _check_image(x, "RandomShift")
        mh, mw = self.max_shift
        h, w = x.shape[-2:]
        xp = Pad((mh, mw), self.fill)(x)
        if x.ndim == 3:
            i = self.rng.integers(0, 2 * mh + 1)
            j = self.rng.integers(0, 2 * mw + 1)
            return xp[:, i:i + h, j:j + w].copy()
        b = x.shape[0]
        ii = self.rng.integers(0, 2 * mh + 1, size=b)
        jj = self.rng.integers(0, 2 * mw + 1, size=b)
        # One fancy-indexing gather for the whole batch instead of a Python loop.
        rows = ii[:, None] + np.arange(h)[None, :]          # (B, H)
        cols = jj[:, None] + np.arange(w)[None, :]          # (B, W)
        bidx = np.arange(b)[:, None, None]
        out = xp.transpose(0, 2, 3, 1)[bidx, rows[:, :, None], cols[:, None, :]]
        return np.ascontiguousarray(out.transpose(0, 3, 1, 2))

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift})"


from .image_transforms import (  # noqa: E402,F401  (torchvision names)
    CenterCrop,
    Lambda,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    Resize,
    ToTensor,
)
