"""autograd_cnn: reverse-mode automatic differentiation with a tensor DSL, built for
convolutional networks.

>>> import autograd_cnn as ac
>>> x = ac.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x ** 2).sum()
>>> y.backward()
>>> x.grad.numpy()
array([2., 4., 6.], dtype=float32)
"""

from . import errors  # noqa: F401
from . import functional  # noqa: F401
from .creation import (  # noqa: F401
    arange, eye, full, linspace, manual_seed, ones, ones_like, rand, randint, randn, tensor,
    zeros, zeros_like,
)
from .ops import *  # noqa: F401,F403
from .primitive import REGISTRY, Primitive, primitives, register  # noqa: F401
from .tape import (  # noqa: F401
    enable_grad, grad, gradients, hvp, is_grad_enabled, no_grad, set_grad_enabled,
    value_and_grad, vjp,
)
from .tensor import Tensor, as_tensor  # noqa: F401

float32 = "float32"
float64 = "float64"

__version__ = "0.1.0"
