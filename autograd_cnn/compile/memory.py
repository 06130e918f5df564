"""The memory plan: lifetimes, aliasing, and buffer offsets in one arena per run.

Every value computed by a program has a lifetime: from the step that produces it to the
last step that reads it (or the end, when the caller keeps it). Views (``reshape``,
``permute``, ...) and ops that may return their input unchanged alias their operands,
so an alias class lives as long as its longest-lived member.

Values that compiled code writes into memory it is handed (fused kernels' stored
outputs, ``matmul`` through ``out=``) get a slot in an *arena*, one ``uint8`` block per
run, at offsets chosen so that two values whose lifetimes overlap never share bytes
(greedy, largest first, lowest free offset: the classic offset-assignment heuristic).
Values that escape to the caller (outputs, gradients) are never put in the arena.
Values made by library kernels that allocate their own results (convolutions, pools)
are released at their last use instead, which the peak estimate accounts for.
"""

from __future__ import annotations

import numpy as np

ALIGN = 64


def nbytes(v) -> int:
    n = 1
    for s in v.shape:
        n *= int(s)
    return n * np.dtype(v.dtype).itemsize


class Lifetimes:
    """Alias classes and live ranges of a program's values.

    Parameters
    ----------
    steps : list of (defs, uses, aliases)
        Per step: produced values, read values, and pairs ``(out, operand)`` where the
        output may share the operand's memory.
    kept : iterable of Value
        Values alive until the end of the run (returned or saved).
    """

    def __init__(self, steps, kept):
        self.parent: dict[int, int] = {}
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.values: dict[int, object] = {}
        end = len(steps)
        for t, (defs, uses, aliases) in enumerate(steps):
            for v in defs:
                self.values[id(v)] = v
                self.parent.setdefault(id(v), id(v))
                self.first.setdefault(id(v), t)
                self.last[id(v)] = max(self.last.get(id(v), t), t)
            for v in uses:
                self.last[id(v)] = max(self.last.get(id(v), t), t)
            for out, src in aliases:
                self.parent.setdefault(id(src), id(src))
                self.values.setdefault(id(src), src)
                self._union(id(out), id(src))
        for v in kept:
            self.last[id(v)] = end
        # the class's range is the union of its members' ranges
        self.range: dict[int, list] = {}
        for k in self.parent:
            r = self.root(k)
            lo, hi = self.first.get(k, -1), self.last.get(k, -1)
            cur = self.range.setdefault(r, [lo, hi])
            cur[0], cur[1] = min(cur[0], lo), max(cur[1], hi)

    def root(self, k: int) -> int:
        """The alias class of value id ``k`` (union-find with path halving)."""
        while self.parent[k] != k:
            self.parent[k] = self.parent[self.parent[k]]
            k = self.parent[k]
        return k

    def _union(self, a: int, b: int):
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self.parent[ra] = rb

    def span(self, v) -> tuple[int, int]:
        """First and last step (inclusive) of ``v``'s alias class."""
        lo, hi = self.range[self.root(id(v))]
        return lo, hi


def assign_offsets(buffers):
    """``buffers``: list of (key, size, lo, hi). Returns ({key: offset}, total bytes)."""
    placed: list[tuple[int, int, int, int]] = []  # offset, size, lo, hi
    offsets = {}
    total = 0
    for key, size, lo, hi in sorted(buffers, key=lambda b: (-b[1], b[2])):
        size_a = -(-max(size, 1) // ALIGN) * ALIGN
        clashes = sorted((o, s) for o, s, l2, h2 in placed if not (hi < l2 or h2 < lo))
        off = 0
        for o, s in clashes:
            if off + size_a <= o:
                break
            off = max(off, o + s)
        placed.append((off, size_a, lo, hi))
        offsets[key] = off
        total = max(total, off + size_a)
    return offsets, total


class MemoryPlan:
    """What a compiled step holds at its peak, as planned (bytes).

    Attributes
    ----------
    forward_arena, backward_arena : int
        Bytes of each run's arena (buffers reused across non-overlapping lifetimes).
    forward_peak, backward_peak : int
        Planned peak of each pass: its arena plus the largest simultaneously live set of
        kernel-allocated values (the backward also holds what the forward saved).
    saved : int
        Bytes the forward keeps for the backward.
    unplanned : int
        Bytes the arena replaced: the sum of the planned values' sizes.
    scratch : int
        Bytes the generated convolutions keep between steps (their zero-padded inputs,
        one buffer per conv and calling thread); counted in the peak.
    peak : int
        The step's peak: ``max(forward_peak, backward_peak) + scratch``.
    """

    def __init__(self, forward, backward=None):
        self.forward_arena = forward.arena_bytes
        self.forward_peak = forward.peak_bytes
        self.saved = forward.saved_bytes
        self.backward_arena = backward.arena_bytes if backward else 0
        self.backward_peak = (backward.peak_bytes + self.saved) if backward else 0
        self.unplanned = forward.planned_sum + (backward.planned_sum if backward else 0)
        self.scratch = forward.scratch_bytes + (backward.scratch_bytes if backward else 0)
        self.peak = max(self.forward_peak, self.backward_peak) + self.scratch
        self.buffers = forward.buffer_count + (backward.buffer_count if backward else 0)

    def as_dict(self) -> dict:
        """The figures as ``{name: bytes}`` (``buffers``: a count)."""
        return {k: getattr(self, k) for k in ("forward_arena", "backward_arena",
                                              "forward_peak", "backward_peak", "saved",
                                              "unplanned", "scratch", "peak", "buffers")}

    def __repr__(self):
        mb = 1 / 2**20
        return (f"MemoryPlan(peak={self.peak * mb:.2f} MiB: forward arena "
                f"{self.forward_arena * mb:.2f} MiB, backward arena "
                f"{self.backward_arena * mb:.2f} MiB, saved {self.saved * mb:.2f} MiB, "
                f"scratch {self.scratch * mb:.2f} MiB; "
                f"{self.buffers} planned buffers totalling {self.unplanned * mb:.2f} MiB)")
