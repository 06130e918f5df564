"""PyTorch's OpInfo samples run through autograd_cnn: the mapping and the comparison.

``MAP`` names, for each entry of torch's ``op_db`` (``name`` or ``name.variant``) that
autograd_cnn has, the callable of ours that takes the sample's arguments in torch's order.
:func:`run_op` converts every sample (float64, ``requires_grad=True``) into our tensors,
runs both libraries, and compares outputs and the gradients of every input with respect to
a fixed random cotangent. Each sample ends in one of three outcomes:

- ``matched``: same structure, shapes, dtypes, values (rtol = atol = 1e-7, NaN == NaN), and
  same gradients (an absent gradient counts as zeros);
- ``mismatched``: anything else, including a crash that is not a named refusal;
- ``unsupported``: the sample uses something autograd_cnn deliberately lacks: our function
  refused it with a named error of :mod:`autograd_cnn.errors`, or does not take one of its
  keywords (``TypeError: ... unexpected keyword``), or the adapter below says so
  (:class:`Unsupported`).

Random ops (dropout) are checked by their structure (every output element is 0 or
``x / (1 - p)``, whole channels for dropout2d, gradient through the same mask).

Importing this module needs torch; ``expecttest`` (a test-only dependency of torch's
internal test utilities, which only supplies a ``TestCase`` base class) is replaced by a
stand-in when it is not installed.
"""

from __future__ import annotations

import inspect
import sys
import types
import unittest
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn.errors import AutogradCNNError

try:  # torch.testing._internal.common_utils imports it at the top
    import expecttest  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    _stub = types.ModuleType("expecttest")
    _stub.TestCase = unittest.TestCase
    _stub.ACCEPT = False
    sys.modules["expecttest"] = _stub

from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402

RTOL = ATOL = 1e-7


class Unsupported(Exception):
    """Raised by an adapter for a sample that uses a feature autograd_cnn lacks."""


# ---- adapters: torch's argument order -> ours -----------------------------------------


def _max_with_dim(x, dim, keepdim=False):
    out = ac.max(x, dim, keepdim)
    if isinstance(out, tuple):  # (values, indices), as torch
        return out
    return out, ac.argmax(x, dim, keepdim)


def _min_with_dim(x, dim, keepdim=False):
    out = ac.min(x, dim, keepdim)
    if isinstance(out, tuple):
        return out
    return out, ac.argmin(x, dim, keepdim)


def _upsample_nearest(x, size=None, scale_factor=None):
    return F.interpolate(x, size, scale_factor, mode="nearest")


def _upsample_bilinear(x, size=None, scale_factor=None):
    return F.interpolate(x, size, scale_factor, mode="bilinear", align_corners=True)


def _split(x, split_size_or_sections, dim=0):
    return ac.split(x, split_size_or_sections, dim)


MAP: dict = {
    # elementwise
    "abs": ac.abs, "add": ac.add, "sub": ac.sub, "mul": ac.mul,
    "div.no_rounding_mode": ac.div, "div.floor_rounding": ac.div, "div.trunc_rounding": ac.div,
    "true_divide": ac.div, "pow": ac.pow, "maximum": ac.maximum, "minimum": ac.minimum,
    "neg": ac.neg, "exp": ac.exp, "log": ac.log, "sqrt": ac.sqrt, "sign": ac.sign,
    "sigmoid": ac.sigmoid, "tanh": ac.tanh,
    "nn.functional.relu": F.relu, "nn.functional.leaky_relu": F.leaky_relu,
    "nn.functional.softplus": F.softplus,
    "clamp": ac.clamp,
    "clamp_min": lambda x, m: ac.clamp(x, min=m),
    "clamp_max": lambda x, m: ac.clamp(x, max=m),
    "where": lambda x, cond, y: ac.where(cond, x, y),
    "eq": ac.eq, "ne": ac.ne, "lt": ac.lt, "le": ac.le, "gt": ac.gt, "ge": ac.ge,
    "__radd__": lambda x, o: x.__radd__(o), "__rsub__": lambda x, o: x.__rsub__(o),
    "__rmul__": lambda x, o: x.__rmul__(o), "__rdiv__": lambda x, o: x.__rtruediv__(o),
    "__rpow__": lambda x, o: x.__rpow__(o), "__rmatmul__": lambda x, o: x.__rmatmul__(o),
    "float": lambda x, **k: x.float(**k), "double": lambda x, **k: x.double(**k),
    # reductions
    "sum": ac.sum, "mean": ac.mean, "var": ac.var, "var.unbiased": ac.var, "std": ac.std,
    "std.unbiased": ac.std, "amax": ac.amax, "amin": ac.amin,
    "max.reduction_no_dim": ac.max, "min.reduction_no_dim": ac.min,
    "max.reduction_with_dim": _max_with_dim, "min.reduction_with_dim": _min_with_dim,
    "argmax": ac.argmax, "argmin": ac.argmin, "logsumexp": ac.logsumexp,
    "softmax": ac.softmax, "softmax.with_dtype": ac.softmax,
    "log_softmax": ac.log_softmax, "log_softmax.with_dtype": ac.log_softmax,
    "sum_to_size": lambda x, *size: ac.sum_to(
        x, size[0] if len(size) == 1 and not isinstance(size[0], int) else size),
    # movement
    "reshape": lambda x, *shape: ac.reshape(x, *shape),
    "view": lambda x, *shape: x.view(*shape),
    "flatten": ac.flatten, "ravel": ac.ravel,
    "squeeze": ac.squeeze, "squeeze.multiple": ac.squeeze, "unsqueeze": ac.unsqueeze,
    "permute": lambda x, *dims: ac.permute(x, *dims), "transpose": ac.transpose,
    "T": lambda x: x.T, "mT": lambda x: x.mT,
    "broadcast_to": ac.broadcast_to, "expand": lambda x, *sizes: x.expand(*sizes),
    "cat": ac.cat, "stack": ac.stack,
    "split": _split, "split.list_args": _split, "split_with_sizes": _split,
    "flip": ac.flip, "tile": ac.tile, "repeat": lambda x, *sizes: x.repeat(*sizes),
    "nn.functional.pad.constant": F.pad, "nn.functional.pad.reflect": F.pad,
    "nn.functional.pad.replicate": F.pad, "nn.functional.pad.replicate_negative": F.pad,
    "nn.functional.pad.circular": F.pad,
    "constant_pad_nd": lambda x, pad, value=0.0: F.pad(x, pad, value=value),
    "__getitem__": ac.getitem,
    # linalg
    "matmul": ac.matmul, "einsum": lambda tensors, eq: ac.einsum(eq, *tensors),
    # pooling
    "nn.functional.max_pool1d": F.max_pool1d, "nn.functional.max_pool2d": F.max_pool2d,
    "nn.functional.max_pool3d": F.max_pool3d,
    "nn.functional.avg_pool1d": F.avg_pool1d, "nn.functional.avg_pool2d": F.avg_pool2d,
    "nn.functional.avg_pool3d": F.avg_pool3d,
    "nn.functional.adaptive_avg_pool2d": F.adaptive_avg_pool2d,
    "nn.functional.adaptive_max_pool2d": F.adaptive_max_pool2d,
    "nn.functional.max_unpool1d": F.max_unpool1d, "nn.functional.max_unpool1d.grad":
    F.max_unpool1d, "nn.functional.max_unpool2d": F.max_unpool2d,
    "nn.functional.max_unpool2d.grad": F.max_unpool2d,
    "nn.functional.max_unpool3d": F.max_unpool3d,
    "nn.functional.max_unpool3d.grad": F.max_unpool3d,
    # normalization, dropout
    "nn.functional.batch_norm": F.batch_norm, "nn.functional.layer_norm": F.layer_norm,
    "nn.functional.dropout": F.dropout, "nn.functional.dropout2d": F.dropout2d,
    # resampling
    **{f"nn.functional.interpolate.{m}": F.interpolate
       for m in ("nearest", "linear", "bilinear", "trilinear", "bicubic", "nearest-exact",
                 "area")},
    "nn.functional.upsample_nearest": _upsample_nearest,
    "nn.functional.upsample_bilinear": _upsample_bilinear,
    "nn.functional.pixel_shuffle": F.pixel_shuffle,
    "nn.functional.pixel_unshuffle": F.pixel_unshuffle,
    # losses
    "nn.functional.binary_cross_entropy": F.binary_cross_entropy,
    "nn.functional.binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    "nn.functional.cross_entropy": F.cross_entropy, "nn.functional.nll_loss": F.nll_loss,
    "nn.functional.huber_loss": F.huber_loss, "nn.functional.kl_div": F.kl_div,
    "nn.functional.l1_loss": F.l1_loss, "nn.functional.mse_loss": F.mse_loss,
    "nn.functional.smooth_l1_loss": F.smooth_l1_loss,
    # convolution
    "nn.functional.conv1d": F.conv1d, "nn.functional.conv2d": F.conv2d,
    "nn.functional.conv3d": F.conv3d, "nn.functional.conv_transpose1d": F.conv_transpose1d,
    "nn.functional.conv_transpose2d": F.conv_transpose2d,
    "nn.functional.conv_transpose3d": F.conv_transpose3d,
    "nn.functional.unfold": F.unfold,
}

def _method(name):
    return lambda x, *a, **k: getattr(x, name)(*a, **k)


# PyTorch-compatibility ops and methods
MAP.update({
    "chunk": ac.chunk, "clone": ac.clone, "contiguous": _method("contiguous"), "cos": ac.cos,
    "sin": ac.sin, "erf": ac.erf, "expand_as": _method("expand_as"),
    "reshape_as": _method("reshape_as"), "view_as": _method("view_as"), "t": ac.t,
    "logical_not": ac.logical_not, "logical_and": ac.logical_and, "logical_or": ac.logical_or,
    "isfinite": ac.isfinite, "isinf": ac.isinf, "isnan": ac.isnan, "all": ac.all, "any": ac.any,
    "max.binary": ac.max, "min.binary": ac.min, "topk": ac.topk, "sort": ac.sort,
    "argsort": ac.argsort, "gather": ac.gather, "take_along_dim": ac.take_along_dim,
    "mm": ac.mm, "bmm": ac.bmm, "nn.functional.linear": F.linear,
    "nn.functional.normalize": F.normalize, "nn.functional.group_norm": F.group_norm,
    "nn.functional.instance_norm": F.instance_norm,
    "nn.functional.batch_norm.without_cudnn": F.batch_norm,
    "nn.functional.elu": F.elu, "nn.functional.prelu": F.prelu, "nn.functional.silu": F.silu,
    "nn.functional.gelu": F.gelu, "nn.functional.hardtanh": F.hardtanh,
    "nn.functional.relu6": F.relu6,
    "nn.functional.embedding": lambda weight, idx, **k: F.embedding(idx, weight, **k),
    "long": _method("long"), "int": _method("int"), "short": _method("short"),
    "byte": _method("byte"), "bool": _method("bool"), "to": _method("to"),
    "full_like": ac.full_like, "new_zeros": _method("new_zeros"),
    "new_ones": _method("new_ones"), "new_full": _method("new_full"),
})

#: Creation ops: torch's samples pass ``device="cpu"`` to all of them, so they are mapped
#: once autograd_cnn's creation functions take ``device=`` (the device API), and left out
#: (not counted) before.
CREATION = {
    "zeros": ac.zeros, "ones": ac.ones, "full": ac.full, "arange": ac.arange,
    "linspace": ac.linspace, "eye": ac.eye, "zeros_like": ac.zeros_like,
    "ones_like": ac.ones_like,
}
CREATION_MAPPED = "device" in inspect.signature(ac.zeros).parameters
if CREATION_MAPPED:
    MAP.update(CREATION)

#: Ops whose output is random: checked by :func:`_check_dropout` instead of by value.
RANDOM = {"nn.functional.dropout": "element", "nn.functional.dropout2d": "channel"}


def opinfos() -> dict:
    """``full name -> OpInfo`` for every mapped op present in this torch's op_db."""
    out = {}
    for o in op_db:
        name = o.name + (f".{o.variant_test_name}" if o.variant_test_name else "")
        if name in MAP:
            out[name] = o
    return out


# ---- conversion -----------------------------------------------------------------------

_FORMATS = ("preserve_format", "contiguous_format", "channels_last", "channels_last_3d")


def to_ours(v, leaves: list):
    """A torch sample argument as ours; tensors that require grad are appended to
    ``leaves`` as ``(torch_tensor, our_tensor)`` pairs."""
    if isinstance(v, torch.Tensor):
        t = ac.Tensor(v.detach().numpy().copy(), requires_grad=v.requires_grad)
        if v.requires_grad:
            leaves.append((v, t))
        return t
    if isinstance(v, torch.dtype):
        return str(v).removeprefix("torch.")
    if isinstance(v, torch.Size):
        return tuple(v)
    if isinstance(v, torch.device):
        return str(v)
    if isinstance(v, torch.memory_format):
        return str(v).removeprefix("torch.")
    if isinstance(v, tuple):
        return tuple(to_ours(e, leaves) for e in v)
    if isinstance(v, list):
        return [to_ours(e, leaves) for e in v]
    if isinstance(v, dict):
        return {k: to_ours(e, leaves) for k, e in v.items()}
    return v


def _flat(out) -> list:
    if isinstance(out, (tuple, list)):
        return [e for o in out for e in _flat(o)]
    return [out]


def _arr(v) -> np.ndarray:
    if isinstance(v, torch.Tensor):
        return v.detach().numpy()
    if isinstance(v, ac.Tensor):
        return v.data
    return np.asarray(v)


def _close(a: np.ndarray, b: np.ndarray) -> str | None:
    """None when ``a`` (ours) equals ``b`` (torch's), else what differs."""
    if a.shape != b.shape:
        return f"shape {a.shape} vs torch {b.shape}"
    if a.dtype != b.dtype:
        return f"dtype {a.dtype} vs torch {b.dtype}"
    if a.dtype.kind in "biu":
        return None if np.array_equal(a, b) else "values differ"
    if not np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True):
        with np.errstate(invalid="ignore"):
            err = np.nanmax(np.abs(a - b)) if a.size else 0.0
        return f"values differ (max abs error {err:.3g})"
    return None


# ---- one sample -----------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str  # "matched", "mismatched", "unsupported"
    reason: str = ""


def _refusal(e: Exception) -> bool:
    if isinstance(e, (Unsupported, AutogradCNNError)):
        return True
    return isinstance(e, TypeError) and "unexpected keyword" in str(e)


def _cotangents(outs) -> list:
    rng = np.random.default_rng(1234)
    return [rng.standard_normal(o.shape) for o in outs]


def _torch_grads(outs, leaves, cots):
    pairs = [(o, c) for o, c in zip(outs, cots) if o.requires_grad]
    if not pairs or not leaves:
        return None
    got = torch.autograd.grad([o for o, _ in pairs], [t for t, _ in leaves],
                              [torch.from_numpy(c) for _, c in pairs], allow_unused=True)
    return [np.zeros(t.shape) if g is None else g.numpy() for g, (t, _) in zip(got, leaves)]


def _our_grads(outs, leaves, cots):
    pairs = [(o, c) for o, c in zip(outs, cots) if isinstance(o, ac.Tensor) and o.requires_grad]
    if not pairs:
        return [np.zeros(t.shape) for _, t in leaves]
    got = ac.gradients([o for o, _ in pairs], [t for _, t in leaves],
                       [ac.Tensor(c.astype(o.dtype)) for o, c in pairs], allow_unused=True)
    return [np.zeros(t.shape) if g is None else g.data for g, (_, t) in zip(got, leaves)]


def _check_dropout(kind, sample, x_ours, out, leaves) -> str | None:
    """Structure of a dropout output: each element 0 or ``x / (1 - p)`` (whole channels
    for ``channel``), and the gradient of ``sum(out * c)`` is ``c * out / x``."""
    p = sample.kwargs.get("p", sample.args[0] if sample.args else 0.5)
    training = sample.kwargs.get("training", True)
    x, y = x_ours.data, out.data
    if y.shape != x.shape or y.dtype != x.dtype:
        return f"output shape/dtype {y.shape}/{y.dtype} vs input {x.shape}/{x.dtype}"
    if not training or p == 0:
        return None if np.array_equal(x, y) else "must be the identity"
    dropped = y == 0
    if p == 1:
        return None if dropped.all() else "p=1 must drop everything"
    kept = np.isclose(y, x / (1 - p), rtol=1e-12, atol=0)
    if not np.all(kept | dropped):
        return "elements neither dropped nor scaled by 1/(1-p)"
    if kind == "channel" and x.ndim >= 2:
        k = kept.reshape(kept.shape[:2] + (-1,))
        d = dropped.reshape(k.shape)
        if not np.all(k.all(axis=-1) | d.all(axis=-1)):
            return "dropout2d must keep or drop whole channels (N, C, *)"
    if leaves:
        cot = _cotangents([y])[0]
        (g,) = ac.gradients(out, x_ours, ac.Tensor(cot))
        scale = np.where(kept & ~dropped, 1.0 / (1 - p), 0.0)
        if not np.allclose(g.data, cot * scale, rtol=RTOL, atol=ATOL):
            return "gradient does not go through the same mask"
    return None


def run_sample(name: str, info, sample) -> Outcome | None:
    """Compare one sample; None when torch itself refuses it (not counted)."""
    try:
        expected = info.op(sample.input, *sample.args, **sample.kwargs)
    except Exception:  # noqa: BLE001 - torch rejects it: nothing to compare against
        return None
    leaves: list = []
    x = to_ours(sample.input, leaves)
    args = to_ours(tuple(sample.args), leaves)
    kwargs = to_ours(dict(sample.kwargs), leaves)
    fn = MAP[name]
    try:
        got = fn(x, *args, **kwargs)
    except Exception as e:  # noqa: BLE001 - classified below
        kind = "unsupported" if _refusal(e) else "mismatched"
        return Outcome(kind, f"{type(e).__name__}: {str(e)[:160]}")
    try:
        if name in RANDOM:
            why = _check_dropout(RANDOM[name], sample, x, got, leaves)
            return Outcome("mismatched", why) if why else Outcome("matched")
        t_outs = [o for o in _flat(expected) if isinstance(o, torch.Tensor)]
        o_outs = _flat(got)
        if len(t_outs) != len(o_outs):
            return Outcome("mismatched", f"{len(o_outs)} outputs vs torch {len(t_outs)}")
        for k, (a, b) in enumerate(zip(o_outs, t_outs)):
            why = _close(_arr(a), _arr(b))
            if why:
                return Outcome("mismatched", f"output {k}: {why}")
        if info.supports_autograd and leaves:
            cots = _cotangents(t_outs)
            want = _torch_grads(t_outs, leaves, cots)
            if want is not None:
                have = _our_grads(o_outs, leaves, cots)
                for k, (a, b) in enumerate(zip(have, want)):
                    why = _close(np.asarray(a, dtype=np.float64), b)
                    if why:
                        return Outcome("mismatched", f"gradient of input {k}: {why}")
    except Exception as e:  # noqa: BLE001 - a crash in backward or comparison
        return Outcome("mismatched", f"{type(e).__name__} (after forward): {str(e)[:160]}")
    return Outcome("matched")


@dataclass
class OpReport:
    name: str
    counts: dict = field(default_factory=lambda: {"matched": 0, "mismatched": 0,
                                                  "unsupported": 0})
    notes: list = field(default_factory=list)  # (kind, reason, sample description)


def _describe(sample) -> str:
    def d(v):
        if isinstance(v, torch.Tensor):
            return f"T{tuple(v.shape)}:{str(v.dtype).removeprefix('torch.')}"
        if isinstance(v, (tuple, list)):
            return "(" + ", ".join(d(e) for e in v) + ")"
        return repr(v)

    kw = ", ".join(f"{k}={d(v)}" for k, v in sample.kwargs.items())
    return f"{d(sample.input)}, args={d(tuple(sample.args))}" + (f", {kw}" if kw else "")


def run_op(name: str, info) -> OpReport:
    """Every float64 sample of OpInfo ``info`` through :func:`run_sample`."""
    rep = OpReport(name)
    torch.manual_seed(0)
    with warnings.catch_warnings():  # deprecations both libraries announce, by design
        warnings.simplefilter("ignore")
        results = [(s, run_sample(name, info, s))
                   for s in info.sample_inputs("cpu", torch.float64, requires_grad=True)]
    for sample, out in results:
        if out is None:
            continue
        rep.counts[out.kind] += 1
        if out.kind != "matched":
            rep.notes.append((out.kind, out.reason, _describe(sample)))
    return rep
