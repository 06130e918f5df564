"""Pooling: the seeds' example, kernel vs NumPy reference, the issue's property tests,
tie and NaN behaviour, named errors, and differential tests against PyTorch."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import errors
from autograd_cnn.kernels import pool as K
from autograd_cnn.ops import pool as P
from autograd_cnn.testing import gradcheck, gradgradcheck, tensors
from autograd_cnn.testing.cases import GAPPED
from autograd_cnn.testing.cases_pool import pool_configs

SEED = np.array([[3, 1, 3, 5], [6, 0, 7, 9], [3, 2, 1, 4], [0, 2, 4, 3]], dtype=np.float64)
FACES = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


# ---- the seeds' worked example -------------------------------------------------------


def test_seed_example_values_and_gradient_routing():
    x = ac.tensor(SEED[None, None], requires_grad=True)
    y, idx = F.max_pool2d(x, 2, stride=2, return_indices=True)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[6, 9], [3, 4]])
    np.testing.assert_array_equal(idx.numpy()[0, 0], [[4, 7], [8, 11]])
    g = np.array([[10.0, 20.0], [30.0, 40.0]])
    y.backward(g[None, None])
    expected = np.zeros((4, 4))
    expected[1, 0], expected[1, 3], expected[2, 0], expected[2, 3] = 10, 20, 30, 40
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_backward_graph_shows_scatter_then_gather():
    x = ac.tensor(SEED[None, None], requires_grad=True)
    y = F.max_pool2d(x, 2)
    v = ac.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    (gx,) = ac.gradients(y, [x], grad_outputs=[v], create_graph=True)
    assert gx.grad_fn.prim.name == "pool_scatter"
    w = ac.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    (gv,) = ac.gradients((gx * w).sum(), [v], create_graph=True)
    assert gv.grad_fn.prim.name == "pool_gather"
    np.testing.assert_array_equal(gv.numpy()[0, 0], [[4, 7], [8, 11]])


# ---- kernels against their NumPy references (float64, exact) --------------------------


@st.composite
def _max_problem(draw):
    nd = draw(st.integers(1, 3))
    shape, params = draw(pool_configs(nd, "max"))
    x = draw(tensors(shape=shape, requires_grad=False,
                     elements=st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0, -np.inf])))
    return nd, x.numpy(), params


@settings(max_examples=60)
@given(_max_problem())
def test_max_kernel_matches_reference_including_ties(problem):
    nd, x, params = problem
    spec = tuple(sorted(params.items()))
    out_sp, tabs, _, fast = P._tables(f"max_pool{nd}d", x.shape[-nd:], spec)
    x3, _ = P._as_planes(x, nd)
    out, idx = K.max_pool_forward(x3, *tabs, fast=fast)
    ref_out, ref_idx = K.max_pool_reference(x3, *tabs)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    if fast is not None:  # the fast path agrees with the general kernel
        out2, idx2 = K.max_pool_forward(x3, *tabs, fast=None)
        np.testing.assert_array_equal(out, out2)
        np.testing.assert_array_equal(idx, idx2)
    g = np.random.default_rng(0).standard_normal(out.shape)
    sc, ok = K.plane_scatter_add(g.reshape(len(g), -1), idx.reshape(len(g), -1), x3[0].size)
    assert ok
    np.testing.assert_allclose(
        sc, K.scatter_add_reference(g.reshape(len(g), -1), idx.reshape(len(g), -1),
                                    x3[0].size), rtol=1e-13, atol=1e-13)
    ga, ok = K.plane_gather(x3.reshape(len(x3), -1), idx.reshape(len(g), -1))
    np.testing.assert_array_equal(ga, K.gather_reference(x3.reshape(len(x3), -1),
                                                         idx.reshape(len(g), -1)))


@settings(max_examples=60)
@given(st.integers(1, 3).flatmap(lambda nd: st.tuples(st.just(nd),
                                                       pool_configs(nd, "avg"))))
def test_avg_kernels_match_reference(problem):
    nd, (shape, params) = problem
    x = np.random.default_rng(1).standard_normal(shape)
    spec = tuple(sorted(params.items()))
    out_sp, tabs, divs, _ = P._tables(f"avg_pool{nd}d", shape[-nd:], spec)
    x3, _ = P._as_planes(x, nd)
    out = K.avg_pool_forward(x3, *tabs, *divs)
    np.testing.assert_allclose(out, K.avg_pool_reference(x3, *tabs, *divs), rtol=1e-12,
                               atol=1e-14)
    g = np.random.default_rng(2).standard_normal(out.shape)
    back = K.avg_pool_backward(g, x3.shape[1:], *tabs, *divs)
    np.testing.assert_allclose(
        back, K.avg_pool_backward_reference(g, x3.shape[1:], *tabs, *divs), rtol=1e-12,
        atol=1e-14)
    # adjointness: <avg(x), g> == <x, avg^T(g)>
    assert np.isclose(np.vdot(out, g), np.vdot(x3, back), rtol=1e-10, atol=1e-12)


def test_parallel_equals_serial_bitwise():
    from numba import get_num_threads, set_num_threads

    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 5, 13, 11)).astype(np.float32)
    xt = ac.tensor(x, requires_grad=True)
    g = rng.standard_normal(F.max_pool2d(xt, 3, 1, 1).shape).astype(np.float32)
    results = []
    n0 = get_num_threads()
    for n in sorted({1, n0}):
        set_num_threads(n)
        try:
            xt = ac.tensor(x, requires_grad=True)
            F.max_pool2d(xt, 3, stride=1, padding=1).backward(g)
            xa = ac.tensor(x, requires_grad=True)
            ya = F.avg_pool2d(xa, 3, stride=1, padding=1)
            ya.backward(g)
            results.append((xt.grad.numpy().tobytes(), ya.numpy().tobytes(),
                            xa.grad.numpy().tobytes()))
        finally:
            set_num_threads(n0)
    assert all(r == results[0] for r in results)


# ---- properties ----------------------------------------------------------------------


@given(st.data())
def test_max_pool_invariant_to_permutations_inside_windows(data):
    k = data.draw(st.integers(1, 3))
    nh, nw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    x = data.draw(tensors(shape=(2, 2, nh * k, nw * k), requires_grad=False)).numpy()
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    # permute values inside each non-overlapping k x k window independently
    blocks = x.reshape(2, 2, nh, k, nw, k).transpose(0, 1, 2, 4, 3, 5).reshape(2, 2, nh, nw, -1)
    perm = rng.permuted(blocks, axis=-1)
    xp = perm.reshape(2, 2, nh, nw, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)
    np.testing.assert_array_equal(F.max_pool2d(ac.tensor(x), k).numpy(),
                                  F.max_pool2d(ac.tensor(xp), k).numpy())


@given(st.integers(1, 3).flatmap(lambda nd: st.tuples(st.just(nd), pool_configs(nd, "max"))),
       st.data())
def test_max_pool_is_monotone(problem, data):
    nd, (shape, params) = problem
    x = data.draw(tensors(shape=shape, requires_grad=False)).numpy()
    d = np.abs(data.draw(tensors(shape=shape, requires_grad=False)).numpy())
    lo = FACES[nd](ac.tensor(x), **params).numpy()
    hi = FACES[nd](ac.tensor(x + d), **params).numpy()
    assert (hi >= lo).all()


@given(st.integers(1, 3).flatmap(lambda nd: st.tuples(st.just(nd), pool_configs(nd, "avg"))))
def test_avg_pool_is_linear_and_its_vjp_is_the_adjoint(problem):
    nd, (shape, params) = problem
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    f = lambda t: AVG[nd](ac.tensor(t), **params).numpy()  # noqa: E731
    np.testing.assert_allclose(f(2 * a - 3 * b), 2 * f(a) - 3 * f(b), atol=1e-12)


def test_avg_pool_equals_depthwise_conv_with_constant_kernel():
    conv2d = getattr(F, "conv2d", None)
    if conv2d is None:
        pytest.skip("functional.conv2d does not exist yet (issue 3, another engineer)")
    rng = np.random.default_rng(4)
    for k, s in ((2, 2), (3, 1), (3, 2)):
        x = rng.standard_normal((2, 3, 9, 8))
        w = np.full((3, 1, k, k), 1.0 / k**2)
        ours = F.avg_pool2d(ac.tensor(x), k, s).numpy()
        conv = conv2d(ac.tensor(x), ac.tensor(w), stride=s, groups=3).numpy()
        np.testing.assert_allclose(ours, conv, atol=1e-12)


@given(st.data())
def test_shift_equivariance_by_multiples_of_the_stride(data):
    k, s = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    m = data.draw(st.integers(1, 2))  # shift by m strides
    x = data.draw(tensors(shape=(1, 2, 12, 11), requires_grad=False)).numpy()
    shifted = np.roll(x, (m * s, m * s), axis=(2, 3))
    for face in (F.max_pool2d, F.avg_pool2d):
        y = face(ac.tensor(x), k, s).numpy()
        ys = face(ac.tensor(shifted), k, s).numpy()
        # interior: away from the wrapped-around border
        oh, ow = y.shape[-2:]
        np.testing.assert_allclose(ys[..., m:oh, m:ow], y[..., : oh - m, : ow - m],
                                   atol=1e-12)


@given(tensors(shape=st.tuples(st.just(2), st.integers(1, 3), st.integers(2, 7)),
               requires_grad=False), st.integers(0, 6))
def test_seed_invariance_proposition_max_over_cyclic_shifts(x, tau):
    """f_T(x) = max_{rho in T} f(rho x) over the cyclic-shift group is T-invariant."""
    x = x.numpy()
    n = x.shape[-1]
    w = np.random.default_rng(5).standard_normal(n)

    def f_T(sig):  # f = a linear functional, T = all cyclic shifts, pooled by channel max
        shifts = np.stack([np.roll(sig, r, axis=-1) for r in range(n)], axis=-1)  # (..., n, n)
        feats = ac.tensor(np.einsum("...ir,i->...r", shifts, w))  # f(rho x) per shift rho
        return F.max_pool1d(feats, n).numpy()

    np.testing.assert_allclose(f_T(np.roll(x, tau % n, axis=-1)), f_T(x), atol=1e-12)


@given(st.data())
def test_unpool_keeps_exactly_the_maxima(data):
    k = data.draw(st.integers(1, 3))
    nh, nw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    x = data.draw(tensors(shape=(2, 2, nh * k, nw * k), elements=GAPPED, unique=True,
                          requires_grad=False)).numpy()
    y, idx = F.max_pool2d(ac.tensor(x), k, return_indices=True)
    u = F.max_unpool2d(y, idx, k).numpy()
    is_max = x == np.repeat(np.repeat(y.numpy(), k, 2), k, 3)
    np.testing.assert_array_equal(u, np.where(is_max, x, 0.0))
    assert (u != 0).sum() <= y.numpy().size


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_adaptive_pools_equal_explicit_pools_when_sizes_divide(oh, ow, kh, kw):
    x = np.random.default_rng(oh * 7 + ow).standard_normal((2, 3, oh * kh, ow * kw))
    t = ac.tensor(x)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(t, (oh, ow)).numpy(),
                               F.avg_pool2d(t, (kh, kw)).numpy(), atol=1e-13)
    am, ai = F.adaptive_max_pool2d(t, (oh, ow), return_indices=True)
    m, i = F.max_pool2d(t, (kh, kw), return_indices=True)
    np.testing.assert_array_equal(am.numpy(), m.numpy())
    np.testing.assert_array_equal(ai.numpy(), i.numpy())
    np.testing.assert_allclose(F.global_avg_pool2d(t).numpy(),
                               F.adaptive_avg_pool2d(t, 1).numpy(), atol=1e-13)


# ---- ties and NaN --------------------------------------------------------------------


def test_ties_route_the_gradient_to_the_first_maximum_in_row_major_order():
    x = ac.tensor(np.array([[[[1.0, 5.0], [5.0, 5.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 1], [0, 0]])
    # overlapping windows accumulate into the shared maximum
    x = ac.tensor(np.array([[[0.0, 3.0, 1.0, 2.0]]]), requires_grad=True)
    F.max_pool1d(x, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [0, 2, 0, 1])


def test_nan_propagates_and_padding_is_minus_infinity():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    y, i = F.max_pool2d(ac.tensor(x), 2, return_indices=True)
    assert np.isnan(y.numpy()).all() and i.numpy().item() == 1
    neg = ac.tensor(-np.arange(1.0, 10.0).reshape(1, 1, 3, 3))
    y = F.max_pool2d(neg, 2, stride=1, padding=1).numpy()[0, 0]
    assert y[0, 0] == -1.0 and np.isfinite(y).all()
    # average pooling with padding: count_include_pad decides the divisor
    ones = ac.ones(1, 1, 2, 2)
    np.testing.assert_allclose(F.avg_pool2d(ones, 2, 1, 1).numpy()[0, 0, 0, 0], 0.25)
    np.testing.assert_allclose(
        F.avg_pool2d(ones, 2, 1, 1, count_include_pad=False).numpy()[0, 0, 0, 0], 1.0)
    np.testing.assert_allclose(
        F.avg_pool2d(ones, 2, 1, 1, divisor_override=3).numpy()[0, 0, 1, 1], 4 / 3)


def test_float32_stays_float32_and_unbatched_inputs_work():
    x = ac.randn(3, 6, 6, seed=0)
    assert x.dtype == np.float32
    y = F.max_pool2d(x, 2)
    assert y.shape == (3, 3, 3) and y.dtype == np.float32
    assert F.avg_pool2d(x, 3, 3).dtype == np.float32


def test_return_indices_without_grad_and_in_meta_mode():
    from autograd_cnn.tape import meta_mode

    x = ac.tensor(SEED[None, None])
    with ac.no_grad():
        y, i = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(i.numpy()[0, 0], [[4, 7], [8, 11]])
    with meta_mode():
        y, i = F.max_pool2d(ac.zeros(2, 3, 8, 8), 3, 2, 1, return_indices=True)
    assert y.shape == (2, 3, 4, 4) and i.shape == (2, 3, 4, 4)


def test_maxout_and_channel_pooling():
    x = ac.tensor(np.random.default_rng(6).standard_normal((2, 6, 3, 3)), requires_grad=True)
    y = F.maxout(x, 3)
    np.testing.assert_array_equal(y.numpy(), x.numpy().reshape(2, 2, 3, 3, 3).max(axis=2))
    assert gradcheck(lambda t: F.maxout(t, 2), [x])
    assert F.channel_max_pool(x, 3, 1).shape == (2, 4, 3, 3)


def test_lp_pool_matches_its_definition():
    x = np.abs(np.random.default_rng(7).standard_normal((1, 2, 4, 6))) + 0.1
    y = F.lp_pool2d(ac.tensor(x), 2, 2).numpy()
    ref = np.sqrt((x**2).reshape(1, 2, 2, 2, 3, 2).sum(axis=(3, 5)))
    np.testing.assert_allclose(y, ref, atol=1e-12)
    t = ac.tensor(x, requires_grad=True)
    assert gradcheck(lambda u: F.lp_pool2d(u, 3, (2, 3)), [t])
    assert gradgradcheck(lambda u: F.lp_pool2d(u, 2, 2), [t])


# ---- named errors for bad input ------------------------------------------------------


@pytest.mark.parametrize("call, err, match", [
    (lambda: F.max_pool2d(ac.zeros(4, 4), 2), errors.PoolShapeError, "3-D .* or 4-D"),
    (lambda: F.max_pool2d(ac.zeros(1, 1, 3, 3), 5), errors.PoolShapeError, "larger than"),
    (lambda: F.avg_pool2d(ac.zeros(1, 1, 3, 3), 2, padding=2), errors.InvalidArgumentError,
     "at most half"),
    (lambda: F.max_pool2d(ac.zeros(1, 1, 4, 4), 0), errors.InvalidArgumentError, "positive"),
    (lambda: F.max_pool2d(ac.zeros(1, 1, 4, 4), 2, stride=-1), errors.InvalidArgumentError,
     "stride"),
    (lambda: F.max_pool2d(ac.zeros(1, 1, 4, 4), 2, dilation=0), errors.InvalidArgumentError,
     "dilation"),
    (lambda: F.max_pool2d(ac.zeros(1, 1, 4, 4), (2, 2, 2)), errors.InvalidArgumentError,
     "tuple of 2"),
    (lambda: F.max_pool1d(ac.zeros(1, 1, 1), 2, 1, 1, 2), errors.PoolShapeError,
     "only padding"),
    # (max_pool takes integer input exactly, as PyTorch; avg_pool refuses it, as PyTorch)
    (lambda: F.avg_pool2d(ac.tensor(np.zeros((1, 1, 4, 4), np.int64)), 2), errors.DTypeError,
     "float32 or float64"),
    (lambda: F.max_unpool2d(ac.zeros(1, 1, 2, 2), ac.tensor(np.zeros((1, 1, 2, 3), np.int64)),
                            2), errors.PoolIndicesError, "shape"),
    (lambda: F.max_unpool2d(ac.zeros(1, 1, 2, 2),
                            ac.tensor(np.full((1, 1, 2, 2), 99, np.int64)), 2),
     errors.PoolIndicesError, r"\[0, 16\)"),
    (lambda: F.adaptive_avg_pool2d(ac.zeros(1, 1, 4, 4), 0), errors.InvalidArgumentError,
     "output_size"),
    (lambda: F.avg_pool2d(ac.zeros(1, 1, 4, 4), 2, divisor_override=0),
     errors.InvalidArgumentError, "divisor_override"),
    (lambda: F.maxout(ac.zeros(1, 5, 2, 2), 2), errors.PoolShapeError, "divisible"),
])
def test_bad_input_raises_named_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


# ---- differential tests against PyTorch ----------------------------------------------


@settings(max_examples=40)
@given(st.integers(1, 3).flatmap(lambda nd: st.tuples(st.just(nd), pool_configs(nd, "max"))),
       st.data())
def test_max_pool_matches_torch_forward_indices_and_gradient(problem, data):
    torch = pytest.importorskip("torch")
    nd, (shape, params) = problem
    x = data.draw(tensors(shape=shape, elements=GAPPED, unique=data.draw(st.booleans()),
                          requires_grad=False)).numpy()
    t = ac.tensor(x, requires_grad=True)
    y, i = FACES[nd](t, **params, return_indices=True)
    g = np.random.default_rng(8).standard_normal(y.shape)
    y.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    tf = getattr(torch.nn.functional, f"max_pool{nd}d")
    ty, ti = tf(tx, **params, return_indices=True)
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    np.testing.assert_allclose(t.grad.numpy(), tx.grad.numpy(), atol=1e-12)


@settings(max_examples=40)
@given(st.integers(1, 3).flatmap(lambda nd: st.tuples(st.just(nd), pool_configs(nd, "avg"))))
def test_avg_pool_matches_torch_forward_and_gradient(problem):
    torch = pytest.importorskip("torch")
    nd, (shape, params) = problem
    if nd == 1:
        if params["divisor_override"] is not None:
            params["divisor_override"] = None  # torch's avg_pool1d has no divisor_override
        tparams = {k: v for k, v in params.items() if k != "divisor_override"}
    else:
        tparams = params
    # torch's avg_pool3d (only) refuses inputs smaller than the kernel before padding
    assume(nd < 3 or all(n >= k for n, k in zip(shape[-3:], params["kernel_size"])))
    x = np.random.default_rng(9).standard_normal(shape)
    t = ac.tensor(x, requires_grad=True)
    y = AVG[nd](t, **params)
    g = np.random.default_rng(10).standard_normal(y.shape)
    y.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    ty = getattr(torch.nn.functional, f"avg_pool{nd}d")(tx, **tparams)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), tx.grad.numpy(), atol=1e-12)


@settings(max_examples=30)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 5), st.integers(1, 5))
def test_adaptive_pools_match_torch(h, w, oh, ow):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(h * 10 + w).standard_normal((2, 2, h, w))
    for ours, theirs in ((F.adaptive_avg_pool2d, torch.nn.functional.adaptive_avg_pool2d),
                         (F.adaptive_max_pool2d, torch.nn.functional.adaptive_max_pool2d)):
        t = ac.tensor(x, requires_grad=True)
        y = ours(t, (oh, ow))
        g = np.random.default_rng(11).standard_normal(y.shape)
        y.backward(g)
        tx = torch.tensor(x, requires_grad=True)
        ty = theirs(tx, (oh, ow))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(t.grad.numpy(), tx.grad.numpy(), atol=1e-12)


def test_unpool_and_lp_pool_match_torch():
    torch = pytest.importorskip("torch")
    for shape, size in (((2, 3, 6, 8), None), ((2, 3, 7, 9), (7, 9))):
        x = np.random.default_rng(12).standard_normal(shape)
        y, i = F.max_pool2d(ac.tensor(x), 2, return_indices=True)
        ty, ti = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
        np.testing.assert_array_equal(
            F.max_unpool2d(y, i, 2, output_size=size).numpy(),
            torch.nn.functional.max_unpool2d(ty, ti, 2, output_size=size).numpy())
    xp = np.abs(x) + 0.1
    np.testing.assert_allclose(
        F.lp_pool2d(ac.tensor(xp), 3, (2, 3), ceil_mode=True).numpy(),
        torch.nn.functional.lp_pool2d(torch.tensor(xp), 3, (2, 3), ceil_mode=True).numpy(),
        rtol=1e-12)
