"""Linear algebra primitives: ``matmul`` (NumPy semantics, batched and broadcasting,
1-D cases included) and ``einsum``, the expression language of the DSL."""

from __future__ import annotations

import string

import numpy as np

from ..errors import EinsumError, MatmulShapeError
from ..primitive import Primitive, register
from ..tensor import Tensor
from . import movement as _movement
from . import reduce as _reduce
from ._common import as_operand, broadcast_shape, operands

# ---- matmul --------------------------------------------------------------------------


def _matmul_shape(a, b):
    if len(a) == 0 or len(b) == 0:
        raise MatmulShapeError(
            f"matmul(): both operands need at least 1 dim, got shapes {tuple(a)} and {tuple(b)}"
        )
    ka = a[-1]
    kb = b[-2] if len(b) >= 2 else b[0]
    if ka != kb:
        raise MatmulShapeError(
            f"matmul(): shapes {tuple(a)} and {tuple(b)} are not aligned: "
            f"{ka} (last dim of the first) != {kb} "
            f"({'second-to-last' if len(b) >= 2 else 'only'} dim of the second)"
        )
    batch = broadcast_shape(a[:-2], b[:-2], what="matmul() batch dims")
    rows = (a[-2],) if len(a) >= 2 else ()
    cols = (b[-1],) if len(b) >= 2 else ()
    return batch + rows + cols


def _mT(t: Tensor) -> Tensor:
    return _movement.transpose(t, -2, -1)


def _matmul_vjp_a(g, ans, a, b):
    reshape, unsqueeze, sum_to = _movement.reshape, _movement.unsqueeze, _reduce.sum_to
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if b.ndim == 1:  # (..., m, k) @ (k,) -> (..., m)
        return sum_to(unsqueeze(g, -1) * b, a.shape)
    if a.ndim == 1:  # (k,) @ (..., k, n) -> (..., n)
        return reshape(sum_to(unsqueeze(g, -2) @ _mT(b), (1,) + a.shape), a.shape)
    return sum_to(g @ _mT(b), a.shape)


def _matmul_vjp_b(g, ans, a, b):
    reshape, unsqueeze, sum_to = _movement.reshape, _movement.unsqueeze, _reduce.sum_to
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if b.ndim == 1:
        return reshape(sum_to(_mT(a) @ unsqueeze(g, -1), b.shape + (1,)), b.shape)
    if a.ndim == 1:
        return sum_to(unsqueeze(a, -1) * unsqueeze(g, -2), b.shape)
    return sum_to(_mT(a) @ g, b.shape)


_matmul = register(
    Primitive("matmul", np.matmul, category="linalg", shape=_matmul_shape)
).defvjp(_matmul_vjp_a, _matmul_vjp_b)


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics.

    Shapes: (n,)@(n,) -> (); (m,k)@(k,n) -> (m,n); (...,m,k)@(...,k,n) -> (...,m,n) with
    broadcast batch dims; a 1-D operand is a vector on its side.
    """
    a, b = operands(a, b)
    _matmul_shape(a.shape, b.shape)
    return _matmul(a, b)


# ---- einsum --------------------------------------------------------------------------


def _parse_einsum(subscripts: str, shapes) -> tuple[list[str], str]:
    """Explicit form: operand subscripts without '...', and the output subscripts."""
    s = subscripts.replace(" ", "")
    if "->" in s:
        lhs, out = s.split("->")
        explicit = True
    else:
        lhs, out, explicit = s, "", False
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise EinsumError(
            f"einsum(): subscripts {subscripts!r} name {len(ins)} operands, got {len(shapes)}"
        )
    used = set(c for c in s if c.isalpha())
    spare = [c for c in string.ascii_letters if c not in used]
    ell_nd = 0
    for term, shape in zip(ins, shapes):
        if "..." in term:
            ell_nd = max(ell_nd, len(shape) - (len(term) - 3))
    ell = "".join(spare[:ell_nd])
    terms = []
    for k, (term, shape) in enumerate(zip(ins, shapes)):
        if "..." in term:
            n = len(shape) - (len(term) - 3)
            term = term.replace("...", ell[ell_nd - n:] if n else "")
        if not all(c.isalpha() for c in term):
            raise EinsumError(f"einsum(): invalid subscript {term!r} (letters and '...' only)")
        if len(term) != len(shape):
            raise EinsumError(
                f"einsum(): operand {k} has {len(shape)} dims but subscripts {term!r} name "
                f"{len(term)}"
            )
        if len(set(term)) != len(term):
            raise EinsumError(
                f"einsum(): repeated subscript in {term!r} (diagonals) is not supported; "
                "use explicit indexing"
            )
        terms.append(term)
    if explicit:
        out = out.replace("...", ell)
    else:
        counts = {}
        for t in terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    sizes: dict[str, int] = {}
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        for c, n in zip(term, shape):
            if sizes.get(c, n) != n and 1 not in (sizes[c], n):
                raise EinsumError(
                    f"einsum(): subscript {c!r} has size {sizes[c]} in one operand and {n} in "
                    f"operand {k} (shape {tuple(shape)})"
                )
            sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
    for c in out:
        if c not in sizes:
            raise EinsumError(f"einsum(): output subscript {c!r} does not appear in the inputs")
    return terms, out


def _einsum_shape(*shapes, terms, out):
    sizes = {}
    for term, shape in zip(terms, shapes):
        for c, n in zip(term, shape):
            sizes[c] = max(sizes.get(c, 1), n)
    return tuple(sizes[c] for c in out)


def _einsum_impl(*arrays, terms, out):
    # optimize=True routes a large two-operand contraction through BLAS (tensordot); the
    # plain C loop is faster only for tiny operands.
    big = len(arrays) > 2 or (len(arrays) == 2 and arrays[0].size * arrays[1].size > 4096)
    return np.einsum(",".join(terms) + "->" + out, *arrays, optimize=big)


def _einsum_vjp(argnum, g, ans, *inputs, terms, out):
    broadcast_to, reshape, sum_to = _movement.broadcast_to, _movement.reshape, _reduce.sum_to
    target = terms[argnum]
    others = [t for k, t in enumerate(terms) if k != argnum]
    avail = set(out).union(*others) if others else set(out)
    # Letters summed only inside this operand have no partner: compute without them,
    # then broadcast back along those dims.
    reduced = "".join(c for c in target if c in avail)
    ops = [g] + [x for k, x in enumerate(inputs) if k != argnum]
    res = einsum_explicit([out] + others, reduced, *ops)
    full_shape = inputs[argnum].shape
    res = reshape(res, tuple(res.shape[reduced.index(c)] if c in avail else 1 for c in target))
    res = broadcast_to(res, tuple(max(a, b) for a, b in zip(res.shape, full_shape)))
    return sum_to(res, full_shape)


_einsum = register(
    Primitive("einsum", _einsum_impl, category="linalg", shape=_einsum_shape)
).defvjp_argnum(_einsum_vjp)


def einsum_explicit(terms, out, *operands_) -> Tensor:
    return _einsum(*operands_, terms=tuple(terms), out=out)


def einsum(subscripts: str, *operands_) -> Tensor:
    """Einstein summation, differentiable in every operand.

    ``einsum("nchw,oc->nohw", x, w)`` is a 1x1 convolution. Supports implicit and explicit
    output, ``...`` and broadcasting of size-1 dims; repeated subscripts within one operand
    (diagonals) are not supported.
    """
    if len(operands_) == 1 and isinstance(operands_[0], (list, tuple)):
        operands_ = tuple(operands_[0])
    ts = [as_operand(t) for t in operands_]
    if not isinstance(subscripts, str):
        raise EinsumError(f"einsum(): subscripts must be a string, got {type(subscripts)}")
    terms, out = _parse_einsum(subscripts, [t.shape for t in ts])
    if len(ts) > 1:
        dt = np.result_type(*[t.dtype for t in ts])
        ts = [t if t.dtype == dt else t.astype(dt) for t in ts]
    return _einsum(*ts, terms=tuple(terms), out=out)
