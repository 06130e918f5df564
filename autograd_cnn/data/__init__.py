"""Data: datasets, loaders, splits and transforms (``autograd_cnn.data``).

- :func:`load_digits` / :class:`Digits`: the 8x8 handwritten digits embedded in the
  package (1,797 images, 10 classes; no download).
- :func:`load_mnist` / :class:`MNIST` / :class:`FashionMNIST`: the original IDX files
  (raw or .gz) from a local folder; :func:`read_idx` for any IDX file.
- :class:`Dataset`, :class:`TensorDataset`, :class:`Subset`, :func:`random_split`,
  :func:`train_test_split`, :class:`DataLoader`.
- :mod:`~autograd_cnn.data.transforms`: ``Normalize``, ``RandomShift``, ``RandomCrop``,
  ``Pad``, ``Compose``, and torchvision's ``ToTensor``, ``Resize``, ``CenterCrop``,
  ``RandomHorizontalFlip``.
- Samplers and ``ConcatDataset`` (:mod:`~autograd_cnn.data.samplers`); the same objects
  under PyTorch's path :mod:`autograd_cnn.utils.data`.
"""

from . import transforms  # noqa: F401
from .datasets import (  # noqa: F401
    MNIST,
    Dataset,
    Digits,
    FashionMNIST,
    Subset,
    TensorDataset,
    load_digits,
    load_mnist,
    parse_idx,
    random_split,
    read_idx,
    train_test_split,
)
from .loader import DataLoader, default_collate  # noqa: F401
from .samplers import (  # noqa: F401
    BatchSampler,
    ConcatDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)
from .transforms import (  # noqa: F401
    CenterCrop,
    Compose,
    Lambda,
    Normalize,
    Pad,
    RandomCrop,
    RandomHorizontalFlip,
    RandomShift,
    RandomVerticalFlip,
    Resize,
    ToTensor,
)
