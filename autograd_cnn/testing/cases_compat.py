"""Drawn cases for the PyTorch-compatibility primitives: ``take_along_dim`` (gather),
``scatter_add_along_dim`` (its adjoint, with repeated indices), ``erf``, ``clone``."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import ops
from ..ops import sorting
from ..tensor import Tensor
from .cases import Case, register_case
from .strategies import shapes, tensors


@st.composite
def _index_for(draw, shape, dim, n_out):
    """Integer indices into ``shape[dim]``, of the same shape with ``n_out`` along dim
    (repeats allowed: the scatter then accumulates)."""
    out_shape = tuple(n_out if i == dim else s for i, s in enumerate(shape))
    seed = draw(st.integers(0, 2**16))
    idx = np.random.default_rng(seed).integers(0, shape[dim], size=out_shape)
    return Tensor(idx.astype(np.int64))


@register_case("take_along_dim")
@st.composite
def _take(draw):
    x = draw(tensors(shape=shapes(min_dims=1)))
    dim = draw(st.integers(0, x.ndim - 1))
    idx = draw(_index_for(x.shape, dim, draw(st.integers(1, 4))))
    return Case(lambda t: ops.gather(t, dim, idx), (x,), f"dim={dim} idx={idx.shape}")


@register_case("scatter_add_along_dim")
@st.composite
def _scatter(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(0, len(shape) - 1))
    idx = draw(_index_for(shape, dim, draw(st.integers(1, 4))))
    src = draw(tensors(shape=idx.shape))
    return Case(lambda s: sorting._scatter(s, idx, dim=dim, shape=shape), (src,),
                f"dim={dim} shape={shape}")


@register_case("erf")
@st.composite
def _erf(draw):
    return Case(ops.erf, (draw(tensors()),))


@register_case("clone")
@st.composite
def _clone(draw):
    return Case(lambda t: ops.clone(t) * 2.0, (draw(tensors()),))


@register_case("sin")
@st.composite
def _sin(draw):
    return Case(ops.sin, (draw(tensors()),))


@register_case("cos")
@st.composite
def _cos(draw):
    return Case(ops.cos, (draw(tensors()),))
