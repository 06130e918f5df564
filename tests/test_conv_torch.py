"""Differential tests of the convolution family against torch.nn.functional: outputs and
all gradients on drawn configurations, float64 to 1e-10 and float32 to 1e-4 (relative)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn.kernels.conv_dispatch import transpose_out_shape
from autograd_cnn.testing.cases_conv import conv_configs

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.torch

N = min(settings().max_examples, 30)
TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-4, atol=1e-4)}


def _pair(cfg):
    return tuple(lo for lo, _ in cfg.padding)


def _run_ours(fn, arrays, grad_out, **kw):
    ts = [ac.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts, **kw)
    grads = ac.gradients([out], ts, grad_outputs=[ac.tensor(grad_out)])
    return out.numpy(), [g.numpy() for g in grads]


def _run_torch(fn, arrays, grad_out, **kw):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts, **kw)
    out.backward(torch.tensor(grad_out))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def _compare(ours, theirs, dtype):
    np.testing.assert_allclose(ours[0], theirs[0], **TOL[dtype])
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, **TOL[dtype])


@settings(max_examples=N)
@given(conv_configs(symmetric=True, max_side=6, max_channels=3), st.booleans(),
       st.sampled_from([np.float64, np.float32]), st.sampled_from(["auto", "im2col", "direct"]),
       st.integers(0, 2**16))
def test_conv_matches_torch_outputs_and_gradients(cfg, with_bias, dtype, alg, seed):
    rng = np.random.default_rng(seed)
    nd = cfg.nd
    x = rng.standard_normal(cfg.x_shape).astype(dtype)
    w = rng.standard_normal(cfg.w_shape).astype(dtype)
    arrays = [x, w] + ([rng.standard_normal(cfg.w_shape[0]).astype(dtype)] if with_bias else [])
    g = rng.standard_normal(cfg.out_shape).astype(dtype)
    ours_fn = getattr(F, f"conv{nd}d")
    theirs_fn = getattr(TF, f"conv{nd}d")
    kw = dict(stride=cfg.stride, padding=_pair(cfg), dilation=cfg.dilation, groups=cfg.groups)
    ours = _run_ours(lambda *t: ours_fn(*t, algorithm=alg, **kw), arrays, g)
    theirs = _run_torch(lambda *t: theirs_fn(*t, **kw), arrays, g)
    _compare(ours, theirs, dtype)


@settings(max_examples=N)
@given(conv_configs(symmetric=True, max_side=5, max_channels=3), st.booleans(),
       st.sampled_from([np.float64, np.float32]), st.integers(0, 2**16))
def test_conv_transpose_matches_torch_outputs_and_gradients(cfg, with_bias, dtype, seed):
    rng = np.random.default_rng(seed)
    nd = cfg.nd
    kw = dict(stride=cfg.stride, padding=_pair(cfg), output_padding=cfg.output_padding,
              groups=cfg.groups, dilation=cfg.dilation)
    y = rng.standard_normal(cfg.out_shape).astype(dtype)
    w = rng.standard_normal(cfg.w_shape).astype(dtype)
    out_shape = transpose_out_shape(cfg.out_shape, cfg.w_shape, cfg.stride, cfg.padding,
                                    cfg.dilation, cfg.groups, cfg.output_padding)
    if min(out_shape[2:]) < 1:
        return
    arrays = [y, w] + ([rng.standard_normal(out_shape[1]).astype(dtype)] if with_bias else [])
    g = rng.standard_normal(tuple(out_shape)).astype(dtype)
    ours = _run_ours(getattr(F, f"conv_transpose{nd}d"), arrays, g, **kw)
    theirs = _run_torch(getattr(TF, f"conv_transpose{nd}d"), arrays, g, **kw)
    _compare(ours, theirs, dtype)


@settings(max_examples=N)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**16),
       st.sampled_from(["reflect", "replicate", "circular"]), st.sampled_from([1, 2]))
def test_padding_modes_and_same_match_torch(k, dilation, seed, mode, nd):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3) + (6,) * nd)
    w = rng.standard_normal((4, 3) + (k,) * nd)
    g = rng.standard_normal((2, 4) + (6,) * nd)
    conv = f"conv{nd}d"
    ours = _run_ours(lambda a, b: getattr(F, conv)(a, b, padding="same", dilation=dilation,
                                                   padding_mode=mode), [x, w], g)
    pad_module = getattr(torch.nn, f"Conv{nd}d")(3, 4, k, padding="same", dilation=dilation,
                                                 padding_mode=mode, bias=False).double()

    def theirs_fn(a, b):
        return pad_module._conv_forward(a, b, None)

    theirs = _run_torch(theirs_fn, [x, w], g)
    _compare(ours, theirs, np.float64)


@settings(max_examples=N)
@given(conv_configs(nd=2, max_groups=1, symmetric=True), st.integers(0, 2**16))
def test_unfold_and_fold_match_torch(cfg, seed):
    rng = np.random.default_rng(seed)
    k = cfg.w_shape[2:]
    kw = dict(kernel_size=k, dilation=cfg.dilation, padding=_pair(cfg), stride=cfg.stride)
    x = rng.standard_normal(cfg.x_shape)
    cols_t = TF.unfold(torch.tensor(x), **kw)
    g = rng.standard_normal(tuple(cols_t.shape))
    _compare(_run_ours(F.unfold, [x], g, **kw), _run_torch(TF.unfold, [x], g, **kw), np.float64)
    c = rng.standard_normal(tuple(cols_t.shape))
    gx = rng.standard_normal(cfg.x_shape)
    size = cfg.x_shape[2:]
    _compare(_run_ours(F.fold, [c], gx, output_size=size, **kw),
             _run_torch(TF.fold, [c], gx, output_size=size, **kw), np.float64)
