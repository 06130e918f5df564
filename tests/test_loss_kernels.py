"""The Numba fast paths of log_softmax, its gradient, nll_loss and nll_loss_backward
(kernels/loss.py) against the NumPy code they replace (kernels.loss.ENABLED = False)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn.errors import InvalidArgumentError
from autograd_cnn.kernels import loss as K
from autograd_cnn.ops import activation_grads as A
from autograd_cnn.ops import loss as L
from autograd_cnn.ops import reduce as R
from autograd_cnn.testing import gradcheck, gradgradcheck


@pytest.fixture(autouse=True)
def _eager_kernels(monkeypatch):
    """These tests call the ops eagerly: let eager calls take the kernels' path."""
    monkeypatch.setattr(K, "EAGER", True)


# sums in index order vs NumPy's pairwise sums: equal up to rounding
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _numpy(fn, *args, **kw):
    """``fn`` with the kernels switched off: the NumPy reference."""
    K.ENABLED = False
    try:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            return fn(*args, **kw)
    finally:
        K.ENABLED = True


def _same(got, ref, dtype):
    assert type(got) is np.ndarray and got.dtype == ref.dtype and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, equal_nan=True, **TOL[dtype])


@st.composite
def _problem(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n, c = draw(st.integers(0, 9)), draw(st.integers(1, 7))
    special = draw(st.sampled_from([None, np.nan, np.inf, -np.inf]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = (rng.normal(0, draw(st.sampled_from([1.0, 30.0])), (n, c))).astype(dtype)
    if special is not None and n:
        x[rng.integers(n), rng.integers(c)] = special
    ignore_index = draw(st.sampled_from([-100, 0, c - 1, 7]))
    t = rng.integers(0, c, n)
    t[rng.random(n) < draw(st.sampled_from([0.0, 0.3, 1.0]))] = ignore_index
    weight = None
    if draw(st.booleans()):
        weight = rng.uniform(0.0, 2.0, c).astype(dtype)
        weight[rng.random(c) < 0.2] = 0.0
    reduction = draw(st.sampled_from(["none", "mean", "sum"]))
    return x, t, weight, ignore_index, reduction, dtype


@given(_problem())
def test_log_softmax_and_nll_match_the_numpy_code(p):
    x, t, weight, ignore_index, reduction, dtype = p
    w = () if weight is None else (weight,)
    kw = dict(ignore_index=ignore_index, reduction=reduction)
    n, c = x.shape
    assert K.log_softmax_fast(x, 1) is not None  # the kernels' case
    logp = R._log_softmax_impl(x, axis=1)
    _same(logp, _numpy(R._log_softmax_impl, x, axis=1), dtype)
    assert K.nll_loss_fast(logp, t, weight, ignore_index, reduction) is not None
    _same(L._nll_impl(logp, t, *w, **kw), _numpy(L._nll_impl, logp, t, *w, **kw), dtype)
    g = np.asarray(np.random.default_rng(n).normal(size=(n,) if reduction == "none" else ()),
                   dtype)
    bwd = dict(kw, shape=(n, c))
    assert K.nll_loss_backward_fast(g, t, weight, ignore_index, reduction, (n, c)) is not None
    _same(L._nll_backward_impl(g, t, *w, **bwd), _numpy(L._nll_backward_impl, g, t, *w, **bwd),
          dtype)
    gl = np.random.default_rng(c).normal(size=(n, c)).astype(dtype)
    _same(A._log_softmax_grad_impl(gl, logp, axis=1),
          _numpy(A._log_softmax_grad_impl, gl, logp, axis=1), dtype)


def test_all_ignored_mean_is_nan_with_zero_gradient():
    for dtype in (np.float32, np.float64):
        x = ac.tensor(np.random.default_rng(0).normal(size=(4, 3)).astype(dtype),
                      requires_grad=True)
        loss = F.cross_entropy(x, ac.tensor([-100] * 4))
        assert np.isnan(float(loss)) and loss.dtype == dtype
        loss.backward()
        assert np.array_equal(x.grad.numpy(), np.zeros((4, 3), dtype))


def test_non_finite_logits_and_weights_propagate_as_in_the_numpy_code():
    x = np.array([[0.0, -np.inf, 1.0], [np.nan, 0.0, 0.0], [np.inf, 0.0, 0.0],
                  [-np.inf, -np.inf, -np.inf]], np.float32)
    logp = R._log_softmax_impl(x, axis=1)
    np.testing.assert_array_equal(logp, _numpy(R._log_softmax_impl, x, axis=1))
    assert np.isnan(logp[1:]).all() and np.isneginf(logp[0, 1])
    t = np.array([2, -100, 1, -100])
    # -inf at another class is harmless; a NaN/inf weight[0] reaches the ignored rows'
    # weight (weight[0] * 0), hence the 'mean', as in the NumPy code
    for weight in (None, np.array([np.nan, 1.0, 2.0], np.float32)):
        w = () if weight is None else (weight,)
        for reduction in ("none", "mean", "sum"):
            kw = dict(ignore_index=-100, reduction=reduction)
            got = L._nll_impl(logp[:1], t[:1], *w, **kw)
            np.testing.assert_array_equal(got, _numpy(L._nll_impl, logp[:1], t[:1], *w, **kw))
            got = L._nll_impl(logp, t, *w, **kw)
            np.testing.assert_array_equal(got, _numpy(L._nll_impl, logp, t, *w, **kw))
            g = np.asarray(np.inf if reduction == "sum" else 1.0, np.float32)
            g = np.full(4, 2.0, np.float32) if reduction == "none" else g
            bw = dict(kw, shape=(4, 3))
            np.testing.assert_array_equal(L._nll_backward_impl(g, t, *w, **bw),
                                          _numpy(L._nll_backward_impl, g, t, *w, **bw))


def test_ignored_rows_weigh_weight0_times_zero_as_in_the_numpy_code():
    # finite log-probabilities: only the ignored rows' weight (weight[0] * 0) can be NaN
    logp = R._log_softmax_impl(np.array([[0.0, 1.0, 2.0]] * 3, np.float64), axis=1)
    t = np.array([1, -100, 2])
    for w0 in (np.nan, np.inf, -3.0):
        weight = np.array([w0, 1.0, 2.0])
        for reduction in ("mean", "sum"):
            kw = dict(ignore_index=-100, reduction=reduction)
            got = L._nll_impl(logp, t, weight, **kw)
            np.testing.assert_array_equal(got, _numpy(L._nll_impl, logp, t, weight, **kw))
            assert np.isnan(got) == (reduction == "mean" and not np.isfinite(w0))
            g = np.asarray(1.0)
            bw = dict(kw, shape=(3, 3))
            np.testing.assert_array_equal(
                L._nll_backward_impl(g, t, weight, **bw),
                _numpy(L._nll_backward_impl, g, t, weight, **bw))


@pytest.mark.parametrize("bad", [[0, 3, -1, 5], [-2, 0, 0, 0]])
def test_out_of_range_targets_raise_the_same_error(bad):
    x = ac.tensor(np.zeros((4, 3), np.float32))
    with pytest.raises(InvalidArgumentError) as fast:
        F.cross_entropy(x, ac.tensor(bad))
    with pytest.raises(InvalidArgumentError) as slow:
        _numpy(F.cross_entropy, x, ac.tensor(bad))
    assert str(fast.value) == str(slow.value) and "must be in [0, 3)" in str(fast.value)
    g = np.asarray(1.0, np.float32)
    with pytest.raises(InvalidArgumentError, match=r"got \[") as bwd:
        L._nll_backward_impl(g, np.array(bad), ignore_index=-100, reduction="mean",
                             shape=(4, 3))
    assert str(bwd.value) == str(slow.value)


def test_other_layouts_and_dtypes_fall_back_to_the_numpy_code():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 8)).astype(np.float32)
    assert K.log_softmax_fast(x[:, ::2], 1) is None  # strided
    assert K.log_softmax_fast(x, 0) is None  # not the class rows
    assert K.log_softmax_fast(x.reshape(5, 2, 4), 1) is None  # N-d
    assert K.log_softmax_fast(x.astype(np.float16), 1) is None
    for view in (x[:, ::2], x.T, x.astype(np.float16)):
        ax = 1 if view.ndim == 2 else -1
        np.testing.assert_allclose(R._log_softmax_impl(view, axis=ax),
                                   _numpy(R._log_softmax_impl, view, axis=ax), rtol=1e-6)
    spatial = rng.normal(size=(2, 3, 4)).astype(np.float64)  # (N, C, d): NumPy code
    t = rng.integers(0, 3, (2, 4))
    assert K.nll_loss_fast(spatial, t, None, -100, "mean") is None
    # int32, strided and read-only operands are taken (converted), with the same result
    logp = R._log_softmax_impl(x, axis=1)
    t = rng.integers(0, 8, 10)[::2].astype(np.int32)
    ro = logp.copy()
    ro.flags.writeable = False
    assert K.nll_loss_fast(ro, t, None, -100, "sum") is not None
    np.testing.assert_allclose(L._nll_impl(ro, t, ignore_index=-100, reduction="sum"),
                               _numpy(L._nll_impl, logp, t, ignore_index=-100,
                                      reduction="sum"), rtol=1e-6)
    w64 = np.ones(8)  # weight of another dtype than the input: NumPy code
    assert K.nll_loss_fast(logp, t, w64, -100, "mean") is None
    assert K.nll_loss_fast(logp, t, None, 2**70, "mean") is None  # beyond int64
    g = np.broadcast_to(np.float32(1.0), (5,))  # a stride-0 (N,) gradient: copied
    assert K.nll_loss_backward_fast(g, t, None, -100, "none", (5, 8)) is not None


def test_each_kernel_compiles_one_plain_signature_per_dtype():
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        x = rng.normal(size=(6, 4)).astype(dtype)
        x.flags.writeable = False  # read-only operands are copied, not typed apart
        t = rng.integers(0, 4, 12)[::2].astype(np.int32)
        g = np.broadcast_to(dtype(1.0), (6,))
        for reduction in ("none", "sum"):
            logp = R._log_softmax_impl(x, axis=1)
            A._log_softmax_grad_impl(x, logp, axis=1)
            L._nll_impl(logp, t, x[0], ignore_index=-100, reduction=reduction)
            gr = g if reduction == "none" else np.asarray(dtype(1.0))
            L._nll_backward_impl(gr, t, ignore_index=-100, reduction=reduction, shape=(6, 4))
    for k in K.kernels():
        sigs = k.signatures
        assert sigs and len(sigs) <= 2, (k, sigs)
        for sig in sigs:
            arrays = [a for a in sig if hasattr(a, "layout")]
            assert all(a.layout == "C" and a.mutable and a.aligned for a in arrays), sig


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cross_entropy_gradients_through_the_kernels(weighted, reduction):
    rng = np.random.default_rng(3)
    x = ac.tensor(rng.normal(0, 2, (5, 4)), dtype="float64", requires_grad=True)
    t = ac.tensor([0, 3, -100, 1, 3])
    w = ac.tensor(rng.uniform(0.5, 2.0, 4), dtype="float64") if weighted else None
    fn = lambda z: F.cross_entropy(z, t, w, reduction=reduction)  # noqa: E731
    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])
    fn(x).sum().backward()
    fast = x.grad.numpy().copy()
    x.grad = None
    _numpy(lambda: fn(x).sum().backward())
    np.testing.assert_allclose(fast, x.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_float32_step_matches_the_numpy_code():
    rng = np.random.default_rng(4)
    x = ac.tensor(rng.normal(size=(64, 10)).astype(np.float32), requires_grad=True)
    t = ac.tensor(rng.integers(0, 10, 64))
    loss = F.cross_entropy(x, t)
    loss.backward()
    fast_loss, fast_grad = float(loss), x.grad.numpy().copy()
    x.grad = None

    def ref():
        ref_loss = F.cross_entropy(x, t)
        ref_loss.backward()
        return float(ref_loss)

    assert fast_loss == pytest.approx(_numpy(ref), rel=2e-6)
    np.testing.assert_allclose(fast_grad, x.grad.numpy(), rtol=2e-6, atol=1e-8)


def test_by_default_only_compiled_programs_take_the_kernels(monkeypatch):
    monkeypatch.setattr(K, "EAGER", False)
    calls, real = [], K.log_softmax_rows

    def counting(a, out):
        calls.append(a.shape)
        real(a, out)

    monkeypatch.setattr(K, "log_softmax_rows", counting)
    x = ac.tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    t = ac.tensor(np.array([0, 2, 1, 1]))
    eager = F.cross_entropy(x, t)
    assert calls == []  # eager code: the NumPy path (no compile on a cold start)
    compiled = ac.compile(lambda z: F.cross_entropy(z, t))(x)
    assert calls == [(4, 3)]
    np.testing.assert_allclose(compiled.item(), eager.item(), rtol=1e-6)
