"""``ac.compile``: traced forward and backward graphs run as fused Numba kernels with a
memory plan, replayed without per-op Python dispatch.

>>> import autograd_cnn as ac
>>> f = ac.compile(lambda x: (ac.tanh(x) * 2).sum(), mode="inference")
>>> float(f(ac.zeros(3)))
0.0
"""

from .front import CompiledFunction, compile  # noqa: F401
from .memory import MemoryPlan  # noqa: F401

__all__ = ["CompiledFunction", "MemoryPlan", "compile"]
