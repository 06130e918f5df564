"""``torch.nn.functional`` under PyTorch's module path: the same functions as
:mod:`autograd_cnn.functional` (``import autograd_cnn.nn.functional as F``)."""

from ..functional import *  # noqa: F401,F403
from ..functional import __doc__ as _doc  # noqa: F401
