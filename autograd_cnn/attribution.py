"""Which input pixels a prediction depends on: gradients with respect to the input.

:func:`saliency` is the simplest attribution method (Simonyan et al., 2013, "Deep Inside
Convolutional Networks"; Captum's ``Saliency``): one backward pass from the score of a
class to the input image, with the library's own reverse mode. It is what backpropagation
gives for free, and why it is worth having an autodiff engine that reaches the input.
"""

from __future__ import annotations

import numpy as np

__all__ = ["saliency"]


def saliency(model, inputs, target=None, *, abs: bool = True):  # noqa: A002 - Captum's name
    """Gradient of each sample's class score with respect to its input.

    For every sample ``i`` this is ``d logits[i, target[i]] / d inputs[i]``, computed as
    one vector-Jacobian product of the logits with a one-hot cotangent (so one backward
    pass for the whole batch). Samples must not interact in ``model`` (true in eval mode;
    batch-norm in training mode would mix them), so put the model in ``eval()`` first.
    Parameter ``.grad`` fields are not touched.

    Parameters
    ----------
    model : callable
        Maps inputs ``(N, ...)`` to logits ``(N, C)``.
    inputs : Tensor or array_like ``(N, ...)``
        The images (e.g. ``(N, C, H, W)``); a detached copy is differentiated.
    target : int or array_like of int ``(N,)``, optional
        The class whose score is differentiated, per sample; default: the predicted
        class (the argmax of the logits).
    abs : bool
        Return ``|gradient|`` (Captum's default), else the signed gradient.

    Returns
    -------
    grad : ndarray ``(N, ...)``
        Same shape and dtype as ``inputs``.
    target : ndarray of int64 ``(N,)``
        The classes used.
    """
    import autograd_cnn as ac

    from .errors import ArgumentTypeError, InvalidArgumentError
    from .tape import enable_grad, gradients

    if not callable(model):
        raise ArgumentTypeError(f"model: expected a callable, got {type(model).__name__}")
    data = np.array(getattr(inputs, "data", inputs), copy=True)
    if data.ndim < 1 or data.shape[0] == 0:
        raise InvalidArgumentError(f"inputs: expected a batch (N, ...) with N >= 1, got shape "
                                   f"{data.shape}")
    if data.dtype.kind != "f":
        data = data.astype(np.float32)
    x = ac.tensor(data, requires_grad=True)
    with enable_grad():
        logits = model(x)
    if getattr(logits, "ndim", None) != 2 or logits.shape[0] != data.shape[0]:
        raise InvalidArgumentError(
            f"model: expected logits (N, C) with N = {data.shape[0]}, got shape "
            f"{getattr(logits, 'shape', None)}")
    n, c = logits.shape
    if target is None:
        t = np.asarray(logits.detach().numpy().argmax(axis=1), np.int64)
    else:
        t = np.broadcast_to(np.asarray(target), (n,)).astype(np.int64)
        if np.asarray(target).dtype.kind not in "iu" or t.min() < 0 or t.max() >= c:
            raise InvalidArgumentError(
                f"target: expected class indices in [0, {c}), got {np.asarray(target)!r}")
    onehot = np.zeros((n, c), dtype=logits.dtype)
    onehot[np.arange(n), t] = 1
    (g,) = gradients(logits, [x], grad_outputs=ac.tensor(onehot))
    g = g.numpy()
    return (np.abs(g) if abs else g), t
