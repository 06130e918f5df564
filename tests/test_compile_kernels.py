"""ac.compile's generated kernels: coalesced loops (pattern in the source, sizes at run
time), reductions, groups overwriting a dead operand, relu_grad reading relu's output,
and the two-thread split (bitwise equal to a serial run); fused vs unfused vs eager on
drawn broadcast and reduction patterns."""

import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_cnn as ac
from autograd_cnn.compile import codegen, fusion, program
from autograd_cnn.kernels import threads

F = ac.functional
TOL = {"float32": 1e-5, "float64": 1e-10}


def _group(shape, inputs, keeps=()):
    """A stand-in for a FusionGroup: what Layout reads."""
    vals = [types.SimpleNamespace(shape=tuple(s)) for s in inputs]
    return types.SimpleNamespace(shape=tuple(shape), inputs=vals, keep_shapes=list(keeps))


def test_layout_merges_dims_with_the_same_pattern():
    lay = codegen.Layout(_group((64, 6, 28, 28), [(64, 6, 28, 28), (1, 6, 1, 1)]))
    assert lay.sizes == (64, 6, 784)
    assert lay.inputs == [(64, 6, 784), (1, 6, 1)]
    assert lay.split == 0
    # a bias gradient: the kept channel dim splits, the batch and plane are reduced
    lay = codegen.Layout(_group((64, 6, 28, 28), [(64, 6, 28, 28)], [(1, 6, 1, 1)]))
    assert lay.sizes == (64, 6, 784) and lay.keeps == [(1, 6, 1)] and lay.split == 1
    # right-aligned broadcast, size-1 dims dropped, a 0-d operand
    lay = codegen.Layout(_group((1, 5, 3, 4), [(3, 4), (5, 1, 1), ()]))
    assert lay.sizes == (5, 12) and lay.inputs == [(1, 12), (5, 1), None]
    # a full reduction cannot be split; every size 1: one loop of one element
    assert codegen.Layout(_group((4, 5), [(4, 5)], [(1, 1)])).split is None
    assert codegen.Layout(_group((1, 1), [(1, 1)])).sizes == (1,)


def _bias_relu(x, b):
    return (ac.relu(x + b) * 0.5).sum()


def test_kernel_sources_do_not_depend_on_sizes():
    sources = []
    for shape in ((4, 3, 5, 5), (7, 2, 6, 3)):
        x = ac.randn(*shape, seed=0).requires_grad_()
        b = ac.randn(1, shape[1], 1, 1, seed=1).requires_grad_()
        f = ac.compile(_bias_relu)
        f(x, b).backward()
        sources.append(sorted(s for p in f.programs for s in p.kernel_sources()))
    assert sources[0] and sources[0] == sources[1]


def test_lenet_relu_layers_save_masks_and_store_in_place():
    nn = ac.nn
    ac.manual_seed(0)
    m = nn.Sequential(  # the LeNet-5 of benchmarks/bench_compile.py
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    x = ac.tensor(np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32))
    t = ac.tensor(np.arange(4) % 10)
    f = ac.compile(lambda x, t: F.cross_entropy(m(x), t))
    f(x, t).backward()
    fwd, bwd = f.programs
    conv_groups = [g for g in fwd.groups() if len(g.shape) == 4]
    assert len(conv_groups) == 2
    for g in conv_groups:
        # bias + ReLU + the mask x > 0: the ReLU's result is read by the max-pool only,
        # the bool mask is what the backward reads; both in the arena (no in-place
        # stores in forward programs)
        assert [n.op for n in g.nodes] == ["add", "relu", "gt"]
        assert [v.dtype.kind for v in g.outputs] == ["f", "b"]
        assert not fwd.inplace and all(id(v) in fwd.planned for v in g.outputs)
    saved = {id(v) for v in f._last.split.saved}
    assert all(id(g.outputs[1]) in saved and id(g.outputs[0]) not in saved
               for g in conv_groups)
    for g in [g for g in fwd.groups() if len(g.shape) == 2]:  # linear layers: the
        assert [n.op for n in g.nodes] == ["add", "relu"]  # output, saved anyway
    pool_groups = [g for g in bwd.groups() if len(g.shape) == 4]
    assert len(pool_groups) == 2 and all(id(g) in bwd.inplace for g in pool_groups)
    assert all("rowsum" in codegen.generate(g, bwd.inplace[id(g)]) for g in pool_groups)


@pytest.mark.parametrize("square", [False, True])
def test_relu_grad_from_a_mask_or_the_output_keeps_zeros_negative_zeros_and_nans(square):
    # square=False: nothing in the backward reads relu's output, so it reads the mask
    # x > 0 (computed in the forward); square=True: y*y's VJP reads y, so it reads y
    x = np.array([[-1.0, -0.0, 0.0, 2.0, np.nan, 3.0]], np.float32)
    xs = ac.tensor(x, requires_grad=True)
    b = ac.tensor(np.zeros((1, 6), np.float32), requires_grad=True)
    c = ac.tensor(np.arange(1.0, 7.0, dtype=np.float32))

    def fn(x, b):
        y = ac.relu(x + b)
        return ((y * y if square else y) * c).sum()

    grads = []
    for f in (fn, ac.compile(fn)):
        xs.grad = b.grad = None
        f(xs, b).backward()
        grads.append((xs.grad.numpy().copy(), b.grad.numpy().copy()))
    for got, want in zip(grads[1], grads[0]):
        np.testing.assert_array_equal(got, want)
    ops = [n.op for n in f.graph.nodes]
    assert ("gt" in ops) != square  # the mask runs in the forward program, if at all
    saved = [v.dtype.kind for v in f._last.split.saved]
    assert ("b" in saved) != square


def _net(pool, act):
    def fn(x, w, b):
        y = F.conv2d(x, w, padding=1)
        y = getattr(ac, act)(y + b)
        if pool:
            y = F.max_pool2d(y, 2, stride=1)
        return (y * y).sum() + (b * b).sum()
    return fn


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(2, 5), w=st.integers(2, 5),
       bmask=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
       brank=st.integers(1, 4), dtype=st.sampled_from(["float32", "float64"]),
       pool=st.booleans(), act=st.sampled_from(["relu", "tanh", "sigmoid"]))
def test_conv_bias_act_pool_fused_equal_unfused_and_eager(n, c, h, w, bmask, brank, dtype,
                                                          pool, act):
    rng = np.random.default_rng(n * 100 + c * 10 + h + w)
    full = (n, c, h, w)
    bshape = tuple(s if keep else 1 for s, keep in zip(full, bmask))[4 - brank:]
    x = ac.tensor(rng.normal(size=full).astype(dtype), requires_grad=True)
    wt = ac.tensor(rng.normal(size=(c, c, 3, 3)).astype(dtype) * 0.3, requires_grad=True)
    b = ac.tensor(rng.normal(size=bshape).astype(dtype), requires_grad=True)
    fn = _net(pool, act)
    results = []
    for f in (fn, ac.compile(fn), ac.compile(fn, fuse=False)):
        f(x, wt, b)  # compile
        x.grad = wt.grad = b.grad = None
        out = f(x, wt, b)
        out.backward()
        results.append([out.numpy(), x.grad.numpy(), wt.grad.numpy(), b.grad.numpy()])
    for got in results[1:]:
        for g, want in zip(got, results[0]):
            scale = max(np.abs(want).max(), 1e-3)
            assert np.abs(g - want).max() <= TOL[dtype] * scale


@settings(max_examples=10, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4),
       axes=st.lists(st.booleans(), min_size=4, max_size=4),
       dtype=st.sampled_from(["float32", "float64"]), stored=st.booleans())
def test_sum_epilogues_on_drawn_axes(shape, axes, dtype, stored):
    # every reduction pattern: the inner dim kept (element-wise accumulation) or reduced
    # (row sums of the stored row, or of a scratch row when the value is not stored)
    shape = tuple(shape)
    ax = tuple(d for d in range(len(shape)) if axes[d]) or (0,)
    rng = np.random.default_rng(len(shape) + sum(shape))
    x = ac.tensor(rng.normal(size=shape).astype(dtype), requires_grad=True)

    def fn(x):
        y = ac.tanh(x * 0.7 + 0.1)
        s = y.sum(axis=ax, keepdims=True) * 0.5
        return (s * s).sum() + ((y * y).sum() if stored else 0.0)

    results = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fusion, "REDUCTIONS", codegen.ALL_REDUCTIONS)
        for f in (fn, ac.compile(fn)):
            x.grad = None
            out = f(x)
            out.backward()
            results.append([out.numpy(), x.grad.numpy()])
    for g, want in zip(results[1], results[0]):
        assert np.abs(g - want).max() <= TOL[dtype] * max(np.abs(want).max(), 1e-3)


@pytest.mark.parametrize("shape, bshape", [((6, 5, 7, 9), (1, 5, 1, 1)),
                                           ((40, 33), (33,)), ((5, 4, 11), (5, 1, 11))])
def test_two_thread_split_equals_serial_bitwise(monkeypatch, shape, bshape):
    rng = np.random.default_rng(0)
    x = ac.tensor(rng.normal(size=shape).astype(np.float32), requires_grad=True)
    b = ac.tensor(rng.normal(size=bshape).astype(np.float32), requires_grad=True)
    calls = []
    orig = threads.run_blocks

    def counted(blocks, fn, parts=threads.PARTS):
        calls.append(len(blocks))
        return orig(blocks, fn, parts)

    monkeypatch.setattr(threads, "run_blocks", counted)
    monkeypatch.setattr(threads, "blas_threads", lambda: 2)  # threads even on 1 core
    results = []
    for limit in (None, 0):
        monkeypatch.setattr(program, "GROUP_SPLIT_MIN_ELEMENTS", limit)
        f = ac.compile(_bias_relu)
        x.grad = b.grad = None
        out = f(x, b)
        out.backward()
        results.append([out.numpy(), x.grad.numpy(), b.grad.numpy()])
    assert calls, "no group was split"
    for got, want in zip(results[1], results[0]):
        np.testing.assert_array_equal(got, want)


def test_an_operand_read_later_is_not_overwritten():
    # the conv result feeds the bias + ReLU group and, after it, a max-pool: the group
    # must not store into it (nor into the pool's input, the network input)
    rng = np.random.default_rng(3)
    x = ac.tensor(rng.normal(size=(2, 2, 6, 6)), requires_grad=True)
    w = ac.tensor(rng.normal(size=(3, 2, 3, 3)), requires_grad=True)
    b = ac.tensor(rng.normal(size=(1, 3, 1, 1)), requires_grad=True)

    def fn(x, w, b):
        y = F.conv2d(x, w)
        a = ac.relu(y + b)
        return (a * a).sum() + (F.max_pool2d(y, 2) * 3.0).sum() + ac.tanh(x * 2).sum()

    results = []
    for f in (fn, ac.compile(fn)):
        f(x, w, b)
        x.grad = w.grad = b.grad = None
        out = f(x, w, b)
        out.backward()
        results.append([out.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("conv_first", [False, True])
def test_a_backward_operand_read_later_is_not_overwritten(conv_first):
    # the max-pool's scatter S feeds both the tanh VJP group and the conv's VJPs: the
    # group may store its result over S only when it is S's last reader
    rng = np.random.default_rng(4)
    v = ac.tensor(rng.normal(size=(2, 3, 7, 7)), requires_grad=True)
    x = ac.tensor(rng.normal(size=(2, 2, 8, 8)), requires_grad=True)
    w = ac.tensor(rng.normal(size=(3, 2, 3, 3)), requires_grad=True)

    def fn(v, x, w):
        a = ac.tanh(F.max_pool2d(v, 2, stride=1)) * 1.5
        c = F.conv2d(x, w)
        z = F.max_pool2d(c + a if conv_first else a + c, 2, stride=1)
        return (z * z).sum()

    results = []
    for f in (fn, ac.compile(fn)):
        f(v, x, w)
        v.grad = x.grad = w.grad = None
        out = f(v, x, w)
        out.backward()
        results.append([out.numpy(), v.grad.numpy(), x.grad.numpy(), w.grad.numpy()])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
