"""Compilation policy of the Numba kernels: serial/parallel twins and the cold-cache notice.

Compile time is user-facing time: a first LeNet-5 training step used to spend 9-16 s in
Numba, most of it in ``parallel=True`` kernels (the parfor pass and the gufunc they are
lowered into cost two to three times the compile time of the same loops run serially,
measured here: ``conv_direct`` 2.5 s parallel vs 1.3 s serial). Yet small calls run on
one thread anyway (waking a pool costs more than it saves). So each parallel kernel is
a :class:`Twin`: the same Python source compiled twice, lazily, as a serial and as a
parallel dispatcher, and the caller picks one per call. A program that only ever makes
small calls (LeNet on 28x28 images) never compiles a parallel kernel.

Bitwise equality of the two twins holds by construction of the kernels (each ``prange``
iteration writes its own slice in a fixed order; see ``conv_numba``), and is tested.

:func:`kernels_need_compiling` tells whether the kernels of a first training step have
no compiled code in Numba's on-disk cache yet; :func:`announce_compilation` prints the
one-line notice the command line shows before it starts training.
"""

from __future__ import annotations

import sys
import types

from numba import njit


class Twin:
    """A serial and a parallel dispatcher compiled from one kernel source.

    Calling the twin runs the parallel one when Numba may use more than one thread
    (``numba.get_num_threads() > 1``, which the conv dispatcher's thread limits set per
    call) and the serial one otherwise; :meth:`pick` chooses explicitly. Nothing is
    compiled before the first call of each variant (then it is cached on disk)."""

    def __init__(self, fn, flags):
        self.py_func = fn
        self.serial = njit(**flags)(fn)
        clone = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_parallel",
                                   fn.__defaults__, fn.__closure__)
        # Numba names its cache files after the qualified name: the twins must differ
        clone.__qualname__ = fn.__qualname__ + "_parallel"
        clone.__module__ = fn.__module__
        clone.__doc__ = fn.__doc__
        self.parallel = njit(parallel=True, **flags)(clone)
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        self.__wrapped__ = fn

    def pick(self, parallel: bool):
        """The parallel dispatcher if ``parallel`` else the serial one."""
        return self.parallel if parallel else self.serial

    def __call__(self, *args):
        import numba

        return self.pick(numba.get_num_threads() > 1)(*args)

    def dispatchers(self):
        """Both Numba dispatchers (serial first)."""
        return (self.serial, self.parallel)


def twin(**flags):
    """Decorator: ``@twin(cache=True, ...)`` makes a :class:`Twin` of a kernel (the flags
    are Numba's, without ``parallel``)."""
    flags.pop("parallel", None)

    def wrap(fn):
        return Twin(fn, flags)

    return wrap


def _has_cached_code(dispatcher) -> bool:
    """Whether Numba's disk cache holds compiled code of ``dispatcher`` (any signature)
    that this process could load (same source stamp and Numba version)."""
    cache = getattr(dispatcher, "_cache", None)
    try:
        return bool(cache._cache_file._load_index())
    except Exception:  # internals changed or cache unreadable: do not cry wolf
        return True


def first_step_kernels():
    """The kernels a small CNN's first training step runs (the fused im2col+GEMM
    kernels, the register-blocked direct weight gradient, max-pooling and its gradient):
    Numba dispatchers and twins."""
    from . import conv_numba as C
    from . import conv_small as S
    from . import pool as P
    from .conv_dispatch import numba_has_blas

    # with SciPy the first conv's forward runs the fused kernel (conv_dispatch.
    # choose_algorithm), without it the register-blocked direct loops
    gemm = ([C.im2col_gemm, S.gemm_col2im_flat, C.im2col_gemm_wgrad] if numba_has_blas()
            else [S.conv_small, C.im2col, C.col2im])
    return [S.conv_small_wgrad, *gemm, P._max_2x2_blocks, P._scatter_2x2, P._scatter_add]


def kernels_need_compiling() -> bool:
    """True when some kernel of a first training step has no compiled code in Numba's
    on-disk cache (a fresh install, a new Numba, an edited kernel source): the first
    step will then spend a few seconds compiling. A twin counts as cached when either
    of its builds is. Reads the cache index files only; compiles nothing."""
    return not all(
        any(_has_cached_code(d) for d in k.dispatchers()) if isinstance(k, Twin)
        else _has_cached_code(k) for k in first_step_kernels())


def announce_compilation(stream=None) -> bool:
    """Print ``"compiling kernels, once (cached afterwards)"`` on ``stream`` (stdout) when
    :func:`kernels_need_compiling`; returns whether it printed."""
    if not kernels_need_compiling():
        return False
    stream = sys.stdout if stream is None else stream
    print("compiling kernels, once (cached afterwards) ...", file=stream, flush=True)
    return True
