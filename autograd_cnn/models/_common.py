"""Helpers shared by the model zoo: torchvision-style weight initialization."""

from __future__ import annotations

from .. import nn
from ..nn import init


def init_cnn(model: nn.Module, linear_std: float | None = 0.01, generator=None):
    """He (fan_out, relu) normal for convs, N(0, linear_std^2) for Linear (if given), BN
    weight 1 / bias 0, zero biases - the torchvision recipe for VGG and ResNet."""
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu",
                                 generator=generator)
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, nn.Linear) and linear_std is not None:
            init.normal_(m.weight, 0.0, linear_std, generator=generator)
            init.zeros_(m.bias) if m.bias is not None else None
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:
            init.ones_(m.weight)
            init.zeros_(m.bias)
    return model


def scaled(channels: int, width_mult: float) -> int:
    """Channel count times the width multiplier, at least 1."""
    return max(1, int(round(channels * width_mult)))
