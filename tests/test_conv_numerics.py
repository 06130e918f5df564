"""Numerics and edge cases of the conv dispatch: where the FFT may be used, non-finite
values kept in their receptive field, named errors for degenerate arguments, float16,
the serial/parallel kernel twins (bitwise equal) and the cold-cache notice."""

import io
import os
import subprocess
import sys
import warnings

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import errors
from autograd_cnn.kernels import conv_dispatch as D
from autograd_cnn.kernels import conv_numba as CN
from autograd_cnn.kernels import conv_reference as R
from autograd_cnn.kernels import jit
from autograd_cnn.kernels import pool as PK

S1, P0 = (1, 1), ((0, 0), (0, 0))


def rnd(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---- FFT only where it is accurate -----------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spike", [1e4, 1e6, 1e20])
def test_auto_stays_accurate_next_to_large_values(dtype, spike):
    x, w = rnd((2, 3, 40, 40)), rnd((4, 3, 9, 9), 1)  # 243 taps: FFT territory by shape
    x[0, 1, 5, 5] = spike
    assert D.choose_algorithm("conv", x.shape, w.shape, S1, P0, 1) == "fft"
    ref = R.conv_forward_ref(x, w, S1, P0, S1, 1)
    y = D.conv_forward(x.astype(dtype), w.astype(dtype), S1, P0, S1, 1, "auto")
    assert y.dtype == dtype
    far = np.ones(ref.shape, bool)
    far[0, :, :6, :6] = False  # the outputs whose window holds the spike
    tol = 1e-4 if dtype == np.float32 else 1e-11  # the direct sum's own rounding
    assert np.abs(y - ref)[far].max() < tol


def test_fft_still_serves_benign_data_and_rejects_wide_ranges():
    x, w = rnd((1, 2, 30, 30)), rnd((2, 2, 9, 9), 1)
    assert D.fft_is_accurate(x, w) and D.fft_is_accurate(x.astype(np.float32),
                                                         w.astype(np.float32))
    x[0, 0, 3, 3] = 1e7
    assert not D.fft_is_accurate(x, w)
    assert not D.fft_is_accurate(x.astype(np.float32), w.astype(np.float32))
    z = np.zeros_like(x)
    assert D.fft_is_accurate(z, w)  # all zeros: exact either way


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_stays_in_its_receptive_field(dtype, bad):
    x, w = rnd((2, 2, 30, 30), 0, dtype), rnd((3, 2, 9, 9), 1, dtype)
    x[1, 0, 15, 15] = bad
    y = F.conv2d(ac.tensor(x), ac.tensor(w)).numpy()  # auto: FFT by shape
    hit = np.zeros(y.shape, bool)
    hit[1, :, 7:16, 7:16] = True  # outputs whose 9x9 window covers (15, 15)
    assert np.isfinite(y[~hit]).all()
    assert not np.isfinite(y[hit]).all()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y2 = F.conv2d(ac.tensor(x), ac.tensor(w), algorithm="fft").numpy()
    assert any("finite" in str(c.message) for c in caught)
    assert np.isfinite(y2[~hit]).all()
    wn = w.copy()
    wn[0, 0, 0, 0] = np.nan  # a NaN tap poisons its output channel only
    y3 = F.conv2d(ac.tensor(rnd((1, 2, 30, 30), 2, dtype)), ac.tensor(wn)).numpy()
    assert np.isnan(y3[:, 0]).all() and np.isfinite(y3[:, 1:]).all()


def test_explicit_fft_computes_in_float64_and_keeps_the_dtype():
    x, w = rnd((1, 1, 20, 20), 0, np.float32), rnd((1, 1, 9, 9), 1, np.float32)
    y = D.conv_forward(x, w, S1, P0, S1, 1, "fft")
    assert y.dtype == np.float32
    ref = R.conv_forward_ref(x.astype(np.float64), w.astype(np.float64), S1, P0, S1, 1)
    assert np.abs(y - ref).max() <= 4 * np.finfo(np.float32).eps * np.abs(ref).max()


# ---- Winograd F(2x2, 3x3) ------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(3, 9),
       st.integers(3, 9), st.tuples(*[st.integers(0, 2)] * 4), st.integers(0, 2**16))
def test_winograd_equals_the_reference(n, c, o, h, w_, pads, seed):
    pad = ((pads[0], pads[1]), (pads[2], pads[3]))
    x, w = rnd((n, c, h, w_), seed), rnd((o, c, 3, 3), seed + 1)
    ref = R.conv_forward_ref(x, w, S1, pad, S1, 1)
    np.testing.assert_allclose(D.conv_forward(x, w, S1, pad, S1, 1, "winograd"), ref,
                               rtol=1e-12, atol=1e-12)
    g = rnd(ref.shape, seed + 2)
    np.testing.assert_allclose(D.conv_transpose_forward(g, w, S1, pad, S1, 1, (0, 0),
                                                        "winograd"),
                               R.conv_transpose_ref(g, w, S1, pad, S1, 1, (0, 0)),
                               rtol=1e-12, atol=1e-12)
    y32 = D.conv_forward(x.astype(np.float32), w.astype(np.float32), S1, pad, S1, 1,
                         "winograd")
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())


def test_winograd_is_auto_for_wide_3x3_convs_and_differentiable():
    x = rnd((2, 16, 9, 8), 0, np.float32)
    w = rnd((16, 16, 3, 3), 1, np.float32)
    p = ((1, 1), (1, 1))
    assert D.choose_algorithm("conv", x.shape, w.shape, S1, p, 1) == "winograd"
    assert D.choose_algorithm("conv_transpose", x.shape, w.shape, S1, p, 1) == "winograd"
    ref = R.conv_forward_ref(x.astype(np.float64), w.astype(np.float64), S1, p, S1, 1)
    np.testing.assert_allclose(D.conv_forward(x, w, S1, p, S1, 1), ref, rtol=1e-4,
                               atol=1e-4)
    from autograd_cnn.testing import gradcheck

    xs, ws = ac.tensor(rnd((1, 2, 5, 4)), requires_grad=True), ac.tensor(
        rnd((3, 2, 3, 3), 1), requires_grad=True)
    assert gradcheck(lambda a, b: F.conv2d(a, b, padding=1, algorithm="winograd"), [xs, ws])
    with pytest.raises(errors.InvalidArgumentError, match="'winograd' needs"):
        F.conv2d(xs, ws, stride=2, algorithm="winograd")
    with pytest.raises(errors.InvalidArgumentError, match="'winograd' needs"):
        F.conv_transpose2d(ac.tensor(rnd((1, 3, 6, 6))), ws, padding=3, algorithm="winograd")


# ---- named errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("call, err, pattern", [
    (lambda: F.conv_transpose2d(ac.ones((1, 1, 0, 3)), ac.ones((1, 1, 3, 3))),
     errors.ConvShapeError, "positive spatial sizes"),
    (lambda: F.conv_transpose1d(ac.ones((2, 1, 0)), ac.ones((1, 1, 3)), stride=2),
     errors.ConvShapeError, "positive spatial sizes"),
    (lambda: F.conv2d(ac.ones((1, 1, 4, 4)), ac.ones((1, 1, 0, 3))),
     errors.ConvShapeError, "kernel size must be positive"),
    (lambda: F.conv_transpose2d(ac.ones((1, 1, 4, 4)), ac.ones((1, 1, 3, 0))),
     errors.ConvShapeError, "kernel size must be positive"),
    (lambda: F.conv2d(ac.ones((1, 1, 4, 4)), ac.ones((1, 1, 3, 3)), stride=2**70),
     errors.InvalidArgumentError, "stride must be at most 2\\*\\*62"),
    (lambda: F.conv_transpose2d(ac.ones((1, 1, 4, 4)), ac.ones((1, 1, 3, 3)), stride=2**70),
     errors.InvalidArgumentError, "stride must be at most"),
    (lambda: F.conv2d(ac.ones((1, 1, 4, 4)), ac.ones((1, 1, 1, 1)), dilation=(1, 2**64)),
     errors.InvalidArgumentError, "dilation must be at most"),
    (lambda: F.conv2d(ac.ones((1, 1, 4, 4)), ac.ones((1, 1, 1, 1)),
                      padding=((2**70, 0), (0, 0))),
     errors.InvalidArgumentError, "padding must be at most"),
    (lambda: F.conv2d(ac.tensor(np.ones((1, 1, 4, 4), np.longdouble)),
                      ac.tensor(np.ones((1, 1, 3, 3), np.longdouble))),
     errors.DTypeError, "longdouble"),
    (lambda: F.unfold(ac.tensor(np.ones((1, 1, 4, 4), np.longdouble)), 2),
     errors.DTypeError, "longdouble"),
])
def test_degenerate_arguments_raise_named_errors(call, err, pattern):
    with pytest.raises(err, match=pattern):
        call()


def test_huge_but_representable_stride_works():
    y = F.conv2d(ac.ones((1, 1, 4, 4)), ac.ones((1, 1, 3, 3)), stride=2**62)
    assert y.shape == (1, 1, 1, 1) and y.numpy().item() == 9.0


def test_float16_is_computed_in_float32_and_returned_as_float16():
    x16, w16 = rnd((2, 3, 7, 6), 0, np.float16), rnd((4, 3, 3, 3), 1, np.float16)
    x = ac.tensor(x16, requires_grad=True)
    w = ac.tensor(w16, requires_grad=True)
    y = F.conv2d(x, w, padding=1, stride=(1, 2))
    assert y.dtype == np.float16
    ref = F.conv2d(ac.tensor(x16.astype(np.float32)), ac.tensor(w16.astype(np.float32)),
                   padding=1, stride=(1, 2)).numpy()
    np.testing.assert_array_equal(y.numpy(), ref.astype(np.float16))
    y.sum().backward()
    assert x.grad.dtype == np.float16 and w.grad.dtype == np.float16
    t = F.conv_transpose2d(ac.tensor(x16), ac.tensor(rnd((3, 2, 2, 2), 2, np.float16)),
                           stride=2)
    assert t.dtype == np.float16
    u = F.unfold(ac.tensor(x16), 2)
    assert u.dtype == np.float16
    assert F.fold(u, (7, 6), 2).dtype == np.float16


# ---- serial / parallel twins -------------------------------------------------------------------


def _conv_kernel_calls(dtype):
    x = D._as5(rnd((3, 4, 11, 9), 0, dtype), 2)
    w = D._as5(rnd((6, 2, 3, 3), 1, dtype), 2)
    for s, d, p in [((1, 1, 1), (1, 1, 1), ((0, 0), (1, 1), (0, 2))),
                    ((1, 2, 1), (1, 1, 2), ((0, 0), (1, 1), (0, 2)))]:
        q = tuple(D.out_size(n, k, st, lo, hi, dd) for n, k, st, (lo, hi), dd in
                  zip(x.shape[2:], w.shape[2:], s, p, d))
        g = rnd((3, 6) + q, 2, dtype)

        def fwd(k, s=s, d=d, p=p, q=q):
            out = np.empty((3, 6) + q, dtype)
            k(x, w, 2, s, d, p, out)
            return out

        def tr(k, s=s, d=d, p=p, g=g):
            out = np.empty(x.shape, dtype)
            k(g, w, 2, s, d, p, out)
            return out

        def wg(k, s=s, d=d, p=p, g=g):
            out = np.empty(w.shape, dtype)
            k(x, g, 2, s, d, p, out)
            return out

        yield CN.conv_direct, fwd
        yield CN.conv_transpose_direct, tr
        yield CN.conv_weight_grad_direct, wg


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_twins_are_bitwise_equal_and_match_the_reference(dtype):
    if numba.get_num_threads() < 2:
        pytest.skip("one thread only")
    for twin, call in _conv_kernel_calls(dtype):
        a, b = call(twin.serial), call(twin.parallel)
        assert np.array_equal(a, b), twin.__name__
    x, w = rnd((3, 4, 11, 9), 0, dtype), rnd((6, 2, 3, 3), 1, dtype)
    y = D.conv_forward(x, w, (1, 1), ((1, 1), (0, 2)), (1, 1), 2, "direct")
    np.testing.assert_allclose(y, R.conv_forward_ref(x, w, (1, 1), ((1, 1), (0, 2)), (1, 1),
                                                     2), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("alg, wshape, stride", [
    ("im2col", (6, 4, 3, 3), (2, 1)), ("im2col", (6, 4, 3, 3), (1, 1)),
    ("gemm", (6, 4, 1, 1), (1, 1)), ("winograd", (6, 4, 3, 3), (1, 1))])
def test_gemm_paths_do_not_depend_on_the_blas_thread_count(alg, wshape, stride):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x = rnd((5, 4, 12, 11), 0, np.float32)
    w = rnd(wshape, 1, np.float32)
    p = ((0, 0), (0, 0)) if alg == "gemm" else ((1, 1), (1, 1))
    g = rnd(D.conv_out_shape(x.shape, w.shape, stride, p, S1), 2, np.float32)
    tail = (x.shape[2] + 2 * p[0][0] - wshape[2]) % stride[0], 0

    def run():
        return (D.conv_forward(x, w, stride, p, S1, 1, alg),
                D.conv_transpose_forward(g, w, stride, p, S1, 1, tail, alg),
                D.conv_weight_grad(x, g, stride, p, S1, 1, wshape[2:], alg))

    prev = D.BLOCK_ELEMENTS
    D.BLOCK_ELEMENTS = 4 * 9 * 132  # several blocks: both parts of run_blocks busy
    try:
        with threadpoolctl.threadpool_limits(1, "blas"):
            one = run()
        with threadpoolctl.threadpool_limits(2, "blas"):
            two = run()
    finally:
        D.BLOCK_ELEMENTS = prev
    ref = R.conv_forward_ref(x.astype(np.float64), w.astype(np.float64), stride, p, S1, 1)
    np.testing.assert_allclose(one[0], ref, rtol=1e-4, atol=1e-4)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_direct_paths_do_not_depend_on_the_thread_count(dtype, monkeypatch):
    if numba.get_num_threads() < 2:
        pytest.skip("one thread only")
    monkeypatch.setattr(D, "SPLIT_MIN_ELEMENTS", 0)  # split the batch into parts
    x, w = rnd((5, 4, 11, 9), 0, dtype), rnd((6, 2, 3, 3), 1, dtype)
    p = ((1, 1), (0, 2))
    g = rnd(D.conv_out_shape(x.shape, w.shape, S1, p, S1), 2, dtype)

    def run():
        return (D.conv_forward(x, w, S1, p, S1, 2, "direct"),
                D.conv_transpose_forward(g, w, S1, p, S1, 2, (0, 0), "direct"),
                D.conv_weight_grad(x, g, S1, p, S1, 2, (3, 3), "direct"))

    split = run()  # small calls: serial builds on two Python threads
    monkeypatch.setattr(D._threads, "NUMBA_MIN_ELEMENTS", 0)
    monkeypatch.setattr(D._threads, "DIRECT_PARALLEL_MIN_FLOPS", 0)
    parallel = run()  # "big" calls: the parallel builds
    for a, b in zip(split, parallel):
        assert np.array_equal(a, b)
    np.testing.assert_allclose(split[2], R.conv_weight_grad_ref(x, g, S1, p, S1, 2, (3, 3)),
                               rtol=1e-4, atol=1e-4)


def test_concurrent_callers_get_exact_results_and_blas_threads_restored():
    import threading

    from autograd_cnn.kernels import threads as T

    x, w = rnd((8, 16, 20, 20), 0, np.float32), rnd((16, 16, 3, 3), 1, np.float32)
    p = ((1, 1), (1, 1))
    ref = D.conv_forward(x, w, S1, p, S1, 1)  # Winograd, batch in two parts
    before = T.blas_threads()
    ok = []

    def work():
        for _ in range(5):
            ok.append(np.array_equal(D.conv_forward(x, w, S1, p, S1, 1), ref))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ok == [True] * 15
    assert T.blas_threads() == before


def test_pool_twins_are_bitwise_equal(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 5, 13, 11)).astype(np.float32)
    g = rng.standard_normal((6, 5, 13, 11)).astype(np.float32)

    def run():
        xt = ac.tensor(x, requires_grad=True)
        F.max_pool2d(xt, 3, stride=1, padding=1).backward(g)
        xa = ac.tensor(x, requires_grad=True)
        ya = F.avg_pool2d(xa, 3, stride=1, padding=1)
        ya.backward(g)
        x3 = ac.tensor(x[:, :, None], requires_grad=True)
        F.max_pool3d(x3, (1, 3, 3), 1, (0, 1, 1)).backward(g[:, :, None])
        return [a.tobytes() for a in (xt.grad.numpy(), ya.numpy(), xa.grad.numpy(),
                                       x3.grad.numpy())]

    serial = run()
    monkeypatch.setattr(PK, "PARALLEL_MIN_ELEMENTS", 0)
    if numba.get_num_threads() < 2:
        pytest.skip("one thread only")
    assert run() == serial


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (1, 2, 7, 9), (2, 1, 5, 4)])
def test_max_pool_2x2_fast_path_equals_the_reference(shape):
    x = rnd(shape, 4, np.float32)
    x[:, :, 0::2, 1] = x[:, :, 0::2, 0]  # ties inside windows: the first maximum wins
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = np.nan  # NaNs: the last one wins
    tabs = [PK.regular_table(n, k, s, 0, 1, o) for n, k, s, o in
            [(1, 1, 1, 1), (shape[2], 2, 2, shape[2] // 2), (shape[3], 2, 2, shape[3] // 2)]]
    x3 = x.reshape(-1, 1, shape[2], shape[3])
    assert PK.is_2x2_stride_2(tabs[1], tabs[2], 2, 1, 0)
    out, idx = PK.max_pool_forward(x3, *tabs, fast=(2, 1, 0, *PK.row_ranges(tabs[2]), True))
    ro, ri = PK.max_pool_reference(x3, *tabs)
    np.testing.assert_array_equal(out, ro)
    np.testing.assert_array_equal(idx, ri)


def test_small_calls_use_the_serial_twin():
    x = D._as5(rnd((2, 2, 6, 6), 0, np.float32), 2)
    w = D._as5(rnd((2, 1, 3, 3), 1, np.float32), 2)
    D.conv_forward(x[:, :, 0], w[:, :, 0], S1, ((1, 1), (1, 1)), S1, 2, "direct")
    flat = CN.conv_direct.variant((1, 1, 1))
    assert isinstance(flat, jit.Twin) and flat is CN._conv_direct_flat
    assert flat.serial.signatures  # compiled and used
    assert flat.pick(True) is flat.parallel
    assert CN.conv_direct.variant((1, 2, 1)) is CN._conv_direct_strided


# ---- the cold-cache notice -------------------------------------------------------------------


@pytest.mark.slow
def test_compile_notice_reflects_the_disk_cache(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path),
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = ("import io, numpy as np, autograd_cnn as ac, autograd_cnn.functional as F\n"
            "from autograd_cnn.kernels import jit\n"
            "print(jit.kernels_need_compiling())\n"
            "import sys\n"
            "if sys.argv[1] == 'run':\n"
            "    x = ac.tensor(np.ones((2, 1, 28, 28), np.float32))\n"
            "    nn = ac.nn  # LeNet-5's convs and pools\n"
            "    m = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.MaxPool2d(2),\n"
            "                      nn.Conv2d(6, 16, 5), nn.MaxPool2d(2))\n"
            "    m(x).sum().backward()\n")
    run = lambda arg: subprocess.run(  # noqa: E731
        [sys.executable, "-c", code, arg], env=env, capture_output=True, text=True,
        timeout=600)
    first = run("run")
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.split()[0] == "True"  # empty cache: compiling ahead
    again = run("check")
    assert again.stdout.split()[0] == "False"  # compiled code cached on disk


def test_announce_prints_one_line_only_when_needed(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr(jit, "kernels_need_compiling", lambda: True)
    assert jit.announce_compilation(buf)
    assert buf.getvalue().count("\n") == 1 and "compiling kernels, once" in buf.getvalue()
    buf = io.StringIO()
    monkeypatch.setattr(jit, "kernels_need_compiling", lambda: False)
    assert not jit.announce_compilation(buf) and buf.getvalue() == ""


def test_numpy_operands_are_copied_so_later_changes_cannot_change_gradients():
    x = np.ones((1, 1, 3, 3), np.float32)
    w = ac.ones(1, 1, 2, 2, requires_grad=True)
    y = F.conv2d(x, w).sum()
    x[...] = 5  # after the forward: the recorded graph must keep the values it used
    y.backward()
    assert w.grad.numpy().ravel().tolist() == [4.0, 4.0, 4.0, 4.0]


def test_without_numba_blas_the_thin_conv_path_falls_back_to_numpy_gemm(monkeypatch):
    # np.dot inside Numba needs SciPy; a machine without it must still convolve
    x = ac.randn(4, 6, 14, 14, seed=0)
    w = ac.randn(16, 6, 5, 5, seed=1)
    fused = F.conv2d(x, w).numpy()
    monkeypatch.setattr(D, "_NUMBA_BLAS", False)
    plain = F.conv2d(x, w).numpy()
    np.testing.assert_allclose(plain, fused, rtol=1e-5, atol=1e-5)
