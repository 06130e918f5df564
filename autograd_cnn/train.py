"""Training loops: :func:`fit` and :func:`evaluate` for classifiers.

A deliberately small loop (no callbacks framework): per batch ``zero_grad -> forward ->
loss -> backward -> step``; per epoch a record of mean loss and accuracy on the training
batches and, when given, on a validation loader. Progress is shown with tqdm when
stderr is a terminal and kept quiet otherwise (CI logs, pipes), where one line per
epoch is printed instead.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from .creation import manual_seed
from .errors import ArgumentTypeError, InvalidArgumentError
from .tape import no_grad
from .tensor import Tensor

__all__ = ["History", "accuracy", "evaluate", "fit", "save_state", "load_state"]


def _array(t) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def accuracy(logits, targets) -> float:
    """Share of rows whose largest logit is at the target class.

    Parameters
    ----------
    logits : Tensor or ndarray, shape (N, C)
    targets : Tensor or ndarray, shape (N,) of class indices, or (N, C) of probabilities
        (compared by their argmax).
    """
    z, y = _array(logits), _array(targets)
    if z.ndim != 2:
        raise InvalidArgumentError(f"logits: expected shape (N, C), got {z.shape}")
    if y.ndim == 2:
        y = y.argmax(axis=1)
    if y.shape != (z.shape[0],):
        raise InvalidArgumentError(f"targets: expected shape ({z.shape[0]},), got {y.shape}")
    return float((z.argmax(axis=1) == y).mean()) if y.size else float("nan")


# ---- checkpoints -----------------------------------------------------------------------------


def save_state(state: Mapping, path) -> str:
    """Save a state dict as ``.npz`` (``autograd_cnn.save`` when the library has it; else
    ``numpy.savez`` of the arrays; never pickle)."""
    import autograd_cnn as ac

    path = os.fspath(path)
    if hasattr(ac, "save"):
        ac.save(state, path)
    else:
        np.savez(path, **{k: _array(v) for k, v in state.items()})
    return path


def load_state(path) -> dict:
    """Load a state dict written by :func:`save_state` (arrays, no pickle)."""
    import autograd_cnn as ac

    if hasattr(ac, "load"):
        return ac.load(path)
    with np.load(os.fspath(path), allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


# ---- progress ----------------------------------------------------------------------------------


def _want_bar(progress) -> bool:
    if progress is None:
        return bool(getattr(sys.stderr, "isatty", lambda: False)())
    return bool(progress)


def _bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but a bare checkout may lack it
        return None
    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True, file=sys.stderr)


class History(list):
    """The list of per-epoch records returned by :func:`fit`, plus where the best was.

    Each record is a dict with keys ``epoch``, ``steps``, ``train_loss``, ``train_acc``,
    ``val_loss``, ``val_acc`` (None without a validation loader), ``lr`` and ``time_s``.
    """

    best_epoch: int | None = None
    best_value: float | None = None
    monitor: str | None = None
    checkpoint: str | None = None

    def column(self, key: str) -> list:
        """The values of ``key`` across epochs."""
        return [r.get(key) for r in self]


def _lr_of(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        return groups[0].get("lr")
    return getattr(optimizer, "lr", None)


def _training_flags(model) -> list:
    """``(module, training)`` for ``model`` and every submodule (each its own flag)."""
    mods = model.modules() if callable(getattr(model, "modules", None)) else [model]
    return [(m, m.training) for m in mods if isinstance(getattr(m, "training", None), bool)]


def _restore_training_flags(modes: list) -> None:
    for m, flag in modes:
        m.training = flag


# ---- evaluate ----------------------------------------------------------------------------------


def evaluate(model: Callable, loader: Iterable, loss_fn: Callable | None = None, *,
             progress=None, desc: str = "eval") -> dict:
    """Mean loss and accuracy of ``model`` over ``loader``, without recording the tape.

    The model is put in eval mode (``model.eval()``, when it has one) for the pass and the
    previous mode of every submodule restored afterwards (a submodule the caller had put in
    eval mode, e.g. a frozen BatchNorm, stays in eval mode).

    Parameters
    ----------
    model : callable
        Maps an input batch ``(B, ...)`` to logits ``(B, C)``.
    loader : iterable of (inputs, targets)
    loss_fn : callable, optional
        ``loss_fn(logits, targets)`` returning a scalar (mean over the batch).

    Returns
    -------
    dict
        ``{"loss": float or None, "accuracy": float, "n": int}``; averages weighted by
        batch size.
    """
    modes = _training_flags(model)
    if hasattr(model, "eval"):
        model.eval()
    total_loss, correct, n = 0.0, 0.0, 0
    bar = _bar(len(loader) if hasattr(loader, "__len__") else None, desc, _want_bar(progress))
    try:
        with no_grad():
            for xb, yb in loader:
                out = model(xb)
                b = int(_array(yb).shape[0])
                if loss_fn is not None:
                    total_loss += float(_array(loss_fn(out, yb))) * b
                correct += accuracy(out, yb) * b
                n += b
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        _restore_training_flags(modes)
    if n == 0:
        raise InvalidArgumentError("loader: yielded no batches to evaluate")
    return {"loss": total_loss / n if loss_fn is not None else None,
            "accuracy": correct / n, "n": n}


# ---- fit ----------------------------------------------------------------------------------------


def fit(model, train_loader: Iterable, optimizer, loss_fn: Callable, epochs: int = 1,
        val_loader: Iterable | None = None, *, seed: int | None = None, scheduler=None,
        checkpoint=None, monitor: str | None = None, restore_best: bool = False,
        max_steps: int | None = None, progress=None, log: Callable | None = print
        ) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``.

    Parameters
    ----------
    model : Module
        Called on input batches ``(B, ...)``; returns logits ``(B, C)``.
    train_loader : iterable of (inputs, targets)
        Usually a :class:`~autograd_cnn.data.DataLoader`.
    optimizer
        Has ``step()`` and ``zero_grad()`` (``autograd_cnn.optim``).
    loss_fn : callable
        ``loss_fn(logits, targets) -> scalar Tensor``, e.g. ``F.cross_entropy``.
    epochs : int
    val_loader : iterable, optional
        Evaluated after every epoch (:func:`evaluate`).
    seed : int, optional
        Reseeds the library's global generator first (:func:`autograd_cnn.manual_seed`),
        which drives loaders without their own seed, dropout and layer initialization
        done later; with seeded loaders the run is reproducible bit for bit.
    scheduler : optional
        Its ``step()`` is called after every epoch; a scheduler whose ``step`` takes a
        metric (``ReduceLROnPlateau``) gets the monitored value.
    checkpoint : str or PathLike, optional
        Save ``model.state_dict()`` here (``.npz``) whenever the monitored value improves.
    monitor : str, optional
        Record key to track: default ``"val_acc"`` with a validation loader, else
        ``"train_loss"``; ``*_loss`` keys are minimized, ``*_acc`` keys maximized.
    restore_best : bool
        Load the best weights into ``model`` at the end: from ``checkpoint`` when given,
        otherwise from an in-memory copy of ``model.state_dict()`` taken at every
        improvement.
    max_steps : int, optional
        Stop after this many optimizer steps in total (quick runs and tests).
    progress : bool, optional
        Show a tqdm bar; default: only when stderr is a terminal.
    log : callable or None
        Receives one summary line per epoch (default ``print``; None for silence).

    Returns
    -------
    History
        A list of per-epoch records (dicts), with ``best_epoch``, ``best_value``,
        ``monitor`` and ``checkpoint`` attributes.

    Raises
    ------
    FloatingPointError
        When a batch's loss is not finite; raised before that batch's ``backward`` and
        ``step``, so the weights are those of the last finite step.

    Examples
    --------
    >>> hist = fit(model, train_dl, optim.Adam(model.parameters(), lr=1e-3),  # doctest: +SKIP
    ...            F.cross_entropy, epochs=5, val_loader=test_dl, seed=0)
    >>> hist[-1]["val_acc"]                                                      # doctest: +SKIP
    0.97...
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise InvalidArgumentError(f"epochs: expected an int >= 1, got {epochs!r}")
    if max_steps is not None and (not isinstance(max_steps, (int, np.integer)) or max_steps < 1):
        raise InvalidArgumentError(f"max_steps: expected an int >= 1 or None, got {max_steps!r}")
    if not callable(getattr(optimizer, "step", None)):
        raise ArgumentTypeError(
            f"optimizer: expected an object with step() and zero_grad(), got "
            f"{type(optimizer).__name__}")
    if not callable(loss_fn):
        raise ArgumentTypeError(f"loss_fn: expected a callable, got {type(loss_fn).__name__}")
    if seed is not None:
        manual_seed(seed)
    monitor = monitor or ("val_acc" if val_loader is not None else "train_loss")
    valid = {"train_loss", "train_acc"} | ({"val_loss", "val_acc"} if val_loader else set())
    if monitor not in valid:
        raise InvalidArgumentError(f"monitor: expected one of {sorted(valid)}, got {monitor!r}")
    maximize = monitor.endswith("_acc")
    history = History()
    history.monitor = monitor
    history.checkpoint = os.fspath(checkpoint) if checkpoint is not None else None
    best = -math.inf if maximize else math.inf
    best_state = None  # restore_best without a checkpoint: the best weights, in memory
    zero_grad = getattr(optimizer, "zero_grad", None) or model.zero_grad
    show_bar = _want_bar(progress)
    say = log or (lambda *_: None)
    steps = 0
    for epoch in range(1, int(epochs) + 1):
        if hasattr(model, "train"):
            model.train()
        t0 = time.perf_counter()
        total_loss, correct, n, epoch_steps = 0.0, 0.0, 0, 0
        bar = _bar(len(train_loader) if hasattr(train_loader, "__len__") else None,
                   f"epoch {epoch}/{epochs}", show_bar)
        try:
            for xb, yb in train_loader:
                zero_grad()
                out = model(xb)
                loss = loss_fn(out, yb)
                lv = float(_array(loss))
                if not math.isfinite(lv):  # before backward/step: the weights stay finite
                    raise FloatingPointError(
                        f"loss: became {lv} at epoch {epoch}, step {steps + 1}; lower the "
                        "learning rate or check the inputs")
                loss.backward()
                optimizer.step()
                b = int(_array(yb).shape[0])
                total_loss += lv * b
                correct += accuracy(out, yb) * b
                n += b
                steps += 1
                epoch_steps += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{total_loss / n:.4f}", acc=f"{correct / n:.3f}")
                if max_steps is not None and steps >= max_steps:
                    break
        finally:
            if bar is not None:
                bar.close()
        if n == 0:
            raise InvalidArgumentError(
                "train_loader: yielded no batches (empty dataset, or drop_last with fewer "
                "items than batch_size?)")
        rec = {"epoch": epoch, "steps": steps, "train_loss": total_loss / n,
               "train_acc": correct / n, "val_loss": None, "val_acc": None,
               "lr": _lr_of(optimizer)}
        if val_loader is not None:
            ev = evaluate(model, val_loader, loss_fn, progress=False)
            rec["val_loss"], rec["val_acc"] = ev["loss"], ev["accuracy"]
        rec["time_s"] = time.perf_counter() - t0
        history.append(rec)
        value = rec[monitor]
        improved = value > best if maximize else value < best
        if improved:
            best = value
            history.best_epoch, history.best_value = epoch, value
            if checkpoint is not None:
                save_state(model.state_dict(), checkpoint)
            elif restore_best:
                best_state = {k: np.array(_array(v), copy=True)
                              for k, v in model.state_dict().items()}
        line = (f"epoch {epoch:3d}/{epochs}  loss {rec['train_loss']:.4f}  "
                f"acc {100 * rec['train_acc']:6.2f}%")
        if val_loader is not None:
            line += f"  val_loss {rec['val_loss']:.4f}  val_acc {100 * rec['val_acc']:6.2f}%"
        line += f"  ({rec['time_s']:.1f}s)" + ("  *" if improved else "")
        say(line)  # the bar (leave=False) is gone by now, so a plain print is clean
        if scheduler is not None:
            _step_scheduler(scheduler, value)
        if max_steps is not None and steps >= max_steps:
            break
    if restore_best and history.best_epoch is not None:
        model.load_state_dict(load_state(checkpoint) if checkpoint is not None else best_state)
    return history


def _step_scheduler(scheduler, value):
    import inspect

    try:
        params = inspect.signature(scheduler.step).parameters
    except (TypeError, ValueError):
        params = {}
    if "metrics" in params or type(scheduler).__name__ == "ReduceLROnPlateau":
        scheduler.step(value)
    else:
        scheduler.step()
