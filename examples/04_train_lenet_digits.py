"""Train a LeNet-style CNN on the embedded 8x8 digits with the library's own layers.

What `autograd-cnn demo` does, written out: data -> DataLoader -> nn.Sequential of
Conv2d / ReLU / MaxPool2d / Linear -> optim.Adam -> train.fit -> evaluate -> checkpoint.
Reaches about 98% test accuracy in well under a minute on 2 cores.

Run: python examples/04_train_lenet_digits.py   (AUTOGRAD_CNN_FAST=1: a few steps only)
"""

import os
import tempfile

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import nn, optim
from autograd_cnn.data import DataLoader, Digits, Normalize, TensorDataset, train_test_split
from autograd_cnn.train import evaluate, fit

FAST = os.environ.get("AUTOGRAD_CNN_FAST") == "1"
ac.manual_seed(0)

# Data: a fixed stratified train/test split of the 1,797 digits; 10% of train for
# validation; standardized with the training statistics.
train, test = Digits(train=True), Digits(train=False)
x_tr, x_val, y_tr, y_val = train_test_split(*train.arrays, test_size=0.1, seed=0,
                                            stratify=train.arrays[1])
norm = Normalize(float(x_tr.mean()), float(x_tr.std()))
train_dl = DataLoader(TensorDataset(x_tr, y_tr, transform=norm), batch_size=32, shuffle=True,
                      seed=0)
val_dl = DataLoader(TensorDataset(x_val, y_val, transform=norm), batch_size=512)
test_dl = DataLoader(TensorDataset(*test.arrays, transform=norm), batch_size=512)

model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 16 x 4 x 4
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32 x 2 x 2
    nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10),
)
print(model)
print("parameters:", sum(p.numel() for p in model.parameters()))

with tempfile.TemporaryDirectory() as tmp:
    ckpt = os.path.join(tmp, "lenet_digits.npz")
    history = fit(model, train_dl, optim.Adam(model.parameters(), lr=3e-3), F.cross_entropy,
                  epochs=1 if FAST else 12, val_loader=val_dl, seed=0, checkpoint=ckpt,
                  restore_best=True, max_steps=5 if FAST else None)
    result = evaluate(model, test_dl, F.cross_entropy)
    print(f"test accuracy {100 * result['accuracy']:.2f}% (best validation epoch "
          f"{history.best_epoch})")

    # The checkpoint is a plain .npz of the state dict: load it into a fresh model.
    state = ac.load(ckpt)
    print("checkpoint keys:", ", ".join(state))

if not FAST:
    assert result["accuracy"] > 0.95, result
