"""Source generation for fused groups, and the kernel cache.

A fused group (see :mod:`.fusion`) becomes one Numba function: nested loops over the
group's iteration shape, one scalar local per member node (cast to the node's dtype,
so float32 stays float32 as in NumPy), stores for the values needed outside the group,
and ``+=`` into float64 accumulators for the reductions that end the group (so a
float32 bias gradient is summed more accurately than NumPy's pairwise float32 sum,
never less).

The source depends on the group's ops, dtypes and broadcast pattern, never on the sizes
(they are loop bounds passed at run time), so a batch of 64 and a batch of 7 share a
kernel. Each distinct source is written once to ``<cache>/k_<sha1>.py`` and compiled
with ``@njit(cache=True)``: recompiling the same graph (in this process: a dict hit;
in a new one: Numba's on-disk cache) compiles nothing. The cache directory is
``$AUTOGRAD_CNN_KERNEL_CACHE`` or ``~/.cache/autograd_cnn/fused``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading

import numpy as np

from ..errors import CompileError

_LOCK = threading.Lock()
_KERNELS: dict[str, object] = {}  # sha1 of source -> Numba dispatcher
STATS = {"hits": 0, "misses": 0}


def cache_dir() -> str:
    """Where generated kernel sources (and Numba's caches of them) live."""
    d = os.environ.get("AUTOGRAD_CNN_KERNEL_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "autograd_cnn", "fused")
    os.makedirs(d, exist_ok=True)
    return d


def _cast(dtype: np.dtype) -> str:
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return "bool"
    return f"np.{dtype.name}"


def literal(value: np.ndarray) -> str:
    """A 0-d constant as typed source text (``np.float32(1.0)``)."""
    v = value.item()
    if value.dtype.kind == "b":
        return "True" if v else "False"
    if value.dtype.kind == "f":
        r = repr(float(v))
        if r in ("inf", "-inf", "nan"):
            r = f"np.{r.lstrip('-')}" if r != "-inf" else "-np.inf"
        return f"{_cast(value.dtype)}({r})"
    return f"{_cast(value.dtype)}({int(v)})"


def _typed(x: str, dtype) -> str:
    return f"{_cast(dtype)}({x})"


def _logaddexp0(bx: str) -> str:
    # NumPy's logaddexp(0, y): max + log1p(exp(-|y|)), with the equal-arguments case.
    return (f"(np.log(2.0) if {bx} == 0 else ({bx} + np.log1p(np.exp(-{bx})) if {bx} > 0 "
            f"else np.log1p(np.exp({bx}))))")


def _expr(op: str, a: list[str], params: dict, out_dtype, in_dtypes) -> str:
    """Scalar source for one elementwise node (``a``: its operands' local names)."""
    x = a[0] if a else None
    y = a[1] if len(a) > 1 else None
    binary = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
    if op in binary:
        if op == "div" and out_dtype.kind == "f":
            return f"{_typed(x, out_dtype)} / {_typed(y, out_dtype)}"
        return f"{x} {binary[op]} {y}"
    compare = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
    if op in compare:
        return f"{x} {compare[op]} {y}"
    simple = {"exp": "np.exp", "log": "np.log", "sqrt": "np.sqrt", "tanh": "np.tanh",
              "abs": "abs"}
    if op in simple:
        return f"{simple[op]}({x})"
    if op == "neg":
        return f"-{x}"
    if op == "pow":
        return f"{_typed(x, out_dtype)} ** {_typed(y, out_dtype)}"
    if op == "maximum":  # NaN propagates, as np.maximum
        return f"({x} if ({x} >= {y} or {x} != {x}) else {y})"
    if op == "minimum":
        return f"({x} if ({x} <= {y} or {x} != {x}) else {y})"
    if op == "relu":
        return f"({x} if not ({x} <= 0) else {_typed('0', out_dtype)})"
    if op == "sigmoid":
        h = _typed("0.5", out_dtype)
        return f"{h} * ({_typed('1', out_dtype)} + np.tanh({h} * {x}))"
    if op == "leaky_relu":
        s = _typed(repr(float(params["negative_slope"])), out_dtype)
        return f"({x} if {x} > 0 else {x} * {s})"
    if op == "softplus":
        b = _typed(repr(float(params["beta"])), out_dtype)
        t = repr(float(params["threshold"]))
        bx = f"({x} * {b})"
        return f"({x} if {bx} > {t} else {_typed(_logaddexp0(bx), out_dtype)} / {b})"
    if op == "clip":
        lo, hi = params.get("min"), params.get("max")
        e = x
        if lo is not None:
            e = f"max({e}, {_typed(repr(lo), in_dtypes[0])})"
        if hi is not None:
            e = f"min({e}, {_typed(repr(hi), in_dtypes[0])})"
        return e
    if op == "astype":
        return f"({x} != 0)" if out_dtype.kind == "b" else x
    if op == "where":
        return f"({y} if {x} else {a[2]})"
    if op == "logical_and":
        return f"(bool({x}) and bool({y}))"
    if op == "logical_or":
        return f"(bool({x}) or bool({y}))"
    if op == "logical_not":
        return f"(not bool({x}))"
    if op == "sign":
        return f"np.sign({x})"
    # the activations' VJP primitives (ops/activation_grads.py), rounded as NumPy does
    one = _typed("1", out_dtype)
    if op == "tanh_grad":  # g * (1 - y*y)
        yy = _typed(y + " * " + y, out_dtype)
        return x + " * " + _typed(one + " - " + yy, out_dtype)
    if op == "sigmoid_grad":  # g * y * (1 - y)
        return _typed(x + " * " + y, out_dtype) + " * " + _typed(one + " - " + y, out_dtype)
    if op == "relu_grad":  # where(x > 0, g, 0)
        return f"({x} if {y} > 0 else {_typed('0', out_dtype)})"
    raise CompileError(f"codegen: no scalar form for primitive {op!r}")


#: Elementwise primitives that fused kernels can compute.
FUSIBLE = frozenset({
    "add", "sub", "mul", "div", "eq", "ne", "lt", "le", "gt", "ge", "exp", "log", "sqrt",
    "tanh", "abs", "neg", "pow", "maximum", "minimum", "relu", "sigmoid", "leaky_relu",
    "softplus", "clip", "astype", "where", "logical_and", "logical_or", "logical_not",
    "sign", "tanh_grad", "sigmoid_grad", "relu_grad",
})
#: Reductions a fused group may end with (accumulated inside its loops, in float64).
#: Only ``sum_to``, the VJP of broadcasting (bias gradients): its result is a gradient.
#: ``sum``/``mean`` also work here but are left to NumPy by default, because their
#: results usually feed cancellation-prone arithmetic (batch-norm statistics: x - mean
#: over two samples) where a differently rounded, even if more accurate, sum changes
#: the result by far more than the 1e-5 that compiled code must stay within eager's.
#: ``ALL_REDUCTIONS`` lists what the code generator supports.
ALL_REDUCTIONS = frozenset({"sum", "sum_to", "mean"})
REDUCTIONS = frozenset({"sum_to"})


def _index(in_shape, iter_shape) -> str:
    """Index of an operand broadcast (right-aligned) against the iteration shape."""
    r, k = len(iter_shape), len(in_shape)
    if k == 0:
        return "()"
    parts = ["0" if s == 1 else f"i{r - k + j}" for j, s in enumerate(in_shape)]
    return ", ".join(parts) + ("," if k == 1 else "")


def generate(group) -> str:
    """The Python/Numba source of ``group``'s kernel (a function named ``kernel``)."""
    shape = group.shape
    r = len(shape)
    names: dict[int, str] = {}
    args = [f"n{d}" for d in range(r)]
    pre, body = [], []
    for j, v in enumerate(group.inputs):
        arg = f"a{j}"
        args.append(arg)
        if len(v.shape) == 0:
            pre.append(f"x{j} = {arg}[()]")
            names[id(v)] = f"x{j}"
        else:
            body.append(f"x{j} = {arg}[{_index(v.shape, shape)}]")
            names[id(v)] = f"x{j}"
    for k, n in enumerate(group.nodes):
        operands = []
        for v in n.inputs:
            if id(v) in names:
                operands.append(names[id(v)])
            else:  # a scalar constant, inlined
                operands.append(literal(v.data))
        out = n.outputs[0]
        e = _expr(n.op, operands, n.params, out.dtype, [v.dtype for v in n.inputs])
        body.append(f"v{k} = {_typed(e, out.dtype)}")
        names[id(out)] = f"v{k}"
    full_idx = ", ".join(f"i{d}" for d in range(r)) + ("," if r == 1 else "")
    for j, v in enumerate(group.outputs):
        args.append(f"o{j}")
        body.append(f"o{j}[{full_idx}] = {names[id(v)]}")
    # Reductions that all keep the same axes loop over the kept axes outside and the
    # reduced ones inside, summing into a local (a register) that is added once per kept
    # index; reductions with different patterns add each element into their arrays.
    order, split = list(range(r)), r
    keeps = {tuple(1 if k == 1 else 0 for k in keep) for keep in group.keep_shapes}
    local = len(keeps) == 1
    if local:
        keep = group.keep_shapes[0]
        kept = [d for d in range(r) if keep[d] != 1 or shape[d] == 1]
        order = kept + [d for d in range(r) if d not in kept]
        split = len(kept)
    before, after = [], []
    for j, (n, keep) in enumerate(zip(group.reductions, group.keep_shapes)):
        args.append(f"r{j}")
        v = names[id(n.inputs[0])]
        if local:
            before.append(f"s{j} = 0.0")
            body.append(f"s{j} += {v}")
            after.append(f"r{j}[{_index(keep, shape)}] += s{j}")
        else:
            body.append(f"r{j}[{_index(keep, shape)}] += {v}")
    lines = ["import numpy as np", "from numba import njit", "", "",
             "@njit(cache=True, nogil=True)", f"def kernel({', '.join(args)}):"]
    lines += [f"    {p}" for p in pre]
    ind = "    "
    for k, d in enumerate(order):
        if k == split:
            lines += [f"{ind}{b}" for b in before]
        lines.append(f"{ind}for i{d} in range(n{d}):")
        ind += "    "
    if split == r:
        lines += [f"{ind}{b}" for b in before]
    lines += [f"{ind}{b}" for b in body]
    if not body:
        lines.append(f"{ind}pass")
    lines += ["    " * (1 + split) + a for a in after]
    return "\n".join(lines) + "\n"


def kernel_for(source: str):
    """The compiled kernel of ``source``: from this process's cache, else from the
    on-disk source file (Numba's cache then makes a new process's load cheap)."""
    key = hashlib.sha1(source.encode()).hexdigest()[:20]
    with _LOCK:
        k = _KERNELS.get(key)
        if k is not None:
            STATS["hits"] += 1
            return k
        STATS["misses"] += 1
        path = os.path.join(cache_dir(), f"k_{key}.py")
        if not os.path.exists(path):
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                f.write(source)
            os.replace(tmp, path)  # atomic: concurrent processes see a whole file
        name = f"autograd_cnn_fused_{key}"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        _KERNELS[key] = mod.kernel
        return mod.kernel


def clear_memory_cache():
    """Forget the kernels loaded in this process (the on-disk cache stays)."""
    with _LOCK:
        _KERNELS.clear()
