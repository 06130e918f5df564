"""``torch.utils``-style paths: :mod:`autograd_cnn.utils.data` (datasets and loaders)
and torchvision's image helpers :func:`make_grid` / :func:`save_image`."""

from . import data  # noqa: F401
from .image import make_grid, save_image  # noqa: F401
