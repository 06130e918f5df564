"""Thread pools of the kernels: which of Numba's and OpenBLAS's pools owns the cores per
call, and a split of independent blocks of work over Python threads.

On this 2-core machine the two pools steal each other's cores when both are awake, and
every multithreaded barrier waits for a descheduled thread when other processes load the
machine (times then come in multiples of the 4-8 ms scheduler tick). Hence the rules of
:func:`_limits` and, for many small GEMMs, :func:`run_blocks`.
"""

from __future__ import annotations

import contextlib
import os
import threading

# Numba's OpenMP workers spin after each parallel region, OpenBLAS's workers spin after
# each GEMM; on a small machine the two pools steal each other's cores (measured here: an
# im2col of 0.1 ms took 16 ms right after a GEMM). Passive waiting for the OpenMP pool
# removes most of it. It must be set before Numba starts its pool (first parallel call),
# hence at import; a value chosen by the user wins. See also _limits() below.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# ---- thread pools -----------------------------------------------------------------------

#: Below this many elements moved, Numba kernels run on one thread (waking the pool
#: costs more than it saves, and far more on a loaded machine).
NUMBA_MIN_ELEMENTS = 1 << 18
#: Below this many flops, GEMMs run with one BLAS thread.
BLAS_MIN_FLOPS = 1e7
#: Below this many flops, the direct kernels run their serial twin (see
#: :mod:`autograd_cnn.kernels.jit`): measured on 2 cores, LeNet-5's first conv (64 x
#: 1x28x28, 6 filters 5x5, 15 Mflop) ran 0.50 ms serial vs 0.47 ms on 2 threads, while the
#: depthwise shape f (29 Mflop) halves on 2 threads. Staying serial below the line also
#: means a small CNN never compiles a parallel kernel (seconds saved on a cold cache).
DIRECT_PARALLEL_MIN_FLOPS = 2e7

_blas_libs = None


def _blas_controllers():
    global _blas_libs
    if _blas_libs is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas_libs = [c for c in ThreadpoolController().lib_controllers
                          if c.user_api == "blas"]
        except Exception:  # threadpoolctl missing or failing: leave BLAS alone
            _blas_libs = []
    return _blas_libs


@contextlib.contextmanager
def _limits(elements: int, flops: float, alg: str = "direct"):
    """Run one kernel call so that the two thread pools never compete for the cores.

    Measured on 2 cores: with both Numba's and OpenBLAS's pools awake, an im2col of
    0.1 ms took 16 ms and small GEMMs 8-80 ms; serial im2col + threaded GEMM ran shape c
    in 14 ms instead of 50+. So: on the GEMM paths (``im2col``, ``gemm``) BLAS owns the
    cores and the (memory-bound) Numba im2col/col2im run on one thread; on the
    ``direct`` path Numba owns them. Small calls use one thread of either kind (waking a
    pool costs more than it saves). BLAS threads are set through threadpoolctl when it
    is installed (about 1 us per call)."""
    import numba

    prev_numba = numba.get_num_threads()
    gemm_path = alg in ("im2col", "gemm", "winograd")
    small_numba = (gemm_path or elements < NUMBA_MIN_ELEMENTS
                   or flops < DIRECT_PARALLEL_MIN_FLOPS) and prev_numba > 1
    small_blas = gemm_path and flops < BLAS_MIN_FLOPS
    with _one_blas_thread() if small_blas else contextlib.nullcontext():
        try:
            if small_numba:
                numba.set_num_threads(1)
            yield
        finally:
            if small_numba:
                numba.set_num_threads(prev_numba)


_executor = None
_executor_lock = threading.Lock()


def blas_threads() -> int:
    """The BLAS thread count (1 when threadpoolctl cannot tell)."""
    libs = _blas_controllers()
    return max([c.get_num_threads() for c in libs] or [1])


#: Independent work (blocks of samples) is split into this many contiguous parts, run
#: at once on Python threads when BLAS may use several threads, one after the other
#: otherwise: the split never depends on the thread count, so neither do the results.
PARTS = 2


def run_blocks(blocks, fn, parts=PARTS):
    """Run ``fn(part)`` on ``parts`` contiguous parts of the list ``blocks``, returning the
    parts' results in order: at once on Python threads with BLAS on one thread each
    when BLAS may use more than one thread, sequentially (BLAS untouched) otherwise.

    For a sequence of GEMMs this beats multithreaded BLAS: one join instead of a barrier
    per GEMM, each of which costs a scheduler tick whenever another process holds a core
    (measured under load on shape c: 27 ms median vs 159 ms). ``fn`` must release the
    GIL for its heavy work (NumPy's matmul does, the ``nogil`` Numba kernels do) and
    write only its own part's outputs."""
    global _executor
    parts = max(1, min(parts, len(blocks)))
    split = [blocks[i * len(blocks) // parts:(i + 1) * len(blocks) // parts]
             for i in range(parts)]
    workers = min(blas_threads(), parts)
    if workers <= 1 or threading.current_thread().name.startswith(_PREFIX):
        return [fn(p) for p in split]  # (never wait on the pool from inside it)
    with _executor_lock:
        if _executor is None:
            from concurrent.futures import ThreadPoolExecutor

            _executor = ThreadPoolExecutor(PARTS - 1, thread_name_prefix=_PREFIX)
        ex = _executor
    with _one_blas_thread():
        futures = [ex.submit(fn, p) for p in split[1:]]
        first = fn(split[0])
        return [first] + [f.result() for f in futures]


_PREFIX = "autograd_cnn_kernels"
_blas_lock = threading.Lock()
_blas_users = 0
_blas_saved: list = []


@contextlib.contextmanager
def _one_blas_thread():
    """BLAS on one thread while any caller is inside (a count, so that concurrent
    callers from several user threads restore the original setting exactly once)."""
    global _blas_users, _blas_saved
    libs = _blas_controllers()
    with _blas_lock:
        if _blas_users == 0:
            _blas_saved = [c.get_num_threads() for c in libs]
            for c in libs:
                c.set_num_threads(1)
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                for c, n in zip(libs, _blas_saved):
                    c.set_num_threads(n)
