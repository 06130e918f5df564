"""The convolution family: the seeds' worked examples, argument parsing, padding modes,
transposed conv sizes, the closed backward graph, and named errors for bad input."""

import numpy as np
import pytest

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import errors
from autograd_cnn.kernels import conv_dispatch
from autograd_cnn.tape import _toposort, meta_mode


def t(a, grad=False, dtype=np.float64):
    return ac.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


# ---- the seeds' worked examples --------------------------------------------------------

SIGNAL = [4, 3, 2, -5, 3, 5, 2, 5, 5, 6]


def test_box_filter_valid_shrinks_the_signal():
    y = F.conv1d(t([[SIGNAL]]), t([[[1 / 3] * 3]]))
    np.testing.assert_allclose(y.numpy()[0, 0], [3, 0, 0, 1, 10 / 3, 4, 4, 16 / 3], atol=1e-14)


def test_box_filter_same_pads_with_zeros():
    y = F.conv1d(t([[SIGNAL]]), t([[[1 / 3] * 3]]), padding="same")
    np.testing.assert_allclose(y.numpy()[0, 0],
                               [7 / 3, 3, 0, 0, 1, 10 / 3, 4, 4, 16 / 3, 11 / 3], atol=1e-14)
    y1 = F.conv1d(t([[SIGNAL]]), t([[[1 / 3] * 3]]), padding=1)
    np.testing.assert_array_equal(y.numpy(), y1.numpy())


IMAGE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]


@pytest.mark.parametrize("algorithm", ["auto", "im2col", "direct", "reference"])
def test_binary_image_example_gives_the_seed_values_then_18(algorithm):
    x = t([[IMAGE]])
    w = t([[KERNEL]])
    y = F.conv2d(x, w, algorithm=algorithm)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    z = F.conv2d(y, w, algorithm=algorithm)
    assert z.shape == (1, 1, 1, 1) and z.item() == 18


def test_same_padding_example_keeps_the_size():
    x = np.zeros((7, 7))
    x[1:6, 1:6] = IMAGE
    y = F.conv2d(t([[x[1:6, 1:6]]]), t([[[[0, 0, 1], [0, 1, 1], [1, 1, 1]]]]), padding=1)
    assert y.shape == (1, 1, 5, 5)
    # interior matches the unpadded (valid) conv
    yv = F.conv2d(t([[x[1:6, 1:6]]]), t([[[[0, 0, 1], [0, 1, 1], [1, 1, 1]]]]))
    np.testing.assert_array_equal(y.numpy()[0, 0, 1:4, 1:4], yv.numpy()[0, 0])


@pytest.mark.parametrize("n,f,p,s,expected", [
    (64, 3, 1, 2, 32), (7, 3, 0, 1, 5), (7, 3, 0, 2, 3), (7, 3, 0, 3, 2), (32, 5, 2, 1, 32),
    (28, 5, 0, 1, 24), (224, 7, 3, 2, 112),
])
def test_output_size_formula_of_the_notes(n, f, p, s, expected):
    shape = F.conv2d(ac.zeros((1, 3, n, n)), ac.zeros((4, 3, f, f)), stride=s, padding=p).shape
    assert shape == (1, 4, expected, expected)
    from autograd_cnn.ops.conv import conv_output_shape

    assert conv_output_shape((1, 3, n, n), (4, 3, f, f), s, p) == shape


def test_multichannel_example_with_bias_sums_channels_then_adds_bias():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (1, 3, 5, 5)).astype(np.float64)
    w = rng.integers(-1, 2, (1, 3, 3, 3)).astype(np.float64)
    y = F.conv2d(t(x), t(w), t([1.0]))
    per_channel = [F.conv2d(t(x[:, c:c + 1]), t(w[:, c:c + 1])).numpy() for c in range(3)]
    np.testing.assert_array_equal(y.numpy(), sum(per_channel) + 1)


# ---- parsing, shapes, modes ----------------------------------------------------------------


def test_unbatched_input_works_as_in_pytorch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6, 5))
    w = rng.standard_normal((2, 3, 3, 3))
    y = F.conv2d(t(x), t(w), padding=1)
    yb = F.conv2d(t(x[None]), t(w), padding=1)
    assert y.shape == (2, 6, 5)
    np.testing.assert_array_equal(y.numpy(), yb.numpy()[0])
    z = F.conv_transpose2d(y, t(w), padding=1)
    assert z.shape == (3, 6, 5)
    assert F.conv1d(t(np.ones((2, 7))), t(np.ones((4, 2, 3)))).shape == (4, 5)


@pytest.mark.parametrize("stride,size,k,dilation", [
    (1, 7, 3, 1), (1, 8, 4, 1), (2, 7, 3, 1), (2, 8, 3, 1), (3, 10, 4, 2), (2, 9, 2, 3)])
def test_same_padding_sizes_and_where_the_odd_pixel_goes(stride, size, k, dilation):
    x = t(np.arange(size * size, dtype=float).reshape(1, 1, size, size))
    w = t(np.random.default_rng(2).standard_normal((1, 1, k, k)))
    y = F.conv2d(x, w, stride=stride, padding="same", dilation=dilation)
    assert y.shape[2:] == (-(-size // stride),) * 2
    # the odd pixel goes at the end (bottom/right): same as explicit (lo, lo + 1) pairs
    span = dilation * (k - 1) + 1
    total = max((-(-size // stride) - 1) * stride + span - size, 0)
    pairs = ((total // 2, total - total // 2),) * 2
    np.testing.assert_array_equal(
        y.numpy(), F.conv2d(x, w, stride=stride, padding=pairs, dilation=dilation).numpy())


def test_asymmetric_padding_pairs_equal_explicit_padding():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((3, 2, 2, 3))
    y = F.conv2d(t(x), t(w), padding=((1, 0), (0, 2)))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 0), (0, 2)))
    np.testing.assert_allclose(y.numpy(), F.conv2d(t(xp), t(w)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_equal_numpy_padding(mode):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((1, 2, 5, 6)), rng.standard_normal((3, 2, 3, 3))
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    xp = np.pad(x, ((0, 0), (0, 0), (2, 2), (1, 1)), mode=np_mode)
    y = F.conv2d(t(x), t(w), padding=(2, 1), padding_mode=mode)
    np.testing.assert_allclose(y.numpy(), F.conv2d(t(xp), t(w)).numpy(), rtol=1e-12)


def test_float32_stays_float32_and_agrees_with_float64():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 3, 3))
    for alg in ["im2col", "direct"]:
        y32 = F.conv2d(t(x, dtype=np.float32), t(w, dtype=np.float32), padding=1, algorithm=alg)
        y64 = F.conv2d(t(x), t(w), padding=1, algorithm=alg)
        assert y32.dtype == np.float32
        np.testing.assert_allclose(y32.numpy(), y64.numpy(), rtol=1e-4, atol=1e-5)


def test_bias_and_gradients_flow_through_backward():
    rng = np.random.default_rng(6)
    x = t(rng.standard_normal((2, 3, 6, 6)), grad=True)
    w = t(rng.standard_normal((4, 3, 3, 3)), grad=True)
    b = t(rng.standard_normal(4), grad=True)
    F.conv2d(x, w, b, padding=1).sum().backward()
    assert x.grad.shape == x.shape and w.grad.shape == w.shape
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 2 * 36.0))


# ---- transposed conv ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 6])
def test_output_size_derives_output_padding(size):
    # a stride-2 conv maps both 5 and 6 to 3; output_size picks the one wanted
    w = t(np.ones((1, 1, 3, 3)))
    y = t(np.ones((1, 1, 3, 3)))
    z = F.conv_transpose2d(y, w, stride=2, padding=1, output_size=(size, size))
    assert z.shape == (1, 1, size, size)
    z2 = F.conv_transpose2d(y, w, stride=2, padding=1, output_padding=size - 5)
    np.testing.assert_array_equal(z.numpy(), z2.numpy())
    with pytest.raises(errors.InvalidArgumentError, match=r"output_size .* \[5, 6\]"):
        F.conv_transpose2d(y, w, stride=2, padding=1, output_size=(7, 7))


def test_conv_transpose_is_the_input_gradient_of_conv():
    rng = np.random.default_rng(7)
    x = t(rng.standard_normal((2, 4, 8, 8)), grad=True)
    w = t(rng.standard_normal((6, 2, 3, 2)))
    g = rng.standard_normal((2, 6, 3, 5))
    y = F.conv2d(x, w, stride=2, padding=(0, 1), groups=2)  # H: 8 -> 3 drops the last row
    y.backward(t(g))
    z = F.conv_transpose2d(t(g), w, stride=2, padding=(0, 1), groups=2, output_padding=(1, 0))
    np.testing.assert_allclose(x.grad.numpy(), z.numpy(), rtol=1e-12)


def test_upsampling_by_transposed_conv_doubles_the_size():
    z = F.conv_transpose2d(ac.ones((1, 8, 16, 16)), ac.ones((8, 4, 2, 2)), stride=2)
    assert z.shape == (1, 4, 32, 32)
    assert F.conv_transpose1d(ac.ones((1, 2, 5)), ac.ones((2, 3, 3)), stride=3).shape == (1, 3, 15)
    assert F.conv_transpose3d(ac.ones((1, 2, 2, 3, 4)), ac.ones((2, 1, 2, 2, 2)),
                              stride=2).shape == (1, 1, 4, 6, 8)


# ---- the backward graph closes on the family ---------------------------------------------


def test_create_graph_shows_the_conv_family_in_the_backward_graph():
    rng = np.random.default_rng(8)
    x = t(rng.standard_normal((1, 2, 5, 5)), grad=True)
    w = t(rng.standard_normal((3, 2, 3, 3)), grad=True)
    y = (F.conv2d(x, w, stride=2) ** 2).sum()
    gx, gw = ac.gradients([y], [x, w], create_graph=True)
    names = {n.prim.name for n in _toposort([gx.grad_fn, gw.grad_fn])}
    assert {"conv_transpose", "conv_weight_grad"} <= names
    # and differentiating again reaches conv itself through their VJPs
    (ggx,) = ac.gradients([gx.sum() + gw.sum()], [x], create_graph=True)
    assert "conv" in {n.prim.name for n in _toposort([ggx.grad_fn])}


def test_meta_mode_uses_the_exact_shape_rules():
    with meta_mode():
        y = F.conv2d(ac.zeros((8, 3, 224, 224)), ac.zeros((64, 3, 7, 7)), stride=2, padding=3)
        z = F.conv_transpose2d(y, ac.zeros((64, 16, 4, 4)), stride=2, padding=1)
        u = F.unfold(z, 3, padding=1)
    assert y.shape == (8, 64, 112, 112)
    assert z.shape == (8, 16, 224, 224)
    assert u.shape == (8, 16 * 9, 224 * 224)


# ---- unfold / fold -------------------------------------------------------------------------


def test_unfold_then_matmul_equals_conv():
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((4, 3, 3, 2))
    cols = F.unfold(t(x), (3, 2), padding=1, stride=(2, 1))
    y = np.einsum("ok,nkl->nol", w.reshape(4, -1), cols.numpy()).reshape(2, 4, 3, 8)
    np.testing.assert_allclose(y, F.conv2d(t(x), t(w), padding=1, stride=(2, 1)).numpy(),
                               rtol=1e-12)


def test_fold_of_unfold_counts_overlaps():
    x = ac.ones((1, 1, 4, 4))
    back = F.fold(F.unfold(x, 2), (4, 4), 2)
    np.testing.assert_array_equal(back.numpy()[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2],
                                                       [1, 2, 2, 1]])


# ---- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("call,err,pattern", [
    (lambda: F.conv2d(ac.zeros((1, 3, 5)), ac.zeros((4, 3, 3, 3))), errors.ConvShapeError,
     "channels"),  # unbatched (3, 5) is 2-D: treated as (C=... ) -> channel mismatch
    (lambda: F.conv2d(ac.zeros((1, 1, 3, 5, 5)), ac.zeros((4, 3, 3, 3))),
     errors.ConvShapeError, r"input must be 3-D .* or 4-D .* got shape \(1, 1, 3, 5, 5\)"),
    (lambda: F.conv2d(ac.zeros((1, 3, 5, 5)), ac.zeros((4, 3, 3))), errors.ConvShapeError,
     "weight must be 4-D"),
    (lambda: F.conv2d(ac.zeros((1, 3, 5, 5)), ac.zeros((4, 2, 3, 3))),
     errors.ChannelMismatchError, r"input has 3 channels .* expects 2"),
    (lambda: F.conv2d(ac.zeros((1, 4, 5, 5)), ac.zeros((3, 2, 3, 3)), groups=2),
     errors.InvalidArgumentError, "groups=2 must divide the output channels"),
    (lambda: F.conv2d(ac.zeros((1, 3, 5, 5)), ac.zeros((3, 1, 3, 3)), groups=2),
     errors.ChannelMismatchError, "groups=2"),
    (lambda: F.conv2d(ac.zeros((1, 1, 2, 2)), ac.zeros((1, 1, 3, 3))),
     errors.KernelTooLargeError, r"larger than the padded input \(2 \+ 0 \+ 0 = 2\)"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((1, 1, 3, 3)), dilation=3),
     errors.KernelTooLargeError, "dilated kernel"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((1, 1, 3, 3)), stride=0),
     errors.InvalidArgumentError, r"stride must be positive, got \(0, 0\)"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((1, 1, 3, 3)), dilation=(1, -1)),
     errors.InvalidArgumentError, "dilation must be positive"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((1, 1, 3, 3)), groups=0),
     errors.InvalidArgumentError, "groups must be a positive int"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((1, 1, 3, 3)), padding=-1),
     errors.InvalidArgumentError, "padding must be non-negative"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((1, 1, 3, 3)), padding="full"),
     errors.InvalidArgumentError, "'valid' or 'same'"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((1, 1, 3, 3)), padding=(1, 2, 3)),
     errors.InvalidArgumentError, "tuple of 2 ints"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((1, 1, 3, 3)), padding=5,
                      padding_mode="reflect"), errors.InvalidArgumentError, "at most 4"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((1, 1, 3, 3)), padding_mode="mirror"),
     errors.InvalidArgumentError, "padding_mode"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5), dtype="float64"), ac.zeros((1, 1, 3, 3))),
     errors.DTypeError, r"input \(float64\) and weight \(float32\)"),
    (lambda: F.conv2d(ac.tensor(np.zeros((1, 1, 5, 5), dtype=np.int64)),
                      ac.tensor(np.zeros((1, 1, 3, 3), dtype=np.int64))),
     errors.DTypeError, "floating point"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((2, 1, 3, 3)), ac.zeros(3)),
     errors.ConvShapeError, r"bias must have shape \(2,\)"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((1, 1, 3, 3)), algorithm="strassen"),
     errors.InvalidArgumentError, "algorithm"),
    (lambda: F.conv2d(ac.zeros((1, 1, 5, 5)), ac.zeros((1, 1, 3, 3)), algorithm="gemm"),
     errors.InvalidArgumentError, "'gemm' needs a 1x1 kernel"),
    (lambda: F.conv_transpose2d(ac.zeros((1, 2, 3, 3)), ac.zeros((2, 1, 3, 3)), stride=2,
                                output_padding=2),
     errors.InvalidArgumentError, "output_padding must be smaller than either stride or"),
    (lambda: F.conv_transpose2d(ac.zeros((1, 3, 3, 3)), ac.zeros((2, 1, 3, 3))),
     errors.ChannelMismatchError, "input has 3 channels"),
    (lambda: F.conv_transpose2d(ac.zeros((1, 2, 1, 1)), ac.zeros((2, 1, 1, 1)), padding=1),
     errors.ConvShapeError, "leaves an output of size -1"),
    (lambda: F.fold(ac.zeros((1, 8, 10)), (4, 4), 2), errors.ConvShapeError, "9 blocks"),
    (lambda: F.fold(ac.zeros((1, 7, 9)), (4, 4), 2), errors.ConvShapeError, "divisible"),
    (lambda: F.unfold(ac.zeros((1, 1, 2, 2)), 3), errors.KernelTooLargeError, "larger"),
])
def test_bad_input_raises_a_named_error(call, err, pattern):
    with pytest.raises(err, match=pattern):
        call()


def test_output_element_cap_refuses_before_allocating():
    prev = conv_dispatch.set_max_output_elements(10_000)
    try:
        x = ac.zeros((1, 1, 200, 200))
        with pytest.raises(errors.OutputTooLargeError, match=r"40000 elements, over the cap"):
            F.conv2d(x, ac.zeros((1, 1, 1, 1)))
        # the primitive itself refuses too (before its kernel allocates anything)
        from autograd_cnn.ops.conv import conv_p

        with pytest.raises(errors.OutputTooLargeError):
            conv_p(x, ac.zeros((1, 1, 1, 1)), stride=(1, 1), padding=((0, 0), (0, 0)),
                   dilation=(1, 1), groups=1)
        # a huge output is refused without trying to allocate terabytes
        conv_dispatch.set_max_output_elements(2**31)
        big = np.broadcast_to(np.zeros((), np.float32), (1024, 3, 4096, 4096))
        with pytest.raises(errors.OutputTooLargeError):
            F.conv2d(ac.Tensor(big), ac.zeros((4096, 3, 1, 1), dtype="float32"))
        with pytest.raises(errors.InvalidArgumentError):
            conv_dispatch.set_max_output_elements(0)
    finally:
        conv_dispatch.set_max_output_elements(prev)


@pytest.mark.parametrize("algorithm", ["auto", "gemm", "im2col", "direct"])
def test_empty_batch_gives_empty_output_and_gradients(algorithm):
    x = ac.tensor(np.zeros((0, 2, 4, 4)), requires_grad=True)
    w = ac.tensor(np.ones((3, 2, 1, 1)), requires_grad=True)
    y = F.conv2d(x, w, algorithm=algorithm)
    assert y.shape == (0, 3, 4, 4)
    y.sum().backward()
    assert x.grad.shape == (0, 2, 4, 4)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((3, 2, 1, 1)))
