"""Padding layers (``ZeroPad2d``, ``ConstantPad2d``, ``ReflectionPad2d``,
``ReplicationPad2d``) over :func:`autograd_cnn.functional.pad`."""

from __future__ import annotations

from .. import functional as F
from ..errors import InvalidArgumentError
from .module import Module


def _four(padding, who):
    if isinstance(padding, int) and not isinstance(padding, bool):
        padding = (padding,) * 4
    padding = tuple(padding)
    if len(padding) != 4 or not all(isinstance(p, int) for p in padding):
        raise InvalidArgumentError(
            f"{who}: padding must be an int or 4 ints (left, right, top, bottom), got {padding}")
    return padding


class _Pad2d(Module):
    mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        self.padding = _four(padding, type(self).__name__)
        self.value = value

    def forward(self, x):
        if self.mode == "constant":
            return F.pad(x, self.padding, mode="constant", value=self.value)
        return F.pad(x, self.padding, mode=self.mode)

    def extra_repr(self):
        return str(self.padding)


class ZeroPad2d(_Pad2d):
    """Pad the last two dims with zeros: ``padding`` = int or (left, right, top, bottom)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ConstantPad2d(_Pad2d):
    """Pad the last two dims with ``value``."""


class ReflectionPad2d(_Pad2d):
    """Pad the last two dims by reflection (the edge is not repeated)."""

    mode = "reflect"

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad2d(_Pad2d):
    """Pad the last two dims by repeating the edge values."""

    mode = "replicate"

    def __init__(self, padding):
        super().__init__(padding)
