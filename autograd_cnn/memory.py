"""The C allocator tuned for a training loop's arrays (glibc only), applied on import.

A training step allocates and frees the same large arrays every step (a LeNet-5 step at
batch 64: dozens of 0.1-1.2 MB activations and gradients). glibc's malloc serves such
sizes from fresh ``mmap`` pages, or from the heap but hands the freed top of the heap
back to the system (``M_TRIM_THRESHOLD``) - and either way the next step touches new
pages, each a page fault that zeroes 4 KiB. Measured here: 1,565 page faults per eager
LeNet-5 step, 9.8 ms per step; with the thresholds below, 0 faults and 7.5-8.0 ms. (The
compiled step, which plans its memory in arenas, has none either way.)

So on import, on glibc, ``M_MMAP_THRESHOLD`` is set to :data:`MMAP_THRESHOLD` (allocations
up to it come from the heap) and ``M_TRIM_THRESHOLD`` to :data:`TRIM_THRESHOLD` (up to
that much freed memory stays with the process for reuse). The cost: a process may keep
up to :data:`TRIM_THRESHOLD` of freed memory resident. This is process-wide (it also
serves NumPy and everything else) and fixed: glibc's dynamic adjustment of the
thresholds stops. Set ``AUTOGRAD_CNN_MALLOPT=0`` before importing to leave malloc alone.
"""

from __future__ import annotations

import ctypes
import os

#: Allocations up to this many bytes are served from the heap (glibc's own dynamic
#: threshold grows to at most 32 MiB as well, but trims the heap in between).
MMAP_THRESHOLD = 32 << 20
#: Up to this many freed bytes at the top of the heap stay with the process.
TRIM_THRESHOLD = 64 << 20

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3

#: Whether :func:`tune_malloc` changed the allocator in this process.
applied = False


def _glibc():
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return None
        return ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (AttributeError, OSError, ValueError):  # not glibc, or no confstr
        return None


def tune_malloc() -> bool:
    """Set glibc's mmap and trim thresholds (see the module docstring); returns whether
    they were set (False off glibc or with ``AUTOGRAD_CNN_MALLOPT=0``). Called on import.
    """
    global applied
    if os.environ.get("AUTOGRAD_CNN_MALLOPT", "1").strip() == "0":
        return False
    mallopt = _glibc()
    if mallopt is None:
        return False
    applied = (mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
               and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
    return applied


tune_malloc()
