"""autograd_cnn.plotting (matplotlib figures) and autograd_cnn.attribution.saliency."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_cnn as ac
from autograd_cnn import plotting
from autograd_cnn.attribution import saliency
from autograd_cnn.errors import ArgumentTypeError, InvalidArgumentError, ShapeError

mpl_image = pytest.importorskip("matplotlib.image")
from matplotlib.colors import to_rgb  # noqa: E402


def pixels(fig) -> np.ndarray:
    """The figure rendered by Agg: (H, W, 3) floats in [0, 1]."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255.0


def pixel_at(fig, ax, x, y) -> np.ndarray:
    """Colour of the rendered pixel at data coordinates (x, y) of ``ax``."""
    img = pixels(fig)
    px, py = ax.transData.transform((x, y))
    return img[img.shape[0] - int(round(py)), int(round(px))]


def history(n=7):
    return [{"epoch": e, "train_loss": 2.0 / e ** 2, "val_loss": 2.2 / e ** 2,
             "train_acc": 1 - 0.5 / e, "val_acc": None if e == 2 else 1 - 0.6 / e}
            for e in range(1, n + 1)]


# ---- curves ------------------------------------------------------------------------------


def test_plot_curves_two_panels_best_epoch_marked_and_files(tmp_path):
    fig = plotting.plot_curves(history(), tmp_path / "c", best_epoch=5,
                               formats=("png", "svg"))
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_yscale() == "log"                 # the loss spans 2 .. 0.04
    assert acc_ax.get_ylabel() == "accuracy (%)"
    for ax in (loss_ax, acc_ax):
        train = next(ln for ln in ax.lines if ln.get_label() == "train")
        assert to_rgb(train.get_color()) == to_rgb(plotting.PALETTE[0])
        vlines = [ln for ln in ax.lines if list(ln.get_xdata()) == [5, 5]]
        assert len(vlines) == 1                           # the dashed best-epoch line
        assert any(ln.get_label() == "best epoch 5" for ln in ax.lines)
    val = next(ln for ln in acc_ax.lines if ln.get_label() == "validation")
    assert list(val.get_xdata()) == [1, 3, 4, 5, 6, 7]   # the None is skipped
    np.testing.assert_allclose(val.get_ydata()[0], 40.0)  # accuracy in percent
    png = mpl_image.imread(fig.saved["png"])
    assert png.shape[1] > 800 and png.std() > 0.05
    assert "<svg" in open(fig.saved["svg"]).read(2000)


def test_plot_curves_best_epoch_from_history_attribute_and_single_epoch():
    from autograd_cnn.train import History

    h = History(history(1))
    h.best_epoch = 1
    fig = plotting.plot_curves(h)
    assert any(ln.get_label() == "best epoch 1" for ln in fig.axes[0].lines)


def test_plot_curves_errors(tmp_path):
    with pytest.raises(InvalidArgumentError, match="history"):
        plotting.plot_curves([])
    with pytest.raises(InvalidArgumentError, match="no record has"):
        plotting.plot_curves([{"epoch": 1}])
    with pytest.raises(InvalidArgumentError, match="extension"):
        plotting.plot_curves(history(), tmp_path / "c.jpg")


# ---- saving --------------------------------------------------------------------------------


def test_save_figure_formats_and_reproducible_bytes(tmp_path):
    fig = plotting.image_grid(np.random.default_rng(0).random((3, 5, 5)))
    a = plotting.save_figure(fig, tmp_path / "a", ("png", "svg", "pdf"))
    b = plotting.save_figure(fig, tmp_path / "b", ("png", "svg"))
    assert sorted(a) == ["pdf", "png", "svg"]
    for fmt in ("png", "svg"):                  # no timestamps: same figure, same bytes
        assert open(a[fmt], "rb").read() == open(b[fmt], "rb").read()
    assert open(a["png"], "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert open(a["pdf"], "rb").read(4) == b"%PDF"
    with pytest.raises(InvalidArgumentError, match="formats"):
        plotting.save_figure(fig, tmp_path / "c", ("gif",))
    with pytest.raises(ArgumentTypeError, match="Figure"):
        plotting.save_figure(np.zeros(3), tmp_path / "d.png")


# ---- filters -------------------------------------------------------------------------------


def test_filters_image_shared_symmetric_scale_colours_and_colorbar():
    w = np.zeros((4, 1, 3, 3))
    w[0, 0, 0, 0], w[1, 0, 1, 1], w[2, 0, 2, 2] = 2.0, -1.0, 0.5
    fig = plotting.filters_image(ac.tensor(w))
    ax, cbar = fig.axes                                   # the mosaic and its colour bar
    (im,) = ax.images
    assert im.get_clim() == (-2.0, 2.0)                   # one scale, symmetric about 0
    # Tiles sit one pixel apart, below a one-pixel row for their numbers.
    red = pixel_at(fig, ax, 0, 1)                         # w[0, 0, 0, 0] = +2: red
    blue = pixel_at(fig, ax, 4 + 1, 1 + 1)                # w[1, 0, 1, 1] = -1: blue
    pale = pixel_at(fig, ax, 8 + 2, 1 + 2)                # w[2, 0, 2, 2] = +0.5: pale red
    zero = pixel_at(fig, ax, 12 + 1, 1 + 1)               # all-zero filter: white
    assert red[0] > red[2] + 0.2 and red[0] > red[1] + 0.2       # dark red
    assert blue[2] > blue[0] + 0.3                                # blue
    assert pale[0] > pale[2] and pale.mean() > red.mean()         # lighter red
    np.testing.assert_allclose(zero, 1.0, atol=0.05)
    assert [t.get_text() for t in ax.texts] == ["#0", "#1", "#2", "#3"]
    assert cbar.get_ylabel() == "weight"


def test_filters_image_multichannel_layout_and_errors():
    fig = plotting.filters_image(np.random.default_rng(0).standard_normal((3, 2, 5, 5)))
    mosaic = fig.axes[0].images[0].get_array()
    assert mosaic.shape == (3 * 6, 2 * 6 - 1)             # a row per output channel
    with pytest.raises(ShapeError, match="C_out"):
        plotting.filters_image(np.zeros((3, 3)))


# ---- image grids and predictions -----------------------------------------------------------


def test_image_grid_tiles_labels_and_errors():
    imgs = np.random.default_rng(0).random((5, 1, 4, 4))
    fig = plotting.image_grid(imgs, ncols=3, labels=list("abcde"), highlight=[0, 1, 0, 0, 0])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 6 and len(visible) == 5
    assert [ax.get_title() for ax in visible] == list("abcde")
    assert to_rgb(visible[1].spines["top"].get_edgecolor()) == to_rgb(plotting.base.MISTAKE)
    np.testing.assert_array_equal(visible[2].images[0].get_array(), imgs[2, 0])
    assert plotting.image_grid(np.zeros((2, 3, 4, 4))).axes[0].images[0].get_array().shape \
        == (4, 4, 3)                                      # RGB tiles
    shared = plotting.image_grid(imgs, normalize="all", colorbar=True)
    clims = {ax.images[0].get_clim() for ax in shared.axes if ax.images}
    assert clims == {(imgs.min(), imgs.max())}
    with pytest.raises(InvalidArgumentError, match="cmap"):
        plotting.image_grid(np.zeros((1, 2, 2)), cmap="no-such-map")
    with pytest.raises(InvalidArgumentError, match="normalize"):
        plotting.image_grid(np.zeros((1, 2, 2)), normalize="some")
    with pytest.raises(InvalidArgumentError, match="labels"):
        plotting.image_grid(np.zeros((2, 2, 2)), labels=["x"])
    with pytest.raises(ShapeError, match="images"):
        plotting.image_grid(np.zeros((2, 2)))
    with pytest.raises(ShapeError, match="empty"):
        plotting.image_grid(np.zeros((0, 2, 2)))


def test_plot_predictions_marks_the_mistakes():
    imgs = np.random.default_rng(1).random((4, 8, 8))
    fig = plotting.plot_predictions(imgs, [1, 2, 3, 4], [1, 7, 3, 0], ncols=4)
    titles = [ax.title for ax in fig.axes]
    assert [t.get_text() for t in titles] == ["1", "7 (true 2)", "3", "0 (true 4)"]
    red = to_rgb(plotting.base.MISTAKE)
    assert [to_rgb(t.get_color()) == red for t in titles] == [False, True, False, True]
    assert "2 right, 2 wrong" in fig._suptitle.get_text()
    with pytest.raises(InvalidArgumentError, match="y_true, y_pred"):
        plotting.plot_predictions(imgs, [1, 2], [1, 2])


# ---- confusion matrix ----------------------------------------------------------------------


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=0, max_size=40))
def test_confusion_matrix_counts_every_pair(pairs):
    t = np.array([a for a, _ in pairs], np.int64)
    p = np.array([b for _, b in pairs], np.int64)
    cm = plotting.confusion_matrix(t, p, num_classes=5)
    assert cm.shape == (5, 5) and cm.sum() == len(pairs)
    for i in range(5):
        for j in range(5):
            assert cm[i, j] == sum(1 for a, b in pairs if (a, b) == (i, j))


def test_confusion_matrix_figure_and_errors():
    t, p = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0])
    fig = plotting.plot_confusion_matrix(t, p)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    texts = {(t_.get_position(), t_.get_text()): to_rgb(t_.get_color()) for t_ in ax.texts}
    assert len(texts) == 5                                 # the nonzero cells
    assert texts[((1, 0), "1")] == to_rgb(plotting.base.MISTAKE)     # true 0 -> pred 1
    assert texts[((2, 2), "2")] != to_rgb(plotting.base.MISTAKE)
    assert "6 images" in fig._suptitle.get_text()
    with pytest.raises(InvalidArgumentError, match="labels in"):
        plotting.confusion_matrix([0, 3], [0, 1], num_classes=3)
    with pytest.raises(InvalidArgumentError, match="y_pred"):
        plotting.confusion_matrix([0, 1], [0])
    with pytest.raises(InvalidArgumentError, match="integer class labels"):
        plotting.confusion_matrix([0.5], [0])


# ---- saliency --------------------------------------------------------------------------------


def _tiny_cnn():
    from autograd_cnn import nn

    ac.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(3 * 3 * 3, 4))
    for p in model.parameters():                           # float64 for finite differences
        p.data = p.data.astype(np.float64)
    return model.eval()


def test_saliency_is_the_input_gradient_of_the_chosen_logit():
    model = _tiny_cnn()
    x = np.random.default_rng(0).standard_normal((3, 1, 6, 6))
    g, target = saliency(model, x, abs=False)
    with ac.no_grad():
        logits = model(ac.tensor(x)).numpy()
    np.testing.assert_array_equal(target, logits.argmax(axis=1))
    assert g.shape == x.shape and g.dtype == x.dtype
    eps = 1e-6
    for i, (r, c) in ((0, (2, 3)), (1, (0, 0)), (2, (5, 4))):
        hi, lo = x.copy(), x.copy()
        hi[i, 0, r, c] += eps
        lo[i, 0, r, c] -= eps
        with ac.no_grad():
            fd = (model(ac.tensor(hi)).numpy()[i, target[i]]
                  - model(ac.tensor(lo)).numpy()[i, target[i]]) / (2 * eps)
        assert g[i, 0, r, c] == pytest.approx(fd, rel=1e-5, abs=1e-8)
    g1, t1 = saliency(model, ac.tensor(x), target=1)
    assert list(t1) == [1, 1, 1] and (g1 >= 0).all()
    assert all(p.grad is None for p in model.parameters())   # .grad untouched


def test_saliency_errors_and_figure():
    model = _tiny_cnn()
    x = np.zeros((2, 1, 6, 6))
    with pytest.raises(InvalidArgumentError, match="target"):
        saliency(model, x, target=9)
    with pytest.raises(ArgumentTypeError, match="model"):
        saliency("model", x)
    g, t = saliency(model, np.random.default_rng(2).standard_normal((2, 1, 6, 6)))
    fig = plotting.plot_saliency(x, g, labels=["a", "b"])
    assert len(fig.axes) == 5                              # 2 images, 2 maps, a colour bar
    assert fig.axes[2].images[0].get_clim() == (0, 1)      # maps scaled by their maximum
    with pytest.raises(ShapeError, match="saliency"):
        plotting.plot_saliency(x, np.zeros((2, 5, 5)))
