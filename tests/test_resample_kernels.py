"""The resampling tap kernels and the unpool scatter against their NumPy references,
adjointness, and parallel == serial bitwise (float32 and float64)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn.kernels import pool as KP
from autograd_cnn.kernels import resample as K
from autograd_cnn.ops.resample import tap_table

KINDS = ["nearest", "nearest-exact", "linear", "cubic", "area"]


@st.composite
def problems(draw):
    kind = draw(st.sampled_from(KINDS))
    n_in, n_out = draw(st.integers(1, 9)), draw(st.integers(1, 12))
    factor = None if kind == "area" else draw(st.none() | st.sampled_from([0.4, 1.3, 2.0]))
    align = draw(st.booleans()) if kind in ("linear", "cubic") else False
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    A, B = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    idx, w = tap_table(kind, n_in, n_out, factor, align, np.dtype(dtype).name)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((A, n_in, B)).astype(dtype)
    g = rng.standard_normal((A, n_out, B)).astype(dtype)
    return idx, w, x, g


@given(problems())
def test_tap_kernels_match_reference_and_are_adjoint(p):
    idx, w, x, g = p
    tol = 1e-12 if x.dtype == np.float64 else 1e-5
    out = K.taps_forward(x, idx, w)
    back = K.taps_adjoint(g, idx, w, x.shape[1])
    assert out.dtype == x.dtype and back.dtype == x.dtype
    np.testing.assert_allclose(out, K.taps_forward_reference(x.astype(np.float64), idx, w),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(back, K.taps_adjoint_reference(g.astype(np.float64), idx, w,
                                                              x.shape[1]), rtol=tol, atol=tol)
    assert np.isclose(np.vdot(out, g), np.vdot(x, back), rtol=1e-4 if tol > 1e-10 else 1e-10,
                      atol=1e-4 if tol > 1e-10 else 1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_tap_table_rows_are_partitions_of_unity(kind):
    # every interpolation reproduces constants: the weights of each output sum to 1
    for n_in, n_out in [(1, 5), (4, 9), (9, 4), (7, 7)]:
        idx, w = tap_table(kind, n_in, n_out, None, False, "float64")
        np.testing.assert_allclose(np.where(idx >= 0, w, 0).sum(axis=1), 1.0, rtol=1e-12)
        assert idx.max() < n_in and (idx >= -1).all()


def test_unpool_scatter_set_matches_reference_and_keeps_the_last():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((5, 12))
    idx = rng.integers(0, 9, (5, 12))
    out, ok = KP.plane_scatter_set(g, idx, 9)
    assert ok
    np.testing.assert_array_equal(out, KP.scatter_set_reference(g, idx, 9))
    _, ok = KP.plane_scatter_set(g, np.full((5, 12), 9), 9)
    assert not ok


def test_resampling_and_unpool_parallel_equal_serial_bitwise():
    from numba import get_num_threads, set_num_threads

    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 9, 11)).astype(np.float32)
    results = []
    n0 = get_num_threads()
    for n in sorted({1, n0}):
        set_num_threads(n)
        try:
            row = []
            for mode in ("bilinear", "bicubic", "area", "nearest-exact"):
                t = ac.tensor(x, requires_grad=True)
                y = F.interpolate(t, size=(13, 6), mode=mode)
                y.backward(np.ones(y.shape, np.float32))
                row += [y.numpy().tobytes(), t.grad.numpy().tobytes()]
            v, i = F.max_pool2d(ac.tensor(x), 3, 2, 1, return_indices=True)
            row.append(F.max_unpool2d(v, i, 3, 2, 1, output_size=(9, 11)).numpy().tobytes())
            results.append(row)
        finally:
            set_num_threads(n0)
    assert all(r == results[0] for r in results)
