"""interpolate and pixel_shuffle: PyTorch index rules, gradients, named errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import errors
from autograd_cnn.testing import gradcheck, gradgradcheck


def test_nearest_doubles_and_bilinear_align_corners_interpolates():
    x = ac.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2).numpy()[0, 0],
                                  np.kron([[1, 2], [3, 4]], np.ones((2, 2))))
    y = F.interpolate(x, size=3, mode="bilinear", align_corners=True).numpy()[0, 0]
    np.testing.assert_allclose(y, [[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]])


@settings(max_examples=30)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 9), st.integers(1, 9),
       st.sampled_from([("nearest", None), ("bilinear", False), ("bilinear", True)]))
def test_interpolate_matches_torch(h, w, oh, ow, mode):
    torch = pytest.importorskip("torch")
    mode, corners = mode
    x = np.random.default_rng(h * 7 + w).standard_normal((2, 2, h, w))
    t = ac.tensor(x, requires_grad=True)
    y = F.interpolate(t, size=(oh, ow), mode=mode, align_corners=corners)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, size=(oh, ow), mode=mode, align_corners=corners)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), tx.grad.numpy(), atol=1e-12)


def test_interpolate_scale_factor_linear_and_trilinear_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    for shape, mode, sf in (((1, 2, 5), "linear", 2.5), ((1, 1, 3, 4, 5), "trilinear", 1.5),
                            ((2, 1, 5, 7), "bilinear", (0.6, 1.3)),
                            ((2, 1, 5, 7), "nearest", 1.7)):
        x = rng.standard_normal(shape)
        kw = {} if mode == "nearest" else {"align_corners": False}
        np.testing.assert_allclose(
            F.interpolate(ac.tensor(x), scale_factor=sf, mode=mode, **kw).numpy(),
            torch.nn.functional.interpolate(torch.tensor(x), scale_factor=sf, mode=mode,
                                            **kw).numpy(), atol=1e-12)


def test_interpolate_gradients_and_double_backward():
    x = ac.tensor(np.random.default_rng(3).standard_normal((1, 2, 3, 4)), requires_grad=True)
    f = lambda t: F.interpolate(t, size=(5, 3), mode="bilinear", align_corners=False)  # noqa
    assert gradcheck(f, [x]) and gradgradcheck(f, [x])
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=2), [x])


def test_pixel_shuffle_matches_torch_and_round_trips():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((2, 18, 3, 4))
    y = F.pixel_shuffle(ac.tensor(x), 3)
    np.testing.assert_array_equal(y.numpy(), torch.nn.functional.pixel_shuffle(
        torch.tensor(x), 3).numpy())
    np.testing.assert_array_equal(F.pixel_unshuffle(y, 3).numpy(), x)
    t = ac.tensor(x[:1, :9, :2, :2], requires_grad=True)
    assert gradcheck(lambda u: F.pixel_shuffle(u, 3), [t])


@pytest.mark.parametrize("call, err", [
    (lambda: F.interpolate(ac.ones(1, 1, 4, 4), size=2, mode="lanczos"),
     errors.InterpolateError),
    (lambda: F.interpolate(ac.ones(1, 1, 4), size=2, mode="bicubic"),
     errors.InterpolateError),
    (lambda: F.interpolate(ac.ones(1, 1, 4, 4), size=2, antialias=True),
     errors.InterpolateError),
    (lambda: F.interpolate(ac.ones(1, 1, 4, 4), size=2, recompute_scale_factor=True),
     errors.InterpolateError),
    (lambda: F.interpolate(ac.ones(1, 1, 4), scale_factor=float("inf")),
     errors.InterpolateError),
    (lambda: F.interpolate(ac.ones(1, 1, 4), size=2, mode="area", align_corners=False),
     errors.InterpolateError),
    (lambda: F.interpolate(ac.ones(1, 1, 4, 4), size=2, scale_factor=2),
     errors.InterpolateError),
    (lambda: F.interpolate(ac.ones(1, 1, 4, 4)), errors.InterpolateError),
    (lambda: F.interpolate(ac.ones(1, 1, 4, 4), size=2, align_corners=True),
     errors.InterpolateError),
    (lambda: F.interpolate(ac.ones(1, 1, 4), size=2, mode="bilinear"),
     errors.InterpolateError),
    (lambda: F.interpolate(ac.ones(4, 4), size=2), errors.ShapeError),
    (lambda: F.pixel_shuffle(ac.ones(1, 5, 2, 2), 2), errors.ShapeError),
])
def test_bad_input_named_errors(call, err):
    with pytest.raises(err):
        call()
