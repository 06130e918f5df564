"""Two PyTorch programs ported with ``import autograd_cnn as torch`` (examples/
pytorch_ports/): each runs in fast mode, and the same source run under real PyTorch
(import lines swapped back) gives the same numbers in float64."""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_cnn as ac

PORTS = Path(__file__).resolve().parents[1] / "examples" / "pytorch_ports"

#: The import lines a port changes, and what they were in the PyTorch program.
SWAPS = [
    ("import autograd_cnn as torch\n", "import torch\n"),
    ("import autograd_cnn.nn as nn\n", "import torch.nn as nn\n"),
    ("import autograd_cnn.nn.functional as F\n", "import torch.nn.functional as F\n"),
    ("import autograd_cnn.optim as optim\n", "import torch.optim as optim\n"),
    ("from autograd_cnn.optim.lr_scheduler import StepLR\n",
     "from torch.optim.lr_scheduler import StepLR\n"),
]


def _load(name, source=None):
    path = PORTS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"port_{name}_{source is not None}", path)
    mod = importlib.util.module_from_spec(spec)
    if source is None:
        spec.loader.exec_module(mod)
    else:
        exec(compile(source, str(path), "exec"), mod.__dict__)
    sys.modules.pop(spec.name, None)
    return mod


def _as_pytorch(name):
    """The port with its imports turned back into PyTorch's, loaded under real torch."""
    pytest.importorskip("torch")
    src = (PORTS / f"{name}.py").read_text()
    for ours, theirs in SWAPS:
        src = src.replace(ours, theirs)
    assert "import autograd_cnn as torch" not in src
    return _load(name, src)


def test_ports_differ_from_pytorch_only_in_their_imports():
    for name in ("mnist", "polynomial"):
        src = (PORTS / f"{name}.py").read_text()
        torch_named = [line for line in src.splitlines()
                       if "autograd_cnn" in line and line.startswith(("import", "from"))]
        allowed = {o.strip() for o, _ in SWAPS} | {"from autograd_cnn.data import transforms"}
        assert set(torch_named) <= allowed, torch_named


# ---- the polynomial tutorial -------------------------------------------------------------


def test_polynomial_port_runs(capsys):
    loss, loss_nn = _load("polynomial").main(["--steps", "300"])
    assert math.isfinite(loss) and math.isfinite(loss_nn)
    out = capsys.readouterr().out
    assert out.count("Result: y =") == 2


def test_polynomial_port_matches_pytorch_in_float64():
    torch = pytest.importorskip("torch")
    ours, theirs = _load("polynomial"), _as_pytorch("polynomial")
    x = np.linspace(-math.pi, math.pi, 2000)
    init = [0.3, -0.2, 0.5, 0.1]
    results = []
    for lib, mod in ((ac, ours), (torch, theirs)):
        xt = lib.tensor(x, dtype=lib.float64)
        yt = lib.sin(xt)
        coef = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in init]
        logged = []
        loss = mod.fit_autograd(xt, yt, *coef, steps=500, log=lambda t, v: logged.append(v))
        results.append((loss, [c.item() for c in coef], logged))
    (l1, c1, g1), (l2, c2, g2) = results
    assert c1 != init  # the in-place updates changed the coefficients
    np.testing.assert_allclose(c1, c2, rtol=1e-10)
    np.testing.assert_allclose(g1, g2, rtol=1e-10)
    assert l1 == pytest.approx(l2, rel=1e-10)


def test_polynomial_nn_port_matches_pytorch_in_float64():
    torch = pytest.importorskip("torch")
    ours, theirs = _load("polynomial"), _as_pytorch("polynomial")
    x = np.linspace(-math.pi, math.pi, 500)
    w, b = np.array([[0.1, -0.3, 0.2]]), np.array([0.05])
    finals = []
    for lib, mod in ((ac, ours), (torch, theirs)):
        model = mod.make_model(lib.float64)
        with lib.no_grad():
            model[0].weight.copy_(lib.tensor(w))
            model[0].bias.copy_(lib.tensor(b))
        xt = lib.tensor(x, dtype=lib.float64)
        loss = mod.fit_nn(xt, lib.sin(xt), model, steps=300, log=lambda *a: None)
        finals.append((loss, model[0].weight.detach().numpy().copy()))
    assert not np.allclose(finals[0][1], w)
    np.testing.assert_allclose(finals[0][1], finals[1][1], rtol=1e-10)
    assert finals[0][0] == pytest.approx(finals[1][0], rel=1e-10)


# ---- pytorch/examples mnist ----------------------------------------------------------------


def test_mnist_port_runs_in_fast_mode(capsys):
    loss, correct = _load("mnist").main(["--epochs", "1", "--limit", "96", "--batch-size",
                                         "32", "--test-batch-size", "48"])
    out = capsys.readouterr().out
    assert "Train Epoch: 1" in out and "Test set: Average loss" in out
    assert math.isfinite(loss) and 0 <= correct <= 96


def test_mnist_port_matches_pytorch_in_float64():
    torch = pytest.importorskip("torch")
    ours, theirs = _load("mnist"), _as_pytorch("mnist")
    tf = ac.data.transforms.Compose([ac.data.transforms.ToTensor(),
                                     ac.data.transforms.Normalize((0.1307,), (0.3081,))])
    ds = ours.DigitsAsMNIST(train=True, transform=tf, limit=24)
    x = np.stack([ds[i][0].numpy() for i in range(len(ds))]).astype(np.float64)
    y = np.array([ds[i][1] for i in range(len(ds))])
    assert x.shape == (24, 1, 28, 28)

    m1, m2 = ours.Net().double(), theirs.Net().double()
    with torch.no_grad():
        for (n1, p1), (n2, p2) in zip(m1.named_parameters(), m2.named_parameters()):
            assert n1 == n2
            p2.copy_(torch.tensor(p1.numpy()))
    for m in (m1, m2):  # dropout masks come from different generators: switch them off
        m.dropout1.p = m.dropout2.p = 0.0
    args = argparse.Namespace(log_interval=10**9, dry_run=False)
    l1 = ac.utils.data.DataLoader(ac.utils.data.TensorDataset(x, y), batch_size=8)
    l2 = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=8)
    o1, o2 = ac.optim.Adadelta(m1.parameters(), lr=1.0), torch.optim.Adadelta(
        m2.parameters(), lr=1.0)
    s1, s2 = ours.StepLR(o1, step_size=1, gamma=0.7), theirs.StepLR(o2, step_size=1, gamma=0.7)
    for epoch in (1, 2):
        ours.train(args, m1, ac.device("cpu"), l1, o1, epoch)
        theirs.train(args, m2, torch.device("cpu"), l2, o2, epoch)
        s1.step()
        s2.step()
    for (n, p1), (_, p2) in zip(m1.named_parameters(), m2.named_parameters()):
        np.testing.assert_allclose(p1.numpy(), p2.detach().numpy(), rtol=1e-7, atol=1e-10,
                                   err_msg=n)
    r1, r2 = ours.test(m1, ac.device("cpu"), l1), theirs.test(m2, torch.device("cpu"), l2)
    assert r1[0] == pytest.approx(r2[0], rel=1e-8) and r1[1] == r2[1]
