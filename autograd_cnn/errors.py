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
