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


def _lib(tool):
    """The few names a case needs, from autograd_cnn or torch: the cases are written
    once and run unchanged on both."""
    if tool == "ours":
        import autograd_cnn as ac

        return ac, ac.tensor, ac.no_grad, lambda h: ac.log_softmax(h, dim=1), np.arange
    import torch

    return torch, torch.tensor, torch.no_grad, lambda h: torch.log_softmax(h, dim=1), \
        torch.arange


def single(tool):
    _, tensor, *_ = _lib(tool)
    x = tensor(X, requires_grad=True)

    def step():
        x.grad = None
        (x * x).sum().backward()

    return step


def chain(tool):
    _, tensor, *_ = _lib(tool)
    x = tensor(X, requires_grad=True)

    def step():
        x.grad = None
        y = x
        for _ in range(25):
            y = (y * 0.9).tanh()
        y.sum().backward()

    return step


def mlp(tool):
    lib, tensor, no_grad, log_softmax, arange = _lib(tool)
    ws = [tensor(w.copy(), requires_grad=True) for w in (W1, W2, W3)]
    bs = [lib.zeros(w.shape[1], requires_grad=True) for w in ws]
    x = tensor(X)
    rows, y = arange(4), arange(4) % 4

    def step():
        h = x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w + b
            if i < 2:
                h = h.relu()
        loss = -log_softmax(h)[rows, y].mean()
        loss.backward()
        with no_grad():
            for p in ws + bs:
                p.sub_(p.grad, alpha=0.01)
                p.grad = None

    return step


CASES = {
    name: {tool: (lambda case=case, tool=tool: case(tool)) for tool in ("ours", "torch")}
    for name, case in [("one elementwise op fwd+bwd", single), ("50-op chain fwd+bwd", chain),
                       ("3-layer MLP step", mlp)]
}

if __name__ == "__main__":
    main(CASES, tools=("ours", "torch"), unit="us", repeat=300,
         title="tape overhead: forward+backward on tiny tensors (median us)")
