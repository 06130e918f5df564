"""Conv epilogues (compile/epilogue.py): ``relu(conv(x, w) + b)`` run as one generated
kernel where the pattern is exact, equal to eager in training and inference, float32 and
float64; left alone where the conv's output is read elsewhere or another activation
follows."""

import numpy as np
import pytest

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import nn
from autograd_cnn.kernels import conv_gen


@pytest.fixture(autouse=True)
def _small_convs_too(monkeypatch):
    monkeypatch.setattr(conv_gen, "MIN_FMAS", 0)  # generate even for these small convs


def _steps(f):
    return [str(p).splitlines()[1:] for p in f.programs if p is not None]


def _check(model, x, t, dtype, **kw):
    f = ac.compile(lambda x, t: F.cross_entropy(model(x), t), **kw)
    out = f(x, t)
    out.backward()
    got = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    ref = F.cross_entropy(model(x), t)
    ref.backward()
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.item(), ref.item(), **tol)
    for p, g in zip(model.parameters(), got):
        np.testing.assert_allclose(g, p.grad.numpy(), **tol)
    model.zero_grad()
    return f


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_bias_relu_layers_become_one_kernel_and_equal_eager(dtype):
    ac.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 5, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(5, 7, 3), nn.ReLU(), nn.Flatten(), nn.Linear(28, 3))
    if dtype == np.float64:
        model = model.double()
    rng = np.random.default_rng(0)
    x = ac.tensor(rng.standard_normal((3, 2, 8, 8)).astype(dtype))
    t = ac.tensor(np.array([0, 2, 1]))
    f = _check(model, x, t, dtype)
    forward = "\n".join(_steps(f)[0])
    assert forward.count("conv + bias + relu") == 2
    assert "fused[add, relu, gt]" not in forward  # the groups are gone
    algorithms = [a for _, a in f.programs[0].algorithms]
    assert algorithms == ["generated", "generated"]


def test_inference_mode_needs_no_mask():
    ac.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
    x = ac.tensor(np.random.default_rng(1).standard_normal((2, 1, 7, 7)).astype(np.float32))
    f = ac.compile(model, mode="inference")
    np.testing.assert_allclose(f(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
    (steps,) = [s for s in _steps(f) if s]
    assert any("conv + bias + relu" in s for s in steps)


def test_other_patterns_keep_the_separate_kernels():
    ac.manual_seed(2)
    conv = nn.Conv2d(2, 4, 3)
    x = ac.tensor(np.random.default_rng(2).standard_normal((2, 2, 6, 6)).astype(np.float32))
    t = ac.tensor(np.array([1, 3]))

    def read_twice(x, t):  # the conv's output is read by the epilogue and by the loss
        y = conv(x)
        return F.cross_entropy(F.relu(y).sum((2, 3)) + y.mean((2, 3)), t)

    def tanh_layer(x, t):
        return F.cross_entropy(ac.tanh(conv(x)).sum((2, 3)), t)

    for fn in (read_twice, tanh_layer):
        f = ac.compile(fn)
        out = f(x, t)
        assert not any("conv + bias + relu" in s for s in _steps(f)[0])
        np.testing.assert_allclose(out.item(), fn(x, t).item(), rtol=1e-5)
