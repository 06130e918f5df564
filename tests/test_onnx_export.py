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


def test_adaptive_max_pool_non_divisible_is_decomposed():
    model = ac.nn.AdaptiveMaxPool2d((3, 4)).eval()
    mp = ac.onnx.to_model(model, ac.randn(2, 2, 7, 9))
    _check_against_ort(mp, model, [[(2, 2, 7, 9)], [(5, 2, 7, 9)]])


def test_primitive_without_rule_raises_export_error_naming_it():
    def f(x):
        return ac.fold(x, (4, 4), 2, stride=2)

    with pytest.raises(ExportError, match="'fold'"):
        ac.onnx.to_model(f, ac.randn(1, 4, 4))


def test_training_mode_bn_is_refused():
    model = ac.nn.Sequential(ac.nn.Conv2d(1, 2, 3), ac.nn.BatchNorm2d(2)).train()
    with pytest.raises(ExportError, match="eval"):
        ac.onnx.to_model(model, ac.randn(2, 1, 5, 5))


def test_registry_lists_export_rules():
    table = ac.onnx.exportable()
    assert set(table) == set(REGISTRY)
    missing = sorted(n for n, ok in table.items() if not ok)
    # Forward ops all export; what remains are training/backward-only primitives.
    assert missing == sorted([
        "avg_pool_backward", "bce", "conv_weight_grad", "dropout_mask", "fftconvolve",
        "fold", "gather", "index_add", "nll_loss", "nll_loss_backward", "numel",
        "pool_gather", "pool_scatter", "scatter_add", "unfold"]), missing


def test_export_import_round_trip():
    model = M.resnet_cifar(8).eval()
    x = ac.randn(2, 3, 32, 32, seed=1)
    mp = ac.onnx.to_model(model, x)
    back = ac.onnx.load(mp)
    with ac.no_grad():
        np.testing.assert_allclose(back(x).numpy(), model(x).numpy(), rtol=1e-4, atol=1e-5)
