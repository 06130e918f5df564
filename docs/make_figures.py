"""Regenerate the pictures of docs/visualization.md (docs/figures/*.svg).

    python docs/make_figures.py            # all figures whose pieces exist
    python docs/make_figures.py --check    # fail if a checked-in figure is missing

Every figure is drawn from a fixed seed, so re-running gives the same graphs. Figures
that need parts of the library not present yet (conv2d, nn modules, the model zoo) are
skipped with a message. Needs the Graphviz ``dot`` program.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import autograd_cnn as ac
from autograd_cnn import tape, viz

FIGURES = Path(__file__).resolve().parent / "figures"


class Skip(Exception):
    """A figure whose pieces are not available in this checkout."""


def expression():
    """loss = mean(-log_softmax(tanh(x @ w + b))[:, 0]), as in ``autograd-cnn demo``."""
    rng = np.random.default_rng(0)
    x = ac.tensor(rng.standard_normal((3, 4)))
    w = ac.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    b = ac.tensor(np.array([0.5, -0.5]), requires_grad=True)
    w.name, b.name = "w", "b"
    h = ac.tanh(x @ w + b)
    return (ac.log_softmax(h, dim=1)[:, 0] * -1).mean()


def fig_expression():
    yield "expression", viz.draw(expression(), title="forward: an expression")
    yield "expression_backward", viz.draw(
        expression(), backward="both", title="forward and backward (create_graph=True)")


def _lenet():
    try:
        from autograd_cnn.models import LeNet5
    except ImportError as e:
        raise Skip(f"LeNet5 not available ({e})") from None
    model = LeNet5()
    x = ac.randn(1, 1, 32, 32, seed=0)
    return model, model(x)


def fig_lenet5():
    model, out = _lenet()
    yield "lenet5_forward", viz.draw(out, params=model, title="LeNet-5 forward (1, 1, 32, 32)")
    model, out = _lenet()
    yield "lenet5_backward", viz.draw(out, params=model, backward=True,
                                      title="LeNet-5 backward (create_graph=True)")


def _residual_block():
    """A ResNet basic block: conv-bn-relu-conv-bn, plus the identity, then relu."""
    nn = ac.nn
    if "conv2d" not in ac.REGISTRY and "conv" not in ac.REGISTRY:
        raise Skip("conv2d is not registered yet")
    try:
        from autograd_cnn.models.resnet import BasicBlock  # the zoo's own, when present
        block = BasicBlock(8, 8)
    except (ImportError, TypeError):

        class BasicBlock(nn.Module):
            def __init__(self, channels):
                super().__init__()
                self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
                self.bn1 = nn.BatchNorm2d(channels)
                self.relu = nn.ReLU()
                self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
                self.bn2 = nn.BatchNorm2d(channels)

            def forward(self, x):
                out = self.relu(self.bn1(self.conv1(x)))
                out = self.bn2(self.conv2(out))
                return self.relu(out + x)

        block = BasicBlock(8)

    class Wrapper(nn.Module):  # so the block's own name shows as a cluster
        def __init__(self):
            super().__init__()
            self.block = block

        def forward(self, x):
            return self.block(x)

    model = Wrapper()
    # the block's input is an activation of an earlier layer: it requires grad
    x = ac.randn(2, 8, 8, 8, seed=0, requires_grad=True)
    return model, model(x)


def fig_residual():
    model, out = _residual_block()
    yield "residual_block", viz.draw(out, params=model, title="a residual block (forward)")
    yield "residual_block_backward", viz.draw(
        out, params=model, backward=True, title="a residual block (backward)")


def fig_resnet_collapsed():
    try:
        from autograd_cnn import models
    except ImportError as e:
        raise Skip(f"model zoo not available ({e})") from None
    factory = getattr(models, "resnet18", None) or getattr(models, "ResNet18", None)
    if factory is None:
        raise Skip("resnet18 not available")
    model = factory()
    out = model(ac.randn(2, 3, 32, 32, seed=0))
    yield "resnet18_collapsed", viz.draw(out, params=model, collapse="modules",
                                         title="ResNet-18, collapse='modules'")
    yield "resnet18_both_collapsed", viz.draw(
        out, params=model, collapse="modules", backward="both",
        title="ResNet-18 forward and backward, collapse='modules'")


def fig_autodiff():
    """The example of docs/autodiff.md: y = sum(exp(x * w))."""

    def build():
        x = ac.tensor(np.array([1.0, 2.0]), requires_grad=True)
        w = ac.tensor(np.array([0.5, -1.0]), requires_grad=True)
        x.name, w.name = "x", "w"
        return (x * w).exp().sum()

    yield "autodiff_forward", viz.draw(build(), title="y = sum(exp(x * w))")
    yield "autodiff_backward", viz.draw(build(), backward=True,
                                        title="the backward pass, recorded")


def fig_convolution():
    """docs/convolution.md: Toeplitz matrices and the conv family's backward graph."""
    from autograd_cnn import functional as F
    from autograd_cnn import plotting, signal

    h = ac.tensor(np.array([1.0, 2.0, 3.0]))
    H = signal.toeplitz(h, 6, mode="full").numpy()             # (8, 6)
    w = ac.tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3) / 9.0)
    M = signal.conv_matrix(w, (1, 4, 4), padding=1)            # (16, 16)
    plotting.image_grid(H[None], FIGURES / "toeplitz_1d.png", scale=24, cmap="Blues",
                        normalize="all", colorbar=True,
                        labels=[r"$H_6^h$ for h = (1, 2, 3): 8 x 6"])
    plotting.image_grid(np.asarray(M)[None], FIGURES / "conv_matrix_2d.png", scale=16,
                        cmap="Blues", normalize="all", colorbar=True,
                        labels=["conv2d 3x3 on 4x4, pad 1: 16 x 16"])
    print("wrote figures/toeplitz_1d.png, figures/conv_matrix_2d.png")

    x = ac.tensor(np.random.default_rng(0).standard_normal((1, 2, 6, 6)), requires_grad=True)
    k = ac.tensor(np.random.default_rng(1).standard_normal((3, 2, 3, 3)), requires_grad=True)
    x.name, k.name = "x", "weight"
    y = F.conv2d(x, k, stride=2, padding=1).sum()
    yield "conv2d_backward", viz.draw(y, backward="both",
                                      title="conv2d (stride 2) and its VJPs")


def fig_conv_lanes():
    """docs/compile.md: which vector register sums which output of a generated conv."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from autograd_cnn.kernels import conv_gen as G

    L = 16
    # LeNet-5's first conv (6 channels x 28 columns of one output row): width lanes
    starts = G._starts(28, L)
    kb, rb = G._width_blocks(6, 28, len(starts), 2, 28, 5)
    width = np.zeros((6, 28))
    for k in range(6):
        for v, st in enumerate(starts):  # the second vector overlaps the first
            width[k, st:st + L] = (k % kb) * len(starts) + v
    # its second (16 channels x 10 columns): channel lanes, one register per column
    channels = np.tile(np.arange(10.0), (16, 1))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), gridspec_kw={"width_ratios": [28, 12]})
    panels = [(width, f"width lanes (conv1): {kb * rb * len(starts)} registers,\n"
                      "16 columns each; the second starts at column 12"),
              (channels, "channel lanes (conv2): 10 registers,\n16 channels each")]
    for ax, (grid, title) in zip(axes, panels):
        ax.imshow(grid, cmap="tab20", vmin=0, vmax=19, aspect="equal")
        ax.set_xticks(np.arange(-0.5, grid.shape[1], 1), minor=True)
        ax.set_yticks(np.arange(-0.5, grid.shape[0], 1), minor=True)
        ax.grid(which="minor", color="white", linewidth=0.6)
        ax.tick_params(which="both", length=0)
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("output column")
        ax.set_ylabel("output channel")
        ax.set_title(title, fontsize=9)
    fig.suptitle("one output row of a generated conv: cells of one colour are one "
                 "register's lanes", fontsize=10)
    fig.tight_layout()
    fig.savefig(FIGURES / "conv_lanes.png", dpi=110)
    plt.close(fig)
    print("wrote figures/conv_lanes.png")
    return
    yield


def fig_pooling():
    """docs/pooling.md: the seeds' 4x4 max-pool example and its backward graph."""
    from autograd_cnn import functional as F

    x = ac.tensor(np.array([[3, 1, 3, 5], [6, 0, 7, 9], [3, 2, 1, 4], [0, 2, 4, 3]],
                           dtype=np.float64).reshape(1, 1, 4, 4), requires_grad=True)
    x.name = "x"
    y = F.max_pool2d(x, 2, stride=2).sum()
    yield "maxpool_backward", viz.draw(y, backward="both",
                                       title="max_pool2d 2x2/2 and its VJP (a scatter)")





def fig_graphs():
    """docs/graphs.md: LeNet-5 traced, its forward and simplified backward side by side."""
    import autograd_cnn.functional as F

    model = ac.models.LeNet5()
    spec = (ac.ShapeSpec((None, 1, 32, 32)), ac.ShapeSpec((None,), "int64"))

    def loss(x, t):
        return F.cross_entropy(model(x), t)

    def grads(x, t):
        return ac.gradients(loss(x, t), list(model.parameters()))

    fwd = ac.trace(loss, *spec, params=model).simplify()
    both = ac.trace(grads, *spec, params=model)
    yield "graph_lenet5_simplify", viz.side_by_side(
        [both, both.simplify()], ["traced forward + backward", "simplified"])
    yield "graph_lenet5_forward", viz.draw(fwd, title="LeNet-5 forward and loss (traced)")


ALL = [fig_autodiff, fig_convolution, fig_conv_lanes, fig_pooling, fig_expression,
       fig_lenet5, fig_residual, fig_resnet_collapsed, fig_graphs]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="regenerate docs/figures/*.svg")
    ap.add_argument("--out", type=Path, default=FIGURES)
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if a figure could not be produced")
    args = ap.parse_args(argv)
    if not viz.dot_available():
        print("make_figures: the Graphviz 'dot' program is required", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    skipped = 0
    for make in ALL:
        try:
            for name, graph in make():
                path = viz.render(graph, args.out / f"{name}.svg")
                print(f"wrote {path.relative_to(args.out.parent)} ({graph.info['nodes']} boxes)")
        except Skip as e:
            skipped += 1
            print(f"skipped {make.__name__}: {e}")
        finally:
            tape.STATE.scope = ()
    return 1 if (args.check and skipped) else 0


if __name__ == "__main__":
    raise SystemExit(main())
