"""Inception modules and GoogLeNet (Szegedy et al., 2015), as in the seeds' table.

An inception module runs four branches on the same input and concatenates them along
channels: 1x1; 1x1 reduce -> 3x3; 1x1 reduce -> 5x5; 3x3 max-pool -> 1x1 projection.
The 1x1 reductions are what make it affordable: for a 32x32x200 input and 92 5x5
filters, ``5*5*200*32*32*92 ~ 471 M`` multiplications directly, against
``200*32*32*16 + 5*5*16*32*32*92 ~ 41 M`` through a 16-channel 1x1 reduction.

Differences from torchvision: the "5x5" branch really is 5x5 (torchvision uses 3x3 by a
long-standing mistake), convolutions have biases and no BatchNorm by default, as in the
paper; there are no auxiliary classifiers.
"""

from __future__ import annotations

from .. import nn, ops


def _conv(c_in, c_out, k, batch_norm, stride=1):
    layers = [nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class InceptionModule(nn.Module):
    """GoogLeNet's inception module (torchvision's argument order).

    Parameters
    ----------
    in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj : int
    naive : bool
        The naive module of the seeds (figure a): 1x1, 3x3 and 5x5 convolutions straight
        on the input and a bare 3x3 max-pool (reductions and projection unused; the
        output has ``ch1x1 + ch3x3 + ch5x5 + in_channels`` channels).
    batch_norm : bool

    Shapes: ``(N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)``.
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                 naive: bool = False, batch_norm: bool = False):
        super().__init__()
        self.naive = naive
        self.branch1 = _conv(in_channels, ch1x1, 1, batch_norm)
        if naive:
            self.branch2 = _conv(in_channels, ch3x3, 3, batch_norm)
            self.branch3 = _conv(in_channels, ch5x5, 5, batch_norm)
            self.branch4 = nn.MaxPool2d(3, 1, padding=1)
            self.out_channels = ch1x1 + ch3x3 + ch5x5 + in_channels
        else:
            self.branch2 = nn.Sequential(_conv(in_channels, ch3x3red, 1, batch_norm),
                                         _conv(ch3x3red, ch3x3, 3, batch_norm))
            self.branch3 = nn.Sequential(_conv(in_channels, ch5x5red, 1, batch_norm),
                                         _conv(ch5x5red, ch5x5, 5, batch_norm))
            self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, padding=1),
                                         _conv(in_channels, pool_proj, 1, batch_norm))
            self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x):
        return ops.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)],
                       dim=1)


# name, (in, 1x1, 3x3red, 3x3, 5x5red, 5x5, pool_proj): the seeds' GoogLeNet table
GOOGLENET_TABLE = [
    ("inception3a", (192, 64, 96, 128, 16, 32, 32)),
    ("inception3b", (256, 128, 128, 192, 32, 96, 64)),
    ("maxpool3", None),
    ("inception4a", (480, 192, 96, 208, 16, 48, 64)),
    ("inception4b", (512, 160, 112, 224, 24, 64, 64)),
    ("inception4c", (512, 128, 128, 256, 24, 64, 64)),
    ("inception4d", (512, 112, 144, 288, 32, 64, 64)),
    ("inception4e", (528, 256, 160, 320, 32, 128, 128)),
    ("maxpool4", None),
    ("inception5a", (832, 256, 160, 320, 32, 128, 128)),
    ("inception5b", (832, 384, 192, 384, 48, 128, 128)),
]


class GoogLeNet(nn.Module):
    """GoogLeNet (Inception v1) without auxiliary classifiers.

    Stem: 7x7/2 conv (64) -> 3x3/2 max-pool -> 1x1 conv (64) -> 3x3 conv (192) -> 3x3/2
    max-pool; then inception 3a-3b, pool, 4a-4e, pool, 5a-5b, global average pool,
    dropout 40 %, linear. At 224x224 the outputs are 112, 56, 28, 14 and 7 pixels wide as
    in the table. ``width_mult`` scales every channel count for small runs.

    Shapes: input ``(N, 3, H, W)`` (224 nominal), output ``(N, num_classes)``.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.4,
                 batch_norm: bool = False, width_mult: float = 1.0):
        super().__init__()

        def w(c):
            return max(1, int(round(c * width_mult)))

        self.conv1 = _conv(in_channels, w(64), 7, batch_norm, stride=2)
        self.maxpool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = _conv(w(64), w(64), 1, batch_norm)
        self.conv3 = _conv(w(64), w(192), 3, batch_norm)
        self.maxpool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        c = w(192)
        for name, spec in GOOGLENET_TABLE:
            if spec is None:
                self.add_module(name, nn.MaxPool2d(3, 2, ceil_mode=True))
                continue
            m = InceptionModule(c, *(w(v) for v in spec[1:]), batch_norm=batch_norm)
            self.add_module(name, m)
            c = m.out_channels
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x
