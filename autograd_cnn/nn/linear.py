"""Linear, Identity, Flatten, Unflatten."""

from __future__ import annotations

import math

from .. import ops
from ..tensor import Tensor, as_tensor
from . import init
from ._utils import check_input, positive_int
from .module import Module, new_parameter


class Identity(Module):
    """Returns its input unchanged (any shape). Extra arguments are ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """``y = x @ weight.T + bias``.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    dtype : dtype, optional (float32 by default)
    generator : numpy.random.Generator, optional
        For the default initialization (PyTorch's: weight and bias ~ U(-k, k),
        k = 1/sqrt(in_features)).

    Shapes: input ``(*, in_features)``, output ``(*, out_features)``; weight
    ``(out_features, in_features)``, bias ``(out_features,)``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None,
                 generator=None):
        super().__init__()
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self.weight = new_parameter((out_features, in_features), dtype)
        self.bias = new_parameter((out_features,), dtype) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        check_input(self, x, ndims=tuple(range(1, 33)), dim=-1, expected=self.in_features,
                    what="features")
        y = ops.matmul(x, self.weight.T)
        return y + self.bias if self.bias is not None else y

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flatten dims ``start_dim..end_dim`` (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return ops.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``."""

    def __init__(self, dim: int, unflattened_size: tuple):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        d = self.dim % x.ndim
        return ops.reshape(x, x.shape[:d] + self.unflattened_size + x.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
