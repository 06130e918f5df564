"""Mixed precision and inference mode, as far as a float32/float64 CPU library has them.

- :class:`autocast` is accepted as a context manager or decorator so PyTorch training
  loops run, but computes in the tensors' own dtypes; it warns once that mixed precision
  is not used (a deliberate, announced difference).
- :class:`GradScaler` passes losses and steps through unchanged (there is no float16
  underflow to guard against), with the same one-time warning.
- :class:`inference_mode` is :class:`~autograd_cnn.no_grad` (PyTorch additionally forbids
  using its outputs in autograd later; here they are ordinary tensors without history).
"""

from __future__ import annotations

import functools
import warnings

from .tape import _GradMode

_WARNED = [False]


def _warn_once():
    if not _WARNED[0]:
        _WARNED[0] = True
        warnings.warn(
            "autocast/GradScaler: autograd_cnn has no mixed precision; ops run in the "
            "tensors' own dtypes (float32/float64) and the context has no effect",
            UserWarning, stacklevel=3)


class autocast:  # noqa: N801 - PyTorch's name
    """``with ac.autocast("cuda", dtype=...)``: runs the block unchanged (warns once).

    Parameters
    ----------
    device_type : str
    dtype, enabled, cache_enabled :
        Accepted for PyTorch compatibility.
    """

    def __init__(self, device_type: str = "cpu", dtype=None, enabled: bool = True,
                 cache_enabled=None):
        self.device_type, self.dtype, self.enabled = device_type, dtype, enabled

    def __enter__(self):
        if self.enabled:
            _warn_once()
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper


class GradScaler:
    """``torch.amp.GradScaler`` that does not scale: ``scale(loss)`` is ``loss``,
    ``step(opt)`` is ``opt.step()``, ``update()`` does nothing (warns once)."""

    def __init__(self, device: str = "cpu", init_scale: float = 65536.0, *args,
                 enabled: bool = True, **kwargs):
        self.enabled = enabled
        if enabled:
            _warn_once()

    def scale(self, outputs):
        """The outputs unchanged."""
        return outputs

    def unscale_(self, optimizer):
        """Nothing to unscale."""

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)``."""
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Nothing to update."""

    def get_scale(self) -> float:
        """1.0: losses are not scaled."""
        return 1.0

    def state_dict(self) -> dict:
        """An empty dict (no state)."""
        return {}

    def load_state_dict(self, state_dict):
        """Accepts any state (there is none)."""


class inference_mode(_GradMode):  # noqa: N801
    """``with ac.inference_mode():`` or ``@ac.inference_mode()``: recording off, like
    :class:`~autograd_cnn.no_grad` (``mode=False`` leaves recording on)."""

    def __init__(self, mode: bool = True):
        self.enabled = not mode

    def __call__(self, fn):
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            m = inference_mode(not enabled)
            with m:
                return fn(*args, **kwargs)

        return wrapper
