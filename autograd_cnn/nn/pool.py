"""Pooling layers: MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool2d, AdaptiveMaxPool2d.
The arithmetic is in :mod:`autograd_cnn.functional`."""

from __future__ import annotations

from .. import functional as F
from .module import Module


class _MaxPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return getattr(F, f"max_pool{self._nd}d")(
            x, self.kernel_size, self.stride, self.padding, self.dilation,
            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding},"
                f" dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over windows of ``(N, C, L)``; ``stride`` defaults to ``kernel_size``."""

    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """Max over ``kh x kw`` windows of ``(N, C, H, W)``; ``stride`` defaults to
    ``kernel_size``; ``H_out = floor((H + 2p - d(k-1) - 1)/s) + 1`` (ceil with
    ``ceil_mode``)."""

    _nd = 2


class MaxPool3d(_MaxPoolNd):
    _nd = 3


class _AvgPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        kw = {}
        if self.divisor_override is not None:
            kw["divisor_override"] = self.divisor_override
        return getattr(F, f"avg_pool{self._nd}d")(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, **kw)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of ``(N, C, L)``."""

    _nd = 1


class AvgPool2d(_AvgPoolNd):
    """Mean over ``kh x kw`` windows of ``(N, C, H, W)`` (LeNet's subsampling)."""

    _nd = 2


class AvgPool3d(_AvgPoolNd):
    _nd = 3


class _AdaptiveNd(Module):
    _nd = 2
    _kind = "avg"

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return getattr(F, f"adaptive_{self._kind}_pool{self._nd}d")(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveNd):
    """Average to a fixed ``output_size`` (``(N, C, H, W) -> (N, C, *output_size)``)
    whatever the input size; ``1`` is global average pooling."""

    _nd = 2


class AdaptiveMaxPool2d(_AdaptiveNd):
    _nd = 2
    _kind = "max"
