"""autograd_cnn.data: embedded digits, IDX reader, datasets, loader, splits, transforms."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
from autograd_cnn.data import (
    MNIST,
    DataLoader,
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
from autograd_cnn.data.transforms import (
    Compose,
    Normalize,
    Pad,
    RandomCrop,
    RandomShift,
)
from autograd_cnn.errors import (
    ArgumentTypeError,
    CorruptDataError,
    DataFileNotFoundError,
    InvalidArgumentError,
    ShapeError,
)

# ---- embedded digits -----------------------------------------------------------------


def test_load_digits_shapes_range_and_classes():
    x, y = load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    counts = np.bincount(y)
    assert counts.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # The first image of the UCI file is a zero: its first row is 0 0 5 13 9 1 0 0.
    assert y[0] == 0
    np.testing.assert_allclose(x[0, 0, 0] * 16, [0, 0, 5, 13, 9, 1, 0, 0])


def test_digits_split_is_stratified_disjoint_and_reproducible():
    tr, te = Digits(train=True), Digits(train=False)
    assert len(tr) + len(te) == 1797
    assert 440 <= len(te) <= 460
    # Each class keeps its share (within one image of rounding).
    share = np.bincount(te.arrays[1], minlength=10) / np.bincount(load_digits()[1])
    assert np.all(np.abs(share - 0.25) < 0.01)
    # Disjoint and together the whole set; items are the rows at those indices.
    assert not set(tr.indices) & set(te.indices)
    assert sorted(np.concatenate([tr.indices, te.indices])) == list(range(1797))
    x, y = load_digits()
    np.testing.assert_array_equal(te.arrays[0], x[te.indices])
    np.testing.assert_array_equal(tr.arrays[1], y[tr.indices])
    np.testing.assert_array_equal(Digits(train=False).arrays[1], te.arrays[1])
    assert not np.array_equal(Digits(train=False, seed=1).arrays[1], te.arrays[1])


# ---- IDX -----------------------------------------------------------------------------


def idx_bytes(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
            np.float32: 0x0D, np.float64: 0x0E}[arr.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(
        f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
def test_parse_idx_round_trips_every_type(dtype):
    arr = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    out = parse_idx(idx_bytes(arr))
    assert out.dtype == np.dtype(dtype) and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, arr)


@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=4))
@settings(max_examples=25)
def test_parse_idx_round_trips_drawn_shapes(shape):
    arr = np.random.default_rng(0).integers(0, 256, size=shape).astype(np.uint8)
    np.testing.assert_array_equal(parse_idx(idx_bytes(arr)), arr)


@pytest.mark.parametrize("mutate, match", [
    (lambda b: b[:3], "at least 4 bytes"),
    (lambda b: b"\x01" + b[1:], "magic"),
    (lambda b: b[:2] + b"\x07" + b[3:], "type code"),
    (lambda b: b[:3] + b"\x00" + b[4:], "0 dimensions"),
    (lambda b: b[:3] + b"\x09" + b[4:], "truncated IDX header"),
    (lambda b: b[:-1], "truncated"),
    (lambda b: b + b"\x00", "trailing bytes"),
])
def test_parse_idx_rejects_corrupt_files(mutate, match):
    good = idx_bytes(np.zeros((3, 2, 2), np.uint8))
    with pytest.raises(CorruptDataError, match=match):
        parse_idx(mutate(good))



@pytest.mark.parametrize("code, dims, itemsize", [
    (0x08, (65536,) * 4, 1),  # 2**64 bytes: wraps to 0 in int64
    (0x08, (2**32 - 1,) * 3, 1),
    (0x0D, (2**31, 2**31, 4), 4),  # float32: 2**66 bytes
])
def test_parse_idx_huge_declared_shape_is_corrupt_not_a_crash(code, dims, itemsize):
    header = bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    needs = itemsize
    for d in dims:
        needs *= d
    with pytest.raises(CorruptDataError, match=f"needs {needs} bytes after the header, found 4"):
        parse_idx(header + b"\0" * 4)


def test_load_mnist_with_overflowing_header_is_corrupt(tmp_path):
    write_mnist(tmp_path)
    dims = (65536,) * 4
    (tmp_path / "train-images-idx3-ubyte").write_bytes(
        bytes([0, 0, 0x08, 4]) + b"".join(struct.pack(">I", d) for d in dims))
    with pytest.raises(CorruptDataError, match="truncated"):
        load_mnist(tmp_path)

def test_read_idx_raw_gz_missing_and_broken_gzip(tmp_path):
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(arr))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz"), arr)
    with pytest.raises(DataFileNotFoundError, match="not found"):
        read_idx(tmp_path / "missing")
    (tmp_path / "bad.gz").write_bytes(gzip.compress(idx_bytes(arr))[:20])
    with pytest.raises(CorruptDataError, match="gzip"):
        read_idx(tmp_path / "bad.gz")
    # Errors subclass the builtins callers already catch.
    assert issubclass(DataFileNotFoundError, FileNotFoundError)
    assert issubclass(CorruptDataError, ValueError)


def write_mnist(folder, n_train=20, n_test=8, size=28, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs = rng.integers(0, 256, size=(n, size, size)).astype(np.uint8)
        lbls = rng.integers(0, 10, size=n).astype(np.uint8)
        for stem, a in ((f"{prefix}-images-idx3-ubyte", imgs),
                        (f"{prefix}-labels-idx1-ubyte", lbls)):
            b = idx_bytes(a)
            if gz:
                (folder / (stem + ".gz")).write_bytes(gzip.compress(b))
            else:
                (folder / stem).write_bytes(b)
        data[prefix] = (imgs, lbls)
    return data


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_written_idx_files(tmp_path, gz):
    data = write_mnist(tmp_path, gz=gz)
    x, y = load_mnist(tmp_path, train=True)
    assert x.shape == (20, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x[:, 0] * 255, data["train"][0], atol=1e-4)
    np.testing.assert_array_equal(y, data["train"][1])
    xt, yt = load_mnist(tmp_path, train=False)
    assert xt.shape == (8, 1, 28, 28)
    ds = MNIST(tmp_path, train=False)
    assert len(ds) == 8 and ds[3][0].shape == (1, 28, 28)
    assert len(FashionMNIST(tmp_path)) == 20


def test_load_mnist_torchvision_layout(tmp_path):
    write_mnist(tmp_path / "FashionMNIST" / "raw", gz=True)
    assert load_mnist(tmp_path)[0].shape == (20, 1, 28, 28)


def test_load_mnist_missing_and_malformed(tmp_path):
    with pytest.raises(DataFileNotFoundError, match="folder not found"):
        load_mnist(tmp_path / "nope")
    with pytest.raises(DataFileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(19, np.uint8)))
    with pytest.raises(CorruptDataError, match="expected 20 labels"):
        load_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((20, 4), np.uint8)))
    with pytest.raises(CorruptDataError, match=r"\(N, H, W\)"):
        load_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"garbage!")
    with pytest.raises(CorruptDataError):
        load_mnist(tmp_path)


# ---- datasets and loader -------------------------------------------------------------


def make_ds(n=10, **kw):
    x = np.arange(n * 4, dtype=np.float32).reshape(n, 1, 2, 2)
    return TensorDataset(x, np.arange(n), **kw)


def test_tensor_dataset_items_and_errors():
    ds = make_ds()
    x, y = ds[-1]
    assert y == 9 and x.shape == (1, 2, 2)
    with pytest.raises(IndexError, match="out of range"):
        ds[10]
    with pytest.raises(ArgumentTypeError):
        ds["a"]
    with pytest.raises(ShapeError, match="first dimension"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(InvalidArgumentError):
        TensorDataset()
    t = TensorDataset(ac.tensor(np.ones((3, 2))), ac.tensor(np.arange(3)))
    assert len(t) == 3


@pytest.mark.parametrize("n, bs, drop_last, sizes", [
    (10, 4, False, [4, 4, 2]), (10, 4, True, [4, 4]), (8, 4, True, [4, 4]),
    (3, 5, False, [3]), (3, 5, True, []),
])
def test_loader_batch_sizes_and_len(n, bs, drop_last, sizes):
    dl = DataLoader(make_ds(n), batch_size=bs, drop_last=drop_last)
    got = [xb.shape[0] for xb, _ in dl]
    assert got == sizes and len(dl) == len(sizes)


def test_loader_yields_tensors_in_order_without_shuffle():
    xb, yb = next(iter(DataLoader(make_ds(), batch_size=3)))
    assert isinstance(xb, ac.Tensor) and isinstance(yb, ac.Tensor)
    assert xb.shape == (3, 1, 2, 2) and xb.dtype == np.float32 and yb.dtype == np.int64
    assert yb.numpy().tolist() == [0, 1, 2]


def test_loader_shuffle_is_a_seeded_permutation_new_each_epoch():
    ds = make_ds(50)
    a = DataLoader(ds, batch_size=7, shuffle=True, seed=3)
    b = DataLoader(ds, batch_size=7, shuffle=True, seed=3)
    ea1 = np.concatenate([y.numpy() for _, y in a])
    ea2 = np.concatenate([y.numpy() for _, y in a])
    eb1 = np.concatenate([y.numpy() for _, y in b])
    assert sorted(ea1.tolist()) == list(range(50))     # a permutation: every item once
    np.testing.assert_array_equal(ea1, eb1)              # same seed, same order
    assert not np.array_equal(ea1, ea2)                  # a new order each epoch
    ec = np.concatenate([y.numpy() for _, y in DataLoader(ds, 7, shuffle=True, seed=4)])
    assert not np.array_equal(ea1, ec)
    # Images stay paired with their labels.
    for xb, yb in DataLoader(ds, 7, shuffle=True, seed=5):
        np.testing.assert_array_equal(xb.numpy()[:, 0, 0, 0], yb.numpy() * 4)


def test_loader_on_plain_dataset_uses_collate():
    class Squares(ac.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float64), i

    xb, yb = next(iter(DataLoader(Squares(), batch_size=5)))
    assert xb.shape == (5, 2) and xb.dtype == np.float64
    assert yb.numpy().tolist() == [0, 1, 2, 3, 4]


def test_loader_bad_arguments():
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        DataLoader(make_ds(), batch_size=0)
    with pytest.raises(ArgumentTypeError, match="batch_size"):
        DataLoader(make_ds(), batch_size=2.5)
    with pytest.raises(ArgumentTypeError, match="dataset"):
        DataLoader(42)


def test_random_split_and_subset():
    ds = make_ds(10)
    a, b = random_split(ds, [7, 3], seed=0)
    ids = sorted(int(a[i][1]) for i in range(7)) + sorted(int(b[i][1]) for i in range(3))
    assert sorted(ids) == list(range(10))
    a2, _ = random_split(ds, [7, 3], seed=0)
    assert a.indices.tolist() == a2.indices.tolist()
    parts = random_split(ds, [0.5, 0.3, 0.2], seed=1)
    assert [len(p) for p in parts] == [5, 3, 2]
    with pytest.raises(InvalidArgumentError, match="lengths"):
        random_split(ds, [5, 4])
    xb, yb = next(iter(DataLoader(Subset(ds, [9, 1]), batch_size=2)))
    assert yb.numpy().tolist() == [9, 1]
    with pytest.raises(InvalidArgumentError):
        Subset(ds, [10])


def test_train_test_split_sizes_stratify_and_errors():
    x = np.arange(100).reshape(50, 2)
    y = np.repeat(np.arange(5), 10)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, seed=0, stratify=y)
    assert len(xte) == 10 and len(xtr) == 40
    assert np.bincount(yte).tolist() == [2] * 5
    np.testing.assert_array_equal(xtr[:, 0] // 2 // 10, ytr)   # rows stay paired
    again = train_test_split(x, y, test_size=0.2, seed=0, stratify=y)
    np.testing.assert_array_equal(again[1], xte)
    assert len(train_test_split(x, test_size=7, seed=0)[1]) == 7
    with pytest.raises(InvalidArgumentError, match="test_size"):
        train_test_split(x, test_size=1.5)
    with pytest.raises(ShapeError):
        train_test_split(x, y[:3])


# ---- transforms ----------------------------------------------------------------------


def test_normalize_per_channel_and_errors():
    x = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 3.0)]).astype(np.float32)
    out = Normalize([1.0, 1.0], [1.0, 2.0])(x)
    np.testing.assert_allclose(out[:, 0, 0], [0.0, 1.0])
    assert out.dtype == np.float32
    np.testing.assert_allclose(Normalize(1.0, 2.0)(x[None])[0, 1], 1.0)
    with pytest.raises(ShapeError, match="3 values for 2 channels"):
        Normalize([0, 0, 0], [1, 1, 1])(x)
    with pytest.raises(InvalidArgumentError, match="std"):
        Normalize(0.0, 0.0)
    with pytest.raises(ShapeError, match=r"\(C, H, W\)"):
        Normalize(0, 1)(np.zeros((2, 2)))


def test_random_shift_moves_content_and_keeps_mass_inside():
    x = np.zeros((6, 1, 7, 7), np.float32)
    x[:, :, 3, 3] = 1.0                       # a centred dot stays inside for shifts <= 2
    out = RandomShift(2, seed=0)(x)
    assert out.shape == x.shape and out.dtype == np.float32
    assert np.all(out.sum(axis=(1, 2, 3)) == 1.0)
    pos = [tuple(np.argwhere(o[0])[0]) for o in out]
    assert all(abs(r - 3) <= 2 and abs(c - 3) <= 2 for r, c in pos)
    assert len(set(pos)) > 1                  # not all the same draw
    again = RandomShift(2, seed=0)(x)
    np.testing.assert_array_equal(out, again)  # seeded
    single = RandomShift(1, seed=1)(x[0])
    assert single.shape == (1, 7, 7)


def test_random_shift_batch_equals_per_image_crop():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3, 6, 4)).astype(np.float32)
    out = RandomShift((1, 2), seed=7)(x)
    # Every output is some window of the zero-padded image.
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)))
    for k in range(5):
        assert any(np.array_equal(out[k], xp[k, :, i:i + 6, j:j + 4])
                   for i in range(3) for j in range(5))


def test_random_crop_pad_compose():
    x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    assert Pad(1)(x).shape == (2, 1, 6, 6)
    c = RandomCrop(3, seed=0)(x)
    assert c.shape == (2, 1, 3, 3)
    np.testing.assert_array_equal(RandomCrop(4)(x[0]), x[0])  # full-size crop is identity
    with pytest.raises(ShapeError, match="larger"):
        RandomCrop(5)(x)
    t = Compose([RandomCrop(4, padding=1, seed=0), Normalize(0.5, 2.0)])
    assert t(x).shape == x.shape and "RandomCrop" in repr(t)


def test_loader_applies_transform_per_batch():
    ds = make_ds(8, transform=Normalize(1.0, 2.0))
    xb, _ = next(iter(DataLoader(ds, batch_size=8)))
    np.testing.assert_allclose(xb.numpy(), (make_ds(8).arrays[0] - 1.0) / 2.0)
    np.testing.assert_allclose(ds[1][0], (make_ds(8).arrays[0][1] - 1.0) / 2.0)
