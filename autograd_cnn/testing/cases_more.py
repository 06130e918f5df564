"""Drawn cases for the primitives behind clamp with tensor bounds, rounded division, the
interpolation tap tables and max unpooling (see :mod:`autograd_cnn.testing.cases`).

- ``clip_tensor``: input and bounds on lattices that never meet, so no element sits on a
  bound and no lower bound equals an upper one (where the derivative jumps);
- ``div_rounded``: quotients at least 1/8 away from an integer (the floor/trunc steps),
  where the derivative is 0, as PyTorch defines it everywhere;
- ``resample_axis`` and its adjoint: every kind (nearest, nearest-exact, linear, cubic,
  area), up- and down-sampling, both ``align_corners``;
- ``unpool_scatter``: distinct indices per plane, where keeping one value is the identity
  on each position and the VJP (a gather) is exact.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from .. import ops
from ..ops import pool as P
from ..ops import resample as RS
from .cases import EVEN_LATTICE, ODD_LATTICE, Case, register_case
from .strategies import broadcastable_shapes, tensors


@register_case("clip_tensor")
@st.composite
def _clip_tensor(draw):
    which = draw(st.sampled_from(["min", "max", "both"]))
    sx, sl, sh = draw(broadcastable_shapes(3))
    x = draw(tensors(shape=sx, elements=ODD_LATTICE))
    lo = draw(tensors(shape=sl, elements=EVEN_LATTICE)) if which != "max" else None
    # k/2 + 0.1: never equal to a lower bound (k/2) nor to an input (k/2 + 1/4); lower
    # bounds above upper ones are drawn too (there the upper bound wins, as PyTorch)
    hi = (draw(tensors(shape=sh, elements=EVEN_LATTICE.map(lambda v: v + 0.1)))
          if which != "min" else None)
    inputs = tuple(t for t in (x, lo, hi) if t is not None)

    def fn(*ts):
        it = iter(ts[1:])
        a = next(it) if lo is not None else None
        b = next(it) if hi is not None else None
        return ops.clip(ts[0], a, b)

    return Case(fn, inputs, f"clamp {which} {sx} {sl} {sh}")


@register_case("div_rounded")
@st.composite
def _div_rounded(draw):
    mode = draw(st.sampled_from(["trunc", "floor"]))
    sa, sb = draw(broadcastable_shapes())
    a = draw(tensors(shape=sa, elements=ODD_LATTICE))  # k/2 + 1/4
    b = draw(tensors(shape=sb, elements=st.sampled_from([-2.0, 2.0, 4.0])))
    return Case(lambda x, y: ops.div(x, y, rounding_mode=mode), (a, b), f"{mode} {sa} {sb}")


@st.composite
def _resample_config(draw):
    kind = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "cubic", "area"]))
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 5)) for _ in range(ndim))
    axis = draw(st.integers(0, ndim - 1))
    n_out = draw(st.integers(1, 7))
    factor = draw(st.none() | st.sampled_from([0.5, 1.5, 2.0])) if kind != "area" else None
    align = draw(st.booleans()) if kind in ("linear", "cubic") else False
    table = (kind, shape[axis], n_out, factor, align)
    return shape, axis, table


@register_case("resample_axis")
@st.composite
def _resample_axis(draw):
    shape, axis, table = draw(_resample_config())
    x = draw(tensors(shape=shape))
    return Case(lambda t: RS._resample(t, axis=axis, table=table), (x,), f"{table} {shape}")


@register_case("resample_axis_adjoint")
@st.composite
def _resample_axis_adjoint(draw):
    shape, axis, table = draw(_resample_config())
    g_shape = shape[:axis] + (table[2],) + shape[axis + 1:]
    g = draw(tensors(shape=g_shape))
    return Case(lambda t: RS._resample_adjoint(t, axis=axis, table=table), (g,),
                f"{table} {g_shape}")


@register_case("unpool_scatter")
@st.composite
def _unpool_scatter(draw):
    nd = draw(st.integers(1, 3))
    plane = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    lead = draw(st.sampled_from([(1, 1), (2, 1), (2,)]))
    n = math.prod(plane)
    m = draw(st.integers(1, n))
    rows = [draw(st.permutations(range(n)))[:m] for _ in range(math.prod(lead))]
    small = (m,) + (1,) * (nd - 1)
    idx = np.asarray(rows, dtype=np.int64).reshape(lead + small)
    v = draw(tensors(shape=lead + small))
    return Case(lambda t: P._unpool_scatter(t, idx, plane=plane), (v,),
                f"plane={plane} idx={idx.ravel()}")
