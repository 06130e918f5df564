"""SIMD vectors as values in Numba kernels: a vector type and its operations.

LLVM vectorizes simple loops, but a convolution's best loop nest keeps two dozen partial
sums in registers across a whole reduction (register blocking), which no auto-vectorizer
finds. Here a vector is a first-class Numba value (``vec_float32x16``, ``vec_float64x8``)
held in a register: the generated convolution kernels (:mod:`.conv_gen`) write the
blocked loop nest directly, one named vector local per partial sum.

The width is the host's (:data:`BITS`): 512 bits with AVX-512 (16 float32 lanes, 32
registers), 256 with AVX2/AVX (8 lanes, 16 registers), else 128;
``AUTOGRAD_CNN_VECTOR_BITS=128|256|512`` overrides it (a test runs the kernels at every
width). Narrower than the CPU's registers is slower, never wrong: LLVM splits a vector
it has no register for.

- ``wide()``: lets the enclosing function use :data:`BITS`-wide registers (LLVM
  otherwise splits a 512-bit vector into two 256-bit halves on CPUs where it prefers
  256-bit code).
- ``vload(a, i)`` / ``vstore(a, i, v)``: ``a[i:i + lanes]`` of a 1-D array, unaligned.
- ``vzero(a)``, ``vsplat(a, x)``: a vector of ``a``'s dtype, zero or ``x`` in every lane.
- ``vfma(a, b, c)``: ``a * b + c`` (a fused multiply-add); ``a`` or ``b`` may be a scalar,
  broadcast to every lane.
- ``vrelu(v)``: ``0`` where ``v < 0``, else ``v`` (NaN stays NaN, as ``max(x, 0)`` in NumPy).
- ``vkeep_from(v, k)``: lanes below ``k`` (a compile-time constant) set to zero.
- ``vhsum(v)``: the sum of the lanes, in lane order.
- ``ld(a, i)``: the scalar ``a[i]``, with no negative-index wraparound.

Nothing bounds-checks: the generated callers guarantee every index. Numba's disk cache
keys a kernel on the file that defines it, not on this one: generated kernels carry a
version number (``conv_gen.VERSION``) in their source, bumped when this file changes.
"""

from __future__ import annotations

import os
import platform

from llvmlite import binding, ir
from numba import types
from numba.extending import intrinsic, models, register_model


def _host():
    """(vector bits, vector registers) of this CPU, or as AUTOGRAD_CNN_VECTOR_BITS says."""
    features = binding.get_host_cpu_features()
    x86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")
    avx512 = bool(features.get("avx512f"))
    bits = 512 if avx512 else 256 if x86 and (features.get("avx2") or features.get("avx")) \
        else 128
    asked = os.environ.get("AUTOGRAD_CNN_VECTOR_BITS")
    if asked:
        if asked not in ("128", "256", "512"):
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"AUTOGRAD_CNN_VECTOR_BITS: expected 128, 256 or 512, got {asked!r}")
        bits = int(asked)
    return bits, 32 if (avx512 or not x86) else 16


#: Vector width in bits, and the CPU's vector registers (:func:`_host`).
BITS, REGISTERS = _host()

#: Lanes of a vector, by dtype name.
LANES = {"float32": BITS // 32, "float64": BITS // 64}

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)


class VecType(types.Type):
    """A :data:`BITS`-wide vector of float32 or float64 lanes."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.lanes = LANES[str(dtype)]
        super().__init__(name=f"vec_{dtype}x{self.lanes}")


@register_model(VecType)
class _VecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        elt = ir.FloatType() if fe_type.dtype == types.float32 else ir.DoubleType()
        super().__init__(dmm, fe_type, ir.VectorType(elt, fe_type.lanes))


_VEC = {types.float32: VecType(types.float32), types.float64: VecType(types.float64)}


def _flat(a) -> bool:
    return isinstance(a, types.Array) and a.ndim == 1 and a.dtype in _VEC


def _ptr(context, builder, aty, arr, idx):
    A = context.make_array(aty)(context, builder, arr)
    i = idx if idx.type.width == 64 else builder.sext(idx, _I64)
    return builder.gep(A.data, [i])


def _splat(builder, lt, x):
    v = builder.insert_element(ir.Constant(lt, ir.Undefined), x, ir.Constant(_I32, 0))
    return builder.shuffle_vector(v, ir.Constant(lt, ir.Undefined),
                                  ir.Constant(ir.VectorType(_I32, lt.count), [0] * lt.count))


@intrinsic
def wide(typingctx):
    def codegen(context, builder, sig, args):
        attrs = builder.function.attributes
        # llvmlite knows only enumerated attributes; these key-value ones are written
        # verbatim into the function's definition, which LLVM reads as usual.
        set.add(attrs, f'"prefer-vector-width"="{BITS}"')
        set.add(attrs, f'"min-legal-vector-width"="{BITS}"')
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def vload(typingctx, a, i):
    if not (_flat(a) and isinstance(i, types.Integer)):
        return None
    vt = _VEC[a.dtype]

    def codegen(context, builder, sig, args):
        p = _ptr(context, builder, sig.args[0], args[0], args[1])
        lt = context.get_value_type(vt)
        return builder.load(builder.bitcast(p, lt.as_pointer()), align=1)

    return vt(a, i), codegen


@intrinsic
def vstore(typingctx, a, i, v):
    if not (_flat(a) and isinstance(i, types.Integer) and v == _VEC[a.dtype]):
        return None

    def codegen(context, builder, sig, args):
        p = _ptr(context, builder, sig.args[0], args[0], args[1])
        builder.store(args[2], builder.bitcast(p, args[2].type.as_pointer()), align=1)
        return context.get_dummy_value()

    return types.void(a, i, v), codegen


@intrinsic
def vzero(typingctx, a):
    if not _flat(a):
        return None
    vt = _VEC[a.dtype]

    def codegen(context, builder, sig, args):
        lt = context.get_value_type(vt)
        return ir.Constant(lt, [0.0] * vt.lanes)

    return vt(a), codegen


@intrinsic
def vsplat(typingctx, a, x):
    if not (_flat(a) and isinstance(x, (types.Float, types.Integer))):
        return None
    vt = _VEC[a.dtype]

    def codegen(context, builder, sig, args):
        x = context.cast(builder, args[1], sig.args[1], a.dtype)
        return _splat(builder, context.get_value_type(vt), x)

    return vt(a, x), codegen


@intrinsic
def vfma(typingctx, a, b, c):
    if not isinstance(c, VecType):
        return None
    for t in (a, b):
        if not (t == c or isinstance(t, (types.Float, types.Integer))):
            return None

    def codegen(context, builder, sig, args):
        lt = context.get_value_type(c)
        ops = []
        for v, t in zip(args[:2], sig.args[:2]):
            if not isinstance(t, VecType):
                v = _splat(builder, lt, context.cast(builder, v, t, c.dtype))
            ops.append(v)
        product = builder.fmul(ops[0], ops[1], flags=("contract",))
        return builder.fadd(product, args[2], flags=("contract",))

    return c(a, b, c), codegen


@intrinsic
def vrelu(typingctx, v):
    if not isinstance(v, VecType):
        return None

    def codegen(context, builder, sig, args):
        zero = ir.Constant(args[0].type, [0.0] * v.lanes)
        negative = builder.fcmp_ordered("<", args[0], zero)
        return builder.select(negative, zero, args[0])

    return v(v), codegen


@intrinsic
def vkeep_from(typingctx, v, k):
    if not (isinstance(v, VecType) and isinstance(k, types.IntegerLiteral)):
        return None
    first = k.literal_value

    def codegen(context, builder, sig, args):
        keep = ir.Constant(ir.VectorType(ir.IntType(1), v.lanes),
                           [int(lane >= first) for lane in range(v.lanes)])
        zero = ir.Constant(args[0].type, [0.0] * v.lanes)
        return builder.select(keep, args[0], zero)

    return v(v, k), codegen


@intrinsic
def vhsum(typingctx, v):
    if not isinstance(v, VecType):
        return None

    def codegen(context, builder, sig, args):
        total = builder.extract_element(args[0], ir.Constant(_I32, 0))
        for lane in range(1, v.lanes):
            total = builder.fadd(total, builder.extract_element(args[0], ir.Constant(_I32, lane)))
        return total

    return v.dtype(v), codegen


@intrinsic
def ld(typingctx, a, i):
    if not (_flat(a) and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        return builder.load(_ptr(context, builder, sig.args[0], args[0], args[1]))

    return a.dtype(a, i), codegen


__all__ = ["LANES", "VecType", "wide", "vload", "vstore", "vzero", "vsplat", "vfma",
           "vrelu", "vkeep_from", "vhsum", "ld"]
