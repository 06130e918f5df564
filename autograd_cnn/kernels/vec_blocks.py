"""Register blocks: a tuple of vector partial sums, updated or stored by one intrinsic.

A generated convolution (:mod:`.conv_gen`) keeps up to 25 vector partial sums and, per
tap, multiplies-and-adds each with operands at constant offsets from two base indices.
Written as one Numba statement per multiply-add, a kernel had ~3,000 IR statements and
compiled in 1-2 s, nearly all of it Numba's own typing and lowering. Here the whole tap
is one call of an intrinsic made for the kernel's constant pattern: Numba types one
call, and the pattern becomes straight-line LLVM IR (each distinct load emitted once).

A *block* is a ``UniTuple`` of :class:`.vec.VecType` values. The factories take the
pattern as plain tuples (hashable: each distinct pattern is made once per process) and
return intrinsics:

- ``init_block(n, mode, offsets)``: ``(a, base) -> block``; ``mode`` ``"zero"``,
  ``"splat"`` (``a[base + offsets[k]]`` in every lane of sum ``k``) or ``"vector"``
  (``a[base + offsets[k]:][:L]``; no offsets: ``a[base:base+L]`` in every sum).
- ``fma_block(n, terms)``: ``(block, A, a0, B, b0) -> block``; each term
  ``(k, a_off, a_mode, a_keep, b_off, b_mode)`` adds ``opA * opB`` to sum ``k``, an operand
  being the vector ``X[x0 + off : + L]`` (mode ``"v"``) or the broadcast scalar
  ``X[x0 + off]`` (``"s"``); ``a_keep`` zeroes the lanes of ``opA`` below it.
- ``store_block(n, offsets, relu, width)``: ``(block, y, base)``: sum ``k`` to
  ``y[base + offsets[k]:][:width]`` (``width`` < L: the first lanes only), ReLU'd if asked.
- ``lanes_store(n, offsets, lane_stride, lanes, relu)``: ``(block, y, base)``: lane
  ``q < lanes[k]`` of sum ``k`` to ``y[base + offsets[k] + q * lane_stride]``.
- ``hsum_store(n, offsets)``: ``(block, y, base)``: the lane sum of sum ``k`` (in lane
  order) to ``y[base + offsets[k]]``.

Nothing bounds-checks: the generated kernels guarantee every index.
"""

from __future__ import annotations

import functools

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .vec import _VEC, _flat, _ptr, _splat

_I32 = ir.IntType(32)


def _vload(builder, lt, arr_ptr):
    return builder.load(builder.bitcast(arr_ptr, lt.as_pointer()), align=1)


def _block_type(a, n):
    return types.UniTuple(_VEC[a.dtype], n)


@functools.cache
def init_block(n, mode, offsets=None):
    @intrinsic
    def init(typingctx, a, base):
        if not (_flat(a) and isinstance(base, types.Integer)):
            return None
        bt = _block_type(a, n)

        def codegen(context, builder, sig, args):
            lt = context.get_value_type(bt.dtype)
            if mode == "zero":
                values = [ir.Constant(lt, [0.0] * lt.count)] * n
            elif mode == "vector":
                values = []
                for k in range(n):
                    off = offsets[k] if offsets else 0
                    i = builder.add(args[1], ir.Constant(args[1].type, off))
                    values.append(_vload(builder, lt, _ptr(context, builder, a, args[0], i)))
            else:
                values = []
                for k in range(n):
                    i = builder.add(args[1], ir.Constant(args[1].type, offsets[k]))
                    x = builder.load(_ptr(context, builder, a, args[0], i))
                    values.append(_splat(builder, lt, x))
            return context.make_tuple(builder, bt, values)

        return bt(a, base), codegen

    return init


@functools.cache
def fma_block(n, terms):
    @intrinsic
    def fma(typingctx, block, A, a0, B, b0):
        if not (isinstance(block, types.UniTuple) and block.count == n and _flat(A)
                and _flat(B) and isinstance(a0, types.Integer)
                and isinstance(b0, types.Integer)):
            return None

        def codegen(context, builder, sig, args):
            tup, a_arr, a0v, b_arr, b0v = args
            lt = context.get_value_type(block.dtype)
            accs = cgutils.unpack_tuple(builder, tup, n)
            loaded = {}

            def operand(which, arr, aty, base, off, mode, keep=0):
                key = (which, off, mode, keep)
                if key not in loaded:
                    i = builder.add(base, ir.Constant(base.type, off))
                    p = _ptr(context, builder, aty, arr, i)
                    v = _vload(builder, lt, p) if mode == "v" else _splat(
                        builder, lt, builder.load(p))
                    if keep:
                        mask = ir.Constant(ir.VectorType(ir.IntType(1), lt.count),
                                           [int(q >= keep) for q in range(lt.count)])
                        v = builder.select(mask, v, ir.Constant(lt, [0.0] * lt.count))
                    loaded[key] = v
                return loaded[key]

            for k, a_off, a_mode, a_keep, b_off, b_mode in terms:
                x = operand("a", a_arr, A, a0v, a_off, a_mode, a_keep)
                y = operand("b", b_arr, B, b0v, b_off, b_mode)
                product = builder.fmul(x, y, flags=("contract",))
                accs[k] = builder.fadd(product, accs[k], flags=("contract",))
            return context.make_tuple(builder, block, accs)

        return block(block, A, a0, B, b0), codegen

    return fma


def _block_store(n, emit):
    """An intrinsic ``(block, y, base)`` that calls ``emit(builder, at, k, v)`` for each
    sum ``v`` (index ``k``) of the block, ``at(offset)`` being a pointer to
    ``y[base + offset]``."""
    @intrinsic
    def store(typingctx, block, y, base):
        if not (isinstance(block, types.UniTuple) and block.count == n and _flat(y)
                and isinstance(base, types.Integer)):
            return None

        def codegen(context, builder, sig, args):
            tup, arr, b = args

            def at(offset):
                return _ptr(context, builder, y, arr, builder.add(b, ir.Constant(b.type, offset)))

            for k, v in enumerate(cgutils.unpack_tuple(builder, tup, n)):
                emit(builder, at, k, v)
            return context.get_dummy_value()

        return types.void(block, y, base), codegen

    return store


def _relu(builder, v):
    zero = ir.Constant(v.type, [0.0] * v.type.count)
    return builder.select(builder.fcmp_ordered("<", v, zero), zero, v)


@functools.cache
def store_block(n, offsets, relu, width):
    def emit(builder, at, k, v):
        v = _relu(builder, v) if relu else v
        p = at(offsets[k])
        if width >= v.type.count:
            builder.store(v, builder.bitcast(p, v.type.as_pointer()), align=1)
            return
        for q in range(width):
            e = builder.extract_element(v, ir.Constant(_I32, q))
            builder.store(e, builder.gep(p, [ir.Constant(_I32, q)]))

    return _block_store(n, emit)


@functools.cache
def lanes_store(n, offsets, lane_stride, lanes, relu=False):  # lanes: per sum
    def emit(builder, at, k, v):
        v = _relu(builder, v) if relu else v
        for q in range(lanes[k]):
            builder.store(builder.extract_element(v, ir.Constant(_I32, q)),
                          at(offsets[k] + q * lane_stride))

    return _block_store(n, emit)


@functools.cache
def hsum_store(n, offsets):
    def emit(builder, at, k, v):
        total = builder.extract_element(v, ir.Constant(_I32, 0))
        for q in range(1, v.type.count):
            total = builder.fadd(total, builder.extract_element(v, ir.Constant(_I32, q)))
        builder.store(total, at(offsets[k]))

    return _block_store(n, emit)
