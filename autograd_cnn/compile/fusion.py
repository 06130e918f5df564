"""Grouping a node list into fused elementwise kernels.

A :class:`FusionGroup` is a set of elementwise nodes that all produce the same
(concrete) shape, the *iteration shape*, plus reductions of its values (``sum``,
``sum_to``, ``mean``) accumulated inside the same loops. The group runs as one kernel:
its members' intermediate values never reach memory unless a node outside the group
(or the program's caller) reads them.

Grouping is greedy, in execution order. The schedule becomes a list of *items* (a node,
or a group standing where its first member stood). A node joins a group when it reads a
value computed inside that group and all its other operands are ready before the group
runs (produced by earlier items); a reduction output is ready only after its group, so
its readers start a new group. This never reorders anything across a dependency.
"""

from __future__ import annotations

from .codegen import FUSIBLE, REDUCTIONS


class FusionGroup:
    """Nodes fused into one kernel (see the module docstring).

    Attributes
    ----------
    shape : tuple of int
        Iteration shape (every member's output shape).
    nodes : list of Node
        Elementwise members, in execution order.
    reductions : list of Node
        Reductions of member (or input) values, accumulated in the loops.
    keep_shapes : list of tuple
        Each reduction's accumulator shape (reduced axes kept as 1).
    inputs : list of Value
        Operands read from memory (not 0-d constants: those are inlined).
    outputs : list of Value
        Member values stored because something outside the group reads them.
    """

    def __init__(self, shape, pos):
        self.shape = tuple(shape)
        self.pos = pos
        self.nodes = []
        self.reductions = []
        self.keep_shapes = []
        self.inputs = []
        self.outputs = []
        self.internal: set[int] = set()
        self.read_outside = False  # a later item has read one of its values

    @property
    def size(self) -> int:
        return len(self.nodes) + len(self.reductions)

    def all_nodes(self):
        """Members then reductions."""
        return self.nodes + self.reductions

    def _use(self, v):
        if id(v) in self.internal or any(v is w for w in self.inputs):
            return
        if v.kind == "const" and v.data is not None and v.data.ndim == 0:
            return
        self.inputs.append(v)

    def add(self, node):
        """Make ``node`` a member (its output becomes a kernel-local value)."""
        for v in node.inputs:
            self._use(v)
        self.nodes.append(node)
        self.internal.add(id(node.outputs[0]))

    def add_reduction(self, node, keep):
        """End the group with reduction ``node`` (accumulator shape ``keep``)."""
        self._use(node.inputs[0])
        self.reductions.append(node)
        self.keep_shapes.append(tuple(keep))

    def __repr__(self):
        ops = "+".join(n.op for n in self.all_nodes())
        return f"<FusionGroup {ops} over {self.shape}>"


#: dtypes generated kernels handle (Numba has no float16 arithmetic)
_DTYPES = frozenset({"float32", "float64", "bool", "int64", "int32", "uint8", "int8"})


def _concrete(shape) -> bool:
    return all(isinstance(s, int) for s in shape)


def is_fusible(node) -> bool:
    """Whether ``node`` is an elementwise op a kernel can compute (numeric, rank >= 1)."""
    out = node.outputs[0]
    if node.op not in FUSIBLE or len(node.outputs) != 1 or out.ndim == 0:
        return False
    if not _concrete(out.shape) or out.dtype.name not in _DTYPES:
        return False
    if node.op == "pow" and out.dtype.kind != "f":
        return False
    return all(_concrete(v.shape) and v.dtype.name in _DTYPES for v in node.inputs)


def final_values(nodes) -> set[int]:
    """Ids of values that no arithmetic reads: nothing in ``nodes`` reads them, or only
    reshapes that nothing reads (gradient outputs, such as ``reshape(sum(g))``)."""
    readers: dict[int, list] = {}
    for n in nodes:
        for v in n.inputs:
            readers.setdefault(id(v), []).append(n)
    out = set()
    for n in nodes:
        v = n.outputs[0]
        rs = readers.get(id(v), [])
        if all(r.op == "reshape" and not readers.get(id(r.outputs[0])) for r in rs):
            out.add(id(v))
    return out


def keep_shape(node, final=frozenset()):
    """The keepdims-form shape of a reduction node's result (None: not fusible).

    ``sum_to`` always fuses; ``sum``/``mean`` fuse when their result is final (see
    :func:`final_values`: a gradient output, where a differently rounded sum cannot be
    amplified by later arithmetic) or when :data:`REDUCTIONS` enables them."""
    x = node.inputs[0]
    allowed = node.op in REDUCTIONS or (node.op in ("sum", "mean")
                                        and id(node.outputs[0]) in final)
    if not allowed or x.ndim == 0 or not _concrete(x.shape):
        return None
    if x.dtype.name not in ("float32", "float64"):
        return None
    if node.op == "sum_to":
        shape = tuple(node.params["shape"])
        lead = x.ndim - len(shape)
        if lead < 0:
            return None
        keep = [1] * lead + list(shape)
        return tuple(keep)
    axis = node.params.get("axis")
    if axis is None:
        return (1,) * x.ndim
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = {a % x.ndim for a in axes}
    return tuple(1 if d in axes else s for d, s in enumerate(x.shape))


def fuse(nodes, *, enabled=True, min_size=2):
    """Group ``nodes`` (in execution order) into a list of items: Nodes and
    :class:`FusionGroup` objects (each of at least ``min_size`` nodes)."""
    items: list = []
    pos: dict[int, int] = {}  # id(value) -> index of the item producing it
    member_of: dict[int, FusionGroup] = {}  # id(value) -> the group computing it
    if not enabled:
        return list(nodes)
    group_of: dict[int, FusionGroup] = {}  # id(value) -> group, reduction outputs too

    def move_to_end(g):
        # nothing outside has read g yet, so it may run later: where n stands now
        items[g.pos] = None
        g.pos = len(items)
        items.append(g)
        for m in g.all_nodes():
            pos[id(m.outputs[0])] = g.pos

    def mark_reads(n, target):
        for v in n.inputs:
            g = group_of.get(id(v))
            if g is not None and g is not target:
                g.read_outside = True

    final = final_values(nodes)
    for n in nodes:
        if is_fusible(n):
            cands = {id(member_of[id(v)]): member_of[id(v)] for v in n.inputs
                     if id(v) in member_of and member_of[id(v)].shape == n.outputs[0].shape}
            target = None
            for g in sorted(cands.values(), key=lambda g: -g.pos):
                if all(id(v) in g.internal or pos.get(id(v), -1) < g.pos for v in n.inputs):
                    target = g
                    break
            if target is None:  # a group nobody has read yet can move down to n
                for g in sorted(cands.values(), key=lambda g: -g.pos):
                    if not g.read_outside and all(id(v) in g.internal or
                                                  group_of.get(id(v)) is not g
                                                  for v in n.inputs):
                        move_to_end(g)
                        target = g
                        break
            mark_reads(n, target)
            if target is None:
                target = FusionGroup(n.outputs[0].shape, len(items))
                items.append(target)
            target.add(n)
            pos[id(n.outputs[0])] = target.pos
            member_of[id(n.outputs[0])] = group_of[id(n.outputs[0])] = target
            continue
        keep = keep_shape(n, final)
        if keep is not None:
            x = n.inputs[0]
            g = member_of.get(id(x))
            if g is None or g.shape != tuple(x.shape):
                g = FusionGroup(x.shape, len(items))
                items.append(g)
            mark_reads(n, g)
            g.add_reduction(n, keep)
            pos[id(n.outputs[0])] = g.pos
            group_of[id(n.outputs[0])] = g
            continue
        mark_reads(n, None)
        items.append(n)
        for o in n.outputs:
            pos[id(o)] = len(items) - 1
    out = []
    for it in items:
        if it is None:
            continue
        if isinstance(it, FusionGroup) and it.size < min_size:
            out.extend(it.all_nodes())
        else:
            out.append(it)
    return out


def finish(items, needed_outside):
    """Fix each group's stored outputs: member values read outside the group.

    ``needed_outside``: ids of values the caller keeps (program outputs, saved values).
    """
    readers: dict[int, list] = {}
    for it in items:
        for n in (it.all_nodes() if isinstance(it, FusionGroup) else [it]):
            for v in n.inputs:
                readers.setdefault(id(v), []).append(it)
    for it in items:
        if not isinstance(it, FusionGroup):
            continue
        it.outputs = [n.outputs[0] for n in it.nodes
                      if id(n.outputs[0]) in needed_outside
                      or any(r is not it for r in readers.get(id(n.outputs[0]), []))]
    return items
