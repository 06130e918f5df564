"""The demo's outputs: figures (PNG + SVG), graphs (DOT always, pictures with dot),
report.md and the self-contained report.html; ``autograd-cnn demo --open``."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import webbrowser
from unittest import mock

import numpy as np
import pytest

from autograd_cnn import viz
from autograd_cnn.cli import build_parser, main
from autograd_cnn.demo import open_report
from autograd_cnn.demo_report import FIGURES, GRAPHS, html_report, inline_svg

FIGURE_KEYS = [k for k, _, _ in FIGURES]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One fast demo run through the command line, with --open and a fake browser."""
    out = tmp_path_factory.mktemp("demo")
    opened, stdout = [], io.StringIO()
    with mock.patch("webbrowser.open", lambda url, *a, **k: opened.append(url) or True), \
            contextlib.redirect_stdout(stdout):
        code = main(["demo", "--fast", "--out", str(out), "--open"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    return out, metrics, stdout.getvalue(), opened


@pytest.mark.slow
def test_every_figure_as_png_and_svg(demo):
    out, m, _, _ = demo
    from matplotlib.image import imread

    for key in FIGURE_KEYS:
        png, svg = out / f"{key}.png", out / f"{key}.svg"
        img = imread(png)
        assert img.shape[0] > 150 and img.shape[1] > 300 and img.std() > 0.05, key
        assert "<svg" in svg.read_text()[:2000], key
        assert m["files"][key] == str(png) and m["files"][key + "_svg"] == str(svg)


@pytest.mark.slow
def test_graphs_dot_always_and_pictures_with_dot(demo):
    out, m, stdout, _ = demo
    for key, _, _ in GRAPHS:
        src = (out / f"{key}.dot").read_text()
        assert src.startswith("digraph") and "cluster" in src        # module clusters
        assert "(4, 1, 8, 8)" in src                                 # shapes
    assert "conv_transpose2d" in (out / "backward_graph.dot").read_text()
    if viz.dot_available():
        for key, _, _ in GRAPHS:
            assert "<svg" in (out / f"{key}.svg").read_text()[:1000]
            assert (out / f"{key}.png").read_bytes()[:4] == b"\x89PNG"
        assert "apt-get install graphviz" not in stdout


def test_without_dot_the_sources_are_written_and_one_line_says_how(tmp_path, monkeypatch):
    import autograd_cnn as ac
    from autograd_cnn import functional as F
    from autograd_cnn.demo import lenet_digits
    from autograd_cnn.demo_figures import write_graphs

    monkeypatch.setattr(viz, "dot_available", lambda: False)
    lines = []
    x = ac.tensor(np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32))
    files = write_graphs(lenet_digits(), x, ac.tensor(np.array([1, 2])), F.cross_entropy,
                         str(tmp_path), lines.append)
    assert sorted(files) == ["backward_graph_dot", "forward_graph_dot"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backward_graph.dot",
                                                           "forward_graph.dot"]
    assert len(lines) == 1 and "apt-get install graphviz" in lines[0]
    # The HTML report then shows the DOT source and how to get the picture.
    page = html_report(_minimal_metrics(files), None)
    assert page.count("apt-get install graphviz") == 2 and "<details>" in page
    assert "digraph" in page


def _minimal_metrics(files):
    return {"files": files, "test_accuracy": 0.5, "test_loss": 1.0, "fast": True,
            "best_epoch": 1, "epochs_run": 1, "params": 10, "train_seconds": 0.1,
            "test_n": 4, "train_n": 8, "val_n": 2, "optimizer": "Adam", "lr": 0.1,
            "batch_size": 2, "steps": 1, "seed": 0, "reloaded_checkpoint_accuracy": 0.5,
            "best_val_loss": 1.0, "total_seconds": 0.2, "machine": "test",
            "numba_threads": 1, "history": [], "mistakes": []}


@pytest.mark.slow
def test_report_html_is_self_contained(demo):
    out, m, _, _ = demo
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    # Nothing is fetched: every src and every non-fragment href is a data URI or a sibling
    # file of the report (links to the SVGs, not loaded by the page).
    for attr, value in re.findall(r'\b(src|href)="([^"]*)"', page):
        assert not re.match(r"(https?:)?//", value), (attr, value[:80])
        if attr == "src":
            assert value.startswith("data:image/png;base64,")
    srcs = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert len(srcs) == len(FIGURES)
    for key, b64 in zip(FIGURE_KEYS, srcs, strict=True):     # the very files, inlined
        assert base64.b64decode(b64) == (out / f"{key}.png").read_bytes()
    for _, title, text in FIGURES + (GRAPHS if viz.dot_available() else []):
        assert title in page and text[:60] in page
    if viz.dot_available():
        assert page.count("<svg") == 2 and "<?xml" not in page
        ids = re.findall(r'\bid="([^"]+)"', page)
        assert len(ids) == len(set(ids))                       # the two graphs share none
    assert f"{100 * m['test_accuracy']:.2f}%" in page
    assert page.count('<tr class="best">') == 1                # the kept epoch
    assert "Conv2d" in page and "MaxPool2d" in page            # the model table


@pytest.mark.slow
def test_report_md_and_metrics(demo):
    out, m, stdout, _ = demo
    md = (out / "report.md").read_text()
    assert "Test accuracy" in md and "report.html" in md
    for key in FIGURE_KEYS:
        assert f"({key}.png)" in md
    cm = np.array(m["confusion"])
    assert cm.shape == (10, 10) and cm.sum() == m["test_n"]
    assert len(m["mistakes"]) == cm.sum() - np.trace(cm)
    assert m["test_accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    assert "report.html" in stdout


@pytest.mark.slow
def test_open_flag_opens_the_report_in_a_browser(demo):
    out, _, stdout, opened = demo
    assert opened == [(out / "report.html").resolve().as_uri()]
    assert "opened" in stdout
    assert build_parser().parse_args(["demo"]).open is False


@pytest.mark.parametrize("behaviour", ["none", "error"])
def test_open_report_without_a_browser_is_one_line_not_an_error(tmp_path, behaviour):
    def fake(url, *a, **k):
        if behaviour == "error":
            raise webbrowser.Error("could not locate runnable browser")
        return False

    lines = []
    with mock.patch("webbrowser.open", fake):
        assert open_report(tmp_path / "report.html", log=lines.append) is False
    assert len(lines) == 1 and "no web browser" in lines[0]


def test_inline_svg_prefixes_ids_and_drops_the_prolog():
    svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "x" "y">\n<!-- c -->\n'
           '<svg><g id="a"><use href="#a"/><path fill="url(#a)"/></g></svg>')
    got = inline_svg(svg, "p")
    assert got == '<svg><g id="p-a"><use href="#p-a"/><path fill="url(#p-a)"/></g></svg>'
