"""ac.trace: every primitive and every zoo model traces; replays equal eager on new
values; symbolic batches run at any size; traced gradients equal the tape's; bad input
and Python control flow give named errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn.errors import ArgumentTypeError, ReplayError, TraceError
from autograd_cnn.graph import Dim
from autograd_cnn.testing import CASES
from autograd_cnn.testing.zoo import SMALL_ZOO

PRIMS = sorted(ac.REGISTRY)


def _perturbed(inputs, seed):
    rng = np.random.default_rng(seed)
    out = []
    for t in inputs:
        a = t.numpy()
        if a.dtype.kind == "f":  # small relative moves keep drawn values off the kinks
            a = a * (1 + 0.01 * rng.uniform(-1, 1, a.shape))
        out.append(ac.Tensor(a))
    return out


def _leaves(out):
    return [out] if isinstance(out, ac.Tensor) else [t for t in out if isinstance(t, ac.Tensor)]


def _close(a, b, rtol=1e-6):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-9)


@pytest.mark.parametrize("name", PRIMS)
def test_every_primitive_traces_and_replays_on_new_values(name):
    @settings(max_examples=10)
    @given(CASES[name])
    def check(case):
        g = ac.trace(case.fn, *case.inputs)
        assert name in g.ops() or name in ("dropout_mask",), f"{case.label}: {g.ops()}"
        new = _perturbed(case.inputs, 1)
        for got, want in zip(_leaves(g(*new)), _leaves(case.fn(*new))):
            _close(got.numpy(), want.numpy())

    check()


@pytest.mark.parametrize("name", sorted(n for n, p in ac.REGISTRY.items() if p.differentiable))
def test_traced_gradient_equals_the_tapes_for_every_primitive(name):
    @settings(max_examples=5)
    @given(CASES[name])
    def check(case):
        n = len(case.inputs)

        def loss(*xs):
            return sum((t * t).sum() for t in _leaves(case.fn(*xs)) if t.dtype.kind == "f")

        grad = ac.grad(loss, argnums=tuple(range(n)))
        g = ac.trace(grad, *case.inputs)
        assert g.backward_nodes(), "a traced gradient has backward nodes"
        new = _perturbed(case.inputs, 2)
        for got, want in zip(g(*new), grad(*new)):
            _close(got.numpy(), want.numpy(), rtol=1e-6)

    check()


@pytest.mark.parametrize("name, factory, shape", SMALL_ZOO, ids=[z[0] for z in SMALL_ZOO])
def test_every_zoo_model_traces_with_a_symbolic_batch(name, factory, shape):
    ac.manual_seed(0)
    m = factory().double().eval()
    g = ac.trace(m, ac.ShapeSpec((None,) + shape[1:], "float64", sizes={"N": shape[0]}))
    assert isinstance(g.inputs[0].shape[0], Dim)
    assert {p.name for p in g.params} <= {k for k, _ in m.named_parameters()} | {
        k for k, _ in m.named_buffers()}
    for n in (1, 3):
        x = ac.randn(n, *shape[1:], seed=n, dtype="float64")
        _close(g(x).numpy(), m(x).numpy())


def test_symbolic_batch_runs_at_1_7_and_64_without_retracing():
    m = ac.models.LeNet5()
    g = ac.trace(m, ac.ShapeSpec((None, 1, 32, 32)))
    nodes = list(g.nodes)
    for n in (1, 7, 64):
        x = ac.randn(n, 1, 32, 32, seed=n)
        y = g(x)
        assert y.shape == (n, 10)
        np.testing.assert_allclose(y.numpy(), m(x).numpy(), rtol=1e-5, atol=1e-6)
    assert g.nodes == nodes  # the same graph object ran every time
    assert "reshape(%9; shape=(N,400))" in str(g)


def test_replay_reads_parameters_at_call_time_and_is_differentiable():
    m = ac.nn.Linear(3, 2)
    g = ac.trace(m, ac.ShapeSpec((None, 3)))
    x = ac.randn(4, 3, seed=0)
    before = g(x).numpy().copy()
    with ac.no_grad():
        m.weight.data[...] = m.weight.data * 2  # an optimizer step, seen without re-tracing
    after = g(x)
    np.testing.assert_allclose(after.numpy(), m(x).numpy(), rtol=1e-6)
    assert not np.allclose(before, after.numpy())
    after.sum().backward()  # the replay recorded on the tape like eager code
    np.testing.assert_allclose(m.weight.grad.numpy(), np.tile(x.numpy().sum(0), (2, 1)),
                               rtol=1e-5)


@pytest.mark.parametrize("name", ["lenet5_32", "resnet18", "unet_same"])
def test_traced_model_gradient_equals_the_tapes(name):
    factory, shape = next((f, s) for n, f, s in SMALL_ZOO if n == name)
    ac.manual_seed(0)
    m = factory()
    params = list(m.parameters())

    def grads(x):
        return ac.gradients((m(x) ** 2).mean(), params)

    g = ac.trace(grads, ac.ShapeSpec((None,) + shape[1:], sizes={"N": shape[0]}), params=m)
    x = ac.randn(3, *shape[1:], seed=5)
    want = grads(x)
    for got, w in zip(g(x), want):
        np.testing.assert_allclose(got.numpy(), w.numpy(), rtol=1e-4, atol=1e-6)
    assert "conv_transpose" in g.ops() or name == "lenet5_32"
    assert any(n.grad_of is not None and n.op == "conv_weight_grad" for n in g.nodes)


def test_backward_graph_shows_conv_transpose_and_maxpool_scatter():
    w = ac.randn(4, 2, 3, 3, seed=1, dtype="float64")

    def f(x):
        return (F.max_pool2d(F.conv2d(x, w, padding=1), 2) ** 2).sum()

    g = ac.trace(ac.grad(f), ac.randn(1, 2, 6, 6, seed=0, dtype="float64"))
    ops = {n.op: n for n in g.backward_nodes()}
    assert "conv_transpose" in ops and "pool_scatter" in ops
    assert ops["conv_transpose"].grad_of.op == "conv"
    assert ops["pool_scatter"].grad_of.op == "max_pool2d"
    # the argmax the scatter uses is the pool node's second output
    pool = ops["pool_scatter"].grad_of
    assert ops["pool_scatter"].inputs[1] is pool.outputs[1]


def test_hvp_graph_matches_finite_differences():
    w = ac.randn(3, 3, seed=2, dtype="float64")

    def f(x):
        return (ac.tanh(x @ w) ** 2).sum()

    v = ac.randn(2, 3, seed=3, dtype="float64")
    g = ac.trace(lambda x: ac.hvp(f, x, v)[1], ac.randn(2, 3, seed=4, dtype="float64"))
    x = ac.randn(2, 3, seed=6, dtype="float64")
    eps = 1e-5
    gp = ac.grad(f)(x + eps * v).numpy()
    gm = ac.grad(f)(x - eps * v).numpy()
    np.testing.assert_allclose(g(x).numpy(), (gp - gm) / (2 * eps), rtol=1e-6, atol=1e-8)
    assert sum(1 for n in g.nodes if n.grad_of is not None and n.grad_of.grad_of is not None)


def test_python_if_on_a_traced_value_names_the_users_line():
    def f(x):
        if x.sum() > 0:  # the line the error must name
            return x
        return -x

    with pytest.raises(TraceError, match=r"test_graph_trace\.py:\d+.*ac\.where") as e:
        ac.trace(f, ac.randn(3))
    line = int(str(e.value).split("test_graph_trace.py:")[1].split(":")[0].split()[0])
    import inspect

    assert "if x.sum() > 0" in inspect.getsource(f).splitlines()[line - f.__code__.co_firstlineno]


@pytest.mark.parametrize("convert", [int, float, bool, lambda t: t.item(), lambda t: t.numpy()])
def test_conversions_of_traced_values_raise(convert):
    with pytest.raises(TraceError, match="traced tensor"):
        ac.trace(lambda x: x * convert(x.sum()), ac.randn(1))


def test_a_value_computed_outside_the_ops_is_refused():
    def f(x):
        return x * ac.Tensor(x.data * 2)  # .data arithmetic escapes the graph

    with pytest.raises(TraceError, match="computed outside"):
        ac.trace(f, ac.randn(3))


def test_where_is_the_traceable_choice():
    g = ac.trace(lambda x: ac.where(x > 0, x, -x), ac.ShapeSpec((None,)))
    x = ac.tensor([-1.0, 2.0, -3.0])
    assert g(x).tolist() == [1.0, 2.0, 3.0]


def test_tracing_a_non_tensor_result_raises():
    with pytest.raises(TraceError, match="returns? tensors.*str"):
        ac.trace(lambda x: "hello", ac.randn(2))


def test_wrong_number_of_example_args_raises():
    with pytest.raises(ArgumentTypeError, match=r"\(x, y\) cannot take the 1 example"):
        ac.trace(lambda x, y: x + y, ac.randn(2))
    with pytest.raises(ArgumentTypeError, match="expected a function or nn.Module"):
        ac.trace(3, ac.randn(2))


def test_replay_checks_count_shape_and_dtype():
    g = ac.trace(lambda x: x * 2, ac.ShapeSpec((None, 3)))
    with pytest.raises(ReplayError, match="expected 1 positional inputs"):
        g(ac.randn(2, 3), ac.randn(2, 3))
    with pytest.raises(ReplayError, match=r"f32\[N,3\], got \(2, 4\)"):
        g(ac.randn(2, 4))
    with pytest.raises(ReplayError, match="dtype float32, got float64"):
        g(ac.randn(2, 3, dtype="float64"))


def test_symbol_sizes_must_agree_across_inputs():
    g = ac.trace(lambda a, b: a + b, ac.ShapeSpec(("N", 2)), ac.ShapeSpec(("N", 2)))
    with pytest.raises(ReplayError, match="inconsistent"):
        g(ac.randn(3, 2), ac.randn(4, 2))


def test_text_form_names_inputs_params_and_symbolic_dims():
    m = ac.nn.Sequential(ac.nn.Conv2d(1, 2, 3), ac.nn.ReLU())
    g = ac.trace(m, ac.ShapeSpec((None, 1, 5, 5)))
    text = str(g)
    assert "x: f32[N,1,5,5]" in text or "input: f32[N,1,5,5]" in text
    assert "0.weight: f32[2,1,3,3]" in text and ": f32[N,2,3,3]" in text
    assert text.splitlines()[-1] == "}" and text.splitlines()[-2].startswith("  return %")


def test_batchnorm_training_updates_are_replayed():
    bn = ac.nn.BatchNorm2d(3)
    g = ac.trace(bn, ac.ShapeSpec((None, 3, 4, 4)))
    assert len(g.updates) == 2
    x = ac.randn(5, 3, 4, 4, seed=0)
    before = bn.running_mean.numpy().copy()
    g(x)
    expected = 0.9 * before + 0.1 * x.numpy().mean(axis=(0, 2, 3))
    np.testing.assert_allclose(bn.running_mean.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_dropout_draws_a_fresh_mask_every_replay():
    g = ac.trace(lambda x: F.dropout(x, 0.5), ac.ShapeSpec((None, 100)))
    x = ac.ones(2, 100)
    a, b = g(x).numpy(), g(x).numpy()
    assert not np.array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 2.0}


@given(st.integers(1, 5), st.integers(1, 4))
def test_static_shapes_give_concrete_dims(n, c):
    g = ac.trace(lambda x: ac.relu(x).sum(axis=1), ac.randn(n, c))
    assert g.outputs[0].shape == (n,)
    assert not g.symbols


def test_drawing_an_ir_graph_marks_backward_nodes_and_modules():
    m = ac.models.LeNet5()
    g = ac.trace(lambda x: ac.gradients((m(x) ** 2).sum(), list(m.parameters())),
                 ac.ShapeSpec((None, 1, 32, 32)), params=m)
    d = ac.viz.draw(g)
    assert d.info["ops"] == len(g.forward_nodes())
    assert d.info["backward_ops"] == len(g.backward_nodes())
    assert "conv_transpose2d" in d.source and "features.0" in d.source and "∂ conv2d" in d.source
    pair = ac.viz.side_by_side([g, g.simplify()], ["traced", "simplified"])
    assert pair.info["graphs"]["simplified"]["nodes"] < pair.info["graphs"]["traced"]["nodes"]
    assert "cluster_side0" in pair.source and "cluster_side1" in pair.source


def test_argmax_of_an_empty_batch_is_empty_and_of_an_empty_dim_refused():
    assert ac.argmax(ac.zeros(0, 3), dim=1).shape == (0,)
    with pytest.raises(ValueError, match="empty"):
        ac.argmax(ac.zeros(3, 0), dim=1)


def test_in_place_operators_are_traced_as_the_ops_they_run():
    def f(x):
        y = x * 2
        y += 1  # PyTorch's in-place idiom: the graph must see the new value
        return (ac.relu(y) * x).sum()

    g = ac.trace(ac.grad(f), ac.tensor([1.0, -2.0]))
    for v in ([3.0, -1.0], [-4.0, 0.25]):
        x = ac.tensor(v)
        np.testing.assert_allclose(g(x).numpy(), ac.grad(f)(x).numpy())
    with pytest.raises(TraceError, match="in-place add_"):
        ac.trace(lambda x: x.add_(1), ac.tensor([1.0]))
