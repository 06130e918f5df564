"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d (NCHW, PyTorch semantics).

The arithmetic is in :mod:`autograd_cnn.functional` (``conv2d`` ...); layers hold the
weight and bias, PyTorch's default initialization, and check the input channels so a
mismatch names the layer (``'features.3' (Conv2d)``) and both shapes.
"""

from __future__ import annotations

import math

from .. import functional as F
from ..errors import InvalidArgumentError
from ..tensor import Tensor, as_tensor
from . import init
from ._utils import check_input, ntuple, positive_int
from .module import Module, new_parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _functional(name):
    """``functional.<name>``, or straight from ops/conv.py while functional does not
    export it yet."""
    fn = getattr(F, name, None)
    if fn is None:
        from ..ops import conv as conv_ops

        fn = getattr(conv_ops, name)
    return fn


class _ConvNd(Module):
    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding, dtype, generator):
        super().__init__()
        n = self._nd
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        self.groups = positive_int(groups, "groups")
        for what, c in (("in_channels", in_channels), ("out_channels", out_channels)):
            if c % groups:
                raise InvalidArgumentError(
                    f"{what}: must be divisible by groups={groups}, got {c}"
                )
        self.kernel_size = ntuple(kernel_size, n, "kernel_size")
        self.stride = ntuple(stride, n, "stride")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise InvalidArgumentError(
                    f"padding: expected 'same', 'valid', an int or a tuple, got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise InvalidArgumentError(
                    f"padding='same' is not supported for strided convolutions "
                    f"(stride={self.stride})"
                )
            self.padding = padding
        else:
            self.padding = ntuple(padding, n, "padding")
        self.dilation = ntuple(dilation, n, "dilation")
        self.output_padding = ntuple(output_padding, n, "output_padding")
        if padding_mode not in _PADDING_MODES:
            raise InvalidArgumentError(
                f"padding_mode: expected one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        self.padding_mode = padding_mode
        if self._transposed:
            wshape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            wshape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = new_parameter(wshape, dtype)
        if bias:
            self.bias = new_parameter((out_channels,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight (a bound of
        1/sqrt(fan_in)), U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def _check(self, x):
        n = self._nd
        check_input(self, x, ndims=(n + 1, n + 2), dim=-(n + 1), expected=self.in_channels,
                    what="channels")

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self._transposed and self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", dtype=None,
                 generator=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, dtype, generator)

    def forward(self, x):
        x = as_tensor(x)
        self._check(x)
        fn = _functional(f"conv{self._nd}d")
        kw = {"padding_mode": self.padding_mode} if self.padding_mode != "zeros" else {}
        return fn(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                  self.groups, **kw)


class Conv1d(_Conv):
    """1-D convolution (cross-correlation, as PyTorch). Input ``(N, C_in, L)`` or
    ``(C_in, L)``; weight ``(C_out, C_in/groups, k)``; output ``(N, C_out, L_out)`` with
    ``L_out = floor((L + 2p - d(k-1) - 1)/s) + 1``."""

    _nd = 1


class Conv2d(_Conv):
    """2-D convolution. Input ``(N, C_in, H, W)``; weight ``(C_out, C_in/groups, kh, kw)``;
    output ``(N, C_out, H_out, W_out)``, ``H_out = floor((H + 2p - d(kh-1) - 1)/s) + 1``.

    >>> import autograd_cnn as ac
    >>> Conv2d(3, 8, 3, padding=1)(ac.zeros(2, 3, 5, 5)).shape
    (2, 8, 5, 5)
    """

    _nd = 2


class Conv3d(_Conv):
    """3-D convolution. Input ``(N, C_in, D, H, W)``; weight ``(C_out, C_in/groups, kd, kh,
    kw)``."""

    _nd = 3


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 dtype=None, generator=None):
        if padding_mode != "zeros":
            raise InvalidArgumentError(
                f"padding_mode: only 'zeros' is supported for transposed convolutions, got "
                f"{padding_mode!r}"
            )
        if isinstance(padding, str):
            raise InvalidArgumentError(
                f"padding: transposed convolutions take ints, got {padding!r}"
            )
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, dtype, generator)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise InvalidArgumentError(
                    f"output_padding: must be smaller than stride or dilation, got "
                    f"output_padding={self.output_padding}, stride={self.stride}, "
                    f"dilation={self.dilation}"
                )

    def forward(self, x, output_size=None):
        x = as_tensor(x)
        self._check(x)
        fn = _functional(f"conv_transpose{self._nd}d")
        out_pad = self.output_padding if output_size is None else \
            self._output_padding_for(x, output_size)
        return fn(x, self.weight, self.bias, self.stride, self.padding, out_pad,
                  self.groups, self.dilation)

    def _output_padding_for(self, x, output_size):
        """PyTorch's ``_output_padding``: the output_padding that gives ``output_size``
        (the last ``nd`` entries; leading N, C may be included)."""
        size = list(output_size.shape if isinstance(output_size, Tensor) else output_size)
        nd = self._nd
        if len(size) == nd + 2 or len(size) == nd + 1:
            size = size[-nd:]
        if len(size) != nd:
            raise InvalidArgumentError(
                f"output_size: expected {nd} (or {nd + 2}) sizes, got {list(output_size)}")
        pads = []
        for i in range(nd):
            n_in = x.shape[x.ndim - nd + i]
            lo = ((n_in - 1) * self.stride[i] - 2 * self.padding[i]
                  + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            hi = lo + self.stride[i] - 1
            if not lo <= size[i] <= hi:
                raise InvalidArgumentError(
                    f"output_size: requested {list(size)}, but dim {i} can only be in "
                    f"[{lo}, {hi}] for input shape {x.shape}")
            pads.append(int(size[i]) - lo)
        return tuple(pads)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution (the adjoint of Conv1d). Weight ``(C_in, C_out/groups,
    k)``; ``L_out = (L-1)s - 2p + d(k-1) + output_padding + 1``."""

    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution ("up-convolution"). Input ``(N, C_in, H, W)``, weight
    ``(C_in, C_out/groups, kh, kw)``, ``H_out = (H-1)s - 2p + d(kh-1) + output_padding + 1``.
    """

    _nd = 2


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-D convolution. Weight ``(C_in, C_out/groups, kd, kh, kw)``."""

    _nd = 3
