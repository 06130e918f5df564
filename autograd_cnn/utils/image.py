"""Image grids (torchvision's ``make_grid`` / ``save_image``).

``save_image`` writes PNG/JPEG... through Pillow when it is installed, else through
matplotlib; with neither it raises :class:`~autograd_cnn.errors.OptionalDependencyError`.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..errors import InvalidArgumentError, OptionalDependencyError, ShapeError
from ..tensor import Tensor


def _as_batch(tensor) -> np.ndarray:
    if isinstance(tensor, (list, tuple)):
        tensor = np.stack([_as_array(t) for t in tensor])
    a = _as_array(tensor)
    if a.ndim == 2:
        a = a[None, None]
    elif a.ndim == 3:
        a = a[None]
    if a.ndim != 4:
        raise ShapeError(f"make_grid(): expected (B, C, H, W), (C, H, W) or (H, W), got shape "
                         f"{a.shape}")
    if a.shape[1] == 1:
        a = np.repeat(a, 3, axis=1)
    return a


def _as_array(t) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range=None, scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile a batch of images into one image, ``nrow`` per row (torchvision semantics).

    Parameters
    ----------
    tensor : Tensor or array (B, C, H, W), (C, H, W), (H, W), or a list of (C, H, W)
        One-channel images are repeated to three channels.
    nrow : int
        Images per row.
    padding : int
        Pixels between images (and around the grid), filled with ``pad_value``.
    normalize : bool
        Shift/scale to [0, 1] using ``value_range`` (min, max) or the data's range
        (per image with ``scale_each``).

    Returns
    -------
    Tensor, shape (3, rows * (H + padding) + padding, nrow * (W + padding) + padding)
    (a single image comes back unpadded, as torchvision does).
    """
    if isinstance(nrow, bool) or not isinstance(nrow, (int, np.integer)) or nrow < 1:
        raise InvalidArgumentError(f"make_grid(): nrow must be a positive int, got {nrow!r}")
    if not isinstance(padding, (int, np.integer)) or padding < 0:
        raise InvalidArgumentError(f"make_grid(): padding must be an int >= 0, got {padding!r}")
    a = _as_batch(tensor).astype(np.float32 if _as_array(tensor).dtype != np.float64
                                 else np.float64, copy=True)
    if normalize:
        def norm(x, lo, hi):
            x.clip(lo, hi, out=x)
            x -= lo
            x /= max(hi - lo, 1e-5)

        if scale_each:
            for img in a:
                norm(img, *(value_range or (img.min(), img.max())))
        else:
            norm(a, *(value_range or (a.min(), a.max())))
    b, c, h, w = a.shape
    if b == 1:
        return Tensor(a[0])
    cols = min(nrow, b)
    rows = math.ceil(b / cols)
    hh, ww = h + padding, w + padding
    grid = np.full((c, rows * hh + padding, cols * ww + padding), pad_value, dtype=a.dtype)
    for k in range(b):
        r, q = divmod(k, cols)
        grid[:, r * hh + padding:r * hh + padding + h, q * ww + padding:q * ww + padding + w] = a[k]
    return Tensor(grid)


def save_image(tensor, fp, format: str | None = None, **kwargs) -> None:  # noqa: A002
    """Write ``make_grid(tensor, **kwargs)`` as an image file (values in [0, 1] become
    0..255). The file's folder must exist.

    Parameters
    ----------
    tensor : Tensor or array, as :func:`make_grid` takes
    fp : str or os.PathLike
    format : str, optional
        Image format (else from the file extension).
    """
    grid = make_grid(tensor, **kwargs).data
    img = (np.clip(grid * 255 + 0.5, 0, 255)).astype(np.uint8).transpose(1, 2, 0)
    path = os.fspath(fp)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        from ..errors import DataFileNotFoundError

        raise DataFileNotFoundError(f"save_image(): folder {folder!r} does not exist")
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        Image.fromarray(img).save(path, format=format)
        return
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.image as mpimg
    except ImportError:
        raise OptionalDependencyError(
            "save_image(): writing images needs Pillow or matplotlib; install one "
            "(pip install pillow)") from None
    mpimg.imsave(path, img, format=format)
