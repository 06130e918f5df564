"""The confusion matrix of a classifier, counted and drawn."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidArgumentError
from .base import MISTAKE, as_labels, finish, new_figure, styled


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as ``j``.

    Parameters
    ----------
    y_true, y_pred : array_like of int ``(N,)`` or Tensor
        Class indices in ``[0, num_classes)``.
    num_classes : int, optional
        Default: one more than the largest label seen.

    Returns
    -------
    ndarray of int64 ``(num_classes, num_classes)``
        Rows are true classes, columns predictions (scikit-learn's convention); the
        diagonal holds the correct predictions.
    """
    t, p = as_labels(y_true, "y_true"), as_labels(y_pred, "y_pred")
    if len(t) != len(p):
        raise InvalidArgumentError(f"y_pred: expected {len(t)} labels like y_true, got {len(p)}")
    seen = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if num_classes is None:
        num_classes = max(seen, 1)
    elif isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 1:
        raise InvalidArgumentError(f"num_classes: expected a positive int, got {num_classes!r}")
    num_classes = int(num_classes)
    if len(t) and (min(t.min(), p.min()) < 0 or seen > num_classes):
        raise InvalidArgumentError(
            f"y_true, y_pred: expected labels in [0, {num_classes}), got values in "
            f"[{int(min(t.min(), p.min()))}, {seen - 1}]")
    out = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(out, (t, p), 1)
    return out


@styled
def plot_confusion_matrix(y_true, y_pred, path=None, *, num_classes: int | None = None,
                          class_names: Sequence[str] | None = None, title: str | None = None,
                          formats: Sequence[str] | None = None):
    """The confusion matrix as a heat map with the counts written in; nonzero
    off-diagonal counts (the mistakes) in red.

    Parameters
    ----------
    y_true, y_pred : array_like of int ``(N,)`` or Tensor
    path : str or PathLike, optional
        Write the figure here (see :func:`save_figure`).
    num_classes : int, optional
    class_names : sequence of str, optional
        Tick labels (default: the class indices).
    title : str, optional
        Default: the accuracy.
    formats : sequence of {"png", "svg", "pdf"}, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    k = cm.shape[0]
    if class_names is not None and len(class_names) != k:
        raise InvalidArgumentError(f"class_names: expected {k} names, got {len(class_names)}")
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    size = min(9.0, 1.6 + 0.42 * k)
    fig = new_figure(size + 1.0, size)
    ax = fig.subplots()
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=max(1, int(cm.max())))
    ax.set_xticks(range(k), names, rotation=90 if max(map(len, names)) > 2 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    for s in ax.spines.values():
        s.set_visible(False)
    if k <= 30:
        half = cm.max() / 2
        for i in range(k):
            for j in range(k):
                v = int(cm[i, j])
                if v == 0:
                    continue
                color = MISTAKE if i != j else ("white" if v > half else "black")
                ax.text(j, i, str(v), ha="center", va="center", fontsize=8, color=color,
                        fontweight="bold" if i != j else "normal")
    fig.colorbar(im, ax=ax, shrink=0.85, pad=0.02).set_label("images")
    n = int(cm.sum())
    acc = np.trace(cm) / n if n else float("nan")
    fig.suptitle(title or f"confusion matrix: {n} images, {100 * acc:.1f}% on the diagonal, "
                          f"{n - int(np.trace(cm))} off it")
    finish(fig, path, formats)
    return fig
