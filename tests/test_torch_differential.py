"""Differential tests against PyTorch on a sample of DSL ops: values and gradients in
float64. Skipped when torch is not installed."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_cnn as ac
from autograd_cnn.testing import shapes, tensors

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

# (name, ours, theirs): each maps a tuple of inputs to an output
UNARY = [
    ("exp", ac.exp, torch.exp),
    ("tanh", ac.tanh, torch.tanh),
    ("sigmoid", ac.sigmoid, torch.sigmoid),
    ("softplus", lambda x: ac.softplus(x, 2.0, 3.0),
     lambda x: torch.nn.functional.softplus(x, 2.0, 3.0)),
    ("leaky_relu", lambda x: ac.leaky_relu(x, 0.1),
     lambda x: torch.nn.functional.leaky_relu(x, 0.1)),
    ("softmax", lambda x: ac.softmax(x, dim=-1), lambda x: torch.softmax(x, dim=-1)),
    ("log_softmax", lambda x: ac.log_softmax(x, dim=0), lambda x: torch.log_softmax(x, dim=0)),
    ("logsumexp", lambda x: ac.logsumexp(x, dim=-1), lambda x: torch.logsumexp(x, dim=-1)),
    # var over a dim of size >= 2 (size 1 has no degrees of freedom: NaN in both)
    ("var", lambda x: ac.var(ac.concatenate([x, 0.5 * x]), dim=0),
     lambda x: torch.var(torch.cat([x, 0.5 * x]), dim=0)),
    ("amax", lambda x: ac.amax(x, dim=-1), lambda x: torch.amax(x, dim=-1)),
    ("flip", lambda x: ac.flip(x, 0), lambda x: torch.flip(x, (0,))),
    ("repeat", lambda x: x.repeat(2, *([1] * x.ndim)),
     lambda x: x.repeat(2, *([1] * x.ndim))),
]


def _compare(ours_fn, theirs_fn, arrays):
    ours_in = [ac.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = ours_fn(*ours_in)
    theirs = theirs_fn(*theirs_in)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(0).standard_normal(ours.shape)
    ours.backward(g)
    theirs.backward(torch.tensor(g))
    for o, t in zip(ours_in, theirs_in):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,ours,theirs", UNARY, ids=[u[0] for u in UNARY])
def test_unary_ops_match_torch(name, ours, theirs):
    @given(tensors(shape=shapes(min_dims=1), unique=True,
                   elements=st.integers(-300, 300).map(lambda k: k / 100)))
    def check(x):
        _compare(ours, theirs, [x.numpy()])

    check()


@given(st.data())
def test_batched_matmul_matches_torch(data):
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    a = data.draw(tensors(shape=(2, 1, m, k))).numpy()
    b = data.draw(tensors(shape=(3, k, n))).numpy()
    _compare(lambda x, y: x @ y, lambda x, y: x @ y, [a, b])


@given(st.data())
def test_einsum_matches_torch(data):
    a = data.draw(tensors(shape=(2, 3, 4))).numpy()
    b = data.draw(tensors(shape=(3, 5))).numpy()
    _compare(lambda x, y: ac.einsum("nci,co->noi", x, y),
             lambda x, y: torch.einsum("nci,co->noi", x, y), [a, b])


def test_pow_and_division_broadcasting_match_torch():
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 2, (3, 1, 4))
    b = rng.uniform(-1, 1, (2, 4))
    _compare(lambda x, y: x ** y / (y + 3), lambda x, y: x ** y / (y + 3), [a, b])


def test_getitem_advanced_indexing_matches_torch():
    a = np.arange(12.0).reshape(3, 4)
    idx = np.array([2, 0, 2])
    _compare(lambda x: x[idx][:, 1:3] * x[0, 1:3],
             lambda x: x[torch.tensor(idx)][:, 1:3] * x[0, 1:3],
             [a])


def test_pad_matches_torch():
    a = np.random.default_rng(2).standard_normal((2, 3, 4))
    _compare(lambda x: ac.pad(x, (1, 2, 0, 1), value=0.5),
             lambda x: torch.nn.functional.pad(x, (1, 2, 0, 1), value=0.5), [a])
