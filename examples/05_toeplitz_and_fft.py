"""Convolution as a matrix (Toeplitz), and FFT vs direct convolution with timings.

The seeds' view of convolution: for a kernel h of length m, the "full" convolution of a
length-n signal x is the product H x with the (n+m-1) x n Toeplitz matrix H whose
columns are shifted copies of h. A conv layer is the same idea in 2-D: a (sparse,
doubly block-Toeplitz) matrix M with conv2d(x).ravel() == M @ x.ravel(); and backprop
through it multiplies by the transpose: dL/dx = M^T dL/dy (the seeds' E_{n-1} = W^T E_n).

Then the convolution theorem: conv(x, h) = IFFT(FFT(x) * FFT(h)); direct convolution costs
O(n^2 k^2) for an n x n image and k x k kernel, FFT O(n^2 log n) whatever k is, so FFT
wins for large kernels.

Run: python examples/05_toeplitz_and_fft.py   (AUTOGRAD_CNN_FAST=1: smaller sizes)
"""

import os
import sys
import time

import numpy as np

import autograd_cnn as ac
import autograd_cnn.functional as F

try:
    from autograd_cnn import signal
except ImportError:
    print("autograd_cnn.signal is not available in this build; nothing to show.")
    sys.exit(0)

FAST = os.environ.get("AUTOGRAD_CNN_FAST") == "1"
rng = np.random.default_rng(0)

# ---- 1-D: the Toeplitz matrix of a kernel -------------------------------------------------
h = np.array([1.0, 2.0, 3.0])
x = np.array([1.0, 0.0, -1.0, 2.0])
H = signal.toeplitz(h, len(x))                 # (n + m - 1) x n = 6 x 4
H = H.numpy() if hasattr(H, "numpy") else np.asarray(H)
print("Toeplitz matrix of h = [1, 2, 3] for n = 4:\n", H)
full = signal.convolve(ac.tensor(x), ac.tensor(h), mode="full").numpy()
np.testing.assert_allclose(H @ x, full)
np.testing.assert_allclose(full, np.convolve(x, h))
print("H @ x == convolve(x, h, 'full') == numpy.convolve:", full)

# ---- 2-D: a conv layer as a matrix, forward and backward ------------------------------------
xi = ac.tensor(rng.standard_normal((1, 2, 6, 6)), requires_grad=True)
w = ac.tensor(rng.standard_normal((3, 2, 3, 3)))
y = F.conv2d(xi, w, stride=1, padding=1)
M = signal.conv_matrix(w, (1, 2, 6, 6), stride=1, padding=1)
M = M.toarray() if hasattr(M, "toarray") else (M.numpy() if hasattr(M, "numpy") else M)
np.testing.assert_allclose(M @ xi.numpy().ravel(), y.numpy().ravel(), atol=1e-10)
g = rng.standard_normal(y.shape)
y.backward(ac.tensor(g))
np.testing.assert_allclose(M.T @ g.ravel(), xi.grad.numpy().ravel(), atol=1e-10)
print(f"conv2d as a {M.shape[0]} x {M.shape[1]} matrix: forward M x and backward M^T g "
      f"match; {100 * np.mean(M != 0):.1f}% of M is non-zero")

# ---- convolution theorem: FFT vs direct ------------------------------------------------------
n = 64 if FAST else 256
img = ac.tensor(rng.standard_normal((n, n)))
print(f"\n{'kernel':>8} {'direct ms':>10} {'fft ms':>8}   (image {n} x {n}, float64, full mode)")
for k in ((3, 9) if FAST else (3, 7, 15, 31)):
    ker = ac.tensor(rng.standard_normal((k, k)))
    times = {}
    for name, fn in (("direct", signal.convolve), ("fft", signal.fftconvolve)):
        fn(img, ker, mode="full")                      # warm-up (compilation)
        t = []
        for _ in range(2 if FAST else 5):
            t0 = time.perf_counter()
            out = fn(img, ker, mode="full")
            t.append(time.perf_counter() - t0)
        times[name] = (1e3 * float(np.median(t)), out.numpy())
    np.testing.assert_allclose(times["fft"][1], times["direct"][1], atol=1e-8)
    print(f"{k:>6}^2 {times['direct'][0]:>10.2f} {times['fft'][0]:>8.2f}")
print("both methods agree to 1e-8; timings are medians on this (shared) machine")
