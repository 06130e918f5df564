"""Semantics of the DSL ops beyond their gradients: values against NumPy, PyTorch
conventions (dim/axis, keepdim, pad order, repeat), stability, tie rules, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_cnn as ac
from autograd_cnn import errors
from autograd_cnn.testing import broadcastable_shapes, tensors


def t64(a, requires_grad=True):
    return ac.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _np_sum_to(g, shape):
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


@given(broadcastable_shapes(), st.data())
def test_binary_ops_broadcast_like_numpy_and_unbroadcast_gradients(shapes, data):
    sa, sb = shapes
    a = data.draw(tensors(shape=sa))
    b = data.draw(tensors(shape=sb))
    out = a * b + a
    np.testing.assert_allclose(out.numpy(), a.numpy() * b.numpy() + a.numpy())
    out.sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    ones = np.ones(out.shape)
    np.testing.assert_allclose(b.grad.numpy(), _np_sum_to(ones * a.numpy(), sb))
    np.testing.assert_allclose(a.grad.numpy(), _np_sum_to(ones * (b.numpy() + 1), sa))


def test_reductions_take_dim_or_axis_and_keepdim_or_keepdims():
    x = np.arange(24.0).reshape(2, 3, 4)
    t = ac.tensor(x)
    np.testing.assert_allclose(ac.sum(t, dim=1).numpy(), x.sum(1))
    np.testing.assert_allclose(ac.sum(t, axis=(0, 2)).numpy(), x.sum((0, 2)))
    assert ac.mean(t, 1, keepdim=True).shape == (2, 1, 4)
    assert t.mean(axis=-1, keepdims=True).shape == (2, 3, 1)
    np.testing.assert_allclose(t.amax(dim=2).numpy(), x.max(2))
    np.testing.assert_allclose(t.max(dim=2).values.numpy(), x.max(2))  # torch: (values, indices)
    np.testing.assert_array_equal(t.max(dim=2).indices.numpy(), x.argmax(2))
    np.testing.assert_allclose(t.min(axis=0).numpy(), x.min(0))
    with pytest.raises(errors.InvalidArgumentError, match="dim or axis"):
        ac.sum(t, dim=0, axis=0)
    with pytest.raises(errors.InvalidArgumentError, match="out of range"):
        ac.sum(t, dim=3)


def test_var_and_std_use_bessel_correction_by_default():
    x = np.array([[1.0, 2.0, 4.0], [0.0, -1.0, 5.0]])
    t = ac.tensor(x)
    np.testing.assert_allclose(ac.var(t, dim=1).numpy(), x.var(1, ddof=1))
    np.testing.assert_allclose(ac.var(t, dim=1, correction=0).numpy(), x.var(1))
    np.testing.assert_allclose(ac.std(t).numpy(), x.std(ddof=1))
    np.testing.assert_allclose(t.std(dim=0, unbiased=False).numpy(), x.std(0))


def test_max_ties_share_the_gradient_equally():
    x = t64([1.0, 3.0, 3.0, 3.0, 0.0])
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1 / 3, 1 / 3, 1 / 3, 0])
    y = t64([[2.0, 2.0], [1.0, 5.0]])
    y.amin(dim=1).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [[0.5, 0.5], [1.0, 0.0]])


def test_maximum_ties_split_the_gradient():
    a, b = t64([1.0, 2.0]), t64([1.0, 3.0])
    ac.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 1.0])


def test_softmax_and_log_softmax_stable_for_large_float32_logits():
    z = ac.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
    p = ac.softmax(z, dim=1)
    lp = ac.log_softmax(z, dim=1)
    assert p.dtype == np.float32 and np.isfinite(p.numpy()).all()
    np.testing.assert_allclose(p.numpy()[0], [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(p.numpy()[1], [1 / 3] * 3, rtol=1e-6)
    assert np.isfinite(lp.numpy()).all() and lp.numpy()[0, 1] == pytest.approx(-2e4)
    lp[:, 0].sum().backward()
    assert np.isfinite(z.grad.numpy()).all()
    np.testing.assert_allclose(ac.logsumexp(z, dim=1).numpy(),
                               [1e4, -1e4 + np.log(3)], rtol=1e-6)


def test_logsumexp_matches_numpy_and_handles_minus_inf():
    x = np.array([[0.5, -1.0, 2.0], [-np.inf, -np.inf, -np.inf]])
    got = ac.logsumexp(ac.tensor(x), dim=1).numpy()
    assert got[0] == pytest.approx(np.log(np.exp(x[0]).sum()))
    assert got[1] == -np.inf


def test_einsum_matches_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    np.testing.assert_allclose(ac.einsum("bij,jk->bik", a, b).numpy(),
                               np.einsum("bij,jk->bik", a, b))
    np.testing.assert_allclose(ac.einsum("...j,jk", a, b).numpy(), np.einsum("...j,jk", a, b))
    np.testing.assert_allclose(ac.einsum("bij->j", a).numpy(), np.einsum("bij->j", a))
    with pytest.raises(errors.EinsumError, match="operand 1"):
        ac.einsum("ij,jk->ik", a[0], a[0])
    with pytest.raises(errors.EinsumError, match="diagonal"):
        ac.einsum("ii->i", np.eye(3))


def test_matmul_one_dimensional_cases():
    v, m = np.arange(3.0), np.arange(6.0).reshape(3, 2)
    assert (ac.tensor(v) @ ac.tensor(v)).shape == ()
    np.testing.assert_allclose((ac.tensor(v) @ ac.tensor(m)).numpy(), v @ m)
    np.testing.assert_allclose((ac.tensor(m.T) @ ac.tensor(v)).numpy(), m.T @ v)


def test_getitem_repeated_indices_accumulate_gradient():
    x = t64([1.0, 2.0, 3.0])
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 0.0, 1.0])
    y = t64(np.arange(6.0).reshape(2, 3))
    y[y > 2].sum().backward()  # boolean-mask indexing with a Tensor mask
    np.testing.assert_allclose(y.grad.numpy(), [[0, 0, 0], [1, 1, 1]])


def test_concatenate_stack_split_roundtrip():
    a, b = t64(np.ones((2, 3))), t64(np.zeros((2, 1)))
    c = ac.concatenate([a, b], dim=1)
    assert c.shape == (2, 4)
    p, q = ac.split(c, [3, 1], dim=1)
    np.testing.assert_array_equal(p.numpy(), a.numpy())
    assert ac.stack([a, a], dim=0).shape == (2, 2, 3)
    assert [s.shape for s in ac.split(ac.ones(5), 2)] == [(2,), (2,), (1,)]
    with pytest.raises(errors.ShapeError, match=r"tensor 1 has shape \(3, 1\)"):
        ac.concatenate([a, ac.ones(3, 1)], dim=1)


def test_pad_uses_pytorch_order_last_dim_first():
    x = ac.ones(1, 2, 3)
    y = ac.pad(x, (1, 2, 3, 0), value=-1.0)
    assert y.shape == (1, 5, 6)
    assert y.numpy()[0, 0, 0] == -1.0 and y.numpy()[0, 3, 1] == 1.0


def test_repeat_is_torch_repeat_and_tile_is_numpy_tile():
    x = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(ac.tensor(x).repeat(2, 3).numpy(), np.tile(x, (2, 3)))
    np.testing.assert_array_equal(ac.tile(ac.tensor(x), 2).numpy(), np.tile(x, 2))


def test_movement_helpers():
    x = ac.ones(2, 1, 3)
    assert x.squeeze().shape == (2, 3) and x.squeeze(1).shape == (2, 3)
    assert x.unsqueeze(0).shape == (1, 2, 1, 3) and x.unsqueeze(-1).shape == (2, 1, 3, 1)
    assert x.flatten().shape == (6,) and x.flatten(1).shape == (2, 3)
    assert x.permute(2, 0, 1).shape == (3, 2, 1) and x.T.shape == (3, 1, 2)
    assert x.transpose(0, 2).shape == (3, 1, 2) and x.expand(4, 2, 5, 3).shape == (4, 2, 5, 3)
    assert ac.reshape(x, (3, -1)).shape == (3, 2)
    with pytest.raises(errors.ShapeError, match="6 elements"):
        x.reshape(4, 2)


def test_clip_where_and_activations():
    x = t64([-2.0, -0.5, 0.5, 2.0])
    np.testing.assert_allclose(ac.clip(x, -1, 1).numpy(), [-1, -0.5, 0.5, 1])
    np.testing.assert_allclose(ac.relu(x).numpy(), [0, 0, 0.5, 2])
    np.testing.assert_allclose(ac.leaky_relu(x, 0.1).numpy(), [-0.2, -0.05, 0.5, 2])
    np.testing.assert_allclose(ac.sigmoid(t64([-800.0, 0.0, 800.0])).numpy(), [0, 0.5, 1])
    np.testing.assert_allclose(ac.softplus(t64([-50.0, 0.0, 50.0])).numpy(),
                               [np.log1p(np.exp(-50.0)), np.log(2), 50.0])
    np.testing.assert_allclose(ac.where(x > 0, x, 0.0).numpy(), [0, 0, 0.5, 2])


def test_pow_gradient_is_zero_not_nan_at_zero_base_and_zero_exponent():
    a = t64([0.0, 1.0, 2.0])
    (a ** 0.0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0, 0.0])


def test_pad_modes():
    x = ac.tensor(np.arange(4.0).reshape(1, 4))
    np.testing.assert_array_equal(ac.pad(x, (2, 1), mode="reflect").numpy(),
                                  [[2, 1, 0, 1, 2, 3, 2]])
    np.testing.assert_array_equal(ac.pad(x, (1, 1), mode="replicate").numpy(),
                                  [[0, 0, 1, 2, 3, 3]])
    np.testing.assert_array_equal(ac.pad(x, (1, 2), mode="circular").numpy(),
                                  [[3, 0, 1, 2, 3, 0, 1]])
    with pytest.raises(errors.InvalidArgumentError, match="mode"):
        ac.pad(x, (1, 1), mode="wrap")
    with pytest.raises(errors.InvalidArgumentError, match="value"):
        ac.pad(x, (1, 1), mode="reflect", value=2.0)


def test_relu_gradient_is_zero_where_masked_even_for_infinite_upstream_gradients():
    from autograd_cnn.ops.activation_grads import relu_grad

    g = ac.tensor([np.inf, np.nan, 1.0, -np.inf])
    x = ac.tensor([-1.0, -2.0, 3.0, 4.0])
    out = relu_grad(g, x).numpy()
    assert out[0] == 0 and out[1] == 0 and out[2] == 1 and out[3] == -np.inf
