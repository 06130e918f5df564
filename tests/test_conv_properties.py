"""The mathematics of the convolution family, stated as Hypothesis properties: Toeplitz
equivalence, adjointness, linearity, shift equivariance, group decomposition, 1x1 convs
as einsums, every algorithm equal to the NumPy reference, parallel == serial bitwise."""


import importlib.util
import os

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import errors, signal
from autograd_cnn.kernels import conv_dispatch as D
from autograd_cnn.kernels import conv_reference as R
from autograd_cnn.ops import conv as C
from autograd_cnn.testing.cases_conv import conv_configs
from autograd_cnn.testing.properties import (
    PropertyError,
    check_adjointness,
    check_associativity,
    check_close,
    check_commutativity,
    check_linearity,
    check_shift_equivariance,
    check_toeplitz_equivalence,
)

HAVE_SCIPY = importlib.util.find_spec("scipy") is not None

# ci/dev stay fast with at most 30 examples per property; the thorough profile runs its
# full count (500), which is what it is for.
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
N = settings().max_examples if _PROFILE == "thorough" else min(settings().max_examples, 30)


def rnd(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def T(a):
    return ac.tensor(a)


@settings(max_examples=N)
@given(conv_configs(max_batch=1), st.integers(0, 2**16))
def test_toeplitz_equivalence_conv_is_multiplication_by_conv_matrix(cfg, seed):
    w = rnd(cfg.w_shape, seed)
    x = rnd(cfg.x_shape[1:], seed + 1)
    m = signal.conv_matrix(w, cfg.x_shape[1:], **cfg.params())
    f = lambda x: C.conv(C.reshape(x, (1,) + x.shape), T(w), **cfg.params())  # noqa: E731
    check_toeplitz_equivalence(f, m, x, rtol=1e-10, atol=1e-10)
    if HAVE_SCIPY:  # the sparse form is optional (SciPy); the dense one is always there
        ms = signal.conv_matrix(w, cfg.x_shape[1:], sparse=True, **cfg.params())
        check_close("sparse conv matrix", ms.toarray(), m, 0, 0)


def test_sparse_conv_matrix_without_scipy_is_a_named_error():
    if HAVE_SCIPY:
        pytest.skip("SciPy is installed: the sparse path is tested above")
    with pytest.raises(errors.InvalidArgumentError, match="SciPy"):
        signal.conv_matrix(np.ones((1, 1, 2)), (1, 4), sparse=True)


@settings(max_examples=N)
@given(conv_configs(), st.integers(0, 2**16), st.data())
def test_adjointness_conv_and_conv_transpose(cfg, seed, data):
    tail = C._lost_tail(cfg.x_shape, cfg.w_shape, cfg.out_shape, cfg.stride, cfg.padding,
                        cfg.dilation)
    w = T(rnd(cfg.w_shape, seed))
    x, y = rnd(cfg.x_shape, seed + 1), rnd(cfg.out_shape, seed + 2)
    alg = data.draw(st.sampled_from(["auto", "im2col", "direct"]))
    p = cfg.params()
    check_adjointness(lambda a: C.conv(a, w, algorithm=alg, **p),
                      lambda b: C.conv_transpose(b, w, output_padding=tail, algorithm=alg, **p),
                      x, y, rtol=1e-10)


@settings(max_examples=N)
@given(conv_configs(), st.integers(0, 2**16))
def test_adjointness_holds_for_every_valid_output_padding(cfg, seed):
    # conv_transpose with output_padding op is the adjoint of the conv on the larger input
    op = cfg.output_padding
    w = T(rnd(cfg.w_shape, seed))
    y = rnd(cfg.out_shape, seed + 1)
    p = cfg.params()
    z_shape = D.transpose_out_shape(cfg.out_shape, cfg.w_shape, cfg.stride, cfg.padding,
                                    cfg.dilation, cfg.groups, op)
    if min(z_shape[2:]) < 1:
        return
    x = rnd(z_shape, seed + 2)
    fwd = lambda a: C._crop_to(C.conv(a, w, **p), cfg.out_shape[2:])  # noqa: E731
    check_adjointness(fwd, lambda b: C.conv_transpose(b, w, output_padding=op, **p), x, y,
                      rtol=1e-10)


@settings(max_examples=N)
@given(conv_configs(), st.integers(0, 2**16), st.floats(-3, 3), st.floats(-3, 3))
def test_linearity_in_the_input_and_in_the_kernel(cfg, seed, a, b):
    p = cfg.params()
    w1, w2 = rnd(cfg.w_shape, seed), rnd(cfg.w_shape, seed + 1)
    x1, x2 = rnd(cfg.x_shape, seed + 2), rnd(cfg.x_shape, seed + 3)
    check_linearity(lambda x: C.conv(x, T(w1), **p), x1, x2, a, b, rtol=1e-9, atol=1e-9)
    check_linearity(lambda w: C.conv(T(x1), w, **p), w1, w2, a, b, rtol=1e-9, atol=1e-9)


@settings(max_examples=N)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(0, 2**16),
       st.data())
def test_shift_equivariance_with_circular_padding(k, stride, dilation, seed, data):
    # size a multiple of the stride, so circular shifts by multiples of it commute
    size = stride * data.draw(st.integers(2, 4)) + 0
    span = dilation * (k - 1) + 1
    lo = span // 2
    hi = span - 1 - lo
    if max(lo, hi) > size:
        return
    x = rnd((1, 2, size, size), seed)
    w = T(rnd((3, 2, k, k), seed + 1))
    f = lambda t: F.conv2d(t, w, stride=stride, padding=((lo, hi), (lo, hi)),  # noqa: E731
                           dilation=dilation, padding_mode="circular")
    m = data.draw(st.integers(0, size // stride - 1))
    n = data.draw(st.integers(0, size // stride - 1))
    check_shift_equivariance(f, x, (m * stride, n * stride), (2, 3), out_shift=(m, n),
                             rtol=1e-10, atol=1e-10)


@settings(max_examples=N)
@given(st.integers(1, 3), st.integers(0, 3), st.integers(0, 2**16))
def test_shift_equivariance_with_zero_padding_holds_on_the_interior(k, shift, seed):
    x = np.zeros((1, 1, 12))
    x[0, 0, 4:8] = rnd(4, seed)  # compact support away from the borders
    w = T(rnd((1, 1, k), seed + 1))
    f = lambda t: F.conv1d(t, w, padding="same")  # noqa: E731
    check_shift_equivariance(f, x, (shift,), (2,), interior=(..., slice(shift + k, 12 - k)),
                             rtol=1e-10, atol=1e-12)


def test_shift_equivariance_check_detects_a_non_equivariant_op():
    x = rnd((1, 1, 8))
    with pytest.raises(PropertyError, match="shift equivariance"):
        check_shift_equivariance(lambda t: t * T(np.arange(8.0)), x, (1,), (2,))


@settings(max_examples=N)
@given(conv_configs(max_groups=3), st.integers(0, 2**16))
def test_grouped_conv_is_the_concatenation_of_per_group_convs(cfg, seed):
    x, w = rnd(cfg.x_shape, seed), rnd(cfg.w_shape, seed + 1)
    g = cfg.groups
    cg, og = cfg.x_shape[1] // g, cfg.w_shape[0] // g
    kw = dict(stride=cfg.stride, padding=cfg.padding, dilation=cfg.dilation)
    whole = C.conv(T(x), T(w), groups=g, **kw).numpy()
    parts = [C.conv(T(x[:, i * cg:(i + 1) * cg]), T(w[i * og:(i + 1) * og]), **kw).numpy()
             for i in range(g)]
    check_close("grouped = concat of per-group convs", whole, np.concatenate(parts, 1),
                1e-10, 1e-10)


@settings(max_examples=N)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**16))
def test_depthwise_then_pointwise_is_a_depthwise_separable_conv(c, o, k, seed):
    x, dw, pw = rnd((2, c, 6, 5), seed), rnd((c, 1, k, k), seed + 1), rnd((o, c, 1, 1), seed + 2)
    y = F.conv2d(F.conv2d(T(x), T(dw), padding="same", groups=c), T(pw))
    # the separable block is one conv whose kernel is the product pw[o, c] * dw[c, k]
    full = pw[:, :, 0, 0][:, :, None, None] * dw[:, 0][None]
    check_close("depthwise + 1x1 = separable conv", y, F.conv2d(T(x), T(full), padding="same"),
                1e-10, 1e-10)


@settings(max_examples=N)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 3), st.integers(0, 2**16))
def test_1x1_conv_is_an_einsum_over_channels(c, o, groups, seed):
    x, w = rnd((2, c * groups, 4, 3), seed), rnd((o * groups, c, 1, 1), seed + 1)
    y = F.conv2d(T(x), T(w), groups=groups)
    ref = np.concatenate([np.einsum("nchw,oc->nohw", x[:, g * c:(g + 1) * c],
                                    w[g * o:(g + 1) * o, :, 0, 0]) for g in range(groups)], 1)
    check_close("1x1 conv = einsum", y, ref, 1e-12, 1e-12)


# ---- kernels: every algorithm equals the reference; parallel == serial ----------------------


@settings(max_examples=N)
@given(conv_configs(max_side=6, max_channels=3), st.integers(0, 2**16),
       st.sampled_from(["im2col", "direct", "auto"]))
def test_every_algorithm_equals_the_reference(cfg, seed, alg):
    x, w = rnd(cfg.x_shape, seed), rnd(cfg.w_shape, seed + 1)
    g = rnd(cfg.out_shape, seed + 2)
    s, p, d, gr = cfg.stride, cfg.padding, cfg.dilation, cfg.groups
    tail = C._lost_tail(cfg.x_shape, cfg.w_shape, cfg.out_shape, s, p, d)
    check_close("forward", D.conv_forward(x, w, s, p, d, gr, alg),
                R.conv_forward_ref(x, w, s, p, d, gr), 1e-12, 1e-12)
    check_close("transpose", D.conv_transpose_forward(g, w, s, p, d, gr, tail, alg),
                R.conv_transpose_ref(g, w, s, p, d, gr, tail), 1e-12, 1e-12)
    check_close("weight grad", D.conv_weight_grad(x, g, s, p, d, gr, cfg.w_shape[2:], alg),
                R.conv_weight_grad_ref(x, g, s, p, d, gr, cfg.w_shape[2:]), 1e-12, 1e-12)
    if gr == 1:
        k = cfg.w_shape[2:]
        cols = D.unfold(x, k, s, p, d)
        check_close("unfold", cols, R.unfold_ref(x, k, s, p, d), 0, 0)
        check_close("fold", D.fold(cols, cfg.x_shape[2:], k, s, p, d),
                    D.fold(cols, cfg.x_shape[2:], k, s, p, d, "reference"), 1e-12, 1e-12)


@settings(max_examples=N)
@given(conv_configs(max_stride=1, max_dilation=1, max_channels=3), st.integers(0, 2**16),
       st.sampled_from([np.float64, np.float32]))
def test_fft_algorithm_equals_the_reference(cfg, seed, dtype):
    x, w = rnd(cfg.x_shape, seed, dtype), rnd(cfg.w_shape, seed + 1, dtype)
    y = D.conv_forward(x, w, cfg.stride, cfg.padding, cfg.dilation, cfg.groups, "fft")
    assert y.dtype == dtype
    tol = 1e-10 if dtype == np.float64 else 1e-4
    check_close("fft forward", y, R.conv_forward_ref(x, w, cfg.stride, cfg.padding,
                                                     cfg.dilation, cfg.groups), tol, tol)


def test_fft_is_chosen_for_large_kernels_and_its_gradients_work():
    assert D.choose_algorithm("conv", (1, 1, 64, 64), (1, 1, 11, 11), (1, 1),
                              ((5, 5), (5, 5)), 1) == "fft"
    x = ac.tensor(rnd((1, 2, 6, 5)), requires_grad=True)
    w = ac.tensor(rnd((3, 2, 3, 2), 1), requires_grad=True)
    from autograd_cnn.testing import gradcheck, gradgradcheck

    f = lambda a, b: F.conv2d(a, b, padding=1, algorithm="fft")  # noqa: E731
    assert gradcheck(f, [x, w]) and gradgradcheck(f, [x, w])
    with pytest.raises(ac.errors.InvalidArgumentError, match="'fft' needs stride 1"):
        F.conv2d(x, w, stride=2, algorithm="fft")


def test_gemm_algorithm_equals_the_reference_for_1x1():
    x, w, g = rnd((3, 6, 5, 4)), rnd((4, 3, 1, 1), 1), rnd((3, 4, 5, 4), 2)
    one, zero = (1, 1), ((0, 0), (0, 0))
    check_close("gemm forward", D.conv_forward(x, w, one, zero, one, 2, "gemm"),
                R.conv_forward_ref(x, w, one, zero, one, 2), 1e-12, 1e-12)
    check_close("gemm transpose", D.conv_transpose_forward(g, w, one, zero, one, 2, (0, 0),
                                                           "gemm"),
                R.conv_transpose_ref(g, w, one, zero, one, 2, (0, 0)), 1e-12, 1e-12)
    check_close("gemm weight grad", D.conv_weight_grad(x, g, one, zero, one, 2, (1, 1), "gemm"),
                R.conv_weight_grad_ref(x, g, one, zero, one, 2, (1, 1)), 1e-12, 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alg", ["im2col", "direct"])
def test_parallel_and_serial_results_are_bitwise_equal(dtype, alg, monkeypatch):
    monkeypatch.setattr(D._threads, "NUMBA_MIN_ELEMENTS", 0)  # small inputs: serial anyway
    monkeypatch.setattr(D._threads, "DIRECT_PARALLEL_MIN_FLOPS", 0)  # (serial twin: jit.py)
    x, w = rnd((3, 4, 11, 9), 0, dtype), rnd((6, 2, 3, 3), 1, dtype)
    s, p, d = (2, 1), ((1, 1), (0, 2)), (1, 2)
    g = rnd(D.conv_out_shape(x.shape, w.shape, s, p, d), 2, dtype)
    tail = C._lost_tail(x.shape, w.shape, g.shape, s, p, d)

    def run():
        return (D.conv_forward(x, w, s, p, d, 2, alg),
                D.conv_transpose_forward(g, w, s, p, d, 2, tail, alg),
                D.conv_weight_grad(x, g, s, p, d, 2, (3, 3), alg),
                D.unfold(x, (3, 3), s, p, d))

    par = run()
    prev = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        ser = run()
    finally:
        numba.set_num_threads(prev)
    for a, b in zip(par, ser):
        assert a.dtype == dtype
        assert np.array_equal(a, b)


def test_blocked_im2col_equals_one_block():
    x, w = rnd((5, 3, 9, 8)), rnd((4, 3, 3, 3), 1)
    s, p, d = (1, 1), ((1, 1), (1, 1)), (1, 1)
    g = rnd(D.conv_out_shape(x.shape, w.shape, s, p, d), 2)
    whole = (D.conv_forward(x, w, s, p, d, 1, "im2col"),
             D.conv_transpose_forward(g, w, s, p, d, 1, (0, 0), "im2col"),
             D.conv_weight_grad(x, g, s, p, d, 1, (3, 3), "im2col"))
    prev = D.BLOCK_ELEMENTS
    D.BLOCK_ELEMENTS = 27 * 72 * 2  # two samples per block, with a ragged last block
    try:
        blocked = (D.conv_forward(x, w, s, p, d, 1, "im2col"),
                   D.conv_transpose_forward(g, w, s, p, d, 1, (0, 0), "im2col"),
                   D.conv_weight_grad(x, g, s, p, d, 1, (3, 3), "im2col"))
    finally:
        D.BLOCK_ELEMENTS = prev
    for a, b in zip(whole, blocked):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_auto_algorithm_choice_follows_the_shape():
    assert D.choose_algorithm("conv", (16, 256, 28, 28), (64, 256, 1, 1), (1, 1),
                              ((0, 0), (0, 0)), 1) == "gemm"
    assert D.choose_algorithm("conv", (16, 128, 28, 28), (128, 1, 3, 3), (1, 1),
                              ((1, 1), (1, 1)), 128) == "direct"
    assert D.choose_algorithm("conv", (8, 64, 56, 56), (64, 64, 3, 3), (1, 1),
                              ((1, 1), (1, 1)), 1) == "winograd"
    assert D.choose_algorithm("conv_weight_grad", (8, 64, 56, 56), (64, 64, 3, 3), (1, 1),
                              ((1, 1), (1, 1)), 1) == "im2col"
    assert D.choose_algorithm("conv", (8, 64, 56, 56), (64, 64, 3, 3), (2, 2),
                              ((1, 1), (1, 1)), 1) == "im2col"
    # LeNet's first conv: the forward on the fused im2col+GEMM kernel (compiled anyway for
    # the second conv; the direct one would cost compile time), the gradients direct
    lenet1 = ((64, 1, 28, 28), (6, 1, 5, 5), (1, 1), ((2, 2), (2, 2)), 1)
    assert D.choose_algorithm("conv", *lenet1) == ("im2col" if D.numba_has_blas()
                                                   else "direct")
    assert D.choose_algorithm("conv_weight_grad", *lenet1) == "direct"
    assert D.choose_algorithm("conv", (64, 1, 280, 280), (6, 1, 5, 5), (1, 1),
                              ((0, 0), (0, 0)), 1) == "direct"  # too big to fuse


# ---- true convolution (signal) ---------------------------------------------------------------


def _signal_shapes(nd):
    return st.tuples(*(st.integers(1, 5 if nd < 3 else 3) for _ in range(nd)))


@settings(max_examples=N)
@given(st.integers(1, 3).flatmap(lambda nd: st.tuples(_signal_shapes(nd), _signal_shapes(nd),
                                                      _signal_shapes(nd))),
       st.integers(0, 2**16))
def test_true_convolution_is_commutative_and_associative(shapes, seed):
    a, b, c = (rnd(s, seed + i) for i, s in enumerate(shapes))
    check_commutativity(signal.convolve, a, b, 1e-10, 1e-10)
    check_associativity(signal.convolve, a, b, c, 1e-10, 1e-10)
    check_commutativity(signal.fftconvolve, a, b, 1e-9, 1e-9)


@settings(max_examples=N)
@given(st.integers(1, 3).flatmap(lambda nd: st.tuples(_signal_shapes(nd), _signal_shapes(nd))),
       st.sampled_from(["full", "same"]), st.integers(0, 2**16))
def test_correlation_is_convolution_with_the_flipped_kernel(shapes, mode, seed):
    a, v = rnd(shapes[0], seed), rnd(shapes[1], seed + 1)
    flipped = v[tuple(slice(None, None, -1) for _ in v.shape)]
    check_close("correlate = convolve(flip)", signal.correlate(a, v, mode),
                signal.convolve(a, flipped, mode), 1e-12, 1e-12)


@settings(max_examples=N)
@given(st.integers(1, 5), st.integers(1, 8), st.sampled_from(["full", "same", "valid"]),
       st.integers(0, 2**16))
def test_toeplitz_matrix_equals_full_convolution(m, n, mode, seed):
    if mode == "valid" and n < m:
        return
    h, f = rnd(m, seed), rnd(n, seed + 1)
    check_close("toeplitz", signal.toeplitz(h, n, mode).numpy() @ f,
                signal.convolve(f, h, mode), 1e-12, 1e-12)
    hm = signal.toeplitz(h, n).numpy()
    # constant diagonals: H[i, j] = c_{i-j}
    for i in range(1, hm.shape[0]):
        for j in range(1, n):
            assert hm[i, j] == hm[i - 1, j - 1]


def test_thread_pools_are_restored_after_each_call():
    import os

    assert os.environ.get("OMP_WAIT_POLICY")  # set (passive) unless the user chose
    before = numba.get_num_threads()
    blas = [c.get_num_threads() for c in D._blas_controllers()]
    x, w = rnd((1, 2, 5, 5)).astype(np.float32), rnd((3, 2, 3, 3), 1).astype(np.float32)
    for alg in ("im2col", "direct", "fft", "reference"):
        D.conv_forward(x, w, (1, 1), ((1, 1), (1, 1)), (1, 1), 1, alg)  # small: 1 thread
    D.conv_weight_grad(x, rnd((1, 3, 5, 5)).astype(np.float32), (1, 1), ((1, 1), (1, 1)),
                       (1, 1), 1, (3, 3), "im2col")
    assert numba.get_num_threads() == before
    assert [c.get_num_threads() for c in D._blas_controllers()] == blas
