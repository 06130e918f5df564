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
from . import pool  # noqa: F401,E402  (registration)
from .pool import (  # noqa: F401,E402
    adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool1d, avg_pool2d, avg_pool3d,
    global_avg_pool2d, max_pool1d, max_pool2d, max_pool3d,
)
from .pool_derived import (  # noqa: F401,E402
    channel_max_pool, lp_pool1d, lp_pool2d, max_unpool1d, max_unpool2d, max_unpool3d,
    maxout,
)
from .norm import batch_norm, dropout, dropout2d, layer_norm  # noqa: F401,E402
from .resample import interpolate, pixel_shuffle, pixel_unshuffle  # noqa: F401,E402
from . import conv  # noqa: F401,E402  (registration)
from .conv import (  # noqa: F401,E402
    conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, fold, unfold,
)
# PyTorch-compatibility faces: torch.max(x, dim) -> (values, indices), sort, topk, gelu...
from . import activation, compat, sorting, trig  # noqa: F401,E402  (registration)
from .trig import cos, sin  # noqa: F401,E402
from .activation import elu, erf, gelu, hardtanh, prelu, silu  # noqa: F401,E402
from .compat import (  # noqa: F401,E402
    all, any, bmm, chunk, clone, embedding, group_norm, instance_norm, isfinite, isinf, isnan,
    linear, mm, one_hot, t,
)
from .sorting import argsort, gather, max, min, sort, take_along_dim, topk  # noqa: F401,E402
from . import methods  # noqa: F401,E402  (attaches operators to Tensor)
