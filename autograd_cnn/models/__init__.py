"""The model zoo of the seeds, each an :class:`autograd_cnn.nn.Module` buildable at any
input size: LeNet-5, AlexNet, VGG A-E, ResNet, Inception/GoogLeNet, Xception blocks,
FCN and U-Net. Parameter counts are listed in ``docs/models.md``."""

from .alexnet import AlexNet
from .fcn import FCN, FCNHead, bilinear_kernel
from .inception import GOOGLENET_TABLE, GoogLeNet, InceptionModule
from .lenet import LeNet5
from .resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet_cifar,
)
from .unet import DoubleConv, UNet
from .vgg import CONFIGS as VGG_CONFIGS
from .vgg import VGG, vgg11, vgg13, vgg16, vgg19
from .xception import MiniXception, SeparableConv2d, XceptionBlock

__all__ = [
    "AlexNet", "FCN", "FCNHead", "bilinear_kernel", "GoogLeNet", "InceptionModule",
    "GOOGLENET_TABLE", "LeNet5", "BasicBlock", "Bottleneck", "ResNet", "resnet18",
    "resnet34", "resnet50", "resnet_cifar", "DoubleConv", "UNet", "VGG", "VGG_CONFIGS",
    "vgg11", "vgg13", "vgg16", "vgg19", "MiniXception", "SeparableConv2d", "XceptionBlock",
]
