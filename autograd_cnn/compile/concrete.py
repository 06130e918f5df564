"""Binding a graph's symbolic dims: a copy of the graph with every shape and parameter
evaluated for given symbol sizes (``{"N": 64}``), which the lowering needs (fusion
patterns, buffer sizes and the conv algorithm choice all depend on concrete shapes).

Tracing at a small symbolic batch and binding it afterwards keeps compile latency low:
the trace runs the function on two tiny batches instead of the real one.
"""

from __future__ import annotations

from ..graph.ir import Graph, Node, Value, has_dims, resolve


def concretize(graph: Graph, env: dict) -> Graph:
    """``graph`` with its :class:`~autograd_cnn.graph.ir.Dim` s evaluated in ``env``."""
    vmap: dict[int, Value] = {}

    def val(v):
        w = vmap.get(id(v))
        if w is None:
            shape = resolve(v.shape, env) if has_dims(v.shape) else v.shape
            w = Value(v.name, shape, v.dtype, v.kind, data=v.data)
            vmap[id(v)] = w
        return w

    inputs = [val(v) for v in graph.inputs]
    params = [val(v) for v in graph.params]
    consts = [val(v) for v in graph.consts]
    nmap: dict[int, Node] = {}
    nodes = []
    for n in graph.nodes:
        ps = resolve(n.params, env) if has_dims(n.params) else n.params
        m = Node(n.op, [val(v) for v in n.inputs], ps, [val(o) for o in n.outputs],
                 grad_of=nmap.get(id(n.grad_of)) if n.grad_of is not None else None,
                 scope=n.scope, where=n.where)
        nmap[id(n)] = m
        nodes.append(m)
    return Graph(inputs, params, consts, nodes, [val(v) for v in graph.outputs],
                 out_tree=graph.out_tree, updates=[(val(p), val(v)) for p, v in graph.updates],
                 bindings=graph.bindings, name=graph.name)
