"""Numba kernels and their NumPy reference oracles. Kernels take and return arrays and
never import Tensor; compilation happens on first use, never at import."""
