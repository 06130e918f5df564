"""Draw the backward graph of a small convolution + pooling + linear model.

Runs in a couple of seconds:

    python examples/02_backward_graph.py --out graphs/

It records the forward pass, then asks ``viz.draw(loss, backward=...)`` for the graph of
the gradient computation. The VJPs run with ``create_graph=True``, so every op they apply
is recorded, and the picture shows what autodiff really does: the input-gradient of
``conv2d`` is a transposed convolution, that of ``max_pool2d`` a scatter to the argmax
positions, that of ``matmul`` two more matmuls with transposes. It writes SVGs when the
Graphviz ``dot`` program is installed, DOT text otherwise, and prints, for every forward
op, which ops its VJP used.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

import autograd_cnn as ac
from autograd_cnn import tape, viz


def build_loss():
    """A tiny CNN written with the functional API (scopes name the 'modules')."""
    rng = np.random.default_rng(0)
    # the input requires grad (as for a saliency map), so the conv's input-gradient is
    # computed too: a transposed convolution
    x = ac.tensor(rng.standard_normal((2, 1, 8, 8)).astype(np.float32), requires_grad=True)
    labels = np.array([1, 0])
    F = ac.functional
    have_conv = hasattr(F, "conv2d")

    params = {}

    def param(name, *shape):
        t = ac.tensor((rng.standard_normal(shape) * 0.3).astype(np.float32),
                      requires_grad=True)
        t.name = name
        params[name] = t
        return t

    h = x
    if have_conv:
        with tape.scope("conv"):
            h = F.conv2d(h, param("conv.weight", 3, 1, 3, 3), param("conv.bias", 3),
                         padding=1)
        with tape.scope("act"):
            h = ac.relu(h)
        if hasattr(F, "max_pool2d"):
            with tape.scope("pool"):
                h = F.max_pool2d(h, 2)
    h = h.reshape(h.shape[0], -1)
    with tape.scope("fc"):
        logits = h @ param("fc.weight", h.shape[1], 2) + param("fc.bias", 2)
    loss = -(ac.log_softmax(logits, dim=1)[np.arange(2), labels]).mean()
    return loss, x, params


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="graphs", help="output directory (default: graphs)")
    args = ap.parse_args(argv)
    out = Path(args.out)

    loss, x, params = build_loss()
    fmt = "svg" if viz.dot_available() else "dot"
    if fmt == "dot":
        print("Graphviz 'dot' not found: writing DOT text instead of SVG")

    forward = viz.draw(loss, params=params)
    backward = viz.draw(loss, params=params, backward=True)
    both = viz.draw(loss, params=params, backward="both", rankdir="TB")
    for name, g in (("forward", forward), ("backward", backward), ("both", both)):
        path = viz.render(g, out / f"small_cnn_{name}.{fmt}")
        print(f"{name:>8}: {g.info['nodes']:3d} boxes -> {path}")

    # which ops did each VJP use? (read from the recorded backward nodes' grad_of)
    # (a seed that requires grad makes every VJP record, even those of constant masks)
    seed = ac.tensor(np.ones((), dtype=np.float32), requires_grad=True)
    grads = ac.gradients(loss, [x, *params.values()], grad_outputs=seed, create_graph=True)
    used = defaultdict(list)
    stack, seen = [g._node for g in grads if g._node is not None], set()
    while stack:  # walk the recorded backward graph
        node = stack.pop()
        if id(node) in seen or node.grad_of is None:
            continue
        seen.add(id(node))
        used[viz.op_label(node.grad_of)].append(viz.op_label(node))
        stack += node.parents()
    print("\nforward op      -> ops recorded by its VJP")
    for fwd, ops in used.items():
        print(f"  {fwd:<14}-> {', '.join(sorted(set(ops)))}")

    # gradient statistics after a real backward: norms per node, NaN/Inf in red
    with viz.GradStats() as stats:
        loss.backward()
    path = viz.render(viz.draw(loss, params=params, grads=stats), out / f"small_cnn_grads.{fmt}")
    print(f"\ngradient statistics of {len(stats)} nodes -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
