"""nn.Module, Parameter, containers, state dicts, init, dense layers, checkpoints."""

import math
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import nn
from autograd_cnn.errors import (
    ArgumentTypeError,
    CheckpointError,
    DataFileNotFoundError,
    IndexOutOfRangeError,
    InplaceError,
    InvalidArgumentError,
    LayerInputError,
    ModuleError,
    StateDictError,
)
from autograd_cnn.nn import init
from autograd_cnn.testing import gradcheck, gradgradcheck


def param_gradcheck(module, *inputs, n=6, eps=1e-6, tol=1e-5, seed=0):
    """Compare d(sum(out * v))/dparam with central differences at a few entries (float64)."""
    module.double()
    rng = np.random.default_rng(seed)
    with ac.no_grad():
        v = rng.standard_normal(module(*inputs).shape)

    def f():
        with ac.no_grad():
            return float((module(*inputs).numpy() * v).sum())

    module.zero_grad()
    (module(*inputs) * ac.tensor(v)).sum().backward()
    checked = 0
    for name, p in module.named_parameters():
        assert p.grad is not None, f"no gradient for {name}"
        flat = p.data.reshape(-1)
        for i in rng.choice(flat.size, size=min(n, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + eps
            up = f()
            flat[i] = old - eps
            down = f()
            flat[i] = old
            num = (up - down) / (2 * eps)
            ana = p.grad.data.reshape(-1)[i]
            assert abs(ana - num) <= tol + 1e-4 * abs(num), (name, i, ana, num)
            checked += 1
    return checked


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.Tanh()
        self.head = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))

    def forward(self, x):
        return self.head(self.act(self.fc1(x)))


# ---- Module basics -------------------------------------------------------------------


def test_parameters_registered_by_attribute_in_order():
    m = Tiny()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "head.0.weight", "head.0.bias",
                     "head.2.weight", "head.2.bias"]
    # every parameter is named by its dotted path (the renderer labels leaves with it)
    assert [p.name for _, p in m.named_parameters()] == names
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "act", "head", "head.0",
                                                  "head.1", "head.2"]
    assert [type(c).__name__ for c in m.children()] == ["Linear", "Tanh", "Sequential"]


def test_parameter_flows_through_ops_and_gets_grad():
    p = nn.Parameter(ac.tensor([1.0, 2.0]))
    y = (p * p).sum()
    y.backward()
    np.testing.assert_allclose(p.grad.numpy(), [2.0, 4.0])
    assert type(p) is nn.Parameter and p.is_leaf


def test_scope_records_module_path_and_root_pushes_nothing():
    m = Tiny()
    x = ac.randn(2, 4, seed=0)
    out = m(x)
    from autograd_cnn.tape import _toposort

    scopes = {node.scope for node in _toposort([out.grad_fn])}
    assert ("fc1",) in scopes and ("act",) in scopes
    assert ("head", "0") in scopes and ("head", "2") in scopes
    assert all(s[:1] != ("",) for s in scopes)
    # calling a submodule directly: it is the root of that call
    y = m.head(ac.randn(2, 3, seed=1))
    assert y.grad_fn.scope == ("2",)


def test_train_eval_propagate():
    m = Tiny()
    m.eval()
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(ArgumentTypeError):
        m.train("yes")


def test_zero_grad_and_requires_grad_():
    m = Tiny()
    m(ac.randn(3, 4, seed=0)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_repr_like_pytorch():
    r = repr(Tiny())
    assert r.startswith("Tiny(\n  (fc1): Linear(in_features=4, out_features=3, bias=True)")
    assert "(head): Sequential(\n    (0): Linear" in r
    assert repr(nn.ReLU()) == "ReLU()"


def test_setattr_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(ModuleError, match="super"):
        Bad()


def test_forward_hooks_and_removal():
    m = Tiny()
    seen = []
    h = m.fc1.register_forward_hook(lambda mod, inp, out: seen.append(out.shape))
    m(ac.randn(5, 4, seed=0))
    assert seen == [(5, 3)]
    h.remove()
    m(ac.randn(5, 4, seed=0))
    assert seen == [(5, 3)]


# ---- containers ----------------------------------------------------------------------


def test_sequential_indexing_slicing_len_append():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[-1], nn.Linear)
    assert len(s[:2]) == 2
    # slicing shares the layers and leaves their parameter names alone
    assert s[:2][0] is s[0] and s[0].weight.name == "0.weight"
    assert s[1:][1].weight.name == "2.weight"
    s.append(nn.Sigmoid())
    assert len(s) == 4 and list(s._modules) == ["0", "1", "2", "3"]
    out = s(ac.randn(4, 2, seed=0))
    assert out.shape == (4, 1) and (out.numpy() > 0).all()
    from collections import OrderedDict

    named = nn.Sequential(OrderedDict(conv=nn.Linear(2, 2), act=nn.ReLU()))
    assert [n for n, _ in named.named_parameters()] == ["conv.weight", "conv.bias"]


def test_modulelist_and_moduledict_register():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(list(ml.parameters())) == 6 and isinstance(ml[1], nn.Linear)
    md = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    assert "a" in md and len(md) == 2
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.raises(KeyError):
        md["zz"]


def test_del_renumbers_so_append_overwrites_nothing():
    # as torch: after del the keys are 0..n-1 again; append used to overwrite a layer
    s = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Tanh())
    del s[0]
    assert list(s._modules) == ["0", "1"] and s[0]._scope_name == "0"
    s.append(nn.Sigmoid())
    assert [type(m).__name__ for m in s] == ["ReLU", "Tanh", "Sigmoid"]
    s2 = nn.Sequential(nn.ReLU(), nn.Linear(2, 2), nn.Tanh(), nn.Sigmoid())
    del s2[:1]
    assert list(s2._modules) == ["0", "1", "2"] and s2[0].weight.name == "0.weight"
    ml = nn.ModuleList([nn.ReLU(), nn.Linear(2, 2), nn.Tanh()])
    del ml[0]
    assert list(ml._modules) == ["0", "1"] and isinstance(ml[0], nn.Linear)
    ml.append(nn.Sigmoid())
    assert [type(m).__name__ for m in ml] == ["Linear", "Tanh", "Sigmoid"]
    del ml[-2:]
    assert len(ml) == 1 and list(ml._modules) == ["0"]
    # a nested container keeps the outer prefix of its parameter names
    net = Tiny()
    del net.head[1]
    assert [n for n, _ in net.named_parameters()] == [p.name for p in net.parameters()]
    assert net.head[1].weight.name == "head.1.weight"
    with pytest.raises(IndexError):
        del ml[3]


def test_container_index_errors_and_numpy_indices():
    s = nn.Sequential(nn.ReLU(), nn.Tanh())
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    for c in (s, ml):
        for bad in (5, -3):
            with pytest.raises(IndexOutOfRangeError) as e:
                c[bad]
            assert isinstance(e.value, IndexError) and isinstance(e.value, InvalidArgumentError)
        assert isinstance(c[np.int64(1)], nn.Tanh) and isinstance(c[np.int32(-2)], nn.ReLU)
        with pytest.raises(IndexError):
            c[2] = nn.ReLU()
        with pytest.raises(ArgumentTypeError):
            c["0"]
        c[np.int64(0)] = nn.Sigmoid()
        assert isinstance(c[0], nn.Sigmoid)


def test_slices_do_not_rename_shared_children():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
            self.seq = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))

        def forward(self, x):
            for b in self.blocks[1:]:
                x = b(x)
            return self.seq[1:](x)

    net = Net()
    names = [p.name for p in net.parameters()]
    scopes = [m._scope_name for m in net.blocks] + [m._scope_name for m in net.seq]
    tail = net.blocks[1:]
    assert len(tail) == 2 and tail[0] is net.blocks[1] and list(tail._modules) == ["0", "1"]
    seq_tail = net.seq[1:]
    assert seq_tail[0] is net.seq[1] and list(seq_tail._modules) == ["1"]  # torch keeps keys
    net(ac.ones(1, 2))
    assert [p.name for p in net.parameters()] == names == [n for n, _ in net.named_parameters()]
    assert [m._scope_name for m in net.blocks] + [m._scope_name for m in net.seq] == scopes


def test_state_dict_lists_a_shared_module_under_every_path():
    lin = nn.Linear(2, 2)
    s = nn.Sequential(lin, nn.ReLU(), lin)
    sd = s.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]   # as torch
    assert sd["2.weight"].data is lin.weight.data
    # a torch state dict of that layout loads strictly
    w = np.arange(4, dtype=np.float32).reshape(2, 2)
    b = np.array([1.0, -1.0], np.float32)
    assert s.load_state_dict({"0.weight": w, "0.bias": b, "2.weight": w, "2.bias": b}) == ([], [])
    np.testing.assert_array_equal(lin.weight.numpy(), w)
    with pytest.raises(StateDictError, match="2.bias"):
        s.load_state_dict({"0.weight": w, "0.bias": b, "2.weight": w})
    assert list(s.state_dict(prefix="m.")) == ["m.0.weight", "m.0.bias", "m.2.weight",
                                               "m.2.bias"]


def test_shared_parameter_counted_once():
    lin = nn.Linear(3, 3)
    s = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(s.parameters())) == 2


# ---- Linear -------------------------------------------------------------------------


@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 5), st.booleans())
def test_linear_equals_matmul(n, fin, fout, bias):
    lin = nn.Linear(fin, fout, bias=bias)
    x = ac.randn(n, fin, seed=n)
    ref = x.numpy() @ lin.weight.numpy().T + (lin.bias.numpy() if bias else 0)
    np.testing.assert_allclose(lin(x).numpy(), ref, rtol=1e-5, atol=1e-6)
    assert [n for n, _ in lin.named_parameters()] == (["weight", "bias"] if bias else ["weight"])


def test_linear_default_init_bounds_and_generator():
    lin = nn.Linear(100, 50, generator=np.random.default_rng(0))
    bound = 1 / math.sqrt(100)
    assert np.abs(lin.weight.numpy()).max() <= bound
    assert np.abs(lin.bias.numpy()).max() <= bound
    again = nn.Linear(100, 50, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(lin.weight.numpy(), again.weight.numpy())


def test_linear_gradcheck_input_and_params():
    lin = nn.Linear(3, 2).double()
    x = ac.randn(4, 3, dtype="float64", seed=0, requires_grad=True)
    assert gradcheck(lambda t: lin(t), [x])
    assert gradgradcheck(lambda t: lin(t).tanh(), [x])
    assert param_gradcheck(lin, x) >= 8


def test_linear_wrong_features_names_layer_and_shapes():
    m = Tiny()
    with pytest.raises(LayerInputError, match=r"'fc1' \(Linear\).*4 features.*\(2, 5\)"):
        m(ac.randn(2, 5))
    # the layer's path is given when nested deeper too
    m2 = nn.Sequential(nn.Linear(4, 3), nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(LayerInputError, match=r"'1\.0' \(Linear\)"):
        m2(ac.randn(1, 4))


def test_activation_layers_equal_functional():
    x = ac.randn(3, 5, seed=2)
    for layer, fn in [(nn.ReLU(), F.relu), (nn.Tanh(), F.tanh), (nn.Sigmoid(), F.sigmoid),
                      (nn.LeakyReLU(0.2), lambda t: F.leaky_relu(t, 0.2)),
                      (nn.Softmax(dim=1), lambda t: F.softmax(t, 1)),
                      (nn.LogSoftmax(dim=-1), lambda t: F.log_softmax(t, -1)),
                      (nn.Identity(), lambda t: t),
                      (nn.Flatten(0), lambda t: t.reshape(-1))]:
        np.testing.assert_allclose(layer(x).numpy(), fn(x).numpy(), rtol=1e-6)
    assert nn.Flatten()(ac.zeros(2, 3, 4, 5)).shape == (2, 60)
    assert nn.Unflatten(1, (3, 4))(ac.zeros(2, 12)).shape == (2, 3, 4)


# ---- state dicts -------------------------------------------------------------------------


def test_state_dict_round_trip_into_fresh_module():
    a, b = Tiny(), Tiny()
    x = ac.randn(3, 4, seed=0)
    assert not np.allclose(a(x).numpy(), b(x).numpy())
    missing, unexpected = b.load_state_dict(a.state_dict())
    assert missing == [] and unexpected == []
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    # values are copied, not aliased
    assert b.fc1.weight.data is not a.fc1.weight.data


def test_load_state_dict_reports_missing_unexpected_and_shapes():
    m = Tiny()
    sd = m.state_dict()
    del sd["fc1.bias"]
    sd["extra.weight"] = ac.zeros(2)
    sd["head.0.weight"] = ac.zeros(7, 7)
    with pytest.raises(StateDictError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    assert "missing key(s)" in msg and "'fc1.bias'" in msg
    assert "unexpected key(s)" in msg and "'extra.weight'" in msg
    assert "size mismatch for 'head.0.weight'" in msg and "(7, 7)" in msg and "(3, 3)" in msg
    # strict=False tolerates the keys but never a shape mismatch
    with pytest.raises(StateDictError, match="size mismatch"):
        m.load_state_dict(sd, strict=False)
    del sd["head.0.weight"]
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert "fc1.bias" in missing and unexpected == ["extra.weight"]


def test_state_dict_includes_buffers_but_not_non_persistent():
    m = nn.Module()
    m.register_buffer("running", ac.zeros(3))
    m.register_buffer("scratch", ac.zeros(3), persistent=False)
    m.w = nn.Parameter(ac.ones(2))
    assert list(m.state_dict()) == ["w", "running"]


# ---- checkpoints ----------------------------------------------------------------------------


def test_save_load_state_dict_round_trip(tmp_path):
    m = Tiny()
    path = tmp_path / "ckpt.npz"
    ac.save(m.state_dict(), path)
    loaded = ac.load(path)
    assert list(loaded) == list(m.state_dict())
    m2 = Tiny()
    m2.load_state_dict(loaded)
    x = ac.randn(2, 4, seed=0)
    np.testing.assert_array_equal(m(x).numpy(), m2(x).numpy())


def test_save_load_nested_optimizer_state(tmp_path):
    m = Tiny()
    opt = ac.optim.Adam(m.parameters(), lr=0.01)
    m(ac.randn(2, 4, seed=0)).sum().backward()
    opt.step()
    path = tmp_path / "opt.npz"
    ac.save({"model": m.state_dict(), "optim": opt.state_dict(), "epoch": 3}, path)
    ck = ac.load(path)
    assert ck["epoch"] == 3
    assert ck["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    opt2 = ac.optim.Adam(Tiny().parameters(), lr=0.5)
    opt2.load_state_dict(ck["optim"])
    assert opt2.param_groups[0]["lr"] == 0.01
    assert opt2.state_dict()["state"][0]["step"] == 1


def test_load_rejects_corrupt_and_hostile_files(tmp_path):
    with pytest.raises(DataFileNotFoundError):
        ac.load(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"this is not a zip file at all")
    with pytest.raises(CheckpointError, match="not an .npz"):
        ac.load(junk)
    # a pickled object array: np.load(allow_pickle=False) refuses, we say so clearly
    hostile = tmp_path / "hostile.npz"
    manifest = b'{"format": "autograd_cnn.checkpoint", "version": 1, "root": ' \
        b'{"t": "ndarray", "key": "a0"}}'
    np.savez(hostile, __manifest__=np.frombuffer(manifest, np.uint8),
             a0=np.array([{"x": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="allow_pickle"):
        ac.load(hostile)
    # a manifest pointing at a member that is not there
    dangling = tmp_path / "dangling.npz"
    np.savez(dangling, __manifest__=np.frombuffer(manifest, np.uint8))
    with pytest.raises(CheckpointError, match="missing array member"):
        ac.load(dangling)
    # a plain npz that is not ours
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.zeros(3))
    with pytest.raises(CheckpointError, match="manifest"):
        ac.load(plain)
    # truncated
    good = tmp_path / "good.npz"
    ac.save({"w": ac.ones(1000)}, good)
    data = good.read_bytes()
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        ac.load(trunc)
    # flipped bytes inside the array member
    flipped = bytearray(data)
    flipped[200] ^= 0xFF
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError):
        ac.load(bad)


def test_save_refuses_unsupported_objects(tmp_path):
    with pytest.raises(ArgumentTypeError, match="cannot save a"):
        ac.save({"f": lambda: 0}, os.path.join(tmp_path, "x.npz"))


# ---- init ------------------------------------------------------------------------------------


def test_fans_follow_the_seeds():
    w = ac.zeros(16, 3, 5, 5)
    assert init._calculate_fan_in_and_fan_out(w) == (3 * 25, 16 * 25)
    assert init._calculate_fan_in_and_fan_out(ac.zeros(10, 20)) == (20, 10)


@pytest.mark.parametrize("fn, expected_std", [
    (lambda w: init.kaiming_normal_(w, nonlinearity="relu", seed=0), math.sqrt(2 / 75)),
    (lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", seed=0),
     math.sqrt(2 / (64 * 25))),
    (lambda w: init.xavier_normal_(w, seed=0), math.sqrt(2 / (75 + 64 * 25))),
    (lambda w: init.xavier_uniform_(w, seed=0), math.sqrt(6 / (75 + 64 * 25)) / math.sqrt(3)),
    (lambda w: init.kaiming_uniform_(w, nonlinearity="relu", seed=0), math.sqrt(2 / 75)),
])
def test_initializer_statistics(fn, expected_std):
    w = ac.zeros(64, 3, 5, 5)
    fn(w)
    assert abs(w.numpy().std() - expected_std) / expected_std < 0.05
    assert abs(w.numpy().mean()) < 0.1 * expected_std


def test_uniform_bounds_and_reproducibility():
    w = ac.zeros(1000)
    init.uniform_(w, -0.5, 0.25, seed=3)
    assert w.numpy().min() >= -0.5 and w.numpy().max() <= 0.25
    v = ac.zeros(1000)
    init.uniform_(v, -0.5, 0.25, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(w.numpy(), v.numpy())
    init.constant_(w, 0.3)
    assert (w.numpy() == np.float32(0.3)).all()


def test_gains():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("conv2d") == 1
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swishy")


def test_init_on_parameter_does_not_record_and_bumps_version():
    p = nn.Parameter(ac.zeros(3, 4))
    v = p.version
    init.normal_(p, seed=0)
    assert p.grad_fn is None and p.version > v
    # while an ordinary in-place change of a parameter under recording is refused
    with pytest.raises(InplaceError):
        p.add_(1.0)


def test_meta_init_builds_without_values_and_refuses_to_run():
    with nn.meta_init():
        lin = nn.Linear(1000, 1000)
    assert lin.weight.shape == (1000, 1000)
    assert lin.weight.data.strides == (0, 0)
    with pytest.raises(ModuleError, match="meta_init"):
        lin(ac.zeros(1, 1000))
    from autograd_cnn.tape import meta_mode

    with meta_mode():
        assert lin(ac.zeros(1, 1000)).shape == (1, 1000)
