"""The 2x2 / stride-2 max-pooling kernels (explicit-vector blocks, kernels/simd.py): every
row length the blocks split differently, against the NumPy reference bit for bit (ties,
NaN, signed zeros), serial twin == parallel twin, and the direct backward against the
general scatter, including the fallbacks it must take."""

import numpy as np
import pytest

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import errors
from autograd_cnn.kernels import pool as K
from autograd_cnn.ops.pool import pool_scatter

# row lengths OW: LLVM's loop (< 4 and >= 16), two blocks of 4 (4-7), two blocks of 8
# (8-15); the direct backward takes rows of 8 and more; odd H and W leave a row / column
# uncovered
SHAPES = [(2, 3, 2, 2), (1, 2, 5, 7), (2, 2, 8, 9), (1, 3, 10, 11), (2, 1, 14, 15),
          (1, 2, 16, 16), (1, 1, 7, 18), (2, 2, 6, 26), (1, 2, 28, 28), (1, 1, 5, 30),
          (1, 1, 4, 33), (1, 1, 3, 40)]
VALUES = np.array([-1.0, 0.0, -0.0, 0.5, 1.0, 2.0, np.nan, -np.inf, np.inf])


def _bits(a):
    return a.view(np.int32 if a.dtype == np.float32 else np.int64)


def _problem(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.choice(VALUES, size=shape).astype(dtype)
    # NaNs with distinct payloads: the last one of a window must win, bit for bit
    bits = x.reshape(-1).view(np.uint32 if dtype == np.float32 else np.uint64)
    quiet = 0x7FC00000 if dtype == np.float32 else 0x7FF8000000000000
    where = rng.integers(0, x.size, max(2, x.size // 8))
    bits[where] = quiet + np.arange(1, len(where) + 1)
    P, (H, W) = shape[0] * shape[1], shape[2:]
    return x.reshape(P, H * W), P, H, W, H // 2, W // 2


def _tables(H, W, OH, OW):
    th = 2 * np.arange(OH)[:, None] + np.arange(2)
    tw = 2 * np.arange(OW)[:, None] + np.arange(2)
    return np.zeros((1, 1), np.int64), th.astype(np.int64), tw.astype(np.int64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_blocks_match_the_reference_bitwise_and_twins_agree(shape, dtype):
    xf, P, H, W, OH, OW = _problem(shape, dtype, sum(shape))
    ro, ri = K.max_pool_reference(xf.reshape(P, 1, H, W), *_tables(H, W, OH, OW))
    results = []
    twin = K._max_2x2_kernel(OW)
    assert (twin is K._max_2x2_blocks) == (4 <= OW < 16)
    for kernel in twin.dispatchers() + (K._max_2x2.serial,):
        out = np.full((P, OH * OW), 7, dtype)
        idx = np.full((P, OH * OW), -5, np.int64)
        kernel(xf, W, out, idx, OH, OW)
        np.testing.assert_array_equal(_bits(out), _bits(ro.reshape(P, -1)))
        np.testing.assert_array_equal(idx, ri.reshape(P, -1))
        results.append((out.tobytes(), idx.tobytes()))
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [s for s in SHAPES if s[3] >= 16])
def test_direct_backward_equals_the_general_scatter_bitwise(shape, dtype):
    xf, P, H, W, OH, OW = _problem(shape, dtype, 2 * sum(shape))
    _, idx = K.max_pool_forward(xf.reshape(P, 1, H, W), *_tables(H, W, OH, OW))
    idx = idx.reshape(P, -1)
    g = np.random.default_rng(1).choice(np.array([1.5, -0.0, 0.0, -2.0, np.nan]),
                                        size=idx.shape).astype(dtype)
    ref, ok = K.plane_scatter_add(g, idx, H * W)
    assert ok
    for kernel in K._scatter_2x2.dispatchers():
        out = np.full((P, H * W), 3, dtype)  # garbage: every position must be written
        assert kernel(g, idx, out, OH, OW, W) == 0
        np.testing.assert_array_equal(_bits(out), _bits(ref))
    out, ok = K.plane_scatter_add_2x2(g.reshape(P, OH, OW), idx.reshape(P, OH, OW), H, W)
    assert ok
    np.testing.assert_array_equal(_bits(out), _bits(ref))


@pytest.mark.parametrize("shape", [(2, 3, 28, 28), (1, 2, 17, 19), (1, 1, 6, 40)])
def test_direct_backward_falls_back_for_indices_outside_their_windows(shape):
    P, H, W = shape[0] * shape[1], shape[2], shape[3]
    OH, OW = H // 2, W // 2
    rng = np.random.default_rng(5)
    g = rng.standard_normal((P, OH, OW)).astype(np.float32)
    # indices of one window moved to a neighbour's, and repeated indices (accumulate)
    _, idx = K.max_pool_forward(rng.standard_normal((P, 1, H, W)).astype(np.float32),
                                *_tables(H, W, OH, OW))
    idx = idx.reshape(P, OH, OW).copy()
    idx[0, 0, 1] = idx[0, 0, 0]
    idx[-1, -1, -1] = 0
    want = K.scatter_add_reference(g.reshape(P, -1), idx.reshape(P, -1), H * W)
    for kernel in K._scatter_2x2.dispatchers():  # planes that failed: counted by both
        assert kernel(g.reshape(P, -1), idx.reshape(P, -1), np.empty((P, H * W), np.float32),
                      OH, OW, W) == len({0, P - 1})
    out, ok = K.plane_scatter_add_2x2(g, idx, H, W)
    assert ok
    np.testing.assert_array_equal(out, want)
    # the public primitive: the same, and bad indices still raise the named error
    got = pool_scatter(g.reshape(shape[:2] + (OH, OW)), idx.reshape(shape[:2] + (OH, OW)),
                       (H, W))
    np.testing.assert_array_equal(got.numpy().reshape(P, -1), want)
    idx[0, 0, 0] = H * W
    with pytest.raises(errors.PoolIndicesError, match="indices must lie in"):
        pool_scatter(g.reshape(shape[:2] + (OH, OW)), idx.reshape(shape[:2] + (OH, OW)),
                     (H, W))


def test_overlapping_pool_with_the_same_output_size_accumulates():
    # 3x3 / stride 2 on 17x17 gives 8x8 = 17 // 2, the shape of a 2x2 pool, but windows
    # overlap: the single peak at (8, 8) is the maximum of four windows
    h = np.arange(17.0)
    x = -((h[:, None] - 8) ** 2 + (h[None, :] - 8) ** 2)
    grads = []
    for dtype in (np.float32, np.float64):  # float32 tries the direct kernel first
        t = ac.tensor(x[None, None].astype(dtype), requires_grad=True)
        F.max_pool2d(t, 3, 2).sum().backward()
        grads.append(t.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    assert grads[0][0, 0, 8, 8] == 4 and grads[0].sum() == 64


def test_lenet_pool_gradient_routes_to_the_first_maximum():
    rng = np.random.default_rng(9)
    x = np.maximum(rng.standard_normal((4, 6, 28, 28)), 0).astype(np.float32)  # ReLU ties
    t = ac.tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(t, 2, return_indices=True)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    want = K.scatter_add_reference(g.reshape(24, -1), idx.numpy().reshape(24, -1), 28 * 28)
    np.testing.assert_array_equal(t.grad.numpy().reshape(24, -1), want)
    windows = x.reshape(4, 6, 14, 2, 14, 2).transpose(0, 1, 2, 4, 3, 5).reshape(4, 6, 14, 14, 4)
    first = windows.argmax(-1)
    np.testing.assert_array_equal(idx.numpy(), (28 * (2 * np.arange(14)[:, None] + first // 2)
                                                + 2 * np.arange(14) + first % 2))


def test_the_block_kernels_refuse_rows_they_cannot_cover():
    x = np.zeros((2, 4 * 6), np.float32)  # 2 planes of 4 x 6: rows of 3 outputs
    with pytest.raises(ValueError, match="rows of 4 to 15"):
        K._max_2x2_blocks.serial(x, 6, np.empty((2, 6), np.float32),
                                 np.empty((2, 6), np.int64), 2, 3)
    g, idx = np.ones((2, 6), np.float32), np.zeros((2, 6), np.int64)
    assert K._scatter_2x2.serial(g, idx, np.empty((2, 24), np.float32), 2, 3, 6) == 2


def test_public_2x2_pool_is_the_same_on_the_parallel_twins(monkeypatch):
    import numba

    rng = np.random.default_rng(4)
    xs = [np.maximum(rng.standard_normal(s), 0).astype(np.float32)
          for s in [(3, 4, 10, 10), (3, 4, 28, 28), (2, 3, 9, 41)]]

    def run():
        res = []
        for x in xs:
            t = ac.tensor(x, requires_grad=True)
            y, i = F.max_pool2d(t, 2, return_indices=True)
            y.backward(np.ones(y.shape, np.float32) * 0.5)
            res += [y.numpy().tobytes(), i.numpy().tobytes(), t.grad.numpy().tobytes()]
        return res

    serial = run()
    if numba.get_num_threads() < 2:
        pytest.skip("one thread only")
    monkeypatch.setattr(K, "PARALLEL_MIN_ELEMENTS", 0)
    assert run() == serial
