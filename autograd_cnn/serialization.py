"""Checkpoints: ``ac.save(obj, path)`` / ``ac.load(path)`` as ``.npz``, never pickle.

``obj`` is a state dict (``model.state_dict()``, ``optimizer.state_dict()``) or any nesting
of dicts (string or int keys), lists and tuples whose leaves are Tensors, ndarrays,
numbers, strings, booleans or None. Arrays go into the archive as ``.npy`` members; the
structure goes into a JSON manifest member. Loading uses ``numpy.load(...,
allow_pickle=False)``, so a file can never run code; anything malformed - not a zip,
truncated, missing manifest, object arrays, references to absent members, members too
large to be honest - raises :class:`~autograd_cnn.errors.CheckpointError` naming the file
and what is wrong.

>>> import autograd_cnn as ac, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
>>> ac.save({"w": ac.tensor([1.0, 2.0])}, path)
>>> ac.load(path)["w"].numpy()
array([1., 2.], dtype=float32)
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections import OrderedDict

import numpy as np

from .errors import (
    ArgumentTypeError,
    AutogradCNNError,
    CheckpointError,
    DataFileNotFoundError,
    InvalidArgumentError,
)
from .tensor import Tensor

FORMAT = "autograd_cnn.checkpoint"
VERSION = 1
_MANIFEST = "__manifest__"
#: refuse archives whose members would expand beyond this (zip bombs)
MAX_BYTES = 16 * 2**30
#: deepest nesting of dicts/lists/tuples that :func:`save` writes and :func:`load` reads
MAX_DEPTH = 100


def _encode(obj, arrays: dict, where: str, depth: int = 0):
    if depth > MAX_DEPTH:
        shown = where if len(where) <= 60 else where[:57] + "..."
        raise InvalidArgumentError(
            f"save(): {shown}: nesting deeper than {MAX_DEPTH} levels (load() would refuse "
            "the file; is the object self-referencing?)"
        )
    if isinstance(obj, Tensor):
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(obj.data, order="C")
        return {"t": "tensor", "key": key, "requires_grad": bool(obj.requires_grad)}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise ArgumentTypeError(f"save(): {where}: only numeric arrays, got dtype {obj.dtype}")
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(obj, order="C")
        return {"t": "ndarray", "key": key}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (str, int, np.integer)):
                raise ArgumentTypeError(
                    f"save(): {where}: dict keys must be str or int, got {type(k).__name__}"
                )
            kk = ["i", int(k)] if isinstance(k, (int, np.integer)) else ["s", k]
            items.append([kk, _encode(v, arrays, f"{where}[{k!r}]", depth + 1)])
        return {"t": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        return {"t": type(obj).__name__,
                "items": [_encode(v, arrays, f"{where}[{i}]", depth + 1)
                          for i, v in enumerate(obj)]}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"t": "value", "v": obj}
    raise ArgumentTypeError(
        f"save(): {where}: cannot save a {type(obj).__name__}; only tensors, arrays, "
        "numbers, strings, None and dicts/lists/tuples of them (no pickling)"
    )


def save(obj, path) -> None:
    """Write ``obj`` (a state dict or nesting of them) to ``path`` as an ``.npz``.

    Parameters
    ----------
    obj : dict, list, tuple, Tensor or ndarray
    path : str or os.PathLike
        Written as given (NumPy's habit of appending ``.npz`` is avoided).
    """
    arrays: dict = {}
    root = _encode(obj, arrays, "obj")
    write_archive(path, {"format": FORMAT, "version": VERSION, "root": root}, arrays)


def _bad(path, what) -> CheckpointError:
    return CheckpointError(f"load(): {os.fspath(path)!r} is not a valid checkpoint: {what}")


def _decode(node, data, path, depth=0):
    if depth > MAX_DEPTH:
        raise _bad(path, f"manifest nesting deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or "t" not in node:
        raise _bad(path, f"malformed manifest entry {str(node)[:80]!r}")
    t = node["t"]
    if t in ("tensor", "ndarray"):
        key = node.get("key")
        if not isinstance(key, str) or key not in data:
            raise _bad(path, f"manifest refers to missing array member {key!r}")
        arr = data[key]
        if t == "ndarray":
            return arr
        out = Tensor(arr)
        if node.get("requires_grad") and arr.dtype.kind == "f":
            out.requires_grad = True
        return out
    if t in ("dict", "list", "tuple"):
        items = node.get("items")
        if not isinstance(items, list):
            raise _bad(path, f"{t} entry whose items are a {type(items).__name__}, not a list")
    if t == "dict":
        out = OrderedDict()
        for item in items:
            try:
                (kind, k), v = item
            except (TypeError, ValueError):
                raise _bad(path, "malformed dict entry in manifest") from None
            if kind == "i" and isinstance(k, int) and not isinstance(k, bool):
                out[k] = _decode(v, data, path, depth + 1)
            elif kind == "s" and isinstance(k, str):
                out[k] = _decode(v, data, path, depth + 1)
            else:
                raise _bad(path, f"malformed dict key {[kind, k]!r}"[:120])
        return out
    if t in ("list", "tuple"):
        items = [_decode(v, data, path, depth + 1) for v in items]
        return items if t == "list" else tuple(items)
    if t == "value":
        v = node.get("v")
        if v is not None and not isinstance(v, (bool, int, float, str)):
            raise _bad(path, f"manifest value of type {type(v).__name__}")
        return v
    raise _bad(path, f"unknown manifest entry type {t!r}")


def _check_map_location(map_location):
    from .device import check_device

    if map_location is None or callable(map_location):
        return
    if isinstance(map_location, dict):
        for v in map_location.values():
            check_device(v, "map_location")
        return
    check_device(map_location, "map_location")


def load(path, map_location=None, weights_only=None, **kwargs):
    """Read a checkpoint written by :func:`save`; returns the same nesting with Tensors
    (dicts come back as ``OrderedDict``).

    ``map_location`` (PyTorch's) may be ``None``, ``"cpu"``, ``device("cpu")``, a dict
    or a callable: everything loads onto the CPU; naming another device (``"cuda"``)
    raises :class:`~autograd_cnn.errors.DeviceUnavailableError`. ``weights_only`` is
    accepted: checkpoints never contain pickled code here, so loading is always
    weights-only.

    Raises
    ------
    DataFileNotFoundError
        ``path`` does not exist.
    CheckpointError
        The file is not a well-formed checkpoint (corrupt, truncated, hostile, not ours).
    """
    _check_map_location(map_location)
    if kwargs:
        raise ArgumentTypeError(f"load(): unexpected keyword arguments {sorted(kwargs)}")
    p = os.fspath(path)
    if not os.path.exists(p):
        raise DataFileNotFoundError(f"load(): no checkpoint file at {p!r}")
    manifest, data = read_archive(p, FORMAT, VERSION, _bad, "autograd_cnn.save")
    try:
        return _decode(manifest.get("root"), data, p)
    except CheckpointError:
        raise
    except (TypeError, AttributeError, IndexError, KeyError, ValueError) as e:
        raise _bad(p, f"{type(e).__name__}: {e}") from None


def read_archive(p: str, fmt: str, version: int, bad, writer: str):
    """Safely read an ``.npz`` archive with a JSON manifest member: every member's header
    is checked before anything is decompressed, pickles are refused, sizes are bounded.
    Returns ``(manifest dict, {member: ndarray})``; problems raise ``bad(p, what)``."""
    if not zipfile.is_zipfile(p):
        raise bad(p, "not an .npz (zip) archive")
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_BYTES:
                raise bad(p, f"members would expand to {total} bytes (> {MAX_BYTES})")
            # read every member's .npy header before anything is decompressed or
            # materialized: a header may declare a shape far larger than its data
            for info in infos:
                _check_member(zf, info, p, bad)
            broken = zf.testzip()
        if broken is not None:
            raise bad(p, f"member {broken!r} is corrupt (CRC mismatch)")
        with np.load(p, allow_pickle=False) as npz:
            names = set(npz.files)
            if _MANIFEST not in names:
                raise bad(p, f"no manifest member (not written by {writer})")
            raw = npz[_MANIFEST]
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise bad(p, "manifest member has the wrong type")
            try:
                manifest = json.loads(raw.tobytes().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise bad(p, f"manifest is not valid JSON ({e})") from None
            except RecursionError:
                raise bad(p, "manifest nesting too deep to parse") from None
            if not isinstance(manifest, dict) or manifest.get("format") != fmt:
                raise bad(p, f"manifest does not identify a file of format {fmt!r}")
            if manifest.get("version") != version:
                raise bad(p, f"unsupported version {manifest.get('version')!r}")
            data = {}
            for name in names - {_MANIFEST}:
                arr = npz[name]
                if arr.dtype.kind not in "biuf":
                    raise bad(p, f"member {name!r} has non-numeric dtype {arr.dtype}")
                data[name] = arr
            return manifest, data
    except AutogradCNNError:
        raise
    except ValueError as e:
        # numpy raises ValueError for object arrays (pickles) and malformed headers
        raise bad(p, f"{e}") from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, RuntimeError) as e:
        raise bad(p, f"{type(e).__name__}: {e}") from None
    except (TypeError, AttributeError, IndexError) as e:
        # last resort: whatever else a hostile archive trips is still "not ours"
        raise bad(p, f"{type(e).__name__}: {e}") from None


def write_archive(path, manifest: dict, arrays: dict) -> None:
    """Write ``arrays`` and the JSON ``manifest`` as one uncompressed ``.npz``."""
    blob = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    with open(os.fspath(path), "wb") as f:
        np.savez(f, **{_MANIFEST: blob}, **arrays)


def _check_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, p, bad) -> None:
    """Refuse a member that is not a plain numeric ``.npy`` whose header-declared size
    fits both the member's stored (uncompressed) size and :data:`MAX_BYTES`. Reads only
    the header."""
    name = info.filename
    if info.is_dir():
        raise bad(p, f"unexpected directory member {name!r}")
    try:
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise bad(p, f"member {name!r}: unsupported .npy version {version}")
            header_len = f.tell()
    except CheckpointError:
        raise
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError, EOFError,
            OSError, zipfile.BadZipFile, RuntimeError) as e:
        raise bad(p, f"member {name!r} is not a valid .npy array ({type(e).__name__}: "
                      f"{str(e)[:120]})") from None
    if dtype.hasobject:
        raise bad(p, f"member {name!r} holds Python objects (a pickle; load() never "
                      "passes allow_pickle=True)")
    if dtype.kind not in "biuf":
        raise bad(p, f"member {name!r} has non-numeric dtype {dtype}")
    if not isinstance(shape, tuple) or any(
        isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in shape
    ):
        raise bad(p, f"member {name!r} declares an invalid shape {shape!r}"[:200])
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > MAX_BYTES:
        raise bad(p, f"member {name!r} declares shape {shape} of {dtype} "
                      f"({nbytes} bytes > {MAX_BYTES})")
    stored = info.file_size - header_len
    if nbytes != stored:
        raise bad(p, f"member {name!r} declares shape {shape} of {dtype} ({nbytes} bytes) "
                      f"but holds {max(stored, 0)} bytes of data")
