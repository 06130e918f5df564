"""U-Net (Ronneberger, Fischer, Brox 2015): a contracting path of double 3x3
convolutions and 2x2 max-pools, an expanding path of 2x2 up-convolutions (transposed,
stride 2) whose outputs are concatenated with the encoder's feature maps (skip
connections), and a final 1x1 convolution mapping ``base_channels`` to the classes.

With ``padding=0`` (the paper's valid convolutions) the skip maps are center-cropped
and a 572x572 input gives a 388x388 output; with ``padding=1`` the output has the input
size (which must then be divisible by ``2**depth``).
"""

from __future__ import annotations

from .. import nn, ops
from ..errors import InvalidArgumentError


class DoubleConv(nn.Module):
    """(3x3 conv -> [BN] -> ReLU) x 2."""

    def __init__(self, c_in: int, c_out: int, padding: int = 1, batch_norm: bool = False):
        super().__init__()
        layers = []
        for a, b in ((c_in, c_out), (c_out, c_out)):
            layers.append(nn.Conv2d(a, b, 3, padding=padding, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(b))
            layers.append(nn.ReLU())
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)


def center_crop(x, size):
    """Crop the last two dims of ``x`` to ``size`` around the center."""
    H, W = x.shape[-2:]
    h, w = size
    top, left = (H - h) // 2, (W - w) // 2
    return x[..., top:top + h, left:left + w]


class UNet(nn.Module):
    """U-Net.

    Parameters
    ----------
    in_channels : int
    num_classes : int
    depth : int
        Number of down-sampling steps (4 in the paper).
    base_channels : int
        Channels of the first level (64 in the paper), doubled at each level.
    padding : {0, 1}
        0: valid convolutions with cropped skips (paper); 1: same-size convolutions.
    batch_norm : bool

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes, H', W')``, ``H' = H`` with
    padding=1; with padding=0, 572 -> 388 for depth 4.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 2, depth: int = 4,
                 base_channels: int = 64, padding: int = 1, batch_norm: bool = False):
        super().__init__()
        if padding not in (0, 1):
            raise InvalidArgumentError(f"padding: expected 0 or 1, got {padding!r}")
        if depth < 1:
            raise InvalidArgumentError(f"depth: expected >= 1, got {depth}")
        self.depth = depth
        widths = [base_channels * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList()
        c = in_channels
        for w in widths[:-1]:
            self.down.append(DoubleConv(c, w, padding, batch_norm))
            c = w
        self.pool = nn.MaxPool2d(2, 2)
        self.bottleneck = DoubleConv(c, widths[-1], padding, batch_norm)
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.up.append(nn.ConvTranspose2d(w * 2, w, 2, stride=2))
            self.dec.append(DoubleConv(w * 2, w, padding, batch_norm))
        self.head = nn.Conv2d(widths[0], num_classes, 1)

    def forward(self, x):
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = up(x)
            if skip.shape[-2:] != x.shape[-2:]:
                skip = center_crop(skip, x.shape[-2:])
            x = dec(ops.cat([skip, x], dim=1))
        return self.head(x)
