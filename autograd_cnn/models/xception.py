"""Depthwise-separable convolutions and an Xception-style block (Chollet, 2017).

A depthwise-separable convolution factors a ``k x k`` convolution from C_in to C_out
channels into a per-channel ``k x k`` (depthwise, ``groups=C_in``) and a 1x1 (pointwise)
convolution. The seeds' example, 3 input channels, 5x5 kernels, 256 outputs on 8x8
output locations: ``256*5*5*3*64 = 1,228,800`` multiplications for the standard
convolution against ``5*5*3*64 = 4,800`` (depthwise) + ``256*3*64 = 49,152`` (pointwise).
"""

from __future__ import annotations

from .. import nn, ops


class SeparableConv2d(nn.Module):
    """Depthwise ``k x k`` (groups=in_channels) then pointwise 1x1.
    ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)`` like ``Conv2d(C_in, C_out, k)``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, stride=1,
                 padding=0, dilation=1, bias: bool = True):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride, padding,
                                   dilation, groups=in_channels, bias=bias)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=bias)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class XceptionBlock(nn.Module):
    """Xception's residual block: ``reps`` x (ReLU -> SeparableConv 3x3 -> BN), then a 3x3
    stride-``stride`` max-pool, plus a 1x1 strided conv + BN shortcut when the shape
    changes. ``(N, C_in, H, W) -> (N, C_out, ceil(H/s), ceil(W/s))``."""

    def __init__(self, in_channels: int, out_channels: int, reps: int = 2, stride: int = 1,
                 start_with_relu: bool = True, grow_first: bool = True):
        super().__init__()
        layers = []
        c = in_channels
        for i in range(reps):
            target = out_channels if (grow_first and i == 0) or (
                not grow_first and i == reps - 1) else c
            if i > 0 or start_with_relu:
                layers.append(nn.ReLU())
            layers += [SeparableConv2d(c, target, 3, padding=1, bias=False),
                       nn.BatchNorm2d(target)]
            c = target
        if stride != 1:
            layers.append(nn.MaxPool2d(3, stride, padding=1))
        self.rep = nn.Sequential(*layers)
        if out_channels != in_channels or stride != 1:
            self.skip = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.skip = None

    def forward(self, x):
        return self.rep(x) + (x if self.skip is None else self.skip(x))


class MiniXception(nn.Module):
    """A small Xception-style classifier: conv stem, ``XceptionBlock`` stages of the given
    widths (each stride 2), global average pool, linear. Input ``(N, C, H, W)``, output
    ``(N, num_classes)``."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3,
                 widths=(32, 64, 128), stem_channels: int = 16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, stem_channels, 3, padding=1,
                                            bias=False),
                                  nn.BatchNorm2d(stem_channels), nn.ReLU())
        blocks = []
        c = stem_channels
        for i, w in enumerate(widths):
            blocks.append(XceptionBlock(c, w, reps=2, stride=2, start_with_relu=i > 0))
            c = w
        self.blocks = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = ops.relu(self.blocks(self.stem(x)))
        return self.fc(self.flatten(self.avgpool(x)))
