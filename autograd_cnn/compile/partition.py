"""Splitting a joint (forward + backward) graph into the two programs a training step runs.

The joint graph computes the function's outputs and, from cotangent inputs (the seeds),
the gradients of every parameter. The *forward* part is what the outputs and the buffer
updates need; the *backward* part is everything else the gradients need (the VJP nodes,
including those that only read forward values, such as ``1 - tanh**2``: computing them
late keeps them out of the forward's saved set when only their operands are needed).
The *saved* values are those the backward reads that the forward produced, or that
were inputs or parameters of the forward run (so a backward uses the arrays the forward
saw, as eager autodiff does). One exception to "late": a comparison of forward values
that nothing else in the backward reads runs in the forward, so that its bool result is
saved instead of its (4-8 times larger) operands.
"""

from __future__ import annotations

from ..graph.ir import Graph


def ancestors(values) -> set[int]:
    """Ids of the nodes ``values`` depend on."""
    seen: set[int] = set()
    stack = [v.producer for v in values if v.producer is not None]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        stack.extend(v.producer for v in n.inputs if v.producer is not None)
    return seen


#: Comparisons: their bool result is a quarter of a float32 operand's bytes.
_COMPARISONS = frozenset({"gt", "ge", "lt", "le", "eq", "ne"})


def _narrowing(graph, fwd, bwd, seeds) -> set[int]:
    """Backward nodes better computed in the forward: comparisons of forward values that
    no other backward node reads (the masks of :func:`.rewrite.relu_masks`). Saving the
    bool result instead of its operands shrinks the saved set."""
    seed_ids = {id(s) for s in seeds}
    made_late = {id(o) for n in graph.nodes if id(n) in bwd for o in n.outputs}
    readers: dict[int, int] = {}
    for n in graph.nodes:
        if id(n) in bwd:
            for v in n.inputs:
                readers[id(v)] = readers.get(id(v), 0) + 1
    move = set()
    for n in graph.nodes:
        if (id(n) in bwd and n.op in _COMPARISONS and n.outputs[0].dtype == bool
                and all(v.kind == "const" or (id(v) not in made_late
                                              and id(v) not in seed_ids
                                              and readers[id(v)] == 1) for v in n.inputs)):
            move.add(id(n))
    return move


class Split:
    """The forward and backward node lists of a joint graph, and what links them.

    Attributes
    ----------
    forward, backward : list of Node
    outputs : list of Value
        The function's outputs (forward).
    grads : list of Value
        One per differentiated tensor (backward outputs).
    seeds : list of Value
        Cotangent inputs.
    saved : list of Value
        Forward-side values the backward reads.
    """

    def __init__(self, graph: Graph, n_outputs: int, seeds):
        self.graph = graph
        self.outputs = graph.outputs[:n_outputs]
        self.grads = graph.outputs[n_outputs:]
        self.seeds = list(seeds)
        fwd = ancestors(self.outputs + [v for _, v in graph.updates])
        bwd = ancestors(self.grads) - fwd
        fwd |= _narrowing(graph, fwd, bwd, seeds)
        bwd -= fwd
        self.forward = [n for n in graph.nodes if id(n) in fwd]
        self.backward = [n for n in graph.nodes if id(n) in bwd]
        seed_ids = {id(s) for s in self.seeds}
        made_in_bwd = {id(o) for n in self.backward for o in n.outputs}
        saved, seen = [], set()
        reads = [v for n in self.backward for v in n.inputs] + list(self.grads)
        for v in reads:
            if id(v) in seen or id(v) in made_in_bwd or id(v) in seed_ids or v.kind == "const":
                continue
            seen.add(id(v))
            saved.append(v)
        self.saved = saved

    def consts(self, nodes, extra=()):
        """Constants read by ``nodes`` (or among ``extra``), once each."""
        seen, out = set(), []
        for v in [v for n in nodes for v in n.inputs] + list(extra):
            if v.kind == "const" and id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        return out

    def forward_graph(self) -> Graph:
        """The forward part as a Graph (the user's inputs, the parameters)."""
        g = self.graph
        seeds = {id(v) for v in self.seeds}
        inputs = [v for v in g.inputs if id(v) not in seeds]
        return Graph(inputs, g.params, self.consts(self.forward, self.outputs), self.forward,
                     self.outputs, updates=g.updates, bindings=g.bindings,
                     name=f"{g.name}_forward")

    def backward_graph(self) -> Graph:
        """The backward part as a Graph: saved values and seeds in, gradients out."""
        return Graph(self.saved + self.seeds, [], self.consts(self.backward, self.grads),
                     self.backward, self.grads, name=f"{self.graph.name}_backward")
