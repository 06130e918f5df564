"""ONNX's own conformance suite (onnx.backend.test) against autograd_cnn.onnx.backend:
the node tests of the CNN operator subset (float/double/int64/int32/bool cases, not the
``_expanded`` function bodies), the model tests shipped as files (pytorch-converted,
pytorch-operator, simple) whose ops are in the subset, including the two ``Gradient``
models, and the nine light real models."""

import os
import re
import tempfile
import warnings

import pytest

onnx = pytest.importorskip("onnx")
import onnx.backend.test  # noqa: E402,F811
from onnx.backend.test.loader import load_model_tests  # noqa: E402

import autograd_cnn.onnx.backend as backend  # noqa: E402

SUBSET = set("""Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool
MaxUnpool BatchNormalization InstanceNormalization LayerNormalization LRN Gemm MatMul Relu
LeakyRelu PRelu Elu Selu Sigmoid HardSigmoid Tanh Softplus Softmax LogSoftmax Add Sub Mul Div
Sum Mean Max Min Neg Abs Exp Log Sqrt Pow Reciprocal Clip Concat Reshape Flatten Transpose
Squeeze Unsqueeze Pad Resize DepthToSpace SpaceToDepth Dropout Identity Split Slice Gather
Einsum ReduceMean ReduceSum ReduceMax ReduceMin ReduceLogSumExp Constant ConstantOfShape
Shape Cast Expand Tile Where""".split())
_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.INT64,
          onnx.TensorProto.INT32, onnx.TensorProto.BOOL}
# dropout in training mode draws random masks: its expected outputs cannot be matched
EXEMPT = {"test_training_dropout", "test_training_dropout_default",
          "test_training_dropout_default_mask", "test_training_dropout_mask"}
LIGHT = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50",
         "shufflenet", "squeezenet", "vgg19", "zfnet512"]


def _types(graph):
    s = {v.type.tensor_type.elem_type for v in list(graph.input) + list(graph.output)}
    for n in graph.node:
        for a in n.attribute:
            if a.name == "to":
                s.add(a.i)
            if a.type == onnx.AttributeProto.TENSOR:
                s.add(a.t.data_type)
    return s | {i.data_type for i in graph.initializer}


def selected_node_tests():
    out = []
    with warnings.catch_warnings():  # ONNX's case generators warn about their own casts
        warnings.simplefilter("ignore")
        cases = load_model_tests(kind="node")
    for t in cases:
        if "_expanded" in t.name or t.name in EXEMPT:
            continue
        g = t.model.graph
        if {n.op_type for n in g.node} <= SUBSET and _types(g) <= _TYPES:
            out.append(t.name)
    return sorted(out)


def selected_file_tests():
    out = []
    for kind in ("pytorch-converted", "pytorch-operator", "simple"):
        for t in load_model_tests(kind=kind):
            m = onnx.load(os.path.join(t.model_dir, "model.onnx"))
            if {n.op_type for n in m.graph.node} <= SUBSET | {"Gradient"}:
                out.append(t.name)
    return sorted(out)


NODE_TESTS = selected_node_tests()
FILE_TESTS = selected_file_tests()
os.environ.setdefault("ONNX_HOME", os.path.join(tempfile.gettempdir(), "autograd_cnn_onnx_home"))

_bt = onnx.backend.test.BackendTest(backend, __name__)
SELECTED = {f"{n}_cpu" for n in NODE_TESTS + FILE_TESTS} | {f"test_{n}_cpu" for n in LIGHT}
for name in sorted(SELECTED):
    _bt.include(f"^{re.escape(name)}$")

for _name, _case in _bt.test_cases.items():
    # the runner generates every ONNX test and skips the excluded ones: drop those instead,
    # so the report counts only the selected tests
    for _attr in [a for a in vars(_case) if a.startswith("test_") and a not in SELECTED]:
        delattr(_case, _attr)
    if _name.startswith("OnnxBackendRealModelTest"):
        _case = pytest.mark.slow(_case)
    globals()[_name] = _case
del _name, _case, _attr
