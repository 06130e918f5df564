"""The ops of the DSL. Importing this package registers every primitive.

One module per family; each defines its primitives (forward + VJPs in one place) and
the public functions that parse arguments and call them.
"""

from . import elementwise, indexing, linalg, movement, reduce  # noqa: F401  (registration)
from .elementwise import (  # noqa: F401
    abs, add, astype, clamp, clip, div, eq, exp, ge, gt, le, leaky_relu, log, lt, maximum,
    minimum, mul, ne, neg, pow, relu, sigmoid, sign, softplus, sqrt, sub, tanh, where,
)
from .indexing import getitem, index_add  # noqa: F401
from .linalg import einsum, matmul  # noqa: F401
from .movement import (  # noqa: F401
    broadcast_to, cat, concat, concatenate, expand, expand_dims, flatten, flip, pad, permute,
    ravel, repeat, reshape, split, squeeze, stack, tile, transpose, unsqueeze, view,
)
from .reduce import (  # noqa: F401
    amax, amin, argmax, argmin, log_softmax, logsumexp, max, mean, min, softmax, std, sum,
    sum_to, var,
)
from . import methods  # noqa: F401,E402  (attaches operators to Tensor)
