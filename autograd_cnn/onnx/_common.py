"""Shared pieces of the ONNX importer: attribute decoding, dtypes, the per-node context
handed to op handlers, and small tensor helpers that handlers compose.

Values flowing through an imported graph are :class:`~autograd_cnn.Tensor` objects.
Integer and boolean tensors carry no gradient, so handlers may compute them with NumPy;
float tensors always go through the library's differentiable ops.
"""

from __future__ import annotations

import numpy as np

from ..errors import OnnxImportError
from ..tensor import Tensor, as_tensor


def np_dtype(elem_type: int) -> np.dtype:
    """The NumPy dtype of an ONNX ``TensorProto`` element type."""
    from onnx import helper

    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(int(elem_type)))
    except (KeyError, TypeError, ValueError) as e:
        raise OnnxImportError(f"unsupported ONNX element type {elem_type}: {e}") from None


def attributes(node) -> dict:
    """A node's attributes as Python values (tensors as arrays, strings decoded)."""
    from onnx import AttributeProto, helper, numpy_helper

    out = {}
    for a in node.attribute:
        if a.type == AttributeProto.TENSOR:
            out[a.name] = numpy_helper.to_array(a.t)
        elif a.type == AttributeProto.GRAPH:
            out[a.name] = a.g
        else:
            v = helper.get_attribute_value(a)
            if isinstance(v, bytes):
                v = v.decode("utf-8")
            elif isinstance(v, list) and v and isinstance(v[0], bytes):
                v = [s.decode("utf-8") for s in v]
            out[a.name] = v
    return out


class NodeContext:
    """What a handler knows besides its inputs: opset, mode, the module, the node."""

    __slots__ = ("opset", "training", "module", "node", "n_outputs", "env", "static")

    def __init__(self, opset, training, module, node, n_outputs, env):
        self.opset, self.training, self.module = opset, training, module
        self.node, self.n_outputs, self.env = node, n_outputs, env

    def fail(self, msg: str):
        n = self.node
        raise OnnxImportError(
            f"node {n.name or '?'!r} ({n.op_type}, opset {self.opset}): {msg}")


def is_float(t) -> bool:
    return np.dtype(t.dtype).kind == "f"


def arr(t) -> np.ndarray:
    """The value of a tensor as an array (for shapes, axes, indices: never differentiated)."""
    if t is None:
        return None
    if isinstance(t, Tensor):
        return np.asarray(t.numpy())
    return np.asarray(t)


def ints(t) -> list:
    return [int(v) for v in arr(t).reshape(-1)]


def const(a, dtype=None) -> Tensor:
    """A constant (non-differentiable) tensor holding ``a``."""
    a = np.asarray(a, dtype=dtype)
    return Tensor._wrap(a if a.flags.c_contiguous else a.copy(order="C"), False)


def T(v) -> Tensor:
    return v if isinstance(v, Tensor) else as_tensor(v)


def same_float(a: Tensor, b: Tensor):
    """Cast a non-float operand to the float dtype of the other (ONNX types agree, but
    Python scalars and int exponents must not widen the result)."""
    if is_float(a) and not is_float(b):
        b = b.astype(a.dtype)
    elif is_float(b) and not is_float(a):
        a = a.astype(b.dtype)
    elif is_float(a) and is_float(b) and a.dtype != b.dtype:
        b = b.astype(a.dtype)
    return a, b


def norm_axis(axis: int, ndim: int) -> int:
    return axis + ndim if axis < 0 else axis
