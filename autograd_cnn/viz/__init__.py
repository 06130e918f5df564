"""Drawing forward and backward graphs with Graphviz.

:func:`draw` turns the tape behind a tensor into a :class:`graphviz.Digraph`: one box per
recorded op (name, hyper-parameters, output shape and dtype), leaves styled by kind
(named parameter, input, constant), edges labelled with the shapes that flow along them.
With ``backward=True`` it draws the *gradient computation itself*: the VJPs are run with
``create_graph=True``, so every op they apply is recorded like a forward op, and each
recorded node knows (``Node.grad_of``) which forward op it differentiates. That is how a
user sees that the input-gradient of ``conv2d`` is a ``conv_transpose2d`` and that of
``max_pool2d`` is a scatter to the argmax. ``backward="both"`` draws forward and backward
side by side with dotted lines joining each forward op to the ops of its VJP.

Nodes recorded inside ``tape.scope(name)`` (every ``nn.Module`` call) are drawn in
clusters named by the module path (``features.3``); ``collapse`` folds each module into
a single box. Traversal is iterative (no recursion limit), works after ``backward()`` freed
the saved buffers (the metadata stays on the nodes), and every label is escaped, so names
with quotes, backslashes, angle brackets or newlines still give valid DOT.

>>> import autograd_cnn as ac
>>> from autograd_cnn import viz
>>> x = ac.tensor([[1.0, 2.0]], requires_grad=True)
>>> w = ac.tensor([[0.5], [-1.0]], requires_grad=True)
>>> w.name = "w"
>>> g = viz.draw(ac.relu(x @ w).sum())
>>> g.info["ops"], g.info["leaves"]
(3, 2)
>>> "matmul" in g.source
True
"""

from __future__ import annotations

# Re-exports: the public API (__all__), plus, via ``X as X``, add_graph_command (for
# autograd_cnn/cli.py) and the private helpers the tests use.
from .cli import _zoo_names as _zoo_names
from .cli import add_graph_command as add_graph_command
from .drawing import draw
from .emit import Graph
from .graph import _compute_gradients as _compute_gradients
from .ir_drawing import side_by_side
from .labels import escape_label, op_label
from .rendering import FORMATS, dot_available, render, to_dot
from .stats import GradStats
from .stats import _Stat as _Stat
from .styles import _BACKWARD_BORDER as _BACKWARD_BORDER
from .styles import _BAD_GRAD_BORDER as _BAD_GRAD_BORDER
from .styles import CATEGORY_STYLES, KIND_STYLES, style_for
from .styles import _check_styles as _check_styles

__all__ = [
    "CATEGORY_STYLES",
    "KIND_STYLES",
    "FORMATS",
    "Graph",
    "GradStats",
    "draw",
    "side_by_side",
    "render",
    "to_dot",
    "dot_available",
    "escape_label",
    "op_label",
    "style_for",
]
