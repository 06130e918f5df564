"""Weight initializers (``torch.nn.init``): fill a tensor in place, without recording.

Fans follow the seeds (and PyTorch): for a weight of shape ``(C_out, C_in, k_1, ...)``,
``fan_in = C_in * k_1 * ...`` and ``fan_out = C_out * k_1 * ...``; for a Linear weight
``(out, in)`` they are ``in`` and ``out``.

Every initializer takes ``seed=`` or ``generator=`` (a ``numpy.random.Generator``) for
reproducibility; without them it draws from the global generator
(:func:`autograd_cnn.manual_seed`). Tensors created under :func:`nn.meta_init` are
shape-only and are left untouched.

>>> import autograd_cnn as ac
>>> w = ac.zeros(64, 3, 3, 3)
>>> _ = kaiming_normal_(w, nonlinearity="relu", seed=0)
>>> round(float(w.numpy().std()), 2)  # sqrt(2 / (3*3*3)) = 0.27
0.27
"""

from __future__ import annotations

import math

import numpy as np

from ..creation import get_rng
from ..errors import ArgumentTypeError, InvalidArgumentError
from ..tape import no_grad
from ..tensor import Tensor
from .module import is_meta_array

__all__ = [
    "calculate_gain", "constant_", "ones_", "zeros_", "uniform_", "normal_", "trunc_normal_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "eye_",
    "dirac_", "orthogonal_",
]


def _check(tensor, fn):
    if not isinstance(tensor, Tensor):
        raise ArgumentTypeError(f"{fn}(): tensor must be a Tensor, got {type(tensor).__name__}")
    return not is_meta_array(tensor.data)


def _fill(tensor: Tensor, values) -> Tensor:
    with no_grad():
        tensor.copy_(np.asarray(values))
    return tensor


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear/conv*/sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + a^2))
    with negative slope ``param`` (default 0.01); selu: 3/4.
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid", "identity")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise InvalidArgumentError(f"param: negative slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise InvalidArgumentError(
        f"nonlinearity: unsupported {nonlinearity!r}; expected one of {linear + ('tanh', 'relu', 'leaky_relu', 'selu')}"  # noqa: E501
    )


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    shape = tensor.shape
    if len(shape) < 2:
        raise InvalidArgumentError(
            f"tensor: fan in and fan out need at least 2 dimensions, got shape {shape}"
        )
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise InvalidArgumentError(f"mode: expected 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val``."""
    if _check(tensor, "constant_"):
        _fill(tensor, np.full(tensor.shape, val))
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, *, seed=None, generator=None
             ) -> Tensor:
    """Fill with samples of U(a, b)."""
    if a > b:
        raise InvalidArgumentError(f"uniform_(): expected a <= b, got a={a}, b={b}")
    if _check(tensor, "uniform_"):
        _fill(tensor, get_rng(seed, generator).uniform(a, b, size=tensor.shape))
    return tensor


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, *, seed=None,
            generator=None) -> Tensor:
    """Fill with samples of N(mean, std^2)."""
    if std < 0:
        raise InvalidArgumentError(f"normal_(): std must be >= 0, got {std}")
    if _check(tensor, "normal_"):
        _fill(tensor, get_rng(seed, generator).normal(mean, std, size=tensor.shape))
    return tensor


def trunc_normal_(tensor: Tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, *, seed=None,
                  generator=None) -> Tensor:
    """N(mean, std^2) truncated to [a, b] (redrawing values outside)."""
    if not a < b:
        raise InvalidArgumentError(f"trunc_normal_(): expected a < b, got a={a}, b={b}")
    if _check(tensor, "trunc_normal_"):
        rng = get_rng(seed, generator)
        out = rng.normal(mean, std, size=tensor.shape)
        bad = (out < a) | (out > b)
        for _ in range(1000):
            if not bad.any():
                break
            out[bad] = rng.normal(mean, std, size=int(bad.sum()))
            bad = (out < a) | (out > b)
        _fill(tensor, np.clip(out, a, b))
    return tensor


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, *, seed=None, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, seed=seed, generator=generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, *, seed=None, generator=None) -> Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, seed=seed, generator=generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", *, seed=None, generator=None) -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan) (``a``: leaky_relu slope)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, seed=seed, generator=generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", *, seed=None, generator=None) -> Tensor:
    """He normal: N(0, std^2) with std = gain / sqrt(fan); for relu, sqrt(2 / fan_in)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, seed=seed, generator=generator)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix in a 2-D tensor."""
    if tensor.ndim != 2:
        raise InvalidArgumentError(f"eye_(): expected a 2-D tensor, got shape {tensor.shape}")
    if _check(tensor, "eye_"):
        _fill(tensor, np.eye(*tensor.shape))
    return tensor


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Identity-preserving conv weight ``(C_out, C_in, k...)``: a centred delta per channel."""
    if tensor.ndim not in (3, 4, 5):
        raise InvalidArgumentError(f"dirac_(): expected a 3-5 D tensor, got shape {tensor.shape}")
    if tensor.shape[0] % groups:
        raise InvalidArgumentError(
            f"dirac_(): dim 0 ({tensor.shape[0]}) must be divisible by groups={groups}"
        )
    if _check(tensor, "dirac_"):
        out = np.zeros(tensor.shape)
        per = tensor.shape[0] // groups
        centre = tuple(k // 2 for k in tensor.shape[2:])
        for g in range(groups):
            for d in range(min(per, tensor.shape[1])):
                out[(g * per + d, d) + centre] = 1
        _fill(tensor, out)
    return tensor


def orthogonal_(tensor: Tensor, gain: float = 1.0, *, seed=None, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix of the flattened tensor (QR of a Gaussian)."""
    if tensor.ndim < 2:
        raise InvalidArgumentError(f"orthogonal_(): need >= 2 dims, got shape {tensor.shape}")
    if _check(tensor, "orthogonal_"):
        rows = tensor.shape[0]
        cols = tensor.numel() // rows
        a = get_rng(seed, generator).normal(size=(rows, cols))
        if rows < cols:
            a = a.T
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        _fill(tensor, gain * q.reshape(tensor.shape))
    return tensor
