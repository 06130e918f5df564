"""PyTorch-style functional faces (``import autograd_cnn.functional as F``).

Argument parsing (ints or tuples, ``padding="same"``, unbatched inputs) lives here; the
primitives and their VJPs live in :mod:`autograd_cnn.ops`. Layout is NCHW throughout.
"""

from .ops.elementwise import sigmoid, softplus, tanh
from .ops.movement import flatten, pad
from .ops.reduce import log_softmax, logsumexp, softmax

# ---- convolution family (ops/conv.py) ------------------------------------------------
from .ops.conv import (  # noqa: E402,F401
    conv, conv1d, conv2d, conv3d, conv_transpose, conv_transpose1d, conv_transpose2d,
    conv_transpose3d, fold, unfold,
)

# ---- pooling, resampling, normalization (ops/pool*.py, ops/resample.py, ops/norm.py)
from .ops.pool import (  # noqa: E402,F401
    adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool1d, avg_pool2d, avg_pool3d,
    global_avg_pool2d, max_pool1d, max_pool2d, max_pool3d,
)
from .ops.pool_derived import (  # noqa: E402,F401
    channel_max_pool, lp_pool1d, lp_pool2d, max_unpool1d, max_unpool2d, max_unpool3d,
    maxout,
)
from .ops.norm import batch_norm, dropout, dropout2d, layer_norm  # noqa: E402,F401
from .ops.resample import (  # noqa: E402,F401
    interpolate, pixel_shuffle, pixel_unshuffle, upsample,
)

# ---- losses and layers helpers (ops/loss.py) -----------------------------------------
from .ops.loss import (  # noqa: E402,F401
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, kl_div,
    l1_loss, mse_loss, nll_loss, smooth_l1_loss,
)

# ---- PyTorch-compatibility faces (ops/activation.py, ops/compat.py) ------------------
from .ops import elementwise as _E  # noqa: E402
from .ops.activation import elu, gelu, hardtanh, prelu, silu  # noqa: E402,F401
from .ops.compat import (  # noqa: E402,F401
    embedding, group_norm, instance_norm, linear, one_hot,
)
from .ops.inplace import update_inplace as _update_inplace  # noqa: E402


def relu(input, inplace: bool = False):  # noqa: A002 - PyTorch's names
    """``max(x, 0)``; gradient 0 at 0. ``inplace=True`` changes ``input`` itself (the
    rules of ``+=``: see :mod:`autograd_cnn.ops.inplace`) and returns it."""
    if inplace:
        return _update_inplace(input, _E.relu, None, "relu(inplace=True)")
    return _E.relu(input)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):  # noqa: A002
    """``x`` where positive, else ``negative_slope * x`` (``inplace`` as :func:`relu`)."""
    if inplace:
        return _update_inplace(input, lambda t: _E.leaky_relu(t, negative_slope), None,
                               "leaky_relu(inplace=True)")
    return _E.leaky_relu(input, negative_slope)


def relu6(input, inplace: bool = False):  # noqa: A002
    """``min(max(x, 0), 6)``."""
    if inplace:
        return _update_inplace(input, lambda t: _E.clip(t, 0.0, 6.0), None, "relu6")
    return _E.clip(input, 0.0, 6.0)


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12):  # noqa: A002
    """``x / max(||x||_p, eps)`` along ``dim`` (``p`` = 0 counts the non-zeros and
    ``p`` = +-inf takes the largest / smallest magnitude, as ``torch.linalg.vector_norm``)."""
    import math

    from .ops import reduce as _R

    a = _E.abs(input)
    if p == 0:  # a count: no gradient flows through it (PyTorch's 0-norm gradient is 0)
        norm = _R.sum(_E.astype(_E.ne(a, 0), a.dtype), dim, keepdim=True)
    elif p == math.inf:
        norm = _R.amax(a, dim, keepdim=True)
    elif p == -math.inf:
        norm = _R.amin(a, dim, keepdim=True)
    else:
        norm = _R.sum(a ** p, dim, keepdim=True) ** (1.0 / p)
    return input / _E.clip(norm, eps, None)


# ---- integer max pooling (PyTorch pools integer tensors; our kernels are float) ------
from .ops import pool as _pool  # noqa: E402


def _int_max_pool(nd):
    float_fn = getattr(_pool, f"max_pool{nd}d")

    def fn(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
           return_indices=False):
        x = input if isinstance(input, Tensor) else _as_tensor(input)
        if x.dtype.kind not in "iub":
            return float_fn(x, kernel_size, stride, padding, dilation, ceil_mode,
                            return_indices)
        a = x.data
        if a.size and a.dtype.itemsize >= 8 and int(np.abs(a).max()) >= 2**53:
            from .errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"max_pool{nd}d(): integer input with values beyond 2**53 cannot be pooled "
                "exactly here (they are pooled in float64)")
        out = float_fn(Tensor(a.astype(np.float64)), kernel_size, stride, padding, dilation,
                       ceil_mode, return_indices)
        if return_indices:
            return Tensor(out[0].data.astype(a.dtype)), out[1]
        return Tensor(out.data.astype(a.dtype))

    fn.__name__ = f"max_pool{nd}d"
    fn.__doc__ = (float_fn.__doc__ or "") + (
        "\n\n    Integer and boolean inputs are pooled exactly (through float64) and keep "
        "their dtype (not differentiable).")
    return fn


import numpy as np  # noqa: E402

from .tensor import Tensor  # noqa: E402
from .tensor import as_tensor as _as_tensor  # noqa: E402

max_pool1d = _int_max_pool(1)
max_pool2d = _int_max_pool(2)
max_pool3d = _int_max_pool(3)
