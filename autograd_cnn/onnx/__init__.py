"""ONNX: export traced graphs, import ONNX models as differentiable modules, and an
ONNX backend for ONNX's conformance suite. Needs the optional ``onnx`` extra
(``pip install "autograd_cnn[onnx]"``); importing :mod:`autograd_cnn` does not import
``onnx``, and the names below load on first use.

- :func:`export` ``(model_or_fn, example_args, f, ...)``: a traced model to an ONNX file;
- :func:`load` ``(f) -> OnnxModule``: an ONNX model as an ``nn.Module``;
- :mod:`autograd_cnn.onnx.backend`: ``onnx.backend.base.Backend`` for ``BackendTest``.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "export": ("exporter", "export"),
    "to_model": ("exporter", "to_model"),
    "load": ("loader", "load"),
    "OnnxModule": ("loader", "OnnxModule"),
    "exportable": ("export_rules", "exportable"),
}

__all__ = ["export", "load", "OnnxModule", "to_model", "exportable"]


def __dir__():
    try:
        import onnx  # noqa: F401
    except ImportError:  # without the extra only the lazy module itself is visible
        return sorted(globals())
    return sorted(set(globals()) | set(_LAZY))


def __getattr__(name):
    if name in _LAZY:
        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{mod}", __name__), attr)
        globals()[name] = value
        return value
    if name in ("backend", "safety", "loader"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
