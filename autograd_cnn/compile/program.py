"""Lowering a scheduled node list to a flat program of closures, and running it.

A :class:`Program` owns a list of *slots* (one per value) and a list of steps; each step
is a closure over slot numbers that calls a primitive's array implementation directly
(``prim.impl``: NumPy or a library kernel), or a generated fused kernel. Running it is a
plain loop: no tensors, no tape, no registry lookups, no shape rules. Slots are cleared
after their last reader, so memory is released as early as in eager code.

What is decided once, at lowering time: each conv-family node's algorithm (the measured
per-shape choice ``algorithm="auto"`` would make on every call), which values live in
the run's arena (:mod:`.memory`), and the fused kernels (:mod:`.codegen`).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from ..kernels import conv_dispatch as K
from ..kernels import conv_gen, conv_small
from ..kernels import loss as loss_kernels
from ..kernels import threads as _threads
from ..primitive import REGISTRY
from . import codegen, epilogue
from .autotune import GENERATED
from .fusion import FusionGroup, finish
from .memory import Lifetimes, assign_offsets, nbytes

#: Ops whose result is always a new array (never a view of an operand).
_FRESH_CATEGORIES = {"conv", "pool", "linalg", "loss"}
_FRESH_OPS = (codegen.FUSIBLE - {"astype"}) | {
    "log_softmax", "softmax", "logsumexp", "sum", "mean", "max", "min", "argmax", "argmin",
    "dropout_mask", "full", "numel", "concatenate", "pad", "tile", "gather", "scatter_add",
    "index_add"}


def _fresh(op: str) -> bool:
    prim = REGISTRY[op]
    return not prim.is_view and (op in _FRESH_OPS or prim.category in _FRESH_CATEGORIES)


def choose_conv_algorithm(node) -> dict:
    """``node.params`` with ``algorithm="auto"`` replaced by the choice for its shapes."""
    p = dict(node.params)
    if p.get("algorithm", "auto") != "auto":
        return p
    x, w = node.inputs[0].shape, node.inputs[1].shape
    if node.op == "conv":
        alg = K.choose_algorithm("conv", x, w, p["stride"], p["padding"], p["groups"],
                                 p["dilation"])
    elif node.op == "conv_transpose":
        alg = K.choose_algorithm("conv_transpose", node.outputs[0].shape, w, p["stride"],
                                 p["padding"], p["groups"], p["dilation"])
    else:  # conv_weight_grad: the second operand is the output gradient
        w_shape = node.outputs[0].shape
        alg = K.choose_algorithm("conv_weight_grad", x, w_shape, p["stride"], p["padding"],
                                 p["groups"], p["dilation"])
    p["algorithm"] = alg
    return p


def generated_conv(node):
    """A shape-specialized kernel (:mod:`..kernels.conv_gen`) for a conv-family node
    whose algorithm is left to the library, or None where none applies (or the conv is
    too small for its compile time to pay)."""
    p = node.params
    if p.get("algorithm", "auto") != "auto" or not conv_gen.ENABLED:
        return None
    a, b = (v.shape for v in node.inputs)
    out, dtype = node.outputs[0], node.outputs[0].dtype
    if any(v.dtype != dtype for v in node.inputs):
        return None
    if node.op == "conv":
        geometry, shape = (a, b), None
    elif node.op == "conv_transpose":
        geometry, shape = (out.shape, b), out.shape
        if tuple(p["stride"]) != (1, 1):
            return None
    else:
        geometry, shape = (a, out.shape), None
    if not conv_gen.applies(*geometry, p["stride"], p["padding"], p["dilation"],
                            p["groups"], dtype):
        return None
    if node.op == "conv":
        kernel = conv_gen.Correlation(a, b, p["padding"], dtype, stride=p["stride"])
        if kernel.out_shape != tuple(out.shape):
            return None
    elif node.op == "conv_weight_grad":
        kernel = conv_gen.WeightGrad(a, b, p["kernel_size"], p["padding"], dtype,
                                     stride=p["stride"])
    else:  # the forward correlation that computes the stride-1 transposed conv
        full = conv_small.transpose_padding(b[2:], p["dilation"], p["padding"],
                                            p.get("output_padding", (0, 0)))
        if full is None:
            return None
        kernel = conv_gen.Correlation(a, b, full, dtype, flip=True)
        if kernel.out_shape != tuple(shape):
            return None
    return kernel if kernel.fmas >= conv_gen.MIN_FMAS else None


def _epilogue_step(kernel, ins, outs):
    """The step of a :class:`.epilogue.ConvEpilogue`: ``relu(conv(x, w) + b)`` by one
    generated ``kernel``, and the mask ``> 0`` when the backward reads it."""
    (sx, sw, sb), o = ins, outs[0]
    m = outs[1] if len(outs) > 1 else None

    def step(S):
        y = S[o] = kernel(S[sx], S[sw], S[sb])
        if m is not None:
            S[m] = np.greater(y, 0)
    return step


def _impl_step(impl, ins, outs, params):
    if len(outs) == 2:
        o0, o1 = outs

        def step(S):
            r, a = impl(*[S[i] for i in ins], **params)
            S[o0] = r if type(r) is np.ndarray else np.asarray(r)
            S[o1] = np.asarray(a)
    else:
        (o0,) = outs

        def step(S):
            r = impl(*[S[i] for i in ins], **params)
            S[o0] = r if type(r) is np.ndarray else np.asarray(r)
    return step


def _matmul_step(ins, o):
    a, b = ins

    def step(S):
        np.matmul(S[a], S[b], out=S[o])
    return step


def _one_blas_thread(step):
    """``step`` with BLAS on one thread: a small GEMM right after a Numba parallel region
    otherwise fights the Numba pool for the cores (measured 8-80 ms instead of 0.3 ms on
    2 cores; the conv kernels apply the same rule, see ``kernels.threads``)."""
    if not _threads._blas_controllers():
        return step

    def wrapped(S):
        with _threads._one_blas_thread():
            step(S)

    return wrapped


def _matmul_flops(node) -> float:
    a = node.inputs[0].shape
    out = node.outputs[0].shape
    k = a[-1] if len(a) else 1
    return 2.0 * math.prod(out) * k


#: Fused groups of at least this many elements run as two parts (along the layout's
#: split dim) on two threads (:func:`kernels.threads.run_blocks`); None: never. Off by
#: default: measured on this 2-core machine, the split never paid, as the kernels are
#: memory-bound and one core already takes the bandwidth (bias + ReLU over 64x64x32x32
#: float32: 1.13 ms serial, 1.20 ms split; 64x6x28x28: 0.05 vs 0.13 ms, the hand-off
#: alone costing ~0.08 ms). A split run equals a serial one bitwise (tested).
GROUP_SPLIT_MIN_ELEMENTS = None


#: Ops whose implementation always returns a newly allocated array that nothing else
#: references (checked in their kernels), so that a fused group reading such a value for
#: the last time may overwrite it (see :meth:`Program._choose_inplace`).
INPLACE_PRODUCERS = frozenset({
    "conv", "conv_transpose", "pool_scatter", "unpool_scatter", "max_pool1d", "max_pool2d",
    "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "avg_pool_backward"})


def _writable_c(a):
    """``a`` if it is a writable C-contiguous array, else a C-contiguous copy."""
    if a.flags.c_contiguous and a.flags.writeable:
        return a
    return np.array(a, order="C")


def _group_step(group, kernel, slot, planned, inplace=None):
    """The step running ``group``'s kernel: operands and stores reshaped (views) to the
    coalesced layout, float64 accumulators zeroed, results cast to their dtypes."""
    lay = codegen.Layout(group)
    sizes = lay.sizes
    # operands reshaped to the coalesced layout (None: already in it, or 0-d)
    ins = [(slot[id(v)], None if shape is None or tuple(v.shape) == shape else shape)
           for v, shape in zip(group.inputs, lay.inputs)]
    out_shape = None if tuple(group.shape) == sizes else sizes
    stores = [(slot[id(v)], id(v) in planned, tuple(v.shape), v.dtype)
              for k, v in enumerate(group.outputs) if inplace is None or k != inplace[1]]
    if inplace is not None:
        j_in, k_out = inplace
        s_in, s_out = slot[id(group.inputs[j_in])], slot[id(group.outputs[k_out])]
    reds = []  # slot, accumulator shape, its coalesced shape (None: the same), dtype, count
    for n, keep, shape in zip(group.reductions, group.keep_shapes, lay.keeps):
        out = n.outputs[0]
        count = math.prod(group.shape) // max(1, math.prod(keep))
        acc_shape = tuple(out.shape)
        reds.append((slot[id(out)], acc_shape, None if acc_shape == shape else shape,
                     out.dtype, count if n.op == "mean" else None))
    n_split = sizes[0 if lay.split is None else lay.split]  # the kernel's lo..hi dim
    limit = GROUP_SPLIT_MIN_ELEMENTS
    splittable = (limit is not None and lay.split is not None and n_split > 1
                  and math.prod(sizes) >= limit)
    blocks = list(range(n_split))

    def step(S):
        if inplace is not None:
            S[s_out] = S[s_in] = _writable_c(S[s_in])
        args = [S[i] if shape is None else S[i].reshape(shape) for i, shape in ins]
        for s, is_planned, shape, dtype in stores:
            if is_planned:
                buf = S[s]
            else:
                buf = S[s] = np.empty(shape, dtype)
            args.append(buf if out_shape is None else buf.reshape(out_shape))
        accs = []
        for _, shape, kshape, _, _ in reds:
            acc = np.zeros(shape, np.float64)
            accs.append(acc)
            args.append(acc if kshape is None else acc.reshape(kshape))
        if splittable:
            _threads.run_blocks(blocks, lambda part: kernel(part[0], part[-1] + 1, *sizes,
                                                            *args))
        else:
            kernel(0, n_split, *sizes, *args)
        for (s, shape, _, dtype, count), acc in zip(reds, accs):
            if count is not None:
                acc = acc / count if count else np.full(shape, np.nan)
            S[s] = acc.astype(dtype)
    return step


class Program:
    """A lowered node list: ``run(arrays) -> (outputs, arena)``.

    Parameters
    ----------
    items : list of Node or FusionGroup
        The schedule (from :func:`.fusion.fuse`).
    inputs : list of Value
        Values given to :meth:`run`, in order.
    outputs : list of Value
        Values returned by :meth:`run`, in order.
    escaping : list of Value
        Outputs that outlive the run's arena (handed to the caller); the others
        returned values (saved for a backward pass) may live in the arena.
    consts : list of Value
        Constants read by the program.
    tuner : autotune.Tuner, optional
        Measures each conv-family node's algorithms (else the per-shape rule decides).
    inplace : bool
        Let fused groups store into operands they read for the last time (see
        :meth:`_choose_inplace`; compiling enables it for backward programs).
    """

    def __init__(self, items, inputs, outputs, escaping, consts, name="program", tuner=None,
                 inplace=False):
        self.name = name
        self.tuner = tuner
        self.algorithms = []  # (conv-family node, chosen algorithm)
        self.items = finish(list(items), {id(v) for v in outputs})
        if tuner is None or not tuner.enabled:  # (measuring compares bare convs)
            self.items = epilogue.fuse(self.items, outputs, generated_conv)
        self.inputs, self.outputs = list(inputs), list(outputs)
        self.slot: dict[int, int] = {}
        self.values = []

        def slot_of(v):
            if id(v) not in self.slot:
                self.slot[id(v)] = len(self.values)
                self.values.append(v)
            return self.slot[id(v)]

        for v in self.inputs:
            slot_of(v)
        used_consts = []
        for v in consts:
            slot_of(v)
            used_consts.append(v)
        info = []  # per item: defs, uses, aliases
        for it in self.items:
            if isinstance(it, FusionGroup):
                defs = list(it.outputs) + [n.outputs[0] for n in it.reductions]
                uses = list(it.inputs)
                aliases = []
            else:
                defs = list(it.outputs)
                uses = list(it.inputs)
                aliases = [] if _fresh(it.op) else [(it.outputs[0], v) for v in it.inputs]
            for v in defs + uses:  # members' scalar values need no slot
                slot_of(v)
            info.append((defs, uses, aliases))
        self.inplace = self._choose_inplace(info) if inplace else {}
        for t, it in enumerate(self.items):
            pair = self.inplace.get(id(it))
            if pair is not None:  # the stored output lives in the input's memory
                info[t][2].append((it.outputs[pair[1]], it.inputs[pair[0]]))
        self.life = Lifetimes(info, self.outputs)
        escape_roots = {self.life.root(id(v)) for v in escaping if id(v) in self.life.parent}
        # arena candidates: values compiled code writes into memory it is handed
        cands = []
        for it in self.items:
            if isinstance(it, FusionGroup):
                pair = self.inplace.get(id(it))
                cands += [v for k, v in enumerate(it.outputs)
                          if pair is None or k != pair[1]]
            elif it.op == "matmul" and it.inputs[0].ndim >= 2 and it.inputs[1].ndim >= 2 \
                    and it.outputs[0].dtype.kind == "f":
                cands.append(it.outputs[0])
        self.planned = {}
        bufs = []
        for v in cands:
            r = self.life.root(id(v))
            if r in escape_roots or r != id(v):
                continue
            lo, hi = self.life.span(v)
            bufs.append((id(v), nbytes(v), lo, hi))
            self.planned[id(v)] = v
        self.offsets, self.arena_bytes = assign_offsets(bufs)
        self.planned_sum = sum(b[1] for b in bufs)
        self.buffer_count = len(bufs)
        self._estimate_peak(info)
        # steps, and the slots each step releases
        last: dict[int, int] = {}
        for t, (defs, uses, _) in enumerate(info):
            for v in defs + uses:
                last[self.slot[id(v)]] = t
        keep = {self.slot[id(v)] for v in self.outputs} | {self.slot[id(v)] for v in inputs}
        clear = [[] for _ in self.items]
        for s, t in last.items():
            if s not in keep:
                clear[t].append(s)
        self.small_gemms, self.big_gemms, self.generic_convs = [], 0, 0  # (by _lower)
        self.scratch_bytes = 0  # generated convs' padded inputs, kept between runs
        self.steps = []
        for it, clr in zip(self.items, clear):
            self.steps.append((self._lower(it), tuple(clr)))
        # no GEMM worth two BLAS threads and no generic conv (whose kernels split work
        # over Python threads when BLAS has several): BLAS on one thread for the whole
        # run, set once; else per small GEMM (two threadpoolctl calls each: 0.13 ms a
        # LeNet-5 step)
        self.one_blas = (bool(self.small_gemms) and not self.big_gemms
                         and not self.generic_convs and bool(_threads._blas_controllers()))
        if not self.one_blas:
            for t in self.small_gemms:
                self.steps[t] = (_one_blas_thread(self.steps[t][0]), self.steps[t][1])
        self.template = [None] * len(self.values)
        for v in used_consts:
            self.template[self.slot[id(v)]] = v.data
        self._free_arenas: list = []
        self.out_slots = [self.slot[id(v)] for v in self.outputs]
        self.n_in = len(self.inputs)

    def _choose_inplace(self, info):
        """``{id(group): (input index, output index)}``: groups that store a result into
        the memory of an operand read for the last time (same shape and dtype, made by a
        kernel that always allocates its result: :data:`INPLACE_PRODUCERS`). Halves the
        memory a kernel touches: ReLU backward + bias gradient overwriting max-pool's
        scatter, 64x6x28x28 float32, measured 0.116 -> 0.072 ms.

        Only for results that die within the run (not returned, not saved), and only in
        backward programs: storing in place keeps a kernel-allocated block alive longer,
        which changes the order of the allocator's large blocks. In LeNet-5's forward
        (bias + ReLU over the conv output, 0.060 -> 0.025 ms by itself) glibc then
        returned memory to the system and faulted it back in on every step, in most
        processes (measured 600-730 page faults per step, against 0.1 without, or with
        in-place in the backward only): the arena, reused across steps, has no such
        failure mode."""
        pre = Lifetimes(info, self.outputs)
        producer = {}
        for it in self.items:
            if not isinstance(it, FusionGroup):
                for v in it.outputs:
                    producer[id(v)] = it
        returned = {id(v) for v in self.outputs}
        kept = returned | {id(v) for v in self.inputs}
        taken, out = set(), {}
        for t, it in enumerate(self.items):
            if not isinstance(it, FusionGroup) or not it.outputs:
                continue
            for j, v in enumerate(it.inputs):
                p = producer.get(id(v))
                if (p is None or p.op not in INPLACE_PRODUCERS or id(v) in kept
                        or id(v) in taken or tuple(v.shape) != tuple(it.shape)
                        or pre.root(id(v)) != id(v) or pre.span(v)[1] != t):
                    continue
                k = next((k for k, o in enumerate(it.outputs)
                          if o.dtype == v.dtype and id(o) not in returned), None)
                if k is None:
                    continue
                taken.add(id(v))
                out[id(it)] = (j, k)
                break
        return out

    # -- lowering -----------------------------------------------------------------------
    def _lower(self, it):
        slot = self.slot
        if isinstance(it, FusionGroup):
            pair = self.inplace.get(id(it))
            kernel = codegen.kernel_for(codegen.generate(it, pair))
            return _group_step(it, kernel, slot, self.planned, pair)
        ins = [slot[id(v)] for v in it.inputs]
        outs = [slot[id(v)] for v in it.outputs]
        if isinstance(it, epilogue.ConvEpilogue):
            x, w = it.inputs[:2]
            kernel = conv_gen.Correlation(x.shape, w.shape, it.params["padding"],
                                          it.outputs[0].dtype, bias=True, relu=True,
                                          stride=it.params["stride"])
            self.algorithms.append((it.conv, GENERATED))
            self.scratch_bytes += kernel.pad.nbytes
            return _epilogue_step(kernel, ins, outs)
        if it.op == "matmul":
            step = (_matmul_step(ins, outs[0]) if id(it.outputs[0]) in self.planned
                    else _impl_step(np.matmul, ins, outs, {}))
            if _matmul_flops(it) < _threads.BLAS_MIN_FLOPS:
                self.small_gemms.append(len(self.steps))
            else:
                self.big_gemms += 1
            return step
        params = it.params
        if it.op in ("conv", "conv_transpose", "conv_weight_grad"):
            kernel = generated_conv(it)
            params = choose_conv_algorithm(it)
            if self.tuner is not None and self.tuner.enabled:
                params = self.tuner.choose(it, params, kernel)
            elif kernel is not None:
                params = dict(params, algorithm=GENERATED)
            if params["algorithm"] == GENERATED:
                self.algorithms.append((it, GENERATED))
                self.scratch_bytes += kernel.pad.nbytes
                return _impl_step(kernel, ins, outs, {})
            self.algorithms.append((it, params["algorithm"]))
        if REGISTRY[it.op].category == "conv":  # (unfold and fold too)
            self.generic_convs += 1
        return _impl_step(REGISTRY[it.op].impl, ins, outs, params)

    def _estimate_peak(self, info):
        """Planned peak: the arena plus the most bytes of unplanned results alive at once."""
        events = []
        out_ids = {id(v) for v in self.outputs}
        for defs, _, _ in info:
            for v in defs:
                if id(v) in self.planned:
                    continue
                if self.life.root(id(v)) != id(v):
                    continue  # an alias owns no bytes
                lo, hi = self.life.span(v)
                events.append((lo, nbytes(v)))
                events.append((hi + 1, -nbytes(v)))
        live = peak = 0
        for _, d in sorted(events, key=lambda e: (e[0], e[1])):
            live += d
            peak = max(peak, live)
        self.peak_bytes = self.arena_bytes + peak
        self.saved_bytes = self.arena_bytes + sum(
            nbytes(v) for v in self.outputs if id(v) in out_ids and id(v) in self.life.first
            and id(v) not in self.planned and self.life.root(id(v)) == id(v))

    # -- running ------------------------------------------------------------------------
    def _arena(self):
        if self._free_arenas:
            return self._free_arenas.pop()
        buf = np.empty(max(self.arena_bytes, 1), np.uint8)
        views = list(self.template)
        for k, off in self.offsets.items():
            v = self.planned[k]
            n = nbytes(v)
            views[self.slot[k]] = buf[off:off + n].view(v.dtype).reshape(v.shape)
        return buf, views

    def release(self, arena):
        """Give a run's arena back for reuse (once nothing reads its buffers)."""
        if arena is not None and len(self._free_arenas) < 4:
            self._free_arenas.append(arena)

    def run(self, arrays):
        """Run on ``arrays`` (one per input). Returns (outputs, arena); the arena holds
        the non-escaping outputs' memory: pass it to :meth:`release` when done."""
        arena = self._arena()
        S = list(arena[1])
        S[:self.n_in] = arrays
        with loss_kernels.compiled_run(), (_threads._one_blas_thread() if self.one_blas
                                           else contextlib.nullcontext()):
            for step, clr in self.steps:
                step(S)
                for s in clr:
                    S[s] = None
        return [S[s] for s in self.out_slots], arena

    # -- inspection ---------------------------------------------------------------------
    def groups(self):
        """The fused groups, in schedule order."""
        return [it for it in self.items if isinstance(it, FusionGroup)]

    def kernel_sources(self):
        """The generated source of each fused group's kernel."""
        return [codegen.generate(g, self.inplace.get(id(g))) for g in self.groups()]

    def __str__(self):
        lines = [f"program {self.name}: {len(self.steps)} steps, arena {self.arena_bytes} B"]
        for it in self.items:
            if isinstance(it, FusionGroup):
                ops = ", ".join(n.op for n in it.all_nodes())
                outs = ", ".join(v.name for v in it.outputs) or "-"
                lines.append(f"  fused[{ops}] over {list(it.shape)} -> {outs}")
            else:
                op = getattr(it, "label", it.op)
                lines.append(f"  {op} -> {', '.join(v.name for v in it.outputs)}")
        return "\n".join(lines)
