"""torchvision's image transforms for PyTorch programs: ``ToTensor``, ``Resize``,
``CenterCrop``, ``RandomHorizontalFlip`` (re-exported by :mod:`autograd_cnn.data.transforms`).

They take one image ``(C, H, W)`` or a batch ``(B, C, H, W)`` as an array or Tensor and
return the same kind (``ToTensor`` always returns a Tensor). Difference from torchvision:
``Resize`` interpolates bilinearly without antialiasing (torchvision antialiases tensors
when shrinking), so shrunk images are slightly sharper; enlarging matches.
"""

from __future__ import annotations

import numpy as np

from ..creation import get_rng
from ..errors import InvalidArgumentError, ShapeError
from ..tensor import Tensor


def _image(x, who):
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    if a.ndim not in (3, 4):
        raise ShapeError(f"{who}: expected an image (C, H, W) or a batch (B, C, H, W), got "
                         f"shape {a.shape}")
    return a


def _like(x, out):
    return Tensor(out) if isinstance(x, Tensor) else out


def _size(size, who):
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = int(size)
        if size < 1:
            raise InvalidArgumentError(f"{who}: size must be positive, got {size}")
        return size
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0]
    if len(size) != 2 or min(size) < 1:
        raise InvalidArgumentError(f"{who}: size must be an int or (h, w) of positive ints, "
                                   f"got {size}")
    return size


class ToTensor:
    """A PIL image or an ``(H, W, C)``/``(H, W)`` array to a float32 ``(C, H, W)`` Tensor;
    uint8 values are divided by 255 (torchvision semantics); float arrays keep values."""

    def __call__(self, pic):
        a = np.asarray(pic)
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3:
            raise ShapeError(f"ToTensor: expected an image (H, W) or (H, W, C), got shape "
                             f"{a.shape}")
        a = np.ascontiguousarray(a.transpose(2, 0, 1))
        if a.dtype == np.uint8:
            return Tensor(a.astype(np.float32) / np.float32(255))
        return Tensor(a if a.dtype.kind == "f" else a.astype(np.float32))

    def __repr__(self):
        return "ToTensor()"


class Resize:
    """Resize to ``size``: ``(h, w)``, or an int for the shorter side (aspect kept, the
    longer side ``int(size * long / short)`` as torchvision). Bilinear, no antialias."""

    def __init__(self, size, interpolation: str = "bilinear", max_size=None, antialias=None):
        self.size = _size(size, "Resize")
        if interpolation not in ("bilinear", "nearest"):
            raise InvalidArgumentError(
                f"Resize: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
        self.interpolation = interpolation

    def __call__(self, x):
        from ..ops.resample import interpolate

        a = _image(x, "Resize")
        h, w = a.shape[-2:]
        if isinstance(self.size, int):
            short, long = (h, w) if h <= w else (w, h)
            new_short, new_long = self.size, int(self.size * long / short)
            th, tw = (new_short, new_long) if h <= w else (new_long, new_short)
        else:
            th, tw = self.size
        if (th, tw) == (h, w):
            return x
        batch = a if a.ndim == 4 else a[None]
        dtype = batch.dtype if batch.dtype.kind == "f" else np.float32
        kw = {"align_corners": False} if self.interpolation == "bilinear" else {}
        out = interpolate(Tensor(batch.astype(dtype, copy=False)), size=(th, tw),
                          mode=self.interpolation, **kw).data
        if batch.dtype == np.uint8:
            out = np.clip(np.round(out), 0, 255).astype(np.uint8)
        return _like(x, out if a.ndim == 4 else out[0])

    def __repr__(self):
        return f"Resize(size={self.size}, interpolation={self.interpolation})"


class CenterCrop:
    """Crop the central ``size`` window (zero-padding first when the image is smaller),
    with torchvision's rounding ``top = round((H - h) / 2)``."""

    def __init__(self, size):
        s = _size(size, "CenterCrop")
        self.size = (s, s) if isinstance(s, int) else s

    def __call__(self, x):
        a = _image(x, "CenterCrop")
        th, tw = self.size
        h, w = a.shape[-2:]
        if th > h or tw > w:
            ph, pw = max(th - h, 0), max(tw - w, 0)
            width = [(0, 0)] * (a.ndim - 2) + [(ph // 2, (ph + 1) // 2), (pw // 2, (pw + 1) // 2)]
            a = np.pad(a, width)
            h, w = a.shape[-2:]
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return _like(x, np.ascontiguousarray(a[..., top:top + th, left:left + tw]))

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p`` (each image of a batch drawn separately)."""

    def __init__(self, p: float = 0.5, seed=None, generator=None):
        if not 0.0 <= p <= 1.0:
            raise InvalidArgumentError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p
        self.rng = get_rng(seed, generator)

    def __call__(self, x):
        a = _image(x, "RandomHorizontalFlip")
        if a.ndim == 3:
            out = a[..., ::-1].copy() if self.rng.random() < self.p else a
            return _like(x, out) if out is not a else x
        flip = self.rng.random(a.shape[0]) < self.p
        out = a.copy()
        out[flip] = a[flip][..., ::-1]
        return _like(x, out)

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability ``p``."""

    def __call__(self, x):
        a = _image(x, "RandomVerticalFlip")
        if a.ndim == 3:
            out = a[..., ::-1, :].copy() if self.rng.random() < self.p else a
            return _like(x, out) if out is not a else x
        flip = self.rng.random(a.shape[0]) < self.p
        out = a.copy()
        out[flip] = a[flip][..., ::-1, :]
        return _like(x, out)

    def __repr__(self):
        return f"RandomVerticalFlip(p={self.p})"


class Lambda:
    """Apply a user function: ``Lambda(lambda x: x * 2)``."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise InvalidArgumentError(f"Lambda: expected a callable, got {lambd!r}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)
