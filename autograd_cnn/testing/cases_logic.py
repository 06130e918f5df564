"""Drawn cases for the non-differentiable primitives (comparisons, logic, ``sign``,
``argmax``, ``numel``, ``full``, ``dropout_mask``), the activation-gradient primitives and
the ``nll_loss`` pair.

A case of a non-differentiable primitive uses it inside a differentiable expression
(``where(a > b, a, b)``), so that gradient checks still have something to check and a
traced graph must compute the mask from its inputs.
"""

import numpy as np
from hypothesis import strategies as st

from .. import ops
from ..ops import logic as L
from ..ops import loss
from ..ops import sorting as G
from ..tensor import Tensor
from .cases import EVEN_LATTICE, ODD_LATTICE, Case, register_case
from .strategies import broadcastable_shapes, shapes, tensors


def _mask_case(name, mask):
    @st.composite
    def strat(draw):
        sa, sb = draw(broadcastable_shapes())
        a = draw(tensors(shape=sa, elements=ODD_LATTICE))
        b = draw(tensors(shape=sb, elements=EVEN_LATTICE))
        return Case(lambda x, y: ops.where(mask(x, y), x * y, x - y), (a, b),
                    f"{name} {sa} {sb}")

    register_case(name, strat())


for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    _mask_case(_name, getattr(L, _name))
_mask_case("logical_and", lambda x, y: L.logical_and(L.gt(x, 0), L.lt(y, 0.5)))
_mask_case("logical_or", lambda x, y: L.logical_or(L.gt(x, 0), L.lt(y, 0.5)))
_mask_case("logical_not", lambda x, y: L.logical_not(L.gt(x, y)))


@register_case("sign")
@st.composite
def _sign(draw):
    x = draw(tensors(elements=ODD_LATTICE))
    return Case(lambda t: t * L.sign(t), (x,))


def _arg_case(name, fn):
    @st.composite
    def strat(draw):
        shape = draw(shapes(min_dims=1))
        x = draw(tensors(shape=shape, elements=ODD_LATTICE))
        dim = draw(st.integers(0, len(shape) - 1))
        # differentiable use: pick the arg-extremum along dim with gather
        return Case(lambda t: G.gather(t, dim, ops.unsqueeze(fn(t, dim), dim)), (x,),
                    f"{name} dim={dim}")

    register_case(name, strat())


_arg_case("argmax", L.argmax)
_arg_case("argmin", L.argmin)


@st.composite
def _nll_args(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    logp = draw(tensors(shape=(n, c)))
    target = Tensor(np.asarray(draw(st.lists(st.sampled_from(list(range(c)) + [-100]),
                                             min_size=n, max_size=n)), dtype=np.int64))
    if not np.any(target.numpy() != -100):  # keep the 'mean' denominator nonzero
        target = Tensor(np.zeros(n, dtype=np.int64))
    weighted = draw(st.booleans())
    weight = Tensor(np.linspace(0.5, 2.0, c)) if weighted else None
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return logp, target, weight, reduction


@register_case("nll_loss")
@st.composite
def _nll(draw):
    logp, target, weight, reduction = draw(_nll_args())
    return Case(lambda lp: loss.nll_loss(lp, target, weight, reduction=reduction), (logp,),
                f"{reduction} weighted={weight is not None}")


@register_case("nll_loss_backward")
@st.composite
def _nll_backward(draw):
    logp, target, weight, reduction = draw(_nll_args())
    seed = draw(tensors(shape=() if reduction != "none" else target.shape))

    def fn(lp, g):
        from ..tape import enable_grad, gradients

        with enable_grad():  # gradcheck's finite differences run without recording
            lp2 = lp if lp.requires_grad else lp.detach().requires_grad_()
            out = loss.nll_loss(lp2 * lp2, target, weight, reduction=reduction)
            (gl,) = gradients(out, [lp2], grad_outputs=g, create_graph=True)
        return gl

    return Case(fn, (logp, seed), f"{reduction} weighted={weight is not None}")


@register_case("numel")
@st.composite
def _numel(draw):
    x = draw(tensors(shape=shapes(min_dims=1)))
    return Case(lambda t: ops.sum(t) / L.numel(t), (x,))


@register_case("dropout_mask")
@st.composite
def _dropout_mask(draw):
    # p = 0 keeps every element: a deterministic use of the mask primitive
    x = draw(tensors(shape=shapes(min_dims=1)))
    from ..ops import norm

    return Case(lambda t: t * norm._dropout_mask(t, p=0.0, keep_dims=t.ndim, seed=0,
                                                 generator=None), (x,))


@register_case("full")
@st.composite
def _full(draw):
    x = draw(tensors(shape=shapes(min_dims=1)))
    value = draw(st.sampled_from([0.0, 1.0, -2.5]))
    return Case(lambda t: t * L.full_like_shape(t.shape, value, t.dtype) + t, (x,),
                f"value={value}")


def _grad_case(name, fn, y_elements=None, axis=False):
    @st.composite
    def strat(draw):
        shape = draw(shapes(min_dims=1 if axis else 0))
        g = draw(tensors(shape=shape))
        y = draw(tensors(shape=shape, elements=y_elements))
        if axis:
            ax = draw(st.integers(0, len(shape) - 1))
            return Case(lambda a, b: fn(a, b, axis=ax), (g, y), f"{name} axis={ax}")
        return Case(fn, (g, y), name)

    register_case(name, strat())


def _register_grad_cases():
    from ..ops import activation_grads as A
    from .cases import POSITIVE

    _grad_case("tanh_grad", A.tanh_grad)
    _grad_case("sigmoid_grad", A.sigmoid_grad)
    _grad_case("relu_grad", A.relu_grad, y_elements=ODD_LATTICE)
    _grad_case("log_softmax_grad", A.log_softmax_grad, y_elements=POSITIVE, axis=True)
    _grad_case("softmax_grad", A.softmax_grad, axis=True)


_register_grad_cases()
