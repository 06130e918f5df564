"""Tests of autograd_cnn.viz: forward/backward graph drawing with Graphviz."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
from autograd_cnn import tape, viz
from autograd_cnn.errors import (
    ArgumentTypeError,
    GraphFreedError,
    GraphvizNotFoundError,
    GraphvizRenderError,
    InvalidArgumentError,
    NoGradError,
)
from autograd_cnn.primitive import CATEGORIES, REGISTRY

ROOT = Path(__file__).resolve().parents[1]
HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz 'dot' is not installed")

_NODE_LINE = re.compile(r"^\s*(n\d+) \[label=", re.M)
_EDGE_LINE = re.compile(r"^\s*(n\d+) -> (n\d+)", re.M)


def node_lines(src: str) -> dict[str, str]:
    """DOT node name -> its whole line."""
    out = {}
    for line in src.splitlines():
        m = _NODE_LINE.match(line)
        if m:
            out[m.group(1)] = line
    return out


def edges(src: str) -> list[tuple[str, str, str]]:
    out = []
    for line in src.splitlines():
        m = _EDGE_LINE.match(line)
        if m:
            out.append((m.group(1), m.group(2), line))
    return out


def node_named(src: str, text: str) -> str:
    """The single node line whose label contains ``text``."""
    hits = [line for line in node_lines(src).values() if text in line]
    assert len(hits) == 1, (text, hits)
    return hits[0]


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter() if el.tag.endswith("text")]


def mlp():
    """A two-layer perceptron with module scopes, named parameters and a constant."""
    rng = np.random.default_rng(0)
    w1 = ac.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    b1 = ac.tensor(rng.standard_normal(5), requires_grad=True)
    w2 = ac.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    w1.name, b1.name, w2.name = "fc1.weight", "fc1.bias", "fc2.weight"
    x = ac.tensor(rng.standard_normal((2, 4)))  # data: a constant
    with tape.scope("fc1"):
        h = ac.relu(x @ w1 + b1)
    with tape.scope("fc2"):
        y = h @ w2
    return y.sum(), (w1, b1, w2)


# ---- registry completeness -----------------------------------------------------------


def test_every_category_has_a_render_style():
    # the registry completeness rule: every category, and every registered primitive,
    # has a style (like a gradcheck case and a VJP)
    assert viz._check_styles() == []
    assert set(CATEGORIES) <= set(viz.CATEGORY_STYLES)
    for prim in REGISTRY.values():
        style = viz.style_for(prim)
        assert style["fillcolor"].startswith("#"), prim.name
        assert style is not viz.style_for(prim)  # fresh dicts, safe to modify


def test_category_styles_are_distinct():
    colours = [s["fillcolor"] for s in viz.CATEGORY_STYLES.values()]
    assert len(set(colours)) == len(colours)


# ---- forward graph structure ---------------------------------------------------------


def test_forward_node_count_labels_and_edge_shapes():
    x = ac.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = x[1:, ::2].reshape(4).sum(axis=0)
    g = viz.draw(y)
    src = g.source
    nodes = node_lines(src)
    assert len(nodes) == 4 == g.info["nodes"]  # getitem, reshape, sum, input
    assert g.info["ops"] == 3 and g.info["leaves"] == 1
    assert "index=(1:, ::2)" in node_named(src, "getitem")
    assert "shape=(4,)" in node_named(src, "reshape")
    assert "axis=(0,)" in node_named(src, "<B>sum</B>")
    assert "(2, 2) float64" in node_named(src, "getitem")
    assert "() float64" in node_named(src, "<B>sum</B>")
    # edges carry the shapes flowing into each op
    labels = sorted(re.search(r"label=<([^>]*)>", e[2]).group(1) for e in edges(src))
    assert labels == ["(2, 2)", "(3, 4)", "(4,)"]
    assert len(edges(src)) == 3


def test_show_shapes_and_attrs_off():
    x = ac.randn(3, 4, requires_grad=True)
    src = viz.draw(x.sum(axis=1), show_shapes=False, show_attrs=False).source
    assert "axis" not in src and "(3, 4)" not in src and "float32" not in src
    assert "<B>sum</B>" in src


def test_leaf_kinds_are_styled_differently():
    loss, (w1, b1, w2) = mlp()
    src = viz.draw(loss).source
    param = node_named(src, "fc1.weight")
    const = node_named(src, "<B>constant</B>")
    assert viz.KIND_STYLES["parameter"]["fillcolor"] in param
    assert viz.KIND_STYLES["constant"]["fillcolor"] in const and "dashed" in const
    # an unnamed leaf that requires grad is an input
    x = ac.randn(2, 2, requires_grad=True)
    src = viz.draw((x * 2.0).sum()).source
    assert viz.KIND_STYLES["input"]["fillcolor"] in node_named(src, "<B>input</B>")


def test_params_mapping_names_leaves_and_accepts_pairs_and_modules():
    w = ac.randn(3, requires_grad=True)
    y = (w * w).sum()
    for params in ({"my.w": w}, [("my.w", w)]):
        assert "my.w" in viz.draw(y, params=params).source

    class FakeModule:
        def named_parameters(self):
            yield "mod.w", w

    assert "mod.w" in viz.draw(y, params=FakeModule()).source
    with pytest.raises(ArgumentTypeError, match="params"):
        viz.draw(y, params=5)
    with pytest.raises(ArgumentTypeError, match="params"):
        viz.draw(y, params={"w": 3.0})


def test_shared_input_drawn_once_with_two_edges():
    x = ac.randn(2, 3, requires_grad=True)
    y = ac.concatenate([x, x]).sum()
    src = viz.draw(y).source
    assert len(node_lines(src)) == 3
    leaf = [n for n, line in node_lines(src).items() if "input" in line][0]
    assert sum(1 for s, _, _ in edges(src) if s == leaf) == 2


def test_constant_used_twice_is_one_box_until_backward_frees_inputs():
    x = ac.randn(2, 3)  # data used by two ops, like the shortcut of a residual block
    w = ac.randn(3, requires_grad=True)
    y = (x * w + x).sum()
    g = viz.draw(y)
    assert g.info["constants"] == 1
    const = [n for n, line in node_lines(g.source).items() if "constant" in line][0]
    assert sum(1 for s, _, _ in edges(g.source) if s == const) == 2
    y.backward()
    # the nodes no longer hold their inputs: one box per use (documented)
    assert viz.draw(y).info["constants"] == 2


def test_output_without_graph_is_a_single_leaf():
    x = ac.randn(2, 2)
    g = viz.draw(x)
    assert g.info["nodes"] == 1 and "constant" in g.source


def test_multiple_outputs():
    x = ac.randn(3, requires_grad=True)
    a, b = ac.exp(x), ac.tanh(x)
    g = viz.draw([a, b])
    assert g.info["ops"] == 2 and g.info["leaves"] == 1
    # backward of several (non-scalar) outputs: one seed of ones per output
    src = viz.draw([a, b], backward=True).source
    assert "grad_output 0" in src and "grad_output 1" in src
    assert "∂outputs / ∂input" in src and "∂ exp #" in src and "∂ tanh #" in src


# ---- bad arguments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"backward": "sideways"}, InvalidArgumentError, "backward"),
        ({"backward": 1}, InvalidArgumentError, "backward"),
        ({"backward": "forward"}, InvalidArgumentError, "backward"),
        ({"backward": None}, InvalidArgumentError, "backward"),
        ({"rankdir": "XY"}, InvalidArgumentError, "rankdir"),
        ({"collapse": 0}, InvalidArgumentError, "collapse"),
        ({"collapse": "everything"}, InvalidArgumentError, "collapse"),
        ({"collapse": True}, InvalidArgumentError, "collapse"),
        ({"max_nodes": 0}, InvalidArgumentError, "max_nodes"),
        ({"max_nodes": 2.5}, InvalidArgumentError, "max_nodes"),
        ({"grads": {}}, ArgumentTypeError, "grads"),
    ],
)
def test_bad_arguments_raise_named_errors(kwargs, error, words):
    x = ac.randn(2, requires_grad=True)
    with pytest.raises(error, match=words):
        viz.draw(x.sum(), **kwargs)


@pytest.mark.parametrize("bad", [3, "y", [], [1, 2], None])
def test_bad_output_type(bad):
    with pytest.raises(ArgumentTypeError, match="output must be a Tensor"):
        viz.draw(bad)


def test_backward_of_tensor_without_graph():
    with pytest.raises(NoGradError, match="does not require grad"):
        viz.draw(ac.randn(2), backward=True)


# ---- backward graph ---------------------------------------------------------------------


def test_backward_graph_of_matmul_is_matmuls_with_transposes():
    x = ac.randn(2, 3, requires_grad=True)
    w = ac.randn(3, 4, requires_grad=True)
    w.name = "w"
    g = viz.draw((x @ w).sum(), backward=True)
    src = g.source
    assert x.grad is None and w.grad is None  # drawing does not accumulate .grad
    bwd = [line for line in node_lines(src).values() if "∂ matmul #1" in line]
    names = sorted(re.search(r"<B>(\w+)", line).group(1) for line in bwd)
    # dx = g @ w^T and dw = x^T @ g: two matmuls of two transposes (permute)
    assert names == ["matmul", "matmul", "permute", "permute"]
    assert all(viz._BACKWARD_BORDER["color"] in line for line in bwd)
    assert g.info["sinks"] == 2 and g.info["ops"] == 0 and g.info["backward_ops"] >= 5
    assert "∂out / ∂w" in src and "∂out / ∂input" in src
    seed = node_named(src, "grad_output")  # the seed, styled as such
    assert viz.KIND_STYLES["seed"]["fillcolor"] in seed and g.info["leaves"] == 2
    # each sink is fed by the op that produced that gradient
    sinks = {n for n, line in node_lines(src).items() if "∂out / ∂" in line}
    feeding = {s for s, d, _ in edges(src) if d in sinks}
    assert all("matmul" in node_lines(src)[s] for s in feeding)


def test_backward_graph_records_every_vjp_including_masks():
    x = ac.randn(5, requires_grad=True)
    g = viz.draw(ac.relu(x).sum(), backward=True)
    src = g.source
    assert "∂ relu #1" in src and "∂ sum #2" in src


def test_backward_values_match_real_gradients():
    # drawing runs the VJPs for real: the recorded gradient equals the analytic one
    x = ac.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    sinks, seeds = viz._compute_gradients([(x * x).sum()])
    assert len(seeds) == 1 and seeds[0].requires_grad and seeds[0].shape == ()
    ((leaf, gx),) = sinks
    assert leaf is x
    np.testing.assert_allclose(gx.numpy(), 2 * x.numpy())
    assert gx._node is not None and gx._node.grad_of is not None


def test_drawing_the_backward_leaves_the_forward_graph_usable():
    x = ac.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    y = (ac.tanh(x) * x).sum()
    viz.draw(y, backward=True)
    viz.draw(y, backward="both")
    assert x.grad is None
    y.backward()  # the saved tensors are still there, and nothing was accumulated
    t = np.tanh(x.numpy())
    np.testing.assert_allclose(x.grad.numpy(), t + x.numpy() * (1 - t * t))


def test_side_by_side_forward_and_backward_with_correspondence():
    loss, _ = mlp()
    g = viz.draw(loss, backward="both")
    src = g.source
    assert "<B>forward</B>" in src and "backward (create_graph=True)" in src
    assert src.index("<B>forward</B>") < src.index("backward (create_graph=True)")
    dotted = [e for e in edges(src) if "style=dotted" in e[2] and "arrowhead=none" in e[2]]
    # one dotted line per forward op that has a VJP op drawn (all five here)
    assert len(dotted) == 5 == len({s for s, _, _ in dotted})
    nodes = node_lines(src)
    for s, d, _ in dotted:  # forward op -> backward op of its VJP, same number
        num = re.search(r"<B>\w+ #(\d+)</B>", nodes[s]).group(1)
        assert f"#{num}</FONT>" in nodes[d] and "∂ " in nodes[d]
    assert g.info["ops"] == 5  # matmul, add, relu, matmul, sum
    fwd = [line for line in nodes.values() if re.search(r"<B>\w+ #\d+</B>", line)]
    assert len(fwd) == g.info["ops"]


def test_draw_gradients_computed_by_the_user():
    x = ac.randn(3, requires_grad=True)
    y = (ac.exp(x) * x).sum()
    y.backward(create_graph=True)
    g = viz.draw(x.grad)
    assert g.info["backward_ops"] > 0 and g.info["ops"] > 0  # saved forward values too
    assert "∂ exp #" in g.source


# ---- after backward, freed buffers ------------------------------------------------------


def test_drawing_after_backward_uses_surviving_metadata():
    loss, params = mlp()
    before = viz.draw(loss).source
    loss.backward()
    assert all(n.freed for n in tape._toposort([loss._node]))
    after = viz.draw(loss).source
    assert after == before
    saved = viz.draw(loss, show_saved=True).source
    assert saved.count("freed by backward") == 5


def test_show_saved_lists_buffers_before_backward():
    x = ac.randn(2, 3, requires_grad=True)
    src = viz.draw(ac.exp(x), show_saved=True).source
    assert "saved: in0 (2, 3), out (2, 3)" in src


def test_backward_drawing_after_free_explains():
    x = ac.randn(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        viz.draw(y, backward=True)
    z = (x * x).sum()
    z.backward(retain_graph=True)
    assert viz.draw(z, backward=True).info["backward_ops"] > 0


# ---- long chains, truncation -------------------------------------------------------------


@pytest.mark.slow
def test_ten_thousand_node_chain_is_drawn_iteratively():
    x = ac.tensor(np.array([0.5]), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = ac.tanh(y)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # any recursion over the chain would fail
    try:
        g = viz.draw(y, max_nodes=None)
    finally:
        sys.setrecursionlimit(limit)
    assert g.info["ops"] == 10_000 and g.info["nodes"] == 10_001
    assert len(node_lines(g.source)) == 10_001
    assert len(edges(g.source)) == 10_000
    # the default cap keeps the nodes nearest to the output and says what was cut
    capped = viz.draw(y)
    assert capped.info["hidden"] == 10_001 - 2000
    assert "8,001 more nodes not shown" in capped.source
    assert len(node_lines(capped.source)) == 2001


def test_max_nodes_keeps_nodes_nearest_the_output():
    x = ac.randn(2, requires_grad=True)
    y = ac.exp(ac.tanh(ac.sigmoid(x))).sum()
    g = viz.draw(y, max_nodes=2)
    src = g.source
    assert g.info["hidden"] == 3
    assert "<B>sum</B>" in src and "<B>exp</B>" in src and "sigmoid" not in src
    more = node_named(src, "more nodes not shown")
    more_name = [n for n, line in node_lines(src).items() if line == more][0]
    assert any(s == more_name for s, _, _ in edges(src))



def _deep_tanh_mlp(blocks=30):
    from autograd_cnn import nn

    m = nn.Sequential(*[nn.Sequential(nn.Linear(2, 2), nn.Tanh()) for _ in range(blocks)])
    return m, m(ac.ones(1, 2)).sum()


def test_truncated_backward_drawing_keeps_its_seed_and_sinks():
    m, out = _deep_tanh_mlp()
    g = viz.draw(out, backward=True, max_nodes=40)
    info, src = g.info, g.source
    assert info["hidden"] > 0 and info["sinks"] > 0
    assert info["nodes"] == len(node_lines(src)) <= 41  # 40 boxes and the marker
    assert "grad_output" in src
    # the sinks kept are those of the parameters nearest the output, each fed by an edge
    assert "∂out / ∂29.0.bias" in src and "∂out / ∂29.0.weight" in src
    names = node_lines(src)
    fed = {d for _, d, _ in edges(src)}
    sinks = [n for n, line in names.items() if "∂out / ∂" in line]
    assert len(sinks) == info["sinks"] and all(n in fed for n in sinks)
    # the seed is joined to the marker rather than floating
    seed = [n for n, line in names.items() if "grad_output" in line][0]
    assert any(s == seed for s, _, _ in edges(src))


def test_truncated_backward_drawing_keeps_every_sink_when_they_fit():
    m, out = _deep_tanh_mlp(3)
    full = viz.draw(out, backward=True, max_nodes=None)
    g = viz.draw(out, backward=True, max_nodes=20)
    assert g.info["hidden"] > 0
    assert g.info["sinks"] == full.info["sinks"] == 6
    assert g.info["nodes"] <= 21
    # collapsed drawings keep the groups holding the sinks too
    c = viz.draw(out, backward=True, collapse=1, max_nodes=3)
    assert c.info["hidden"] > 0 and c.info["groups"] >= 1 and "gradients of" in c.source

# ---- modules: clusters and collapse ------------------------------------------------------


def resnet_like(blocks=3):
    """Blocks with scopes layer1.0, layer1.1... each: two matmuls, a residual add, relu."""
    rng = np.random.default_rng(1)
    x = ac.tensor(rng.standard_normal((2, 4)))
    params = {}
    with tape.scope("stem"):
        w0 = ac.tensor(rng.standard_normal((4, 4)), requires_grad=True)
        params["stem.weight"] = w0
        h = ac.relu(x @ w0)
    for i in range(blocks):
        with tape.scope("layer1"), tape.scope(str(i)):
            wa = ac.tensor(rng.standard_normal((4, 4)), requires_grad=True)
            wb = ac.tensor(rng.standard_normal((4, 4)), requires_grad=True)
            params[f"layer1.{i}.a.weight"] = wa
            params[f"layer1.{i}.b.weight"] = wb
            with tape.scope("a"):
                t = ac.relu(h @ wa)
            with tape.scope("b"):
                t = t @ wb
            h = ac.relu(t + h)
    with tape.scope("head"):
        out = h.sum()
    return out, params


def test_clusters_per_module_path():
    out, params = resnet_like()
    src = viz.draw(out, params=params).source
    labels = re.findall(r"subgraph (cluster_\d+) \{\s*[^\n]*label=<([^>]*)>", src)
    names = [lab for _, lab in labels]
    for want in ["stem", "layer1", "layer1.0", "layer1.0.a", "layer1.0.b", "layer1.2", "head"]:
        assert want in names
    assert len(names) == len(set(names))
    # nesting: layer1.0.a sits inside layer1.0 inside layer1
    i1, i10, i10a = (src.index(f"label=<{n}>") for n in ("layer1", "layer1.0", "layer1.0.a"))
    assert i1 < i10 < i10a
    # parameters are drawn in the cluster of the module using them
    block = src[i10a: src.index("}", i10a)]
    assert "layer1.0.a.weight" in block
    assert "subgraph" not in viz.draw(out, params=params, group_modules=False).source


def test_collapse_reduces_node_count_and_folds_parameters():
    out, params = resnet_like(blocks=4)
    full = viz.draw(out, params=params)
    by_block = viz.draw(out, params=params, collapse="modules")
    top = viz.draw(out, params=params, collapse=1)
    depth2 = viz.draw(out, params=params, collapse=2)
    assert full.info["groups"] == 0
    assert full.info["nodes"] > by_block.info["nodes"] > top.info["nodes"]
    # modules: stem, layer1.0..layer1.3, head -> six boxes + the data input (a 2-d
    # constant stays visible; parameters are folded into their modules)
    assert by_block.info["groups"] == 6 and by_block.info["leaves"] == 0
    assert by_block.info["constants"] == 1 and by_block.info["nodes"] == 7
    assert depth2.info["groups"] == 6
    assert top.info["groups"] == 3  # stem, layer1, head
    src = by_block.source
    blk = node_named(src, "<B>layer1.2</B>")
    assert "5 ops: matmul×2, relu×2, add" in blk
    assert "2 parameter tensors, 32 values" in blk and "out (2, 4)" in blk
    assert viz.KIND_STYLES["group"]["shape"] in blk
    # the chain of blocks stays connected: one edge per consecutive pair, plus the input
    assert len(edges(src)) == 6
    # collapsed blocks sit in their parent module's cluster
    assert "label=<layer1>" in src


def test_collapse_backward_groups_are_marked():
    out, params = resnet_like(blocks=2)
    g = viz.draw(out, params=params, backward=True, collapse="modules")
    src = g.source
    blk = node_named(src, "<B>∂ layer1.1</B>")
    assert "→ gradients of 2 parameters" in blk
    # backward boxes of stem, layer1.0, layer1.1, head; parameters' gradients, saved
    # forward values and masks are folded into them
    assert g.info["groups"] == 4 and g.info["sinks"] == 0 and g.info["saved"] == 0
    assert g.info["nodes"] < viz.draw(out, params=params, backward=True).info["nodes"] / 5


def test_collapse_side_by_side_pairs_modules():
    out, params = resnet_like(blocks=2)
    g = viz.draw(out, params=params, backward="both", collapse="modules")
    src = g.source
    assert g.info["groups"] == 8 and g.info["leaves"] == 0  # parameters fold forward
    nodes = node_lines(src)
    dotted = [(s, d) for s, d, line in edges(src) if "style=dotted" in line]
    pairs = {(re.search(r"<B>([^<]*)</B>", nodes[s]).group(1),
              re.search(r"<B>([^<]*)</B>", nodes[d]).group(1)) for s, d in dotted}
    assert pairs == {(m, f"∂ {m}") for m in ("stem", "layer1.0", "layer1.1", "head")}


# ---- gradient statistics -----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_gradient_statistics_and_nonfinite_flagged_red():
    x = ac.tensor(np.array([4.0, 0.0, 1.0]), requires_grad=True)
    y = (ac.sqrt(x) * 2.0).sum()  # d sqrt / dx at 0 is inf
    with viz.GradStats() as stats:
        y.backward()
    assert len(stats) == 3 and len(stats.nonfinite()) == 0  # upstream grads are finite
    g = viz.draw(y, grads=stats)
    src = g.source
    leaf = node_named(src, "<B>input</B>")
    assert "Inf in gradient" in leaf and viz._BAD_GRAD_BORDER["color"] in leaf
    mul = node_named(src, "<B>mul</B>")
    assert "grad norm 1.73" in mul and "min 1 max 1" in mul
    assert "#e00000" not in mul


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_gradient_stats_chain_the_previous_hook_and_restore_it():
    calls = []
    tape.STATE.on_node_grad = lambda node, g: calls.append(node.prim.name)
    try:
        x = ac.tensor(np.array([1.0, 2.0]), requires_grad=True)
        y = ac.log(x * 0.0 - 1.0)  # log of negatives: nan
        z = (y * 1.0).sum()
        with viz.GradStats() as stats:
            z.backward()
        assert calls  # the previous hook still ran
        assert tape.STATE.on_node_grad is not None and tape.STATE.on_node_grad.__name__ == (
            "<lambda>")
    finally:
        tape.STATE.on_node_grad = None
    st = stats.get(y._node)
    assert st is not None and not st.bad  # gradient reaching log is finite
    src = viz.draw(z, grads=stats).source
    assert "NaN" not in node_named(src, "<B>log</B>")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_inf_gradient_at_an_intermediate_node_is_flagged():
    x = ac.tensor(np.array([0.0, 4.0]), requires_grad=True)
    inner = ac.sqrt(x)
    y = ac.sqrt(inner).sum()  # d/d(inner) = 0.5 / sqrt(inner): inf where inner == 0
    with viz.GradStats() as stats:
        y.backward()
    bad = stats.nonfinite()
    assert [n.prim.name for n in bad] == ["sqrt"] and bad[0] is inner._node
    src = viz.draw(y, grads=stats).source
    lines = [line for line in node_lines(src).values() if "<B>sqrt</B>" in line]
    flagged = [line for line in lines if "Inf in gradient" in line]
    assert len(lines) == 2 and len(flagged) == 1
    assert viz._BAD_GRAD_BORDER["color"] in flagged[0]
    assert "Inf in gradient" in node_named(src, "<B>input</B>")


def test_gradient_stats_nan_flag():
    x = ac.tensor(np.array([np.nan, 1.0]), requires_grad=True)
    y = (x * x).sum()
    with viz.GradStats() as stats:
        y.backward()
    # the gradient at mul is finite (ones), at the leaf it is 2x: NaN
    src = viz.draw(y, grads=stats).source
    assert "NaN in gradient" in node_named(src, "<B>input</B>")
    stat = viz._Stat(np.array([np.nan, -np.inf, 3.0, -4.0]))
    assert stat.nan and stat.inf and stat.norm == 5.0 and stat.min == -4 and stat.max == 3


# ---- escaping of hostile labels ------------------------------------------------------------

HOSTILE = [
    'quote " inside',
    "back\\slash",
    "ends with backslash \\",
    "<b>angle</b> & amp; &lt;",
    "new\nline\r\nand\ttab",
    '\\" escaped quote',
    "}] ; -> digraph { x",
    "\x00nul\x07bell",
    "ünïcødé ∂ 画",
    "lone \ud800 surrogate",
    "",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_give_valid_dot(name):
    w = ac.randn(2, requires_grad=True)
    w.name = name
    with tape.scope(name):
        y = (w * w).sum()
    g = viz.draw(y, title=name)
    src = g.source
    # every label is an HTML-like string with balanced angle brackets and no raw newline
    assert len(node_lines(src)) == 3
    for line in src.splitlines():
        assert "\x00" not in line
    if HAVE_DOT:
        svg = g.pipe(format="svg", encoding="utf-8")
        texts = svg_texts(svg)
        expected = name.replace("\r\n", "\n").replace("\t", " ").replace("\x00", "")
        expected = expected.replace("\x07", "").replace("\ud800", "?").split("\n")
        for part in expected:
            if part.strip():
                assert any(part.strip() in t for t in texts), (part, texts)


@needs_dot
@settings(max_examples=15)
@given(st.text(min_size=0, max_size=30))
def test_any_name_renders_to_valid_svg(name):
    w = ac.randn(2, requires_grad=True)
    w.name = name
    with tape.scope(name):
        y = ac.exp(w).sum()
    svg = viz.draw(y, params={name + "'": w}).pipe(format="svg", encoding="utf-8")
    ET.fromstring(svg)  # well-formed XML


def test_escape_label_unit():
    assert viz.escape_label('a<b>&"c\'') == "a&lt;b&gt;&amp;&quot;c&#x27;"
    assert viz.escape_label("a\nb") == "a<BR/>b"
    assert viz.escape_label("x\\y") == "x\\y"
    assert viz.escape_label("\x01\x1f") == ""


# ---- rendering for real ----------------------------------------------------------------------


@needs_dot
def test_render_svg_parses_as_xml(tmp_path):
    loss, _ = mlp()
    path = viz.render(loss, tmp_path / "g.svg", backward="both")
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    texts = " ".join(t for t in svg_texts(path.read_text()))
    assert "fc1.weight" in texts and "matmul" in texts and "forward" in texts


@needs_dot
def test_render_png_and_pdf_headers(tmp_path):
    x = ac.randn(3, requires_grad=True)
    y = ac.tanh(x).sum()
    png = viz.render(y, tmp_path / "sub" / "g.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = viz.render(y, tmp_path / "g.out", format="pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_render_dot_text_and_format_errors(tmp_path):
    x = ac.randn(3, requires_grad=True)
    y = ac.tanh(x).sum()
    p = viz.render(y, tmp_path / "g.dot")
    assert p.read_text(encoding="utf-8") == viz.to_dot(y)
    with pytest.raises(InvalidArgumentError, match="extension"):
        viz.render(y, tmp_path / "g.jpeg")
    with pytest.raises(InvalidArgumentError, match="format"):
        viz.render(y, tmp_path / "g.svg", format="gif")
    with pytest.raises(ArgumentTypeError, match="already drawn"):
        viz.render(viz.draw(y), tmp_path / "g.dot", backward=True)


@needs_dot
def test_dot_failure_is_a_named_error(tmp_path):
    g = viz.Graph()
    g.body.append("\tn0 [label=<<B></B>>]\n")  # an empty element: dot rejects it
    with pytest.raises(GraphvizRenderError, match="dot failed to produce svg"):
        viz.render(g, tmp_path / "bad.svg")
    assert not (tmp_path / "bad.svg").exists()


def test_missing_dot_gives_clear_message_and_dot_text_survives(tmp_path, monkeypatch):
    x = ac.randn(3, requires_grad=True)
    y = ac.tanh(x).sum()
    g = viz.draw(y)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert not viz.dot_available()
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        viz.render(g, tmp_path / "g.svg")
    # DOT text needs no Graphviz
    assert viz.render(g, tmp_path / "g.dot").read_text(encoding="utf-8") == g.source
    bundle = g._repr_mimebundle_()
    assert "not found" in bundle["text/plain"] and "digraph" in bundle["text/plain"]
    assert g._repr_svg_() is None


@needs_dot
def test_notebook_display():
    x = ac.randn(3, requires_grad=True)
    g = viz.draw(ac.tanh(x).sum())
    svg = g._repr_svg_()
    ET.fromstring(svg)
    bundle = g._repr_mimebundle_()
    assert "image/svg+xml" in bundle


# ---- random expressions (property) ----------------------------------------------------------

_UNARY = [ac.exp, ac.tanh, ac.sigmoid, ac.relu, lambda t: t * 2.0, lambda t: t.sum(axis=0)]


@settings(max_examples=25)
@given(st.lists(st.tuples(st.integers(0, len(_UNARY) - 1), st.integers(0, 10)), min_size=1,
                max_size=12))
def test_node_count_equals_tape_nodes_plus_leaves(program):
    # property: one box per recorded node, one per leaf and one per constant input
    x = ac.randn(3, 2, requires_grad=True)
    vals = [x]
    for op, pick in program:
        a = vals[pick % len(vals)]
        if op == 5 and a.ndim == 0:
            op = 0
        vals.append(_UNARY[op](a))
        if pick % 3 == 0 and vals[-1].shape == vals[-2].shape:
            vals.append(vals[-1] + vals[-2])
    out = vals[-1]
    if out._node is None:
        return
    nodes = tape._toposort([out._node])
    consts = sum(1 for n in nodes for e in n.edges if e is None)
    leaves = {id(e) for n in nodes for e in n.edges if isinstance(e, ac.Tensor)}
    g = viz.draw(out)
    assert g.info["ops"] == len(nodes)
    assert g.info["nodes"] == len(nodes) + len(leaves) + consts
    assert len(edges(g.source)) == sum(len(n.edges) for n in nodes)


# ---- command line and example ----------------------------------------------------------------


def test_cli_graph_writes_dot_to_stdout(capsys):
    from autograd_cnn.cli import main

    assert main(["graph", "--model", "expr", "--backward"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph") and "∂out / ∂w" in out


def test_cli_graph_format_dot_without_output_goes_to_stdout(capsys):
    from autograd_cnn.cli import main

    assert main(["graph", "--model", "expr", "--format", "dot"]) == 0
    assert capsys.readouterr().out.startswith("digraph")


@needs_dot
def test_cli_graph_renders_file(tmp_path, capsys):
    from autograd_cnn.cli import main

    path = tmp_path / "expr.svg"
    assert main(["graph", "--model", "expr", "--both", "-o", str(path)]) == 0
    ET.parse(path)
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["graph", "--model", "no_such_model"], "unknown model"),
        (["graph", "--input-shape", "a,b"], "--input-shape"),
        (["graph", "--input-shape", "3,5"], "does not fit"),
        (["graph", "--collapse", "x"], "--collapse"),
        (["graph", "-o", "out.gif"], "--output"),
        (["graph", "--rankdir", "UP"], "rankdir"),
        (["graph", "--backward", "--both"], "not allowed"),
        (["graph", "--model", "lenet5", "--input-shape", "1,1,100000000,100000000"],
         "elements"),
        (["graph", "--model", "lenet5", "--input-shape", "9" * 5000], "--input-shape"),
        (["graph", "--input-shape", ",".join(["1"] * 40)], "dimensions"),
        (["graph", "--model", "lenet5", "--format", "png"], "--output"),
        (["graph", "--format", "svg"], "--output"),
    ],
)
def test_cli_graph_bad_arguments_one_line_exit_2(argv, words, capsys):
    from autograd_cnn.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow
def test_example_script_runs(tmp_path):
    script = ROOT / "examples" / "02_backward_graph.py"
    if not script.exists():
        pytest.skip("example not written")
    r = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "conv" in r.stdout or "matmul" in r.stdout
    assert any(tmp_path.iterdir())


# ---- conv, pooling, models (active once those land) -----------------------------------------


def _need(name):
    if name not in REGISTRY:
        pytest.skip(f"primitive {name} not registered yet")


def _need_conv():
    if "conv2d" not in REGISTRY and "conv" not in REGISTRY:
        pytest.skip("the conv primitives are not registered yet")


def test_backward_of_conv2d_contains_a_transposed_conv():
    _need_conv()
    F = ac.functional
    x = ac.randn(1, 2, 6, 6, requires_grad=True)
    w = ac.randn(3, 2, 3, 3, requires_grad=True)
    w.name = "weight"
    y = F.conv2d(x, w, stride=2, padding=1).sum()
    fwd = viz.draw(y).source
    conv = node_named(fwd, "<B>conv2d</B>")
    for attr in ("kernel=(3, 3)", "stride=(2, 2)", "padding=(1, 1)", "dilation=(1, 1)",
                 "groups=1", "(1, 3, 3, 3) float32"):
        assert attr in conv, attr
    src = viz.draw(y, backward=True).source
    # the input-gradient of a convolution is a transposed convolution of g with w
    line = node_named(src, "<B>conv_transpose2d</B>")
    assert "∂ conv2d #1" in line and "(1, 2, 6, 6)" in line
    assert "∂out / ∂weight" in src
    both = viz.draw(y, backward="both").source
    assert "<B>conv2d #1</B>" in both and "<B>conv_transpose2d</B>" in both


def test_backward_of_max_pool2d_is_a_scatter():
    _need("max_pool2d")
    F = ac.functional
    x = ac.randn(1, 1, 4, 4, requires_grad=True)
    y = F.max_pool2d(x, 2).sum()
    src = viz.draw(y, backward=True).source
    bwd = [line for line in node_lines(src).values() if "∂ max_pool2d" in line]
    assert bwd
    cats = {REGISTRY[re.search(r"<B>(\w+)", line).group(1)].category for line in bwd}
    assert cats & {"indexing", "pool"}


def _lenet():
    _need_conv()
    models = pytest.importorskip("autograd_cnn.models")
    cls = getattr(models, "LeNet5", None)
    if cls is None:
        pytest.skip("LeNet5 not available yet")
    return cls()


@pytest.mark.slow
def test_lenet5_forward_clusters_and_backward():
    model = _lenet()
    x = ac.randn(1, 1, 32, 32, seed=0)
    out = model(x)
    g = viz.draw(out, params=model)
    names = dict(model.named_parameters())
    src = g.source
    for pname in names:
        assert pname in src
    assert "subgraph cluster_" in src and "conv2d" in src
    b = viz.draw(out, params=model, backward=True)
    assert "conv_transpose2d" in b.source
    assert b.info["sinks"] == len(names)
    c = viz.draw(out, params=model, collapse="modules")
    assert c.info["nodes"] < g.info["nodes"]


@pytest.mark.slow
def test_resnet18_collapsed_stays_readable():
    _need_conv()
    models = pytest.importorskip("autograd_cnn.models")
    factory = getattr(models, "resnet18", None) or getattr(models, "ResNet18", None)
    if factory is None:
        pytest.skip("resnet18 not available yet")
    model = factory()
    x = ac.randn(2, 3, 32, 32, seed=0)  # batch norm in training mode needs N > 1 here
    out = model(x)
    full = viz.draw(out, params=model, max_nodes=None)
    small = viz.draw(out, params=model, collapse="modules")
    assert small.info["nodes"] < 60 < full.info["nodes"]
    assert small.info["hidden"] == 0 and full.info["hidden"] == 0
    back = viz.draw(out, params=model, backward=True, collapse="modules")
    assert back.info["nodes"] < 60 and "conv_transpose2d" in back.source


def test_nn_modules_give_clusters_and_named_parameters():
    nn = getattr(ac, "nn", None)
    if nn is None or not hasattr(nn, "Sequential"):
        pytest.skip("nn not available yet")
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
                          nn.Sequential(nn.Linear(8, 8), nn.Tanh()), nn.Linear(8, 2))
    out = model(ac.randn(3, 4, seed=0)).sum()
    src = viz.draw(out, params=model).source
    clusters = re.findall(r"subgraph cluster_\d+ \{\s*[^\n]*label=<([^>]*)>", src)
    assert sorted(clusters) == ["0", "1", "2", "2.0", "2.1", "3"]
    for name, _ in model.named_parameters():
        assert f"<B>{name}</B>" in src
    # the data input stays outside the modules' clusters
    data = node_named(src, "(3, 4) float32</FONT>> color")
    assert src.index(data) < src.index("subgraph")
    folded = viz.draw(out, params=model, collapse="modules")
    # 0, 1, 2, 3 as boxes, the final sum, the input
    assert folded.info["groups"] == 4 and folded.info["nodes"] == 6
    assert "2 parameter tensors, 40 values" in node_named(folded.source, "<B>0</B>")


@pytest.mark.slow
@needs_dot
def test_cli_graph_of_a_zoo_model(tmp_path, capsys):
    _need_conv()
    from autograd_cnn.cli import main

    if "lenet5" not in viz._zoo_names():
        pytest.skip("LeNet5 not in the zoo yet")
    path = tmp_path / "lenet5_backward.svg"
    assert main(["graph", "--model", "lenet5", "--backward", "-o", str(path)]) == 0
    texts = " ".join(svg_texts(path.read_text()))
    assert "conv_transpose2d" in texts or "conv_weight_grad2d" in texts
    assert "features.0.weight" in texts or "weight" in texts
    small = tmp_path / "lenet5.dot"
    assert main(["graph", "--model", "lenet5", "--collapse", "modules", "--input-shape",
                 "1,1,32,32", "-o", str(small)]) == 0
    assert "box3d" in small.read_text()
