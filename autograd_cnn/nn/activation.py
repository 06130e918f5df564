"""Activation layers: ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, LogSoftmax, Softplus."""

from __future__ import annotations

from .. import ops
from .module import Module


class ReLU(Module):
    """``max(x, 0)`` elementwise. ``inplace`` is accepted for PyTorch compatibility and
    ignored (our ops are out-of-place)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return ops.relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``x if x > 0 else negative_slope * x``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return ops.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    def forward(self, x):
        return ops.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return ops.sigmoid(x)


class Softplus(Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return ops.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


def _legacy_dim(ndim):
    # PyTorch's implicit choice when dim=None: 0 for 0-D, 1-D and 3-D inputs, else 1
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """``softmax(x, dim)``; ``dim=None`` uses PyTorch's legacy implicit choice."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return ops.softmax(x, self.dim if self.dim is not None else _legacy_dim(x.ndim))

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return ops.log_softmax(x, self.dim if self.dim is not None else _legacy_dim(x.ndim))
