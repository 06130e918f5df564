"""ResNet (He et al., 2016): residual blocks ``y = relu(F(x) + shortcut(x))``.

- :class:`BasicBlock`: two 3x3 convolutions (ResNet-18/34 and CIFAR ResNets);
- :class:`Bottleneck`: 1x1 reduce, 3x3, 1x1 expand (x4) (ResNet-50 and deeper);
- the shortcut is the identity, or a 1x1 strided convolution + BN when the shape changes
  (option B of the paper).

Parameter counts (1000 classes, as torchvision): ResNet-18 11,689,512; ResNet-34
21,797,672; ResNet-50 25,557,032. ``resnet_cifar(depth=20)`` is the paper's CIFAR-10
network (3 stages of 16/32/64 channels, 3x3 stem, no max-pool; 6n+2 layers).
"""

from __future__ import annotations

from .. import nn, ops
from ..errors import InvalidArgumentError
from ._common import init_cnn


def _conv_bn(c_in, c_out, k, stride=1):
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False), \
        nn.BatchNorm2d(c_out)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and a shortcut. ``(N, in, H, W) -> (N, planes, H/s, W/s)``."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1, self.bn1 = _conv_bn(in_channels, planes, 3, stride)
        self.relu = nn.ReLU()
        self.conv2, self.bn2 = _conv_bn(planes, planes, 3)
        if stride != 1 or in_channels != planes:
            self.downsample = nn.Sequential(*_conv_bn(in_channels, planes, 1, stride))
        else:
            self.downsample = None

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return ops.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 (planes) -> 3x3 (planes, stride) -> 1x1 (4 planes), plus shortcut.
    ``(N, in, H, W) -> (N, 4 planes, H/s, W/s)``."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1):
        super().__init__()
        out = planes * self.expansion
        self.conv1, self.bn1 = _conv_bn(in_channels, planes, 1)
        self.conv2, self.bn2 = _conv_bn(planes, planes, 3, stride)
        self.conv3, self.bn3 = _conv_bn(planes, out, 1)
        self.relu = nn.ReLU()
        if stride != 1 or in_channels != out:
            self.downsample = nn.Sequential(*_conv_bn(in_channels, out, 1, stride))
        else:
            self.downsample = None

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return ops.relu(out + identity)


class ResNet(nn.Module):
    """A residual network.

    Parameters
    ----------
    block : BasicBlock or Bottleneck
    layers : sequence of int
        Blocks per stage; stage ``i`` has ``widths[i]`` planes and stride 2 (but the first).
    num_classes, in_channels : int
    widths : sequence of int
        Planes per stage (64, 128, 256, 512 for ImageNet ResNets).
    stem : {'imagenet', 'cifar'}
        7x7/2 conv + 3x3/2 max-pool, or a single 3x3/1 conv.

    Shapes: input ``(N, in_channels, H, W)``, output ``(N, num_classes)``; ImageNet
    stem: spatial /32 before the global average pool.
    """

    def __init__(self, block=BasicBlock, layers=(2, 2, 2, 2), num_classes: int = 1000,
                 in_channels: int = 3, widths=(64, 128, 256, 512), stem: str = "imagenet"):
        super().__init__()
        if len(layers) != len(widths):
            raise InvalidArgumentError(
                f"layers: expected one block count per stage width ({len(widths)}), got "
                f"{len(layers)}"
            )
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(widths[0])
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        elif stem == "cifar":
            self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(widths[0])
            self.relu = nn.ReLU()
            self.maxpool = nn.Identity()
        else:
            raise InvalidArgumentError(f"stem: expected 'imagenet' or 'cifar', got {stem!r}")
        c = widths[0]
        for i, (n, w) in enumerate(zip(layers, widths)):
            blocks = []
            for j in range(n):
                blocks.append(block(c, w, 2 if (j == 0 and i > 0) else 1))
                c = w * block.expansion
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self.num_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c, num_classes)
        init_cnn(self, linear_std=None)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.flatten(self.avgpool(x)))


def resnet18(**kw) -> ResNet:
    """ResNet-18: basic blocks (2, 2, 2, 2), 11,689,512 parameters at 1000 classes.
    Input (N, 3, H, W), output (N, num_classes); ``kw`` go to :class:`ResNet`."""
    return ResNet(BasicBlock, (2, 2, 2, 2), **kw)


def resnet34(**kw) -> ResNet:
    """ResNet-34: basic blocks (3, 4, 6, 3), 21,797,672 parameters at 1000 classes.
    Input (N, 3, H, W), output (N, num_classes); ``kw`` go to :class:`ResNet`."""
    return ResNet(BasicBlock, (3, 4, 6, 3), **kw)


def resnet50(**kw) -> ResNet:
    """ResNet-50: bottleneck blocks (3, 4, 6, 3), 25,557,032 parameters at 1000 classes.
    Input (N, 3, H, W), output (N, num_classes); ``kw`` go to :class:`ResNet`."""
    return ResNet(Bottleneck, (3, 4, 6, 3), **kw)


def resnet_cifar(depth: int = 20, num_classes: int = 10, in_channels: int = 3,
                 widths=(16, 32, 64)) -> ResNet:
    """The paper's CIFAR ResNet: depth = 6n + 2 (20, 32, 44, 56, 110), BasicBlocks."""
    if (depth - 2) % 6:
        raise InvalidArgumentError(f"depth: expected 6n + 2 (20, 32, 44...), got {depth}")
    n = (depth - 2) // 6
    return ResNet(BasicBlock, (n,) * len(widths), num_classes=num_classes,
                  in_channels=in_channels, widths=widths, stem="cifar")
