"""Drawn cases for the pooling primitives (see :mod:`autograd_cnn.testing.cases`).

Max-pool inputs draw unique values at least 0.01 apart, so no window has a tie and the
finite differences never move an argmax; overlapping windows (stride < kernel), padding,
dilation and ceil_mode are all drawn.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from ..ops import pool as P
from ..tape import enable_grad
from ..tensor import Tensor
from .cases import GAPPED, Case, register_case
from .strategies import tensors


@st.composite
def pool_configs(draw, nd: int, kind: str = "max", max_side: int = 5):
    """``(input_shape, params)`` for ``max_pool{nd}d`` / ``avg_pool{nd}d`` that are valid.

    ``params`` are the face's keyword arguments (kernel_size, stride, padding, ...).
    """
    side = max_side if nd < 3 else 3
    ks, ss, ps, ds, sizes = [], [], [], [], []
    for _ in range(nd):
        k = draw(st.integers(1, 3))
        d = draw(st.integers(1, 2)) if kind == "max" else 1
        eff = d * (k - 1) + 1
        p = draw(st.integers(0, k // 2))
        n = draw(st.integers(max(1, eff - 2 * p), max(side, eff - 2 * p)))
        ks.append(k), ds.append(d), ps.append(p), sizes.append(n)
        ss.append(draw(st.integers(1, 3)))
    for i in range(nd):
        # no window made only of padding (refused with PoolShapeError): drop the padding
        n, k, s, p, d = sizes[i], ks[i], ss[i], ps[i], ds[i]
        o = np.arange(P.pool_output_size(n, k, s, p, d, True))[:, None]
        taps = o * s - p + np.arange(k)[None, :] * d
        if not ((taps >= 0) & (taps < n)).any(axis=1).all():
            ps[i] = 0
            sizes[i] = max(n, d * (k - 1) + 1)
    lead = draw(st.sampled_from([(1, 1), (2, 1), (1, 2), (2,)] if nd < 3 else [(1, 1), (1,)]))
    params = dict(kernel_size=tuple(ks), stride=tuple(ss), padding=tuple(ps),
                  ceil_mode=draw(st.booleans()))
    if kind == "max":
        params["dilation"] = tuple(ds)
    else:
        params["count_include_pad"] = draw(st.booleans())
        params["divisor_override"] = draw(st.sampled_from([None, None, 3]))
    return lead + tuple(sizes), params


_MAX_FACES = {1: P.max_pool1d, 2: P.max_pool2d, 3: P.max_pool3d}
_AVG_FACES = {1: P.avg_pool1d, 2: P.avg_pool2d, 3: P.avg_pool3d}


def _max_case(nd):
    @st.composite
    def strat(draw):
        shape, params = draw(pool_configs(nd, "max"))
        x = draw(tensors(shape=shape, elements=GAPPED, unique=True))
        face = _MAX_FACES[nd]
        return Case(lambda t: face(t, **params), (x,), f"{shape} {params}")

    register_case(f"max_pool{nd}d", strat())


def _avg_case(nd):
    @st.composite
    def strat(draw):
        shape, params = draw(pool_configs(nd, "avg"))
        x = draw(tensors(shape=shape))
        face = _AVG_FACES[nd]
        return Case(lambda t: face(t, **params), (x,), f"{shape} {params}")

    register_case(f"avg_pool{nd}d", strat())


for _n in (1, 2, 3):
    _max_case(_n)
    _avg_case(_n)


@st.composite
def _adaptive_shapes(draw):
    lead = draw(st.sampled_from([(1, 1), (2, 1), (2,)]))
    sp = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    out = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    return lead + sp, out


@register_case("adaptive_avg_pool2d")
@st.composite
def _adaptive_avg(draw):
    shape, out = draw(_adaptive_shapes())
    x = draw(tensors(shape=shape))
    return Case(lambda t: P.adaptive_avg_pool2d(t, out), (x,), f"{shape} -> {out}")


@register_case("adaptive_max_pool2d")
@st.composite
def _adaptive_max(draw):
    shape, out = draw(_adaptive_shapes())
    x = draw(tensors(shape=shape, elements=GAPPED, unique=True))
    return Case(lambda t: P.adaptive_max_pool2d(t, out), (x,), f"{shape} -> {out}")


@st.composite
def _plane_indices(draw):
    nd = draw(st.integers(1, 3))
    plane = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    lead = draw(st.sampled_from([(1, 1), (2, 1), (2,)]))
    small = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    n = math.prod(plane)
    idx = np.asarray(draw(st.lists(st.integers(0, n - 1), min_size=math.prod(lead + small),
                                   max_size=math.prod(lead + small)))).reshape(lead + small)
    return nd, plane, lead, small, idx


@register_case("pool_scatter")
@st.composite
def _pool_scatter(draw):
    nd, plane, lead, small, idx = draw(_plane_indices())
    g = draw(tensors(shape=lead + small))
    return Case(lambda t: P.pool_scatter(t, idx, plane), (g,), f"plane={plane} idx={idx.ravel()}")


@register_case("pool_gather")
@st.composite
def _pool_gather(draw):
    nd, plane, lead, small, idx = draw(_plane_indices())
    x = draw(tensors(shape=lead + plane))
    return Case(lambda t: P.pool_gather(t, idx, nd), (x,), f"plane={plane} idx={idx.ravel()}")


@register_case("avg_pool_backward")
@st.composite
def _avg_pool_backward(draw):
    nd = draw(st.integers(1, 3))
    adaptive = nd == 2 and draw(st.booleans())
    if adaptive:
        shape, out = draw(_adaptive_shapes())
        kind, params = "adaptive_avg_pool2d", {"output_size": out}
    else:
        shape, face_params = draw(pool_configs(nd, "avg"))
        kind = f"avg_pool{nd}d"
        params = dict(face_params)
    # the primitive's own parameters: read them off the node the face records
    with enable_grad():
        t = Tensor(np.zeros(shape), requires_grad=True)
        y = (P.adaptive_avg_pool2d(t, params["output_size"]) if adaptive
             else _AVG_FACES[nd](t, **params))
    spec_params = dict(y.grad_fn.params)
    spec = tuple(sorted(spec_params.items()))
    in_sp = tuple(shape[-nd:])
    g = draw(tensors(shape=y.shape))
    prim = P._avg_pool_backward
    return Case(lambda t: prim(t, kind=kind, in_spatial=in_sp, spec=spec), (g,),
                f"{kind} {shape} {params}")
