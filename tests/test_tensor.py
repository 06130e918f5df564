"""Tensor construction, attributes, dtypes, operators and in-place changes."""

import numpy as np
import pytest

import autograd_cnn as ac
from autograd_cnn import errors


def test_python_floats_default_to_float32_and_numpy_float64_is_kept():
    assert ac.tensor([1.0, 2.0]).dtype == np.float32
    assert ac.tensor(np.zeros(3)).dtype == np.float64
    assert ac.tensor([1, 2]).dtype == np.int64
    assert ac.tensor([True, False]).dtype == np.bool_
    assert ac.tensor([1, 2], dtype="float64").dtype == np.float64


def test_tensor_copies_numpy_data():
    a = np.zeros(3)
    t = ac.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 0


def test_attributes():
    t = ac.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.numel() == 6 and t.dtype == np.float64
    assert t.size() == (2, 3) and t.size(-1) == 3  # PyTorch: the shape, not the count
    assert t.is_leaf and t.requires_grad and t.grad is None
    assert np.asarray(t) is t.numpy()
    assert ac.tensor(3.5).item() == 3.5
    y = t * 2
    assert not y.is_leaf and y.op == "mul"
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.numpy() is y.numpy()


def test_repr_shows_shape_dtype_and_op():
    t = ac.tensor([1.0, 2.0], requires_grad=True)
    r = repr(t * t)
    assert "shape=(2,)" in r and "dtype=float32" in r and "op=mul" in r
    assert "requires_grad=True" in repr(t)


def test_creation_functions():
    assert ac.zeros(2, 3).shape == (2, 3) and ac.zeros((2, 3)).dtype == np.float32
    assert ac.ones(4).numpy().sum() == 4
    assert ac.full((2, 2), 7.0).numpy().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert ac.arange(5).dtype == np.int64 and ac.arange(0.0, 1.0, 0.5).dtype == np.float32
    a, b = ac.randn(3, 4, seed=1), ac.randn(3, 4, seed=1)
    assert np.array_equal(a.numpy(), b.numpy()) and a.dtype == np.float32
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    assert np.array_equal(ac.rand(5, generator=g1).numpy(), ac.rand(5, generator=g2).numpy())
    assert ac.randn(2, dtype="float64").dtype == np.float64
    u = ac.rand(1000, seed=0).numpy()
    assert 0 <= u.min() and u.max() < 1


def test_manual_seed_makes_global_draws_reproducible():
    ac.manual_seed(3)
    a = ac.randn(4).numpy()
    ac.manual_seed(3)
    assert np.array_equal(a, ac.randn(4).numpy())


def test_integer_and_bool_tensors_cannot_require_grad():
    with pytest.raises(errors.GradientDTypeError, match="int64"):
        ac.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError):
        ac.tensor([True]).requires_grad = True


def test_integer_results_never_require_grad():
    x = ac.tensor([1.5, 2.5], requires_grad=True)
    assert not x.astype("int64").requires_grad
    assert not (x > 2).requires_grad


def test_operators_match_numpy():
    a = np.array([[1.0, -2.0, 3.0]])
    b = np.array([[2.0], [4.0]])
    ta, tb = ac.tensor(a), ac.tensor(b)
    for got, want in [
        (ta + tb, a + b), (ta - tb, a - b), (ta * tb, a * b), (ta / tb, a / b),
        (tb ** 2, b ** 2), (-ta, -a), (ta @ a.T, a @ a.T), (2 - ta, 2 - a), (1 / tb, 1 / b),
        (2 ** tb, 2 ** b),
    ]:
        np.testing.assert_allclose(got.numpy(), want)
    assert (ta > 0).numpy().tolist() == [[True, False, True]]
    assert (ta == 3.0).dtype == np.bool_
    assert ta[0, 1].item() == -2.0 and ta[:, ::2].shape == (1, 2)


def test_python_scalars_keep_float32():
    x = ac.ones(3)
    for y in (x * 2.0, x + 1, 2.0 / x, x ** 2, x - 0.5):
        assert y.dtype == np.float32
    assert (ac.ones(2, dtype="float64") * np.float32(2)).dtype == np.float64


def test_numpy_dtype_promotion():
    f32, f64 = ac.ones(2), ac.ones(2, dtype="float64")
    assert (f32 + f64).dtype == np.float64
    assert (ac.tensor([1, 2]) / ac.tensor([2, 2])).dtype == np.float64
    assert (ac.tensor([1, 2]) * 1.5).dtype == np.float64


def test_ndarray_on_the_left_defers_to_tensor():
    out = np.ones(2) + ac.tensor(np.ones(2), requires_grad=True)
    assert isinstance(out, ac.Tensor) and out.requires_grad


def test_setitem_under_no_grad_bumps_version():
    w = ac.tensor(np.zeros(4), requires_grad=True)
    v = w.version
    with ac.no_grad():
        w[1] = 3.0
    assert w.version == v + 1 and w.numpy()[1] == 3.0


def test_inplace_on_tensor_requiring_grad_while_recording_is_refused():
    w = ac.tensor(np.zeros(4), requires_grad=True)
    with pytest.raises(errors.InplaceError, match="no_grad"):
        w[0] = 1.0
    with pytest.raises(errors.InplaceError):
        w.add_(1.0)


def test_inplace_methods():
    t = ac.tensor(np.array([1.0, 2.0]))
    t.add_(1.0).mul_(2.0).sub_(ac.tensor(np.array([1.0, 1.0])), alpha=2.0).div_(2.0)
    assert t.numpy().tolist() == [1.0, 2.0]
    t.zero_()
    assert t.numpy().tolist() == [0.0, 0.0] and t.version == 5
    t.copy_(np.array([4.0, 5.0]))
    assert t.numpy().tolist() == [4.0, 5.0]


def test_bad_data_is_a_named_error():
    with pytest.raises(errors.DTypeError, match="dtype"):
        ac.tensor(["a", "b"])
    with pytest.raises(TypeError):
        ac.tensor({"a": 1})


def test_item_of_non_scalar_raises():
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        ac.ones(2).item()


def test_numpy_scalars_are_weak_like_python_scalars():
    x = ac.ones(3)
    assert (x * np.sqrt(2.0)).dtype == np.float32
    assert (np.float64(2.0) * x).dtype == np.float32
    assert (x + np.int64(1)).dtype == np.float32


def test_bad_dtype_and_arange_step_are_named_errors():
    with pytest.raises(errors.DTypeError, match="'foo'"):
        ac.zeros(3, dtype="foo")
    with pytest.raises(errors.InvalidArgumentError, match="step"):
        ac.arange(0, 5, 0)


def test_index_out_of_range_is_a_named_index_error():
    with pytest.raises(errors.IndexOutOfRangeError, match=r"index 5.*shape \(3,\)") as info:
        ac.zeros(3)[5]
    assert isinstance(info.value, IndexError)
