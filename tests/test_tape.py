"""The tape: backward, accumulation, grad modes, functional faces, higher order,
long chains, freed buffers, version counters, and the errors of section 6."""

import gc
import weakref

import numpy as np
import pytest

import autograd_cnn as ac
from autograd_cnn import errors


def f64(a, requires_grad=True):
    return ac.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_backward_computes_the_gradient():
    x = f64([1.0, 2.0, 3.0])
    (x * x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([1.0, 4.0, 9.0]))


def test_leaf_grad_accumulates_across_calls():
    x = f64([1.0, -1.0])
    (2 * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_shared_subexpression_gets_both_contributions():
    x = f64(2.0)
    y = x * x
    (y + y * x).backward()  # d/dx (x^2 + x^3) = 2x + 3x^2
    assert x.grad.item() == pytest.approx(4 + 12)


def test_explicit_gradient_for_non_scalar_output():
    x = f64([1.0, 2.0])
    (x * x).backward(gradient=np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 40.0])


def test_grad_dtype_matches_input_dtype():
    x32 = ac.tensor([1.0, 2.0], requires_grad=True)
    x64 = f64([1.0, 2.0])
    (x32 * x64).sum().backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64


def test_no_grad_and_enable_grad_as_context_and_decorator():
    x = f64([1.0])
    with ac.no_grad():
        assert not (x * 2).requires_grad
        with ac.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad

    @ac.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and ac.is_grad_enabled()

    @ac.enable_grad()
    def g(t):
        return t * 2

    with ac.no_grad():
        assert g(x).requires_grad


def test_functional_grad_and_value_and_grad():
    def f(x, y):
        return (x * x * y).sum()

    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    gx = ac.grad(f)(x, y)
    np.testing.assert_allclose(gx.numpy(), 2 * x * y)
    gx, gy = ac.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gy.numpy(), x * x)
    val, g = ac.value_and_grad(f, argnums=1)(x, y)
    assert val.item() == pytest.approx(3 + 16)
    np.testing.assert_allclose(g.numpy(), x * x)


def test_grad_of_non_scalar_function_is_an_error():
    with pytest.raises(errors.NonScalarBackwardError, match="scalar"):
        ac.grad(lambda x: x * 2)(np.ones(3))


def test_vjp_can_be_called_repeatedly():
    out, vjp_fn = ac.vjp(lambda x: x * x, np.array([1.0, 2.0]))
    np.testing.assert_allclose(out.numpy(), [1.0, 4.0])
    (g1,) = vjp_fn(np.array([1.0, 0.0]))
    (g2,) = vjp_fn(np.array([0.0, 1.0]))
    np.testing.assert_allclose(g1.numpy(), [2.0, 0.0])
    np.testing.assert_allclose(g2.numpy(), [0.0, 4.0])


def test_gradients_wrt_intermediate_and_leaves_leaves_grad_untouched():
    x = f64([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    gh, gx = ac.gradients(y, [h, x])
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(gx.numpy(), 18 * x.numpy())
    assert x.grad is None


def test_gradients_allow_unused():
    x, z = f64([1.0]), f64([2.0])
    y = (x * 2).sum()
    with pytest.raises(errors.UnusedInputError, match=r"inputs\[1\]"):
        ac.gradients(y, [x, z], retain_graph=True)
    gx, gz = ac.gradients(y, [x, z], allow_unused=True)
    assert gz is None and gx.item() == 2.0


def test_second_derivative_via_create_graph():
    x = f64([0.5, -1.5])
    (g,) = ac.gradients((x ** 3).sum(), [x], create_graph=True)
    assert g.requires_grad
    (h,) = ac.gradients(g.sum(), [x])
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy())


@pytest.mark.parametrize("fn, third", [(lambda x: ac.exp(2 * x), 8 * np.exp(1.4)),
                                       (lambda x: ac.sin(x), -np.cos(0.7))])
def test_third_derivative(fn, third):
    x = f64(0.7)
    y = fn(x)
    (g1,) = ac.gradients(y, [x], create_graph=True)
    (g2,) = ac.gradients(g1, [x], create_graph=True)
    (g3,) = ac.gradients(g2, [x])
    assert g3.item() == pytest.approx(third)


def test_backward_create_graph_gives_differentiable_grad():
    x = f64([1.0, 2.0])
    (x ** 2).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    gp = (x.grad ** 2).sum()  # gradient penalty: sum (2x)^2 -> d/dx = 8x
    x.grad = None
    gp.backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * np.array([1.0, 2.0]))


def test_hvp_matches_explicit_hessian():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])

    def f(x):
        return (x @ ac.tensor(A) @ x) * 0.5 + (x ** 4).sum()

    x0 = np.array([0.3, -0.7])
    v = np.array([1.0, 2.0])
    val, hv = ac.hvp(f, ac.tensor(x0), ac.tensor(v))
    H = A + np.diag(12 * x0 ** 2)
    np.testing.assert_allclose(hv.numpy(), H @ v)
    assert val.item() == pytest.approx(0.5 * x0 @ A @ x0 + (x0 ** 4).sum())


def test_chain_of_100000_ops_backpropagates_without_recursion_error():
    x = f64(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_backward_twice_without_retain_graph_raises():
    x = f64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(errors.GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = f64([1.0, 2.0])
    y = (x.exp()).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]))


def test_saved_buffers_are_released_after_backward():
    x = f64(np.ones(1000))
    h = x * 2
    y = (h.exp()).sum()
    ref = weakref.ref(h)
    del h
    gc.collect()
    assert ref() is not None  # still saved on the tape (exp's input)
    y.backward()
    gc.collect()
    assert ref() is None
    assert y.grad_fn.freed and y.grad_fn.inputs is None


def test_non_scalar_backward_without_gradient_raises():
    x = f64([1.0, 2.0])
    with pytest.raises(errors.NonScalarBackwardError, match=r"shape \(2,\)"):
        (x * 2).backward()


def test_backward_of_tensor_not_requiring_grad_raises():
    with pytest.raises(errors.NoGradError, match="does not require grad"):
        ac.tensor([1.0]).sum().backward()
    x = f64([1.0])
    with ac.no_grad():
        y = (x * 2).sum()
    with pytest.raises(errors.NoGradError):
        y.backward()


def test_wrong_gradient_shape_raises():
    x = f64([1.0, 2.0])
    with pytest.raises(errors.ShapeError, match=r"\(2,\).*\(3,\)"):
        (x * 2).backward(gradient=np.ones(3))


def test_modified_after_saved_raises_instead_of_wrong_gradient():
    w = f64([1.0, 2.0])
    x = f64([3.0, 4.0], requires_grad=False)
    y = (w * x).sum()  # mul saves x for w's gradient
    x[0] = 100.0       # in place: x does not require grad, so allowed
    with pytest.raises(errors.SavedTensorModifiedError, match="input 1 of op 'mul'"):
        y.backward()


def test_optimizer_style_update_then_backward_of_old_graph_raises():
    w = f64([1.0, 2.0])
    y = (w * w).sum()
    with ac.no_grad():
        w.sub_(0.1)
    with pytest.raises(errors.SavedTensorModifiedError, match="version"):
        y.backward()


def test_views_share_the_version_counter():
    base = f64(np.arange(6.0), requires_grad=False)
    v = base.reshape(2, 3)
    w = f64(np.ones((2, 3)))
    y = (w * v).sum()
    base[0] = 10.0
    with pytest.raises(errors.SavedTensorModifiedError):
        y.backward()


def test_broadcast_shape_error_names_both_shapes():
    with pytest.raises(errors.BroadcastError, match=r"\(2, 3\) and \(4,\)"):
        ac.ones(2, 3) + ac.ones(4)
    with pytest.raises(ValueError):
        ac.ones(2, 3) * ac.ones(2)


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(errors.MatmulShapeError, match=r"\(2, 3\) and \(4, 5\)"):
        ac.ones(2, 3) @ ac.ones(4, 5)


def test_gradient_of_integer_tensor_is_refused():
    with pytest.raises(errors.GradientDTypeError, match="floating"):
        ac.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(errors.GradientDTypeError):
        ac.grad(lambda x: (x * 2).sum())(np.array([1, 2]))


def test_requires_grad_only_switchable_on_leaves():
    y = f64([1.0]) * 2
    with pytest.raises(errors.InplaceError, match="detach"):
        y.requires_grad = False
