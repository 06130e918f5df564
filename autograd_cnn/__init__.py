"""autograd_cnn: reverse-mode automatic differentiation with a tensor DSL, built for
convolutional networks.

>>> import autograd_cnn as ac
>>> x = ac.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x ** 2).sum()
>>> y.backward()
>>> x.grad.numpy()
array([2., 4., 6.], dtype=float32)
"""

from . import errors, functional
from .creation import (
    arange, eye, full, linspace, manual_seed, ones, ones_like, rand, randint, randn, tensor,
    zeros, zeros_like,
)
from .ops import *
from .primitive import REGISTRY, Primitive, primitives, register
from .tape import (
    enable_grad, grad, gradients, hvp, is_grad_enabled, no_grad, set_grad_enabled,
    value_and_grad, vjp,
)
from .tensor import Tensor, as_tensor
from .ops.gather import gather, scatter_add
from .ops.logic import logical_and, logical_not, logical_or, numel

# The layers above the DSL, each importing only what lies below it.
from . import signal  # true convolution, Toeplitz/conv matrices, FFT
from . import nn, optim, models  # modules, optimizers, the model zoo
from . import data, train  # data sets and loaders, fit/evaluate
from . import graph  # the graph IR: trace, replay, simplify, save/load
from .graph import Graph, ShapeSpec, trace
from . import viz  # graph rendering: viz.draw, viz.render
from .compile import compile  # noqa: A004  (ac.compile: fused, planned kernels)
from .serialization import load, save
from .summary import count_macs, count_parameters, summary

float32 = "float32"
float64 = "float64"

__version__ = "0.1.0"
