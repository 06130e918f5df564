"""Conv, pooling, normalization, dropout and resampling layers: forward equals the
functional op, parameters registered, gradients checked on small instances, PyTorch
parity (skipped without torch)."""

import math

import numpy as np
import pytest
from test_nn import param_gradcheck

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import nn
from autograd_cnn.errors import InvalidArgumentError, LayerInputError
from autograd_cnn.testing import gradcheck


def _conv_fn(name):
    fn = getattr(F, name, None)
    if fn is None:
        from autograd_cnn.ops import conv

        fn = getattr(conv, name)
    return fn


def _x(*shape, seed=0):
    return ac.randn(*shape, dtype="float64", seed=seed, requires_grad=True)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_layers_equal_functional_and_register_params(nd):
    cls = getattr(nn, f"Conv{nd}d")
    layer = cls(4, 6, 3, stride=2, padding=1, dilation=1, groups=2).double()
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.shape == (6, 2) + (3,) * nd
    x = _x(2, 4, *(5,) * nd)
    ref = _conv_fn(f"conv{nd}d")(x, layer.weight, layer.bias, 2, 1, 1, 2)
    np.testing.assert_allclose(layer(x).numpy(), ref.numpy(), rtol=1e-12)
    # PyTorch's default init: |w| <= 1/sqrt(fan_in), fan_in = C_in/groups * k^nd
    bound = 1 / math.sqrt(2 * 3**nd)
    assert np.abs(layer.weight.numpy()).max() <= bound + 1e-12


@pytest.mark.parametrize("nd", [1, 2])
def test_conv_transpose_layers_equal_functional(nd):
    cls = getattr(nn, f"ConvTranspose{nd}d")
    layer = cls(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2).double()
    assert layer.weight.shape == (4, 3) + (3,) * nd
    x = _x(2, 4, *(4,) * nd)
    y = layer(x)
    ref = _conv_fn(f"conv_transpose{nd}d")(x, layer.weight, layer.bias, 2, 1, 1, 2)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-12)
    assert y.shape == (2, 6) + (8,) * nd  # (4-1)*2 - 2 + 3 + 1


def test_conv2d_gradcheck_input_and_params():
    layer = nn.Conv2d(2, 3, 3, padding=1, stride=2).double()
    x = _x(2, 2, 5, 5)
    assert gradcheck(lambda t: layer(t), [x])
    assert param_gradcheck(layer, x) >= 8
    tl = nn.ConvTranspose2d(2, 3, 2, stride=2).double()
    assert gradcheck(lambda t: tl(t), [_x(1, 2, 3, 3)])
    assert param_gradcheck(tl, _x(1, 2, 3, 3)) >= 8


def test_conv_wrong_channels_names_layer_and_both_shapes():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(5, 2, 3))
    with pytest.raises(LayerInputError) as e:
        net(ac.zeros(1, 3, 8, 8))
    msg = str(e.value)
    assert "'2' (Conv2d)" in msg and "5 channels" in msg
    assert "(1, 4, 6, 6)" in msg and "(2, 5, 3, 3)" in msg
    with pytest.raises(InvalidArgumentError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(InvalidArgumentError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


def test_pool_layers_equal_functional():
    x = _x(2, 3, 8, 8)
    pairs = [
        (nn.MaxPool2d(2), F.max_pool2d(x, 2)),
        (nn.MaxPool2d(3, 2, padding=1), F.max_pool2d(x, 3, 2, 1)),
        (nn.AvgPool2d(2), F.avg_pool2d(x, 2)),
        (nn.AvgPool2d(3, 1, 1, count_include_pad=False),
         F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)),
        (nn.AdaptiveAvgPool2d((3, 2)), F.adaptive_avg_pool2d(x, (3, 2))),
    ]
    for layer, ref in pairs:
        np.testing.assert_allclose(layer(x).numpy(), ref.numpy(), rtol=1e-12)
        assert list(layer.parameters()) == []
    x1 = _x(2, 3, 8)
    np.testing.assert_allclose(nn.MaxPool1d(2)(x1).numpy(), F.max_pool1d(x1, 2).numpy())
    np.testing.assert_allclose(nn.AvgPool1d(4)(x1).numpy(), F.avg_pool1d(x1, 4).numpy())
    assert gradcheck(lambda t: nn.AvgPool2d(2)(t), [x])
    assert gradcheck(lambda t: nn.MaxPool2d(2)(t), [x])
    assert gradcheck(lambda t: nn.AdaptiveAvgPool2d(3)(t), [x])


def test_batchnorm_train_eval_and_running_stats():
    bn = nn.BatchNorm2d(3).double()
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    x = ac.tensor(np.random.default_rng(0).normal(2.0, 3.0, (8, 3, 4, 4)), dtype="float64")
    y = bn(x)
    ym = y.numpy().mean(axis=(0, 2, 3))
    np.testing.assert_allclose(ym, 0, atol=1e-10)
    mean = x.numpy().mean(axis=(0, 2, 3))
    var = x.numpy().var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * mean, rtol=1e-10)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * var, rtol=1e-10)
    assert int(bn.num_batches_tracked.item()) == 1
    bn.eval()
    before = bn.running_mean.numpy().copy()
    out = bn(x).numpy()
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)
    expected = (x.numpy() - before[None, :, None, None]) / np.sqrt(
        bn.running_var.numpy()[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-10)
    with pytest.raises(LayerInputError, match="3 channels"):
        bn(ac.zeros(2, 4, 3, 3))
    bn.train()
    assert gradcheck(lambda t: bn(t), [_x(4, 3, 2, 2)])
    # cumulative average when momentum=None
    cum = nn.BatchNorm1d(2, momentum=None).double()
    a = ac.tensor(np.random.default_rng(1).normal(size=(5, 2)))
    b = ac.tensor(np.random.default_rng(2).normal(size=(5, 2)))
    cum(a)
    cum(b)
    np.testing.assert_allclose(cum.running_mean.numpy(),
                               (a.numpy().mean(0) + b.numpy().mean(0)) / 2, rtol=1e-6)


def test_layernorm_and_lrn():
    ln = nn.LayerNorm((4, 5)).double()
    x = _x(3, 4, 5)
    np.testing.assert_allclose(ln(x).numpy(), F.layer_norm(x, (4, 5), ln.weight,
                                                           ln.bias).numpy())
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]
    assert gradcheck(lambda t: ln(t), [x])
    with pytest.raises(LayerInputError, match=r"\(4, 5\)"):
        ln(ac.zeros(3, 5, 4))
    lrn = nn.LocalResponseNorm(3, alpha=0.5, beta=0.75, k=1.0)
    x = _x(2, 5, 2, 2)
    y = lrn(x).numpy()
    xa = x.numpy()
    sq = np.pad(xa**2, ((0, 0), (1, 1), (0, 0), (0, 0)))
    div = (1 + 0.5 / 3 * (sq[:, :-2] + sq[:, 1:-1] + sq[:, 2:])) ** 0.75
    np.testing.assert_allclose(y, xa / div, rtol=1e-12)
    assert gradcheck(lambda t: lrn(t), [x])


def test_dropout_layer_train_and_eval():
    d = nn.Dropout(0.5)
    x = ac.ones(2000)
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6
    d.eval()
    assert d(x) is x or np.array_equal(d(x).numpy(), x.numpy())
    with pytest.raises(InvalidArgumentError, match="dropout probability"):
        nn.Dropout(1.5)
    a = nn.Dropout(0.3, generator=np.random.default_rng(5))(x).numpy()
    b = nn.Dropout(0.3, generator=np.random.default_rng(5))(x).numpy()
    np.testing.assert_array_equal(a, b)


def test_upsample_layer():
    if not hasattr(F, "interpolate"):
        pytest.skip("functional.interpolate not available yet")
    x = _x(1, 2, 3, 3)
    up = nn.Upsample(scale_factor=2, mode="nearest")
    np.testing.assert_allclose(up(x).numpy(),
                               F.interpolate(x, scale_factor=2, mode="nearest").numpy())
    assert up(x).shape == (1, 2, 6, 6)
    with pytest.raises(InvalidArgumentError, match="exactly one"):
        nn.Upsample()


@pytest.mark.torch
def test_layers_match_pytorch_with_copied_weights():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    cases = [
        (nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),
         torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2), (2, 4, 7, 7)),
        (nn.Conv1d(3, 5, 4, dilation=2), torch.nn.Conv1d(3, 5, 4, dilation=2), (2, 3, 12)),
        (nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1),
         torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), (2, 4, 4, 4)),
        (nn.Linear(5, 3), torch.nn.Linear(5, 3), (4, 5)),
        (nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3), (6, 3, 4, 4)),
        (nn.LayerNorm(5), torch.nn.LayerNorm(5), (2, 3, 5)),
        (nn.LocalResponseNorm(5, 1e-2, 0.75, 2.0), torch.nn.LocalResponseNorm(5, 1e-2, 0.75, 2.0),
         (2, 7, 3, 3)),
    ]
    for ours, theirs, shape in cases:
        ours.double()
        theirs.double()
        sd = {k: torch.tensor(v.numpy().copy()) for k, v in ours.state_dict().items()}
        theirs.load_state_dict(sd)
        x = rng.normal(size=shape)
        xa = ac.tensor(x, dtype="float64", requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        ya, yt = ours(xa), theirs(xt)
        np.testing.assert_allclose(ya.numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=type(ours).__name__)
        g = rng.normal(size=ya.shape)
        (ya * ac.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-11)
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-11,
                                       err_msg=f"{type(ours).__name__}.{name}")
        for (name, b), (_, c) in zip(ours.named_buffers(), theirs.named_buffers()):
            np.testing.assert_allclose(b.numpy(), c.numpy(), rtol=1e-9, err_msg=name)
