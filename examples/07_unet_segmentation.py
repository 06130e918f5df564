"""A small U-Net (encoder, decoder with transposed convolutions, skip connections) learns
a synthetic segmentation task: find the disks among disks and squares on noise.

Encoder: conv blocks and 2x2 max-pooling halve the size; decoder: ConvTranspose2d
(kernel 2, stride 2) doubles it back; each decoder level concatenates the encoder's
feature map of the same size (the skip connection) before its conv block. The output
is one logit per pixel, trained with binary cross-entropy.

Writes ``unet_segmentation.png`` (inputs, targets, predictions) into
$AUTOGRAD_CNN_EXAMPLE_OUT (default ./example_output).

Run: python examples/07_unet_segmentation.py   (AUTOGRAD_CNN_FAST=1: a few steps)
"""

import os

import numpy as np

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import nn, optim, plotting

FAST = os.environ.get("AUTOGRAD_CNN_FAST") == "1"
OUT = os.environ.get("AUTOGRAD_CNN_EXAMPLE_OUT", "example_output")
os.makedirs(OUT, exist_ok=True)
SIZE = 16


def make_data(n, rng):
    """Images (n, 1, 16, 16) with 1-3 disks and 1-2 squares on noise; masks of the disks."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    x = rng.normal(0, 0.15, (n, 1, SIZE, SIZE))
    m = np.zeros((n, 1, SIZE, SIZE))
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            cy, cx, r = rng.uniform(3, SIZE - 3, 2).tolist() + [rng.uniform(1.5, 3)]
            disk = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            x[i, 0, disk] += 1.0
            m[i, 0, disk] = 1.0
        for _ in range(rng.integers(1, 3)):
            s = rng.integers(3, 6)
            y0, x0 = rng.integers(0, SIZE - s, 2)
            sq = np.zeros((SIZE, SIZE), bool)
            sq[y0:y0 + s, x0:x0 + s] = True
            x[i, 0, sq & ~m[i, 0].astype(bool)] += 1.0
    return x.astype(np.float32), m.astype(np.float32)


def block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU())


class UNet(nn.Module):
    """Input (N, 1, H, W) with H, W divisible by 4; output logits (N, 1, H, W)."""

    def __init__(self, width=8):
        super().__init__()
        self.enc1, self.enc2 = block(1, width), block(width, 2 * width)
        self.pool = nn.MaxPool2d(2)
        self.bottom = block(2 * width, 4 * width)
        self.up2 = nn.ConvTranspose2d(4 * width, 2 * width, 2, stride=2)
        self.dec2 = block(4 * width, 2 * width)
        self.up1 = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.dec1 = block(2 * width, width)
        self.head = nn.Conv2d(width, 1, 1)

    def forward(self, x):
        e1 = self.enc1(x)                                   # (N, w, H, W)
        e2 = self.enc2(self.pool(e1))                       # (N, 2w, H/2, W/2)
        b = self.bottom(self.pool(e2))                      # (N, 4w, H/4, W/4)
        d2 = self.dec2(ac.cat([self.up2(b), e2], dim=1))    # skip connection
        d1 = self.dec1(ac.cat([self.up1(d2), e1], dim=1))
        return self.head(d1)


rng = np.random.default_rng(0)
ac.manual_seed(0)
x_train, m_train = make_data(64 if FAST else 512, rng)
x_test, m_test = make_data(16 if FAST else 128, rng)
model = UNet()
print(f"U-Net with {sum(p.numel() for p in model.parameters()):,} parameters")
opt = optim.Adam(model.parameters(), lr=3e-3)


def iou(logits, masks):
    pred = logits > 0
    inter = np.logical_and(pred, masks > 0.5).sum()
    union = np.logical_or(pred, masks > 0.5).sum()
    return inter / max(union, 1)


steps = 5 if FAST else 300
for step in range(1, steps + 1):
    idx = rng.integers(0, len(x_train), 32)
    opt.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(ac.tensor(x_train[idx])),
                                              ac.tensor(m_train[idx]))
    loss.backward()
    opt.step()
    if step % max(1, steps // 6) == 0 or step == steps:
        print(f"step {step:4d}  loss {loss.item():.4f}")

model.eval()
with ac.no_grad():
    logits = model(ac.tensor(x_test)).numpy()
score = iou(logits, m_test)
print(f"test IoU of the disk masks: {score:.3f} (predicting everything gives "
      f"{m_test.mean():.3f})")
k = 6
panels = np.concatenate([x_test[:k, 0], m_test[:k, 0], (logits[:k, 0] > 0).astype(float)])
plotting.image_grid(panels, os.path.join(OUT, "unet_segmentation.png"), scale=6, ncols=k,
                    labels=[f"{row} {i}" for row in ("input", "target", "predicted")
                            for i in range(k)])
print(f"wrote {os.path.join(OUT, 'unet_segmentation.png')} (rows: input, target, prediction)")
if not FAST:
    assert score > 0.6, score
