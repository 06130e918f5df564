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
from . import signal  # noqa: F401,E402  (true convolution, Toeplitz/conv matrices, FFT)
from . import viz  # noqa: F401,E402  (graph rendering: viz.draw, viz.render)
from . import nn, optim  # noqa: F401,E402  (modules, optimizers)
from .serialization import load, save  # noqa: F401,E402
from . import models  # noqa: F401,E402  (the model zoo)
from .summary import count_macs, count_parameters, summary  # noqa: F401,E402

float32 = "float32"
float64 = "float64"

__version__ = "0.1.0"
