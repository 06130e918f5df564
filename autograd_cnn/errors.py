"""Named exceptions of autograd_cnn.

Every error subclasses a builtin (ValueError, TypeError or RuntimeError), so code that
catches the builtin keeps working, and its message names the argument, what was
expected and what came.
"""

from __future__ import annotations


class AutogradCNNError(Exception):
    """Base class of every exception raised by autograd_cnn."""


# ---- values and shapes -------------------------------------------------------------


class ShapeError(AutogradCNNError, ValueError):
    """Shapes that cannot work together (broadcasting, matmul, reshape, concat...)."""


class BroadcastError(ShapeError):
    """Two shapes that NumPy broadcasting rules cannot combine."""


class MatmulShapeError(ShapeError):
    """Inner dimensions of a matrix product disagree."""


class InvalidArgumentError(AutogradCNNError, ValueError):
    """An argument has a value outside what the function accepts."""


class IndexOutOfRangeError(InvalidArgumentError, IndexError):
    """An index outside a tensor's shape (also an IndexError, as in NumPy and PyTorch)."""


class EinsumError(InvalidArgumentError):
    """A malformed einsum subscript string."""


class DTypeError(AutogradCNNError, TypeError):
    """An argument has a dtype the function does not accept."""


class GradientDTypeError(DTypeError):
    """Gradients were requested for an integer or boolean tensor."""


class ArgumentTypeError(AutogradCNNError, TypeError):
    """An argument has the wrong Python type."""


# ---- the tape ----------------------------------------------------------------------


class BackwardError(AutogradCNNError, RuntimeError):
    """Base class of errors raised while differentiating."""


class NoGradError(BackwardError):
    """backward() on a tensor that does not require grad (not part of a graph)."""


class NonScalarBackwardError(BackwardError):
    """backward() on a non-scalar tensor without an explicit ``gradient``."""


class GraphFreedError(BackwardError):
    """Backward through a graph whose saved buffers were freed by an earlier backward."""


class SavedTensorModifiedError(BackwardError):
    """A tensor saved for backward was modified in place after it was saved."""


class InplaceError(AutogradCNNError, RuntimeError):
    """An in-place change the tape could not record correctly."""


class UnusedInputError(BackwardError):
    """An input of ``gradients`` is not part of the graph and allow_unused is False."""


class RegistryError(AutogradCNNError, RuntimeError):
    """A primitive is missing a piece (VJP, shape rule...) or registered twice."""


# ---- graphs: tracing, replay, graph files -------------------------------------------


class TraceError(AutogradCNNError, RuntimeError):
    """A function cannot be traced to a graph: Python control flow or a conversion on a
    traced tensor's value, a non-tensor output, or a value computed outside the ops."""


class ReplayError(AutogradCNNError, ValueError):
    """A graph was called with inputs whose number, shapes or dtypes it cannot take."""


class GraphFormatError(AutogradCNNError, ValueError):
    """A saved graph file is truncated, garbled, hostile, or not a graph file."""


class CompileError(AutogradCNNError, RuntimeError):
    """``ac.compile`` cannot compile a function (and ``fallback`` was not requested)."""


class ExportError(AutogradCNNError, RuntimeError):
    """A graph cannot be exported (e.g. a primitive without an ONNX mapping)."""


class OnnxImportError(AutogradCNNError, ValueError):
    """An ONNX model cannot be imported (unknown op, bad file, unsafe external data)."""


# ---- data --------------------------------------------------------------------------


class DataFileNotFoundError(AutogradCNNError, FileNotFoundError):
    """A data file (MNIST IDX files, a checkpoint...) is not where it was looked for."""


class CorruptDataError(AutogradCNNError, ValueError):
    """A data file exists but its contents are malformed (bad magic, truncated...)."""


# ---- modules, optimizers, checkpoints (nn, optim, serialization) -------------------


class StateDictError(AutogradCNNError, RuntimeError):
    """load_state_dict(): missing or unexpected keys, or a tensor of the wrong shape."""


class ModuleError(AutogradCNNError, RuntimeError):
    """A module used wrongly (meta parameters outside meta mode, bad registration...)."""


class LayerInputError(ShapeError):
    """A layer got an input it cannot take (wrong channels/features); names the layer."""


class CheckpointError(AutogradCNNError, ValueError):
    """A checkpoint file that is corrupt, truncated, hostile (pickled objects) or not ours."""


# ---- convolution family (ops/conv.py, signal.py) ------------------------------------


class ConvShapeError(ShapeError):
    """Convolution input/weight shapes that cannot work (ndim, spatial sizes)."""


class ChannelMismatchError(ConvShapeError):
    """The input's channels disagree with the weight's (in_channels = groups * weight C)."""


class KernelTooLargeError(ConvShapeError):
    """The (dilated) kernel is larger than the padded input: the output would be empty."""


class OutputTooLargeError(InvalidArgumentError):
    """An op's output would exceed the configured element cap; refused before allocating."""


# ---- graph rendering (viz) ---------------------------------------------------------


class GraphvizNotFoundError(AutogradCNNError, RuntimeError):
    """The system Graphviz ``dot`` program is missing; the DOT text is still available."""


class GraphvizRenderError(AutogradCNNError, RuntimeError):
    """Graphviz ``dot`` ran but failed to lay out or write the graph."""


# ---- pooling, resampling, normalization ----------------------------------------------


class PoolShapeError(ShapeError):
    """Pooling/resampling shapes that cannot work: wrong input ndim, a window larger than
    the padded input, or an output size below 1."""


class PoolIndicesError(ShapeError):
    """Indices for max_unpool (or a pooling scatter) of the wrong shape or out of range."""


class InterpolateError(InvalidArgumentError):
    """interpolate(): unknown mode, or size and scale_factor both given or both missing."""


# ---- PyTorch compatibility (devices, mixed precision) --------------------------------


class DeviceUnavailableError(AutogradCNNError, RuntimeError):
    """A tensor or module was asked to live on a device other than the CPU (CUDA, MPS...):
    autograd_cnn computes on the CPU only."""


class OptionalDependencyError(AutogradCNNError, ImportError):
    """A feature needs a package that is not installed (Pillow or matplotlib for
    ``save_image``); the message says which."""


# ---- compile ---------------------------------------------------------------------------


class CompileFallbackWarning(UserWarning):
    """``ac.compile(..., fallback=True)`` could not compile a call and runs it eagerly."""
