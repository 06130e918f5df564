"""Images as figures: grids of images, learned filters, predictions, saliency maps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidArgumentError, ShapeError
from .base import MISTAKE, as_array, as_labels, finish, grid_shape, new_figure, styled

DIVERGING = "RdBu_r"     # blue negative, white zero, red positive


def _images(images, name="images") -> np.ndarray:
    """``(N, H, W)`` gray or ``(N, H, W, 3)`` RGB from ``(N, H, W)``, ``(N, 1, H, W)`` or
    ``(N, 3, H, W)``."""
    a = as_array(images, name)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    elif a.ndim == 4 and a.shape[1] == 3:
        a = np.transpose(a, (0, 2, 3, 1))
    elif a.ndim != 3:
        raise ShapeError(f"{name}: expected (N, H, W), (N, 1, H, W) or (N, 3, H, W), got "
                         f"shape {a.shape}")
    if a.shape[0] == 0:
        raise ShapeError(f"{name}: expected at least one image, got an empty batch")
    if min(a.shape[1:3]) < 1:
        raise ShapeError(f"{name}: expected images of at least 1x1 pixels, got {a.shape}")
    return a


def _cmap(cmap: str):
    import matplotlib

    name = DIVERGING if cmap == "diverging" else cmap
    try:
        return matplotlib.colormaps[name]
    except KeyError:
        raise InvalidArgumentError(
            f"cmap: expected 'gray', 'diverging' or a matplotlib colormap name, got {cmap!r}"
        ) from None


def _limits(a: np.ndarray, normalize: str, diverging: bool):
    """Per-image (vmin, vmax) for 'each', one shared pair for 'all', fixed for 'none'."""
    if normalize not in ("each", "all", "none"):
        raise InvalidArgumentError(
            f"normalize: expected 'each', 'all' or 'none', got {normalize!r}")
    finite = np.where(np.isfinite(a), a, np.nan)
    axes = tuple(range(1, a.ndim))
    if normalize == "none":
        lo, hi = (-1.0, 1.0) if diverging else (0.0, 1.0)
        return np.full(len(a), lo), np.full(len(a), hi)
    if diverging:
        m = (np.nanmax(np.abs(finite), axis=axes) if normalize == "each"
             else np.full(len(a), np.nanmax(np.abs(finite))))
        m = np.where(np.isfinite(m) & (m > 0), m, 1.0)
        return -m, m
    if normalize == "each":
        lo, hi = np.nanmin(finite, axis=axes), np.nanmax(finite, axis=axes)
    else:
        lo, hi = np.full(len(a), np.nanmin(finite)), np.full(len(a), np.nanmax(finite))
    lo, hi = np.nan_to_num(lo), np.nan_to_num(hi, nan=1.0)
    return lo, np.where(hi > lo, hi, lo + 1.0)


def _frame(ax, color, width=2.5):
    for s in ax.spines.values():
        s.set_visible(True)
        s.set_color(color)
        s.set_linewidth(width)


def _bare(ax, frame: str | None = None):
    """No ticks; no frame, or a thin one of colour ``frame``."""
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(frame is not None)
        if frame is not None:
            s.set_color(frame)
            s.set_linewidth(0.6)


@styled
def image_grid(images, path=None, *, ncols: int | None = None,
               labels: Sequence[str] | None = None, cmap: str = "gray",
               normalize: str = "each", title: str | None = None, scale: int | None = None,
               label_colors: Sequence[str] | None = None, highlight=None,
               colorbar: bool = False, formats: Sequence[str] | None = None):
    """A batch of images as a grid of tiles, optionally captioned and written to a file.

    Parameters
    ----------
    images : array_like or Tensor
        ``(N, H, W)``, ``(N, 1, H, W)`` (gray) or ``(N, 3, H, W)`` (RGB).
    path : str or PathLike, optional
        Write the figure here (see :func:`save_figure`).
    ncols : int, optional
        Tiles per row (default: about square).
    labels : sequence of str, optional
        A caption above each tile.
    cmap : str
        "gray", "diverging" (blue-white-red, symmetric about 0, for signed values) or any
        matplotlib colormap name. Ignored for RGB images.
    normalize : {"each", "all", "none"}
        Colour scale per image, shared by the batch, or fixed ([0, 1], or [-1, 1] for
        "diverging").
    title : str, optional
    scale : int, optional
        Screen pixels per image pixel (default: tiles at least about 90 pixels wide).
    label_colors : sequence of str, optional
        A colour per caption.
    highlight : array_like of bool ``(N,)``, optional
        Tiles to frame in red (mistakes, outliers).
    colorbar : bool
        Add a colour bar (meaningful with a shared scale: ``normalize`` "all" or "none").
    formats : sequence of {"png", "svg", "pdf"}, optional

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.saved`` lists the written files when ``path`` is given.
    """
    a = _images(images)
    n, h, w = a.shape[:3]
    rgb = a.ndim == 4
    if labels is not None and len(labels) != n:
        raise InvalidArgumentError(f"labels: expected {n} captions (one per image), got "
                                   f"{len(labels)}")
    if label_colors is not None and len(label_colors) != n:
        raise InvalidArgumentError(f"label_colors: expected {n} colours, got "
                                   f"{len(label_colors)}")
    hl = np.zeros(n, bool) if highlight is None else np.asarray(highlight, bool).reshape(-1)
    if hl.shape != (n,):
        raise InvalidArgumentError(f"highlight: expected {n} flags, got shape {hl.shape}")
    cm = None if rgb else _cmap(cmap)
    diverging = cmap == "diverging"
    if rgb:
        lo, hi = _limits(a, normalize, False)
        shape = (-1, 1, 1, 1)
        a = np.clip((a - lo.reshape(shape)) / (hi - lo).reshape(shape), 0, 1)
    else:
        lo, hi = _limits(a, normalize, diverging)
    rows, cols = grid_shape(n, ncols)
    dpi = 110
    if scale is None:
        scale = max(1, int(np.ceil(90 / max(h, w))))
    elif isinstance(scale, bool) or int(scale) != scale or scale < 1:
        raise InvalidArgumentError(f"scale: expected a positive int, got {scale!r}")
    tw, th = w * scale / dpi, h * scale / dpi
    cap = 0.2 if labels is not None else 0.04
    fig_w = cols * (tw + 0.08) + 0.2 + (0.7 if colorbar else 0)
    fig_h = rows * (th + cap + 0.06) + 0.15 + (0.3 if title else 0)
    fig = new_figure(max(fig_w, 1.5), fig_h)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    im = None
    for k, ax in enumerate(axes):
        _bare(ax, "0.75")
        if k >= n:
            ax.set_visible(False)
            continue
        if rgb:
            ax.imshow(a[k])
        else:
            im = ax.imshow(a[k], cmap=cm, vmin=lo[k], vmax=hi[k])
        if labels is not None:
            ax.set_title(str(labels[k]), fontsize=8, pad=2,
                         color=label_colors[k] if label_colors is not None else "black")
        if hl[k]:
            _frame(ax, MISTAKE)
    if colorbar and im is not None:
        fig.colorbar(im, ax=list(axes[:n]), shrink=0.8, pad=0.02)
    if title:
        fig.suptitle(title)
    finish(fig, path, formats)
    return fig


@styled
def filters_image(weight, path=None, *, ncols: int | None = None, title: str | None = None,
                  max_tiles: int = 256, formats: Sequence[str] | None = None):
    """Conv filters ``(C_out, C_in, kh, kw)`` as tiles on one shared diverging colour scale.

    Blue is negative, white zero, red positive; the scale is symmetric about zero and the
    same for every tile (so strengths compare across filters), with a colour bar. One tile
    per (output, input) channel pair: single-input-channel filters are laid out 8 per row,
    otherwise one row per output channel.

    Parameters
    ----------
    weight : array_like or Tensor
        ``(C_out, C_in, kh, kw)``, e.g. ``conv.weight``.
    path : str or PathLike, optional
        Write the figure here (see :func:`save_figure`).
    ncols : int, optional
        Tiles per row for single-input-channel filters (default ``min(C_out, 8)``).
    title : str, optional
    max_tiles : int
        Draw at most this many tiles (the first output channels), saying so in the title.
    formats : sequence of {"png", "svg", "pdf"}, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    w = as_array(weight, "weight")
    if w.ndim != 4:
        raise ShapeError(f"weight: expected (C_out, C_in, kh, kw), got shape {w.shape}")
    c_out, c_in, kh, kw = w.shape
    if w.size == 0:
        raise ShapeError(f"weight: expected at least one filter, got shape {w.shape}")
    shown = max(1, min(c_out, max_tiles // max(c_in, 1)))
    tiles = w[:shown].reshape(shown * c_in, kh, kw)
    if c_in == 1:
        rows, cols = grid_shape(shown, ncols or min(shown, 8))
    else:
        rows, cols = shown, c_in
    # One image: tiles separated by one NaN pixel (drawn light gray), with a NaN row above
    # each row of tiles for their numbers, so a single imshow and one colour bar serve
    # any number of filters.
    mosaic = np.full((rows * (kh + 1), cols * (kw + 1) - 1), np.nan)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        top = r * (kh + 1) + 1
        mosaic[top:top + kh, c * (kw + 1):c * (kw + 1) + kw] = t
    vmax = float(np.nanmax(np.abs(mosaic))) if np.isfinite(mosaic).any() else 1.0
    vmax = vmax if vmax > 0 else 1.0
    cm = _cmap("diverging").with_extremes(bad="white")
    tile_in = max(0.55, min(1.1, 9.0 / cols))            # inches per tile
    fig = new_figure(cols * tile_in + 1.3, rows * tile_in * (kh + 1) / kh + 0.5)
    ax = fig.subplots()
    im = ax.imshow(mosaic, cmap=cm, vmin=-vmax, vmax=vmax)
    _bare(ax)
    for k in range(len(tiles)):
        r, c = divmod(k, cols)
        name = f"#{k}" if c_in == 1 else f"{r}.{c}"
        ax.text(c * (kw + 1) + (kw - 1) / 2, r * (kh + 1), name, fontsize=8,
                va="center", ha="center", color="0.2")
    if c_in > 1:
        ax.set_xlabel("input channel")
        ax.set_ylabel("output channel")
    cb = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.02)
    cb.set_label("weight")
    more = f" (first {shown} of {c_out})" if shown < c_out else ""
    fig.suptitle(title or f"{c_out} filters {kh}x{kw}, {c_in} input channel(s){more}")
    finish(fig, path, formats)
    return fig


def _caption(t: int, p: int, names) -> str:
    def nm(i):
        return str(names[i]) if names is not None else str(i)

    return f"{nm(p)}" if p == t else f"{nm(p)} (true {nm(t)})"


@styled
def plot_predictions(images, y_true, y_pred, path=None, *, ncols: int = 8,
                     class_names: Sequence[str] | None = None, title: str | None = None,
                     formats: Sequence[str] | None = None):
    """Images captioned with their predicted label; mistakes framed and captioned in red
    with the true label.

    Parameters
    ----------
    images : array_like or Tensor
        ``(N, H, W)``, ``(N, 1, H, W)`` or ``(N, 3, H, W)``.
    y_true, y_pred : array_like of int ``(N,)``
    path : str or PathLike, optional
    ncols : int
    class_names : sequence of str, optional
        Names for the class indices.
    title : str, optional
        Default: how many of the shown images are right.
    formats : sequence of {"png", "svg", "pdf"}, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    a = _images(images)
    t, p = as_labels(y_true, "y_true"), as_labels(y_pred, "y_pred")
    if not (len(t) == len(p) == len(a)):
        raise InvalidArgumentError(f"y_true, y_pred: expected {len(a)} labels each (one per "
                                   f"image), got {len(t)} and {len(p)}")
    wrong = t != p
    labels = [_caption(int(ti), int(pi), class_names) for ti, pi in zip(t, p, strict=True)]
    colors = [MISTAKE if x else "black" for x in wrong]
    title = title or (f"{len(a)} test images: {int((~wrong).sum())} right, "
                      f"{int(wrong.sum())} wrong (framed red, true label in brackets)")
    return image_grid(a, path, ncols=ncols, labels=labels, label_colors=colors,
                      highlight=wrong, title=title, formats=formats)


@styled
def plot_saliency(images, saliency, path=None, *, labels: Sequence[str] | None = None,
                  label_colors: Sequence[str] | None = None, title: str | None = None,
                  cmap: str = "inferno", formats: Sequence[str] | None = None):
    """Each image with its saliency map beneath it (see :func:`autograd_cnn.attribution.saliency`).

    Parameters
    ----------
    images : array_like or Tensor
        ``(N, H, W)``, ``(N, 1, H, W)`` or ``(N, 3, H, W)``.
    saliency : array_like or Tensor
        The same leading shape; channels are reduced by their largest absolute value.
        Each map is scaled by its own maximum (the colour bar reads "relative").
    path : str or PathLike, optional
    labels, label_colors : sequence of str, optional
        A caption (and its colour) per image.
    title : str, optional
    cmap : str
        Colormap of the maps.
    formats : sequence of {"png", "svg", "pdf"}, optional

    Returns
    -------
    matplotlib.figure.Figure
        Two rows of axes per row of images: the images, then their maps.
    """
    a = _images(images)
    s = as_array(saliency, "saliency")
    if s.ndim == 4:
        s = np.abs(s).max(axis=1)
    s = np.abs(s)
    if s.shape != a.shape[:3]:
        raise ShapeError(f"saliency: expected maps of shape {a.shape[:3]} (N, H, W) to match "
                         f"the images, got {np.shape(s)}")
    n = len(a)
    if labels is not None and len(labels) != n:
        raise InvalidArgumentError(f"labels: expected {n} captions, got {len(labels)}")
    m = s.reshape(n, -1).max(axis=1).reshape(n, 1, 1)
    s = s / np.where(m > 0, m, 1.0)
    cols = min(n, 10)
    rows = int(np.ceil(n / cols))
    fig = new_figure(cols * 0.95 + 1.0, rows * 2.0 + 0.45)
    grid = fig.subplots(2 * rows, cols, squeeze=False)
    lo, hi = _limits(a, "each", False)
    cm = _cmap(cmap)
    im = None
    for k in range(rows * cols):
        r, c = divmod(k, cols)
        top, bottom = grid[2 * r, c], grid[2 * r + 1, c]
        _bare(top)
        _bare(bottom)
        if k >= n:
            top.set_visible(False)
            bottom.set_visible(False)
            continue
        if a.ndim == 4:
            top.imshow(np.clip((a[k] - lo[k]) / (hi[k] - lo[k]), 0, 1))
        else:
            top.imshow(a[k], cmap="gray", vmin=lo[k], vmax=hi[k])
        im = bottom.imshow(s[k], cmap=cm, vmin=0, vmax=1)
        if labels is not None:
            color = label_colors[k] if label_colors is not None else "black"
            top.set_title(str(labels[k]), fontsize=8, pad=2, color=color)
        if c == 0:
            top.set_ylabel("image", fontsize=8)
            bottom.set_ylabel("saliency", fontsize=8)
    if im is not None:
        cb = fig.colorbar(im, ax=grid[1::2, :].ravel().tolist(), shrink=0.9, pad=0.02)
        cb.set_label("relative |gradient|", fontsize=8)
    fig.suptitle(title or "saliency: |d logit of the predicted class / d pixel|")
    finish(fig, path, formats)
    return fig

