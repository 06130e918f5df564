"""Reading ONNX files defensively: parse errors, truncated tensors, absurd shapes and
external-data paths that would leave the model's directory become
:class:`~autograd_cnn.errors.OnnxImportError`. Nothing in a file is ever executed: a
model is protobuf data, decoded and checked, then interpreted by the op handlers.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import OnnxImportError

#: largest element count accepted for one declared tensor (initializer or input dim product)
MAX_ELEMENTS = 2**31
#: largest single dimension accepted in a declared shape
MAX_DIM = 2**31


def read_model(f, before_checker=None):
    """``f`` (path, bytes, file object or ModelProto) as a checked ``ModelProto``.

    ``before_checker(model)`` runs after the structural checks and before
    ``onnx.checker`` (the importer names unsupported ops there first).

    Raises
    ------
    OnnxImportError
        For unreadable, truncated or garbled files, unsafe external-data locations and
        absurd declared shapes.
    """
    import onnx

    base_dir = None
    if isinstance(f, onnx.ModelProto):
        model = f
    else:
        if isinstance(f, (str, os.PathLike)):
            path = os.fspath(f)
            if not os.path.isfile(path):
                raise OnnxImportError(f"f: no ONNX file at {path!r}")
            base_dir = os.path.dirname(os.path.abspath(path))
            with open(path, "rb") as fh:
                data = fh.read()
        elif isinstance(f, (bytes, bytearray, memoryview)):
            data = bytes(f)
        elif hasattr(f, "read"):
            data = f.read()
            name = getattr(f, "name", None)
            if isinstance(name, str) and os.path.isfile(name):
                base_dir = os.path.dirname(os.path.abspath(name))
        else:
            raise OnnxImportError(
                f"f: expected a path, bytes, a file object or an onnx.ModelProto, got "
                f"{type(f).__name__}")
        if not data:
            raise OnnxImportError("f: the ONNX data is empty")
        model = onnx.ModelProto()
        try:
            model.ParseFromString(data)
        except Exception as e:  # google.protobuf DecodeError and friends
            raise OnnxImportError(f"f: not a valid ONNX model (truncated or garbled): {e}") \
                from None
    check_model(model, base_dir, before_checker)
    return model


def check_model(model, base_dir=None, before_checker=None):
    """Structural checks before anything is interpreted (see :func:`read_model`)."""
    import onnx

    if not model.HasField("graph") or not model.graph.node and not model.graph.output:
        raise OnnxImportError("model: no graph (the data is not an ONNX model, or is "
                              "truncated)")
    if not model.opset_import and model.ir_version >= 3:
        raise OnnxImportError("model: no opset_import (truncated or garbled file)")
    _check_graph(model.graph, base_dir)
    has_external = any(t.data_location == onnx.TensorProto.EXTERNAL
                       for t in _all_initializers(model.graph))
    if has_external:
        if base_dir is None:
            raise OnnxImportError(
                "model: tensors are stored in external data files, which need the model's "
                "path (load it from a file, not bytes)")
        from onnx.external_data_helper import load_external_data_for_model

        load_external_data_for_model(model, base_dir)
    if before_checker is not None:
        before_checker(model)
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise OnnxImportError(f"model: fails onnx.checker: {str(e).splitlines()[0]}") from None


def _all_initializers(graph):
    yield from graph.initializer
    for node in graph.node:
        for a in node.attribute:
            if a.HasField("g"):
                yield from _all_initializers(a.g)
            for g in a.graphs:
                yield from _all_initializers(g)


def _check_graph(graph, base_dir):
    from onnx import helper

    for t in _all_initializers(graph):
        dims = list(t.dims)
        if any(d < 0 or d > MAX_DIM for d in dims):
            raise OnnxImportError(f"initializer {t.name!r}: absurd shape {dims}")
        n = int(np.prod(dims, dtype=object)) if dims else 1
        if n > MAX_ELEMENTS:
            raise OnnxImportError(
                f"initializer {t.name!r}: declares {n} elements (shape {dims}), more than "
                f"the limit {MAX_ELEMENTS}")
        if t.data_location == t.EXTERNAL:
            _check_external(t, base_dir)
            continue
        try:
            itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
        except Exception:
            raise OnnxImportError(
                f"initializer {t.name!r}: unknown element type {t.data_type}") from None
        if t.raw_data:
            bits = {16: 4, 17: 4, 22: 4, 23: 4, 25: 2, 26: 2}.get(t.data_type)
            want = (n * bits + 7) // 8 if bits else n * itemsize
            if len(t.raw_data) != want:
                raise OnnxImportError(
                    f"initializer {t.name!r}: raw data has {len(t.raw_data)} bytes, its shape "
                    f"{dims} needs {want} (truncated or garbled)")
    for v in list(graph.input) + list(graph.output):
        if v.type.HasField("tensor_type"):
            for d in v.type.tensor_type.shape.dim:
                if d.HasField("dim_value") and not 0 <= d.dim_value <= MAX_DIM:
                    raise OnnxImportError(f"{v.name!r}: absurd declared dim {d.dim_value}")


def _check_external(t, base_dir):
    info = {e.key: e.value for e in t.external_data}
    loc = info.get("location", "")
    if not loc:
        raise OnnxImportError(f"initializer {t.name!r}: external data without a location")
    parts = loc.replace("\\", "/").split("/")
    if os.path.isabs(loc) or loc.startswith(("/", "\\")) or ".." in parts or (
            len(loc) > 1 and loc[1] == ":"):
        raise OnnxImportError(
            f"initializer {t.name!r}: external data location {loc!r} leaves the model's "
            "directory (absolute paths and '..' are refused)")
    if base_dir is None:
        return
    path = os.path.realpath(os.path.join(base_dir, loc))
    root = os.path.realpath(base_dir)
    if os.path.commonpath([path, root]) != root:
        raise OnnxImportError(
            f"initializer {t.name!r}: external data location {loc!r} resolves outside the "
            "model's directory")
    if not os.path.isfile(path):
        raise OnnxImportError(f"initializer {t.name!r}: external data file {loc!r} not found")
    size = os.path.getsize(path)
    offset = int(info.get("offset", 0) or 0)
    length = info.get("length")
    if offset < 0 or offset > size or (length is not None and offset + int(length) > size):
        raise OnnxImportError(
            f"initializer {t.name!r}: external data range (offset {offset}, length {length}) "
            f"exceeds the file {loc!r} ({size} bytes)")
