"""Generated kernel sources: written once to a cache folder, compiled by Numba, kept.

Code generators (the fused elementwise groups of :mod:`autograd_cnn.compile.codegen`,
the shape-specialized convolutions of :mod:`.conv_gen`) produce Python source defining a
function ``kernel``. Each distinct source is written once to ``<cache>/k_<sha1>.py`` and
imported from there, so that its ``@njit(cache=True)`` finds Numba's on-disk cache: the
same source in a new process compiles nothing. The folder is
``$AUTOGRAD_CNN_KERNEL_CACHE`` or ``~/.cache/autograd_cnn/fused``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading

_LOCK = threading.Lock()
_KERNELS: dict[str, object] = {}  # sha1 of source -> Numba dispatcher
STATS = {"hits": 0, "misses": 0}


def cache_dir() -> str:
    """Where generated kernel sources (and Numba's caches of them) live."""
    d = os.environ.get("AUTOGRAD_CNN_KERNEL_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "autograd_cnn", "fused")
    os.makedirs(d, exist_ok=True)
    return d


def kernel_for(source: str):
    """The compiled ``kernel`` of ``source``: from this process's cache, else from the
    on-disk source file (Numba's cache then makes a new process's load cheap)."""
    key = hashlib.sha1(source.encode()).hexdigest()[:20]
    with _LOCK:
        k = _KERNELS.get(key)
        if k is not None:
            STATS["hits"] += 1
            return k
        STATS["misses"] += 1
        path = os.path.join(cache_dir(), f"k_{key}.py")
        if not os.path.exists(path):
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                f.write(source)
            os.replace(tmp, path)  # atomic: concurrent processes see a whole file
        name = f"autograd_cnn_fused_{key}"  # (the name cached kernels refer to)
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        _KERNELS[key] = mod.kernel
        return mod.kernel


def clear_memory_cache():
    """Forget the kernels loaded in this process (the on-disk cache stays)."""
    with _LOCK:
        _KERNELS.clear()
