"""Autodiff state is per thread (as in PyTorch): two threads training their own models
and a third evaluating under ``no_grad`` in a loop never disturb each other; every
training step matches the same step run alone."""

import threading

import numpy as np

import autograd_cnn as ac
import autograd_cnn.nn.functional as F


def _model(seed):
    g = np.random.default_rng(seed)
    w1 = ac.nn.Parameter(ac.tensor(g.standard_normal((8, 4)) * 0.5))
    w2 = ac.nn.Parameter(ac.tensor(g.standard_normal((3, 8)) * 0.5))
    return [w1, w2]


def _data(seed):
    g = np.random.default_rng(100 + seed)
    return ac.tensor(g.standard_normal((16, 4))), ac.tensor(g.integers(0, 3, 16))


def _step(params, x, y, lr=0.1):
    w1, w2 = params
    with ac.tape.scope(f"trainer{id(params)}"):
        h = F.relu(x @ w1.T)
        loss = F.cross_entropy(h @ w2.T, y)
    loss.backward()
    with ac.no_grad():
        for p in params:
            p -= lr * p.grad  # the in-place idiom: must change the parameter
            p.grad = None
    return float(loss.item())


def _reference(seed, steps):
    params = _model(seed)
    x, y = _data(seed)
    return [_step(params, x, y) for _ in range(steps)], [p.numpy().copy() for p in params]


def test_two_trainers_and_a_no_grad_evaluator_in_threads_every_step_correct():
    steps = 60
    expected = {s: _reference(s, steps) for s in (1, 2)}
    got, errors = {}, []
    stop = threading.Event()
    barrier = threading.Barrier(3)

    def trainer(seed):
        try:
            params = _model(seed)
            x, y = _data(seed)
            barrier.wait()
            losses = []
            for _ in range(steps):
                assert ac.is_grad_enabled()
                losses.append(_step(params, x, y))
            got[seed] = (losses, [p.numpy().copy() for p in params])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def evaluator():
        params = _model(7)
        x, _ = _data(7)
        barrier.wait()
        n = 0
        try:
            while not stop.is_set() or n < 50:
                with ac.no_grad():
                    out = F.relu(x @ params[0].T) @ params[1].T
                    assert not out.requires_grad and not ac.is_grad_enabled()
                ac.set_grad_enabled(False)  # a plain call, as PyTorch programs write it
                assert not ac.is_grad_enabled()
                ac.set_grad_enabled(True)
                n += 1
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=trainer, args=(s,)) for s in (1, 2)]
    ev = threading.Thread(target=evaluator)
    for t in threads + [ev]:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    ev.join(120)
    assert errors == []
    for s in (1, 2):
        losses, params = got[s]
        exp_losses, exp_params = expected[s]
        np.testing.assert_array_equal(losses, exp_losses)  # every step, bit for bit
        for a, b in zip(params, exp_params):
            np.testing.assert_array_equal(a, b)
    # training did change the parameters (the in-place update is not a rebinding)
    assert expected[1][0][-1] < expected[1][0][0]


def test_grad_mode_set_in_one_thread_does_not_leak_into_another():
    seen = []
    ac.set_grad_enabled(False)
    try:
        t = threading.Thread(target=lambda: seen.append(ac.is_grad_enabled()))
        t.start()
        t.join()
    finally:
        ac.set_grad_enabled(True)
    assert seen == [True]
