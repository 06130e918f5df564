"""Classic image filters as convolutions: box, Gaussian, sharpen, Sobel, edge (Laplacian).

Each filter is a fixed 3x3 or 5x5 kernel applied with ``F.conv2d`` (a cross-correlation,
as in PyTorch; every kernel here except Sobel is symmetric, so it equals the
mathematical convolution, and Sobel's sign flips with the kernel). The picture is a real
photo shipped with an installed package: scikit-learn's ``china.jpg`` (decoded with
Pillow). Without those two packages the example falls back to a mosaic of the embedded
handwritten digits, so it always runs.

Writes ``classic_filters.png`` into $AUTOGRAD_CNN_EXAMPLE_OUT (default: ./example_output).

Run: python examples/06_classic_filters.py
"""

import os

import numpy as np

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import plotting

FAST = os.environ.get("AUTOGRAD_CNN_FAST") == "1"
OUT = os.environ.get("AUTOGRAD_CNN_EXAMPLE_OUT", "example_output")
os.makedirs(OUT, exist_ok=True)


def load_photo() -> tuple[np.ndarray, str]:
    """A grayscale photo in [0, 1], shape (H, W), and where it came from."""
    try:
        from PIL import Image
        from sklearn.datasets import load_sample_image

        rgb = load_sample_image("china.jpg").astype(np.float64) / 255.0   # (427, 640, 3)
        gray = rgb @ np.array([0.299, 0.587, 0.114])
        img = Image.fromarray((gray * 255).astype(np.uint8))
        size = (160, 107) if FAST else (480, 320)
        return np.asarray(img.resize(size), np.float64) / 255.0, "scikit-learn china.jpg"
    except ImportError:
        from autograd_cnn.data import load_digits

        x, _ = load_digits()                       # 8x8 digits -> a 4x8 mosaic, upscaled
        tiles = x[:32, 0].reshape(4, 8, 8, 8).transpose(0, 2, 1, 3).reshape(32, 64)
        return np.kron(tiles, np.ones((4, 4))), "embedded digits (install scikit-learn " \
            "and Pillow for the photo)"


def gaussian(size=5, sigma=1.0):
    r = np.arange(size) - size // 2
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma ** 2))
    return g / g.sum()


KERNELS = {
    "box 3x3": np.full((3, 3), 1 / 9),
    "gaussian 5x5": gaussian(5, 1.0),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], float),
    "edge": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], float),
}

photo, source = load_photo()
print(f"image: {source}, {photo.shape[0]} x {photo.shape[1]}")
x = ac.tensor(photo[None, None])                                  # (1, 1, H, W)
# All six filters at once: one conv2d with 6 output channels, kernels padded to 5x5.
w = np.zeros((len(KERNELS), 1, 5, 5))
for i, k in enumerate(KERNELS.values()):
    o = (5 - k.shape[0]) // 2
    w[i, 0, o:o + k.shape[0], o:o + k.shape[1]] = k
y = F.conv2d(x, ac.tensor(w), padding="same").numpy()[0]          # (6, H, W)

# Check against a direct NumPy sliding-window correlation.
win = np.lib.stride_tricks.sliding_window_view(np.pad(photo, 2), (5, 5))
ref = np.einsum("hwij,kij->khw", win, w[:, 0])
np.testing.assert_allclose(y, ref, atol=1e-10)
print("conv2d (padding='same') equals a NumPy sliding-window correlation")

# Properties worth seeing: the box and Gaussian filters preserve the mean (their kernels
# sum to 1); Sobel and edge kernels sum to 0, so they vanish on flat regions.
for (name, k), out in zip(KERNELS.items(), y, strict=True):
    print(f"{name:>13}: kernel sum {k.sum():+.2f}, output mean {out.mean():+.4f}, "
          f"std {out.std():.4f}")

panels = [photo] + [np.abs(o) if n.startswith(("sobel", "edge")) else o
                    for n, o in zip(KERNELS, y, strict=True)]
fig = plotting.image_grid(np.stack(panels), os.path.join(OUT, "classic_filters.png"),
                          scale=1 if photo.shape[0] > 100 else 2, ncols=4,
                          labels=["input"] + list(KERNELS))
w_px, h_px = (fig.get_size_inches() * fig.dpi).round().astype(int)
print(f"wrote {os.path.join(OUT, 'classic_filters.png')} ({w_px} x {h_px})")
