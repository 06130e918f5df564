"""ac.compile: replay without per-op dispatch, gradients through the tape, fusion (fused
vs unfused vs eager on drawn elementwise chains), memory plan, kernel cache, fallback."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
from autograd_cnn import primitive, tape
from autograd_cnn.compile import codegen
from autograd_cnn.errors import (
    CompileError,
    CompileFallbackWarning,
    InvalidArgumentError,
    TraceError,
)

F = ac.functional


def _lenet(seed=0):
    ac.manual_seed(seed)
    return ac.models.LeNet5(input_size=28)


def _data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return (ac.tensor(rng.random((n, 1, 28, 28), dtype=np.float32)),
            ac.tensor(rng.integers(0, 10, n)))


class _Counter:
    """Counts calls into the tape's apply machinery and Primitive.__call__."""

    def __init__(self, monkeypatch):
        self.n = 0
        for mod, name in ((tape, "apply"), (tape, "apply_aux"), (primitive, "apply")):
            orig = getattr(mod, name)
            monkeypatch.setattr(mod, name, self._wrap(orig))
        orig_call = primitive.Primitive.__call__
        monkeypatch.setattr(primitive.Primitive, "__call__", self._wrap(orig_call))

    def _wrap(self, fn):
        def counted(*a, **k):
            self.n += 1
            return fn(*a, **k)
        return counted


def test_replay_does_no_primitive_dispatch(monkeypatch):
    m = _lenet()
    x, t = _data()
    step = ac.compile(lambda x, t: F.cross_entropy(m(x), t))
    step(x, t).backward()  # compiles
    m.zero_grad()
    counter = _Counter(monkeypatch)
    loss = step(x, t)
    loss.backward()
    assert counter.n == 0
    assert all(p.grad is not None for p in m.parameters())
    # the counter does see eager code
    m.zero_grad()
    F.cross_entropy(m(x), t).backward()
    assert counter.n > 50


def test_backward_accumulates_grads_and_params_are_read_at_call_time():
    m = _lenet()
    x, t = _data()
    step = ac.compile(lambda x, t: F.cross_entropy(m(x), t))
    opt = ac.optim.SGD(m.parameters(), lr=0.5)
    for _ in range(3):  # optimizer updates are seen without recompiling
        opt.zero_grad()
        loss = step(x, t)
        loss.backward()
        got = {n: p.grad.numpy().copy() for n, p in m.named_parameters()}
        opt.zero_grad()
        eager = F.cross_entropy(m(x), t)
        eager.backward()
        np.testing.assert_allclose(float(loss), float(eager), rtol=1e-5)
        for n, p in m.named_parameters():
            np.testing.assert_allclose(got[n], p.grad.numpy(), rtol=1e-4, atol=1e-6)
        opt.step()
    assert step.compiles == 1
    # .grad accumulates across two backward passes, as eager
    m.zero_grad()
    F.cross_entropy(m(x), t).backward()
    ref = m.classifier[4].bias.grad.numpy().copy()
    m.zero_grad()
    step(x, t).backward()
    step(x, t).backward()
    np.testing.assert_allclose(m.classifier[4].bias.grad.numpy(), 2 * ref, rtol=1e-4,
                               atol=1e-6)


def test_input_gradient_multiple_outputs_and_composition_with_eager_ops():
    lin = ac.nn.Linear(4, 3).double()
    f = ac.compile(lambda x: (ac.tanh(lin(x)), ac.relu(x).sum()))
    x = ac.randn(5, 4, seed=0).astype("float64").requires_grad_()
    a, b = f(x)
    ((a * 2).sum() + b * 3).backward()
    g_compiled = x.grad.numpy().copy()
    wg = lin.weight.grad.numpy().copy()
    x.grad = None
    lin.zero_grad()
    a, b = ac.tanh(lin(x)), ac.relu(x).sum()
    ((a * 2).sum() + b * 3).backward()
    np.testing.assert_allclose(g_compiled, x.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(wg, lin.weight.grad.numpy(), rtol=1e-10)


def test_create_graph_through_a_compiled_call_raises_a_named_error():
    lin = ac.nn.Linear(3, 1)
    f = ac.compile(lambda x: ac.tanh(lin(x)).sum())
    with pytest.raises(CompileError, match="create_graph"):
        ac.gradients(f(ac.ones(2, 3)), [lin.weight], create_graph=True)


def test_value_dependent_control_flow_raises_trace_error_or_falls_back():
    def f(x):
        if float(x.sum()) > 0:  # depends on the value
            return x * 2
        return x * 3

    with pytest.raises(TraceError, match="test_compile.py"):
        ac.compile(f)(ac.ones(3))
    g = ac.compile(f, fallback=True)
    with pytest.warns(CompileFallbackWarning, match="eagerly"):
        out = g(ac.ones(3))
    np.testing.assert_array_equal(out.numpy(), [2, 2, 2])
    np.testing.assert_array_equal(g(-ac.ones(3)).numpy(), [-3, -3, -3])
    with pytest.raises(CompileError):
        g.memory_plan()


def test_bad_arguments_are_named_errors():
    with pytest.raises(InvalidArgumentError, match="mode"):
        ac.compile(lambda x: x, mode="fast")
    with pytest.raises(CompileError, match="hashable"):
        ac.compile(lambda x, s: x)(ac.ones(2), [1, 2])
    with pytest.raises(CompileError, match="call the compiled function first"):
        _ = ac.compile(lambda x: x).graph


def test_graphs_print_and_draw_with_fused_clusters():
    m = _lenet()
    x, t = _data()
    step = ac.compile(lambda x, t: F.cross_entropy(m(x), t))
    step(x, t)
    text = str(step.graph)
    assert "conv(" in text and "log_softmax" in text and "grad of" not in text
    btext = str(step.backward_graph)
    assert "conv_weight_grad" in btext and "grad of" in btext
    dot = step.draw()
    assert "subgraph cluster_" in dot and "fused kernel" in dot
    assert "cluster_" in step.draw(which="backward")
    fwd, bwd = step.programs
    assert any(len(g.nodes) >= 2 for g in fwd.groups())  # bias add + tanh
    assert any(g.reductions for g in bwd.groups())  # tanh VJP + bias grad sum


def test_batch_norm_updates_once_and_dropout_draws_fresh_masks():
    ac.manual_seed(0)
    m = ac.nn.Sequential(ac.nn.Conv2d(2, 4, 3), ac.nn.BatchNorm2d(4), ac.nn.ReLU(),
                         ac.nn.Flatten(), ac.nn.Dropout(0.5), ac.nn.Linear(4 * 4 * 4, 3))
    f = ac.compile(m)
    x = ac.randn(3, 2, 6, 6, seed=1)
    f(x)
    before = m[1].running_mean.numpy().copy()
    n_before = int(m[1].num_batches_tracked.numpy())
    a = f(x).numpy()
    b = f(x).numpy()
    assert int(m[1].num_batches_tracked.numpy()) == n_before + 2
    assert not np.allclose(before, m[1].running_mean.numpy())
    assert not np.allclose(a, b)  # a new dropout mask per call
    m.eval()  # the eval signature compiles separately: deterministic, no updates
    rm = m[1].running_mean.numpy().copy()
    c, d = f(x).numpy(), f(x).numpy()
    np.testing.assert_array_equal(c, d)
    np.testing.assert_array_equal(rm, m[1].running_mean.numpy())
    np.testing.assert_allclose(c, m(x).numpy(), rtol=1e-5, atol=1e-6)
    assert f.compiles == 2


def test_inference_mode_and_new_shapes_recompile():
    m = _lenet()
    f = ac.compile(m, mode="inference")
    for n in (2, 5):
        x, _ = _data(n)
        y = f(x)
        assert not y.requires_grad
        np.testing.assert_allclose(y.numpy(), m(x).numpy(), rtol=1e-5, atol=1e-6)
    assert f.compiles == 2


def test_memory_plan_reuses_buffers_and_stays_under_the_eager_peak():
    m = _lenet()
    x, t = _data(32)
    step = ac.compile(lambda x, t: F.cross_entropy(m(x), t))
    step(x, t).backward()
    plan = step.memory_plan()
    assert plan.forward_arena < plan.unplanned  # lifetimes overlap less than all-live

    def peak(fn):
        m.zero_grad()
        tracemalloc.start()
        fn(x, t).backward()
        p = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return p

    eager = peak(lambda x, t: F.cross_entropy(m(x), t))
    compiled = peak(step)
    assert plan.peak <= eager
    assert compiled <= eager


def test_recompiling_the_same_graph_hits_the_kernel_cache():
    m = _lenet()
    x, t = _data()
    ac.compile(lambda x, t: F.cross_entropy(m(x), t))(x, t)
    before = dict(codegen.STATS)
    ac.compile(lambda x, t: F.cross_entropy(m(x), t))(x, t)
    assert codegen.STATS["misses"] == before["misses"]
    assert codegen.STATS["hits"] > before["hits"]


# ---- fused vs unfused vs eager on drawn elementwise chains -------------------------------

_UNARY = ["tanh", "exp", "neg", "relu", "sigmoid", "abs", "leaky_relu", "softplus"]
_BINARY = ["add", "sub", "mul", "div", "maximum", "minimum"]


def _apply_chain(ops, x, b, c):
    y = x
    for kind, name in ops:
        if kind == "u":
            fn = getattr(ac, name, None) or getattr(F, name)
            y = fn(y)
            if name == "exp":
                y = ac.tanh(y)  # keep values bounded
        elif kind == "b":
            other = b if len(y.shape) == len(b.shape) else c
            y = getattr(ac, name)(y, other if name != "div" else ac.exp(other))
        elif kind == "w":
            y = ac.where(ac.gt(y, 0.1), y, y * 0.5)
        else:
            y = y.sum(axis=1, keepdims=True) * 0.1 + y
    return (y * y).sum() + (b * b).sum()


@settings(max_examples=12, deadline=None)
@given(ops=st.lists(st.one_of(st.tuples(st.just("u"), st.sampled_from(_UNARY)),
                              st.tuples(st.just("b"), st.sampled_from(_BINARY)),
                              st.tuples(st.just("w"), st.just("")),
                              st.tuples(st.just("r"), st.just(""))),
                    min_size=1, max_size=6),
       dtype=st.sampled_from(["float32", "float64"]),
       bshape=st.sampled_from([(1, 4, 1), (3, 4, 5), (5,), (3, 1, 5)]))
def test_fused_chains_equal_unfused_and_eager(ops, dtype, bshape):
    rng = np.random.default_rng(0)
    xs = ac.tensor(rng.normal(size=(3, 4, 5)).astype(dtype), requires_grad=True)
    b = ac.tensor(rng.normal(size=bshape).astype(dtype), requires_grad=True)
    c = ac.tensor(rng.normal(size=(5,)).astype(dtype))
    tol = 1e-5 if dtype == "float32" else 1e-10

    def fn(x, b):
        return _apply_chain(ops, x, b, c)

    results = []
    for f in (fn, ac.compile(fn), ac.compile(fn, fuse=False)):
        xs.grad = b.grad = None
        f(xs, b)  # compile
        xs.grad = b.grad = None
        out = f(xs, b)
        out.backward()
        results.append([out.numpy(), xs.grad.numpy(), b.grad.numpy()])
    for got in results[1:]:
        for g, w in zip(got, results[0]):
            scale = max(np.abs(w).max(), 1e-3)
            assert np.abs(g - w).max() <= tol * scale


def test_sum_and_mean_epilogues_when_enabled(monkeypatch):
    from autograd_cnn.compile import fusion

    monkeypatch.setattr(fusion, "REDUCTIONS", codegen.ALL_REDUCTIONS)

    def fn(x, b):
        y = ac.tanh(x + b)
        return (y.sum(axis=(0, 2), keepdims=True) * 0.5 + y.mean(axis=1)[:, None]).sum() + \
            (y * y).mean()

    x = ac.randn(6, 5, 7, seed=0).astype("float64").requires_grad_()
    b = ac.randn(5, 1, seed=1).astype("float64").requires_grad_()
    f = ac.compile(fn)
    f(x, b)
    assert any(g.reductions and any(n.op in ("sum", "mean") for n in g.reductions)
               for g in f.programs[0].groups())
    x.grad = b.grad = None
    out = f(x, b)
    out.backward()
    got = [float(out), x.grad.numpy().copy(), b.grad.numpy().copy()]
    x.grad = b.grad = None
    ref = fn(x, b)
    ref.backward()
    np.testing.assert_allclose(got[0], float(ref), rtol=1e-10)
    np.testing.assert_allclose(got[1], x.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[2], b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_compiled_bound_forward_keeps_the_module_interface_and_mode_flags():
    ac.manual_seed(0)
    m = ac.nn.Sequential(ac.nn.Linear(4, 8), ac.nn.Dropout(0.5), ac.nn.Linear(8, 2))
    m.forward = ac.compile(m.forward)  # model(x) now runs compiled; fit/evaluate work
    x = ac.randn(3, 4, seed=0)
    F.cross_entropy(m(x), ac.tensor([0, 1, 1])).backward()
    assert m[0].weight.grad is not None
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), m(x).numpy())  # no dropout in eval
    assert m.forward.compiles == 2


def test_conv_algorithms_are_measured_once_per_shape_and_remembered(monkeypatch, tmp_path):
    import json

    from autograd_cnn.compile import autotune

    path = tmp_path / "conv_choices.json"
    monkeypatch.setattr(autotune, "_path", lambda: str(path))
    monkeypatch.setattr(autotune, "_CHOICES", None)
    m = _lenet()
    x, t = _data()
    step = ac.compile(lambda x, t: F.cross_entropy(m(x), t), autotune=True)
    step(x, t)
    algs = [a for p in step.programs for _, a in p.algorithms]
    assert len(algs) == 5 and set(algs) <= {"direct", "im2col", "gemm", "generated"}
    assert step._last.tuner.measured == 5
    saved = json.loads(path.read_text())
    assert sorted(saved.values()) == sorted(algs)
    monkeypatch.setattr(autotune, "_CHOICES", None)  # a new process: read from disk
    again = ac.compile(lambda x, t: F.cross_entropy(m(x), t), autotune=True)
    again(x, t)
    assert again._last.tuner.measured == 0
    assert [a for p in again.programs for _, a in p.algorithms] == algs
    from autograd_cnn.kernels import conv_gen

    monkeypatch.setattr(conv_gen, "MIN_FMAS", 0)  # batch 8: generate even for these
    rule = ac.compile(lambda x, t: F.cross_entropy(m(x), t))  # default: no measuring
    rule(x, t)
    assert rule._last.tuner.measured == 0
    # by default every LeNet conv runs a kernel generated for its shapes (kernels/conv_gen)
    assert [a for p in rule.programs for _, a in p.algorithms] == ["generated"] * 5
