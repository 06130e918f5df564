"""Fully convolutional networks (Long, Shelhamer, Darrell 2015), FCN-32s style.

A classification backbone's fully connected layers become convolutions (fc6: 7x7,
fc7: 1x1), a 1x1 convolution scores each class, and a learnable transposed convolution
(kernel 64, stride 32, initialised to bilinear interpolation) upsamples the coarse
score map back to the input resolution: dense, per-pixel predictions at any input size.
"""

from __future__ import annotations

import numpy as np

from .. import nn, ops
from ..nn.module import is_meta_array
from ..tape import no_grad
from ._common import scaled
from .vgg import VGG


def bilinear_kernel(channels: int, kernel_size: int) -> np.ndarray:
    """``(channels, channels, k, k)`` weight making ConvTranspose2d a bilinear upsampler."""
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = np.ogrid[:kernel_size, :kernel_size]
    filt = (1 - abs(og[0] - center) / factor) * (1 - abs(og[1] - center) / factor)
    w = np.zeros((channels, channels, kernel_size, kernel_size))
    w[range(channels), range(channels)] = filt
    return w


class FCNHead(nn.Module):
    """torchvision's FCN head: 3x3 conv (in/4) -> BN -> ReLU -> Dropout(0.1) -> 1x1 conv
    to classes. ``(N, C, h, w) -> (N, num_classes, h, w)``."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        inter = max(1, in_channels // 4)
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, inter, 3, padding=1, bias=False), nn.BatchNorm2d(inter),
            nn.ReLU(), nn.Dropout(0.1), nn.Conv2d(inter, num_classes, 1))

    def forward(self, x):
        return self.body(x)


class FCN(nn.Module):
    """FCN-32s on a VGG backbone.

    Parameters
    ----------
    num_classes : int
    config : str
        VGG configuration of the backbone ("D" = VGG-16 as in the paper).
    width_mult : float
        Scales the backbone and the 4096-channel fc6/fc7 convolutions.
    in_channels : int

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes, H, W)``; H, W >= 224/width-free
    minimum of 32 * 7 = 224 for the 7x7 fc6 (smaller inputs: ``fc6_kernel``).
    """

    def __init__(self, num_classes: int = 21, config: str = "D", width_mult: float = 1.0,
                 in_channels: int = 3, fc6_kernel: int = 7):
        super().__init__()
        backbone = VGG(config, width_mult=width_mult, in_channels=in_channels)
        self.features = backbone.features
        c = [m for m in self.features.modules() if isinstance(m, nn.Conv2d)][-1].out_channels
        hidden = scaled(4096, width_mult)
        self.head = nn.Sequential(
            nn.Conv2d(c, hidden, fc6_kernel, padding=fc6_kernel // 2), nn.ReLU(),
            nn.Dropout(0.5),
            nn.Conv2d(hidden, hidden, 1), nn.ReLU(), nn.Dropout(0.5),
            nn.Conv2d(hidden, num_classes, 1))
        self.upscore = nn.ConvTranspose2d(num_classes, num_classes, 64, stride=32, padding=16,
                                          bias=False)
        if not is_meta_array(self.upscore.weight.data):
            with no_grad():
                self.upscore.weight.copy_(bilinear_kernel(num_classes, 64))

    def forward(self, x):
        H, W = x.shape[-2:]
        y = self.upscore(self.head(self.features(x)))
        h, w = y.shape[-2:]
        if (h, w) != (H, W):  # inputs not divisible by 32: pad or crop to the input size
            y = ops.pad(y, (0, max(W - w, 0), 0, max(H - h, 0)))[..., :H, :W]
        return y
