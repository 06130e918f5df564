"""Optimizers and schedulers: closed-form updates, PyTorch parity, state dicts."""

import math

import numpy as np
import pytest

import autograd_cnn as ac
from autograd_cnn import nn, optim
from autograd_cnn.errors import InvalidArgumentError, StateDictError


def _param(values, dtype="float64"):
    return nn.Parameter(ac.tensor(np.asarray(values, dtype=dtype)))


def _set_grad(p, g):
    p.grad = ac.tensor(np.asarray(g, dtype=p.dtype))


def test_sgd_closed_form_plain_momentum_nesterov_decay():
    p = _param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1)
    _set_grad(p, [0.5, 1.0])
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.95, -2.1])

    p = _param([1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1)
    for _ in range(2):
        _set_grad(p, [1.0])
        opt.step()
    # step 1: g = 1 + 0.1*1 = 1.1, b = 1.1, w = 1 - 0.11 = 0.89
    # step 2: g = 1 + 0.089 = 1.089, b = 0.9*1.1 + 0.5*1.089 = 1.5345, w = 0.89 - 0.15345
    np.testing.assert_allclose(p.numpy(), [0.89 - 0.15345])

    p = _param([1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(2):
        _set_grad(p, [1.0])
        opt.step()
    # step 1: b = 1, g = 1 + 0.9 = 1.9, w = 0.81; step 2: b = 1.9, g = 1 + 1.71 = 2.71
    np.testing.assert_allclose(p.numpy(), [0.81 - 0.271])


def test_adam_closed_form_first_step_is_lr_times_sign():
    p = _param([1.0, -3.0, 0.5])
    opt = optim.Adam([p], lr=0.01)
    _set_grad(p, [2.0, -0.1, 1e-3])
    opt.step()
    # m_hat = g, v_hat = g^2 -> step = lr * g / (|g| + eps)
    g = np.array([2.0, -0.1, 1e-3])
    np.testing.assert_allclose(p.numpy(), np.array([1.0, -3.0, 0.5]) - 0.01 * g / (
        np.abs(g) + 1e-8), rtol=1e-12)


def test_adam_standard_update_not_the_seeds_typo():
    # two steps by hand: w -= lr * m_hat / (sqrt(v_hat) + eps); eps is NOT in the numerator
    p = _param([0.0])
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-2
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    w, m, v = 0.0, 0.0, 0.0
    for t, g in enumerate([1.0, -0.5], start=1):
        _set_grad(p, [g])
        opt.step()
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w -= lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
    assert p.numpy()[0] == pytest.approx(w, rel=1e-12)


def test_adamw_decouples_weight_decay():
    p = _param([2.0])
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    _set_grad(p, [0.0])
    opt.step()
    # zero gradient: only the decay acts, w *= 1 - lr*wd
    assert p.numpy()[0] == pytest.approx(2.0 * (1 - 0.05))


def test_rmsprop_closed_form():
    p = _param([1.0])
    opt = optim.RMSprop([p], lr=0.01, alpha=0.9)
    _set_grad(p, [2.0])
    opt.step()
    s = 0.1 * 4.0
    assert p.numpy()[0] == pytest.approx(1.0 - 0.01 * 2.0 / (math.sqrt(s) + 1e-8))


def test_step_does_not_record_and_bumps_version():
    lin = nn.Linear(3, 2)
    opt = optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
    out = lin(ac.randn(4, 3, seed=0)).sum()
    out.backward()
    v = lin.weight.version
    opt.step()
    assert lin.weight.grad_fn is None and lin.weight.is_leaf
    assert lin.weight.version == v + 1


def test_param_groups_and_zero_grad():
    a, b = _param([1.0]), _param([1.0])
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    _set_grad(a, [1.0])
    _set_grad(b, [1.0])
    opt.step()
    assert a.numpy()[0] == pytest.approx(0.9) and b.numpy()[0] == pytest.approx(0.0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    with pytest.raises(InvalidArgumentError, match="more than one group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.raises(InvalidArgumentError, match="lr"):
        optim.SGD([a], lr=-1)
    with pytest.raises(InvalidArgumentError, match="nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)


def test_optimizer_state_dict_round_trip_continues_identically():
    def run(steps, opt_cls, resume_at=None, **kw):
        p = _param([1.0, 2.0])
        opt = opt_cls([p], **kw)
        for i in range(steps):
            if resume_at == i:
                sd = opt.state_dict()
                q = _param(p.numpy().copy())
                opt = opt_cls([q], lr=123.0)
                opt.load_state_dict(sd)
                p = q
            _set_grad(p, [np.sin(i), np.cos(i)])
            opt.step()
        return p.numpy()

    for cls, kw in [(optim.Adam, {"lr": 0.1, "amsgrad": True}),
                    (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True})]:
        np.testing.assert_allclose(run(5, cls, **kw), run(5, cls, resume_at=2, **kw))
    with pytest.raises(StateDictError):
        optim.SGD([_param([1.0])], lr=0.1).load_state_dict({"nope": 1})


@pytest.mark.torch
@pytest.mark.parametrize("name, kw", [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "betas": (0.8, 0.99)}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
])
def test_optimizers_match_pytorch_on_same_gradients(name, kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0 = [rng.normal(size=(3, 4)), rng.normal(size=(4,))]
    ours = [_param(w.copy()) for w in w0]
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in w0]
    opt_a = getattr(optim, name)(ours, **kw)
    opt_t = getattr(torch.optim, name)(theirs, **kw)
    for _ in range(6):
        grads = [rng.normal(size=w.shape) for w in w0]
        for p, q, g in zip(ours, theirs, grads):
            _set_grad(p, g)
            q.grad = torch.tensor(g)
        opt_a.step()
        opt_t.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-10, atol=1e-12)


# ---- schedulers ---------------------------------------------------------------------------


def _opt(lr=1.0):
    return optim.SGD([_param([1.0])], lr=lr)


def test_step_lr_and_cosine_closed_forms():
    opt = _opt(1.0)
    sch = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(7):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    opt = _opt(0.1)
    sch = optim.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    seen = [opt.param_groups[0]["lr"]]
    for _ in range(10):
        sch.step()
        seen.append(sch.get_last_lr()[0])
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(11)]
    np.testing.assert_allclose(seen, expected)
    assert seen[-1] == pytest.approx(0.01)


def test_reduce_lr_on_plateau():
    opt = _opt(1.0)
    sch = optim.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    lrs = []
    for metric in [5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]:
        sch.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    # improvement at 4 (epoch 2); 3 bad epochs -> halve at epoch 5; cooldown 1, then 3 bad
    assert lrs[:5] == [1, 1, 1, 1, 0.5]
    assert lrs[5:9] == [0.5, 0.5, 0.5, 0.25]
    assert min(lrs) == 0.2


@pytest.mark.torch
def test_schedulers_match_pytorch():
    torch = pytest.importorskip("torch")
    cases = [("StepLR", {"step_size": 2, "gamma": 0.3}),
             ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
             ("ExponentialLR", {"gamma": 0.9}),
             ("MultiStepLR", {"milestones": [2, 5], "gamma": 0.5})]
    for name, kw in cases:
        ours = getattr(optim.lr_scheduler, name)(_opt(0.1), **kw)
        topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        theirs = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
        for _ in range(10):
            topt.step()
            ours.step()
            theirs.step()
            assert ours.get_last_lr()[0] == pytest.approx(theirs.get_last_lr()[0], rel=1e-9)
    metrics = [3, 2, 2, 2, 2, 2.5, 1, 1, 1, 1, 1, 1, 1]
    ours = optim.ReduceLROnPlateau(_opt(0.1), patience=1, cooldown=1, factor=0.3)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, patience=1, cooldown=1,
                                                        factor=0.3)
    for m in metrics:
        ours.step(m)
        theirs.step(m)
        assert ours.optimizer.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"])


def test_training_loop_decreases_loss():
    rng = np.random.default_rng(0)
    X = ac.tensor(rng.normal(size=(64, 2)))
    y = ac.tensor((X.numpy()[:, 0] + X.numpy()[:, 1] > 0).astype(np.int64))
    model = nn.Sequential(nn.Linear(2, 8, generator=rng), nn.ReLU(),
                          nn.Linear(8, 2, generator=rng))
    opt = optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        first = first if first is not None else float(loss)
    assert float(loss) < 0.3 * first
