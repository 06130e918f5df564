"""PyTorch's nn/optim names that programs ask for, checked against torch in float64
(skipped without torch): new layers, activations, optimizers, OneCycleLR,
clip_grad_norm_, duplicate parameters, checkpoints with map_location."""

import numpy as np
import pytest

import autograd_cnn as ac
import autograd_cnn.nn.functional as F
from autograd_cnn.errors import DeviceUnavailableError, InvalidArgumentError

torch = pytest.importorskip("torch")


def _pair(shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return ac.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _copy_params(ours, theirs):
    for (n, p), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n == tn and p.shape == tuple(tp.shape)
        with ac.no_grad():
            p.copy_(tp.detach().numpy())


def _check_module(ours, theirs, shape, train=True):
    ours.double()
    theirs.double()
    _copy_params(ours, theirs)
    ours.train(train)
    theirs.train(train)
    x, tx = _pair(shape)
    y, ty = ours(x), theirs(tx)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = np.random.default_rng(1).standard_normal(y.shape)
    (y * ac.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name, args, shape", [
    ("GELU", (), (2, 3, 4)), ("SiLU", (), (2, 5)), ("ELU", (0.7,), (3, 4)),
    ("PReLU", (3,), (2, 3, 4, 4)), ("Hardtanh", (-0.5, 0.5), (6,)), ("ReLU6", (), (6,)),
    ("GroupNorm", (2, 4), (2, 4, 3, 3)), ("InstanceNorm2d", (3,), (2, 3, 4, 5)),
    ("InstanceNorm2d", (3, 1e-5, 0.1, True), (2, 3, 4, 5)),
    ("PixelShuffle", (2,), (1, 8, 3, 3)), ("ZeroPad2d", ((1, 2, 0, 1),), (1, 2, 3, 3)),
    ("ReflectionPad2d", (1,), (1, 2, 3, 3)), ("ReplicationPad2d", (2,), (1, 1, 3, 4)),
    ("ConstantPad2d", (1, 0.5), (1, 1, 2, 2)),
])
def test_layers_match_torch_forward_and_backward(name, args, shape):
    _check_module(getattr(ac.nn, name)(*args), getattr(torch.nn, name)(*args), shape)


def test_gelu_tanh_and_functional_faces():
    x, tx = _pair((7,))
    for ours, theirs in ((F.gelu(x, approximate="tanh"),
                          torch.nn.functional.gelu(tx, approximate="tanh")),
                         (F.elu(x), torch.nn.functional.elu(tx)),
                         (F.normalize(ac.tensor(np.ones((2, 3))), dim=1),
                          torch.nn.functional.normalize(torch.ones(2, 3, dtype=torch.float64))),
                         (F.relu6(x * 4), torch.nn.functional.relu6(tx * 4))):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)


def test_embedding_and_padding_idx_get_no_gradient():
    ours, theirs = ac.nn.Embedding(6, 3, padding_idx=0), torch.nn.Embedding(6, 3, padding_idx=0)
    assert not ours.weight.numpy()[0].any()
    ours.double()
    theirs.double()
    _copy_params(ours, theirs)
    idx = np.array([[0, 2, 2], [5, 0, 1]])
    y, ty = ours(ac.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy())
    w = np.random.default_rng(0).standard_normal(y.shape)
    (y * ac.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy())


def test_dropout2d_zeroes_whole_channels_and_parameter_containers():
    d = ac.nn.Dropout2d(0.5, generator=np.random.default_rng(0))
    y = d(ac.ones(4, 8, 3, 3)).numpy()
    per_channel = y.reshape(4, 8, -1)
    assert set(np.unique(per_channel.std(-1))) == {0.0} and set(np.unique(y)) <= {0.0, 2.0}
    assert d.eval()(ac.ones(1, 2, 2, 2)).numpy().tolist() == np.ones((1, 2, 2, 2)).tolist()
    pl = ac.nn.ParameterList([ac.zeros(2), ac.ones(3)])
    pd = ac.nn.ParameterDict({"a": ac.zeros(1)})

    class M(ac.nn.Module):
        def __init__(self):
            super().__init__()
            self.pl, self.pd = pl, pd

    assert sorted(M().state_dict()) == ["pd.a", "pl.0", "pl.1"] and len(pl) == 2


def test_conv_transpose_output_size_matches_torch():
    ours = ac.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    ours.double()
    theirs.double()
    _copy_params(ours, theirs)
    x, tx = _pair((1, 2, 4, 5))
    for size in ([7, 9], [8, 10], (1, 3, 8, 9)):
        np.testing.assert_allclose(ours(x, output_size=size).numpy(),
                                   theirs(tx, output_size=size).detach().numpy(), rtol=1e-10)
    with pytest.raises(InvalidArgumentError, match="output_size"):
        ours(x, output_size=[20, 20])


def test_integer_max_pool_keeps_the_dtype():
    a = np.random.default_rng(0).integers(-50, 50, (1, 2, 4, 4))
    y = F.max_pool2d(ac.tensor(a), 2)
    ty = torch.nn.functional.max_pool2d(torch.tensor(a), 2)
    assert y.dtype == np.int64 and y.numpy().tolist() == ty.numpy().tolist()
    v, i = F.max_pool2d(ac.tensor(a), 2, return_indices=True)
    assert i.numpy().tolist() == torch.nn.functional.max_pool2d(
        torch.tensor(a), 2, return_indices=True)[1].numpy().tolist()


def _run_opt(ours_cls, torch_cls, kwargs, steps=6):
    a = np.random.default_rng(3).standard_normal((3, 2))
    p, tp = ac.nn.Parameter(ac.tensor(a)), torch.nn.Parameter(torch.tensor(a))
    o, to = ours_cls([p], **kwargs), torch_cls([tp], **kwargs)
    for _ in range(steps):
        for q, opt, _mod in ((p, o, ac), (tp, to, torch)):
            opt.zero_grad()
            ((q * q * q).sum() + (q * 2).sum()).backward()
            opt.step()
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, kwargs", [
    ("Adagrad", dict(lr=0.1)), ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1,
                                                initial_accumulator_value=0.5)),
    ("Adadelta", dict()), ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.01)),
])
def test_new_optimizers_match_torch(name, kwargs):
    _run_opt(getattr(ac.optim, name), getattr(torch.optim, name), kwargs)


@pytest.mark.parametrize("opt, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1)),
])
@pytest.mark.parametrize("sched", [
    dict(total_steps=12), dict(epochs=3, steps_per_epoch=4, anneal_strategy="linear"),
    dict(total_steps=12, three_phase=True, pct_start=0.25),
])
def test_one_cycle_lr_matches_torch(opt, kwargs, sched):
    from autograd_cnn.optim.lr_scheduler import OneCycleLR

    p, tp = ac.nn.Parameter(ac.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    o, to = getattr(ac.optim, opt)([p], **kwargs), getattr(torch.optim, opt)([tp], **kwargs)
    s = OneCycleLR(o, max_lr=1.0, **sched)
    ts = torch.optim.lr_scheduler.OneCycleLR(to, max_lr=1.0, **sched)
    key = "momentum" if opt == "SGD" else "betas"
    for _ in range(12):
        assert o.param_groups[0]["lr"] == pytest.approx(to.param_groups[0]["lr"], rel=1e-12)
        assert np.allclose(o.param_groups[0][key], to.param_groups[0][key])
        o.step()
        to.step()
        s.step()
        ts.step()
    with pytest.raises(InvalidArgumentError):
        s.step()


def test_clip_grad_norm_and_value_match_torch():
    for norm_type in (2.0, 1.0, float("inf")):
        a, b = np.arange(6.0).reshape(2, 3), np.array([-4.0, 0.5])
        ps = [ac.nn.Parameter(ac.tensor(a)), ac.nn.Parameter(ac.tensor(b))]
        tps = [torch.nn.Parameter(torch.tensor(a)), torch.nn.Parameter(torch.tensor(b))]
        for p, tp in zip(ps, tps):
            p.grad, tp.grad = ac.tensor(p.numpy() * 3), torch.tensor(tp.detach().numpy() * 3)
        n = ac.nn.utils.clip_grad_norm_(ps, 1.5, norm_type)
        tn = torch.nn.utils.clip_grad_norm_(tps, 1.5, norm_type)
        assert n.item() == pytest.approx(tn.item(), rel=1e-12)
        for p, tp in zip(ps, tps):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)
    ac.nn.utils.clip_grad_value_(ps, 0.1)
    assert np.abs(ps[0].grad.numpy()).max() <= 0.1
    vec = ac.nn.utils.parameters_to_vector(ps)
    assert vec.shape == (8,)
    ac.nn.utils.vector_to_parameters(vec * 0, ps)
    assert not ps[0].numpy().any()


def test_duplicate_parameters_are_updated_once_with_a_warning():
    p = ac.nn.Parameter(ac.ones(2))
    with pytest.warns(UserWarning, match="more than once"):
        opt = ac.optim.SGD([p, p], lr=0.1)
    p.grad = ac.ones(2)
    opt.step()
    assert p.tolist() == pytest.approx([0.9, 0.9])  # torch: 0.8 (updated twice)


def test_load_map_location(tmp_path):
    m = ac.nn.Linear(2, 2)
    path = tmp_path / "m.pt"
    ac.save(m.state_dict(), path)
    for loc in (None, "cpu", ac.device("cpu"), lambda s, loc: s, {"cuda:0": "cpu"}):
        sd = ac.load(path, map_location=loc, weights_only=True)
        np.testing.assert_array_equal(sd["weight"].numpy(), m.weight.numpy())
    with pytest.raises(DeviceUnavailableError):
        ac.load(path, map_location="cuda")
