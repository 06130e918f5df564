"""Explicit-vector building blocks of the 2x2 / stride-2 max-pooling kernels (Numba intrinsics).

LLVM vectorizes the obvious row loop of a 2x2 max pool, but with a vector body of 16
outputs (4 lanes x 4-way interleave): rows shorter than that (LeNet-5's 14 and 5) never
enter it and run scalar at about 2.2 ns per window. These intrinsics emit the vector code
for ``n`` consecutive windows of one row pair directly (two ``2n``-wide loads, even/odd
lane shuffles, the same compare-and-select sequence as the scalar kernels), so that a row
of 14 windows costs two 8-window blocks (the second overlapping the first: rewriting an
output with the same value is harmless). Measured on LeNet-5's (64, 6, 28, 28) float32:
0.18 ms scalar, 0.044 ms vector.

Both blocks work on one C-contiguous plane (1-D arrays) and plane-relative flat indices:
``r0`` is the flat index of the top-left tap of the first window, ``o0`` the position of
its output; the ``n`` windows read ``[r0, r0 + 2n)`` and ``[r0 + W, r0 + W + 2n)``.

- ``max_block{4,8}(x, r0, W, out, idx, o0)``: values and argmax of the windows, exactly
  as the scalar rule (taps in row-major order; a later tap wins when greater or NaN).
- ``scatter_block8(g, idx, o0, r0, W, out) -> bool``: the max-pool gradient of the
  windows written directly (``0 + g`` at the saved argmax, ``0`` at the three other taps);
  returns whether every index lay inside its own window (if not, the caller must fall back
  to the general scatter, which overwrites everything).

Nothing here bounds-checks: the callers guarantee the ranges. Numba's disk cache keys the
kernels that inline these blocks on their own file (kernels/pool.py): after editing this
file, touch that one (or clear the cache) so that they are recompiled.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .vec import _splat

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)


def _check(arrays, floats, ints):
    """Typing guard: 1-D C-contiguous arrays of the expected dtypes, integer scalars."""
    ok = all(isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C" for a in arrays)
    ok = ok and all(a.dtype in (types.float32, types.float64) for a in floats)
    ok = ok and all(isinstance(i, types.Integer) for i in ints)
    return ok


class _Vec:
    """Helpers that emit vector IR for blocks of ``n`` windows."""

    def __init__(self, builder, n):
        self.b, self.n = builder, n
        self.vi = ir.VectorType(_I64, n)

    def as_i64(self, v):
        if v.type.width < 64:
            return self.b.sext(v, _I64)
        return v

    def splat(self, v):
        return _splat(self.b, self.vi, v)

    def mask(self, lanes):
        return ir.Constant(ir.VectorType(_I32, len(lanes)), lanes)

    def load(self, ptr, start, vty):
        return self.b.load(self.b.bitcast(self.b.gep(ptr, [start]), vty.as_pointer()), align=1)

    def store(self, value, ptr, start):
        self.b.store(value, self.b.bitcast(self.b.gep(ptr, [start]), value.type.as_pointer()),
                     align=1)


def _max_block(n):
    @intrinsic
    def max_block(typingctx, x, r0, W, out, idx, o0):
        if not (_check((x, out, idx), (x, out), (r0, W, o0)) and idx.dtype == types.int64):
            return None
        sig = types.void(x, r0, W, out, idx, o0)

        def codegen(context, builder, signature, args):
            xa, r0v, wv, oa, ia, o0v = args
            xt, _, _, ot, it, _ = signature.args
            X = context.make_array(xt)(context, builder, xa)
            O = context.make_array(ot)(context, builder, oa)
            Ix = context.make_array(it)(context, builder, ia)
            V = _Vec(builder, n)
            fty = context.get_value_type(xt.dtype)
            r0v, wv, o0v = V.as_i64(r0v), V.as_i64(wv), V.as_i64(o0v)
            pair = ir.VectorType(fty, 2 * n)
            top = V.load(X.data, r0v, pair)
            bot = V.load(X.data, builder.add(r0v, wv), pair)
            undef = ir.Constant(pair, ir.Undefined)
            even, odd = V.mask([2 * k for k in range(n)]), V.mask([2 * k + 1 for k in range(n)])
            a = builder.shuffle_vector(top, undef, even)
            taps = (builder.shuffle_vector(top, undef, odd),
                    builder.shuffle_vector(bot, undef, even),
                    builder.shuffle_vector(bot, undef, odd))
            wsp = V.splat(wv)
            one = ir.Constant(V.vi, [1] * n)
            offsets = (one, wsp, builder.add(wsp, one))
            best, off = a, ir.Constant(V.vi, [0] * n)
            for v, o in zip(taps, offsets):  # row-major order: greater or NaN wins
                take = builder.or_(builder.fcmp_ordered(">", v, best),
                                   builder.fcmp_unordered("uno", v, v))
                best = builder.select(take, v, best)
                off = builder.select(take, o, off)
            base = builder.add(V.splat(r0v), ir.Constant(V.vi, [2 * k for k in range(n)]))
            V.store(best, O.data, o0v)
            V.store(builder.add(base, off), Ix.data, o0v)
            return context.get_dummy_value()

        return sig, codegen

    return max_block


def _scatter_block(n):
    @intrinsic
    def scatter_block(typingctx, g, idx, o0, r0, W, out):
        if not (_check((g, idx, out), (g, out), (o0, r0, W)) and idx.dtype == types.int64):
            return None
        sig = types.boolean(g, idx, o0, r0, W, out)

        def codegen(context, builder, signature, args):
            ga, ia, o0v, r0v, wv, oa = args
            gt, it, _, _, _, ot = signature.args
            G = context.make_array(gt)(context, builder, ga)
            Ix = context.make_array(it)(context, builder, ia)
            O = context.make_array(ot)(context, builder, oa)
            V = _Vec(builder, n)
            fty = context.get_value_type(gt.dtype)
            r0v, wv, o0v = V.as_i64(r0v), V.as_i64(wv), V.as_i64(o0v)
            vf = ir.VectorType(fty, n)
            gv = V.load(G.data, o0v, vf)
            iv = V.load(Ix.data, o0v, V.vi)
            zero = ir.Constant(vf, [0.0] * n)
            gz = builder.fadd(zero, gv)  # what a scatter-add into zeros stores (-0 -> +0)
            base = builder.add(V.splat(r0v), ir.Constant(V.vi, [2 * k for k in range(n)]))
            wsp = V.splat(wv)
            one = ir.Constant(V.vi, [1] * n)
            targets = (base, builder.add(base, one), builder.add(base, wsp),
                       builder.add(builder.add(base, wsp), one))
            hits = [builder.icmp_signed("==", iv, t) for t in targets]
            vals = [builder.select(h, gz, zero) for h in hits]
            inter = V.mask([k // 2 + (k % 2) * n for k in range(2 * n)])
            V.store(builder.shuffle_vector(vals[0], vals[1], inter), O.data, r0v)
            V.store(builder.shuffle_vector(vals[2], vals[3], inter), O.data,
                    builder.add(r0v, wv))
            inside = builder.or_(builder.or_(hits[0], hits[1]), builder.or_(hits[2], hits[3]))
            bits = builder.bitcast(inside, ir.IntType(n))
            return builder.icmp_unsigned("==", bits, ir.Constant(ir.IntType(n), (1 << n) - 1))

        return sig, codegen

    return scatter_block


max_block4, max_block8 = _max_block(4), _max_block(8)
scatter_block8 = _scatter_block(8)
