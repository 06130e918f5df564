"""ac.onnx.load: graphs from torch.onnx.export give PyTorch's output and input gradient;
parameters, train/eval, tracing, per-node agreement with onnxruntime, safety checks."""

import io

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import autograd_cnn as ac  # noqa: E402
from autograd_cnn.errors import OnnxImportError  # noqa: E402


def _torch_layers():
    nn = pytest.importorskip("torch").nn
    return {
        "conv_bn_relu6": lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4),
                                               nn.ReLU6(), nn.MaxPool2d(2, ceil_mode=True)),
        "lrn": lambda: nn.Sequential(nn.Conv2d(3, 6, 3), nn.LocalResponseNorm(3), nn.Tanh()),
        "upsample": lambda: nn.Sequential(nn.Conv2d(3, 2, 1), nn.Upsample(scale_factor=2),
                                          nn.Upsample(scale_factor=1.5, mode="bilinear")),
        "adaptive": lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d((5, 2)),
                                          nn.Flatten(), nn.Linear(40, 5), nn.LogSoftmax(1)),
        "adaptive_max": lambda: nn.Sequential(nn.AdaptiveMaxPool2d(4), nn.Flatten()),
        "convt_dropout": lambda: nn.Sequential(
            nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
            nn.Dropout(0.3), nn.LeakyReLU(0.2), nn.AvgPool2d(3, 2, padding=1),
            nn.Sigmoid()),
        "misc": lambda: nn.Sequential(nn.Conv2d(3, 4, 3, dilation=2), nn.ELU(),
                                      nn.InstanceNorm2d(4), nn.PReLU(), nn.Softplus(),
                                      nn.Hardsigmoid(), nn.Softmax(dim=1)),
        "pool2d": lambda: nn.Sequential(nn.MaxPool2d(3, 2, padding=1, dilation=2, ceil_mode=True),
                                        nn.Conv2d(3, 4, 1), nn.LayerNorm([4, 6, 6]),
                                        nn.Upsample(size=(7, 8), mode="bilinear",
                                                    align_corners=True), nn.Identity(),
                                        nn.Flatten(), nn.Unflatten(1, (4, 56))),
        "one_d": lambda: nn.Sequential(nn.Conv1d(3, 4, 3, stride=2, padding=2), nn.BatchNorm1d(4),
                                       nn.MaxPool1d(2), nn.ConvTranspose1d(4, 2, 3, stride=2),
                                       nn.AvgPool1d(3, padding=1, count_include_pad=False),
                                       nn.Upsample(scale_factor=3, mode="linear")),
        "three_d": lambda: nn.Sequential(nn.Conv3d(3, 4, 3, padding=1), nn.BatchNorm3d(4),
                                         nn.ReLU(), nn.MaxPool3d(2),
                                         nn.ConvTranspose3d(4, 2, 2, stride=2),
                                         nn.AvgPool3d(2, stride=1), nn.Tanh()),
    }


_SHAPES = {"one_d": (3, 16), "three_d": (3, 6, 6, 6)}


@pytest.mark.torch
@pytest.mark.parametrize("name", ["conv_bn_relu6", "lrn", "upsample", "adaptive",
                                  "adaptive_max", "convt_dropout", "misc", "pool2d", "one_d",
                                  "three_d"])
def test_torch_export_imports_with_output_and_input_gradient(name):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = _torch_layers()[name]().eval()
    shape = _SHAPES.get(name, (3, 12, 12))
    x = torch.randn(2, *shape)
    buf = io.BytesIO()
    torch.onnx.export(net, (x,), buf, opset_version=17, dynamo=False,
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                      do_constant_folding=True)
    model = ac.onnx.load(buf.getvalue())
    for batch in (2, 3):
        xt = torch.randn(batch, *shape, requires_grad=True)
        yt = net(xt)
        w = torch.randn(yt.shape)
        (yt * w).sum().backward()
        xa = ac.tensor(xt.detach().numpy(), requires_grad=True)
        ya = model(xa)
        np.testing.assert_allclose(ya.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        (ya * ac.tensor(w.numpy())).sum().backward()
        np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.torch
@pytest.mark.parametrize("loss", ["ce", "ce_weighted", "nll", "mse"])
def test_torch_losses_import(loss):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(6, 4)
            self.loss = {"ce": nn.CrossEntropyLoss(),
                         "ce_weighted": nn.CrossEntropyLoss(torch.tensor([1.0, 2.0, 0.5, 1.0]),
                                                            ignore_index=2, reduction="sum"),
                         "nll": nn.NLLLoss(), "mse": None}[loss]

        def forward(self, x, t):
            y = self.fc(x)
            if loss == "mse":
                return nn.functional.mse_loss(y, nn.functional.one_hot(t, 4).float())
            if loss == "nll":
                return self.loss(torch.log_softmax(y, 1), t)
            return self.loss(y, t)

    net = Net()
    x, t = torch.randn(5, 6), torch.tensor([0, 3, 2, 1, 2])
    buf = io.BytesIO()
    torch.onnx.export(net, (x, t), buf, opset_version=17, dynamo=False,
                      input_names=["x", "t"], dynamic_axes={"x": {0: "N"}, "t": {0: "N"}})
    model = ac.onnx.load(buf.getvalue())
    want = net(x, t)
    want.backward()
    got = model(ac.tensor(x.numpy()), ac.tensor(t.numpy()))
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    got.backward()
    grads = dict(model.named_parameters())
    np.testing.assert_allclose(grads["fc.weight"].grad.numpy(), net.fc.weight.grad.numpy(),
                               rtol=1e-5, atol=1e-6)


def _lenet_proto():
    return ac.onnx.to_model(ac.models.LeNet5().eval(), ac.randn(2, 1, 32, 32, seed=0))


def test_parameters_named_after_initializers_and_trainable():
    mp = _lenet_proto()
    model = ac.onnx.load(mp)
    names = dict(model.named_parameters())
    assert set(names) == {i.name for i in mp.graph.initializer if i.name in names}
    assert "features.0.weight" in names and "classifier.4.bias" in names
    x = ac.randn(2, 1, 32, 32, requires_grad=True)
    model(x).sum().backward()
    assert x.grad is not None and names["features.0.weight"].grad is not None


def test_trace_of_imported_model_replays_at_another_batch():
    model = ac.onnx.load(_lenet_proto())
    g = ac.trace(model, ac.ShapeSpec((None, 1, 32, 32)))
    x = ac.randn(5, 1, 32, 32, seed=3)
    with ac.no_grad():
        np.testing.assert_allclose(g(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
    # and it re-exports
    assert ac.onnx.to_model(None, None, graph=g).graph.node


def _bn_dropout_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 3])
    inits = [numpy_helper.from_array(np.array(v, np.float32), n) for n, v in
             (("s", [1.0, 2.0]), ("b", [0.0, 1.0]), ("m", [0.5, -0.5]), ("v", [1.0, 4.0]))]
    nodes = [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["h"],
                              momentum=0.9),
             helper.make_node("Dropout", ["h", "r"], ["y"])]
    inits.append(numpy_helper.from_array(np.array(0.5, np.float32), "r"))
    g = helper.make_graph(nodes, "g", [x], [y], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)])


def test_dropout_and_batchnorm_follow_train_and_eval():
    model = ac.onnx.load(_bn_dropout_model())
    x = ac.randn(8, 2, 3, seed=0)
    with ac.no_grad():
        y_eval = model(x).numpy()
    ref = (x.numpy() - np.array([0.5, -0.5])[:, None]) / np.sqrt(
        np.array([1.0, 4.0])[:, None] + 1e-5) * np.array([1, 2.0])[:, None] + np.array(
        [0, 1.0])[:, None]
    np.testing.assert_allclose(y_eval, ref, rtol=1e-5, atol=1e-6)
    model.train()
    with ac.no_grad():
        y_train = model(x).numpy()
    assert (y_train == 0).mean() > 0.2  # dropout drops
    mean_buf = dict(model.named_buffers())["m"].numpy()
    batch_mean = x.numpy().mean(axis=(0, 2))
    np.testing.assert_allclose(mean_buf, 0.9 * np.array([0.5, -0.5]) + 0.1 * batch_mean,
                               rtol=1e-5)


def test_unknown_op_names_op_domain_and_opset():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    g = helper.make_graph([helper.make_node("Hardmax", ["x"], ["y"])], "g", [x],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(OnnxImportError, match=r"'Hardmax'.*ai\.onnx.*opset 13"):
        ac.onnx.load(m)


def test_made_up_op_is_named_before_the_checker_runs():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    g = helper.make_graph([helper.make_node("FrobnicateV2", ["x"], ["y"], domain="com.acme")],
                          "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid("com.acme", 3)])
    with pytest.raises(OnnxImportError, match=r"'FrobnicateV2'.*'com\.acme'.*opset 3"):
        ac.onnx.load(m.SerializeToString())


def test_external_data_inside_model_dir_loads(tmp_path):
    mp = _lenet_proto()
    path = tmp_path / "lenet.onnx"
    copy = onnx.ModelProto()
    copy.CopyFrom(mp)  # save_model moves the tensors of the proto it saves
    onnx.save_model(copy, str(path), save_as_external_data=True, location="weights.bin",
                    size_threshold=0)
    assert (tmp_path / "weights.bin").exists()
    model = ac.onnx.load(str(path))
    x = ac.randn(2, 1, 32, 32, seed=0)
    with ac.no_grad():
        np.testing.assert_allclose(model(x).numpy(), ac.onnx.load(mp)(x).numpy())
    with pytest.raises(OnnxImportError, match="external data"):
        ac.onnx.load(path.read_bytes())  # bytes: no directory to read weights.bin from


# ---- safety ----------------------------------------------------------------------------

def test_truncated_and_garbled_files_raise_named_errors(tmp_path):
    data = _lenet_proto().SerializeToString()
    for bad in (data[: len(data) // 2], data[:-7], b"\x08\x07garbage" * 10, b""):
        with pytest.raises(OnnxImportError):
            ac.onnx.load(bad)
    p = tmp_path / "t.onnx"
    p.write_bytes(data[:1000])
    with pytest.raises(OnnxImportError):
        ac.onnx.load(str(p))


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd", "a/../../x.bin"])
def test_external_data_leaving_model_dir_is_refused(tmp_path, location):
    mp = _lenet_proto()
    t = mp.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value=location)
    path = tmp_path / "m.onnx"
    path.write_bytes(mp.SerializeToString())
    with pytest.raises(OnnxImportError, match="leaves the model's directory"):
        ac.onnx.load(str(path))


def test_absurd_declared_shapes_are_refused():
    mp = _lenet_proto()
    t = mp.graph.initializer[0]
    del t.dims[:]
    t.dims.extend([2**20, 2**20, 2**10])
    with pytest.raises(OnnxImportError, match="elements"):
        ac.onnx.load(mp.SerializeToString())
    mp = _lenet_proto()
    mp.graph.initializer[1].raw_data = mp.graph.initializer[1].raw_data[:-4]
    with pytest.raises(OnnxImportError, match="raw data"):
        ac.onnx.load(mp)


# ---- against onnxruntime, per node -----------------------------------------------------

@pytest.mark.parametrize("name", ["resnet18", "googlenet"])
def test_random_weight_architectures_match_onnxruntime_per_node(name):
    ort = pytest.importorskip("onnxruntime")
    make = {"resnet18": lambda: ac.models.resnet18(num_classes=10, widths=(8, 16, 32, 64)),
            "googlenet": lambda: ac.models.GoogLeNet(num_classes=10, width_mult=0.25)}[name]
    ac.manual_seed(7)
    mp = ac.onnx.to_model(make().eval(), ac.randn(2, 3, 64, 64, seed=0))
    model = ac.onnx.load(mp)
    x = ac.randn(3, 3, 64, 64, seed=4)
    with ac.no_grad():
        ours = model.run_all(x)
    inner = [o for n in mp.graph.node for o in n.output if o in ours]
    mp2 = onnx.ModelProto()
    mp2.CopyFrom(mp)
    known = {o.name for o in mp2.graph.output}
    for name_ in inner:
        if name_ not in known:
            mp2.graph.output.append(helper.make_empty_tensor_value_info(name_))
    sess = ort.InferenceSession(mp2.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    theirs = dict(zip(names, sess.run(None, {"x": x.numpy()})))
    assert len(theirs) > 50
    for n, v in theirs.items():
        np.testing.assert_allclose(ours[n].numpy(), v, rtol=1e-4, atol=1e-4, err_msg=n)


@pytest.mark.slow
def test_imported_lenet_trains_on_digits():
    """An ONNX LeNet (exported untrained, imported) fine-tunes to >= 97% on the digits."""
    from autograd_cnn import functional as F
    from autograd_cnn import optim
    from autograd_cnn.data import DataLoader, Digits, Normalize, TensorDataset
    from autograd_cnn.demo import _zoo
    from autograd_cnn.train import evaluate, fit

    ac.manual_seed(0)
    (x, y), (xt, yt) = Digits(True, seed=0).arrays, Digits(False, seed=0).arrays
    mp = ac.onnx.to_model(_zoo("lenet-small", 1, 8, 10).eval(), ac.randn(2, 1, 8, 8))
    model = ac.onnx.load(mp.SerializeToString())
    model.train()
    norm = Normalize(float(x.mean()), float(x.std()))
    opt = optim.Adam(model.parameters(), lr=0.005)
    fit(model, DataLoader(TensorDataset(x, y, transform=norm), 32, shuffle=True, seed=0), opt,
        F.cross_entropy, epochs=8, seed=0)
    model.eval()
    ev = evaluate(model, DataLoader(TensorDataset(xt, yt, transform=norm), 512),
                  F.cross_entropy)
    assert ev["accuracy"] >= 0.97, ev


# ---- old opsets: the attribute forms before inputs replaced them -------------------------

def _legacy_cases():
    f = TensorProto.FLOAT
    return [
        (7, "Upsample", dict(scales=[1.0, 1.0, 2.0, 3.0], mode="nearest"), [(1, 2, 3, 4)], [],
         lambda x: x.repeat(2, 2).repeat(3, 3)),
        (9, "Upsample", dict(mode="nearest"), [(1, 2, 3, 4)],
         [("sc", np.array([1, 1, 2, 1], np.float32))], lambda x: x.repeat(2, 2)),
        (10, "Resize", dict(mode="nearest"), [(1, 2, 3, 4)],
         [("sc", np.array([1, 1, 2, 2], np.float32))], lambda x: x.repeat(2, 2).repeat(2, 3)),
        (7, "Pad", dict(pads=[0, 0, 1, 2, 0, 0, 2, 1], mode="reflect"), [(1, 2, 4, 4)], []),
        (9, "Slice", dict(starts=[1, 0], ends=[3, 100], axes=[2, 3]), [(1, 2, 4, 5)], []),
        (7, "Squeeze", dict(axes=[1]), [(2, 1, 3)], []),
        (7, "Unsqueeze", dict(axes=[0, 3]), [(2, 3)], []),
        (7, "Split", dict(axis=1, split=[1, 3]), [(2, 4)], []),
        (7, "Clip", dict(min=-0.5, max=0.5), [(3, 4)], []),
        (7, "Softmax", dict(axis=1), [(2, 3, 4)], [],  # coerced to 2-D before opset 13
         lambda x: (np.exp(x) / np.exp(x).reshape(2, -1).sum(1)[:, None, None])),
        (7, "ReduceMean", dict(axes=[1, 2], keepdims=0), [(2, 3, 4)], []),
        (9, "BatchNormalization", dict(epsilon=1e-3), [(2, 3, 4, 4)],
         [("s", np.ones(3, np.float32) * 2), ("b", np.zeros(3, np.float32) + 0.1),
          ("m", np.linspace(-1, 1, 3).astype(np.float32)),
          ("v", np.linspace(0.5, 2, 3).astype(np.float32))],
         lambda x: (x - np.linspace(-1, 1, 3)[:, None, None]) / np.sqrt(
             np.linspace(0.5, 2, 3)[:, None, None] + 1e-3) * 2 + 0.1),
        (7, "Dropout", dict(ratio=0.3), [(3, 4)], []),
        (9, "MaxUnpool", dict(kernel_shape=[2, 2], strides=[2, 2]), [(1, 1, 2, 2)],
         [("i", np.array([[[[0, 3], [9, 14]]]], np.int64))]),
        (7, "Gemm", dict(transA=1, alpha=0.5, beta=2.0), [(4, 3), (4, 5), (5,)], []),
        (8, "Max", {}, [(3, 4), (4,)], []),
        (10, "AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                 ceil_mode=1), [(1, 2, 6, 6)], []),
    ], f


@pytest.mark.parametrize("k", range(17))
def test_old_opset_forms_match_onnx_reference(k):
    from onnx.reference import ReferenceEvaluator

    cases, f = _legacy_cases()
    opset, op, attrs, shapes, consts, *expected = cases[k]
    names = [f"x{i}" for i in range(len(shapes))]
    inputs = [helper.make_tensor_value_info(n, f, s) for n, s in zip(names, shapes)]
    n_out = 2 if op == "Split" else 1
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, names + [c for c, _ in consts], outs, **attrs)
    g = helper.make_graph([node], "g", inputs,
                          [helper.make_tensor_value_info(o, f, None) for o in outs],
                          initializer=[numpy_helper.from_array(a, c) for c, a in consts])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    rng = np.random.default_rng(k)
    feeds = {n: rng.standard_normal(s).astype(np.float32) for n, s in zip(names, shapes)}
    if expected:
        ref = [expected[0](*feeds.values())]
    else:
        ref = ReferenceEvaluator(model).run(None, feeds)
    mod = ac.onnx.OnnxModule(model)
    with ac.no_grad():
        ours = mod(*feeds.values())
    ours = ours if isinstance(ours, tuple) else (ours,)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-5, atol=1e-6)


@pytest.mark.torch
def test_torch_graph_with_shape_ops_traces_symbolically_and_reexports():
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(3, 6, 3), nn.LocalResponseNorm(3), nn.Upsample(scale_factor=2),
                        nn.Flatten(), nn.Linear(6 * 20 * 20, 3)).eval()
    buf = io.BytesIO()
    torch.onnx.export(net, (torch.randn(2, 3, 12, 12),), buf, opset_version=17, dynamo=False,
                      input_names=["x"], dynamic_axes={"x": {0: "N"}})
    model = ac.onnx.load(buf.getvalue())
    g = ac.trace(model, ac.ShapeSpec((None, 3, 12, 12)))  # Shape/If arithmetic folds away
    assert not {"If", "Shape"} & {n.op for n in g.nodes}
    mp = ac.onnx.to_model(None, None, graph=g)
    assert "Resize" in {n.op_type for n in mp.graph.node}  # the nearest upsampling
    sess = ort.InferenceSession(mp.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((5, 3, 12, 12)).astype(np.float32)
    want = net(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(sess.run(None, {sess.get_inputs()[0].name: x})[0], want,
                               rtol=1e-4, atol=1e-5)
