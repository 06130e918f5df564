"""The register-blocked kernels of small convolutions (kernels/conv_small.py): equal to the
NumPy reference (float64 and float32, 1-3 spatial dims, padding, dilation, channel counts
that are not multiples of the blocking), results that do not depend on how the batch is
split or on the thread count (bitwise), and the short-row im2col equal to im2col."""

import numpy as np
import pytest

from autograd_cnn.kernels import conv_dispatch as D
from autograd_cnn.kernels import conv_numba as CN
from autograd_cnn.kernels import conv_reference as R
from autograd_cnn.kernels import conv_small as S


def rnd(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


CASES = [  # x shape, w shape, padding, dilation
    ((4, 1, 28, 28), (6, 1, 5, 5), ((2, 2), (2, 2)), (1, 1)),  # LeNet's first conv
    ((3, 2, 9, 11), (7, 2, 3, 3), ((1, 0), (2, 1)), (1, 2)),  # 7 filters: a padded block
    ((2, 3, 6, 7), (2, 3, 2, 3), ((0, 1), (1, 0)), (2, 1)),  # 18 taps: a padded group
    ((2, 2, 13), (4, 2, 4), ((3, 1),), (1,)),  # 1-D
    ((2, 2, 4, 5, 6), (3, 2, 2, 3, 2), ((1, 0), (0, 1), (1, 1)), (1, 1, 2)),  # 3-D
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xs, ws, pad, dil", CASES)
def test_small_kernels_equal_the_reference(dtype, xs, ws, pad, dil):
    nd = len(xs) - 2
    s1 = (1,) * nd
    assert S.applies(1, s1, ws[0]) and D.choose_algorithm(
        "conv", xs, ws, s1, pad, 1, dil) in ("direct", "im2col")
    x, w = rnd(xs, 0), rnd(ws, 1)
    ref = R.conv_forward_ref(x, w, s1, pad, dil, 1)
    g = rnd(ref.shape, 2)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    xd, wd, gd = x.astype(dtype), w.astype(dtype), g.astype(dtype)
    y = D.conv_forward(xd, wd, s1, pad, dil, 1, "direct")
    assert y.dtype == dtype
    np.testing.assert_allclose(y, ref, **tol)
    dw = D.conv_weight_grad(xd, gd, s1, pad, dil, 1, ws[2:], "direct")
    assert dw.dtype == dtype
    np.testing.assert_allclose(dw, R.conv_weight_grad_ref(x, g, s1, pad, dil, 1, ws[2:]),
                               **tol)
    dx = D.conv_transpose_forward(gd, wd, s1, pad, dil, 1, (0,) * nd, "direct")
    assert dx.dtype == dtype and dx.shape == xs
    np.testing.assert_allclose(dx, R.conv_transpose_ref(g, w, s1, pad, dil, 1, (0,) * nd),
                               **tol)


def test_transposed_with_output_padding_and_the_fallbacks():
    # dilation 2 allows output_padding 1 with stride 1
    g, w = rnd((2, 4, 6, 5)), rnd((4, 3, 3, 3), 1)
    for pad, op in [(((1, 1), (0, 2)), (1, 0)), (((5, 0), (0, 0)), (0, 0))]:
        # padding 5 > dilation * (K - 1) = 4: not a forward conv, conv_numba's loops
        ok = S.transpose_padding((1, 3, 3), (1, 2, 2), ((0, 0),) + pad, (0,) + op)
        assert (ok is None) == (pad[0][0] == 5)
        dx = D.conv_transpose_forward(g, w, (1, 1), pad, (2, 2), 1, op, "direct")
        np.testing.assert_allclose(
            dx, R.conv_transpose_ref(g, w, (1, 1), pad, (2, 2), 1, op), rtol=1e-12,
            atol=1e-12)
    assert not S.applies(1, (1, 2), 6) and not S.applies(2, (1, 1), 6)
    assert not S.applies(1, (1, 1), 1)  # one output channel: conv_numba's loops


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_split_and_thread_count_do_not_change_results(dtype, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x, w = rnd((5, 2, 11, 9), 0, dtype), rnd((4, 2, 3, 3), 1, dtype)
    p, s1 = ((1, 1), (0, 2)), (1, 1)
    g = rnd(D.conv_out_shape(x.shape, w.shape, s1, p, s1), 2, dtype)

    def run():
        return (D.conv_forward(x, w, s1, p, s1, 1, "direct"),
                D.conv_transpose_forward(g, w, s1, p, s1, 1, (0, 0), "direct"),
                D.conv_weight_grad(x, g, s1, p, s1, 1, (3, 3), "direct"))

    whole = run()  # small: one part
    monkeypatch.setattr(D, "SPLIT_MIN_ELEMENTS", 0)  # two parts
    with threadpoolctl.threadpool_limits(1, "blas"):
        one = run()  # the parts one after the other
    with threadpoolctl.threadpool_limits(2, "blas"):
        two = run()  # the parts at once on two Python threads
    for a, b in zip(one, two):
        assert np.array_equal(a, b)
    # per sample independent: the forward and transposed convs equal the unsplit ones
    assert np.array_equal(whole[0], one[0]) and np.array_equal(whole[1], one[1])
    np.testing.assert_allclose(whole[2], one[2], rtol=1e-5)
    # the kernel over sample ranges: each sample's output does not depend on the range
    x5, w5 = D._as5(x, 2), D._as5(w, 2)
    y5 = np.empty((5, 4, 1) + whole[0].shape[2:], dtype)
    pp = ((0, 0),) + p
    S.conv_small(x5, w5, (1, 1, 1), pp, 0, 2, y5)
    S.conv_small(x5, w5, (1, 1, 1), pp, 2, 5, y5)
    assert np.array_equal(y5.reshape(whole[0].shape), whole[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [7, 8, 10, 13, 16, 17])
def test_short_row_im2col_equals_im2col(dtype, width):
    k3, d3 = (1, 3, 3), (1, 2, 1)
    xp = rnd((2, 3, 1, 9, width + 2), 0, dtype)
    q3 = (1, 9 - 4, width)
    if not S.is_short((1, 1, 1), q3):
        assert width < S.SHORT_MIN or width > S.SHORT_MAX
        return
    rows, q = 3 * 9, q3[1] * q3[2]
    ref = np.empty((rows, 1, q), dtype)
    CN.im2col(xp, 1, 1, k3, (1, 1, 1), d3, q3, ref)
    cols = np.full(rows * q, np.nan, dtype)
    S.im2col_short(xp, 1, k3, d3, q3, cols)
    assert np.array_equal(cols, ref.ravel())



@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flat_fused_transposed_conv_equals_the_reference_and_ignores_threads(dtype):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not D.numba_has_blas():
        pytest.skip("the fused kernels need SciPy's BLAS")
    # LeNet's second conv's input gradient (the padded-width grid widens its GEMM 1.36x,
    # under FLAT_MAX_WIDENING), and one with dilation, padding and output padding
    for gs, ws, p, dil, op in [((4, 16, 10, 10), (16, 6, 5, 5), ((0, 0), (0, 0)), (1, 1),
                                (0, 0)),
                               ((3, 5, 12, 13), (5, 3, 3, 3), ((1, 1), (0, 2)), (2, 2),
                                (1, 0))]:
        q = gs[2] * gs[3]
        full = [gs[2 + i] + dil[i] * (ws[2 + i] - 1) + op[i] for i in range(2)]
        assert ((gs[2] - 1) * full[1] + gs[3]) <= D.FLAT_MAX_WIDENING * q
        g, w = rnd(gs, 0, dtype), rnd(ws, 1, dtype)
        ref = R.conv_transpose_ref(g.astype(np.float64), w.astype(np.float64), (1, 1), p,
                                   dil, 1, op)
        with threadpoolctl.threadpool_limits(1, "blas"):
            one = D.conv_transpose_forward(g, w, (1, 1), p, dil, 1, op, "im2col")
        with threadpoolctl.threadpool_limits(2, "blas"):
            two = D.conv_transpose_forward(g, w, (1, 1), p, dil, 1, op, "im2col")
        assert one.dtype == dtype and np.array_equal(one, two)
        tol = 1e-4 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(one, ref, rtol=tol, atol=tol)
