"""ac.save / ac.load on hostile and malformed archives: always a CheckpointError."""

import io
import json
import zipfile

import numpy as np
import pytest

import autograd_cnn as ac
from autograd_cnn.errors import CheckpointError, InvalidArgumentError
from autograd_cnn.serialization import FORMAT, MAX_DEPTH


def _npy(arr=None, *, header=None, data=b""):
    b = io.BytesIO()
    if header is None:
        np.lib.format.write_array(b, arr)
    else:
        np.lib.format.write_array_header_1_0(b, header)
        b.write(data)
    return b.getvalue()


def _manifest(root):
    text = json.dumps({"format": FORMAT, "version": 1, "root": root}).encode()
    return _npy(np.frombuffer(text, np.uint8))


def _archive(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, payload in members.items():
            z.writestr(name, payload)
    return path


@pytest.mark.parametrize("shape", [(2**40,), (2**20, 2**20, 2**20), (65536,) * 4])
def test_load_refuses_a_header_declaring_a_huge_shape_without_data(tmp_path, shape):
    path = _archive(tmp_path / "huge.npz", {
        "__manifest__.npy": _manifest({"t": "tensor", "key": "a0"}),
        "a0.npy": _npy(header={"descr": "<f8", "fortran_order": False, "shape": shape}),
    })
    with pytest.raises(CheckpointError, match="declares shape"):
        ac.load(path)


def test_load_refuses_a_header_larger_than_its_data(tmp_path):
    path = _archive(tmp_path / "short.npz", {
        "__manifest__.npy": _manifest({"t": "tensor", "key": "a0"}),
        "a0.npy": _npy(header={"descr": "<f4", "fortran_order": False, "shape": (1000,)},
                       data=b"\0" * 16),
    })
    with pytest.raises(CheckpointError, match="holds 16 bytes"):
        ac.load(path)


@pytest.mark.parametrize("shape", [(-1,), (3, -4)])
def test_load_refuses_negative_shapes(tmp_path, shape):
    path = _archive(tmp_path / "neg.npz", {
        "__manifest__.npy": _manifest({"t": "tensor", "key": "a0"}),
        "a0.npy": _npy(header={"descr": "<f8", "fortran_order": False, "shape": shape}),
    })
    with pytest.raises(CheckpointError):
        ac.load(path)


def test_load_refuses_members_that_are_not_npy(tmp_path):
    path = _archive(tmp_path / "raw.npz", {"__manifest__": b'{"format": 1}'})
    with pytest.raises(CheckpointError, match="not a valid .npy"):
        ac.load(path)


@pytest.mark.parametrize("root", [
    {"t": "list", "items": 5},
    {"t": "tuple", "items": "abc"},
    {"t": "dict", "items": None},
    {"t": "dict", "items": {"a": 1}},
    {"t": "dict", "items": [[["i", "x"], {"t": "value", "v": 1}]]},
    {"t": "dict", "items": [[["s", ["x"]], {"t": "value", "v": 1}]]},
    {"t": "dict", "items": [[["i", [1]], {"t": "value", "v": 1}]]},
    {"t": "dict", "items": [[["q", 1], {"t": "value", "v": 1}]]},
    {"t": "dict", "items": [5]},
    {"t": "value", "v": [1]},
    {"t": "tensor", "key": ["a"]},
    {"t": ["list"]},
    {"items": []},
    None,
    [1, 2],
])
def test_load_refuses_manifest_nodes_of_the_wrong_type(tmp_path, root):
    path = _archive(tmp_path / "m.npz", {"__manifest__.npy": _manifest(root)})
    with pytest.raises(CheckpointError):
        ac.load(path)


def test_load_refuses_a_manifest_too_deep_for_json(tmp_path):
    text = b'{"format": "%s", "version": 1, "root": ' % FORMAT.encode() + b"[" * 100_000
    path = _archive(tmp_path / "deepjson.npz",
                    {"__manifest__.npy": _npy(np.frombuffer(text, np.uint8))})
    with pytest.raises(CheckpointError):
        ac.load(path)


def _nest(depth):
    root = []
    cur = root
    for _ in range(depth):
        cur.append([])
        cur = cur[0]
    return root


def test_save_round_trips_the_deepest_nesting_load_accepts(tmp_path):
    path = tmp_path / "deep.npz"
    ac.save(_nest(MAX_DEPTH), path)
    out = ac.load(path)
    for _ in range(MAX_DEPTH):
        assert isinstance(out, list) and len(out) == 1
        out = out[0]
    assert out == []


def test_save_refuses_nesting_that_load_would_refuse(tmp_path):
    path = tmp_path / "deeper.npz"
    with pytest.raises(InvalidArgumentError, match="nesting deeper than"):
        ac.save(_nest(MAX_DEPTH + 1), path)
    assert not path.exists()
    cyc = []
    cyc.append(cyc)
    with pytest.raises(InvalidArgumentError, match="nesting deeper than"):
        ac.save({"a": cyc}, path)
    deep = {}
    cur = deep
    for _ in range(MAX_DEPTH + 5):
        cur["k"] = {}
        cur = cur["k"]
    with pytest.raises(InvalidArgumentError):
        ac.save(deep, path)


def test_load_still_reads_fortran_order_and_mixed_dtypes(tmp_path):
    path = tmp_path / "ok.npz"
    f = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4))
    obj = {"f": f, "i": np.arange(5, dtype=np.int16), "b": np.array([True, False]),
           "e": np.zeros((0, 7), np.float32), "s": np.float64(2.5)}
    ac.save(obj, path)
    out = ac.load(path)
    np.testing.assert_array_equal(out["f"], f)
    assert out["i"].dtype == np.int16 and out["b"].dtype == np.bool_
    assert out["e"].shape == (0, 7) and out["s"] == 2.5
