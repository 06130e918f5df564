"""The command line: help everywhere, one-line errors with exit 2, the demo in fast mode,
train on digits and on IDX files, summary."""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from autograd_cnn.cli import build_parser, demo_expression, main


def run_cli(*args, timeout=240):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE",)}
    return subprocess.run([sys.executable, "-m", "autograd_cnn", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_demo_expression_still_importable_from_cli():
    lines = []
    assert demo_expression(out=lines.append)
    assert any("central differences" in s for s in lines)


@pytest.mark.parametrize("cmd", [[], ["demo"], ["train"], ["summary"]])
def test_help_everywhere(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main([*cmd, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "usage: autograd-cnn" in out and "--help" in out


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


@pytest.mark.parametrize("argv, needle", [
    (["demo", "--epochs", "0"], "--epochs: expected a positive int, got '0'"),
    (["demo", "--lr", "abc"], "--lr: expected a positive float, got 'abc'"),
    (["demo", "--lr", "inf"], "--lr: expected a positive finite float, got 'inf'"),
    (["train", "--lr=-inf"], "--lr: expected a positive float, got '-inf'"),
    (["train", "--lr", "nan"], "--lr: expected a positive float, got 'nan'"),
    (["train", "--val-fraction", "Infinity"], "--val-fraction: expected a positive finite"),
    (["train", "--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
    (["train", "--dataset", "cifar"], "invalid choice: 'cifar'"),
    (["train", "--batch-size", "-3"], "--batch-size: expected a positive int"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["demo", "--no-such-flag"], "unrecognized arguments"),
])
def test_bad_arguments_one_line_exit_2(argv, needle, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1 and err.startswith("autograd-cnn: error:")
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, needle", [
    (["train", "--dataset", "mnist"], "--data-dir: required"),
    (["train", "--dataset", "mnist", "--data-dir", "/nonexistent/x"], "folder not found"),
    (["summary", "--input", "3,a,4"], "--input: expected comma-separated positive ints"),
    (["summary", "--input", "3,4"], "expected C,H,W"),
    (["summary", "--model", "nosuchnet", "--input", "1,8,8"], "unknown model 'nosuchnet'"),
])
def test_bad_values_one_line_exit_2(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_idx_files_named(tmp_path, capsys):
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte" in err and "Traceback" not in err


def test_subcommands_registered():
    choices = build_parser()._subparsers._group_actions[0].choices
    assert {"demo", "train", "summary"} <= set(choices)


def test_summary_of_the_demo_model(capsys):
    assert main(["summary", "--model", "lenet-small", "--input", "1,8,8"]) == 0
    out = capsys.readouterr().out
    assert "Conv2d" in out or "conv" in out.lower()


@pytest.mark.slow
def test_demo_fast_writes_every_output(tmp_path):
    out = tmp_path / "demo"
    r = run_cli("demo", "--fast", "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    for name in ("curves.png", "filters.png", "samples.png", "checkpoint.npz",
                 "metrics.json", "report.md"):
        assert (out / name).stat().st_size > 0, name
    from matplotlib.image import imread
    for name in ("curves.png", "filters.png"):
        img = imread(out / name)
        assert img.ndim == 3 and img.shape[2] in (3, 4) and img.std() > 0   # not blank
    m = json.loads((out / "metrics.json").read_text())
    assert m["fast"] and m["steps"] == 5 and 0.0 <= m["test_accuracy"] <= 1.0
    assert m["reloaded_checkpoint_accuracy"] == pytest.approx(m["test_accuracy"])
    report = (out / "report.md").read_text()
    assert "Test accuracy" in report and "checkpoint.npz" in report
    assert "test: accuracy" in r.stdout
    from autograd_cnn import viz
    assert "digraph" in (out / "backward_graph.dot").read_text()     # DOT sources always
    if viz.dot_available():
        for name in ("forward_graph.svg", "backward_graph.svg"):
            text = (out / name).read_text()
            assert text.lstrip().startswith("<?xml") or "<svg" in text[:500]
        assert "conv" in (out / "backward_graph.svg").read_text()


def _write_idx(path, arr):
    code = {np.uint8: 0x08}[arr.dtype.type]
    data = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(
        f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    path.write_bytes(gzip.compress(data))


@pytest.mark.slow
def test_train_on_tiny_mnist_idx_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 64), ("t10k", 16)):
        # A learnable toy: class = whether the top half is brighter than the bottom.
        y = rng.integers(0, 2, n).astype(np.uint8)
        x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        x[y == 1, :14] += 150
        x[y == 0, 14:] += 150
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", x)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", y)
    ck = tmp_path / "ck.npz"
    code = main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--epochs", "2",
                 "--batch-size", "16", "--lr", "0.003", "--checkpoint", str(ck)])
    out = capsys.readouterr().out
    assert code == 0 and ck.exists()
    assert "test: accuracy" in out
    acc = float(out.split("test: accuracy")[1].split("%")[0])
    assert acc > 60.0                                    # chance is 50%


def test_train_digits_with_sgd_max_steps(capsys):
    code = main(["train", "--dataset", "digits", "--epochs", "1", "--optimizer", "sgd",
                 "--lr", "0.05", "--max-steps", "3", "--seed", "1"])
    assert code == 0
    assert "test: accuracy" in capsys.readouterr().out


@pytest.mark.slow
def test_full_demo_reaches_97_percent(tmp_path):
    """The demo's promise, checked: >= 97% test accuracy on the held-out digits, and a
    checkpoint that reproduces it (a few seconds of training on 2 cores)."""
    from autograd_cnn.demo import run_demo

    lines = []
    m = run_demo(str(tmp_path), graphs=False, log=lines.append)
    assert m["test_accuracy"] >= 0.97, lines[-3:]
    assert m["reloaded_checkpoint_accuracy"] == m["test_accuracy"]
    assert m["epochs_run"] == 20 and m["history"][-1]["train_loss"] < m["history"][0][
        "train_loss"] / 10
    assert "target 97%: met" in (tmp_path / "report.md").read_text()


def test_unwritable_output_folder_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["demo", "--fast", "--no-graphs", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autograd-cnn: error:") and err.count("\n") == 1
    assert "a_file" in err


@pytest.mark.parametrize("exc", [MemoryError(), MemoryError("Unable to allocate 7 PiB")])
def test_out_of_memory_is_one_line_exit_2(exc, capsys):
    from autograd_cnn.cli import _run

    def boom(args):
        raise exc

    assert _run(boom, None) == 2
    err = capsys.readouterr().err
    assert err.startswith("autograd-cnn: error: out of memory") and err.count("\n") == 1


def test_graph_huge_input_shape_is_one_line_exit_2():
    r = run_cli("graph", "--model", "lenet5", "--input-shape", "1,1,100000000,100000000",
                timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "--input-shape" in r.stderr


def test_graph_png_without_output_is_an_error():
    r = run_cli("graph", "--model", "expr", "--format", "png", timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "--output" in r.stderr
