"""autograd_cnn.signal: true convolution/correlation against SciPy, FFT convolution,
Toeplitz and conv matrices, gradients, and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
from autograd_cnn import errors, signal
from autograd_cnn.testing import gradcheck, gradgradcheck

scipy_signal = pytest.importorskip("scipy.signal")
N = min(settings().max_examples, 30)


def _shapes(nd):
    return st.tuples(*(st.integers(1, 5 if nd < 3 else 3) for _ in range(nd)))


@settings(max_examples=N)
@given(st.integers(1, 3).flatmap(lambda nd: st.tuples(_shapes(nd), _shapes(nd))),
       st.sampled_from(["full", "same", "valid"]), st.integers(0, 2**16))
def test_convolve_correlate_fftconvolve_match_scipy(shapes, mode, seed):
    rng = np.random.default_rng(seed)
    a, v = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    try:
        ref = scipy_signal.convolve(a, v, mode, method="direct")
    except ValueError:  # scipy refuses 'valid' when neither operand contains the other
        with pytest.raises(errors.ConvShapeError, match="valid"):
            signal.convolve(a, v, mode)
        return
    np.testing.assert_allclose(signal.convolve(a, v, mode).numpy(), ref, atol=1e-12)
    np.testing.assert_allclose(signal.fftconvolve(a, v, mode).numpy(), ref, atol=1e-10)
    np.testing.assert_allclose(signal.correlate(a, v, mode).numpy(),
                               scipy_signal.correlate(a, v, mode, method="direct"), atol=1e-12)


def test_numpy_1d_convolve_agrees_including_even_kernels_in_same_mode():
    a = np.arange(1.0, 8.0)
    for v in ([1.0, 2.0], [1.0, -1.0, 0.5, 2.0], [3.0]):
        for mode in ("full", "same", "valid"):
            np.testing.assert_allclose(signal.convolve(a, v, mode).numpy(),
                                       np.convolve(a, v, mode), atol=1e-12)


def test_integer_inputs_become_float64_and_float32_is_kept():
    assert signal.convolve([1, 2, 3], [1, 1]).dtype == np.float64
    np.testing.assert_array_equal(signal.convolve([1, 2, 3], [1, 1]).numpy(), [1, 3, 5, 3])
    a32 = ac.tensor(np.ones(4, np.float32))
    assert signal.convolve(a32, a32).dtype == np.float32


@pytest.mark.parametrize("fn", [signal.convolve, signal.correlate, signal.fftconvolve])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_signal_ops_are_differentiable_twice(fn, mode):
    rng = np.random.default_rng(1)
    a = ac.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    v = ac.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(lambda x, y: fn(x, y, mode), [a, v])
    assert gradgradcheck(lambda x, y: fn(x, y, mode), [a, v])


def test_toeplitz_matches_the_notes_and_is_differentiable_in_h():
    h = ac.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = signal.toeplitz(h, 4)
    assert m.shape == (6, 4)
    np.testing.assert_array_equal(m.numpy()[:, 0], [1, 2, 3, 0, 0, 0])
    np.testing.assert_array_equal(m.numpy()[0], [1, 0, 0, 0])
    m.sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [4, 4, 4])  # each h_k on n diagonals


def test_conv_matrix_transpose_is_the_transposed_conv():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((4, 2, 3, 3))
    m = signal.conv_matrix(w, (2, 7, 6), stride=2, padding=1)
    y = rng.standard_normal((1, 4, 4, 3))
    z = ac.functional.conv_transpose2d(ac.tensor(y), ac.tensor(w), stride=2, padding=1,
                                       output_padding=(0, 1))
    np.testing.assert_allclose(m.T @ y.ravel(), z.numpy().ravel(), atol=1e-12)
    assert signal.conv_matrix(w, (1, 2, 7, 6), padding="same").shape == (4 * 42, 2 * 42)


@pytest.mark.parametrize("call,err,pattern", [
    (lambda: signal.convolve(np.ones(3), np.ones((2, 2))), errors.ConvShapeError, "same number"),
    (lambda: signal.convolve(np.ones(3), np.ones(2), "wide"), errors.InvalidArgumentError,
     "mode"),
    (lambda: signal.convolve(np.ones((3, 2)), np.ones((2, 3)), "valid"), errors.ConvShapeError,
     "valid"),
    (lambda: signal.toeplitz(np.ones((2, 2)), 3), errors.ConvShapeError, "1-D"),
    (lambda: signal.toeplitz(np.ones(2), 0), errors.InvalidArgumentError, "positive"),
    (lambda: signal.toeplitz(np.ones(4), 2, "valid"), errors.ConvShapeError, "n >= len"),
    (lambda: signal.conv_matrix(np.ones((1, 1, 3, 3)), (1, 5)), errors.ConvShapeError,
     "input_shape"),
    (lambda: signal.conv_matrix(np.ones((1, 2, 3, 3)), (1, 5, 5)),
     errors.ChannelMismatchError, "channels"),
])
def test_signal_bad_input(call, err, pattern):
    with pytest.raises(err, match=pattern):
        call()
