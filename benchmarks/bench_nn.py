"""nn / optim / losses / summary benchmark: ours vs PyTorch CPU (2 threads), each tool in
its own process (benchmarks/_harness.py: medians after warm-up, OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset for the children, BLAS kernel printed via threadpoolctl).

Cases (float32):
- LeNet-5 training step, batch 64 at 32x32: forward, cross-entropy, backward, SGD step;
- CIFAR ResNet-8 training step, batch 16 at 32x32 (conv + BatchNorm + residuals);
- Adam step over 1 M parameters (10 tensors of 100k);
- cross-entropy forward + backward on (1024, 1000) logits;
- summary of VGG-16 at 224x224 (ours only: shape inference through meta mode).

    python benchmarks/bench_nn.py [--repeat 10]

Not a test: no timing assertions anywhere.
"""

from __future__ import annotations

import numpy as np
from _harness import main


def _ours_train(model_fn, shape, batch):
    import autograd_cnn as ac
    from autograd_cnn import nn, optim

    ac.manual_seed(0)
    model = model_fn()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x = ac.randn(batch, *shape, seed=1)
    y = ac.tensor(np.random.default_rng(0).integers(0, 10, batch))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return step


def _torch_train(model_fn, shape, batch):
    import torch

    torch.manual_seed(0)
    model = model_fn()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(batch, *shape)
    y = torch.tensor(np.random.default_rng(0).integers(0, 10, batch))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return step


def _torch_lenet():
    import torch.nn as tn

    return tn.Sequential(tn.Conv2d(1, 6, 5), tn.Tanh(), tn.AvgPool2d(2), tn.Conv2d(6, 16, 5),
                         tn.Tanh(), tn.AvgPool2d(2), tn.Flatten(), tn.Linear(400, 120),
                         tn.Tanh(), tn.Linear(120, 84), tn.Tanh(), tn.Linear(84, 10))


def _torch_resnet8():
    import torch
    import torch.nn as tn

    class Block(tn.Module):
        def __init__(self, c_in, c, s):
            super().__init__()
            self.c1 = tn.Conv2d(c_in, c, 3, s, 1, bias=False)
            self.b1 = tn.BatchNorm2d(c)
            self.c2 = tn.Conv2d(c, c, 3, 1, 1, bias=False)
            self.b2 = tn.BatchNorm2d(c)
            self.sc = None if (s == 1 and c_in == c) else tn.Sequential(
                tn.Conv2d(c_in, c, 1, s, bias=False), tn.BatchNorm2d(c))

        def forward(self, x):
            out = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
            return torch.relu(out + (x if self.sc is None else self.sc(x)))

    return tn.Sequential(tn.Conv2d(3, 16, 3, 1, 1, bias=False), tn.BatchNorm2d(16), tn.ReLU(),
                         Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
                         tn.AdaptiveAvgPool2d(1), tn.Flatten(), tn.Linear(64, 10))


def _ours_adam():
    import autograd_cnn as ac
    from autograd_cnn import nn, optim

    ps = [nn.Parameter(ac.randn(100_000, seed=i)) for i in range(10)]
    for p in ps:
        p.grad = ac.randn(100_000, seed=100)
    opt = optim.Adam(ps, lr=1e-3)
    return opt.step


def _torch_adam():
    import torch

    ps = [torch.randn(100_000, requires_grad=True) for _ in range(10)]
    for p in ps:
        p.grad = torch.randn(100_000)
    opt = torch.optim.Adam(ps, lr=1e-3, foreach=False)
    return opt.step


def _ours_ce():
    import autograd_cnn as ac
    import autograd_cnn.functional as F

    x = ac.randn(1024, 1000, seed=0, requires_grad=True)
    y = ac.tensor(np.random.default_rng(0).integers(0, 1000, 1024))

    def run():
        F.cross_entropy(x, y).backward()

    return run


def _torch_ce():
    import torch

    x = torch.randn(1024, 1000, requires_grad=True)
    y = torch.tensor(np.random.default_rng(0).integers(0, 1000, 1024))

    def run():
        torch.nn.functional.cross_entropy(x, y).backward()

    return run


def _ours_summary():
    import autograd_cnn as ac
    from autograd_cnn import models, nn

    with nn.meta_init():
        m = models.vgg16()
    return lambda: ac.summary(m, (1, 3, 224, 224))


def _lenet():
    from autograd_cnn import models

    return models.LeNet5()


def _resnet8():
    from autograd_cnn import models

    return models.resnet_cifar(8)


CASES = {
    "LeNet-5 train step (64x1x32x32)": {
        "ours": lambda: _ours_train(_lenet, (1, 32, 32), 64),
        "torch": lambda: _torch_train(_torch_lenet, (1, 32, 32), 64),
    },
    "ResNet-8 train step (16x3x32x32)": {
        "ours": lambda: _ours_train(_resnet8, (3, 32, 32), 16),
        "torch": lambda: _torch_train(_torch_resnet8, (3, 32, 32), 16),
    },
    "Adam step, 1M params": {"ours": _ours_adam, "torch": _torch_adam},
    "cross_entropy fwd+bwd (1024x1000)": {"ours": _ours_ce, "torch": _torch_ce},
    "summary(vgg16, 224x224), meta": {"ours": _ours_summary},
}

if __name__ == "__main__":
    main(CASES, unit="ms", repeat=10, title="nn / optim / losses / summary")
