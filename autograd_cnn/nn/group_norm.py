"""``GroupNorm`` and ``InstanceNorm1d/2d/3d`` over
:func:`autograd_cnn.functional.group_norm` / :func:`~autograd_cnn.functional.instance_norm`."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..errors import InvalidArgumentError
from ..tensor import Tensor, get_default_dtype
from ._utils import positive_int
from .module import Module, Parameter


class GroupNorm(Module):
    """Normalize each of ``num_groups`` channel groups of (N, C, ...) over its channels
    and positions; per-channel ``weight`` (ones) and ``bias`` (zeros) when ``affine``."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, dtype=None):
        super().__init__()
        self.num_groups = positive_int(num_groups, "num_groups")
        self.num_channels = positive_int(num_channels, "num_channels")
        if num_channels % num_groups:
            raise InvalidArgumentError(
                f"num_groups: must divide num_channels ({num_channels}), got {num_groups}")
        self.eps, self.affine = eps, affine
        dt = np.dtype(dtype or get_default_dtype())
        if affine:
            self.weight = Parameter(np.ones(num_channels, dt))
            self.bias = Parameter(np.zeros(num_channels, dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(Module):
    _spatial = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, dtype=None):
        super().__init__()
        self.num_features = positive_int(num_features, "num_features")
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = np.dtype(dtype or get_default_dtype())
        if affine:
            self.weight = Parameter(np.ones(num_features, dt))
            self.bias = Parameter(np.zeros(num_features, dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dt)))
        else:
            self.running_mean = self.running_var = None

    def forward(self, x):
        from ..tensor import as_tensor

        x = as_tensor(x)
        unbatched = x.ndim == self._spatial + 1
        if unbatched:
            x = x.unsqueeze(0)
        if x.ndim != self._spatial + 2:
            from ..errors import LayerInputError

            raise LayerInputError(
                f"{type(self).__name__}: expected a {self._spatial + 2}-D (batched) or "
                f"{self._spatial + 1}-D input, got shape {x.shape}")
        use_input = self.training or not self.track_running_stats
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_input, self.momentum, self.eps)
        return y.squeeze(0) if unbatched else y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) (or unbatched (C, L))."""

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) (or unbatched (C, H, W)); no affine, no running
    statistics by default, as PyTorch."""

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance norm of (N, C, D, H, W)."""

    _spatial = 3
