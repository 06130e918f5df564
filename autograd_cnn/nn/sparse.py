"""``Embedding``: a lookup table of learnable rows indexed by integer ids."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import get_default_dtype
from . import init
from ._utils import positive_int
from .module import Module, Parameter


class Embedding(Module):
    """Rows of ``weight`` (num_embeddings, embedding_dim) at integer ids.

    Shapes: input ``(*)`` int64, output ``(*, embedding_dim)``. Weights ~ N(0, 1) as
    PyTorch; the row at ``padding_idx`` starts at zero and receives no gradient.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None,
                 _weight=None, dtype=None, generator=None):
        super().__init__()
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim")
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.padding_idx = padding_idx
        if _weight is not None:
            self.weight = Parameter(_weight)
        else:
            self.weight = Parameter(np.zeros((num_embeddings, embedding_dim),
                                             dtype=np.dtype(dtype or get_default_dtype())))
            init.normal_(self.weight, generator=generator)
            if padding_idx is not None:
                self.weight.data[padding_idx] = 0

    def forward(self, input):  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
