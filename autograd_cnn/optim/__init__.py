"""Optimizers and learning-rate schedulers (``torch.optim`` semantics).

- :mod:`~autograd_cnn.optim.optimizer`: the :class:`Optimizer` base class;
- :mod:`~autograd_cnn.optim.algorithms`: SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta;
- :mod:`~autograd_cnn.optim.lr_scheduler`: the schedulers (``from
  autograd_cnn.optim.lr_scheduler import StepLR`` as in PyTorch), re-exported here.

>>> import autograd_cnn as ac
>>> w = ac.nn.Parameter(ac.tensor([1.0, -2.0]))
>>> opt = SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
>>> w.numpy()
array([ 0.8, -1.6], dtype=float32)
"""

from . import lr_scheduler  # noqa: F401
from .algorithms import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop  # noqa: F401
from .lr_scheduler import (  # noqa: F401
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
)
from .optimizer import Optimizer  # noqa: F401

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler",
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "OneCycleLR",
    "ReduceLROnPlateau", "LambdaLR",
]
