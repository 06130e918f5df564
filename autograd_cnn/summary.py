"""Architecture accounting: ``ac.summary(model, input_shape)``.

The model runs once under :func:`autograd_cnn.tape.meta_mode`: every op goes through its
primitive's shape rule on zero-stride placeholders, so nothing is computed and nothing
large is allocated (a VGG-16 or GoogLeNet summary at 224x224 takes a fraction of a
second; with :func:`autograd_cnn.nn.meta_init` even the weights are never allocated).
Forward hooks on every module collect, per module:

- output shape and activation memory (bytes of the output tensor);
- parameters (all, trainable, and weights only - tensors with >= 2 dims, i.e. without
  biases and normalization scales, which is what the GoogLeNet paper's table counts);
- multiply-accumulates (MACs), from the shapes: a convolution does
  ``C_in/groups * prod(k)`` MACs per output element, a transposed convolution
  ``C_out/groups * prod(k)`` per *input* element, a Linear layer ``in_features`` per
  output element. Elementwise ops, pooling and normalization are not counted (as in
  the papers' "ops" columns); biases are not counted;
- receptive field and jump (the product of strides; the distance in input pixels
  between neighbouring outputs): ``r_out = r_in + (k - 1) * d * j_in``,
  ``j_out = j_in * s`` per spatial dim. Through a module that combines branches
  (inception, residual blocks) the receptive field is the largest of its branches'.
  After a Linear/Flatten layer it is global (None).

Containers get their subtree's totals. The result prints as a table and is available as
records (``.rows``) for programs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from . import nn
from .errors import ArgumentTypeError
from .tape import meta_mode
from .tensor import Tensor

__all__ = ["summary", "count_parameters", "count_macs", "Summary", "LayerRecord",
           "conv_macs"]


@dataclass
class LayerRecord:
    """One module call in a summary."""

    name: str
    type: str
    depth: int
    output_shape: tuple | list | None
    params: int = 0
    trainable_params: int = 0
    weight_params: int = 0
    macs: int = 0
    activation_bytes: int = 0
    receptive_field: tuple | None = None
    jump: tuple | None = None
    is_leaf: bool = True
    children_macs: int = field(default=0, repr=False)

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("children_macs")
        return d


def conv_macs(c_in: int, c_out: int, kernel, out_spatial, groups: int = 1,
              batch: int = 1) -> int:
    """Multiply-accumulates of a convolution: ``N * C_out * prod(out) * C_in/g * prod(k)``.

    >>> conv_macs(3, 256, (5, 5), (8, 8))  # the seeds' standard 5x5 convolution
    1228800
    """
    return int(batch * c_out * math.prod(out_spatial) * (c_in // groups) * math.prod(kernel))


def _numel(t) -> int:
    return int(np.prod(t.shape)) if isinstance(t, Tensor) else 0


def _tensors(obj):
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _shape_of(obj):
    if isinstance(obj, Tensor):
        return tuple(obj.shape)
    if isinstance(obj, (list, tuple)):
        return [_shape_of(o) for o in obj]
    return None


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _leaf_macs(m, inputs, out) -> int:
    x = inputs[0] if inputs else None
    if isinstance(m, nn.conv._ConvTranspose) and isinstance(x, Tensor):
        per = (m.out_channels // m.groups) * math.prod(m.kernel_size)
        return _numel(x) * per
    if isinstance(m, nn.conv._ConvNd) and isinstance(out, Tensor):
        per = (m.in_channels // m.groups) * math.prod(m.kernel_size)
        return _numel(out) * per
    if isinstance(m, nn.Linear) and isinstance(out, Tensor):
        return _numel(out) * m.in_features
    return 0


def _window(m, x, out):
    """(kernel, stride, dilation, transposed) per spatial dim for layers that slide a
    window, else None."""
    if not isinstance(x, Tensor) or not isinstance(out, Tensor):
        return None
    if isinstance(m, nn.conv._ConvNd):
        return m.kernel_size, m.stride, m.dilation, isinstance(m, nn.conv._ConvTranspose)
    nd = getattr(m, "_nd", None)
    if isinstance(m, (nn.pool._MaxPoolNd, nn.pool._AvgPoolNd)):
        k = _tuple(m.kernel_size, nd)
        s = _tuple(m.stride, nd)
        d = _tuple(getattr(m, "dilation", 1), nd)
        return k, s, d, False
    if isinstance(m, nn.pool._AdaptiveNd):
        ins, outs = x.shape[-nd:], out.shape[-nd:]
        k = tuple(-(-i // o) for i, o in zip(ins, outs))
        s = tuple(max(i // o, 1) for i, o in zip(ins, outs))
        return k, s, (1,) * nd, False
    return None


class Summary:
    """The result of :func:`summary`: ``rows`` (list of :class:`LayerRecord`), totals,
    ``str()`` as a table, ``to_records()`` as dicts."""

    def __init__(self, model_name, input_shape, output_shape, rows, total_params,
                 trainable_params, param_bytes, depth):
        self.model_name = model_name
        self.input_shape = input_shape
        self.output_shape = output_shape
        self.rows: list[LayerRecord] = rows
        self.total_params = total_params
        self.trainable_params = trainable_params
        self.param_bytes = param_bytes
        self.total_macs = sum(r.macs for r in rows if r.is_leaf)
        self.activation_bytes = sum(r.activation_bytes for r in rows if r.is_leaf)
        self.depth = depth

    def __getitem__(self, name: str) -> LayerRecord:
        """The (first) record of the module at dotted path ``name``."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"summary has no layer {name!r}")

    def to_records(self) -> list[dict]:
        return [r.as_dict() for r in self.rows]

    def to_dict(self) -> dict:
        return {"model": self.model_name, "input_shape": self.input_shape,
                "output_shape": self.output_shape, "total_params": self.total_params,
                "trainable_params": self.trainable_params, "total_macs": self.total_macs,
                "activation_bytes": self.activation_bytes, "param_bytes": self.param_bytes,
                "layers": self.to_records()}

    def visible_rows(self, depth=...):
        """Leaf rows (``depth=None``), or modules at ``depth`` plus shallower leaves;
        default: the depth given to :func:`summary`."""
        depth = self.depth if depth is ... else depth
        if depth is None:
            return [r for r in self.rows if r.is_leaf]
        return [r for r in self.rows if r.depth <= depth and r.depth > 0 and (
            r.depth == depth or r.is_leaf)]

    def table(self, depth=...) -> str:
        head = ("Layer (type)", "Output shape", "Param #", "MACs", "RF", "Jump")
        body = []
        for r in self.visible_rows(depth):
            rf = "global" if r.receptive_field is None else _fmt_dims(r.receptive_field)
            jump = "-" if r.jump is None else _fmt_dims(r.jump)
            body.append((f"{r.name} ({r.type})", str(r.output_shape), f"{r.params:,}",
                         _human(r.macs), rf, jump))
        widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
        fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
        line = "=" * (sum(widths) + 2 * (len(widths) - 1))
        lines = [f"{self.model_name}: input {self.input_shape} -> output {self.output_shape}",
                 line, fmt.format(*head), line]
        lines += [fmt.format(*row) for row in body]
        lines += [
            line,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
            f"Total MACs: {_human(self.total_macs)} ({self.total_macs:,})",
            f"Activation memory (layer outputs): {self.activation_bytes / 2**20:.2f} MiB",
            f"Parameter memory: {self.param_bytes / 2**20:.2f} MiB",
            line,
        ]
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    __repr__ = __str__


def _fmt_dims(t):
    t = tuple(int(v) if float(v).is_integer() else round(float(v), 3) for v in t)
    return str(t[0]) if len(set(t)) == 1 else "x".join(map(str, t))


def _human(n: int) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.2f}{unit}"
    return str(n)


def _param_counts(m, recurse):
    total = train = weights = 0
    for p in m.parameters(recurse=recurse):
        total += p.numel()
        train += p.numel() if p.requires_grad else 0
        weights += p.numel() if p.ndim >= 2 else 0
    return total, train, weights


def summary(model: nn.Module, input_shape, *, dtype="float32", depth: int | None = None
            ) -> Summary:
    """Per-layer accounting of ``model`` on an input of ``input_shape``, by shape inference.

    Parameters
    ----------
    model : nn.Module
    input_shape : tuple of int, or list of tuples
        The full input shape including the batch dimension, e.g. ``(1, 3, 224, 224)``; a
        list of shapes for models taking several inputs.
    dtype : dtype
        Of the placeholder inputs (sets the activation memory per element).
    depth : int, optional
        Rows shown by ``str()``: None shows the leaf layers; ``k`` shows modules at
        depth k (with their subtree's totals) and leaves above it.

    Returns
    -------
    Summary
        Printable; ``.rows`` are :class:`LayerRecord` for every module call, in call
        order (containers after their children).

    Examples
    --------
    >>> import autograd_cnn as ac
    >>> s = ac.summary(ac.models.LeNet5(), (1, 1, 32, 32))
    >>> s.total_params, s["features.0"].output_shape
    (61706, (1, 6, 28, 28))
    """
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    shapes = input_shape if (isinstance(input_shape, list) and input_shape and
                             isinstance(input_shape[0], (tuple, list))) else [input_shape]
    for s in shapes:
        if not isinstance(s, (tuple, list)) or not all(
                isinstance(v, (int, np.integer)) and v > 0 for v in s):
            raise ArgumentTypeError(
                f"input_shape: expected a tuple of positive ints (with the batch dim), got "
                f"{s!r}"
            )
    dt = np.dtype(dtype)
    names = {id(m): n for n, m in model.named_modules()}
    rows: list[LayerRecord] = []
    info: dict = {}  # id(tensor) -> (tensor, rf, jump): the tensor keeps the id alive
    stack: list[dict] = []
    inputs = [Tensor._wrap(np.broadcast_to(np.zeros((), dt), tuple(s)), False) for s in shapes]
    for x in inputs:
        nd = max(x.ndim - 2, 0)
        info[id(x)] = (x, (1,) * nd, (1,) * nd)

    def lookup(t, frame):
        if isinstance(t, Tensor) and id(t) in info and info[id(t)][0] is t:
            return info[id(t)][1:]
        # a tensor made by functional code inside a composite (cat, +): the largest
        # receptive field seen so far inside the enclosing call
        for f in reversed(stack[:-1] if frame is stack[-1] else stack):
            if f["seen"]:
                return max(f["seen"], key=_rf_key)
            if f["in_info"] is not None:
                return f["in_info"]
        return None

    def pre(m, args):
        frame = {"module": m, "seen": [], "in_info": None}
        stack.append(frame)
        ts = _tensors(args)
        frame["in_info"] = lookup(ts[0], frame) if ts else None

    def post(m, args, out):
        frame = stack.pop()
        ts = _tensors(args)
        x = ts[0] if ts else None
        y = out[0] if isinstance(out, (tuple, list)) and out else out
        leaf = not any(True for _ in m.children())
        rf_in = frame["in_info"]
        if leaf:
            rf = _propagate(m, x, y, rf_in)
        elif isinstance(y, Tensor) and id(y) in info and info[id(y)][0] is y:
            rf = info[id(y)][1:]
        else:
            rf = max(frame["seen"], key=_rf_key) if frame["seen"] else rf_in
        if isinstance(y, Tensor):
            info[id(y)] = (y, *(rf if rf is not None else (None, None)))
        if stack:
            stack[-1]["seen"].append(rf if rf is not None else (None, None))
            stack[-1].setdefault("macs", 0)
        total, train, weights = _param_counts(m, recurse=True)
        name = names.get(id(m), "?")
        macs = _leaf_macs(m, ts, y) if leaf else frame.get("macs", 0)
        if stack:
            stack[-1]["macs"] = stack[-1].get("macs", 0) + macs
        rows.append(LayerRecord(
            name=name or "(root)", type=type(m).__name__,
            depth=0 if not name else name.count(".") + 1,
            output_shape=_shape_of(out), params=total, trainable_params=train,
            weight_params=weights, macs=macs,
            activation_bytes=sum(_numel(t) * t.data.itemsize for t in _tensors(out)),
            receptive_field=None if rf is None else rf[0],
            jump=None if rf is None else rf[1], is_leaf=leaf))

    handles = []
    was_training = [(m, m.training) for m in model.modules()]
    model.eval()  # no running-statistics updates, no dropout masks
    try:
        for m in model.modules():
            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post))
        with meta_mode():
            out = model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m, t in was_training:
            m.__dict__["training"] = t
    # post-order (children first) is kept; the root row is last
    total, train, _ = _param_counts(model, recurse=True)
    pbytes = sum(p.numel() * p.dtype.itemsize for p in model.parameters())
    in_shape = tuple(shapes[0]) if len(shapes) == 1 else [tuple(s) for s in shapes]
    return Summary(type(model).__name__, in_shape, _shape_of(out), rows, total, train, pbytes,
                   depth)


def _rf_key(entry):
    rf = entry[0]
    return -1 if rf is None else max(rf) if rf else 0


def _propagate(m, x, y, rf_in):
    """Receptive field and jump after leaf module ``m`` given those of its input."""
    if rf_in is None or rf_in[0] is None:
        return None
    rf, jump = rf_in
    if isinstance(m, (nn.Linear, nn.Flatten)):
        return None
    if isinstance(m, nn.Upsample) and isinstance(x, Tensor) and isinstance(y, Tensor):
        nd = len(jump)
        factors = [o / i for o, i in zip(y.shape[-nd:], x.shape[-nd:])]
        return rf, tuple(j / f for j, f in zip(jump, factors))
    w = _window(m, x, y)
    if w is None:
        return rf, jump
    k, s, d, transposed = w
    if len(k) != len(rf):
        return None
    if transposed:
        # each output sees ceil(k_eff / s) neighbouring inputs
        new_rf = tuple(r + (math.ceil((dd * (kk - 1) + 1) / ss) - 1) * j
                       for r, kk, ss, dd, j in zip(rf, k, s, d, jump))
        return new_rf, tuple(j / ss for j, ss in zip(jump, s))
    new_rf = tuple(r + (kk - 1) * dd * j for r, kk, dd, j in zip(rf, k, d, jump))
    return new_rf, tuple(j * ss for j, ss in zip(jump, s))


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters (each shared parameter once).

    >>> import autograd_cnn as ac
    >>> ac.count_parameters(ac.models.LeNet5())
    61706
    """
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module, input_shape) -> int:
    """Multiply-accumulates of one forward pass on ``input_shape`` (see :func:`summary`)."""
    return summary(model, input_shape).total_macs
