"""autograd_cnn.train: fit and evaluate on tiny problems that must learn."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_cnn as ac
from autograd_cnn.data import DataLoader, TensorDataset, load_digits, train_test_split
from autograd_cnn.errors import ArgumentTypeError, InvalidArgumentError
from autograd_cnn.train import History, accuracy, evaluate, fit, load_state, save_state


def cross_entropy(logits, y):
    """Mean negative log-likelihood, written with the DSL (independent of nn/losses)."""
    onehot = np.eye(logits.shape[1], dtype=logits.dtype)[y.numpy()]
    return -(ac.log_softmax(logits, dim=1) * ac.tensor(onehot)).sum(axis=1).mean()


class Softmax:
    """A linear softmax classifier with the Module-like surface fit() uses."""

    def __init__(self, n_in, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.w = ac.tensor(rng.standard_normal((n_in, n_out)).astype(np.float32) * 0.01,
                           requires_grad=True)
        self.b = ac.zeros(n_out, requires_grad=True)
        self.training = True
        self.modes = []

    def __call__(self, x):
        self.modes.append(self.training)
        return x.reshape(x.shape[0], -1) @ self.w + self.b

    def parameters(self):
        return [self.w, self.b]

    def train(self, mode=True):
        self.training = mode
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def state_dict(self):
        return {"w": self.w.detach(), "b": self.b.detach()}

    def load_state_dict(self, state):
        self.w.data[...] = np.asarray(getattr(state["w"], "data", state["w"]))
        self.b.data[...] = np.asarray(getattr(state["b"], "data", state["b"]))


class PlainSGD:
    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr
        self.param_groups = [{"lr": lr}]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for p in self.params:
            if p.grad is not None:
                p.data -= self.lr * p.grad.data


@pytest.fixture(scope="module")
def digits_loaders():
    x, y = load_digits()
    x = (x - x.mean()) / x.std()   # standardized: plain SGD converges in a few epochs
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, seed=0, stratify=y)
    return (DataLoader(TensorDataset(xtr, ytr), batch_size=32, shuffle=True, seed=0),
            DataLoader(TensorDataset(xte, yte), batch_size=256))


def test_accuracy_counts_argmax_hits():
    z = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0]])
    assert accuracy(z, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert accuracy(ac.tensor(z), np.eye(2)[[0, 1, 0]]) == 1.0
    with pytest.raises(InvalidArgumentError, match="targets"):
        accuracy(z, np.array([0, 1]))


def test_fit_learns_digits_loss_falls_accuracy_rises(digits_loaders):
    train_dl, test_dl = digits_loaders
    model = Softmax(64, 10)
    before = evaluate(model, test_dl, cross_entropy)
    hist = fit(model, train_dl, PlainSGD(model.parameters(), lr=0.1), cross_entropy,
               epochs=4, val_loader=test_dl, log=None)
    assert isinstance(hist, History) and len(hist) == 4
    assert [r["epoch"] for r in hist] == [1, 2, 3, 4]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"] < before["loss"]
    assert hist[-1]["val_acc"] > 0.85 > 0.1 + before["accuracy"]   # chance is 0.1
    after = evaluate(model, test_dl, cross_entropy)
    assert after["accuracy"] == pytest.approx(hist[-1]["val_acc"])
    assert after["n"] == len(test_dl.dataset) == 451
    assert hist.monitor == "val_acc" and hist.best_value == max(hist.column("val_acc"))
    assert set(hist[0]) >= {"train_loss", "train_acc", "val_loss", "val_acc", "lr", "time_s"}
    assert hist[0]["lr"] == 0.1


def test_fit_is_reproducible_with_seeds(digits_loaders):
    x, y = load_digits()

    def run():
        dl = DataLoader(TensorDataset(x[:300], y[:300]), batch_size=32, shuffle=True, seed=1)
        m = Softmax(64, 10, seed=3)
        h = fit(m, dl, PlainSGD(m.parameters(), lr=0.3), cross_entropy, epochs=2, seed=5,
                log=None)
        return m.w.numpy().copy(), h.column("train_loss")

    (w1, l1), (w2, l2) = run(), run()
    np.testing.assert_array_equal(w1, w2)
    assert l1 == l2


def test_evaluate_sets_eval_mode_and_restores_training(digits_loaders):
    _, test_dl = digits_loaders
    model = Softmax(64, 10)
    model.modes.clear()
    out = evaluate(model, test_dl)
    assert out["loss"] is None and 0 <= out["accuracy"] <= 1
    assert model.modes and not any(model.modes)       # called in eval mode
    assert model.training                             # restored afterwards
    seen = []
    evaluate(lambda x: seen.append(model(x)) or seen[-1], test_dl)
    assert all(out.is_leaf and not out.requires_grad for out in seen)   # no tape recorded
    assert ac.is_grad_enabled()                                          # and restored


def test_fit_checkpoints_best_and_restores(tmp_path, digits_loaders):
    train_dl, test_dl = digits_loaders
    model = Softmax(64, 10)
    ck = tmp_path / "best.npz"
    hist = fit(model, train_dl, PlainSGD(model.parameters(), lr=0.5), cross_entropy,
               epochs=3, val_loader=test_dl, checkpoint=ck, monitor="val_loss",
               restore_best=True, log=None)
    assert ck.exists() and hist.checkpoint == str(ck)
    best = min(hist.column("val_loss"))
    assert hist.best_value == best and hist[hist.best_epoch - 1]["val_loss"] == best
    state = load_state(ck)
    np.testing.assert_allclose(np.asarray(getattr(state["w"], "data", state["w"])),
                               model.w.numpy())
    assert evaluate(model, test_dl, cross_entropy)["loss"] == pytest.approx(best, rel=1e-5)


def test_save_and_load_state_round_trip(tmp_path):
    st = {"a": ac.tensor(np.arange(6.0).reshape(2, 3)), "b.c": np.ones(2, np.float32)}
    p = save_state(st, tmp_path / "s.npz")
    back = load_state(p)
    np.testing.assert_array_equal(np.asarray(getattr(back["a"], "data", back["a"])),
                                  np.arange(6.0).reshape(2, 3))
    assert set(back) == {"a", "b.c"}


def test_fit_max_steps_and_logging(digits_loaders):
    train_dl, _ = digits_loaders
    model = Softmax(64, 10)
    lines = []
    hist = fit(model, train_dl, PlainSGD(model.parameters(), 0.1), cross_entropy, epochs=5,
               max_steps=3, log=lines.append, progress=False)
    assert len(hist) == 1 and hist[0]["steps"] == 3
    assert len(lines) == 1 and "epoch   1/5" in lines[0] and "loss" in lines[0]


def test_fit_progress_bar_writes_to_stderr(digits_loaders, capsys):
    pytest.importorskip("tqdm")
    train_dl, _ = digits_loaders
    model = Softmax(64, 10)
    fit(model, train_dl, PlainSGD(model.parameters(), 0.1), cross_entropy, epochs=1,
        max_steps=4, progress=True, log=None)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "loss=" in err


def test_fit_bad_arguments(digits_loaders):
    train_dl, _ = digits_loaders
    m = Softmax(64, 10)
    opt = PlainSGD(m.parameters(), 0.1)
    with pytest.raises(InvalidArgumentError, match="epochs"):
        fit(m, train_dl, opt, cross_entropy, epochs=0)
    with pytest.raises(ArgumentTypeError, match="optimizer"):
        fit(m, train_dl, object(), cross_entropy)
    with pytest.raises(InvalidArgumentError, match="monitor"):
        fit(m, train_dl, opt, cross_entropy, monitor="val_acc")
    empty = DataLoader(TensorDataset(np.zeros((3, 64), np.float32), np.zeros(3, np.int64)),
                       batch_size=4, drop_last=True)
    with pytest.raises(InvalidArgumentError, match="no batches"):
        fit(m, empty, opt, cross_entropy, log=None)


def test_fit_stops_on_non_finite_loss(digits_loaders):
    train_dl, _ = digits_loaders
    m = Softmax(64, 10)
    with pytest.raises(FloatingPointError, match="loss"):
        fit(m, train_dl, PlainSGD(m.parameters(), 0.1),
            lambda z, y: cross_entropy(z, y) * float("nan"), log=None)


def test_fit_raises_on_non_finite_loss_before_touching_the_weights():
    x, y = load_digits()
    x = ((x - x.mean()) / x.std())[:256]
    train_dl = DataLoader(TensorDataset(x, y[:256]), batch_size=32)   # same order each pass
    m = Softmax(64, 10)
    calls = []

    def loss(z, y):
        calls.append(1)
        out = cross_entropy(z, y)
        return out * float("inf") if len(calls) == 3 else out

    with pytest.raises(FloatingPointError, match="step 3"):
        fit(m, train_dl, PlainSGD(m.parameters(), 0.1), loss, log=None)
    assert np.isfinite(m.w.numpy()).all() and np.isfinite(m.b.numpy()).all()
    # the bad batch's backward/step did not run: weights are those after step 2
    m2 = Softmax(64, 10)
    fit(m2, train_dl, PlainSGD(m2.parameters(), 0.1), cross_entropy, max_steps=2, log=None)
    np.testing.assert_array_equal(m.w.numpy(), m2.w.numpy())


def test_evaluate_restores_each_submodules_own_mode():
    nn = pytest.importorskip("autograd_cnn.nn")
    net = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    net[1].eval()   # a frozen BatchNorm
    dl = DataLoader(TensorDataset(np.ones((4, 3), np.float32), np.zeros(4, np.int64)),
                    batch_size=2)
    evaluate(net, dl)
    assert net.training and net[0].training and net[2].training
    assert not net[1].training
    net.eval()
    evaluate(net, dl)
    assert not any(m.training for m in net.modules())


def test_fit_restore_best_without_checkpoint_keeps_best_in_memory():
    x, y = load_digits()
    x = ((x - x.mean()) / x.std()).astype(np.float32)
    train_dl = DataLoader(TensorDataset(x[:256], y[:256]), batch_size=32)   # 8 steps/epoch
    val_dl = DataLoader(TensorDataset(x[256:512], y[256:512]), batch_size=256)

    class Sabotaged(PlainSGD):
        """Plain SGD for two epochs, then steps that wreck the weights."""

        n = 0

        def step(self):
            super().step()
            self.n += 1
            if self.n > 16:   # (not a constant shift: softmax ignores those)
                rng = np.random.default_rng(self.n)
                for p in self.params:
                    p.data += rng.standard_normal(p.shape).astype(p.data.dtype)

    model = Softmax(64, 10)
    hist = fit(model, train_dl, Sabotaged(model.parameters(), lr=0.1), cross_entropy,
               epochs=3, val_loader=val_dl, monitor="val_loss", restore_best=True, log=None)
    assert hist.checkpoint is None and hist.best_epoch in (1, 2)
    assert hist[-1]["val_loss"] > hist.best_value
    # the best weights came back from an in-memory copy (not the live, wrecked arrays)
    assert evaluate(model, val_dl, cross_entropy)["loss"] == pytest.approx(
        hist.best_value, rel=1e-5)


def test_fit_with_library_modules_and_optimizer(digits_loaders):
    """Integration with autograd_cnn.nn and autograd_cnn.optim (once they exist)."""
    nn = pytest.importorskip("autograd_cnn.nn")
    optim = pytest.importorskip("autograd_cnn.optim")
    if not all(hasattr(nn, n) for n in ("Sequential", "Flatten", "Linear", "ReLU")):
        pytest.skip("autograd_cnn.nn is not complete yet")
    train_dl, test_dl = digits_loaders
    ac.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    hist = fit(model, train_dl, optim.Adam(model.parameters(), lr=1e-2), cross_entropy,
               epochs=3, val_loader=test_dl, seed=0, log=None)
    assert hist[-1]["val_acc"] > 0.85
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
