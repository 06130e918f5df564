"""Every registered primitive: a VJP, a drawn case, first- and second-order gradients
matching finite differences, and a shape rule that agrees with the forward pass."""

import numpy as np
import pytest
from hypothesis import given

import autograd_cnn as ac
from autograd_cnn.testing import CASES, gradcheck, gradgradcheck

PRIMS = sorted(n for n, p in ac.REGISTRY.items() if p.differentiable)


def test_every_primitive_has_vjp_and_case():
    missing_vjp = [n for n, p in ac.REGISTRY.items() if p.differentiable and not p.has_vjp]
    missing_case = [n for n in ac.REGISTRY if n not in CASES]
    assert missing_vjp == [], f"primitives without a VJP: {missing_vjp}"
    assert missing_case == [], f"primitives without a drawn test case: {missing_case}"


def _uses(prim_name, case):
    """Run the case once with recording on and report whether prim_name was applied."""
    seen = []
    with ac.enable_grad():
        out = case.fn(*case.inputs)
    outs = [out] if isinstance(out, ac.Tensor) else list(out)
    from autograd_cnn.tape import _toposort

    for node in _toposort([o.grad_fn for o in outs if o.grad_fn is not None]):
        seen.append(node.prim.name)
    return prim_name in seen


@pytest.mark.parametrize("name", PRIMS)
def test_gradcheck(name):
    @given(CASES[name])
    def check(case):
        assert _uses(name, case), f"case {case.label} does not exercise {name}"
        gradcheck(case.fn, case.inputs, eps=case.eps, atol=case.atol, rtol=case.rtol)

    check()


@pytest.mark.parametrize("name", PRIMS)
def test_gradgradcheck(name):
    @given(CASES[name])
    def check(case):
        gradgradcheck(case.fn, case.inputs, eps=case.eps, atol=case.atol, rtol=case.rtol)

    check()


@pytest.mark.parametrize("name", PRIMS)
def test_shape_rule_matches_forward(name):
    prim = ac.REGISTRY[name]

    @given(CASES[name])
    def check(case):
        with ac.enable_grad():
            out = case.fn(*case.inputs)
        from autograd_cnn.tape import _toposort

        for node in _toposort([out.grad_fn]):
            if node.prim is prim:
                in_shapes = [m[0] for m in node.input_meta]
                assert tuple(prim.shape(*in_shapes, **node.params)) == node.out_shape

    check()


def test_gradcheck_detects_a_wrong_vjp():
    wrong = ac.Primitive("wrong_square", lambda x: x * x, category="elementwise",
                         shape=lambda s: s)
    wrong.defvjp(lambda g, ans, x: g * x)  # missing the factor 2
    x = ac.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(AssertionError, match=r"input 0 .*element \(0,\)"):
        gradcheck(wrong, [x])
    assert not gradcheck(wrong, [x], raise_exception=False)


def test_gradgradcheck_detects_a_vjp_not_written_in_ops():
    # A VJP that returns a constant (raw array) breaks the backward graph.
    leaky = ac.Primitive("leaky_square", lambda x: x * x, category="elementwise",
                         shape=lambda s: s)
    leaky.defvjp(lambda g, ans, x: ac.Tensor(2 * g.data * x.data))
    x = ac.tensor(np.array([1.0, -2.0]), requires_grad=True)
    assert gradcheck(leaky, [x])
    assert not gradgradcheck(leaky, [x], raise_exception=False)
