"""ac.onnx.export: zoo models and traced expressions pass onnx.checker (full_check) and
match onnxruntime at the traced batch and at another one (symbolic batch)."""

import io

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import autograd_cnn as ac  # noqa: E402
from autograd_cnn import models as M  # noqa: E402
from autograd_cnn.errors import ExportError  # noqa: E402
from autograd_cnn.primitive import REGISTRY  # noqa: E402

ZOO = {
    "lenet5": (lambda: M.LeNet5(), (1, 32, 32)),
    "alexnet": (lambda: M.AlexNet(num_classes=10, width_mult=0.25), (3, 64, 64)),
    "vgg_a_lrn": (lambda: M.VGG("A-LRN", num_classes=10, width_mult=0.125), (3, 32, 32)),
    "vgg_b": (lambda: M.VGG("B", num_classes=10, width_mult=0.125), (3, 32, 32)),
    "vgg_c_bn": (lambda: M.VGG("C", batch_norm=True, num_classes=10, width_mult=0.125),
                 (3, 32, 32)),
    "vgg_d": (lambda: M.VGG("D", num_classes=10, width_mult=0.125), (3, 32, 32)),
    "vgg_e_bn": (lambda: M.VGG("E", batch_norm=True, num_classes=10, width_mult=0.125),
                 (3, 32, 32)),
    "resnet18": (lambda: M.resnet18(num_classes=10, widths=(8, 16, 32, 64)), (3, 64, 64)),
    "resnet34": (lambda: M.resnet34(num_classes=10, widths=(8, 16, 16, 16)), (3, 64, 64)),
    "resnet50": (lambda: M.resnet50(num_classes=10, widths=(8, 16, 32, 64)), (3, 64, 64)),
    "resnet_cifar": (lambda: M.resnet_cifar(8), (3, 32, 32)),
    "googlenet": (lambda: M.GoogLeNet(num_classes=10, width_mult=0.25), (3, 64, 64)),
    "xception": (lambda: M.MiniXception(), (3, 32, 32)),
    "fcn": (lambda: M.FCN(num_classes=5, width_mult=0.125), (3, 64, 64)),
    "unet": (lambda: M.UNet(base_channels=8, depth=2), (1, 32, 32)),
    "unet_valid_bn": (lambda: M.UNet(base_channels=8, depth=2, padding=0, batch_norm=True),
                      (1, 60, 60)),
}


def _check_against_ort(model_proto, fn, shapes_list, rtol=1e-4, atol=1e-5):
    onnx.checker.check_model(model_proto, full_check=True)
    sess = ort.InferenceSession(model_proto.SerializeToString(),
                                providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    for seed, shapes in enumerate(shapes_list):
        xs = [ac.randn(*s, seed=seed + 10 * i) for i, s in enumerate(shapes)]
        with ac.no_grad():
            ours = fn(*xs)
        ours = ours if isinstance(ours, tuple) else (ours,)
        theirs = sess.run(None, {n: x.numpy() for n, x in zip(names, xs)})
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(b, a.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_model_exports_and_matches_onnxruntime(name):
    make, shape = ZOO[name]
    model = make().eval()
    buf = io.BytesIO()
    mp = ac.onnx.export(model, ac.randn(2, *shape, seed=0), buf)
    assert buf.getvalue() == mp.SerializeToString()
    assert mp.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    # atol scaled to the output's size (deep random-weight nets have outputs >> 1)
    _check_against_ort(mp, model, [[(2,) + shape], [(3,) + shape]])


def test_traced_expressions_export():
    def f(x, y):
        z = ac.tanh(x @ y) * 2.0 - ac.exp(-ac.abs(x @ y))
        s = ac.softmax(z, dim=-1) + ac.log_softmax(z, dim=0)
        return ac.sum(s, dim=1, keepdim=True) / ac.sqrt(ac.mean(z * z) + 1.0), ac.maximum(z, 0.1)

    # y keeps a fixed shape (a ShapeSpec passes through); x gets the symbolic batch
    mp = ac.onnx.to_model(f, (ac.randn(4, 5), ac.ShapeSpec((5, 3))), dynamic_batch=True)
    _check_against_ort(mp, f, [[(4, 5), (5, 3)], [(7, 5), (5, 3)]])


def test_gradient_graph_of_an_expression_exports():
    w = ac.randn(5, 3, seed=1)

    def f(x):
        return ac.sum(ac.tanh(x @ w) * ac.sigmoid(x @ w) + ac.relu(x @ w))

    g = ac.trace(ac.grad(f), ac.ShapeSpec((None, 5)))
    mp = ac.onnx.to_model(None, None, graph=g, input_names=["x"], output_names=["dx"])
    assert [i.name for i in mp.graph.input] == ["x"] and mp.graph.output[0].name == "dx"
    _check_against_ort(mp, ac.grad(f), [[(4, 5)], [(9, 5)]])


@pytest.mark.parametrize("name,symbolic", [("lenet", True), ("resnet_cifar", True),
                                           ("mixed", False)])
def test_training_gradient_graph_of_a_cnn_exports(name, symbolic):
    """d loss / d params of a CNN in ONNX: conv weight gradients, max-pool index scatters,
    average-pool and adaptive-pool transposes, LRN and upsampling index-adds, NLL."""
    F = ac.functional
    nn = ac.nn
    model, shape, ncls = {
        "lenet": (M.LeNet5(), (2, 1, 32, 32), 10),
        "resnet_cifar": (M.resnet_cifar(8), (2, 3, 16, 16), 10),
        # (traced at a fixed batch: the pad VJP slices the batch dim, which the tracer
        # cannot yet make symbolic)
        "mixed": (nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Conv2d(4, 4, 3, groups=2, stride=2, padding=1),
                                nn.LocalResponseNorm(3), nn.Upsample(scale_factor=2),
                                nn.AdaptiveAvgPool2d((3, 3)), nn.Flatten(), nn.Linear(36, 5)),
                  (2, 3, 12, 12), 5),
    }[name]
    model.eval()
    params = list(model.parameters())

    def grads(x, t):
        return tuple(ac.gradients(F.cross_entropy(model(x), t), params))

    t = ac.tensor(np.arange(shape[0]) % ncls)
    if symbolic:
        g = ac.trace(grads, ac.ShapeSpec((None,) + shape[1:]), ac.ShapeSpec((None,), "int64"),
                     params=model)
    else:
        g = ac.trace(grads, ac.randn(*shape), t, params=model)
    mp = ac.onnx.to_model(None, None, graph=g)
    onnx.checker.check_model(mp, full_check=True)
    sess = ort.InferenceSession(mp.SerializeToString(), providers=["CPUExecutionProvider"])
    for n in (shape[0], 5) if symbolic else (shape[0],):
        x, tn = ac.randn(n, *shape[1:], seed=n), ac.tensor(np.arange(n) % ncls)
        ours = grads(x, tn)
        theirs = sess.run(None, dict(zip([i.name for i in sess.get_inputs()],
                                         [x.numpy(), tn.numpy()])))
        assert len(theirs) == len(params)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(b, a.numpy(), rtol=1e-4,
                                       atol=1e-5 * float(np.abs(a.numpy()).max() + 1))


def test_native_ops_are_used():
    model = ac.nn.Sequential(
        ac.nn.Conv2d(3, 4, 3, padding=1, dilation=1), ac.nn.MaxPool2d(3, 2, ceil_mode=True),
        ac.nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1),
        ac.nn.AdaptiveAvgPool2d((5, 3))).eval()
    mp = ac.onnx.to_model(model, ac.randn(2, 3, 17, 17))
    ops = {n.op_type for n in mp.graph.node}
    assert {"Conv", "MaxPool", "ConvTranspose", "MatMul"} <= ops
    pool = next(n for n in mp.graph.node if n.op_type == "MaxPool")
    assert onnx.helper.get_attribute_value(
        next(a for a in pool.attribute if a.name == "ceil_mode")) == 1
    _check_against_ort(mp, model, [[(2, 3, 17, 17)], [(1, 3, 17, 17)]])


@pytest.mark.parametrize("name,layer,shape,native", [
    ("bn2d", lambda: ac.nn.BatchNorm2d(3), (2, 3, 6, 6), "BatchNormalization"),
    ("bn1d", lambda: ac.nn.BatchNorm1d(5), (2, 5), "BatchNormalization"),
    ("bn_no_affine", lambda: ac.nn.BatchNorm2d(3, affine=False), (2, 3, 4, 4),
     "BatchNormalization"),
    ("lrn", lambda: ac.nn.LocalResponseNorm(5, alpha=0.1, k=2.0), (2, 7, 4, 4), "LRN"),
    ("nearest", lambda: ac.nn.Upsample(scale_factor=2), (2, 3, 5, 4), "Resize"),
    ("nearest_size", lambda: ac.nn.Upsample(size=(7, 9)), (2, 3, 5, 4), "Resize"),
    ("bilinear", lambda: ac.nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 5, 4),
     "Resize"),
    ("bilinear_ac", lambda: ac.nn.Upsample(size=(7, 9), mode="bilinear", align_corners=True),
     (2, 3, 5, 4), "Resize"),
])
def test_composites_export_as_native_onnx_ops(name, layer, shape, native):
    model = layer()
    if hasattr(model, "running_mean"):  # non-trivial statistics
        model.running_mean.data[...] = np.linspace(-1, 1, model.running_mean.shape[0])
        model.running_var.data[...] = np.linspace(0.5, 2, model.running_var.shape[0])
    model.eval()
    mp = ac.onnx.to_model(model, ac.randn(*shape))
    ops = [n.op_type for n in mp.graph.node if n.op_type != "Identity"]
    assert native in ops and not {"Gather", "MatMul", "Sqrt", "Pow"} & set(ops), ops
    _check_against_ort(mp, model, [[shape], [(3,) + shape[1:]]])
    # op by op (native=False) computes the same
    _check_against_ort(ac.onnx.to_model(model, ac.randn(*shape), native=False), model,
                       [[shape]])


@pytest.mark.parametrize("name", ["bicubic", "bicubic_align", "nearest_exact", "bilinear_size",
                                  "trilinear", "area"])
def test_interpolate_modes_export(name):
    F = ac.functional
    fn, shape = {
        "bicubic": (lambda x: F.interpolate(x, scale_factor=2, mode="bicubic"), (2, 3, 5, 4)),
        "bicubic_align": (lambda x: F.interpolate(x, size=(7, 9), mode="bicubic",
                                                  align_corners=True), (2, 3, 5, 4)),
        "nearest_exact": (lambda x: F.interpolate(x, size=(7, 3), mode="nearest-exact"),
                          (2, 3, 5, 4)),
        "bilinear_size": (lambda x: F.interpolate(x, size=(7, 9), mode="bilinear"),
                          (2, 3, 5, 4)),
        "trilinear": (lambda x: F.interpolate(x, scale_factor=2, mode="trilinear"),
                      (2, 1, 3, 5, 4)),
        # area averaging has no ONNX Resize mode: a constant matrix per axis
        "area": (lambda x: F.interpolate(x, size=(3, 2), mode="area"), (2, 3, 5, 4)),
    }[name]
    mp = ac.onnx.to_model(fn, ac.randn(*shape))
    ops = {n.op_type for n in mp.graph.node}
    assert ("MatMul" in ops) if name == "area" else ("Resize" in ops and "MatMul" not in ops)
    _check_against_ort(mp, fn, [[shape], [(3,) + shape[1:]]])


def test_newer_elementwise_primitives_export():
    def f(x):
        y = ac.clip(ac.erf(x) + ac.sin(x) * ac.cos(x), ac.tensor(-0.5), ac.tensor(0.7))
        return (y + ac.div(x * 7, ac.tensor(2.0), rounding_mode="floor")
                + ac.div(x * 7, ac.tensor(2.0), rounding_mode="trunc") + x.clone()
                + ac.softmax(x, dim=1) * ac.sigmoid(x))

    mp = ac.onnx.to_model(f, ac.randn(2, 3, 4))
    _check_against_ort(mp, f, [[(2, 3, 4)], [(5, 3, 4)]])
    # and its gradient: softmax_grad, sigmoid_grad
    gf = ac.grad(lambda x: ac.sum(f(x) * f(x)))
    _check_against_ort(ac.onnx.to_model(gf, ac.randn(2, 3, 4)), gf, [[(2, 3, 4)], [(4, 3, 4)]])


def test_even_lrn_stays_composite():
    # PyTorch's window for an even size is not ONNX's: exported op by op, still exact
    model = ac.nn.LocalResponseNorm(4).eval()
    mp = ac.onnx.to_model(model, ac.randn(2, 6, 3, 3))
    assert "LRN" not in {n.op_type for n in mp.graph.node}
    _check_against_ort(mp, model, [[(2, 6, 3, 3)]])


def test_adaptive_max_pool_non_divisible_is_decomposed():
    model = ac.nn.AdaptiveMaxPool2d((3, 4)).eval()
    mp = ac.onnx.to_model(model, ac.randn(2, 2, 7, 9))
    _check_against_ort(mp, model, [[(2, 2, 7, 9)], [(5, 2, 7, 9)]])


def test_primitive_without_rule_raises_export_error_naming_it():
    def f(x):
        return ac.fold(x, (4, 4), 2, stride=2)

    with pytest.raises(ExportError, match="'fold'"):
        ac.onnx.to_model(f, ac.randn(1, 4, 4))


def test_training_mode_dropout_is_refused_with_a_hint():
    model = ac.nn.Sequential(ac.nn.Linear(3, 3), ac.nn.Dropout(0.5)).train()
    with pytest.raises(ExportError, match="'dropout_mask'.*eval"):
        ac.onnx.to_model(model, ac.randn(2, 3))


def test_training_mode_bn_is_refused():
    model = ac.nn.Sequential(ac.nn.Conv2d(1, 2, 3), ac.nn.BatchNorm2d(2)).train()
    with pytest.raises(ExportError, match="eval"):
        ac.onnx.to_model(model, ac.randn(2, 1, 5, 5))


def test_registry_lists_export_rules():
    table = ac.onnx.exportable()
    assert set(table) == set(REGISTRY)
    missing = sorted(n for n, ok in table.items() if not ok)
    # Forward ops all export; what remains are training/backward-only primitives.
    # what remains: an RNG ONNX cannot reproduce, im2col/col2im, FFT convolution, and the
    # second-order pool_gather
    assert missing == sorted(["dropout_mask", "fftconvolve", "fold", "pool_gather",
                              "unfold"]), missing


def test_loss_functions_export():
    from autograd_cnn.ops.logic import numel as count  # the primitive (ac.numel is an int)

    F = ac.functional

    def losses(x, t, p):
        logits = x * 2.0
        probs = ac.sigmoid(p)
        ce = F.cross_entropy(logits, t)
        ce_sum = F.cross_entropy(logits, t, reduction="sum", ignore_index=1)
        bce = F.binary_cross_entropy(probs, ac.sigmoid(p * 0.5))
        picked = ac.gather(logits, 1, ac.reshape(t, (-1, 1)))
        return ce, ce_sum, bce, ac.mean(picked) * count(x, dtype="float32")

    t = ac.tensor(np.array([0, 2, 1, 2], dtype=np.int64))
    mp = ac.onnx.to_model(losses, (ac.randn(4, 3), t, ac.randn(4, 5)))
    onnx.checker.check_model(mp, full_check=True)
    sess = ort.InferenceSession(mp.SerializeToString(), providers=["CPUExecutionProvider"])
    for n in (4, 6):
        x, p = ac.randn(n, 3, seed=n), ac.randn(n, 5, seed=n + 1)
        tn = ac.tensor(np.arange(n, dtype=np.int64) % 3)
        names = [i.name for i in sess.get_inputs()]
        theirs = sess.run(None, dict(zip(names, [x.numpy(), tn.numpy(), p.numpy()])))
        with ac.no_grad():
            ours = losses(x, tn, p)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(b, a.numpy(), rtol=1e-5, atol=1e-6)


def test_export_import_round_trip():
    model = M.resnet_cifar(8).eval()
    x = ac.randn(2, 3, 32, 32, seed=1)
    mp = ac.onnx.to_model(model, x)
    back = ac.onnx.load(mp)
    with ac.no_grad():
        np.testing.assert_allclose(back(x).numpy(), model(x).numpy(), rtol=1e-4, atol=1e-5)


def _grad_fns():
    F = ac.functional
    return {  # name: (input shapes, fn of them); conv cases differentiate the weight too
        "avg2d_ceil_excl": ([(2, 3, 7, 8)], lambda x: F.avg_pool2d(
            x, 3, 2, padding=1, ceil_mode=True, count_include_pad=False)),
        "avg1d_override": ([(2, 3, 9)], lambda x: F.avg_pool1d(x, 3, 2, divisor_override=2)),
        "avg3d": ([(1, 2, 5, 6, 4)], lambda x: F.avg_pool3d(x, 2, 1, padding=1)),
        "adaptive_avg": ([(2, 3, 7, 5)], lambda x: F.adaptive_avg_pool2d(x, (3, 2))),
        "conv1d_dilated": ([(2, 3, 11), (4, 3, 3)], lambda x, w: F.conv1d(
            x, w, stride=2, padding=2, dilation=2)),
        "conv3d_groups": ([(1, 4, 5, 6, 5), (4, 2, 2, 3, 2)], lambda x, w: F.conv3d(
            x, w, stride=(1, 2, 1), padding=1, groups=2)),
        "conv2d_asym": ([(2, 3, 6, 7), (4, 3, 3, 2)], lambda x, w: F.conv2d(
            x, w, padding=((1, 0), (2, 1)), stride=(2, 1))),
        "max3d_ceil": ([(1, 2, 5, 6, 7)], lambda x: F.max_pool3d(x, 2, 2, ceil_mode=True)),
        "max1d_dilated": ([(2, 3, 11)], lambda x: F.max_pool1d(x, 3, 2, padding=1,
                                                               dilation=2)),
        "getitem": ([(4, 5, 6)], lambda x: x[1:3, :, 2] * 2.0
                    + x[:, [0, 2, 2], 1:4].sum(axis=1)[:2, :1]),
    }


@pytest.mark.parametrize("name", sorted(_grad_fns()))
def test_gradient_of_each_backward_primitive_exports(name):
    """Gradients of single ops traced and run in onnxruntime: the rule of each backward
    primitive (conv_weight_grad, avg_pool_backward, pool_scatter, index_add) against the
    library's own VJP."""
    shapes, fn = _grad_fns()[name]
    args = [ac.randn(*s, seed=i) for i, s in enumerate(shapes)]
    cot = ac.randn(*fn(*args).shape, seed=10)
    argnums = tuple(range(len(shapes)))
    grad_fn = ac.grad(lambda *xs: ac.sum(fn(*xs) * cot), argnums=argnums)
    g = ac.trace(grad_fn, *args)
    mp = ac.onnx.to_model(None, None, graph=g)
    onnx.checker.check_model(mp, full_check=True)
    _check_against_ort(mp, grad_fn, [shapes])
