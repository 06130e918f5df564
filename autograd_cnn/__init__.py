"""autograd_cnn: reverse-mode automatic differentiation with a tensor DSL, built for
convolutional networks.

>>> import autograd_cnn as ac
>>> x = ac.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x ** 2).sum()
>>> y.backward()
>>> x.grad.numpy()
array([2., 4., 6.], dtype=float32)
"""

from . import memory  # noqa: F401  (glibc malloc thresholds: see memory.py)
from . import errors, functional
from .creation import (
    Generator, arange, empty, empty_like, eye, from_numpy, full, full_like, linspace,
    manual_seed, ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor,
    zeros, zeros_like,
)
from .ops import *
from .primitive import REGISTRY, Primitive, primitives, register
from .tape import (
    enable_grad, grad, gradients, hvp, is_grad_enabled, no_grad, set_grad_enabled,
    value_and_grad, vjp,
)
from .ops.logic import logical_and, logical_not, logical_or
from .tensor import Size, Tensor, as_tensor, get_default_dtype, set_default_dtype
from .device import accelerator, backends, cuda, device
from .amp import GradScaler, autocast, inference_mode

# The layers above the DSL, each importing only what lies below it.
from . import signal  # true convolution, Toeplitz/conv matrices, FFT
from . import nn, optim, models  # modules, optimizers, the model zoo
from . import data, train  # data sets and loaders, fit/evaluate
from . import graph  # the graph IR: trace, replay, simplify, save/load
from .graph import Graph, ShapeSpec, load_graph, save_graph, trace
from . import utils  # utils.data (torch.utils.data), make_grid, save_image
from . import amp  # noqa: E402
from .device import register_modules as _register_modules  # noqa: E402

_register_modules(amp)  # import autograd_cnn.backends.cudnn, autograd_cnn.cuda.amp ...
from . import viz  # graph rendering: viz.draw, viz.render
from .compile import compile  # noqa: A004  (ac.compile: fused, planned kernels)
from . import onnx  # ONNX export/import (loads the optional onnx package on first use)
from .serialization import load, save
from .summary import count_macs, count_parameters, summary

float32 = "float32"
float64 = "float64"
# PyTorch's dtype names (NumPy dtype names here; ``x.dtype == ac.long`` works)
float16 = half = "float16"
float = "float32"  # noqa: A001 - PyTorch's names; builtins are not used below
double = "float64"
int64 = long = "int64"
int32 = int = "int32"  # noqa: A001
int16 = short = "int16"
int8 = "int8"
uint8 = "uint8"
bool = "bool"  # noqa: A001
# memory formats: accepted by .to(memory_format=...); arrays keep their NumPy layout
channels_last = "channels_last"
contiguous_format = "contiguous_format"
preserve_format = "preserve_format"


def is_tensor(obj) -> bool:  # noqa: D401
    """Whether ``obj`` is a :class:`Tensor`."""
    return isinstance(obj, Tensor)


def numel(input) -> int:  # noqa: A002
    """Number of elements of ``input``."""
    return as_tensor(input).numel()

__version__ = "0.1.0"
