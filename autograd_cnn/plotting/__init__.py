"""Figures of a training run with matplotlib: curves, filters, images, predictions,
confusion matrices, saliency maps.

Every function returns a :class:`matplotlib.figure.Figure` made on the Agg canvas (no
display, no ``pyplot`` state, the user's backend untouched) and, given a ``path``,
writes it (PNG, SVG or PDF by the extension, or several with ``formats=("png",
"svg")``; the written files are in ``fig.saved``).

Functions
---------
- :func:`plot_curves`: loss and accuracy per epoch from ``fit``'s history, best epoch marked.
- :func:`filters_image`: conv weights ``(C_out, C_in, kh, kw)`` on one diverging scale.
- :func:`image_grid`: a batch of images ``(N, C, H, W)`` or ``(N, H, W)`` as a grid.
- :func:`plot_predictions`: images with predicted labels, mistakes framed in red.
- :func:`plot_confusion_matrix` / :func:`confusion_matrix`: counts of true vs predicted.
- :func:`plot_saliency`: images beside their saliency maps.
- :func:`save_figure`: write a figure in one or more formats.

>>> import numpy as np
>>> from autograd_cnn import plotting
>>> fig = plotting.image_grid(np.random.default_rng(0).random((4, 8, 8)), ncols=2)
>>> len([ax for ax in fig.axes if ax.get_visible()])
4
"""

from .base import FORMATS, PALETTE, STYLE, new_figure, save_figure
from .confusion import confusion_matrix, plot_confusion_matrix
from .curves import plot_curves
from .images import filters_image, image_grid, plot_predictions, plot_saliency

__all__ = [
    "FORMATS",
    "PALETTE",
    "STYLE",
    "confusion_matrix",
    "filters_image",
    "image_grid",
    "new_figure",
    "plot_confusion_matrix",
    "plot_curves",
    "plot_predictions",
    "plot_saliency",
    "save_figure",
]
