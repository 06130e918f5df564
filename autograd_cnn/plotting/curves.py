"""Training curves: loss and accuracy per epoch, with the best epoch marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InvalidArgumentError
from .base import PALETTE, finish, new_figure, styled

_SERIES = {"train_loss": ("train", PALETTE[0], "-"), "val_loss": ("validation", PALETTE[1], "-"),
           "train_acc": ("train", PALETTE[0], "-"), "val_acc": ("validation", PALETTE[1], "-")}


def _series(history, epochs, key, scale=1.0):
    pts = [(e, scale * float(r[key])) for e, r in zip(epochs, history, strict=True)
           if r.get(key) is not None]
    return tuple(np.array(v) for v in zip(*pts, strict=True)) if pts else None


@styled
def plot_curves(history: Sequence[Mapping], path=None, *, title: str = "training",
                best_epoch: int | None = None, formats: Sequence[str] | None = None):
    """Loss and accuracy per epoch (two panels side by side), the best epoch marked.

    Parameters
    ----------
    history : sequence of dict
        One record per epoch, as returned by :func:`autograd_cnn.train.fit`: an
        ``"epoch"`` key and any of ``train_loss``, ``val_loss``, ``train_acc``,
        ``val_acc`` (missing or None values are skipped).
    path : str or PathLike, optional
        Write the figure here (see :func:`save_figure`; with ``formats``, the stem).
    title : str
        Prefix of the panel titles.
    best_epoch : int, optional
        Epoch to mark with a dashed line and a dot on the validation (else train) curves;
        default ``history.best_epoch`` when ``history`` is a :class:`~autograd_cnn.train.History`.
    formats : sequence of {"png", "svg", "pdf"}, optional

    Returns
    -------
    matplotlib.figure.Figure
        Two axes (loss, accuracy in %); ``fig.saved`` lists written files when ``path``
        is given. The loss axis is logarithmic when the loss spans more than 20x.
    """
    if not history:
        raise InvalidArgumentError("history: expected at least one epoch record, got none")
    if not all(isinstance(r, Mapping) for r in history):
        raise InvalidArgumentError("history: expected a sequence of dicts (fit's records)")
    epochs = [r.get("epoch", i + 1) for i, r in enumerate(history)]
    if best_epoch is None:
        best_epoch = getattr(history, "best_epoch", None)
    panels = ((("train_loss", "val_loss"), "loss", 1.0), (("train_acc", "val_acc"),
                                                           "accuracy (%)", 100.0))
    found = {k: _series(history, epochs, k, s) for keys, _, s in panels for k in keys}
    if not any(v is not None for v in found.values()):
        raise InvalidArgumentError(
            "history: no record has train_loss, val_loss, train_acc or val_acc")
    from matplotlib.ticker import MaxNLocator

    fig = new_figure(8.6, 3.3)
    axes = fig.subplots(1, 2)
    marker = "o" if len(history) <= 30 else None
    for ax, (keys, ylabel, _) in zip(axes, panels, strict=True):
        for key in keys:
            s = found[key]
            if s is None:
                continue
            name, color, ls = _SERIES[key]
            ax.plot(s[0], s[1], ls, color=color, marker=marker, ms=3, lw=1.6, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title}: {ylabel.split(' ')[0]}")
        ax.grid(True)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        shown = [found[k] for k in keys if found[k] is not None]
        if not shown:
            ax.text(0.5, 0.5, "not recorded", transform=ax.transAxes, ha="center",
                    color="0.5")
            continue
        if ylabel == "loss":
            lo = min(float(s[1].min()) for s in shown)
            hi = max(float(s[1].max()) for s in shown)
            if lo > 0 and hi / lo > 20:
                ax.set_yscale("log")
        else:
            lo = min(float(s[1].min()) for s in shown)
            ax.set_ylim(max(0.0, 10 * np.floor(lo / 10) - 2), 101)
        if best_epoch is not None and best_epoch in epochs:
            ax.axvline(best_epoch, color="0.35", ls="--", lw=1)
            ref = found[keys[1]] if found[keys[1]] is not None else found[keys[0]]
            at = np.flatnonzero(ref[0] == best_epoch)
            if at.size:
                y = ref[1][at[0]]
                ax.plot([best_epoch], [y], "o", ms=8, mfc="none", mec="black", mew=1.5,
                        label=f"best epoch {best_epoch}")
        ax.legend(loc="upper right" if ylabel == "loss" else "lower right")
    finish(fig, path, formats)
    return fig
