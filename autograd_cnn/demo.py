"""The demo: train a LeNet-style CNN on the embedded 8x8 digits and show what happened.

``autograd-cnn demo`` runs :func:`run_demo`: it prints the model's summary table, trains
with progress (a tqdm bar per epoch on a terminal), and writes into an output folder
(``./demo_output`` by default), all from the library's own API:

- ``report.html``: one self-contained page with everything below inline (open it with
  ``autograd-cnn demo --open``); ``report.md``: the same account for a terminal;
- figures, each as PNG and SVG (:mod:`autograd_cnn.plotting`, matplotlib):
  ``curves``: loss and accuracy per epoch, best epoch marked; ``filters``: the learned
  first-layer filters on one diverging colour scale; ``confusion``: the test confusion
  matrix; ``samples``: test digits with true and predicted labels, mistakes framed red;
  ``saliency``: the gradient of the predicted class with respect to the input image
  (:func:`autograd_cnn.attribution.saliency`) beside each image;
- ``forward_graph`` / ``backward_graph``: the computation graph of one batch's loss and
  the graph of its gradient computation: ``.dot`` always, ``.svg`` and ``.png`` when
  Graphviz's ``dot`` is installed;
- ``checkpoint.npz``: the best weights (by validation loss), loadable with
  ``autograd_cnn.load`` and ``model.load_state_dict``;
- ``metrics.json``: every number.

The network (13,706 parameters) for 1x8x8 inputs::

    conv 3x3, 16 ch, pad 1 -> ReLU -> max-pool 2   (16 x 4 x 4)
    conv 3x3, 32 ch, pad 1 -> ReLU -> max-pool 2   (32 x 2 x 2)
    flatten -> linear 128 -> 64 -> ReLU -> linear 64 -> 10
"""
from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable

import numpy as np

DEMO_SEED = 0


def demo_expression(out=print) -> bool:
    """Build a small tensor expression, backpropagate, print the gradients and check
    them against central differences. Returns True when they agree."""
    import autograd_cnn as ac
    from autograd_cnn.testing import gradcheck

    rng = np.random.default_rng(0)
    x = ac.tensor(rng.standard_normal((3, 4)), requires_grad=True)   # float64 input
    w = ac.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    b = ac.tensor(np.array([0.5, -0.5]), requires_grad=True)

    def model(x, w, b):
        h = ac.tanh(x @ w + b)                       # (3, 2)
        return (ac.log_softmax(h, dim=1)[:, 0] * -1).mean()

    loss = model(x, w, b)
    out("expression: loss = mean(-log_softmax(tanh(x @ w + b), dim=1)[:, 0])")
    out(f"  x {x.shape}, w {w.shape}, b {b.shape} -> loss = {loss.item():.6f}")
    loss.backward()
    for name, t in (("x", x), ("w", w), ("b", b)):
        out(f"d loss / d {name} =\n{np.array2string(t.grad.numpy(), precision=5)}")
    ok = gradcheck(model, [x, w, b], raise_exception=False)
    out(f"gradients match central differences (float64): {'yes' if ok else 'NO'}")
    return ok


# ---- the model -----------------------------------------------------------------------------


def lenet_digits(num_classes: int = 10, width: int = 16):
    """A LeNet-style CNN for 1x8x8 images, from the library's own layers.

    Input ``(N, 1, 8, 8)``; output logits ``(N, num_classes)``. Two blocks of 3x3
    convolution (padding 1, so the size is kept), ReLU and 2x2 max-pooling (8 -> 4 -> 2),
    then two linear layers. ``width`` is the first block's channel count (the second has
    twice as many).
    """
    return lenet_small(8, num_classes, width)


def summary_text(model, input_shape: tuple) -> str:
    """The model's summary table: ``autograd_cnn.summary`` when the library has it, else a
    plain table of each top-level layer's output shape and parameter count (from one
    forward pass on zeros)."""
    import autograd_cnn as ac

    if hasattr(ac, "summary"):
        return str(ac.summary(model, input_shape))
    from .tape import no_grad

    rows, x = [], ac.zeros(*input_shape)
    with no_grad():
        for name, layer in model.named_children():
            x = layer(x)
            n = sum(int(np.prod(p.shape)) for p in layer.parameters())
            rows.append((f"{name}: {type(layer).__name__}", str(tuple(x.shape)), f"{n:,}"))
    total = sum(int(np.prod(p.shape)) for p in model.parameters())
    w = max(len(r[0]) for r in rows) + 2
    lines = [f"{'layer':<{w}}{'output shape':<20}{'params':>10}", "-" * (w + 30)]
    lines += [f"{a:<{w}}{b:<20}{c:>10}" for a, b, c in rows]
    lines += ["-" * (w + 30), f"{'total':<{w}}{'':<20}{total:>10,}"]
    return "\n".join(lines)


# ---- the demo ----------------------------------------------------------------------------


def _loss():
    from . import functional as F

    return F.cross_entropy


def run_demo(out_dir: str = "demo_output", *, epochs: int = 20, batch_size: int = 32,
             lr: float = 3e-3, seed: int = DEMO_SEED, fast: bool = False,
             graphs: bool = True, threads: int | None = 1, width: int = 16,
             augment: bool = False, progress=None, log: Callable = print,
             compiled: bool = True) -> dict:
    """Train the LeNet-style CNN on the embedded digits and write the results.

    Parameters
    ----------
    out_dir : str
        Output folder (created if needed).
    epochs, batch_size, lr : training settings (Adam, cross-entropy).
    seed : int
        Seeds the split, initialization and shuffling: a run is reproducible.
    fast : bool
        A few optimizer steps only (CI), same outputs otherwise.
    width : int
        Channels of the first conv block (the second has twice as many).
    augment : bool
        Shift training images by up to one pixel at random (seeded).
    graphs : bool
        Draw the forward/backward graphs: DOT sources always, SVG/PNG pictures when
        Graphviz's ``dot`` is installed.
    progress : bool, optional
        tqdm bar per epoch; default: when stderr is a terminal.
    log : callable
        Receives the progress lines (default ``print``).
    compiled : bool
        Train with ``ac.compile`` (forward and backward replayed as fused kernels; the
        model's forward is eager again afterwards), or eagerly.
    threads : int or None
        Numba threads for the run (restored afterwards); None leaves the setting alone.
        Default 1: on 8x8 images each kernel call has microseconds of work, and fanning
        it out over threads cost more than it saved when measured on a loaded 2-core
        machine (about 250-350 ms per training step with 2 threads vs 50-80 ms with 1).

    Returns
    -------
    dict
        The metrics written to ``metrics.json`` (test accuracy, times, files...).
    """
    import autograd_cnn as ac

    t_start = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    ac.manual_seed(seed)
    threads_before = _set_threads(threads)
    try:
        return _run(ac, out_dir, epochs, batch_size, lr, seed, fast, graphs, progress, log,
                    t_start, width, augment, compiled)
    finally:
        _set_threads(threads_before)


def _numba_threads():
    import numba

    return numba.get_num_threads()


def _set_threads(n):
    """Set Numba's thread count (None: leave it); returns the previous count."""
    if n is None:
        return None
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    return before


def _run(ac, out_dir, epochs, batch_size, lr, seed, fast, graphs, progress, log, t_start,
         width, augment, compiled):
    from . import optim
    from .data import DataLoader, Digits, Normalize, TensorDataset, train_test_split
    from .train import evaluate, fit, load_state

    # Data: the fixed stratified test split of the embedded digits; 10% of the training
    # part is held out for validation (checkpoint selection never sees the test set).
    train_full, test = Digits(train=True, seed=seed), Digits(train=False, seed=seed)
    x_tr, x_val, y_tr, y_val = train_test_split(*train_full.arrays, test_size=0.1,
                                                seed=seed, stratify=train_full.arrays[1])
    mean, std = float(x_tr.mean()), float(x_tr.std())
    norm = Normalize(mean, std)
    from .data import Compose, RandomShift

    train_tf = Compose([RandomShift(1, seed=seed), norm]) if augment else norm
    train_dl = DataLoader(TensorDataset(x_tr, y_tr, transform=train_tf), batch_size,
                          shuffle=True, seed=seed)
    val_dl = DataLoader(TensorDataset(x_val, y_val, transform=norm), 512)
    test_dl = DataLoader(TensorDataset(*test.arrays, transform=norm), 512)
    log(f"data: embedded 8x8 digits, {len(y_tr)} train / {len(y_val)} validation / "
        f"{len(test)} test images, 10 classes (normalized with mean {mean:.3f}, "
        f"std {std:.3f})")

    model = lenet_digits(width=width)
    n_params = sum(int(np.prod(p.shape)) for p in model.parameters())
    log("model: LeNet-style CNN\n" + summary_text(model, (1, 1, 8, 8)))

    if fast:
        epochs = 1
    opt = optim.Adam(model.parameters(), lr=lr)
    # Cosine annealing to lr/100 over the run: the last epochs settle instead of bouncing.
    sched = optim.CosineAnnealingLR(opt, T_max=epochs, eta_min=lr / 100)
    ckpt = os.path.join(out_dir, "checkpoint.npz")
    t_train = time.perf_counter()
    if compiled:
        # ac.compile traces the forward and joint backward once per batch shape and
        # replays them as fused kernels (a LeNet step: about 1.4x faster than eager)
        log("training with ac.compile (forward and backward replayed as fused kernels)")
        model.forward = ac.compile(model.forward)
    try:
        hist = fit(model, train_dl, opt, _loss(), epochs=epochs, val_loader=val_dl,
                   seed=seed, scheduler=sched, checkpoint=ckpt, monitor="val_loss",
                   restore_best=True, max_steps=5 if fast else None, progress=progress,
                   log=log)
    finally:
        if compiled:
            del model.forward  # back to the eager forward: figures and graphs draw layers
    train_time = time.perf_counter() - t_train
    test_ev = evaluate(model, test_dl, _loss())
    log(f"test: accuracy {100 * test_ev['accuracy']:.2f}% on {test_ev['n']} images, loss "
        f"{test_ev['loss']:.4f} (best validation epoch {hist.best_epoch}); training took "
        f"{train_time:.1f}s")

    from .demo_figures import write_figures, write_graphs
    from .demo_report import html_report, markdown_report

    files = {"checkpoint": ckpt}
    x_test, y_test = test.arrays
    figs, results = write_figures(model, hist, x_test, y_test, norm, out_dir)
    files.update(figs)
    if graphs:
        xb, yb = next(iter(DataLoader(TensorDataset(x_tr[:4], y_tr[:4], transform=norm), 4)))
        files.update(write_graphs(model, xb, yb, _loss(), out_dir, log))

    # The checkpoint must load back into a fresh model and give the same test accuracy.
    check = lenet_digits(width=width)
    check.load_state_dict(load_state(ckpt))
    reloaded = evaluate(check, test_dl)["accuracy"]

    metrics = {
        "test_accuracy": test_ev["accuracy"], "test_loss": test_ev["loss"],
        "reloaded_checkpoint_accuracy": reloaded, "best_epoch": hist.best_epoch,
        "best_val_loss": hist.best_value, "epochs_run": len(hist),
        "steps": hist[-1]["steps"], "params": n_params, "train_seconds": train_time,
        "fast": fast, "seed": seed, "batch_size": batch_size, "lr": lr, "optimizer": "Adam",
        "train_n": int(len(y_tr)), "val_n": int(len(y_val)), "test_n": int(len(y_test)),
        "numba_threads": _numba_threads(), **results,
        "history": list(hist), "files": files,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}, NumPy {np.__version__}",
    }
    files["metrics"] = os.path.join(out_dir, "metrics.json")
    files["report"] = os.path.join(out_dir, "report.md")
    files["report_html"] = os.path.join(out_dir, "report.html")
    metrics["total_seconds"] = time.perf_counter() - t_start
    with open(files["metrics"], "w") as f:
        json.dump(metrics, f, indent=2, default=float)
    with open(files["report"], "w", encoding="utf-8") as f:
        f.write(markdown_report(metrics, summary_text(model, (1, 1, 8, 8))))
    with open(files["report_html"], "w", encoding="utf-8") as f:
        f.write(html_report(metrics, ac.summary(model, (1, 1, 8, 8))))
    log(f"wrote {len(files)} files to {out_dir}/; open {files['report_html']} in a browser "
        "(or run: autograd-cnn demo --open)")
    return metrics


# ---- command line: ``autograd-cnn demo | train | summary`` ----------------------------------


class CLIError(Exception):
    """A bad command-line value: reported as one line, exit status 2."""


def _positive(kind, what):  # argparse prefixes the message with "argument <what>:"
    def parse(text):
        import argparse
        import math

        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a positive {kind.__name__}, got {text!r}") from None
        if not v > 0:  # nan fails this too
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        if not math.isfinite(v):  # 'inf' would make training diverge at the first step
            raise argparse.ArgumentTypeError(
                f"expected a positive finite {kind.__name__}, got {text!r}")
        return v
    return parse


def _seed(text):
    """argparse type of ``--seed``: an int in [0, 2**64) (NumPy seeds are non-negative;
    PyTorch accepts seeds below 2**64)."""
    import argparse

    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int >= 0, got {text!r}") from None
    if not 0 <= v < 2**64:
        raise argparse.ArgumentTypeError(f"expected an int in [0, 2**64), got {text!r}")
    return v


#: Largest size of one dimension accepted by ``--input`` (PyTorch's int32 index limit).
MAX_DIM = 2**31 - 1


def parse_shape(text: str) -> tuple:
    """``"3,224,224"`` -> ``(3, 224, 224)``; a CLIError names what was wrong."""
    parts = [p for p in str(text).replace("x", ",").split(",") if p.strip()]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise CLIError(f"--input: expected comma-separated positive ints like 3,224,224, "
                       f"got {text!r}") from None
    if not shape or any(s < 1 for s in shape):
        raise CLIError(f"--input: expected comma-separated positive ints like 3,224,224, "
                       f"got {text!r}")
    if any(s > MAX_DIM for s in shape):
        raise CLIError(f"--input: each size must be at most {MAX_DIM}, got {text!r}")
    return shape


def _zoo(name: str, in_channels: int, size: int, num_classes: int):
    """Build a model by CLI name: the demo's CNNs or a model of ``autograd_cnn.models``."""
    key = name.lower().replace("_", "-")
    if key in ("lenet-small", "lenet-digits", "lenet"):
        if in_channels != 1 or size % 4:
            raise CLIError(f"--model {name}: expects 1-channel images with a size divisible "
                           f"by 4, got {in_channels} channels of {size}x{size}")
        return lenet_small(size, num_classes)
    try:
        from . import models
    except ImportError:
        models = None
    if models is not None:
        builders = {n.lower().replace("_", "-"): getattr(models, n) for n in dir(models)
                    if not n.startswith("_") and callable(getattr(models, n))}
        fn = builders.get(key) or builders.get(key.replace("-", ""))
        given = {"num_classes": num_classes, "in_channels": in_channels, "input_size": size}
        known = sorted(n for n, f in builders.items() if n[:1].islower() and _buildable(f))
        if fn is not None:
            if not _buildable(fn):
                raise CLIError(
                    f"--model {name}: is a building block of autograd_cnn.models, not a "
                    "whole model the CLI can build (it needs "
                    f"{', '.join(_required(fn))}); expected one of "
                    + ", ".join(["lenet-small"] + known))
            params = _params(fn)
            return fn(**{k: v for k, v in given.items() if k in params})
    else:
        known = []
    raise CLIError(f"--model: unknown model {name!r}; expected one of "
                   + ", ".join(["lenet-small"] + known))


_CLI_ARGS = ("num_classes", "in_channels", "input_size")


def _params(fn) -> dict:
    import inspect

    try:
        return dict(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return {}


def _required(fn) -> list:
    import inspect

    return [n for n, p in _params(fn).items()
            if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in _CLI_ARGS]


def _buildable(fn) -> bool:
    """A model the CLI can build: every required argument is one it supplies."""
    return not _required(fn)


def lenet_small(size: int = 8, num_classes: int = 10, width: int = 16):
    """:func:`lenet_digits` for 1 x size x size inputs (size divisible by 4), e.g. 28 for
    MNIST: the flattened features are ``2 * width * (size // 4) ** 2``."""
    from . import nn

    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * width * (size // 4) ** 2, 64), nn.ReLU(),
        nn.Linear(64, num_classes),
    )


def _cmd_demo(args) -> int:
    if args.expression:
        return 0 if demo_expression() else 1
    m = run_demo(args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                 seed=args.seed, fast=args.fast, graphs=not args.no_graphs,
                 threads=args.threads, compiled=not args.eager)
    if not args.fast and m["test_accuracy"] < 0.97:
        print(f"note: test accuracy {100 * m['test_accuracy']:.2f}% is below the 97% target")
    if args.open:
        open_report(m["files"]["report_html"])
    return 0


def open_report(path, log: Callable = print) -> bool:
    """Open an HTML file in the default web browser, where there is one.

    Uses :mod:`webbrowser`; when no browser is available (a server, a container) it says
    so in one line and returns False instead of raising.

    Parameters
    ----------
    path : str or PathLike
        The page, e.g. ``demo_output/report.html``.

    Returns
    -------
    bool
        Whether a browser was started.
    """
    import webbrowser
    from pathlib import Path

    p = Path(path).resolve()
    try:
        opened = bool(webbrowser.open(p.as_uri()))
    except webbrowser.Error:
        opened = False
    log(f"opened {p} in the web browser" if opened else
        f"no web browser found to open the report; open {p} by hand")
    return opened


def _cmd_train(args) -> int:
    import autograd_cnn as ac

    from . import functional as F
    from . import optim
    from .data import DataLoader, Digits, Normalize, TensorDataset
    from .data import load_mnist as _load_mnist
    from .data import train_test_split as _split
    from .train import evaluate, fit

    ac.manual_seed(args.seed)
    _set_threads(args.threads)
    if args.dataset == "digits":
        tr, te = Digits(True, seed=args.seed), Digits(False, seed=args.seed)
        (x, y), (xt, yt) = tr.arrays, te.arrays
    else:
        if args.data_dir is None:
            raise CLIError(f"--data-dir: required with --dataset {args.dataset} (a folder "
                           "holding the IDX files; nothing is downloaded)")
        x, y = _load_mnist(args.data_dir, train=True)
        xt, yt = _load_mnist(args.data_dir, train=False)
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    x, xv, y, yv = _split(x, y, test_size=args.val_fraction, seed=args.seed)
    norm = Normalize(float(x.mean()), float(x.std()))
    model = _zoo(args.model, x.shape[1], x.shape[2], int(max(y.max(), yt.max())) + 1)
    print(summary_text(model, (1,) + x.shape[1:]))
    if args.optimizer == "sgd":
        opt = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    else:
        opt = optim.Adam(model.parameters(), lr=args.lr)
    dl = DataLoader(TensorDataset(x, y, transform=norm), args.batch_size, shuffle=True,
                    seed=args.seed)
    vdl = DataLoader(TensorDataset(xv, yv, transform=norm), 512)
    fit(model, dl, opt, F.cross_entropy, epochs=args.epochs, val_loader=vdl, seed=args.seed,
        checkpoint=args.checkpoint, restore_best=args.checkpoint is not None,
        max_steps=args.max_steps)
    ev = evaluate(model, DataLoader(TensorDataset(xt, yt, transform=norm), 512),
                  F.cross_entropy)
    print(f"test: accuracy {100 * ev['accuracy']:.2f}% on {ev['n']} images, "
          f"loss {ev['loss']:.4f}")
    if args.checkpoint:
        print(f"checkpoint: {args.checkpoint}")
    return 0


def _cmd_summary(args) -> int:
    import autograd_cnn as ac

    shape = parse_shape(args.input)
    if len(shape) != 3:
        raise CLIError(f"--input: expected C,H,W (3 numbers), got {args.input!r}")
    if not hasattr(ac, "summary"):
        print(summary_text(_zoo(args.model, shape[0], shape[1], args.num_classes),
                           (1,) + shape))
        return 0
    from .nn import meta_init

    # Shape-only parameters: a VGG-16 summary allocates none of its 138 M weights.
    with meta_init():
        model = _zoo(args.model, shape[0], shape[1], args.num_classes)
    print(ac.summary(model, (args.batch,) + shape))
    return 0


def add_commands(sub) -> None:
    """Register ``demo``, ``train`` and ``summary`` on an argparse sub-parser collection."""
    import argparse

    p = sub.add_parser(
        "demo", help="train a CNN on the embedded digits and write pictures and a report",
        description="Train a LeNet-style CNN on the 8x8 digits embedded in the library "
        "(seconds on 2 cores, about 98% test accuracy), print its summary and "
        "write figures (curves, filters, confusion matrix, predictions, saliency maps), "
        "the forward and backward graphs, a checkpoint and report.html into --out.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", default="demo_output", help="output folder")
    p.add_argument("--epochs", type=_positive(int, "--epochs"), default=20)
    p.add_argument("--batch-size", type=_positive(int, "--batch-size"), default=32)
    p.add_argument("--lr", type=_positive(float, "--lr"), default=3e-3)
    p.add_argument("--seed", type=_seed, default=DEMO_SEED)
    p.add_argument("--fast", action="store_true", help="a few steps only (CI smoke test)")
    p.add_argument("--no-graphs", action="store_true",
                   help="skip the forward/backward graphs (DOT, SVG, PNG)")
    p.add_argument("--threads", type=_positive(int, "--threads"), default=1,
                   help="Numba threads (1 is fastest for 8x8 images, see run_demo)")
    p.add_argument("--open", action="store_true",
                   help="open report.html in the default web browser afterwards")
    p.add_argument("--eager", action="store_true",
                   help="train eagerly instead of with ac.compile")
    p.add_argument("--expression", action="store_true",
                   help="instead: differentiate a small expression and check it numerically")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "train", help="train a model on digits or MNIST/Fashion-MNIST",
        description="Train a classifier. --dataset mnist reads the IDX files (raw or .gz) "
        "from --data-dir (MNIST and Fashion-MNIST share the format); nothing is downloaded.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default="lenet-small",
                   help="lenet-small, or a model of autograd_cnn.models")
    p.add_argument("--dataset", default="digits", choices=["digits", "mnist", "fashion-mnist"])
    p.add_argument("--data-dir", default=None, help="folder with the IDX files")
    p.add_argument("--epochs", type=_positive(int, "--epochs"), default=10)
    p.add_argument("--batch-size", type=_positive(int, "--batch-size"), default=64)
    p.add_argument("--lr", type=_positive(float, "--lr"), default=1e-3)
    p.add_argument("--optimizer", default="adam", choices=["sgd", "adam"])
    p.add_argument("--momentum", type=float, default=0.9, help="for sgd")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--val-fraction", type=_positive(float, "--val-fraction"), default=0.1)
    p.add_argument("--limit", type=_positive(int, "--limit"), default=None,
                   help="use only the first N training images")
    p.add_argument("--max-steps", type=_positive(int, "--max-steps"), default=None)
    p.add_argument("--checkpoint", default=None, help="save the best weights here (.npz)")
    p.add_argument("--threads", type=_positive(int, "--threads"), default=None,
                   help="Numba threads (default: Numba's own setting)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "summary", help="layer table: shapes, parameters, MACs, receptive fields",
        description="Print a model's summary table, from shape inference only (no "
        "arithmetic), e.g. autograd-cnn summary --model vgg16 --input 3,224,224",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default="lenet-small", help="a model of autograd_cnn.models")
    p.add_argument("--input", default="1,8,8", help="input shape C,H,W")
    p.add_argument("--batch", type=_positive(int, "--batch"), default=1)
    p.add_argument("--num-classes", type=_positive(int, "--num-classes"), default=1000)
    p.set_defaults(func=_cmd_summary)
