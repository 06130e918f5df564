"""The graph as data: trace LeNet-5 and its gradient, print, simplify, draw, save, reload.

1. ``ac.trace`` the model with a symbolic batch ``N``: a typed graph that prints one line
   per op and replays at any batch size without re-tracing.
2. Trace the *gradient* (``ac.gradients`` inside the traced function): the VJPs appear as
   nodes (``conv_transpose``, ``conv_weight_grad``, ``tanh_grad``...), each linked to the
   forward node it differentiates.
3. ``graph.simplify(log=True)``: named rewrite passes and how many nodes each removed.
4. Draw forward and simplified backward side by side (SVG when Graphviz ``dot`` is
   installed, DOT text always).
5. ``ac.save_graph`` / ``ac.load_graph``: a pickle-free file that replays bitwise.

Run: python examples/09_graph_ir.py
"""

import os

import numpy as np

import autograd_cnn as ac
import autograd_cnn.functional as F

OUT = os.environ.get("AUTOGRAD_CNN_EXAMPLE_OUT", "graph_ir_output")
os.makedirs(OUT, exist_ok=True)

model = ac.models.LeNet5()
batch = ac.ShapeSpec((None, 1, 32, 32))          # None: a symbolic batch, named N
labels = ac.ShapeSpec((None,), "int64")

# ---- 1. the forward graph --------------------------------------------------------------
forward = ac.trace(model, batch)
print(forward)
for n in (1, 7, 64):
    x = ac.randn(n, 1, 32, 32, seed=n)
    np.testing.assert_allclose(forward(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
print(f"replayed at N = 1, 7, 64 without re-tracing: {len(forward.nodes)} nodes")


# ---- 2. the gradient as a graph ---------------------------------------------------------
def loss(x, t):
    return F.cross_entropy(model(x), t)


def grads(x, t):
    return ac.gradients(loss(x, t), list(model.parameters()))


traced = ac.trace(grads, batch, labels, params=model)
print(f"\nforward+backward as traced: {len(traced.nodes)} nodes "
      f"({len(traced.backward_nodes())} of them backward)")

# ---- 3. simplify ------------------------------------------------------------------------
simple, log = traced.simplify(log=True)
for name, before, after in log:
    if before != after:
        print(f"  {name:16s} {before:3d} -> {after:3d} nodes")
fwd = ac.trace(loss, batch, labels, params=model).simplify()
print(f"simplified: {len(simple.nodes)} nodes = {len(simple.nodes) / len(fwd.nodes):.2f}x "
      f"the forward's {len(fwd.nodes)}")
print("\n".join(str(simple).splitlines()[-16:]))

x, t = ac.randn(8, 1, 32, 32, seed=0), ac.tensor(np.arange(8) % 10)
for got, want in zip(simple(x, t), grads(x, t)):
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-7)

# ---- 4. draw ----------------------------------------------------------------------------
picture = ac.viz.side_by_side([fwd, simple], ["forward (simplified)",
                                              "forward + backward (simplified)"])
with open(os.path.join(OUT, "lenet5_graphs.dot"), "w") as f:
    f.write(picture.source)
if ac.viz.dot_available():
    ac.viz.render(picture, os.path.join(OUT, "lenet5_graphs.svg"))
    print(f"\ndrew {OUT}/lenet5_graphs.svg")

# ---- 5. save and reload -----------------------------------------------------------------
path = os.path.join(OUT, "lenet5_grads.npz")
ac.save_graph(simple, path)
again = ac.load_graph(path)
same = all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(again(x, t), simple(x, t)))
print(f"saved to {path} ({os.path.getsize(path) // 1024} kB); reloaded replay bitwise equal:"
      f" {same}")
assert same
