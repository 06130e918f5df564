"""The graph as data: ``trace`` a function or module to a typed IR that prints, replays,
composes with ``grad``, simplifies, renders and saves.

>>> import autograd_cnn as ac
>>> g = ac.trace(lambda x: ac.relu(x) * 2, ac.ShapeSpec((None, 4)))
>>> g(ac.ones(7, 4)).shape
(7, 4)
"""

from .io import load_graph, save_graph  # noqa: F401
from .ir import Dim, Graph, Node, Value  # noqa: F401
from .passes import PASSES, simplify  # noqa: F401
from .trace import ShapeSpec, trace  # noqa: F401

__all__ = ["Dim", "Graph", "Node", "PASSES", "ShapeSpec", "Value", "load_graph", "save_graph",
           "simplify", "trace"]
