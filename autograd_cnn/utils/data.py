"""``torch.utils.data``: the same objects as :mod:`autograd_cnn.data` under PyTorch's
module path, so ``from autograd_cnn.utils.data import DataLoader, TensorDataset`` works."""

from ..data.datasets import Dataset, Subset, TensorDataset, random_split  # noqa: F401
from ..data.loader import DataLoader, default_collate  # noqa: F401
from ..data.samplers import (  # noqa: F401
    BatchSampler,
    ConcatDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "default_collate", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler"]
