"""Source generation for fused groups.

A fused group (see :mod:`.fusion`) becomes one Numba function: nested loops over the
group's iteration shape, one scalar local per member node (cast to the node's dtype,
so float32 stays float32 as in NumPy), stores for the values needed outside the group,
and ``+=`` into float64 accumulators for the reductions that end the group (so a
float32 bias gradient is summed more accurately than NumPy's pairwise float32 sum,
never less).

The source depends on the group's ops, dtypes and broadcast pattern, never on the sizes
(they are loop bounds passed at run time), so a batch of 64 and a batch of 7 share a
kernel. Each distinct source is compiled once with ``@njit(cache=True)`` through the
generated-kernel cache of :mod:`autograd_cnn.kernels.generated`: recompiling the same
graph (in this process: a dict hit; in a new one: Numba's on-disk cache) compiles
nothing.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import CompileError
from ..kernels.generated import STATS, cache_dir, clear_memory_cache, kernel_for  # noqa: F401


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


class Layout:
    """How a group's iteration shape is coalesced into the loops of its kernel.

    Iteration dims of size 1 are dropped, and adjacent dims are merged when every
    operand and every reduction treats them alike (both broadcast or both full; both
    reduced or both kept), so that ``(64, 6, 28, 28) + (1, 6, 1, 1)`` loops over
    ``(64, 6, 784)`` with an inner loop of 784 contiguous elements that vectorizes. The
    *pattern* (what is broadcast, reduced, merged) goes into the kernel's source; the
    sizes are passed at run time (arrays are reshaped to the coalesced shapes, which for
    contiguous arrays is a view).

    Attributes
    ----------
    sizes : tuple of int
        The coalesced iteration shape (at least one dim).
    inputs : list of tuple or None
        Per group input: its coalesced shape (1 where broadcast), None for a 0-d input.
    keeps : list of tuple
        Per reduction: its accumulator's coalesced shape (1 where reduced).
    split : int or None
        The dim a run may be split along (each part computing its own outputs and its
        own accumulators' elements, so that a split run equals a serial one bitwise):
        the outermost dim, or with reductions the outermost dim every reduction keeps.
    """

    def __init__(self, group):
        shape = tuple(int(s) for s in group.shape)
        r = len(shape)

        def pad(s):
            return (1,) * (r - len(s)) + tuple(int(k) for k in s)

        ins = [None if len(v.shape) == 0 else pad(v.shape) for v in group.inputs]
        keeps = [pad(k) for k in group.keep_shapes]
        dims, sigs = [], []
        for d in range(r):
            if shape[d] == 1:
                continue
            sig = (tuple(p is not None and p[d] != 1 for p in ins),
                   tuple(k[d] != 1 for k in keeps))
            if sigs and sigs[-1] == sig:
                dims[-1].append(d)
            else:
                dims.append([d])
                sigs.append(sig)
        if not dims:  # every dim is 1: one loop of one element, every operand full
            dims = [[]]
            sigs = [(tuple(p is not None for p in ins), tuple(True for _ in keeps))]
        self.sizes = tuple(math.prod(shape[d] for d in ds) for ds in dims)
        self.full = [tuple(s[0][j] for s in sigs) for j in range(len(ins))]
        self.kept = [tuple(s[1][j] for s in sigs) for j in range(len(keeps))]
        self.inputs = [None if p is None else
                       tuple(n if f else 1 for n, f in zip(self.sizes, self.full[j]))
                       for j, p in enumerate(ins)]
        self.keeps = [tuple(n if f else 1 for n, f in zip(self.sizes, kept))
                      for kept in self.kept]
        self.split = 0
        if self.kept:
            both = [d for d in range(len(self.sizes)) if all(k[d] for k in self.kept)]
            self.split = both[0] if both else None


def _idx(full, m) -> str:
    parts = [f"i{d}" if f else "0" for d, f in zip(range(m), full)]
    return ", ".join(parts) + ("," if m == 1 else "")


def generate(group, inplace=None) -> str:
    """The Python/Numba source of ``group``'s kernel (a function named ``kernel``).

    Signature ``kernel(lo, hi, n0, ..., inputs..., stores..., accumulators...)``: loops
    over the coalesced dims (see :class:`Layout`), the split dim from ``lo`` to ``hi``.
    Reductions add into float64 accumulators; the elementwise arithmetic itself is never
    reassociated. By pattern:

    - the inner dim reduced (a conv bias gradient, ``(N, C, H*W)`` summed to ``C``):
      loops in memory order; the inner row just stored (or, when the summed value is not
      stored, a scratch row of its dtype) is added up by :func:`.rowsum.rowsum`, the one
      place with reassociation (a fixed, vectorized order, the same on every call and
      thread count; re-reading the row from L1 measured faster than a float64 running
      sum in the inner loop, which is bound by the add's latency);
    - the inner dim kept, one pattern for all reductions (a linear bias gradient,
      ``(B, F)`` summed to ``F``): kept dims outside, reduced dims inside, each sum a
      scalar in strict order (measured on 64x84 faster than accumulating rows in memory
      order, which LLVM does not vectorize with the accumulator possibly aliasing);
    - otherwise memory order, each element added to its accumulator in the inner loop.

    ``inplace=(j, k)``: stored output ``k`` overwrites input ``j`` (same shape and dtype,
    read at the same index before the store): the kernel has no ``o{k}`` argument and
    stores into ``a{j}``. One array rather than two equal pointers, because LLVM's
    runtime alias check would send two overlapping arguments down the scalar path."""
    lay = Layout(group)
    m = len(lay.sizes)
    inner = m - 1
    split = 0 if lay.split is None else lay.split
    column = bool(lay.kept) and len(set(lay.kept)) == 1 and lay.kept[0][inner]
    order = list(range(m))
    if column:  # kept dims outside (the split dim, kept by all, first), reduced inside
        order = ([d for d in order if lay.kept[0][d]]
                 + [d for d in order if not lay.kept[0][d]])
    n_kept = sum(lay.kept[0]) if column else m
    names: dict[int, str] = {}
    args = ["lo", "hi"] + [f"n{d}" for d in range(m)]
    pre = []
    loads: dict[int, list] = {p: [] for p in range(m)}  # loop position -> loads there
    for j, v in enumerate(group.inputs):
        arg = f"a{j}"
        args.append(arg)
        names[id(v)] = f"x{j}"
        if lay.inputs[j] is None:
            pre.append(f"x{j} = {arg}[()]")
            continue
        full = lay.full[j]
        level = max([p for p, d in enumerate(order) if full[d]], default=0)
        loads[level].append(f"x{j} = {arg}[{_idx(full, m)}]")
    body = []
    for k, n in enumerate(group.nodes):
        operands = [names[id(v)] if id(v) in names else literal(v.data) for v in n.inputs]
        out = n.outputs[0]
        e = _expr(n.op, operands, n.params, out.dtype, [v.dtype for v in n.inputs])
        body.append(f"v{k} = {_typed(e, out.dtype)}")
        names[id(out)] = f"v{k}"
    full_idx = _idx([True] * m, m)
    dest = {}
    for j, v in enumerate(group.outputs):
        if inplace is not None and inplace[1] == j:
            dest[j] = f"a{inplace[0]}"
        else:
            dest[j] = f"o{j}"
            args.append(f"o{j}")
        body.append(f"{dest[j]}[{full_idx}] = {names[id(v)]}")
    after = []  # after the inner loop, at its level
    init, fold = [], []  # column mode: around the reduced loops
    uses_rowsum = False
    stored = {id(v): j for j, v in enumerate(group.outputs)}
    row = ", ".join(f"i{d}" for d in range(inner))
    for j, n in enumerate(group.reductions):
        args.append(f"r{j}")
        x = n.inputs[0]
        v = names[id(x)]
        kept = lay.kept[j]
        if column:
            init.append(f"s{j} = 0.0")
            body.append(f"s{j} += {v}")
            fold.append(f"r{j}[{_idx(kept, m)}] += s{j}")
            continue
        if kept[inner]:
            body.append(f"r{j}[{_idx(kept, m)}] += {v}")
            continue
        uses_rowsum = True
        if id(x) in stored:  # sum the row just stored (still in L1): no scratch row
            src = dest[stored[id(x)]]
        else:
            src = f"t{j}"
            pre.append(f"t{j} = np.empty(n{inner}, {_cast(x.dtype)})")
            body.append(f"t{j}[i{inner}] = {v}")
        if inner and not src.startswith("t"):
            src = f"{src}[{row}]"
        after.append(f"r{j}[{_idx(kept, m)}] += rowsum({src}, n{inner})")
    lines = ["# autograd_cnn fused kernel (codegen v2)", "import numpy as np",
             "from numba import njit"]
    if uses_rowsum:
        lines.append("from autograd_cnn.compile.rowsum import rowsum")
    lines += ["", "", "@njit(cache=True, nogil=True)", f"def kernel({', '.join(args)}):"]
    lines += [f"    {p}" for p in pre]
    ind = "    "
    for p, d in enumerate(order):
        if p == n_kept:
            lines += [f"{ind}{x}" for x in init]
        rng = "lo, hi" if d == split else f"n{d}"
        lines.append(f"{ind}for i{d} in range({rng}):")
        ind += "    "
        lines += [f"{ind}{x}" for x in loads[p]]
    if n_kept == m:
        lines += [f"{ind}{x}" for x in init]
    lines += [f"{ind}{b}" for b in body]
    if not body and not loads[m - 1]:
        lines.append(f"{ind}pass")
    lines += ["    " * m + a for a in after]
    lines += ["    " * (1 + n_kept) + a for a in fold]
    return "\n".join(lines) + "\n"
