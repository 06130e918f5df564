"""Tensor expressions, einsum, and gradients: the DSL in five minutes.

Run: python examples/01_tensor_expressions.py
"""

import numpy as np

import autograd_cnn as ac
from autograd_cnn.testing import gradcheck

rng = np.random.default_rng(0)

# 1. Tensors wrap NumPy arrays; Python floats become float32, NumPy float64 stays float64.
x = ac.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
print("x:", x)

# 2. Operators build a graph on the tape; backward() fills .grad of the leaves.
y = (x * x + 3 * x).sum()
y.backward()
print("dy/dx = 2x + 3:\n", x.grad.numpy())

# 3. einsum is the expression language: a batched bilinear form and a 1x1 "convolution".
a = ac.tensor(rng.standard_normal((5, 3)), requires_grad=True)
M = ac.tensor(rng.standard_normal((3, 3)), requires_grad=True)
q = ac.einsum("bi,ij->bj", a, M) * a                          # a_b^T M, times a_b
q = q.sum(dim=1)
img = ac.tensor(rng.standard_normal((2, 3, 4, 4)))           # (N, C, H, W)
mix = ac.tensor(rng.standard_normal((6, 3)), requires_grad=True)  # (C_out, C_in)
out = ac.einsum("nchw,oc->nohw", img, mix)                      # (N, 6, H, W)
print("bilinear forms:", q.shape, " 1x1 channel mix:", out.shape)

# 4. Functional faces: grad / value_and_grad / vjp (JAX style), gradients (PyTorch style).
def loss(w, b):
    logits = ac.tensor(rng.standard_normal((8, 3))) @ w + b
    return -ac.log_softmax(logits, dim=1)[:, 0].mean()

w0, b0 = rng.standard_normal((3, 4)), np.zeros(4)
value, (gw, gb) = ac.value_and_grad(loss, argnums=(0, 1))(w0, b0)
print(f"loss {value.item():.4f}, |dw| {np.linalg.norm(gw.numpy()):.4f}, db {gb.shape}")

# 5. Higher order: create_graph=True records the backward pass itself.
t = ac.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
(g,) = ac.gradients((t ** 3).sum(), [t], create_graph=True)
(h,) = ac.gradients(g.sum(), [t])
print("d2/dt2 sum t^3 = 6t:", h.numpy())
_, hv = ac.hvp(lambda v: (v.exp() * v).sum(), t.detach(), ac.ones_like(t.numpy()))
print("Hessian-vector product of sum(t exp t):", hv.numpy())

# 6. Check any function's gradients numerically (float64 central differences).
ok = gradcheck(lambda a, M: (ac.einsum("bi,ij->bj", a, M).tanh() ** 2).sum(), [a, M])
print("gradcheck:", ok)
