"""The one reassociated sum of the generated kernels (see :func:`.codegen.generate`).

A float64 accumulator added to in strict order is bound by the add's latency (about 4
cycles an element); allowing reassociation here, and only here, lets LLVM keep several
vector partial sums. Fastmath flags are per function and stay on this function's adds
when it is inlined into a kernel, so the kernels' own arithmetic keeps NumPy's rounding.
The order is fixed by the compiled code: the same on every call and every thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath={"reassoc"})
def rowsum(t, n):
    """Sum of ``t[:n]`` in float64 (``t``: float32 or float64, shape ``(>= n,)``),
    vectorized."""
    s = 0.0
    for i in range(n):
        s += np.float64(t[i])
    return s
