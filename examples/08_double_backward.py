"""Double backward: Hessian-vector products and a gradient penalty.

Every VJP in autograd_cnn is written with the library's own differentiable ops, so the
backward pass can itself be recorded (``create_graph=True``) and differentiated again.

1. ``ac.hvp``: the Hessian-vector product of f(x) = sum(tanh(A x)^2), checked against the
   Hessian computed explicitly column by column and against finite differences.
2. Newton's method on a smooth convex function, using Hessian-vector products inside a
   conjugate-gradient solve (never forming the Hessian).
3. A gradient penalty (as in WGAN-GP): the loss contains ||d out / d x||^2, and its
   gradient with respect to the weights goes through the backward graph.

Run: python examples/08_double_backward.py
"""

import os

import numpy as np

import autograd_cnn as ac
from autograd_cnn.testing import gradcheck

FAST = os.environ.get("AUTOGRAD_CNN_FAST") == "1"
rng = np.random.default_rng(0)

# ---- 1. Hessian-vector product ----------------------------------------------------------------
n = 5
A = ac.tensor(rng.standard_normal((n, n)))        # float64


def f(x):
    return (ac.tanh(A @ x) ** 2).sum()


x0 = ac.tensor(rng.standard_normal(n))
v = ac.tensor(rng.standard_normal(n))
value, hv = ac.hvp(f, x0, v)
# The full Hessian, one column at a time: H e_i.
H = np.stack([ac.hvp(f, x0, ac.tensor(np.eye(n)[i]))[1].numpy() for i in range(n)], axis=1)
np.testing.assert_allclose(H, H.T, atol=1e-10)                 # symmetric
np.testing.assert_allclose(hv.numpy(), H @ v.numpy(), atol=1e-10)
# Finite differences of the gradient: (g(x + h v) - g(x - h v)) / 2h.
grad_f = ac.grad(f)
h = 1e-6
fd = (grad_f(ac.tensor(x0.numpy() + h * v.numpy())).numpy()
      - grad_f(ac.tensor(x0.numpy() - h * v.numpy())).numpy()) / (2 * h)
np.testing.assert_allclose(hv.numpy(), fd, rtol=1e-5, atol=1e-7)
print(f"f(x0) = {value.item():.6f}; H v matches the explicit Hessian and finite differences")
print("eigenvalues of H:", np.round(np.linalg.eigvalsh(H), 4))

# ---- 2. Newton-CG with Hessian-vector products --------------------------------------------------
M = rng.standard_normal((n, n))
Q = ac.tensor(M @ M.T + n * np.eye(n))
b = ac.tensor(rng.standard_normal(n))


def g(x):   # strictly convex: quadratic plus a softplus barrier-like term
    return 0.5 * (x @ (Q @ x)) - (b * x).sum() + ac.softplus(x).sum()


def conjugate_gradient(hvp_fn, rhs, iters):
    x, r = np.zeros_like(rhs), rhs.copy()
    p, rs = r.copy(), r @ r
    for _ in range(iters):
        Ap = hvp_fn(p)
        alpha = rs / (p @ Ap)
        x, r = x + alpha * p, r - alpha * Ap
        rs_new = r @ r
        if rs_new < 1e-20:
            break
        p, rs = r + rs_new / rs * p, rs_new
    return x


x = np.zeros(n)
for step in range(3 if FAST else 6):
    gx = ac.grad(g)(ac.tensor(x)).numpy()
    dx = conjugate_gradient(lambda p: ac.hvp(g, ac.tensor(x), ac.tensor(p))[1].numpy(), -gx,
                            iters=2 * n)
    x = x + dx
    print(f"newton step {step + 1}: |grad| = {np.linalg.norm(gx):.3e}")
assert np.linalg.norm(ac.grad(g)(ac.tensor(x)).numpy()) < 1e-8

# ---- 3. gradient penalty ----------------------------------------------------------------------
W = ac.tensor(rng.standard_normal((3, n)) * 0.5, requires_grad=True)
xs = ac.tensor(rng.standard_normal((8, n)), requires_grad=True)


def critic(x):
    return ac.tanh(x @ W.T).sum(axis=1)                    # (8,)


out = critic(xs)
(dx,) = ac.gradients(out.sum(), [xs], create_graph=True)   # d out_i / d x_i, (8, n)
penalty = ((dx ** 2).sum(axis=1).sqrt() - 1.0) ** 2        # (||grad|| - 1)^2 per sample
loss = out.mean() + 10.0 * penalty.mean()
loss.backward()                                            # through the backward graph
print(f"gradient penalty {penalty.mean().item():.4f}; d loss / d W has norm "
      f"{np.linalg.norm(W.grad.numpy()):.4f}")


def loss_of_w(w):
    # gradcheck evaluates fn under no_grad for its finite differences; the penalty needs
    # the tape to get d out / d x at all, so record explicitly.
    with ac.enable_grad():
        xx = xs.detach().requires_grad_()
        out = ac.tanh(xx @ w.T).sum(axis=1)
        (d,) = ac.gradients(out.sum(), [xx], create_graph=True)
        return out.mean() + 10.0 * (((d ** 2).sum(axis=1).sqrt() - 1.0) ** 2).mean()


assert gradcheck(loss_of_w, [W]), "gradient of the penalty"
print("the penalty's weight gradient matches central differences")
