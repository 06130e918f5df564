"""Rewrite passes: each keeps every value on the whole zoo (forward, training and
gradient graphs); the identities they promise fire; LeNet-5's simplified
forward+backward graph meets its size goals."""

import numpy as np
import pytest

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn.errors import InvalidArgumentError
from autograd_cnn.graph import PASSES, Dim
from autograd_cnn.testing.zoo import SMALL_ZOO


def _run(g, *args):
    out = g(*args)
    return [t.numpy() for t in (out if isinstance(out, (tuple, list)) else [out])]


def _grad_graph(m, shape):
    params = list(m.parameters())

    def grads(x):
        return ac.gradients((m(x) ** 2).mean(), params)

    spec = ac.ShapeSpec((None,) + shape[1:], "float64", sizes={"N": shape[0]})
    return ac.trace(grads, spec, params=m)


@pytest.mark.parametrize("name, factory, shape", SMALL_ZOO, ids=[z[0] for z in SMALL_ZOO])
def test_every_pass_keeps_the_values_of_the_zoo(name, factory, shape):
    ac.manual_seed(0)
    m = factory().double()
    x = ac.randn(3, *shape[1:], seed=7, dtype="float64")
    spec = ac.ShapeSpec((None,) + shape[1:], "float64", sizes={"N": shape[0]})
    graphs = {"inference": ac.trace(m.eval(), spec), "gradient": _grad_graph(m.eval(), shape)}
    for kind, g in graphs.items():
        want = _run(g, x)
        for pname, fn in PASSES.items():
            out = fn(g)
            for a, b in zip(_run(out, x), want):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12,
                                           err_msg=f"{kind} graph, pass {pname}")
        s = g.simplify()
        assert len(s.nodes) <= len(g.nodes)
        for a, b in zip(_run(s, x), want):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{kind} simplify")


def test_conv_batchnorm_folding_removes_the_normalization_from_inference_graphs():
    m = ac.nn.Sequential(ac.nn.Conv2d(3, 4, 3), ac.nn.BatchNorm2d(4), ac.nn.ReLU()).double()
    with ac.no_grad():  # non-trivial statistics
        m[1].running_mean.data[...] = np.arange(4) * 0.1
        m[1].running_var.data[...] = 1 + np.arange(4) * 0.5
        m[1].weight.data[...] = 0.5 + np.arange(4)
    m.eval()
    g = ac.trace(m, ac.ShapeSpec((None, 3, 6, 6), "float64"))
    folded = PASSES["dce"](PASSES["fold_batchnorm"](g))
    big = [n.op for n in folded.nodes if isinstance(n.outputs[0].shape[0], Dim)]
    assert big == ["conv", "add", "relu"]  # one add replaces sub, div, mul, add
    x = ac.randn(2, 3, 6, 6, seed=0, dtype="float64")
    np.testing.assert_allclose(folded(x).numpy(), m(x).numpy(), rtol=1e-10)
    with ac.no_grad():  # parameters are read at call time, also through the fold
        m[1].weight.data[...] *= 3
    np.testing.assert_allclose(folded(x).numpy(), m(x).numpy(), rtol=1e-10)


def test_identities_fire():
    def f(x):
        y = (x * 1.0 + 0.0) / 1.0
        y = y.permute(1, 0).permute(1, 0)
        y = y.reshape(6).reshape(2, 3).reshape(2, 3)
        return y.astype("float32")

    g = ac.trace(f, ac.randn(2, 3))
    s = g.simplify()
    assert len(s.nodes) == 0 and s.outputs[0] is s.inputs[0]


def test_cse_and_dce():
    def f(x):
        a = ac.exp(x)
        b = ac.exp(x)  # the same computation twice
        ac.tanh(x)  # unused
        return a + b

    g = ac.trace(f, ac.randn(3))
    assert g.ops() == {"exp": 2, "tanh": 1, "add": 1}
    s = g.simplify()
    assert s.ops() == {"exp": 1, "add": 1}


def test_constant_folding_and_symbolic_counts():
    g = ac.trace(ac.grad(lambda x: x.mean()), ac.ShapeSpec((None, 4), "float64"))
    assert "numel" in g.ops()  # 1/N follows the batch, so it is not frozen
    np.testing.assert_allclose(g(ac.ones(5, 4, dtype="float64")).numpy(), 1 / 20)
    static = ac.trace(ac.grad(lambda x: x.mean()), ac.ones(5, 4, dtype="float64"))
    assert "numel" not in static.simplify().ops()


def test_simplify_log_and_unknown_pass():
    g = ac.trace(lambda x: ac.exp(x) * 1.0, ac.randn(3))
    s, log = g.simplify(log=True)
    assert all(len(e) == 3 and e[0] in PASSES for e in log)
    assert log[0][1] == len(g.nodes) and s.ops() == {"exp": 1}
    with pytest.raises(InvalidArgumentError, match="unknown pass 'nope'"):
        g.simplify(passes=["nope"])


def test_lenet5_simplified_backward_graph_meets_the_size_goals():
    m = ac.models.LeNet5()

    def loss(x, t):
        return F.cross_entropy(m(x), t)

    def grads(x, t):
        return ac.gradients(loss(x, t), list(m.parameters()))

    spec = (ac.ShapeSpec((None, 1, 32, 32)), ac.ShapeSpec((None,), "int64"))
    forward = ac.trace(loss, *spec, params=m).simplify()
    both = ac.trace(grads, *spec, params=m).simplify()
    ratio = len(both.nodes) / len(forward.nodes)
    assert ratio <= 2.0, (len(both.nodes), len(forward.nodes))
    assert len(str(both).splitlines()) <= 150
    # the gradient of the linear layers' weights is one contraction each, no transposes
    assert both.ops().get("einsum") == 3
    x, t = ac.randn(4, 1, 32, 32, seed=0), ac.tensor(np.array([0, 1, 2, 3]))
    for a, b in zip(both(x, t), grads(x, t)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-7)
