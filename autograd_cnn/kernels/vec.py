"""SIMD vectors as values in Numba kernels: the vector type, its width, ``wide()``.

LLVM vectorizes simple loops, but a convolution's best loop nest keeps two dozen partial
sums in registers across a whole reduction (register blocking), which no auto-vectorizer
finds. Here a vector is a first-class Numba value (``vec_float32x16``, ``vec_float64x8``
with AVX-512) held in a register; the block intrinsics of :mod:`.vec_blocks` update and
store tuples of them, and the generated convolution kernels (:mod:`.conv_gen`) are
written with those.

The width is the host's (:data:`BITS`): 512 bits with AVX-512 (16 float32 lanes, 32
registers), 256 with AVX2/AVX (8 lanes, 16 registers), else 128;
``AUTOGRAD_CNN_VECTOR_BITS=128|256|512`` overrides it (a test runs the kernels at every
width). Narrower than the CPU's registers is slower, never wrong: LLVM splits a vector
it has no register for.

``wide()``, called in a kernel, lets the enclosing function use :data:`BITS`-wide
registers (LLVM otherwise splits a 512-bit vector into two 256-bit halves on CPUs where
it prefers 256-bit code). Numba's disk cache keys a kernel on the file that defines it,
not on this one: generated kernels carry a version number (``conv_gen.VERSION``) and the
vector width in their source.
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


__all__ = ["BITS", "LANES", "REGISTERS", "VecType", "wide"]
