"""Shape arithmetic and small array helpers of the convolution family (dtype choice,
the 5-D (N, C, D, H, W) views the kernels take, padding, output sizes). Re-exported by
:mod:`.conv_dispatch`."""

from __future__ import annotations

import numpy as np


def _half_in_float32(fn):
    """Run ``fn`` on float16 arrays in float32 and round its result back to float16 (the
    kernels exist for float32 and float64 only; PyTorch, too, returns float16)."""
    import functools

    @functools.wraps(fn)
    def run(a, b, *args, **kwargs):
        if a.dtype != np.float16 and getattr(b, "dtype", None) != np.float16:
            return fn(a, b, *args, **kwargs)
        a = a.astype(np.float32)
        b = b.astype(np.float32) if isinstance(b, np.ndarray) and b.dtype.kind == "f" else b
        return fn(a, b, *args, **kwargs).astype(np.float16)

    return run


def _float_dtype(*arrays):
    dt = np.result_type(*arrays)
    return dt if dt in (np.float32, np.float64) else np.dtype(np.float64)


def _as5(a, nd):
    """(N, C, *S) with 1 <= len(S) <= 3 as (N, C, D, H, W), C-contiguous."""
    a = np.ascontiguousarray(a)
    return a.reshape(a.shape[:2] + (1,) * (3 - nd) + a.shape[2:])


def _t3(t, fill):
    return (fill,) * (3 - len(t)) + tuple(t)


def out_size(s, k, stride, lo, hi, dilation) -> int:
    """Output length of a cross-correlation along one dim (may be <= 0)."""
    return (s + lo + hi - dilation * (k - 1) - 1) // stride + 1


def conv_out_shape(x_shape, w_shape, stride, padding, dilation):
    q = tuple(
        out_size(s, k, st, lo, hi, d)
        for s, k, st, (lo, hi), d in zip(x_shape[2:], w_shape[2:], stride, padding, dilation)
    )
    return (x_shape[0], w_shape[0]) + q


def transpose_out_shape(y_shape, w_shape, stride, padding, dilation, groups, output_padding):
    s = tuple(
        (q - 1) * st + d * (k - 1) + 1 + op - lo - hi
        for q, k, st, (lo, hi), d, op in zip(
            y_shape[2:], w_shape[2:], stride, padding, dilation, output_padding
        )
    )
    return (y_shape[0], w_shape[1] * groups) + s


def _pad5(x5, padding3):
    if not any(lo or hi for lo, hi in padding3):
        return x5
    # zeros + one interior copy: several times faster than np.pad's generic path
    shape = x5.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x5.shape[2:], padding3))
    xp = np.zeros(shape, x5.dtype)
    xp[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in
                                          zip(x5.shape[2:], padding3))] = x5
    return xp
