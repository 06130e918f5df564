"""AlexNet (Krizhevsky, Sutskever, Hinton 2012), single-tower layout as torchvision.

5 convolutions (11x11/4, 5x5, 3x3 x3) with max-pooling after the 1st, 2nd and 5th,
adaptive average pooling to 6x6, then 4096-4096-classes with dropout: 61,100,840
parameters at width 1 (the paper's two-GPU grouped version has ~60 M, the seeds' figure).
``width_mult`` scales every width for small experiments.
"""

from __future__ import annotations

from .. import nn
from ._common import scaled


class AlexNet(nn.Module):
    """AlexNet. Input ``(N, 3, H, W)`` with H, W >= 63 (224 nominal); output
    ``(N, num_classes)``."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, in_channels: int = 3,
                 width_mult: float = 1.0):
        super().__init__()
        c = [scaled(v, width_mult) for v in (64, 192, 384, 256, 256)]
        hidden = scaled(4096, width_mult)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c[0], 11, stride=4, padding=2), nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(c[0], c[1], 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(c[1], c[2], 3, padding=1), nn.ReLU(),
            nn.Conv2d(c[2], c[3], 3, padding=1), nn.ReLU(),
            nn.Conv2d(c[3], c[4], 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c[4] * 36, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.flatten(self.avgpool(self.features(x))))
