"""Conv epilogues: a conv's bias add and ReLU done by the conv's own generated kernel.

A conv layer's forward is ``relu(conv(x, w) + b)``: the conv writes ``y``, then a fused
group reads it back to add the bias and clamp it (and, in training, to store the mask
``y + b > 0`` that the ReLU's gradient reads, see :mod:`.rewrite`). The kernels of
:mod:`..kernels.conv_gen` can start every partial sum from the bias and clamp it before
the store, so ``y`` never reaches memory: one pass over the layer's output instead of
three (LeNet-5's first layer, 64x6x28x28 float32: the group took 0.12 ms).

:func:`fuse` rewrites a program's item list (nodes and fused groups, in schedule order):
a ``conv`` whose output only a group reads, that group being exactly ``add(y, b)`` with
``b`` a ``(1, C, 1, 1)`` bias and ``relu`` of the sum (and optionally the mask
``gt(sum, 0)``), becomes one :class:`ConvEpilogue` item at the conv's place, and the
group goes (the node making the bias view, a reshape of the parameter, moves before the
conv when it came after). The mask is computed from the ReLU's output (``relu(s) > 0`` exactly when
``s > 0``, NaN and -0.0 included: both sides false).
"""

from __future__ import annotations

import numpy as np

from .fusion import FusionGroup


class ConvEpilogue:
    """``relu(conv(x, w) + b)`` (and its mask) as one item of a program.

    Attributes
    ----------
    conv : Node
        The conv node (its params, its input and weight values).
    op : str
        ``"conv"`` (what the memory planner and the listings see).
    inputs : list of Value
        ``[x, w, b]``, ``b`` the ``(1, C, 1, 1)`` bias.
    outputs : list of Value
        ``[relu_out]`` or ``[relu_out, mask]``.
    """

    op = "conv"
    label = "conv + bias + relu"

    def __init__(self, conv, bias, relu_out, mask):
        self.conv = conv
        self.params = conv.params
        self.inputs = [conv.inputs[0], conv.inputs[1], bias]
        self.outputs = [relu_out] + ([mask] if mask is not None else [])

    def __repr__(self):
        return f"<ConvEpilogue {self.conv!r} + bias, relu>"


def _zero_const(v) -> bool:
    return v.producer is None and v.data is not None and np.ndim(v.data) == 0 \
        and float(v.data) == 0.0


def _match(group, y):
    """(bias, relu output, mask or None) when ``group`` is exactly the bias-ReLU
    epilogue of the conv output ``y``, else None."""
    if group.reductions or len(group.nodes) not in (2, 3):
        return None
    add, relu = group.nodes[0], group.nodes[1]
    if add.op != "add" or relu.op != "relu" or relu.inputs[0] is not add.outputs[0]:
        return None
    a, b = add.inputs
    if b is y:
        a, b = b, a
    C = y.shape[1]
    if a is not y or tuple(b.shape) != (1, C, 1, 1) or b.dtype != y.dtype:
        return None
    s, out = add.outputs[0], relu.outputs[0]
    mask = None
    if len(group.nodes) == 3:
        gt = group.nodes[2]
        if gt.op != "gt" or gt.inputs[0] is not s or not _zero_const(gt.inputs[1]):
            return None
        mask = gt.outputs[0]
    if not all(v is out or v is mask for v in group.outputs) or out not in group.outputs:
        return None
    return b, out, mask


def fuse(items, outputs, generated):
    """``items`` with each conv + bias-ReLU group pair that ``generated(conv)`` (a
    generated kernel, or None) can serve merged into a :class:`ConvEpilogue`."""
    out_ids = {id(v) for v in outputs}
    readers: dict[int, list] = {}
    defined_at: dict[int, int] = {}
    for t, it in enumerate(items):
        nodes = it.all_nodes() if isinstance(it, FusionGroup) else [it]
        for n in nodes:
            for v in n.inputs:
                readers.setdefault(id(v), []).append(t)
            for v in n.outputs:
                defined_at[id(v)] = t
    merged, drop, hoist = {}, set(), {}
    for t, it in enumerate(items):
        if isinstance(it, FusionGroup) or it.op != "conv":
            continue
        y = it.outputs[0]
        at = set(readers.get(id(y), ()))
        if id(y) in out_ids or len(at) != 1:
            continue
        (g,) = at
        if not isinstance(items[g], FusionGroup):
            continue
        m = _match(items[g], y)
        if m is None or generated(it) is None:
            continue
        b_at = defined_at.get(id(m[0]), -1)
        if b_at > t:  # the bias view is made later: move it before the conv if it can go
            maker = items[b_at]
            if isinstance(maker, FusionGroup) or any(
                    defined_at.get(id(v), -1) >= t for v in maker.inputs):
                continue
            hoist[t] = b_at
        merged[t] = ConvEpilogue(it, *m)
        drop.add(g)
    drop |= set(hoist.values())
    out = []
    for t, it in enumerate(items):
        if t in hoist:
            out.append(items[hoist[t]])
        if t not in drop:
            out.append(merged.get(t, it))
    return out
