"""PyTorch-style functional faces (``import autograd_cnn.functional as F``).

Argument parsing (ints or tuples, ``padding="same"``, unbatched inputs) lives here; the
primitives and their VJPs live in :mod:`autograd_cnn.ops`. Layout is NCHW throughout.
"""

from .ops.elementwise import leaky_relu, relu, sigmoid, softplus, tanh
from .ops.movement import flatten, pad
from .ops.reduce import log_softmax, logsumexp, softmax

# ---- convolution family (ops/conv.py) ------------------------------------------------

# ---- pooling, resampling, normalization (ops/pool.py, ops/resample.py, ops/norm.py) --

# ---- losses and layers helpers (ops/loss.py) -----------------------------------------
