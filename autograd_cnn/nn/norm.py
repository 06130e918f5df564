"""Normalization layers: BatchNorm1d/2d/3d and LayerNorm (PyTorch semantics).

BatchNorm keeps ``running_mean``/``running_var`` buffers (and ``num_batches_tracked``);
in training mode it normalizes with the batch statistics and updates the running ones
(unbiased variance, ``momentum`` weight for the new value, or a cumulative average when
``momentum=None``); in eval mode it uses the running statistics.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tape import STATE
from ..tensor import Tensor, as_tensor
from . import init
from ._utils import check_input, positive_int
from .module import Module, empty_array, new_parameter


class _BatchNorm(Module):
    _ndims: tuple = (2, 3)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None):
        super().__init__()
        self.num_features = positive_int(num_features, "num_features")
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = new_parameter((num_features,), dtype)
            self.bias = new_parameter((num_features,), dtype)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(empty_array((num_features,), dtype)))
            self.register_buffer("running_var", Tensor(empty_array((num_features,), dtype)))
            self.register_buffer("num_batches_tracked",
                                 Tensor(empty_array((), np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats and self.running_mean.data.flags.writeable:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        x = as_tensor(x)
        check_input(self, x, ndims=self._ndims, dim=1, expected=self.num_features,
                    what="channels")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and not STATE.meta:
            self.num_batches_tracked.data[...] += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch = self.training or self.running_mean is None
        return F.batch_norm(
            x,
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization over ``(N, C)`` or ``(N, C, L)`` per channel ``C``."""

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over ``(N, C, H, W)``: statistics per channel over N, H, W."""

    _ndims = (4,)


class BatchNorm3d(_BatchNorm):
    _ndims = (5,)


class LayerNorm(Module):
    """Normalize over the last ``len(normalized_shape)`` dims, then scale and shift.

    Shapes: input ``(*, *normalized_shape)``; weight/bias ``normalized_shape``.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = new_parameter(self.normalized_shape, dtype)
            init.ones_(self.weight)
            if bias:
                self.bias = new_parameter(self.normalized_shape, dtype)
                init.zeros_(self.bias)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        x = as_tensor(x)
        n = len(self.normalized_shape)
        if tuple(x.shape[-n:]) != self.normalized_shape or x.ndim < n:
            from ..errors import LayerInputError
            from ._utils import layer_path

            raise LayerInputError(
                f"layer {layer_path(self)}: expected input with trailing shape "
                f"{self.normalized_shape}, got input of shape {tuple(x.shape)}"
            )
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """Local response normalization across channels (AlexNet, VGG A-LRN):
    ``b_c = a_c / (k + alpha/n * sum_{c' in window(c)} a_{c'}^2)^beta`` with a window of
    ``size`` channels (zero-padded at the ends), as PyTorch. Input ``(N, C, *)``."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = positive_int(size, "size")
        self.alpha, self.beta, self.k = alpha, beta, k

    def forward(self, x):
        from .. import ops

        x = as_tensor(x)
        if x.ndim < 3:
            from ..errors import LayerInputError
            from ._utils import layer_path

            raise LayerInputError(
                f"layer {layer_path(self)}: expected an input (N, C, *) with >= 3 dims, got "
                f"shape {tuple(x.shape)}"
            )
        C = x.shape[1]
        sq = x * x
        pad = [0, 0] * (x.ndim - 2) + [self.size // 2, (self.size - 1) // 2]
        padded = ops.pad(sq, tuple(pad))
        window = padded[:, 0:C]
        for i in range(1, self.size):
            window = window + padded[:, i:i + C]
        div = (window * (self.alpha / self.size) + self.k) ** self.beta
        return x / div

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
