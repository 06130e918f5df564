"""Losses: closed forms, stability, gradients, modules, and PyTorch parity."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import nn
from autograd_cnn.errors import DTypeError, InvalidArgumentError, ShapeError
from autograd_cnn.testing import gradcheck, gradgradcheck


def _logits(n, c, seed=0, scale=2.0):
    return ac.tensor(np.random.default_rng(seed).normal(0, scale, (n, c)), dtype="float64",
                     requires_grad=True)


def test_cross_entropy_closed_form():
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
    t = np.array([2, 0])
    lse = np.log(np.exp(x).sum(1))
    expected = (lse - x[np.arange(2), t]).mean()
    got = F.cross_entropy(ac.tensor(x, dtype="float64"), ac.tensor(t))
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_stable_for_huge_logits():
    x = ac.tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, ac.tensor([0, 0]))
    assert np.isfinite(float(loss)) and float(loss) == pytest.approx(1e4, rel=1e-6)
    loss.backward()
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-6)


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    x = _logits(4, 5)
    t = ac.tensor([0, 3, 4, 1])
    F.cross_entropy(x, t, reduction="sum").backward()
    p = np.exp(x.numpy()) / np.exp(x.numpy()).sum(1, keepdims=True)
    p[np.arange(4), t.numpy()] -= 1
    np.testing.assert_allclose(x.grad.numpy(), p, rtol=1e-10, atol=1e-12)


@given(st.integers(1, 4), st.integers(2, 5), st.sampled_from(["mean", "sum", "none"]),
       st.sampled_from([0.0, 0.1]), st.booleans(), st.integers(0, 1000))
def test_cross_entropy_gradcheck(n, c, reduction, smoothing, weighted, seed):
    rng = np.random.default_rng(seed)
    x = _logits(n, c, seed)
    t = ac.tensor(rng.integers(0, c, n))
    w = ac.tensor(rng.uniform(0.5, 2, c), dtype="float64") if weighted else None
    fn = lambda z: F.cross_entropy(z, t, w, reduction=reduction, label_smoothing=smoothing)  # noqa
    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])


def test_cross_entropy_with_probabilities_and_spatial_dims():
    rng = np.random.default_rng(0)
    x = ac.tensor(rng.normal(size=(2, 3, 4, 4)), dtype="float64", requires_grad=True)
    idx = rng.integers(0, 3, (2, 4, 4))
    onehot = np.moveaxis(np.eye(3)[idx], -1, 1)
    a = F.cross_entropy(x, ac.tensor(idx))
    b = F.cross_entropy(x, ac.tensor(onehot, dtype="float64"))
    assert float(a) == pytest.approx(float(b), rel=1e-12)
    assert gradcheck(lambda z: F.cross_entropy(z, ac.tensor(onehot, dtype="float64"),
                                               label_smoothing=0.2), [x])


def test_ignore_index_and_bad_targets():
    x = _logits(3, 4)
    full = F.cross_entropy(x, ac.tensor([1, 2, 3]), reduction="none").numpy()
    ign = F.cross_entropy(x, ac.tensor([1, -100, 3]))
    assert float(ign) == pytest.approx((full[0] + full[2]) / 2)
    with pytest.raises(InvalidArgumentError, match=r"target.*\[0, 4\)"):
        F.cross_entropy(x, ac.tensor([1, 4, 0]))
    with pytest.raises(ShapeError, match="target"):
        F.cross_entropy(x, ac.tensor([1, 2]))
    with pytest.raises(InvalidArgumentError, match="reduction"):
        F.cross_entropy(x, ac.tensor([1, 2, 0]), reduction="avg")
    with pytest.raises(DTypeError):
        F.nll_loss(x, ac.tensor([1.0, 2.0, 0.0]))


def test_regression_losses_closed_form():
    a = ac.tensor([1.0, -2.0, 3.0], dtype="float64", requires_grad=True)
    b = ac.tensor([0.5, 0.0, 5.0], dtype="float64")
    assert float(F.mse_loss(a, b)) == pytest.approx((0.25 + 4 + 4) / 3)
    assert float(F.l1_loss(a, b, reduction="sum")) == pytest.approx(0.5 + 2 + 2)
    assert float(F.huber_loss(a, b)) == pytest.approx((0.125 + 1.5 + 1.5) / 3)
    assert gradcheck(lambda z: F.mse_loss(z, b), [a])
    assert gradgradcheck(lambda z: F.smooth_l1_loss(z, b, beta=0.7), [a])


def test_bce_and_bce_with_logits_agree_and_are_stable():
    rng = np.random.default_rng(1)
    z = ac.tensor(rng.normal(0, 3, (4, 3)), dtype="float64", requires_grad=True)
    y = ac.tensor(rng.integers(0, 2, (4, 3)), dtype="float64")
    a = F.binary_cross_entropy_with_logits(z, y)
    b = F.binary_cross_entropy(F.sigmoid(z), y)
    assert float(a) == pytest.approx(float(b), rel=1e-10)
    big = ac.tensor([1e4, -1e4], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(big, ac.tensor([0.0, 1.0]), reduction="sum")
    assert float(loss) == pytest.approx(2e4)
    loss.backward()
    np.testing.assert_allclose(big.grad.numpy(), [1.0, -1.0])
    assert gradcheck(lambda t: F.binary_cross_entropy_with_logits(
        t, y, pos_weight=ac.tensor([1.0, 2.0, 0.5], dtype="float64")), [z])
    p = ac.tensor(rng.uniform(0.1, 0.9, (4, 3)), dtype="float64", requires_grad=True)
    assert gradcheck(lambda t: F.binary_cross_entropy(t, y), [p])
    with pytest.raises(InvalidArgumentError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(ac.tensor([1.5]), ac.tensor([1.0]))
    # log clamped at -100, as PyTorch
    assert float(F.binary_cross_entropy(ac.tensor([0.0]), ac.tensor([1.0]))) == 100.0


def test_loss_modules_equal_functional():
    x = _logits(3, 4)
    t = ac.tensor([0, 1, 3])
    assert float(nn.CrossEntropyLoss(label_smoothing=0.1)(x, t)) == pytest.approx(
        float(F.cross_entropy(x, t, label_smoothing=0.1)))
    assert float(nn.NLLLoss(reduction="sum")(F.log_softmax(x, 1), t)) == pytest.approx(
        float(F.cross_entropy(x, t, reduction="sum")))
    y = ac.randn(3, 4, dtype="float64", seed=0)
    assert float(nn.MSELoss()(x, y)) == pytest.approx(float(F.mse_loss(x, y)))
    assert float(nn.L1Loss()(x, y)) == pytest.approx(float(F.l1_loss(x, y)))


@pytest.mark.torch
def test_losses_match_pytorch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, (5, 4, 3))
    t = rng.integers(0, 4, (5, 3))
    t[0, 0] = -100
    w = rng.uniform(0.5, 2, 4)
    probs = rng.dirichlet(np.ones(4), (5, 3)).transpose(0, 2, 1)
    for kw in [{}, {"weight": w}, {"label_smoothing": 0.2}, {"weight": w, "label_smoothing": 0.1},
               {"reduction": "sum"}, {"reduction": "none", "label_smoothing": 0.3}]:
        for target in (t, probs):
            if target is probs and "ignore" in kw:
                continue
            xt = torch.tensor(x, requires_grad=True)
            tkw = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
            ref = tf.cross_entropy(xt, torch.tensor(target), **tkw)
            ref.sum().backward()
            xa = ac.tensor(x, dtype="float64", requires_grad=True)
            akw = {k: ac.tensor(v, dtype="float64") if k == "weight" else v
                   for k, v in kw.items()}
            got = F.cross_entropy(xa, ac.tensor(target), **akw)
            got.sum().backward()
            np.testing.assert_allclose(got.numpy(), ref.detach().numpy(), rtol=1e-10,
                                       err_msg=str(kw))
            np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    z = rng.normal(0, 3, (6,))
    y = rng.integers(0, 2, 6).astype(float)
    pw = rng.uniform(0.5, 2, 6)
    ref = tf.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(y),
                                              pos_weight=torch.tensor(pw))
    got = F.binary_cross_entropy_with_logits(ac.tensor(z, dtype="float64"),
                                             ac.tensor(y, dtype="float64"),
                                             pos_weight=ac.tensor(pw, dtype="float64"))
    assert float(got) == pytest.approx(float(ref), rel=1e-12)
    for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
        ref = getattr(tf, name)(torch.tensor(a), torch.tensor(b))
        got = getattr(F, name)(ac.tensor(a, dtype="float64"), ac.tensor(b, dtype="float64"))
        assert float(got) == pytest.approx(float(ref), rel=1e-12), name


def test_all_targets_ignored_gives_nan_loss_and_zero_gradient():
    x = ac.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    loss = F.cross_entropy(x, ac.tensor(np.array([-100, -100])))
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_binary_cross_entropy_gradient_survives_saturation():
    # at p = 0 with y = 1 the clamped log is flat; the gradient must still push p up
    p = ac.tensor(np.array([0.0, 1e-50, 0.3]), requires_grad=True)
    F.binary_cross_entropy(p, ac.tensor(np.array([1.0, 1.0, 0.0])), reduction="sum").backward()
    g = p.grad.numpy()
    assert g[0] == pytest.approx(-1e12) and g[1] == pytest.approx(-1e12)
    assert g[2] == pytest.approx(0.3 / (0.3 * 0.7))
