"""The shape-specialized kernels ``ac.compile`` generates for stride-1 2-D convolutions
(kernels/conv_gen.py, on the vector values of kernels/vec.py): equal to the NumPy
reference for the forward (with the bias and ReLU epilogue), the input gradient and the
weight gradient, in both lane schemes, float32 and float64, on drawn geometries (strides
up to 3 for the forward and the weight gradient); results
that do not depend on the thread count (bitwise); the geometries they refuse; and a
compiled model that uses them and still equals eager."""

import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
from autograd_cnn import nn
from autograd_cnn.kernels import conv_gen as G
from autograd_cnn.kernels import conv_reference as R
from autograd_cnn.kernels import vec

S1 = (1, 1)
ROOT = Path(__file__).resolve().parent.parent


def rnd(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def tol(dtype, scale):
    if dtype == np.float32:
        return dict(rtol=2e-5, atol=2e-5 * scale)
    return dict(rtol=1e-12, atol=1e-12 * scale)


def check_all(xs, ws, pads, dtype, seed=0):
    """Forward (+bias, ReLU), input gradient and weight gradient against the reference."""
    x, w, b = rnd(xs, seed), rnd(ws, seed + 1), rnd(ws[:1], seed + 2)
    ref = R.conv_forward_ref(x, w, S1, pads, S1, 1)
    g = rnd(ref.shape, seed + 3)
    xd, wd, bd, gd = (a.astype(dtype) for a in (x, w, b, g))
    scale = np.sqrt(ws[1] * ws[2] * ws[3])
    fwd = G.Correlation(xs, ws, pads, dtype, bias=True, relu=True)
    y = fwd(xd, wd, bd)
    assert y.dtype == dtype and y.shape == ref.shape
    np.testing.assert_allclose(y, np.maximum(ref + b[None, :, None, None], 0),
                               **tol(dtype, scale))
    plain = G.Correlation(xs, ws, pads, dtype)
    np.testing.assert_allclose(plain(xd, wd), ref, **tol(dtype, scale))
    (pt, pb), (pl, pr) = pads
    R_, S_ = ws[2:]
    full = ((R_ - 1 - pt, R_ - 1 - pb), (S_ - 1 - pl, S_ - 1 - pr))
    back = G.Correlation(ref.shape, ws, full, dtype, flip=True)
    dx = back(gd, wd)
    assert dx.shape == xs
    np.testing.assert_allclose(dx, R.conv_transpose_ref(g, w, S1, pads, S1, 1, (0, 0)),
                               **tol(dtype, np.sqrt(ws[0] * R_ * S_)))
    wg = G.WeightGrad(xs, ref.shape, ws[2:], pads, dtype)
    dw = wg(xd, gd)
    assert dw.shape == ws and dw.dtype == dtype
    np.testing.assert_allclose(dw, R.conv_weight_grad_ref(x, g, S1, pads, S1, 1, ws[2:]),
                               **tol(dtype, np.sqrt(xs[0] * ref.shape[2] * ref.shape[3])))
    return fwd, back, wg


def check_strided(xs, ws, pads, stride, dtype, seed=0):
    """Forward and weight gradient of a strided conv against the reference."""
    x, w = rnd(xs, seed), rnd(ws, seed + 1)
    ref = R.conv_forward_ref(x, w, stride, pads, S1, 1)
    g = rnd(ref.shape, seed + 2)
    fwd = G.Correlation(xs, ws, pads, dtype, stride=stride)
    assert fwd.out_shape == ref.shape and fwd.scheme == "channels"
    np.testing.assert_allclose(fwd(x.astype(dtype), w.astype(dtype)), ref,
                               **tol(dtype, np.sqrt(np.prod(ws[1:]))))
    wg = G.WeightGrad(xs, ref.shape, ws[2:], pads, dtype, stride=stride)
    np.testing.assert_allclose(
        wg(x.astype(dtype), g.astype(dtype)),
        R.conv_weight_grad_ref(x, g, stride, pads, S1, 1, ws[2:]),
        **tol(dtype, np.sqrt(xs[0] * ref.shape[2] * ref.shape[3])))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_forward_and_weight_gradient(dtype):
    check_strided((2, 3, 9, 11), (20, 3, 3, 3), ((1, 1), (1, 0)), (2, 2), dtype)
    check_strided((2, 4, 8, 8), (5, 4, 1, 1), ((0, 0), (0, 0)), (2, 3), dtype)  # a 1x1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lenet_geometries_and_their_schemes(dtype):
    fwd, back, wg = check_all((3, 1, 28, 28), (6, 1, 5, 5), ((2, 2), (2, 2)), dtype)
    assert (fwd.scheme, back.scheme, wg.scheme) == ("width", "width", "width")
    fwd, back, wg = check_all((3, 6, 14, 14), (16, 6, 5, 5), ((0, 0), (0, 0)), dtype)
    assert (fwd.scheme, wg.scheme) == ("channels", "channels")


def test_rows_too_wide_for_width_blocks_take_channel_lanes():
    fwd, _, _ = check_all((1, 1, 3, 300), (2, 1, 2, 2), ((0, 0), (1, 1)), np.float32)
    assert fwd.scheme == "channels"  # 19 width vectors a row: more than the registers


def test_channel_counts_beyond_one_vector_and_narrow_rows():
    # 20 output channels: a full vector and a partial one; rows narrower than the lanes
    check_all((2, 3, 7, 5), (20, 3, 3, 2), ((1, 1), (0, 1)), np.float32)
    check_all((2, 2, 5, 19), (3, 2, 2, 4), ((1, 0), (3, 2)), np.float64)


@st.composite
def geometries(draw):
    R_, S_ = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    H, W = draw(st.integers(R_, 12)), draw(st.integers(S_, 21))
    pads = tuple((draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))) for k in (R_, S_))
    return ((draw(st.integers(1, 3)), draw(st.integers(1, 3)), H, W),
            (draw(st.integers(1, 18)), 0, R_, S_), pads,
            draw(st.sampled_from([np.float32, np.float64])))


@settings(max_examples=max(4, settings().max_examples // 10))
@given(geometries(), st.tuples(st.integers(1, 3), st.integers(1, 3)))
def test_drawn_geometries_equal_the_reference(geometry, stride):
    xs, ws, pads, dtype = geometry
    ws = (ws[0], xs[1]) + ws[2:]
    if stride == (1, 1):
        check_all(xs, ws, pads, dtype)
    else:
        check_strided(xs, ws, pads, stride, dtype)


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    monkeypatch.setattr(G, "PARALLEL_MIN_FMAS", 1)  # two parts even for a small batch
    xs, ws, pads = (4, 3, 9, 20), (5, 3, 3, 3), ((1, 1), (1, 1))
    x, w, g = rnd(xs, 0, np.float32), rnd(ws, 1, np.float32), rnd((4, 5, 9, 20), 2, np.float32)
    fwd, wg = G.Correlation(xs, ws, pads, np.float32), G.WeightGrad(xs, g.shape, (3, 3),
                                                                     pads, np.float32)
    assert fwd.parts == wg.parts == 2
    results = []
    for n in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(n)
        try:
            results.append((fwd(x, w), wg(x, g)))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(*results):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("stride, dilation, groups, dtype", [
    ((0, 1), S1, 1, np.float32), (S1, (2, 1), 1, np.float32), (S1, S1, 2, np.float32),
    (S1, S1, 1, np.float16)])
def test_geometries_left_to_the_generic_kernels(stride, dilation, groups, dtype):
    assert not G.applies((2, 4, 8, 8), (4, 4 // groups, 3, 3), stride, ((1, 1), (1, 1)),
                         dilation, groups, dtype)
    assert G.applies((2, 4, 8, 8), (4, 4, 3, 3), S1, ((1, 1), (1, 1)), S1, 1, "float32")


def test_padding_beyond_the_kernel_is_left_to_the_generic_kernels():
    assert not G.applies((2, 4, 8, 8), (4, 4, 3, 3), S1, ((3, 0), (0, 0)), S1, 1, "float32")
    assert G.applies((2, 4, 8, 8), (4, 4, 3, 3), S1, ((2, 0), (0, 1)), S1, 1, "float32")
    assert G.applies((2, 4, 8, 8), (4, 4, 3, 3), (2, 3), ((2, 0), (0, 1)), S1, 1, "float64")


def test_block_intrinsics():
    from autograd_cnn.kernels import vec_blocks as B

    L = vec.LANES["float32"]
    init = B.init_block(2, "splat", (0, 1))
    tap = B.fma_block(2, ((0, 0, "v", 0, 0, "s"), (1, 0, "v", 3, 1, "s"),
                          (1, L, "v", 0, 0, "v")))
    store = B.store_block(2, (0, L), True, L)
    part = B.store_block(2, (0, L), False, 3)
    lanes = B.lanes_store(2, (0, 1), 2, (L, 1))
    hsum = B.hsum_store(2, (0, 1))

    @numba.njit
    def run(a, b, y, z, h, q):
        vec.wide()
        acc = init(b, 0)  # sums start at b[0] and b[1]
        acc = tap(acc, a, 0, b, 2)  # += a[0:L] * b[2]; += keep3(a[0:L]) * b[3] + a[L:2L] * b[2:]
        store(acc, y, 0)
        part(acc, q, 0)
        lanes(acc, z, 0)
        hsum(acc, h, 0)

    rng = np.random.default_rng(0)
    a = rng.standard_normal(2 * L).astype(np.float32)
    b = rng.standard_normal(L + 2).astype(np.float32)
    y, q = np.zeros(2 * L, np.float32), np.full(2 * L, 7.0, np.float32)
    z, h = np.zeros(2 * L, np.float32), np.zeros(2, np.float32)
    run(a, b, y, z, h, q)
    keep = np.where(np.arange(L) >= 3, a[:L], 0)
    s0 = b[0] + a[:L] * b[2]
    s1 = b[1] + keep * b[3] + a[L:] * b[2:2 + L]
    np.testing.assert_allclose(y, np.maximum(np.concatenate([s0, s1]), 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(q[:3], s0[:3], rtol=1e-5, atol=1e-6)
    assert (q[3:L] == 7).all() and (q[L + 3:] == 7).all()  # only the first 3 lanes stored
    np.testing.assert_allclose(z[0:2 * L:2], s0, rtol=1e-5, atol=1e-6)  # lane q of sum 0 at 2q
    np.testing.assert_allclose(z[1], s1[0], rtol=1e-5, atol=1e-6)  # one lane of sum 1, at 1
    np.testing.assert_allclose(h, [s0.sum(), s1.sum()], rtol=1e-5)


@pytest.mark.parametrize("bits", [128, 256, 512])
def test_every_vector_width_gives_the_same_results(bits, tmp_path):
    """The host's width is read at import: each width in a fresh process (own caches)."""
    env = dict(os.environ, AUTOGRAD_CNN_VECTOR_BITS=str(bits),
               AUTOGRAD_CNN_KERNEL_CACHE=str(tmp_path / "k"), NUMBA_CACHE_DIR=str(tmp_path / "n"))
    code = ("import sys; sys.path.insert(0, 'tests'); import numpy as np; "
            "import test_conv_gen as T; from autograd_cnn.kernels import vec; "
            f"assert vec.BITS == {bits} and vec.LANES['float32'] == {bits // 32}; "
            "T.check_all((2, 1, 9, 20), (3, 1, 3, 3), ((1, 1), (1, 1)), np.float32); "
            "T.check_all((2, 3, 6, 7), (20, 3, 3, 2), ((0, 1), (1, 0)), np.float64)")
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]


def test_a_compiled_model_uses_them_and_equals_eager(monkeypatch):
    monkeypatch.setattr(G, "MIN_FMAS", 0)  # even for these small convs
    ac.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.Conv2d(6, 16, 3),
                          nn.ReLU(), nn.Conv2d(16, 4, 3, stride=2))
    x = ac.tensor(rnd((3, 1, 12, 12), 0, np.float32))

    def loss():
        return (model(x) ** 2).sum()

    eager = loss()
    eager.backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    f = ac.compile(loss)
    out = f()
    out.backward()
    np.testing.assert_allclose(out.item(), eager.item(), rtol=1e-5)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-4, atol=1e-5)
    algorithms = [alg for prog in f.programs for _, alg in prog.algorithms]
    # conv1: forward, weight grad; conv2: three; the stride-2 conv: forward, weight grad
    assert algorithms.count("generated") == 7
    assert len(algorithms) == 8  # the stride-2 conv's input gradient: the generic kernels


def test_convs_too_small_to_pay_for_a_compile_keep_the_generic_kernels():
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU())
    x = ac.tensor(rnd((2, 2, 6, 6), 0, np.float32))
    f = ac.compile(lambda: model(x).sum())
    f().backward()
    algorithms = [alg for prog in f.programs for _, alg in prog.algorithms]
    assert len(algorithms) == 2 and "generated" not in algorithms
    big = G.Correlation((64, 6, 14, 14), (16, 6, 5, 5), ((0, 0), (0, 0)), np.float32)
    assert big.fmas == 64 * 10 * 10 * 6 * 5 * 5 >= G.MIN_FMAS  # one vector: 16 channels
