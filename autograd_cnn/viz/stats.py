"""Gradient statistics shown in the boxes: :class:`GradStats` records them during backward."""

from __future__ import annotations

import weakref

import numpy as np

from .. import tape as _tape
from .labels import _fmt_num, _small, escape_label


class _Stat:
    __slots__ = ("norm", "min", "max", "nan", "inf")

    def __init__(self, arr: np.ndarray):
        a = np.asarray(arr, dtype=np.float64)
        finite = np.isfinite(a)
        self.nan = bool(np.isnan(a).any())
        self.inf = bool(np.isinf(a).any())
        fa = a[finite] if not finite.all() else a
        self.norm = float(np.sqrt(np.sum(fa * fa))) if fa.size else float("nan")
        self.min = float(fa.min()) if fa.size else float("nan")
        self.max = float(fa.max()) if fa.size else float("nan")

    @property
    def bad(self) -> bool:
        return self.nan or self.inf

    def rows(self) -> list[str]:
        color = "#e00000" if self.bad else "#1f4e79"
        out = [_small(f"grad norm {_fmt_num(self.norm)}", color),
               _small(f"min {_fmt_num(self.min)} max {_fmt_num(self.max)}", color)]
        if self.bad:
            flags = " ".join(f for f, on in (("NaN", self.nan), ("Inf", self.inf)) if on)
            out.append(f'<B><FONT COLOR="#e00000">{escape_label(flags + " in gradient")}'
                       "</FONT></B>")
        return out

    def __repr__(self):
        return (f"_Stat(norm={self.norm:.4g}, min={self.min:.4g}, max={self.max:.4g}, "
                f"nan={self.nan}, inf={self.inf})")


class GradStats:
    """Record each node's total output gradient statistics during a backward pass.

    Use as a context manager around ``backward()`` (it installs ``tape.STATE.on_node_grad``
    and chains to any hook already there), then pass it to ``draw(..., grads=stats)``:
    each op box then shows the gradient's norm, min and max, and is outlined in red with
    a "NaN"/"Inf" flag when the gradient holds non-finite values. Leaves show the
    statistics of their ``.grad``.

    Examples
    --------
    >>> import autograd_cnn as ac
    >>> from autograd_cnn import viz
    >>> x = ac.tensor([1.0, -2.0], requires_grad=True)
    >>> y = ac.relu(x * 3.0).sum()
    >>> with viz.GradStats() as stats:
    ...     y.backward()
    >>> len(stats)
    3
    """

    def __init__(self):
        self._stats: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._prev = None

    def __enter__(self) -> GradStats:
        self._prev = _tape.STATE.on_node_grad
        prev = self._prev

        def hook(node, g):
            self._stats[node] = _Stat(g.data)
            if prev is not None:
                prev(node, g)

        _tape.STATE.on_node_grad = hook
        return self

    def __exit__(self, *exc):
        _tape.STATE.on_node_grad = self._prev
        return False

    def get(self, node) -> _Stat | None:
        """The statistics recorded for ``node`` (a tape Node), or None."""
        return self._stats.get(node)

    def __len__(self) -> int:
        return len(self._stats)

    def nonfinite(self) -> list:
        """Nodes whose gradient held NaN or Inf."""
        return [n for n, s in self._stats.items() if s.bad]
