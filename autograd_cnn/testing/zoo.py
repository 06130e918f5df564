"""Small instances of every zoo model, for tests that must run the whole zoo quickly
(tracing, simplifying, compiling, exporting): ``(name, factory, input shape)``.

>>> from autograd_cnn.testing.zoo import SMALL_ZOO
>>> name, factory, shape = SMALL_ZOO[0]
>>> factory()(__import__("autograd_cnn").randn(*shape)).shape
(2, 10)
"""

from __future__ import annotations

from .. import models

SMALL_ZOO = [
    ("lenet5_32", lambda: models.LeNet5(), (2, 1, 32, 32)),
    ("lenet5_28", lambda: models.LeNet5(input_size=28, activation="relu", pool="max"),
     (2, 1, 28, 28)),
    ("alexnet", lambda: models.AlexNet(num_classes=10, width_mult=1 / 16), (1, 3, 64, 64)),
    ("vgg11", lambda: models.vgg11(num_classes=7, width_mult=1 / 16), (1, 3, 32, 32)),
    ("vggC_bn", lambda: models.VGG("C", num_classes=5, width_mult=1 / 16, batch_norm=True),
     (2, 3, 32, 32)),
    ("vggA_lrn", lambda: models.VGG("A-LRN", num_classes=5, width_mult=1 / 16),
     (1, 3, 32, 32)),
    ("resnet18", lambda: models.resnet18(num_classes=10, widths=(8, 16, 32, 64)),
     (2, 3, 32, 32)),
    ("resnet_cifar8", lambda: models.resnet_cifar(8), (2, 3, 16, 16)),
    ("resnet_bottleneck", lambda: models.ResNet(models.Bottleneck, (1, 1), num_classes=5,
                                                widths=(8, 16)), (2, 3, 32, 32)),
    ("googlenet", lambda: models.GoogLeNet(num_classes=10, width_mult=1 / 16),
     (1, 3, 64, 64)),
    ("inception", lambda: models.InceptionModule(8, 4, 3, 4, 2, 4, 4), (2, 8, 6, 6)),
    ("inception_naive", lambda: models.InceptionModule(8, 4, 3, 4, 2, 4, 4, naive=True),
     (2, 8, 6, 6)),
    ("xception", lambda: models.MiniXception(num_classes=4, widths=(8, 16), stem_channels=4),
     (2, 3, 16, 16)),
    ("fcn", lambda: models.FCN(num_classes=3, width_mult=1 / 32, fc6_kernel=1),
     (1, 3, 64, 64)),
    ("unet_same", lambda: models.UNet(1, 2, depth=2, base_channels=4), (1, 1, 16, 16)),
    ("unet_valid", lambda: models.UNet(1, 2, depth=2, base_channels=4, padding=0),
     (1, 1, 44, 44)),
]

__all__ = ["SMALL_ZOO"]
