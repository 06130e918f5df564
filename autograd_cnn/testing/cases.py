"""Drawn test cases per registered primitive: ``CASES[name]`` is a Hypothesis strategy
of :class:`Case` (a function of tensors and the float64 inputs to check it at).

The registry-wide tests run ``gradcheck`` and ``gradgradcheck`` on every case; a
primitive without an entry here fails the completeness test. Register cases for your
own primitives with :func:`register_case`.

Inputs stay away from the points where an op is not differentiable (relu at 0, ties of
max, clip bounds), by drawing from lattices offset from each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st

from .. import ops
from .strategies import broadcastable_shapes, floats, shapes, tensors


class Case(NamedTuple):
    """One drawn check: ``fn(*inputs)`` and the tolerances to check it with."""

    fn: Callable
    inputs: tuple
    label: str = ""
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3


CASES: dict[str, st.SearchStrategy] = {}


def register_case(name: str, strategy: st.SearchStrategy | None = None):
    """``register_case("myop", strategy)``, or use as a decorator on a composite."""

    def put(s):
        CASES[name] = s() if callable(s) and not isinstance(s, st.SearchStrategy) else s
        return s

    return put(strategy) if strategy is not None else put


# lattices that never meet: k/2 + 1/4 and k/2, so values differ by at least 1/4
ODD_LATTICE = st.integers(-6, 6).map(lambda k: k * 0.5 + 0.25)
EVEN_LATTICE = st.integers(-6, 6).map(lambda k: k * 0.5)
NONZERO = ODD_LATTICE
POSITIVE = floats(0.3, 3.0)
# distinct values at least 0.01 apart when drawn with unique=True (no near-ties)
GAPPED = st.integers(-300, 300).map(lambda k: k / 100)


def _unary_case(name, fn, elements=None):
    @st.composite
    def strat(draw):
        x = draw(tensors(elements=elements))
        return Case(fn, (x,), name)

    register_case(name, strat())


def _binary_case(name, fn, left=None, right=None):
    @st.composite
    def strat(draw):
        sa, sb = draw(broadcastable_shapes())
        a = draw(tensors(shape=sa, elements=left))
        b = draw(tensors(shape=sb, elements=right))
        return Case(fn, (a, b), f"{name} {sa} {sb}")

    register_case(name, strat())


_binary_case("add", ops.add)
_binary_case("sub", ops.sub)
_binary_case("mul", ops.mul)
_binary_case("div", ops.div, right=NONZERO)
_binary_case("pow", ops.pow, left=floats(0.5, 2.0), right=floats(-2.0, 2.0))
_binary_case("maximum", ops.maximum, ODD_LATTICE, EVEN_LATTICE)
_binary_case("minimum", ops.minimum, ODD_LATTICE, EVEN_LATTICE)

_unary_case("neg", ops.neg)
_unary_case("exp", ops.exp)
_unary_case("log", ops.log, POSITIVE)
_unary_case("sqrt", ops.sqrt, POSITIVE)
_unary_case("abs", ops.abs, NONZERO)
_unary_case("relu", ops.relu, NONZERO)
_unary_case("sigmoid", ops.sigmoid)
_unary_case("tanh", ops.tanh)


@register_case("leaky_relu")
@st.composite
def _leaky_relu(draw):
    x = draw(tensors(elements=NONZERO))
    slope = draw(st.sampled_from([0.01, 0.2, 1.5]))
    return Case(lambda t: ops.leaky_relu(t, slope), (x,), f"slope={slope}")


@register_case("softplus")
@st.composite
def _softplus(draw):
    beta = draw(st.sampled_from([0.5, 1.0, 2.0]))
    # threshold 4 puts the linear branch inside the drawn range (but never at the kink)
    threshold = draw(st.sampled_from([4.0, 20.0]))
    x = draw(tensors(elements=ODD_LATTICE.filter(lambda v: abs(v * beta - threshold) > 0.2)))
    return Case(lambda t: ops.softplus(t, beta, threshold), (x,), f"beta={beta}")


@register_case("clip")
@st.composite
def _clip(draw):
    x = draw(tensors(elements=ODD_LATTICE))
    lo = draw(st.none() | EVEN_LATTICE)
    hi = draw(st.none() | EVEN_LATTICE) if lo is not None else draw(EVEN_LATTICE)
    if lo is not None and hi is not None and hi < lo:
        lo, hi = hi, lo
    return Case(lambda t: ops.clip(t, lo, hi), (x,), f"[{lo}, {hi}]")


@register_case("astype")
@st.composite
def _astype(draw):
    x = draw(tensors())
    # through float32 and back: identity up to float32 rounding, hence the larger step
    return Case(lambda t: ops.astype(ops.astype(t, np.float32) * 2.0, np.float64), (x,),
                "f64->f32->f64", eps=1e-2, atol=1e-4)


@register_case("where")
@st.composite
def _where(draw):
    sc, sa, sb = draw(broadcastable_shapes(3))
    cond = draw(tensors(shape=sc, dtype=np.bool_, elements=st.booleans()))
    a = draw(tensors(shape=sa))
    b = draw(tensors(shape=sb))
    return Case(lambda x, y: ops.where(cond, x, y), (a, b))


# ---- indexing ------------------------------------------------------------------------


@st.composite
def _index_for(draw, shape):
    kind = draw(st.sampled_from(["basic", "int_array", "bool_mask"]))
    if kind == "basic" or not shape:
        parts = []
        for n in shape:
            if draw(st.booleans()):
                start = draw(st.integers(0, n - 1))
                parts.append(slice(start, draw(st.integers(start + 1, n)),
                                   draw(st.integers(1, 2))))
            else:
                parts.append(draw(st.integers(-n, n - 1)))
        return tuple(parts)
    if kind == "int_array":
        k = draw(st.integers(1, 5))
        return np.asarray(draw(st.lists(st.integers(0, shape[0] - 1), min_size=k, max_size=k)))
    return np.asarray(draw(st.lists(st.booleans(), min_size=shape[0], max_size=shape[0])))


@register_case("getitem")
@st.composite
def _getitem(draw):
    x = draw(tensors(shape=shapes(min_dims=1)))
    index = draw(_index_for(x.shape))
    return Case(lambda t: ops.getitem(t, index), (x,), f"index={index!r}")


@register_case("index_add")
@st.composite
def _index_add(draw):
    shape = draw(shapes(min_dims=1))
    index = draw(_index_for(shape))
    src_shape = np.empty(shape)[index].shape
    src = draw(tensors(shape=src_shape))
    return Case(lambda s: ops.index_add(s, shape, index), (src,), f"index={index!r}")


# ---- linalg --------------------------------------------------------------------------


@register_case("matmul")
@st.composite
def _matmul(draw):
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["mm", "vv", "mv", "vm", "batched"]))
    if kind == "batched":
        ba, bb = draw(broadcastable_shapes(2, max_dims=2, max_side=3))
        sa, sb = ba + (m, k), bb + (k, n)
    else:
        sa = (k,) if kind in ("vv", "vm") else (m, k)
        sb = (k,) if kind in ("vv", "mv") else (k, n)
        if kind == "vm" and draw(st.booleans()):
            sb = (2, k, n)
        if kind == "mv" and draw(st.booleans()):
            sa = (2, m, k)
    a, b = draw(tensors(shape=sa)), draw(tensors(shape=sb))
    return Case(ops.matmul, (a, b), f"{sa} @ {sb}")


_EINSUMS = [
    ("ij,jk->ik", "ij", "jk"),
    ("bij,bjk->bik", "bij", "bjk"),
    ("i,i->", "i", "i"),
    ("ij->j", "ij", None),
    ("ij,j->i", "ij", "j"),
    ("...ij,...jk->...ik", "bij", "jk"),
    ("nchw,oc->nohw", "nchw", "oc"),
    ("ij,kl->ijkl", "ij", "kl"),
    ("ij", "ij", None),
    ("ij->ji", "ij", None),
    ("ij,ik", "ij", "ik"),
]


@register_case("einsum")
@st.composite
def _einsum(draw):
    expr, ta, tb = draw(st.sampled_from(_EINSUMS))
    sizes = {c: draw(st.integers(1, 3)) for c in "abcdefghijklmnopqrstuvwxyz"}
    a = draw(tensors(shape=tuple(sizes[c] for c in ta)))
    if tb is None:
        return Case(lambda x: ops.einsum(expr, x), (a,), expr)
    b = draw(tensors(shape=tuple(sizes[c] for c in tb)))
    return Case(lambda x, y: ops.einsum(expr, x, y), (a, b), expr)


# ---- movement ------------------------------------------------------------------------


@register_case("reshape")
@st.composite
def _reshape(draw):
    x = draw(tensors(shape=shapes(min_dims=1)))
    flat = (-1,) if x.ndim > 1 else (1, -1)
    target = draw(st.sampled_from([flat, tuple(reversed(x.shape)) + (1,), (1,) + x.shape]))
    return Case(lambda t: ops.reshape(t, target), (x,), f"-> {target}")


@register_case("permute")
@st.composite
def _permute(draw):
    x = draw(tensors(shape=shapes(min_dims=2)))
    dims = tuple(draw(st.permutations(range(x.ndim))))
    if dims == tuple(range(x.ndim)):
        dims = dims[1:] + dims[:1]
    return Case(lambda t: ops.permute(t, dims), (x,), f"dims={dims}")


@register_case("broadcast_to")
@st.composite
def _broadcast_to(draw):
    src, dst = draw(broadcastable_shapes(2))
    target = tuple(np.broadcast_shapes(src, dst))
    if target == src:
        target = (2,) + target
    x = draw(tensors(shape=src))
    return Case(lambda t: ops.broadcast_to(t, target), (x,), f"{src} -> {target}")


@register_case("sum_to")
@st.composite
def _sum_to(draw):
    small, other = draw(broadcastable_shapes(2))
    big = tuple(np.broadcast_shapes(small, other))
    if big == small:
        big = (3,) + big
    x = draw(tensors(shape=big))
    return Case(lambda t: ops.sum_to(t, small), (x,), f"{big} -> {small}")


@register_case("concatenate")
@st.composite
def _concatenate(draw):
    base = draw(shapes(min_dims=1))
    axis = draw(st.integers(0, len(base) - 1))
    n = draw(st.integers(2, 3))
    xs = []
    for _ in range(n):
        s = list(base)
        s[axis] = draw(st.integers(1, 3))
        xs.append(draw(tensors(shape=tuple(s))))
    return Case(lambda *ts: ops.concatenate(ts, axis), tuple(xs), f"axis={axis}")


@register_case("pad")
@st.composite
def _pad(draw):
    x = draw(tensors(shape=shapes(min_dims=1)))
    k = draw(st.integers(1, x.ndim))
    widths = tuple(draw(st.integers(0, 2)) for _ in range(2 * k))
    value = draw(st.sampled_from([0.0, 1.5]))
    return Case(lambda t: ops.pad(t, widths, value=value), (x,), f"pad={widths}")


@register_case("flip")
@st.composite
def _flip(draw):
    x = draw(tensors(shape=shapes(min_dims=1)))
    dims = tuple(draw(st.sets(st.integers(0, x.ndim - 1), min_size=1)))
    return Case(lambda t: ops.flip(t, dims), (x,), f"dims={dims}")


@register_case("tile")
@st.composite
def _tile(draw):
    x = draw(tensors(shape=shapes(max_dims=2, max_side=3)))
    reps = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    return Case(lambda t: ops.tile(t, reps), (x,), f"reps={reps}")


# ---- reductions ----------------------------------------------------------------------


@st.composite
def _axes(draw, ndim):
    if ndim == 0 or draw(st.booleans()):
        return None
    return tuple(sorted(draw(st.sets(st.integers(0, ndim - 1), min_size=1))))


def _reduction_case(name, fn, unique=False, min_dims=0):
    @st.composite
    def strat(draw):
        x = draw(tensors(shape=shapes(min_dims=min_dims), unique=unique,
                         elements=GAPPED if unique else None))
        axis = draw(_axes(x.ndim))
        keep = draw(st.booleans())
        return Case(lambda t: fn(t, axis, keep), (x,), f"dim={axis} keepdim={keep}")

    register_case(name, strat())


_reduction_case("sum", ops.sum)
_reduction_case("mean", ops.mean)
_reduction_case("max", ops.amax, unique=True)
_reduction_case("min", ops.amin, unique=True)
_reduction_case("logsumexp", ops.logsumexp)


def _softmax_case(name, fn):
    @st.composite
    def strat(draw):
        x = draw(tensors(shape=shapes(min_dims=1)))
        dim = draw(st.integers(-x.ndim, x.ndim - 1))
        return Case(lambda t: fn(t, dim), (x,), f"dim={dim}")

    register_case(name, strat())


_softmax_case("softmax", ops.softmax)
_softmax_case("log_softmax", ops.log_softmax)


def cases_for(name: str) -> st.SearchStrategy:
    """The drawn cases of primitive ``name`` (KeyError if it has none)."""
    return CASES[name]


__all__ = ["CASES", "Case", "cases_for", "register_case"]
