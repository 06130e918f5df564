"""The graph IR: typed values, nodes that name a registered primitive, a graph of them.

This is the one representation every graph reader shares (the renderer, rewrites,
``compile``, ONNX, save/load). It is deliberately small, a jaxpr-like list of equations:

- a :class:`Value` has a ``shape`` (ints, or :class:`Dim` for symbolic dims such as the
  batch ``N``), a ``dtype`` and a ``kind``: ``"input"`` (a positional argument),
  ``"param"`` (a named module parameter or buffer, read when the graph runs), ``"const"``
  (an array stored in the graph) or ``"node"`` (produced by a node);
- a :class:`Node` applies the primitive ``op`` to ``inputs`` with static ``params``
  (which may hold :class:`Dim` too) and produces ``outputs`` (a second output is the
  primitive's auxiliary result, e.g. max-pool's argmax); a node recorded while a VJP ran
  links to the forward node it differentiates (``grad_of``);
- a :class:`Graph` lists inputs, params, constants, nodes in execution order, outputs,
  and ``updates`` (buffers written back after a run: batch-norm running statistics).

Running a graph (:meth:`Graph.__call__`) applies each node's primitive through the tape,
so a replay is differentiable exactly like eager code.
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentTypeError, ReplayError
from ..primitive import REGISTRY


class Dim:
    """A symbolic dimension ``scale * name + offset`` (the batch ``N``, or ``6*N``).

    Shapes and shape-valued params hold ``Dim`` where their size follows a symbolic
    input dim; :meth:`eval` gives the size for bound symbols.
    """

    __slots__ = ("name", "scale", "offset")

    def __init__(self, name: str, scale: int = 1, offset: int = 0):
        self.name, self.scale, self.offset = str(name), int(scale), int(offset)

    def eval(self, env: dict) -> int:
        return self.scale * env[self.name] + self.offset

    def __eq__(self, other):
        return (isinstance(other, Dim) and (self.name, self.scale, self.offset)
                == (other.name, other.scale, other.offset))

    def __hash__(self):
        return hash((self.name, self.scale, self.offset))

    def __repr__(self):
        s = self.name if self.scale == 1 else f"{self.scale}*{self.name}"
        if self.offset:
            s += f"{'+' if self.offset > 0 else '-'}{abs(self.offset)}"
        return s

    def to_json(self):
        return {"dim": self.name, "scale": self.scale, "offset": self.offset}


def resolve(obj, env: dict):
    """``obj`` (a param, shape, or nesting of them) with every :class:`Dim` evaluated."""
    if isinstance(obj, Dim):
        return obj.eval(env)
    if isinstance(obj, tuple):
        return tuple(resolve(o, env) for o in obj)
    if isinstance(obj, list):
        return [resolve(o, env) for o in obj]
    if isinstance(obj, dict):
        return {k: resolve(v, env) for k, v in obj.items()}
    if isinstance(obj, slice):
        return slice(resolve(obj.start, env), resolve(obj.stop, env), resolve(obj.step, env))
    return obj


def has_dims(obj) -> bool:
    if isinstance(obj, Dim):
        return True
    if isinstance(obj, (tuple, list)):
        return any(has_dims(o) for o in obj)
    if isinstance(obj, dict):
        return any(has_dims(v) for v in obj.values())
    if isinstance(obj, slice):
        return has_dims((obj.start, obj.stop, obj.step))
    return False


_SHORT = {"float32": "f32", "float64": "f64", "float16": "f16", "int64": "i64",
          "int32": "i32", "int8": "i8", "uint8": "u8", "bool": "bool"}


def type_str(shape, dtype) -> str:
    """``f32[N,6,28,28]``: the text form of a value's type."""
    d = _SHORT.get(np.dtype(dtype).name, np.dtype(dtype).name)
    return f"{d}[{','.join(str(s) for s in shape)}]"


class Value:
    """A typed value of a graph: ``shape`` (ints or :class:`Dim`), ``dtype``, ``kind``."""

    __slots__ = ("name", "shape", "dtype", "kind", "producer", "data")

    def __init__(self, name, shape, dtype, kind, producer=None, data=None):
        self.name = name
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.kind = kind  # "input" | "param" | "const" | "node"
        self.producer = producer
        self.data = data  # the array of a "const"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_static(self) -> bool:
        return not has_dims(self.shape)

    def ref(self) -> str:
        """How a node's text names this value: ``%3``, ``x``, ``conv1.weight``, ``2.0``."""
        if self.kind == "const" and self.data is not None and self.data.ndim == 0:
            v = self.data.item()
            return repr(v) if not isinstance(v, float) else f"{v:.6g}" + (
                ".0" if float(v).is_integer() and abs(v) < 1e16 else "")
        return self.name

    def __repr__(self):
        return f"<Value {self.name}: {type_str(self.shape, self.dtype)} ({self.kind})>"


class Node:
    """One equation: ``outputs = op(inputs; params)``."""

    __slots__ = ("op", "inputs", "params", "outputs", "grad_of", "scope", "where",
                 "__weakref__")

    def __init__(self, op: str, inputs, params, outputs, grad_of=None, scope=(), where=""):
        self.op = op
        self.where = where  # "file.py:12": the user's line that applied the op
        self.inputs = list(inputs)
        self.params = dict(params)
        self.outputs = list(outputs)
        self.grad_of = grad_of
        self.scope = tuple(scope)
        for o in self.outputs:
            o.producer = self

    @property
    def prim(self):
        return REGISTRY[self.op]

    @property
    def output(self) -> Value:
        return self.outputs[0]

    def __repr__(self):
        return f"<Node {self.op} -> {', '.join(o.name for o in self.outputs)}>"


def _fmt_param(v) -> str:
    if isinstance(v, np.ndarray):
        return f"array{list(v.shape)}" if v.size > 8 else repr(v.tolist())
    if isinstance(v, np.dtype):
        return v.name
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, tuple) and v and all(
            isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in v):
        return "{" + ",".join(f"{k}={_fmt_param(x)}" for k, x in v) + "}"  # a frozen dict
    if isinstance(v, tuple):
        return "(" + ",".join(_fmt_param(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, slice):
        return f"{'' if v.start is None else v.start}:{'' if v.stop is None else v.stop}" + (
            f":{v.step}" if v.step is not None else "")
    return repr(v)


class Graph:
    """A traced computation: made by :func:`autograd_cnn.trace`, run by calling it.

    Attributes
    ----------
    inputs : list of Value
        Positional arguments, in order.
    params : list of Value
        Named parameters and buffers; their current tensors are in :attr:`bindings`.
    consts : list of Value
        Arrays stored in the graph.
    nodes : list of Node
        In execution order.
    outputs : list of Value
    updates : list of (Value, Value)
        ``(param, new value)``: buffers written back after each run.
    """

    def __init__(self, inputs, params, consts, nodes, outputs, *, out_tree=None,
                 updates=(), bindings=None, name="graph"):
        self.inputs = list(inputs)
        self.params = list(params)
        self.consts = list(consts)
        self.nodes = list(nodes)
        self.outputs = list(outputs)
        self.out_tree = out_tree if out_tree is not None else ("leaf", 0) if len(
            self.outputs) == 1 else ("tuple", [("leaf", i) for i in range(len(self.outputs))])
        self.updates = list(updates)
        self.bindings = dict(bindings or {})
        self.name = name

    # -- inspection -------------------------------------------------------------------
    @property
    def symbols(self) -> list[str]:
        """Names of the symbolic dims, in order of first appearance in the inputs."""
        seen = []
        for v in self.inputs:
            for s in v.shape:
                if isinstance(s, Dim) and s.name not in seen:
                    seen.append(s.name)
        return seen

    def ops(self) -> dict[str, int]:
        """How many nodes of each op (``{"conv2d": 2, "relu": 4, ...}``)."""
        count: dict[str, int] = {}
        for n in self.nodes:
            count[n.op] = count.get(n.op, 0) + 1
        return count

    def forward_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.grad_of is None]

    def backward_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.grad_of is not None]

    def __len__(self) -> int:
        return len(self.nodes)

    def __str__(self) -> str:
        sig = ", ".join(f"{v.name}: {type_str(v.shape, v.dtype)}" for v in self.inputs)
        lines = [f"{self.name}({sig}) {{"]
        if self.params:  # parameters wrapped, several to a line
            line = "  params"
            for v in self.params:
                item = f" {v.name}: {type_str(v.shape, v.dtype)}"
                if len(line) + len(item) > 96:
                    lines.append(line)
                    line = "        "
                line += item
            lines.append(line)
        in_graph = {id(n): n for n in self.nodes}
        for c in self.consts:
            if c.data is None or c.data.ndim > 0:
                lines.append(f"  {c.name} = const : {type_str(c.shape, c.dtype)}")
        for n in self.nodes:
            args = ", ".join(v.ref() for v in n.inputs)
            ps = ", ".join(f"{k}={_fmt_param(v)}" for k, v in n.params.items()
                           if v is not None and k not in ("generator",))
            lhs = ", ".join(o.name for o in n.outputs)
            typ = ", ".join(type_str(o.shape, o.dtype) for o in n.outputs)
            body = f"{n.op}({args}{'; ' + ps if ps else ''})"
            mark = ""
            if n.grad_of is not None:  # the forward node, or its op when a pass removed it
                mark = "  # grad of " + (n.grad_of.output.name if id(n.grad_of) in in_graph
                                         else n.grad_of.op)
            lines.append(f"  {lhs} = {body} : {typ}{mark}")
        for p, v in self.updates:
            lines.append(f"  {p.name} <- {v.ref()}")
        lines.append(f"  return {', '.join(v.ref() for v in self.outputs)}")
        lines.append("}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Graph {self.name}: {len(self.inputs)} inputs, {len(self.params)} params, "
                f"{len(self.nodes)} nodes, {len(self.outputs)} outputs>")

    def simplify(self, passes=None, log: bool = False):
        """A simplified copy (see :mod:`autograd_cnn.graph.passes`); with ``log=True``
        also the list of ``(pass, nodes before, nodes after)``."""
        from .passes import simplify

        return simplify(self, passes=passes, log=log)

    # -- running ------------------------------------------------------------------------
    def bind_symbols(self, args) -> dict:
        """Check ``args`` against the inputs' types; return the symbols' sizes."""
        if len(args) != len(self.inputs):
            raise ReplayError(
                f"{self.name}: expected {len(self.inputs)} positional inputs "
                f"({', '.join(v.name for v in self.inputs)}), got {len(args)}")
        env: dict = {}
        for v, a in zip(self.inputs, args):
            if a.dtype != v.dtype:
                raise ReplayError(f"{self.name}: input {v.name!r} must have dtype {v.dtype}, "
                                  f"got {a.dtype}")
            if a.ndim != v.ndim:
                raise ReplayError(f"{self.name}: input {v.name!r} must have shape "
                                  f"{type_str(v.shape, v.dtype)}, got {tuple(a.shape)}")
            for axis, (want, got) in enumerate(zip(v.shape, a.shape)):
                if isinstance(want, Dim):
                    size = got - want.offset
                    if size % want.scale or (want.name in env and env[want.name] != size
                                             // want.scale):
                        raise ReplayError(
                            f"{self.name}: input {v.name!r} dim {axis} ({want}) got {got}, "
                            f"inconsistent with {want.name}={env.get(want.name)}")
                    env[want.name] = size // want.scale
                elif want != got:
                    raise ReplayError(
                        f"{self.name}: input {v.name!r} must have shape "
                        f"{type_str(v.shape, v.dtype)}, got {tuple(a.shape)} "
                        f"(dim {axis}: expected {want}, got {got})")
        return env

    def run(self, args, bindings=None, *, env_out=None):
        """Run on ``args`` (Tensors); returns the flat list of output tensors."""
        from ..tape import apply_aux
        from ..tensor import Tensor, as_tensor

        args = [as_tensor(a) for a in args]
        syms = self.bind_symbols(args)
        env = {id(v): a for v, a in zip(self.inputs, args)}
        bound = self.bindings if bindings is None else {**self.bindings, **bindings}
        for p in self.params:
            if p.name not in bound:
                raise ReplayError(f"{self.name}: no tensor bound for parameter {p.name!r}")
            env[id(p)] = bound[p.name]
        for c in self.consts:
            env[id(c)] = Tensor._wrap(c.data, False)
        for n in self.nodes:
            params = resolve(n.params, syms) if has_dims(n.params) else n.params
            out, aux = apply_aux(REGISTRY[n.op], [env[id(v)] for v in n.inputs], params)
            env[id(n.outputs[0])] = out
            if len(n.outputs) > 1:
                env[id(n.outputs[1])] = Tensor._wrap(aux, False)
        from ..tape import assign, no_grad

        with no_grad():
            for p, v in self.updates:
                assign(env[id(p)], env[id(v)])
        if env_out is not None:
            env_out.update(env)
        return [env[id(v)] for v in self.outputs]

    def __call__(self, *args):
        """Replay on new inputs (same dtypes; symbolic dims may take any size).

        Returns the traced function's output structure, with tensors that record on the
        tape like eager results (so the replay is differentiable)."""
        return unflatten(self.out_tree, self.run(args))


def unflatten(tree, leaves):
    kind, body = tree
    if kind == "leaf":
        return leaves[body]
    if kind == "tuple":
        return tuple(unflatten(t, leaves) for t in body)
    if kind == "list":
        return [unflatten(t, leaves) for t in body]
    if kind == "dict":
        return {k: unflatten(t, leaves) for k, t in body}
    raise ArgumentTypeError(f"unknown output tree node {kind!r}")
