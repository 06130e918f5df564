"""PyTorch's tensor API as programs use it: devices, size(), dtype conversions, in-place
operators, max/min with indices, sort/topk/gather, and the small extras (section 2 of
issue 14). Differential checks against torch skip when it is absent."""

import numpy as np
import pytest

import autograd_cnn as ac
from autograd_cnn.errors import (
    DeviceUnavailableError,
    DTypeError,
    IndexOutOfRangeError,
    InplaceError,
    InvalidArgumentError,
    OutputTooLargeError,
    SavedTensorModifiedError,
    ShapeError,
)

# ---- devices ---------------------------------------------------------------------------


def test_device_objects_and_the_cpu_everywhere():
    dev = ac.device("cuda" if ac.cuda.is_available() else "cpu")
    assert dev == ac.device("cpu") == "cpu" and str(dev) == "cpu" and dev.type == "cpu"
    assert ac.device("cuda:1").index == 1 and repr(ac.device("cpu")) == "device(type='cpu')"
    assert ac.cuda.is_available() is False and ac.cuda.device_count() == 0
    assert ac.backends.mps.is_available() is False
    x = ac.tensor([1.0, 2.0], device=dev)
    assert x.device == ac.device("cpu") and x.is_cuda is False
    assert x.to(dev) is x and x.cpu() is x and x.to("cpu", non_blocking=True) is x
    for fn in (ac.zeros, ac.ones, ac.randn, ac.rand, ac.empty):
        assert fn(2, 3, device="cpu").shape == (2, 3)
    assert ac.arange(3, device=dev).tolist() == [0, 1, 2]
    assert ac.full((2,), 1.5, device="cpu").tolist() == [1.5, 1.5]
    assert ac.randint(0, 5, (4,), device="cpu").shape == (4,)
    m = ac.nn.Linear(2, 2)
    assert m.to(dev) is m and m.cpu() is m


@pytest.mark.parametrize("call", [
    lambda: ac.zeros(2, device="cuda"),
    lambda: ac.tensor([1.0], device=ac.device("cuda", 0)),
    lambda: ac.ones(2).to("cuda"),
    lambda: ac.ones(2).to(ac.device("mps")),
    lambda: ac.ones(2).cuda(),
    lambda: ac.nn.Linear(2, 2).to("cuda:0"),
    lambda: ac.nn.Linear(2, 2).cuda(),
    lambda: ac.randn(3, device="cuda"),
    lambda: ac.Generator("cuda"),
])
def test_other_devices_raise_a_named_error_saying_cuda_is_not_available(call):
    with pytest.raises(DeviceUnavailableError, match="not available"):
        call()


def test_unknown_device_strings_are_refused():
    with pytest.raises(InvalidArgumentError, match="device type"):
        ac.device("gpu")


# ---- size(), dtypes, conversions ---------------------------------------------------------


def test_size_is_the_shape_and_numel_the_count():
    x = ac.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and isinstance(x.size(), tuple) and x.size(1) == 3
    assert x.size(-1) == 4 and x.numel() == 24 and x.size().numel() == 24
    with pytest.raises(IndexOutOfRangeError):
        x.size(3)


def test_dtype_names_and_conversions():
    x = ac.tensor([1.7, -2.2])
    assert x.dtype == ac.float32 == ac.float and ac.long == "int64"
    assert x.long().dtype == ac.int64 and x.long().tolist() == [1, -2]
    assert x.int().dtype == np.int32 and x.bool().dtype == np.bool_
    assert x.type() == "autograd_cnn.FloatTensor" and x.long().type() == "autograd_cnn.LongTensor"
    assert x.type(ac.float64).dtype == np.float64 and x.type("torch.LongTensor").dtype == np.int64
    assert x.to(ac.float64).dtype == np.float64 and x.to("cpu", ac.float64).dtype == np.float64
    assert x.to(dtype=ac.long).dtype == np.int64
    assert x.to(ac.zeros(1, dtype="float64")).dtype == np.float64
    assert x.contiguous() is x and x.is_contiguous()
    assert ac.tensor([1, 2], dtype=ac.long).dtype == np.int64
    assert ac.full((1,), 3).dtype == np.int64  # int fill value gives int64, as PyTorch


def test_clone_copies_and_passes_the_gradient():
    x = ac.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert y.data is not x.data and y.op == "clone"
    (y * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert x.to("cpu", copy=True).data is not x.data


def test_new_tensors_view_as_eq_and_friends():
    x = ac.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64")
    z = x.new_zeros(3, 2)
    assert z.shape == (3, 2) and z.dtype == np.float64 and not z.numpy().any()
    assert x.new_ones((2,)).tolist() == [1.0, 1.0] and x.new_full((1,), 7).tolist() == [7.0]
    assert x.new_tensor([1, 2]).dtype == np.float64 and x.new_empty(2).shape == (2,)
    v = ac.arange(4).view_as(x)
    assert v.shape == (2, 2) and ac.tensor([1.0]).expand_as(x).shape == (2, 2)
    assert x.eq(ac.tensor([[1.0, 0.0], [3.0, 0.0]])).tolist() == [[True, False], [True, False]]
    assert x.gt(2).sum().item() == 2 and x.equal(x.clone()) and not x.equal(x + 1)
    assert ac.arange(3).type_as(x).dtype == np.float64


def test_isnan_isinf_any_all():
    x = ac.tensor([1.0, float("nan"), float("inf")])
    assert ac.isnan(x).tolist() == [False, True, False] and x.isinf().tolist() == [0, 0, 1]
    assert ac.isfinite(x).tolist() == [True, False, False]
    assert bool(x.isnan().any()) and not bool(x.isnan().all())
    m = ac.tensor([[True, False], [True, True]])
    assert m.all(dim=1).tolist() == [False, True] and ac.any(m, 0).tolist() == [True, True]


def test_zero_dim_tensor_as_an_index():
    names = ["a", "b", "c"]
    i = ac.tensor(2)
    assert names[i] == "c" and ac.arange(5)[ac.tensor(3)].item() == 3
    with pytest.raises(TypeError):
        names[ac.tensor(1.0)]


# ---- in-place operators ---------------------------------------------------------------


def test_inplace_update_under_no_grad_changes_the_parameter():
    p = ac.nn.Parameter(ac.tensor([1.0, 2.0]))
    alias, data = p, p.data
    (p * p).sum().backward()
    with ac.no_grad():
        p -= 0.1 * p.grad
    assert p is alias and p.data is data and p.tolist() == pytest.approx([0.8, 1.6])
    assert p.is_leaf and p.requires_grad and p.version == 1
    with ac.no_grad():
        p += 1
        p *= 2
        p /= 4
    assert p.tolist() == pytest.approx([0.9, 1.3])


def test_inplace_on_a_leaf_requiring_grad_while_recording_raises():
    p = ac.tensor([1.0], requires_grad=True)
    with pytest.raises(InplaceError, match="leaf"):
        p += 1


def test_inplace_on_a_tensor_saved_for_backward_raises_at_backward():
    x = ac.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    with ac.no_grad():
        y += 1  # no grad flows through this change; it still invalidates z's saved y
    with pytest.raises(SavedTensorModifiedError):
        z.sum().backward()


def test_inplace_on_an_intermediate_is_recorded_like_pytorch():
    x = ac.tensor([1.0, -2.0, 3.0], dtype="float64", requires_grad=True)
    y = x.exp()       # exp saves its output: the VJP must still see the old value
    y += x * x        # recorded: y = exp(x) + x^2
    y *= 2
    y.sum().backward()
    ref = 2 * (np.exp(x.numpy()) + 2 * x.numpy())
    np.testing.assert_allclose(x.grad.numpy(), ref)
    acc = ac.zeros(3, dtype="float64")
    acc += x * 3      # a leaf without grad combined with one with grad
    assert acc.requires_grad and not acc.is_leaf


def test_inplace_dtype_and_shape_rules():
    i = ac.tensor([1, 2])
    with pytest.raises(DTypeError):
        i += 0.5  # PyTorch: result type Float can't be cast to Long
    i += 3
    assert i.tolist() == [4, 5]
    f = ac.zeros(2)
    with pytest.raises(ShapeError):
        f += ac.ones(3, 2)
    v = ac.ones(2, 2, requires_grad=True).reshape(4)
    with pytest.raises(InplaceError, match="view"):
        v += 1


def test_relu_inplace_changes_its_input():
    import autograd_cnn.nn.functional as F

    x = ac.tensor([-1.0, 2.0])
    out = F.relu(x, inplace=True)
    assert out is x and x.tolist() == [0.0, 2.0]


# ---- max / min / sort / topk / gather ------------------------------------------------------


def test_max_with_dim_returns_values_and_indices():
    x = ac.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 0.0]], requires_grad=True)
    r = ac.max(x, 1)
    values, indices = r
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert r.values is values and r.indices is indices
    values.sum().backward()  # the gradient goes to the returned index only (PyTorch)
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]
    assert x.max().item() == 7.0 and x.max(dim=0, keepdim=True).values.shape == (1, 3)
    assert x.min(1).indices.tolist() == [0, 2] and ac.min(x).item() == 0.0
    assert ac.max(x, ac.zeros(2, 3) + 3).tolist() == [[3, 5, 5], [7, 3, 3]]
    assert ac.amax(x, (0, 1)).item() == 7.0
    with pytest.raises(TypeError, match="one int"):
        ac.max(x, (0, 1))


def test_sort_topk_argsort_gather_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 5))
    a[0, 1] = a[0, 3]  # a tie
    x = ac.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    for desc in (False, True):
        v, i = ac.sort(x, dim=1, descending=desc)
        tv, ti = torch.sort(t, dim=1, descending=desc, stable=True)
        np.testing.assert_array_equal(v.numpy(), tv.detach().numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
    v, i = x.topk(2, dim=1)
    tv, ti = t.topk(2, dim=1)
    np.testing.assert_array_equal(v.numpy(), tv.detach().numpy())
    (v * ac.tensor([[1.0, 2.0]])).sum().backward()
    (tv * torch.tensor([[1.0, 2.0]])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())
    idx = rng.integers(0, 5, (3, 4))
    g = ac.gather(x, 1, ac.tensor(idx))
    tg = torch.gather(t, 1, torch.tensor(idx))
    np.testing.assert_array_equal(g.numpy(), tg.detach().numpy())
    np.testing.assert_array_equal(ac.argsort(x, 0).numpy(), torch.argsort(t, 0).numpy())
    with pytest.raises(IndexOutOfRangeError):
        ac.topk(x, 6)


def test_mm_bmm_t_chunk_one_hot_randperm():
    a, b = ac.randn(2, 3), ac.randn(3, 4)
    np.testing.assert_allclose(ac.mm(a, b).numpy(), a.numpy() @ b.numpy(), rtol=1e-6)
    assert ac.bmm(ac.randn(5, 2, 3), ac.randn(5, 3, 1)).shape == (5, 2, 1)
    with pytest.raises(ShapeError):
        ac.mm(ac.randn(2, 3, 1), b)
    assert a.t().shape == (3, 2) and ac.t(ac.ones(3)).shape == (3,)
    assert [c.shape[0] for c in ac.arange(10).chunk(3)] == [4, 4, 2]
    assert [c.shape[0] for c in ac.chunk(ac.arange(5), 5)] == [1] * 5
    oh = ac.functional.one_hot(ac.tensor([0, 2, 1]), 3)
    assert oh.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]] and oh.dtype == np.int64
    assert ac.functional.one_hot(ac.tensor([[3]])).shape == (1, 1, 4)
    with pytest.raises(IndexOutOfRangeError):
        ac.functional.one_hot(ac.tensor([3]), 3)
    p = ac.randperm(6, seed=0)
    assert sorted(p.tolist()) == list(range(6)) and p.dtype == np.int64
    assert ac.from_numpy(np.arange(3)).dtype == np.int64
    g = ac.Generator().manual_seed(3)
    assert ac.randperm(5, generator=g).tolist() == ac.randperm(
        5, generator=ac.Generator().manual_seed(3)).tolist()


def test_creation_functions_refuse_absurd_sizes_with_a_named_error():
    for call in (lambda: ac.zeros(10**7, 10**7), lambda: ac.ones((10**6, 10**6)),
                 lambda: ac.randn(10**12), lambda: ac.full((10**10, 10), 1.0),
                 lambda: ac.arange(10**13), lambda: ac.eye(10**6),
                 lambda: ac.empty(10**12), lambda: ac.zeros(1).new_zeros(10**12)):
        with pytest.raises(OutputTooLargeError, match="elements"):
            call()


# ---- grad mode ---------------------------------------------------------------------------


def test_set_grad_enabled_as_a_plain_call_takes_effect():
    try:
        ac.set_grad_enabled(False)
        assert not ac.is_grad_enabled()
        assert not (ac.ones(1, requires_grad=True) * 2).requires_grad
    finally:
        ac.set_grad_enabled(True)
    with ac.set_grad_enabled(False):
        assert not ac.is_grad_enabled()
    assert ac.is_grad_enabled()

    @ac.set_grad_enabled(False)
    def f():
        return ac.is_grad_enabled()

    assert ac.is_grad_enabled() and f() is False and ac.is_grad_enabled()


def test_inference_mode_and_autocast():
    x = ac.ones(2, requires_grad=True)
    with ac.inference_mode():
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @ac.inference_mode()
    def g():
        return (x * 2).requires_grad

    assert g() is False
    import autograd_cnn.amp as amp

    amp._WARNED[0] = False
    with pytest.warns(UserWarning, match="no mixed precision"):
        with ac.autocast("cuda", dtype=ac.float16):
            y = x * 2
    assert y.dtype == np.float32
    scaler = ac.GradScaler()
    opt = ac.optim.SGD([x], lr=0.1)
    scaler.scale(y.sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert x.tolist() == pytest.approx([0.8, 0.8])


def test_backend_modules_import_like_pytorch():
    import autograd_cnn.backends.cudnn as cudnn
    from autograd_cnn.cuda.amp import GradScaler, autocast  # noqa: F401

    cudnn.benchmark = True
    assert ac.backends.cudnn.benchmark is True and cudnn.is_available() is False
    assert ac.accelerator.is_available() is False
    m = ac.nn.Linear(2, 2).to(memory_format=ac.channels_last)
    x = ac.ones(1, 2).to(device="cpu", dtype=ac.float32, memory_format=ac.channels_last)
    assert m(x).shape == (1, 1 * 2)


def test_optimizers_accept_pytorch_implementation_switches():
    p = ac.nn.Parameter(ac.ones(2))
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"):
        getattr(ac.optim, name)([p], lr=0.1, foreach=True, fused=None, capturable=False)
    with pytest.raises(InvalidArgumentError, match="differentiable"):
        ac.optim.Adam([p], differentiable=True)
    with pytest.raises(TypeError, match="unexpected"):
        ac.optim.SGD([p], lr=0.1, bogus=1)


def test_set_default_dtype_float64_for_floats_creation_and_layers():
    assert ac.get_default_dtype() == np.float32
    try:
        ac.set_default_dtype(ac.float64)
        assert ac.tensor([1.0]).dtype == np.float64 and ac.randn(2).dtype == np.float64
        assert ac.zeros(1).dtype == np.float64 and ac.arange(0.0, 1.0, 0.5).dtype == np.float64
        assert ac.nn.Linear(2, 2).weight.dtype == np.float64
        assert ac.nn.BatchNorm2d(2).running_mean.dtype == np.float64
        assert ac.nn.GroupNorm(1, 2).weight.dtype == np.float64
        assert ac.tensor([1]).dtype == np.int64
    finally:
        ac.set_default_dtype("float32")
    assert ac.tensor([1.0]).dtype == np.float32
    with pytest.raises(DTypeError):
        ac.set_default_dtype("int64")


def test_inplace_change_of_a_saved_output_raises_at_backward():
    x = ac.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # exp's VJP reads its output
    with ac.no_grad():
        y += 1
    with pytest.raises(SavedTensorModifiedError, match="output of op 'exp'"):
        y.sum().backward()
    x = ac.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    with ac.no_grad():
        y.mul_(2)  # the tensor methods are covered by the same check
    y2 = y * 1.0
    with pytest.raises(SavedTensorModifiedError):
        y2.sum().backward()
