"""Building a new graph from an old one: the machinery every rewrite pass shares.

A pass walks the old graph's nodes in order and, for each, either copies it
(:meth:`Builder.copy`), emits other nodes in its place (:meth:`Builder.emit`), or says
that its output *is* some existing value (:meth:`Builder.alias`). Values are remapped as
it goes, so a pass never mutates the graph it reads.
"""

from __future__ import annotations

import numpy as np

from .ir import Graph, Node, Value


class Builder:
    def __init__(self, g: Graph):
        self.src = g
        self.map: dict[int, Value] = {}
        self.inputs = [self._clone(v) for v in g.inputs]
        self.params = [self._clone(v) for v in g.params]
        self.consts = [self._clone(v) for v in g.consts]
        self.nodes: list[Node] = []
        self.node_map: dict[int, Node] = {}  # old node id -> new node (for grad_of links)

    def _clone(self, v: Value) -> Value:
        nv = Value(v.name, v.shape, v.dtype, v.kind, data=v.data)
        self.map[id(v)] = nv
        return nv

    def get(self, v: Value) -> Value:
        """The new graph's value for old value ``v``."""
        return self.map[id(v)]

    def const(self, array, name=None) -> Value:
        """A new constant."""
        array = np.asarray(array)
        v = Value(name or f"c{len(self.consts)}", array.shape, array.dtype, "const", data=array)
        self.consts.append(v)
        return v

    def emit(self, op, inputs, params, shapes_dtypes, like: Node | None = None) -> list[Value]:
        """Append a node ``op(inputs; params)``; returns its new output values."""
        outs = [Value("%?", s, d, "node") for s, d in shapes_dtypes]
        grad_of = None
        if like is not None and like.grad_of is not None:
            # the forward node's copy, or (when a pass removed it) the old node itself,
            # so the node stays marked as part of the backward pass
            grad_of = self.node_map.get(id(like.grad_of), like.grad_of)
        node = Node(op, inputs, params, outs, grad_of=grad_of,
                    scope=like.scope if like is not None else (),
                    where=like.where if like is not None else "")
        self.nodes.append(node)
        if like is not None:
            self.node_map.setdefault(id(like), node)
        return outs

    def copy(self, n: Node, inputs=None, params=None) -> Node:
        """Copy old node ``n`` (with remapped or given inputs); maps its outputs."""
        ins = [self.get(v) for v in n.inputs] if inputs is None else inputs
        outs = self.emit(n.op, ins, n.params if params is None else params,
                         [(o.shape, o.dtype) for o in n.outputs], like=n)
        for o, no in zip(n.outputs, outs):
            self.map[id(o)] = no
        self.node_map[id(n)] = self.nodes[-1]
        return self.nodes[-1]

    def alias(self, old: Value, new: Value):
        """Old value ``old`` is ``new`` in the new graph (the node producing it is gone)."""
        self.map[id(old)] = new

    def finish(self) -> Graph:
        g = self.src
        used = set()
        for n in self.nodes:
            used.update(id(v) for v in n.inputs)
        outs = [self.get(v) for v in g.outputs]
        updates = [(self.get(p), self.get(v)) for p, v in g.updates]
        used.update(id(v) for v in outs)
        used.update(id(v) for _, v in updates)
        consts = [c for c in self.consts if id(c) in used]
        for k, c in enumerate(consts):
            c.name = f"c{k}"
        for k, n in enumerate(self.nodes):
            for j, o in enumerate(n.outputs):
                o.name = f"%{k}" if j == 0 else f"%{k}.aux"
        return Graph(self.inputs, self.params, consts, self.nodes, outs, out_tree=g.out_tree,
                     updates=updates, bindings=g.bindings, name=g.name)


def use_counts(g: Graph) -> dict[int, int]:
    count: dict[int, int] = {}
    for n in g.nodes:
        for v in n.inputs:
            count[id(v)] = count.get(id(v), 0) + 1
    for v in g.outputs:
        count[id(v)] = count.get(id(v), 0) + 1
    for _, v in g.updates:
        count[id(v)] = count.get(id(v), 0) + 1
    return count
