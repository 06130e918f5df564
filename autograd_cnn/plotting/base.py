"""The matplotlib plumbing every figure shares: a headless figure, one style, saving.

Figures are made with :class:`matplotlib.figure.Figure` attached to an Agg canvas
directly, never through ``pyplot``: no display is needed, no global figure list grows,
and the user's backend choice (``MPLBACKEND``, notebooks) is left alone.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ArgumentTypeError, InvalidArgumentError

FORMATS = ("png", "svg", "pdf")

# Colours of the curves: matplotlib's default cycle (tab10), named for the tests and legends.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
MISTAKE = "#d62728"      # wrong predictions, off-diagonal confusion counts
CORRECT = "#2ca02c"

STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.alpha": 0.35,
    "legend.frameon": False,
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "savefig.facecolor": "white",
    "image.interpolation": "nearest",
    "svg.fonttype": "path",          # self-contained SVG: no font needed where it is shown
    "svg.hashsalt": "autograd_cnn",  # stable element ids: the same run gives the same SVG
}


def styled(fn):
    """Run a figure-making function inside ``matplotlib.rc_context(STYLE)``."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return fn(*args, **kwargs)
    return wrapper


def new_figure(width: float, height: float, *, constrained: bool = True):
    """A headless :class:`~matplotlib.figure.Figure` of ``width x height`` inches on an Agg
    canvas (no display, no ``pyplot`` state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path, formats: Sequence[str] | None = None) -> dict[str, str]:
    """Write a figure to files.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or PathLike
        With ``formats=None``, the file to write; its extension (png, svg or pdf) is the
        format. With ``formats``, the stem: ``path.with_suffix("." + fmt)`` for each.
    formats : sequence of {"png", "svg", "pdf"}, optional

    Returns
    -------
    dict
        ``{format: written path}``.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise ArgumentTypeError(f"fig: expected a matplotlib Figure, got {type(fig).__name__}")
    path = Path(os.fspath(path))
    if formats is None:
        fmt = path.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise InvalidArgumentError(
                f"path: expected an extension among {FORMATS} (or pass formats=), got "
                f"{str(path)!r}")
        targets = {fmt: path}
    else:
        if isinstance(formats, str):
            formats = (formats,)
        bad = [f for f in formats if f not in FORMATS]
        if bad or not formats:
            raise InvalidArgumentError(
                f"formats: expected a non-empty sequence of {FORMATS}, got {formats!r}")
        targets = {f: path.with_suffix("." + f) for f in formats}
    path.parent.mkdir(parents=True, exist_ok=True)
    import matplotlib

    out = {}
    with matplotlib.rc_context(STYLE):
        for fmt, p in targets.items():
            # No timestamps or version strings: the same figure gives the same file.
            meta = {"Software": None} if fmt == "png" else (
                {"Date": None, "Creator": None} if fmt == "svg" else {"CreationDate": None})
            fig.savefig(p, format=fmt, metadata=meta)
            out[fmt] = str(p)
    return out


def finish(fig, path, formats) -> None:
    """Save ``fig`` when a ``path`` was given (see :func:`save_figure`)."""
    if path is not None:
        fig.saved = save_figure(fig, path, formats)


def as_array(x, name: str) -> np.ndarray:
    """A float64 NumPy array from an array-like or a Tensor (its data, detached)."""
    data = getattr(x, "data", x) if not isinstance(x, np.ndarray) else x
    try:
        return np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"{name}: expected an array or Tensor of numbers, got {type(x).__name__}") from None


def as_labels(x, name: str) -> np.ndarray:
    """Integer class labels ``(N,)`` from an array-like or a Tensor."""
    a = np.asarray(getattr(x, "data", x) if not isinstance(x, np.ndarray) else x)
    if a.ndim != 1:
        raise InvalidArgumentError(f"{name}: expected a 1-D sequence of class labels, got "
                                   f"shape {a.shape}")
    if a.size and (a.dtype.kind not in "iub" and not np.all(np.mod(a, 1) == 0)):
        raise InvalidArgumentError(f"{name}: expected integer class labels, got {a.dtype}")
    return a.astype(np.int64)


def grid_shape(n: int, ncols: int | None) -> tuple[int, int]:
    """Rows and columns for ``n`` tiles (about square when ``ncols`` is None)."""
    if ncols is not None and (isinstance(ncols, bool) or int(ncols) != ncols or ncols < 1):
        raise InvalidArgumentError(f"ncols: expected a positive int or None, got {ncols!r}")
    ncols = int(ncols) if ncols else int(np.ceil(np.sqrt(n)))
    ncols = max(1, min(ncols, n))
    return int(np.ceil(n / ncols)), ncols
