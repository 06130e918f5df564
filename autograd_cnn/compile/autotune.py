"""Choosing each conv-family node's algorithm once per shape, by measuring it.

Eager code picks an algorithm on every call with a rule fitted to benchmarks
(``conv_dispatch.choose_algorithm``). A compiled graph knows every shape in advance, so
it can afford to *measure*: each candidate (``direct``, ``im2col``, ``gemm`` where it
applies, and the kernel generated for the node's shapes, :mod:`..kernels.conv_gen`,
where one is) runs on arrays of the node's shapes, and the fastest (minimum of three
timed runs after one warm-up) is baked into the step. Without measuring, ``ac.compile``
takes the generated kernel wherever there is one, else the rule's choice. Measured here
(before the generated kernels): LeNet-5's second convolution (64x6x14x14 with 16x6x5x5)
took 1.5 ms with ``direct`` and 8 ms with the rule's ``im2col`` forward, whose
two-thread GEMM waits on the BLAS pool's wake-up.

Opt-in (``ac.compile(..., autotune=True)``): in a LeNet-5 step on this 2-core machine
the measured choices (``direct`` for the second conv) made the step no faster than the
rule's (6.6 ms vs 7.0 ms, one quiet run): a kernel timed alone runs with the thread
pools in another state than inside a step.

Choices are remembered per shape in this process and in
``<kernel cache>/conv_choices.json`` (so a new process does not measure again; delete
the file to measure again). A compile spends at most :data:`BUDGET_S` seconds in timed
runs; nodes beyond it keep the rule's choice, and a candidate whose single run exceeds
:data:`MAX_RUN_S` is decided on that run. The warm-up runs do not count: on a cold
Numba cache they compile kernels, and charging that to the budget would make the
choices depend on the state of the cache.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time

import numpy as np

from ..kernels import conv_dispatch as K
from .codegen import cache_dir

BUDGET_S = 0.6
#: The name of the shape-specialized kernel (:mod:`..kernels.conv_gen`) among the
#: measured candidates.
GENERATED = "generated"
MAX_RUN_S = 0.05
_LOCK = threading.Lock()
_CHOICES: dict[str, str] | None = None


def _path() -> str:
    return os.path.join(cache_dir(), "conv_choices.json")


def _load() -> dict:
    global _CHOICES
    if _CHOICES is None:
        try:
            with open(_path()) as f:
                _CHOICES = {k: v for k, v in json.load(f).items()
                            if v in K.ALGORITHMS or v == GENERATED}
        except (OSError, ValueError, AttributeError):
            _CHOICES = {}
    return _CHOICES


def _save():
    try:
        tmp = f"{_path()}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(_CHOICES, f, indent=0, sort_keys=True)
        os.replace(tmp, _path())
    except OSError:
        pass  # a read-only cache only costs measuring again


def _key(node, params, generated) -> str:
    p = {k: v for k, v in params.items() if k != "algorithm"}
    shapes = [tuple(v.shape) for v in node.inputs]
    # (a choice made before a generated kernel competed is not a choice among all)
    return repr((node.op, shapes, node.inputs[0].dtype.name, sorted(p.items()))
                + ((GENERATED,) if generated is not None else ()))


def _candidates(node, params):
    out = ["direct", "im2col"]
    w = node.inputs[1].shape if node.op != "conv_weight_grad" else node.outputs[0].shape
    if (math.prod(w[2:]) == 1 and all(s == 1 for s in params["stride"])
            and not any(lo or hi for lo, hi in params["padding"])):
        out.append("gemm")
    return out


def _runner(node, params, alg):
    fn = {"conv": K.conv_forward, "conv_transpose": K.conv_transpose_forward,
          "conv_weight_grad": K.conv_weight_grad}[node.op]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(tuple(v.shape)).astype(v.dtype) for v in node.inputs]
    p = dict(params, algorithm=alg)
    return lambda: fn(*arrays, **p)


def _generated_runner(node, kernel):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(tuple(v.shape)).astype(v.dtype) for v in node.inputs]
    return lambda: kernel(*arrays)


class Tuner:
    """Measures conv-family nodes within one compile's time budget."""

    def __init__(self, enabled=True):
        self.enabled = enabled
        self.spent = 0.0
        self.measured = 0

    def choose(self, node, params: dict, generated=None) -> dict:
        """``params`` with the algorithm measured (or remembered) for ``node``;
        ``generated``, a kernel of the node's shapes, competes as ``"generated"``."""
        if not self.enabled or node.inputs[0].dtype.kind != "f":
            return params
        with _LOCK:
            choices = _load()
            key = _key(node, params, generated)
            if key in choices:
                return dict(params, algorithm=choices[key])
            if self.spent >= BUDGET_S:
                return params
            best, best_t = params["algorithm"], math.inf
            cands = _candidates(node, params)
            if params["algorithm"] not in cands:
                cands.append(params["algorithm"])  # the rule's choice (fft) competes too
            if generated is not None:
                cands.append(GENERATED)
            for alg in cands:
                try:
                    run = (_runner(node, params, alg) if alg != GENERATED
                           else _generated_runner(node, generated))
                    run()  # warm-up (and the first use of a kernel)
                    ts = []
                    for _ in range(3):
                        t0 = time.perf_counter()
                        run()
                        ts.append(time.perf_counter() - t0)
                        if ts[-1] > MAX_RUN_S:
                            break  # slow enough to decide on one run
                except Exception:  # noqa: BLE001  an algorithm that refuses this shape
                    continue
                self.spent += sum(ts)
                if min(ts) < best_t:
                    best, best_t = alg, min(ts)
            self.measured += 1
            choices[key] = best
            _save()
            return dict(params, algorithm=best)
