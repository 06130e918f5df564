"""Drawn cases for the convolution family (conv, conv_transpose, conv_weight_grad, unfold,
fold), plus :func:`conv_configs`, a strategy of valid conv configurations that the
property tests reuse.

Configurations cover 1-3 spatial dims, stride 1-3, dilation 1-3, groups 1-3, symmetric,
asymmetric and "same" padding, output_padding, odd sizes, and every algorithm.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from hypothesis import strategies as st

from ..ops import conv as C
from .cases import Case, register_case
from .strategies import tensors


class ConvConfig(NamedTuple):
    """A valid conv: x (N, C, *S), w (O, C/groups, *K) and its normalized parameters."""

    x_shape: tuple
    w_shape: tuple
    stride: tuple
    padding: tuple  # (low, high) pairs
    dilation: tuple
    groups: int
    output_padding: tuple  # a valid output_padding for the transposed conv of this config

    @property
    def nd(self) -> int:
        return len(self.stride)

    @property
    def out_shape(self) -> tuple:
        return C._conv_shape(self.x_shape, self.w_shape, self.stride, self.padding,
                             self.dilation, self.groups)

    def params(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    groups=self.groups)


@st.composite
def conv_configs(draw, nd=None, max_side: int = 4, max_batch: int = 2, max_stride: int = 3,
                 max_dilation: int = 3, max_groups: int = 2, max_channels: int = 2,
                 symmetric: bool = False):
    """Valid conv configurations (see module doc). ``symmetric`` restricts padding to
    equal (low, high) pairs (what PyTorch's int/tuple padding expresses)."""
    if nd is None:
        nd = draw(st.sampled_from([1, 2, 2, 2, 3]))
    if nd == 3:
        max_side = min(max_side, 3)
    groups = draw(st.integers(1, max_groups))
    cg = draw(st.integers(1, max_channels))
    og = draw(st.integers(1, max_channels))
    n = draw(st.integers(1, max_batch))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, max_stride)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, max_dilation)) for _ in range(nd))
    pads = []
    sizes = []
    for i in range(nd):
        lo = draw(st.integers(0, 2))
        hi = lo if symmetric else draw(st.integers(0, 2))
        span = dilation[i] * (kernel[i] - 1) + 1
        size = max(1, span - lo - hi + draw(st.integers(0, max_side - 1)))
        pads.append((lo, hi))
        sizes.append(size)
    x_shape = (n, cg * groups) + tuple(sizes)
    w_shape = (og * groups, cg) + kernel
    op = tuple(draw(st.integers(0, max(stride[i], dilation[i]) - 1)) for i in range(nd))
    return ConvConfig(x_shape, w_shape, stride, tuple(pads), dilation, groups, op)


ALGS = st.sampled_from(["auto", "im2col", "direct", "reference"])


def _alg_for(draw, cfg):
    alg = draw(ALGS)
    if set(cfg.stride) == {1} and set(cfg.dilation) == {1} and draw(st.integers(0, 3)) == 0:
        alg = "fft"
    if math.prod(cfg.w_shape[2:]) == 1 and set(cfg.stride) == {1} and not any(
            lo or hi for lo, hi in cfg.padding) and draw(st.booleans()):
        alg = "gemm"
    return alg


@register_case("conv")
@st.composite
def _conv_case(draw):
    cfg = draw(conv_configs())
    alg = _alg_for(draw, cfg)
    x = draw(tensors(shape=cfg.x_shape))
    w = draw(tensors(shape=cfg.w_shape))
    p = cfg.params()
    if draw(st.integers(0, 4)) == 0 and cfg.nd <= 2:
        p["padding"] = "same"
    return Case(lambda a, b: C.conv(a, b, algorithm=alg, **p), (x, w),
                f"conv {cfg} alg={alg} padding={p['padding']}")


@register_case("conv_transpose")
@st.composite
def _transpose_case(draw):
    cfg = draw(conv_configs())
    alg = _alg_for(draw, cfg)
    # the transposed conv maps the conv's output space back to its input space
    y = draw(tensors(shape=cfg.out_shape))
    w = draw(tensors(shape=cfg.w_shape))
    # output_padding: drawn, or the conv's lost tail (which gives back x's size exactly)
    tail = C._lost_tail(cfg.x_shape, cfg.w_shape, cfg.out_shape, cfg.stride, cfg.padding,
                        cfg.dilation)
    op = cfg.output_padding if draw(st.booleans()) else tail
    size = C.K.transpose_out_shape(cfg.out_shape, cfg.w_shape, cfg.stride, cfg.padding,
                                   cfg.dilation, cfg.groups, op)
    if min(size[2:]) < 1:
        op = tail
    kw = dict(stride=cfg.stride, padding=cfg.padding, dilation=cfg.dilation,
              groups=cfg.groups, output_padding=op)
    if alg == "gemm" and any(op):
        alg = "auto"
    return Case(lambda a, b: C.conv_transpose(a, b, algorithm=alg, **kw), (y, w),
                f"conv_transpose {cfg} alg={alg}")


@register_case("conv_weight_grad")
@st.composite
def _weight_grad_case(draw):
    cfg = draw(conv_configs())
    alg = _alg_for(draw, cfg)
    x = draw(tensors(shape=cfg.x_shape))
    g = draw(tensors(shape=cfg.out_shape))
    kw = dict(cfg.params(), kernel_size=cfg.w_shape[2:], algorithm=alg)
    return Case(lambda a, b: C.conv_weight_grad_p(a, b, **kw), (x, g),
                f"conv_weight_grad {cfg} alg={alg}")


@register_case("unfold")
@st.composite
def _unfold_case(draw):
    cfg = draw(conv_configs(max_groups=1, max_batch=1, max_side=3))
    x = draw(tensors(shape=cfg.x_shape))
    ks, dil, pad, st_ = cfg.w_shape[2:], cfg.dilation, cfg.padding, cfg.stride
    return Case(lambda a: C.unfold(a, ks, dil, pad, st_), (x,), f"unfold {cfg}")


@register_case("fold")
@st.composite
def _fold_case(draw):
    cfg = draw(conv_configs(max_groups=1, max_batch=1, max_side=3))
    ks, dil, pad, st_ = cfg.w_shape[2:], cfg.dilation, cfg.padding, cfg.stride
    q = math.prod(cfg.out_shape[2:])
    cols = draw(tensors(shape=(cfg.x_shape[0], cfg.x_shape[1] * math.prod(ks), q)))
    size = cfg.x_shape[2:]
    return Case(lambda a: C.fold(a, size, ks, dil, pad, st_), (cols,), f"fold {cfg}")


__all__ = ["ConvConfig", "conv_configs"]


@register_case("fftconvolve")
@st.composite
def _fftconvolve_case(draw):
    from .. import signal

    nd = draw(st.integers(1, 3))
    sa = tuple(draw(st.integers(1, 4 if nd < 3 else 2)) for _ in range(nd))
    sv = tuple(draw(st.integers(1, 3 if nd < 3 else 2)) for _ in range(nd))
    mode = draw(st.sampled_from(["full", "same"]))
    a = draw(tensors(shape=sa))
    v = draw(tensors(shape=sv))
    return Case(lambda x, y: signal.fftconvolve(x, y, mode), (a, v), f"{sa} * {sv} {mode}")
