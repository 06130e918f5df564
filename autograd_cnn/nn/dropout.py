"""Dropout and Upsample layers."""

from __future__ import annotations

from .. import functional as F
from ..errors import InvalidArgumentError
from .module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode and scale the rest by
    ``1/(1-p)`` (inverted dropout); the identity in eval mode. Shape: any."""

    def __init__(self, p: float = 0.5, inplace: bool = False, *, generator=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise InvalidArgumentError(f"p: dropout probability must be in [0, 1], got {p}")
        self.p, self.inplace, self.generator = p, inplace, generator

    def forward(self, x):
        kw = {} if self.generator is None else {"generator": self.generator}
        return F.dropout(x, self.p, self.training, **kw)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Upsample(Module):
    """Resize by ``size`` or ``scale_factor`` with ``mode`` ('nearest', 'bilinear' ...),
    via :func:`autograd_cnn.functional.interpolate`."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners=None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise InvalidArgumentError(
                f"Upsample: pass exactly one of size and scale_factor, got size={size!r}, "
                f"scale_factor={scale_factor!r}"
            )
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x):
        kw = {} if self.align_corners is None else {"align_corners": self.align_corners}
        return F.interpolate(x, size=self.size, scale_factor=self.scale_factor,
                             mode=self.mode, **kw)

    def extra_repr(self):
        what = f"size={self.size}" if self.size is not None else (
            f"scale_factor={self.scale_factor}")
        return f"{what}, mode={self.mode!r}"


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) (or (C, H, W)) with probability ``p`` in
    training mode, scaling the rest by ``1/(1-p)``."""

    def forward(self, x):
        kw = {} if self.generator is None else {"generator": self.generator}
        return F.dropout2d(x, self.p, self.training, **kw)


class PixelShuffle(Module):
    """(N, C r^2, H, W) -> (N, C, H r, W r) with ``r = upscale_factor``."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x):
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(N, C, H r, W r) -> (N, C r^2, H, W) with ``r = downscale_factor``."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x):
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
