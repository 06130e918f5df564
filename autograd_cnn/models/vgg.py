"""VGG (Simonyan & Zisserman, ICLR 2015): configurations A-E of the seeds' Table 1.

Every convolution is 3x3, stride 1, padding 1 (except configuration C's 1x1 layers);
five 2x2 max-pools halve the resolution; three fully connected layers 4096-4096-classes.
Parameters at 224x224 with 1000 classes (the seeds' Table 2):
A 132,863,336; A-LRN same (LRN has none); B 133,047,848; C 133,638,952;
D (VGG-16) 138,357,544; E (VGG-19) 143,667,240 - i.e. 133/133/134/138/144 M.

As torchvision, an adaptive average pool to 7x7 sits before the classifier so any input
of at least 32x32 works (at 224 it is the identity). ``width_mult`` scales every width
(convolutions and the 4096 hidden units) for small runs.
"""

from __future__ import annotations

from .. import nn
from ..errors import InvalidArgumentError
from ._common import init_cnn, scaled

# ints: 3x3 conv with that many channels; (c, 1): 1x1 conv (configuration C); "M": max-pool
CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, (256, 1), "M", 512, 512, (512, 1), "M",
          512, 512, (512, 1), "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}
CONFIGS["A-LRN"] = CONFIGS["A"]


class VGG(nn.Module):
    """VGG network of configuration ``config`` ("A", "A-LRN", "B", "C", "D", "E").

    Parameters
    ----------
    config : str
    num_classes : int
    batch_norm : bool
        Insert BatchNorm2d after each convolution (VGG-BN, not in the paper).
    lrn : bool
        Local response normalization after the first convolution (implied by "A-LRN").
    width_mult : float
    dropout : float
    in_channels : int

    Shapes: input ``(N, 3, H, W)`` (224 nominal, >= 32), output ``(N, num_classes)``.
    """

    def __init__(self, config: str = "D", num_classes: int = 1000, batch_norm: bool = False,
                 lrn: bool = False, width_mult: float = 1.0, dropout: float = 0.5,
                 in_channels: int = 3, init_weights: bool = True):
        super().__init__()
        if config not in CONFIGS:
            raise InvalidArgumentError(
                f"config: expected one of {sorted(CONFIGS)}, got {config!r}"
            )
        self.config = config
        lrn = lrn or config == "A-LRN"
        layers = []
        c_in = in_channels
        for i, v in enumerate(CONFIGS[config]):
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            c, k = (v, 3) if isinstance(v, int) else v
            c = scaled(c, width_mult)
            layers.append(nn.Conv2d(c_in, c, k, padding=k // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.ReLU())
            if lrn and i == 0:
                # the paper's LRN: Krizhevsky's parameters (n=5, alpha=1e-4, beta=0.75, k=2)
                layers.append(nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0))
            c_in = c
        hidden = scaled(4096, width_mult)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(c_in * 49, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )
        if init_weights:
            init_cnn(self)

    def forward(self, x):
        return self.classifier(self.flatten(self.avgpool(self.features(x))))


def vgg11(**kw) -> VGG:
    """VGG configuration A (11 weight layers)."""
    return VGG("A", **kw)


def vgg13(**kw) -> VGG:
    """VGG configuration B (13 weight layers)."""
    return VGG("B", **kw)


def vgg16(**kw) -> VGG:
    """VGG configuration D (16 weight layers, 138 M parameters)."""
    return VGG("D", **kw)


def vgg19(**kw) -> VGG:
    """VGG configuration E (19 weight layers)."""
    return VGG("E", **kw)
