"""The model zoo: forward and backward on small inputs, documented output shapes,
published parameter counts, bad input naming the layer, state-dict round trips."""

import numpy as np
import pytest

import autograd_cnn as ac
from autograd_cnn import models, nn
from autograd_cnn.errors import InvalidArgumentError, LayerInputError

# (name, factory, input shape, output shape): small instances so the suite stays fast
SMALL = [
    ("lenet5_32", lambda: models.LeNet5(), (2, 1, 32, 32), (2, 10)),
    ("lenet5_28", lambda: models.LeNet5(input_size=28, activation="relu", pool="max"),
     (2, 1, 28, 28), (2, 10)),
    ("alexnet", lambda: models.AlexNet(num_classes=10, width_mult=1 / 16), (1, 3, 64, 64),
     (1, 10)),
    ("vgg11", lambda: models.vgg11(num_classes=7, width_mult=1 / 16), (1, 3, 32, 32), (1, 7)),
    ("vggC_bn", lambda: models.VGG("C", num_classes=5, width_mult=1 / 16, batch_norm=True),
     (2, 3, 32, 32), (2, 5)),
    ("vggA_lrn", lambda: models.VGG("A-LRN", num_classes=5, width_mult=1 / 16),
     (1, 3, 32, 32), (1, 5)),
    ("resnet_cifar8", lambda: models.resnet_cifar(8), (2, 3, 16, 16), (2, 10)),
    ("resnet_bottleneck", lambda: models.ResNet(models.Bottleneck, (1, 1), num_classes=5,
                                                widths=(8, 16)), (2, 3, 32, 32), (2, 5)),
    ("googlenet", lambda: models.GoogLeNet(num_classes=10, width_mult=1 / 16),
     (1, 3, 64, 64), (1, 10)),
    ("inception", lambda: models.InceptionModule(8, 4, 3, 4, 2, 4, 4), (2, 8, 6, 6),
     (2, 16, 6, 6)),
    ("inception_naive", lambda: models.InceptionModule(8, 4, 3, 4, 2, 4, 4, naive=True),
     (2, 8, 6, 6), (2, 20, 6, 6)),
    ("xception", lambda: models.MiniXception(num_classes=4, widths=(8, 16), stem_channels=4),
     (2, 3, 16, 16), (2, 4)),
    ("fcn", lambda: models.FCN(num_classes=3, width_mult=1 / 32, fc6_kernel=1),
     (1, 3, 64, 64), (1, 3, 64, 64)),
    ("unet_same", lambda: models.UNet(1, 2, depth=2, base_channels=4), (1, 1, 16, 16),
     (1, 2, 16, 16)),
    ("unet_valid", lambda: models.UNet(1, 2, depth=2, base_channels=4, padding=0),
     (1, 1, 44, 44), (1, 2, 4, 4)),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, factory, in_shape, out_shape", SMALL, ids=[s[0] for s in SMALL])
def test_forward_backward_small(name, factory, in_shape, out_shape):
    ac.manual_seed(0)
    m = factory()
    x = ac.randn(*in_shape, seed=1)
    y = m(x)
    assert y.shape == out_shape
    assert np.isfinite(y.numpy()).all()
    y.sum().backward()
    missing = [n for n, p in m.named_parameters() if p.grad is None]
    assert missing == []
    assert all(np.isfinite(p.grad.numpy()).all() for p in m.parameters())
    # shape inference agrees with the real forward pass
    assert ac.summary(m, in_shape).output_shape == out_shape


@pytest.mark.parametrize("factory, expected", [
    (models.LeNet5, 61_706),
    (models.AlexNet, 61_100_840),
    (models.vgg11, 132_863_336), (models.vgg13, 133_047_848), (models.vgg16, 138_357_544),
    (models.vgg19, 143_667_240),
    (models.resnet18, 11_689_512), (models.resnet34, 21_797_672), (models.resnet50, 25_557_032),
    (lambda: models.resnet_cifar(20), 272_474),
])
def test_published_parameter_counts(factory, expected):
    with nn.meta_init():
        m = factory()
    assert ac.count_parameters(m) == expected


def test_googlenet_full_size_shapes_by_shape_inference():
    with nn.meta_init():
        m = models.GoogLeNet()
    s = ac.summary(m, (1, 3, 224, 224))
    expected = {"conv1": 112, "maxpool1": 56, "conv3": 56, "maxpool2": 28, "inception3b": 28,
                "maxpool3": 14, "inception4e": 14, "maxpool4": 7, "inception5b": 7}
    for name, hw in expected.items():
        assert s[name].output_shape[-2:] == (hw, hw), name
    assert s.output_shape == (1, 1000)


def test_models_work_at_other_input_sizes():
    with nn.meta_init():
        vgg, r18, alex = models.vgg16(), models.resnet18(), models.AlexNet()
    assert ac.summary(vgg, (2, 3, 64, 96)).output_shape == (2, 1000)
    assert ac.summary(r18, (1, 3, 160, 128)).output_shape == (1, 1000)
    assert ac.summary(alex, (1, 3, 227, 227)).output_shape == (1, 1000)
    assert ac.summary(models.LeNet5(input_size=40), (1, 1, 40, 40)).output_shape == (1, 10)


def test_wrong_input_channels_names_the_layer_and_both_shapes():
    m = models.vgg11(num_classes=4, width_mult=1 / 16)
    with pytest.raises(LayerInputError) as e:
        m(ac.zeros(1, 1, 32, 32))
    msg = str(e.value)
    assert "'features.0' (Conv2d)" in msg and "3 channels" in msg
    assert "(1, 1, 32, 32)" in msg and "(4, 3, 3, 3)" in msg
    r = models.resnet_cifar(8)
    with pytest.raises(LayerInputError, match=r"'conv1' \(Conv2d\).*\(2, 4, 8, 8\)"):
        r(ac.zeros(2, 4, 8, 8))
    lenet = models.LeNet5()
    # a wrong spatial size surfaces at the first Linear layer, named
    with pytest.raises(LayerInputError, match=r"'classifier\.0' \(Linear\).*400 features"):
        lenet(ac.zeros(1, 1, 36, 36))


def test_bad_model_arguments():
    with pytest.raises(InvalidArgumentError, match="config"):
        models.VGG("F")
    with pytest.raises(InvalidArgumentError, match="6n"):
        models.resnet_cifar(21)
    with pytest.raises(InvalidArgumentError, match="activation"):
        models.LeNet5(activation="gelu")


def test_state_dict_round_trip_with_buffers(tmp_path):
    a = models.resnet_cifar(8)
    a.train()
    a(ac.randn(4, 3, 8, 8, seed=0))  # moves the BN running statistics
    path = tmp_path / "r.npz"
    ac.save(a.state_dict(), path)
    b = models.resnet_cifar(8)
    b.load_state_dict(ac.load(path))
    a.eval()
    b.eval()
    x = ac.randn(2, 3, 8, 8, seed=1)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert int(b.bn1.num_batches_tracked.item()) == 1


def test_meta_model_loads_real_weights():
    src = models.LeNet5()
    with nn.meta_init():
        dst = models.LeNet5()
    dst.load_state_dict(src.state_dict())
    x = ac.randn(1, 1, 32, 32, seed=0)
    np.testing.assert_array_equal(src(x).numpy(), dst(x).numpy())


def test_scopes_of_a_model_graph():
    m = models.InceptionModule(4, 2, 2, 2, 2, 2, 2)
    y = m(ac.randn(1, 4, 5, 5, seed=0, requires_grad=True))
    from autograd_cnn.tape import _toposort

    scopes = {n.scope for n in _toposort([y.grad_fn])}
    assert ("branch2", "1", "0") in scopes and ("branch4", "0") in scopes
    names = {p.name for p in m.parameters()}
    assert "branch3.1.0.weight" in names


@pytest.mark.torch
def test_resnet_block_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours = models.BasicBlock(4, 8, stride=2).double()
    ours.eval()

    class TBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(4, 8, 3, 2, 1, bias=False)
            self.bn1 = torch.nn.BatchNorm2d(8)
            self.conv2 = torch.nn.Conv2d(8, 8, 3, 1, 1, bias=False)
            self.bn2 = torch.nn.BatchNorm2d(8)
            self.downsample = torch.nn.Sequential(torch.nn.Conv2d(4, 8, 1, 2, bias=False),
                                                  torch.nn.BatchNorm2d(8))

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return torch.relu(out + self.downsample(x))

    theirs = TBlock().double().eval()
    theirs.load_state_dict({k: torch.tensor(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(2, 4, 6, 6))
    np.testing.assert_allclose(ours(ac.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-9, atol=1e-12)
