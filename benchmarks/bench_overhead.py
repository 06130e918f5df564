"""Per-op overhead of the tape: forward+backward of tiny tensors, ours vs PyTorch CPU.

Cases: one elementwise op, a chain of 50 ops, and a 3-layer MLP training step (forward,
backward, SGD update) on tiny tensors. Each tool runs in its own process; medians in
microseconds; ratio = PyTorch time / our time (higher is better for us; the goal is
>= 0.33, i.e. within 3x of PyTorch).

    python benchmarks/bench_overhead.py
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _harness import main  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 8)).astype(np.float32)
W1, W2, W3 = (RNG.standard_normal(s).astype(np.float32) * 0.3
              for s in [(8, 16), (16, 16), (16, 4)])


def ours_single():
    import autograd_cnn as ac

    x = ac.tensor(X, requires_grad=True)

    def step():
        x.grad = None
        (x * x).sum().backward()

    return step


def torch_single():
    import torch

    x = torch.tensor(X, requires_grad=True)

    def step():
        x.grad = None
        (x * x).sum().backward()

    return step


def ours_chain():
    import autograd_cnn as ac

    x = ac.tensor(X, requires_grad=True)

    def step():
        x.grad = None
        y = x
        for _ in range(25):
            y = (y * 0.9).tanh()
        y.sum().backward()

    return step


def torch_chain():
    import torch

    x = torch.tensor(X, requires_grad=True)

    def step():
        x.grad = None
        y = x
        for _ in range(25):
            y = (y * 0.9).tanh()
        y.sum().backward()

    return step


def ours_mlp():
    import autograd_cnn as ac

    ws = [ac.tensor(w.copy(), requires_grad=True) for w in (W1, W2, W3)]
    bs = [ac.zeros(w.shape[1], requires_grad=True) for w in ws]
    x = ac.tensor(X)
    y = np.arange(4) % 4

    def step():
        h = x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w + b
            if i < 2:
                h = h.relu()
        loss = -ac.log_softmax(h, dim=1)[np.arange(4), y].mean()
        loss.backward()
        with ac.no_grad():
            for p in ws + bs:
                p.sub_(p.grad, alpha=0.01)
                p.grad = None

    return step


def torch_mlp():
    import torch

    ws = [torch.tensor(w.copy(), requires_grad=True) for w in (W1, W2, W3)]
    bs = [torch.zeros(w.shape[1], requires_grad=True) for w in ws]
    x = torch.tensor(X)
    y = torch.arange(4) % 4

    def step():
        h = x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w + b
            if i < 2:
                h = h.relu()
        loss = -torch.log_softmax(h, dim=1)[torch.arange(4), y].mean()
        loss.backward()
        with torch.no_grad():
            for p in ws + bs:
                p.sub_(p.grad, alpha=0.01)
                p.grad = None

    return step


CASES = {
    "one elementwise op fwd+bwd": {"ours": ours_single, "torch": torch_single},
    "50-op chain fwd+bwd": {"ours": ours_chain, "torch": torch_chain},
    "3-layer MLP step": {"ours": ours_mlp, "torch": torch_mlp},
}

if __name__ == "__main__":
    main(CASES, tools=("ours", "torch"), unit="us", repeat=300,
         title="tape overhead: forward+backward on tiny tensors (median us)")
