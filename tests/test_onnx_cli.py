"""The ONNX command line (onnx export; --onnx on graph and summary) and the optional
dependency: importing autograd_cnn never imports onnx."""

import subprocess
import sys

import numpy as np
import pytest

from autograd_cnn.cli import main


def test_import_autograd_cnn_does_not_import_onnx():
    code = "import sys, autograd_cnn as ac; ac.onnx; print('onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_cli_export_then_graph_and_summary(tmp_path, capsys):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import autograd_cnn as ac

    path = tmp_path / "lenet.onnx"
    assert main(["onnx", "export", "--model", "lenet", "--input", "1,32,32", "--num-classes",
                 "10", "-o", str(path)]) == 0
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((4, 1, 32, 32)).astype(np.float32)
    model = ac.onnx.load(str(path))
    with ac.no_grad():
        np.testing.assert_allclose(sess.run(None, {"x": x})[0], model(x).numpy(), rtol=1e-4,
                                   atol=1e-5)
    capsys.readouterr()
    assert main(["summary", "--onnx", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Conv" in out and "parameters" in out
    assert main(["graph", "--onnx", str(path)]) == 0
    assert capsys.readouterr().out.startswith("digraph")


def test_cli_export_unknown_model_is_one_line_error(tmp_path, capsys):
    pytest.importorskip("onnx")
    assert main(["onnx", "export", "--model", "nosuch", "-o", str(tmp_path / "m.onnx")]) == 2
    assert "error" in capsys.readouterr().err


def test_cli_summary_of_bad_file_is_one_line_error(tmp_path, capsys):
    pytest.importorskip("onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08garbage" * 3)
    assert main(["summary", "--onnx", str(bad)]) == 2
    assert "not a valid ONNX model" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_exports_full_size_resnet18_matching_onnxruntime(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import autograd_cnn as ac

    path = tmp_path / "r18.onnx"
    assert main(["onnx", "export", "--model", "resnet18", "-o", str(path)]) == 0
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((2, 3, 224, 224)).astype(np.float32)
    model = ac.onnx.load(str(path))
    with ac.no_grad():
        np.testing.assert_allclose(sess.run(None, {"x": x})[0], model(x).numpy(), rtol=1e-4,
                                   atol=1e-4)
