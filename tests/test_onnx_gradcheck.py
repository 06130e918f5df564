"""Every differentiable op of the ONNX subset passes gradcheck through its import
mapping (float64, central differences), via one-node models."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import autograd_cnn as ac  # noqa: E402
from autograd_cnn.testing import gradcheck  # noqa: E402

R = np.random.default_rng(0)
X4 = (2, 3, 5, 5)


def _w(*shape):
    return R.standard_normal(shape)


# op, input shapes (differentiable float inputs), attrs, extra constant inputs, opset
CASES = [
    ("Conv", [X4, (4, 3, 3, 3)], dict(pads=[1, 0, 2, 1], strides=[2, 1]), [], 18),
    ("Conv", [X4, (3, 1, 2, 2)], dict(group=3, dilations=[2, 2], auto_pad="SAME_UPPER"), [], 18),
    ("ConvTranspose", [X4, (3, 2, 3, 3)], dict(strides=[2, 2], pads=[1, 0, 0, 1],
                                              output_padding=[1, 0]), [], 18),
    ("MaxPool", [X4], dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                           ceil_mode=1), [], 18),
    ("MaxPool", [X4], dict(kernel_shape=[2, 2], pads=[0, 1, 1, 0], dilations=[2, 1]), [], 18),
    ("AveragePool", [X4], dict(kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 0, 1],
                               count_include_pad=0, dilations=[1, 2]), [], 19),
    ("AveragePool", [X4], dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                               ceil_mode=1), [], 18),
    ("LpPool", [X4], dict(kernel_shape=[2, 2], p=3), [], 18),
    ("GlobalAveragePool", [X4], {}, [], 18),
    ("GlobalMaxPool", [X4], {}, [], 18),
    ("BatchNormalization", [X4, (3,), (3,)], dict(epsilon=1e-3), ["mean", "var"], 15),
    ("InstanceNormalization", [X4, (3,), (3,)], {}, [], 18),
    ("LayerNormalization", [X4, (5,), (5,)], dict(axis=-1), [], 18),
    ("LRN", [X4], dict(size=4, alpha=0.1, beta=0.75, bias=2.0), [], 18),
    ("Gemm", [(3, 4), (5, 4), (5,)], dict(transB=1, alpha=0.5, beta=2.0), [], 18),
    ("MatMul", [(2, 3, 4), (4, 2)], {}, [], 18),
    ("Relu", [(3, 4)], {}, [], 18), ("LeakyRelu", [(3, 4)], dict(alpha=0.2), [], 18),
    ("PRelu", [X4, (3, 1, 1)], {}, [], 18), ("Elu", [(3, 4)], {}, [], 18),
    ("Selu", [(3, 4)], {}, [], 18), ("Sigmoid", [(3, 4)], {}, [], 18),
    ("HardSigmoid", [(3, 4)], {}, [], 18), ("Tanh", [(3, 4)], {}, [], 18),
    ("Softplus", [(3, 4)], {}, [], 18), ("Softmax", [(3, 4)], dict(axis=0), [], 18),
    ("LogSoftmax", [(3, 4)], {}, [], 18), ("Softmax", [(2, 3, 4)], dict(axis=1), [], 11),
    ("Add", [(3, 4), (4,)], {}, [], 18), ("Sub", [(3, 1), (4,)], {}, [], 18),
    ("Mul", [(3, 4), (3, 4)], {}, [], 18), ("Div", [(3, 4), (1, 4)], {}, [], 18),
    ("Sum", [(3, 4), (4,), (3, 1)], {}, [], 18), ("Mean", [(3, 4), (4,)], {}, [], 18),
    ("Max", [(3, 4), (3, 4)], {}, [], 18), ("Min", [(3, 4), (4,)], {}, [], 18),
    ("Neg", [(3, 4)], {}, [], 18), ("Abs", [(3, 4)], {}, [], 18),
    ("Exp", [(3, 4)], {}, [], 18), ("Log", [(3, 4)], {}, [], 18),
    ("Sqrt", [(3, 4)], {}, [], 18), ("Pow", [(3, 4), (3, 4)], {}, [], 18),
    ("Reciprocal", [(3, 4)], {}, [], 18), ("Clip", [(3, 4)], {}, ["cmin", "cmax"], 13),
    ("Concat", [(2, 3), (2, 2)], dict(axis=1), [], 18),
    ("Reshape", [(2, 6)], {}, ["shape"], 18), ("Flatten", [X4], dict(axis=2), [], 18),
    ("Transpose", [X4], dict(perm=[0, 2, 3, 1]), [], 18),
    ("Squeeze", [(2, 1, 3)], {}, ["ax1"], 18), ("Unsqueeze", [(2, 3)], {}, ["ax1"], 18),
    ("Pad", [X4], dict(mode="reflect"), ["pads"], 18),
    ("Pad", [X4], dict(mode="edge"), ["pads"], 18),
    ("Pad", [X4], dict(mode="constant"), ["pads_neg"], 18),
    ("Resize", [X4], dict(mode="linear"), ["", "scales"], 18),
    ("Resize", [X4], dict(mode="cubic", coordinate_transformation_mode="align_corners"),
     ["", "", "sizes"], 18),
    ("Resize", [X4], dict(mode="nearest"), ["", "scales"], 18),
    ("DepthToSpace", [(1, 8, 2, 3)], dict(blocksize=2, mode="CRD"), [], 18),
    ("SpaceToDepth", [(1, 2, 4, 6)], dict(blocksize=2), [], 18),
    ("Dropout", [(3, 4)], {}, [], 18), ("Identity", [(3, 4)], {}, [], 18),
    ("Split", [(3, 6)], dict(axis=1, num_outputs=2), [], 18),
    ("Slice", [(4, 6)], {}, ["starts", "ends", "sl_axes", "steps"], 18),
    ("Gather", [(4, 3)], dict(axis=0), ["gidx"], 18),
    ("Einsum", [(2, 3, 3), (3, 4)], dict(equation="bii,ij->bj"), [], 18),
    ("ReduceMean", [X4], dict(keepdims=0), ["rax"], 18),
    ("ReduceSum", [X4], {}, ["rax"], 18), ("ReduceMax", [X4], {}, ["rax"], 18),
    ("ReduceMin", [X4], {}, ["rax"], 18), ("ReduceLogSumExp", [X4], {}, ["rax"], 18),
    ("Cast", [(3, 4)], dict(to=TensorProto.FLOAT), [], 18),
    ("Expand", [(3, 1)], {}, ["eshape"], 18), ("Tile", [(2, 3)], {}, ["reps"], 18),
    ("Where", [(3, 4), (3, 4)], {}, [], 18),
    ("MaxUnpool", [(1, 1, 2, 2)], dict(kernel_shape=[2, 2], strides=[2, 2]), ["uidx"], 18),
]

CONSTS = {
    "mean": np.array([0.1, -0.2, 0.3]), "var": np.array([1.0, 0.5, 2.0]),
    "cmin": np.array(-0.5), "cmax": np.array(0.7), "shape": np.array([3, -1]),
    "ax1": np.array([1]), "pads": np.array([0, 0, 1, 2, 0, 0, 2, 1]),
    "pads_neg": np.array([0, 0, -1, 2, 0, 0, 1, -2]), "scales": np.array([1, 1, 1.6, 0.8]),
    "sizes": np.array([2, 3, 7, 4]), "starts": np.array([3, 0]), "ends": np.array([0, 5]),
    "sl_axes": np.array([0, 1]), "steps": np.array([-1, 2]), "gidx": np.array([[3, 0], [1, 1]]),
    "rax": np.array([1, 3]), "eshape": np.array([2, 3, 4]), "reps": np.array([2, 1]),
    "uidx": np.array([[[[0, 3], [9, 14]]]]),
}


def _model(op, shapes, attrs, consts, opset):
    float_t = TensorProto.DOUBLE
    names = [f"x{i}" for i in range(len(shapes))]
    inputs = [helper.make_tensor_value_info(n, float_t, s) for n, s in zip(names, shapes)]
    inits, node_in = [], list(names)
    if op == "Where":
        inits.append(numpy_helper.from_array(R.random((3, 4)) > 0.5, "cond"))
        node_in = ["cond"] + node_in
    for c in consts:
        if not c:
            node_in.append("")
            continue
        a = CONSTS[c]
        a = a.astype(np.float64 if c in ("mean", "var", "cmin", "cmax") else
                     np.float32 if c == "scales" else np.int64)
        inits.append(numpy_helper.from_array(a, c))
        node_in.append(c)
    n_out = attrs.get("num_outputs", 1)
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, node_in, outs, **attrs)
    g = helper.make_graph([node], "g", inputs,
                          [helper.make_empty_tensor_value_info(o) for o in outs],
                          initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1][0]))}")
def test_imported_op_gradcheck(case):
    op, shapes, attrs, consts, opset = case
    model = ac.onnx.OnnxModule(_model(op, shapes, attrs, consts, opset))
    xs = []
    for i, s in enumerate(shapes):
        a = R.standard_normal(s)
        if op in ("Log", "Sqrt", "Pow", "Reciprocal") or (op == "BatchNormalization" and i):
            a = np.abs(a) + 0.5
        if op in ("Max", "Min", "MaxPool", "GlobalMaxPool", "ReduceMax", "ReduceMin"):
            a = R.permutation(np.arange(a.size)).reshape(s) / a.size * 4 - 2.0  # no ties
        xs.append(ac.tensor(a, requires_grad=True))

    def fn(*ts):
        out = model(*ts)
        return out if not isinstance(out, tuple) else sum((o * (k + 1)).sum()
                                                          for k, o in enumerate(out))

    # a cast to float32 rounds the function itself: central differences see that rounding
    tol = dict(atol=1e-3, rtol=1e-2, eps=1e-3) if op == "Cast" else dict(atol=1e-5, rtol=1e-3)
    assert gradcheck(fn, xs, **tol)
