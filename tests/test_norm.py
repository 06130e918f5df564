"""batch_norm, layer_norm, dropout: PyTorch semantics, running statistics, gradients."""

import numpy as np
import pytest

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import errors
from autograd_cnn.testing import gradcheck, gradgradcheck


def _bn_inputs(shape=(4, 3, 3, 2)):
    rng = np.random.default_rng(0)
    c = shape[1]
    return (ac.tensor(rng.standard_normal(shape), requires_grad=True),
            ac.tensor(rng.standard_normal(c) + 1.5, requires_grad=True),
            ac.tensor(rng.standard_normal(c), requires_grad=True))


@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 5), (3, 3, 3, 2), (2, 2, 2, 2, 2)])
def test_batch_norm_train_normalizes_and_updates_running_stats(shape):
    x, _, _ = _bn_inputs(shape)
    c = shape[1]
    rm, rv = ac.zeros(c, dtype="float64"), ac.ones(c, dtype="float64")
    v0 = rm.version
    y = F.batch_norm(x, rm, rv, training=True, momentum=0.2)
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(y.numpy().mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(y.numpy().var(axis=axes), 1, atol=1e-3)
    xa = x.numpy()
    np.testing.assert_allclose(rm.numpy(), 0.2 * xa.mean(axis=axes), atol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.8 + 0.2 * xa.var(axis=axes, ddof=1), atol=1e-12)
    assert rm.version > v0 and not rm.requires_grad


def test_batch_norm_eval_uses_running_stats():
    x, w, b = _bn_inputs()
    rm, rv = ac.tensor([0.5, -1.0, 2.0]), ac.tensor([4.0, 0.25, 1.0])
    y = F.batch_norm(x, rm, rv, w, b, training=False, eps=0.0).numpy()
    bs = (1, 3, 1, 1)
    ref = ((x.numpy() - rm.numpy().reshape(bs)) / np.sqrt(rv.numpy().reshape(bs))
           * w.numpy().reshape(bs) + b.numpy().reshape(bs))
    np.testing.assert_allclose(y, ref, rtol=1e-6)
    np.testing.assert_array_equal(rm.numpy(), np.float32([0.5, -1.0, 2.0]))  # untouched


def test_batch_norm_and_layer_norm_gradients():
    x, w, b = _bn_inputs((3, 2, 2, 2))
    assert gradcheck(lambda t, u, v: F.batch_norm(t, None, None, u, v, training=True),
                     [x, w, b])
    assert gradgradcheck(lambda t, u, v: F.batch_norm(t, None, None, u, v, training=True),
                         [x, w, b])
    lw = ac.tensor(np.random.default_rng(1).standard_normal((2, 2)), requires_grad=True)
    assert gradcheck(lambda t, u: F.layer_norm(t, (2, 2), u), [x, lw])
    assert gradgradcheck(lambda t: F.layer_norm(t, 2), [x])


def test_norms_match_torch():
    torch = pytest.importorskip("torch")
    x, w, b = _bn_inputs((4, 3, 5, 5))
    g = np.random.default_rng(2).standard_normal(x.shape)
    for training in (True, False):
        rm, rv = ac.tensor(np.full(3, 0.3)), ac.tensor(np.full(3, 2.0))
        trm, trv = torch.full((3,), 0.3, dtype=torch.float64), torch.full((3,), 2.0,
                                                                            dtype=torch.float64)
        xs = [ac.tensor(t.numpy(), requires_grad=True) for t in (x, w, b)]
        ts = [torch.tensor(t.numpy(), requires_grad=True) for t in (x, w, b)]
        y = F.batch_norm(xs[0], rm, rv, xs[1], xs[2], training=training, momentum=0.3)
        ty = torch.nn.functional.batch_norm(ts[0], trm, trv, ts[1], ts[2], training=training,
                                            momentum=0.3)
        y.backward(g)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=1e-10)
        for a, t in zip(xs, ts):
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), atol=1e-12)
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), atol=1e-12)
    lx = torch.tensor(x.numpy())
    np.testing.assert_allclose(
        F.layer_norm(x, (5, 5), w[:1].reshape(()) * ac.ones(5, 5, dtype="float64")).numpy(),
        torch.nn.functional.layer_norm(lx, (5, 5), torch.tensor(w.numpy()[0]) * torch.ones(
            5, 5, dtype=torch.float64)).numpy(), atol=1e-10)


def test_dropout_is_seeded_scaled_and_off_in_eval():
    x = ac.ones(200, 50, requires_grad=True)
    y1 = F.dropout(x, 0.3, seed=7)
    y2 = F.dropout(x, 0.3, seed=7)
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    vals = set(np.unique(y1.numpy()).tolist())
    assert vals == {0.0, np.float32(1 / 0.7).item()}
    assert abs((y1.numpy() == 0).mean() - 0.3) < 0.03
    y1.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y1.numpy())  # gradient = same mask
    assert F.dropout(x, 0.3, training=False) is x
    assert not F.dropout(x, 1.0).numpy().any()
    gen = np.random.default_rng(3)
    a, b = F.dropout(x, 0.5, generator=gen), F.dropout(x, 0.5, generator=gen)
    assert (a.numpy() != b.numpy()).any()
    z = F.dropout2d(ac.ones(4, 8, 3, 3), 0.5, seed=1).numpy()
    assert all(len(np.unique(z[n, c])) == 1 for n in range(4) for c in range(8))


@pytest.mark.parametrize("call, err", [
    (lambda: F.dropout(ac.ones(3), 1.5), errors.InvalidArgumentError),
    (lambda: F.batch_norm(ac.ones(1, 3), None, None, training=True),
     errors.InvalidArgumentError),
    (lambda: F.batch_norm(ac.ones(2, 3), ac.zeros(4), ac.ones(4), training=True),
     errors.ShapeError),
    (lambda: F.batch_norm(ac.ones(2, 3), None, None, training=False),
     errors.InvalidArgumentError),
    (lambda: F.batch_norm(ac.ones(3), None, None, training=True), errors.ShapeError),
    (lambda: F.layer_norm(ac.ones(2, 3), (2,)), errors.ShapeError),
])
def test_bad_input_named_errors(call, err):
    with pytest.raises(err):
        call()
