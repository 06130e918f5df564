"""The demo's pictures: figures of the trained model (matplotlib) and its graphs (Graphviz).

Everything is drawn through the library's public API: :mod:`autograd_cnn.plotting` for
the figures, :func:`autograd_cnn.attribution.saliency` for the input gradients and
:mod:`autograd_cnn.viz` for the forward and backward graphs.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

FIGURE_FORMATS = ("png", "svg")
GRAPHVIZ_HINT = ("graphs: wrote the DOT sources; for pictures install Graphviz "
                 "(apt-get install graphviz, brew install graphviz or conda install graphviz) "
                 "and run the demo again, or: dot -Tsvg {path} -o graph.svg")


def predict(model, x: np.ndarray) -> np.ndarray:
    """Predicted classes ``(N,)`` of normalized images ``(N, 1, H, W)`` in eval mode."""
    import autograd_cnn as ac

    model.eval()
    with ac.no_grad():
        return model(ac.tensor(x)).numpy().argmax(axis=1)


def pick_samples(y_true: np.ndarray, y_pred: np.ndarray, n: int = 32) -> np.ndarray:
    """Indices of ``n`` test images to show: every mistake (up to half of ``n``), then
    the first correct ones, in test-set order within each group."""
    wrong = np.flatnonzero(y_true != y_pred)[: n // 2]
    right = np.flatnonzero(y_true == y_pred)[: n - len(wrong)]
    return np.concatenate([wrong, right]).astype(np.int64)


def one_per_class(y: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Index of the first image of each class present in ``y``."""
    return np.array([np.flatnonzero(y == c)[0] for c in range(num_classes) if (y == c).any()])


def write_figures(model, hist, x_test: np.ndarray, y_test: np.ndarray, norm, out_dir: str,
                  title: str = "LeNet digits") -> tuple[dict, dict]:
    """Curves, filters, confusion matrix, samples and saliency maps, as PNG and SVG.

    Parameters
    ----------
    model : Module
        The trained network (best weights restored).
    hist : History
        ``fit``'s records.
    x_test, y_test : ndarray
        Raw test images ``(N, 1, H, W)`` in [0, 1] and labels ``(N,)``.
    norm : callable
        The normalization the model was trained with.
    out_dir : str

    Returns
    -------
    files : dict
        ``{"curves": png path, "curves_svg": svg path, ...}``.
    results : dict
        ``confusion`` (a 10 x 10 list), ``per_class_accuracy`` and ``mistakes`` (test
        indices with true and predicted labels).
    """
    from . import plotting
    from .attribution import saliency
    from .plotting.base import MISTAKE

    files = {}

    def save(name, fig):
        written = plotting.save_figure(fig, os.path.join(out_dir, name), FIGURE_FORMATS)
        files[name] = written["png"]
        files[name + "_svg"] = written["svg"]

    xn = norm(x_test).astype(np.float32)
    pred = predict(model, xn)
    save("curves", plotting.plot_curves(hist, title=title))
    first_conv = next(m for m in model.modules() if type(m).__name__ == "Conv2d")
    w = first_conv.weight
    save("filters", plotting.filters_image(
        w, title=f"first convolution: {w.shape[0]} learned {w.shape[2]}x{w.shape[3]} filters "
                 "(one colour scale for all)"))
    cm = plotting.confusion_matrix(y_test, pred, 10)
    save("confusion", plotting.plot_confusion_matrix(y_test, pred, num_classes=10))
    idx = pick_samples(y_test, pred)
    save("samples", plotting.plot_predictions(x_test[idx], y_test[idx], pred[idx]))
    sel = one_per_class(y_test)
    grad, target = saliency(model, xn[sel])
    labels = [f"pred {p}" + ("" if p == t else f" (true {t})")
              for p, t in zip(target, y_test[sel], strict=True)]
    colors = ["black" if p == t else MISTAKE for p, t in zip(target, y_test[sel], strict=True)]
    save("saliency", plotting.plot_saliency(
        x_test[sel], grad, labels=labels, label_colors=colors,
        title="saliency: |d logit of the predicted class / d input pixel|, first test "
              "image of each class"))
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.diag(cm) / cm.sum(axis=1)
    wrong = np.flatnonzero(y_test != pred)
    results = {"confusion": cm.tolist(),
               "per_class_accuracy": [float(v) for v in per_class],
               "mistakes": [{"index": int(i), "true": int(y_test[i]), "pred": int(pred[i])}
                            for i in wrong]}
    return files, results


def write_graphs(model, x_batch, y_batch, loss_fn, out_dir: str, log: Callable) -> dict:
    """Forward and backward graphs of one small batch's loss: DOT sources always, SVG and
    PNG pictures when Graphviz ``dot`` is installed (else one line says how to get them).

    Returns ``{"forward_graph_dot": path, "forward_graph": svg path, ...}``.
    """
    import autograd_cnn as ac

    from . import viz

    files = {}
    params = dict(model.named_parameters())
    model.train()
    # The images require grad too: the backward graph then reaches the input, as the
    # saliency maps do (the first conv2d's input gradient is a conv_transpose2d).
    x = ac.tensor(np.asarray(x_batch.numpy()), requires_grad=True)
    loss = loss_fn(model(x), y_batch)
    have_dot = viz.dot_available()
    for kind, backward in (("forward", False), ("backward", True)):
        name = f"{kind}_graph"
        try:
            graph = viz.draw(loss, backward=backward, params=params,
                             title=f"LeNet-digits {kind} graph (a batch of "
                                   f"{x_batch.shape[0]} images)")
            files[name + "_dot"] = str(viz.render(graph, os.path.join(out_dir, name + ".dot")))
            if have_dot:
                files[name] = str(viz.render(graph, os.path.join(out_dir, name + ".svg")))
                files[name + "_png"] = str(viz.render(graph, os.path.join(out_dir,
                                                                          name + ".png")))
        except Exception as e:  # noqa: BLE001 - a drawing failure must not lose the run
            log(f"graphs: {kind} graph not drawn ({type(e).__name__}: {e})")
    if not have_dot and "forward_graph_dot" in files:
        log(GRAPHVIZ_HINT.format(path=files["forward_graph_dot"]))
    return files
