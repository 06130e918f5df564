"""PyTorch-style functional faces (``import autograd_cnn.functional as F``).

Argument parsing (ints or tuples, ``padding="same"``, unbatched inputs) lives here; the
primitives and their VJPs live in :mod:`autograd_cnn.ops`. Layout is NCHW throughout.
"""

from .ops.elementwise import leaky_relu, relu, sigmoid, softplus, tanh
from .ops.movement import flatten, pad
from .ops.reduce import log_softmax, logsumexp, softmax

# ---- convolution family (ops/conv.py) ------------------------------------------------
from .ops.conv import (  # noqa: E402,F401
    conv, conv1d, conv2d, conv3d, conv_transpose, conv_transpose1d, conv_transpose2d,
    conv_transpose3d, fold, unfold,
)

# ---- pooling, resampling, normalization (ops/pool.py, ops/resample.py, ops/norm.py) --
from .ops.pool import (  # noqa: E402,F401
    adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool1d, avg_pool2d, avg_pool3d,
    channel_max_pool, global_avg_pool2d, lp_pool1d, lp_pool2d, max_pool1d, max_pool2d,
    max_pool3d, max_unpool1d, max_unpool2d, max_unpool3d, maxout,
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
