"""LeNet-5 (LeCun et al., 1998), as in the seeds: conv 5x5 (6) -> subsample -> conv 5x5
(16) -> subsample -> 120 -> 84 -> 10, tanh activations, average pooling.

With the classic 32x32 input: 28x28x6 -> 14x14x6 -> 10x10x16 -> 5x5x16 -> 120 -> 84 -> 10,
61,706 parameters. The 28x28 (MNIST) variant pads the first convolution by 2, which
gives the same shapes from the second layer on and the same parameter count.
Differences from the paper: C3 is fully connected to S2 (the paper's sparse table of
6x3/9x4/1x6 connections is a historical detail), S2/S4 are plain average pools without
trainable coefficients, and the output is a Linear layer instead of RBF units.
"""

from __future__ import annotations

from .. import nn
from ..errors import InvalidArgumentError


class LeNet5(nn.Module):
    """LeNet-5.

    Parameters
    ----------
    num_classes : int
    in_channels : int
    input_size : int
        32 (classic, valid first conv) or 28 (MNIST, first conv padded by 2); any size
        from 28 up works: the first Linear layer is sized from it.
    activation : {'tanh', 'relu', 'sigmoid'}
    pool : {'avg', 'max'}

    Shapes: input ``(N, in_channels, input_size, input_size)``, output ``(N, num_classes)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 32,
                 activation: str = "tanh", pool: str = "avg"):
        super().__init__()
        acts = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
        pools = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}
        if activation not in acts:
            raise InvalidArgumentError(f"activation: expected one of {list(acts)}, got "
                                       f"{activation!r}")
        if pool not in pools:
            raise InvalidArgumentError(f"pool: expected 'avg' or 'max', got {pool!r}")
        pad = 2 if input_size == 28 else 0
        s = (input_size + 2 * pad - 4) // 2
        s = (s - 4) // 2
        if s < 1:
            raise InvalidArgumentError(f"input_size: LeNet5 needs at least 16 pixels, got "
                                       f"{input_size}")
        A, P = acts[activation], pools[pool]
        self.input_size = input_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=pad), A(), P(2),
            nn.Conv2d(6, 16, 5), A(), P(2),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(16 * s * s, 120), A(),
            nn.Linear(120, 84), A(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))
