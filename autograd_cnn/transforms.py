"""Function transformations in the JAX / HIPS autograd style, built on the tape:
``grad``, ``value_and_grad``, ``vjp`` and ``hvp`` (``torch.autograd.functional.hvp``).

>>> import autograd_cnn as ac
>>> ac.grad(lambda x: (x * x).sum())(ac.tensor([1.0, 2.0])).tolist()
[2.0, 4.0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from .errors import ArgumentTypeError, NonScalarBackwardError
from .tape import enable_grad, gradients
from .tensor import Tensor, as_tensor


def _fresh_leaf(x) -> Tensor:
    t = as_tensor(x)
    return Tensor(t.data, requires_grad=True)


def _argnums_tuple(argnums, nargs):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not -nargs <= a < nargs:
            raise ArgumentTypeError(
                f"argnums: index {a} out of range for a function called with {nargs} arguments"
            )
    return nums


def value_and_grad(fun: Callable, argnums=0) -> Callable:
    """``value_and_grad(f)(*args) -> (f(*args), df/dargs[argnums])``.

    ``f`` must return a scalar tensor. With a tuple ``argnums`` the gradient is a tuple.
    Arguments may be tensors or arrays; gradients come back as tensors.
    """

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args))
        args = list(args)
        leaves = []
        with enable_grad():
            for a in nums:
                args[a] = _fresh_leaf(args[a])
                leaves.append(args[a])
            value = fun(*args, **kwargs)
        if not isinstance(value, Tensor) or value.data.size != 1:
            shape = getattr(value, "shape", type(value))
            raise NonScalarBackwardError(
                f"grad(): the function must return a scalar Tensor, got {shape}; use vjp() "
                "for non-scalar outputs"
            )
        grads = gradients(value, leaves, allow_unused=True)
        grads = tuple(
            g if g is not None else Tensor(np.zeros_like(x.data)) for g, x in zip(grads, leaves)
        )
        return value.detach(), (grads[0] if isinstance(argnums, int) else grads)

    return wrapped


def grad(fun: Callable, argnums=0) -> Callable:
    """``grad(f)(*args)``: the gradient of scalar ``f`` wrt ``args[argnums]``."""
    vg = value_and_grad(fun, argnums)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    return wrapped


def vjp(fun: Callable, *primals):
    """``out, vjp_fn = vjp(f, *primals)``; ``vjp_fn(cotangent)`` -> tuple of gradients.

    ``vjp_fn`` can be called any number of times (the graph is retained).
    """
    leaves = [_fresh_leaf(p) for p in primals]
    with enable_grad():
        out = fun(*leaves)

    def vjp_fn(cotangent):
        grads = gradients(out, leaves, grad_outputs=cotangent, retain_graph=True,
                          allow_unused=True)
        return tuple(
            g if g is not None else Tensor(np.zeros_like(x.data)) for g, x in zip(grads, leaves)
        )

    return out.detach(), vjp_fn


def hvp(func: Callable, inputs, v):
    """Hessian-vector product of scalar ``func`` at ``inputs`` in direction ``v``.

    Follows ``torch.autograd.functional.hvp``: returns ``(func(*inputs), H @ v)``, with
    ``inputs``/``v`` a tensor or a tuple of tensors (the result matches).
    Computed as the gradient of ``<grad f(x), v>``: two reverse passes.
    """
    single = isinstance(inputs, (Tensor, np.ndarray))
    xs = [_fresh_leaf(x) for x in ((inputs,) if single else inputs)]
    vs = [as_tensor(t) for t in ((v,) if single else v)]
    with enable_grad():
        value = func(*xs)
        gs = gradients(value, xs, create_graph=True, allow_unused=True)
        dot = None
        for g, t in zip(gs, vs):
            if g is None:
                continue
            term = (g * t).sum()
            dot = term if dot is None else dot + term
    if dot is None or not dot.requires_grad:
        hv = [Tensor(np.zeros_like(x.data)) for x in xs]
    else:
        hv = gradients(dot, xs, allow_unused=True)
        hv = [h if h is not None else Tensor(np.zeros_like(x.data)) for h, x in zip(hv, xs)]
    return value.detach(), (hv[0] if single else tuple(hv))
