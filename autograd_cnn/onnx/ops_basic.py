"""Import handlers, part 1: elementwise math, activations, reductions, logic.

Each handler is ``handler(ctx, attrs, *inputs) -> Tensor | tuple`` (missing optional
inputs are ``None``) and is registered in :data:`HANDLERS` under ``(domain, op_type)``.
Float results are computed with the library's differentiable ops; integer and boolean
values (which carry no gradient) may be computed with NumPy.
"""

from __future__ import annotations

import numpy as np

from .. import ops
from ._common import T, arr, const, ints, is_float, norm_axis, same_float

#: (domain, op_type) -> handler; "" is the default ONNX domain.
HANDLERS: dict = {}


def handles(*names, domain=""):
    def put(fn):
        for n in names:
            HANDLERS[(domain, n)] = fn
        return fn

    return put


def _np_binary(fn, a, b):
    return const(fn(arr(a), arr(b)))


def _legacy_broadcast(ctx, attrs, a, b):
    """Opset < 7: ``broadcast=1`` with ``axis`` aligns B's dims starting at ``axis``."""
    if ctx.opset < 7 and attrs.get("broadcast") and "axis" in attrs and b.ndim:
        axis = norm_axis(attrs["axis"], a.ndim)
        b = ops.reshape(b, (1,) * axis + b.shape + (1,) * (a.ndim - axis - b.ndim))
    return a, b


def _arith(name, fn, npfn):
    @handles(name)
    def h(ctx, attrs, a, b):
        a, b = _legacy_broadcast(ctx, attrs, T(a), T(b))
        if not (is_float(a) or is_float(b)):
            return _np_binary(npfn, a, b)
        return fn(*same_float(a, b))

    return h


def _int_div(a, b):
    out = np.trunc(a / np.where(b == 0, 1, b)) if a.dtype.kind in "iu" else a / b
    return out.astype(np.result_type(a, b))


_arith("Add", ops.add, lambda a, b: (a + b).astype(np.result_type(a, b)))
_arith("Sub", ops.sub, lambda a, b: (a - b).astype(np.result_type(a, b)))
_arith("Mul", ops.mul, lambda a, b: (a * b).astype(np.result_type(a, b)))
_arith("Div", ops.div, _int_div)


@handles("Pow")
def _pow(ctx, attrs, a, b):
    a, b = _legacy_broadcast(ctx, attrs, T(a), T(b))
    if not is_float(a):
        return const(np.power(arr(a), arr(b)).astype(a.dtype))
    return ops.pow(a, b.astype(a.dtype) if b.dtype != a.dtype else b)


def _variadic(name, fn, npfn):
    @handles(name)
    def h(ctx, attrs, *xs):
        xs = [T(x) for x in xs if x is not None]
        if not any(is_float(x) for x in xs):
            out = arr(xs[0])
            for x in xs[1:]:
                out = npfn(out, arr(x))
            return const(out)
        out = xs[0]
        for x in xs[1:]:
            out = fn(out, x)
        return out

    return h


_variadic("Sum", ops.add, np.add)
_variadic("Max", ops.maximum, np.maximum)
_variadic("Min", ops.minimum, np.minimum)


@handles("Mean")
def _mean(ctx, attrs, *xs):
    xs = [T(x) for x in xs if x is not None]
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out / float(len(xs)) if len(xs) > 1 else out


def _unary(name, fn, npfn=None):
    @handles(name)
    def h(ctx, attrs, x):
        x = T(x)
        if npfn is not None and not is_float(x):
            return const(npfn(arr(x)).astype(x.dtype))
        return fn(x)

    return h


_unary("Neg", ops.neg, np.negative)
_unary("Abs", ops.abs, np.abs)
_unary("Exp", ops.exp)
_unary("Log", ops.log)
_unary("Sqrt", ops.sqrt)
_unary("Reciprocal", lambda x: 1.0 / x)
_unary("Relu", ops.relu, lambda a: np.maximum(a, 0))
_unary("Sigmoid", ops.sigmoid)
_unary("Tanh", ops.tanh)
_unary("Softplus", lambda x: ops.softplus(x))
_unary("Floor", lambda x: const(np.floor(arr(x))), np.floor)
_unary("Ceil", lambda x: const(np.ceil(arr(x))), np.ceil)
_unary("Sign", lambda x: ops.sign(x), np.sign)
_unary("Identity", lambda x: x)


@handles("LeakyRelu")
def _leaky(ctx, attrs, x):
    return ops.leaky_relu(T(x), float(attrs.get("alpha", 0.01)))


@handles("PRelu")
def _prelu(ctx, attrs, x, slope):
    x, slope = T(x), T(slope)
    if ctx.opset < 7 and slope.ndim == 1 and x.ndim > 2 and slope.shape[0] == x.shape[1]:
        slope = ops.reshape(slope, (1, -1) + (1,) * (x.ndim - 2))
    return ops.relu(x) - slope * ops.relu(-x)


@handles("Elu")
def _elu(ctx, attrs, x):
    x = T(x)
    alpha = float(attrs.get("alpha", 1.0))
    return ops.relu(x) + alpha * (ops.exp(ops.minimum(x, 0.0)) - 1.0)


@handles("Selu")
def _selu(ctx, attrs, x):
    x = T(x)
    alpha = float(attrs.get("alpha", 1.67326319217681884765625))
    gamma = float(attrs.get("gamma", 1.05070102214813232421875))
    return gamma * (ops.relu(x) + alpha * (ops.exp(ops.minimum(x, 0.0)) - 1.0))


@handles("HardSigmoid")
def _hard_sigmoid(ctx, attrs, x):
    x = T(x)
    return ops.clip(x * float(attrs.get("alpha", 0.2)) + float(attrs.get("beta", 0.5)), 0.0, 1.0)


@handles("Clip")
def _clip(ctx, attrs, x, lo=None, hi=None):
    x = T(x)
    if ctx.opset < 11:
        lo, hi = attrs.get("min"), attrs.get("max")
    else:
        lo = None if lo is None else arr(lo).item()
        hi = None if hi is None else arr(hi).item()
    if not is_float(x):
        a = arr(x)
        if lo is not None:
            a = np.maximum(a, lo)
        if hi is not None:
            a = np.minimum(a, hi)
        return const(a.astype(x.dtype))
    # ONNX: min > max sets everything to max, which minimum(maximum(x, lo), hi) gives.
    if lo is None and hi is None:
        return x
    if lo is not None and hi is not None and lo > hi:
        return ops.minimum(ops.maximum(x, float(lo)), float(hi))
    return ops.clip(x, None if lo is None else float(lo), None if hi is None else float(hi))


def _softmax_like(name, fn):
    @handles(name)
    def h(ctx, attrs, x):
        x = T(x)
        if ctx.opset < 13:  # coerced to 2-D at ``axis`` (default 1)
            axis = norm_axis(attrs.get("axis", 1), x.ndim)
            lead = int(np.prod(x.shape[:axis], dtype=np.int64))
            y = fn(ops.reshape(x, (lead, -1)), 1)
            return ops.reshape(y, x.shape)
        return fn(x, norm_axis(attrs.get("axis", -1), x.ndim))

    return h


_softmax_like("Softmax", lambda x, a: ops.softmax(x, a))
_softmax_like("LogSoftmax", lambda x, a: ops.log_softmax(x, a))


# ---- reductions ------------------------------------------------------------------------

_EMPTY = {"ReduceSum": 0.0, "ReduceMax": -np.inf, "ReduceMin": np.inf,
          "ReduceLogSumExp": -np.inf, "ReduceMean": np.nan}
_NP = {"ReduceSum": np.sum, "ReduceMax": np.max, "ReduceMin": np.min, "ReduceMean": np.mean}


def _reduce(name, fn, input_since):
    @handles(name)
    def h(ctx, attrs, x, axes=None):
        x = T(x)
        keep = bool(attrs.get("keepdims", 1))
        if ctx.opset >= input_since:
            ax = None if axes is None else ints(axes)
        else:
            ax = attrs.get("axes")
        if not ax:
            if attrs.get("noop_with_empty_axes", 0):
                return x
            ax = list(range(x.ndim))
        ax = tuple(sorted(norm_axis(a, x.ndim) for a in ax))
        if 0 in tuple(x.shape) or not is_float(x):
            a = arr(x)
            if a.size == 0:
                fill = _EMPTY[name]
                if a.dtype == bool:
                    fill = name in ("ReduceMin",)
                shape = tuple(1 if i in ax else n for i, n in enumerate(a.shape)
                              if keep or i not in ax)
                return const(np.full(shape, fill, dtype=a.dtype if a.dtype.kind == "f"
                                     else np.float32).astype(a.dtype))
            if name == "ReduceLogSumExp":
                return const(np.log(np.sum(np.exp(a), axis=ax, keepdims=keep)).astype(a.dtype))
            return const(np.asarray(_NP[name](a, axis=ax, keepdims=keep)).astype(a.dtype))
        return fn(x, ax, keep)

    return h


_reduce("ReduceSum", lambda x, a, k: ops.sum(x, dim=a, keepdim=k), 13)
_reduce("ReduceMean", lambda x, a, k: ops.mean(x, dim=a, keepdim=k), 18)
_reduce("ReduceMax", lambda x, a, k: ops.amax(x, dim=a, keepdim=k), 18)
_reduce("ReduceMin", lambda x, a, k: ops.amin(x, dim=a, keepdim=k), 18)
_reduce("ReduceLogSumExp", lambda x, a, k: ops.logsumexp(x, dim=a, keepdim=k), 18)


@handles("ArgMax", "ArgMin")
def _argext(ctx, attrs, x):
    a = arr(x)
    axis = norm_axis(attrs.get("axis", 0), a.ndim)
    if attrs.get("select_last_index", 0):
        a = np.flip(a, axis)
    fn = np.argmax if ctx.node.op_type == "ArgMax" else np.argmin
    out = fn(a, axis=axis)
    if attrs.get("select_last_index", 0):
        out = a.shape[axis] - 1 - out
    if attrs.get("keepdims", 1):
        out = np.expand_dims(out, axis)
    return const(out.astype(np.int64))


# ---- comparisons, logic, where, cast ---------------------------------------------------

def _compare(name, npfn):
    @handles(name)
    def h(ctx, attrs, a, b):
        return const(npfn(arr(a), arr(b)))

    return h


_compare("Equal", np.equal)
_compare("Less", np.less)
_compare("Greater", np.greater)
_compare("LessOrEqual", np.less_equal)
_compare("GreaterOrEqual", np.greater_equal)
_compare("And", np.logical_and)
_compare("Or", np.logical_or)
_compare("Xor", np.logical_xor)


@handles("Not")
def _not(ctx, attrs, x):
    return const(np.logical_not(arr(x)))


@handles("Where")
def _where(ctx, attrs, cond, a, b):
    a, b = T(a), T(b)
    if not (is_float(a) or is_float(b)):
        return const(np.where(arr(cond), arr(a), arr(b)))
    a, b = same_float(a, b)
    return ops.where(T(cond), a, b)


@handles("Cast")
def _cast(ctx, attrs, x):
    from ._common import np_dtype

    x = T(x)
    dt = np_dtype(attrs["to"])
    if dt == x.dtype:
        return x
    if is_float(x) and dt.kind == "f":
        return x.astype(dt)
    a = arr(x)
    if a.dtype.kind == "f" and dt.kind in "iub":
        with np.errstate(invalid="ignore"):
            return const(a.astype(dt))
    return const(a.astype(dt)) if dt.kind != "f" else T(const(a)).astype(dt)


@handles("CastLike")
def _cast_like(ctx, attrs, x, like):
    from onnx import helper

    return _cast(ctx, {"to": helper.np_dtype_to_tensor_dtype(T(like).dtype)}, x)


# ---- matrix products -------------------------------------------------------------------

@handles("MatMul")
def _matmul(ctx, attrs, a, b):
    a, b = T(a), T(b)
    if not is_float(a):
        return const(np.matmul(arr(a), arr(b)))
    return ops.matmul(a, b)


@handles("Gemm")
def _gemm(ctx, attrs, a, b, c=None):
    a, b = T(a), T(b)
    if attrs.get("transA", 0):
        a = ops.permute(a, (1, 0))
    if attrs.get("transB", 0):
        b = ops.permute(b, (1, 0))
    y = ops.matmul(a, b)
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    if alpha != 1.0:
        y = y * alpha
    if c is not None:
        c = T(c)
        y = y + (c * beta if beta != 1.0 else c)
    return y


@handles("Einsum")
def _einsum(ctx, attrs, *xs):
    eq = attrs["equation"].replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    xs = [T(x) for x in xs]
    new_terms = []
    for i, (term, x) in enumerate(zip(terms, xs)):
        # Diagonals (a letter repeated in one operand) are taken by indexing first.
        while True:
            letters = [c for c in term if c != "."]
            rep = next((c for c in letters if letters.count(c) > 1), None)
            if rep is None:
                break
            ell = term.find("...")
            n_ell = x.ndim - (len(term) - (3 if ell >= 0 else 0))
            dims, j = [], 0
            for c in term.replace("...", "."):
                if c == ".":
                    dims.extend(["."] * n_ell)
                else:
                    dims.append(c)
            p, q = [k for k, c in enumerate(dims) if c == rep][:2]
            perm = [k for k in range(x.ndim) if k not in (p, q)] + [p, q]
            y = ops.permute(x, tuple(perm))
            r = np.arange(x.shape[p])
            y = ops.getitem(y, (Ellipsis, r, r))
            kept = [dims[k] for k in perm[:-2]] + [rep]
            x = y
            term = "".join(kept).replace("." * n_ell, "...") if n_ell else "".join(kept)
            del j
        new_terms.append(term)
        xs[i] = x
    eq = ",".join(new_terms) + (arrow + rhs if arrow else "")
    if not any(is_float(x) for x in xs):
        return const(np.einsum(eq, *[arr(x) for x in xs]))
    return ops.einsum(eq, *xs)


# ---- integer shape arithmetic (what exporters emit around Reshape/Unflatten) -------------

@handles("Mod")
def _mod(ctx, attrs, a, b):
    a, b = T(a), T(b)
    fmod = bool(attrs.get("fmod", 0))
    if not (is_float(a) or is_float(b)):
        fn = np.fmod if fmod else np.mod
        return const(fn(arr(a), arr(b)).astype(np.result_type(arr(a), arr(b))))
    a, b = same_float(a, b)
    q = a / b
    # fmod truncates the quotient toward zero, mod floors it (Python's sign convention)
    whole = ops.sign(q) * const(np.floor(np.abs(arr(q)))) if fmod else const(np.floor(arr(q)))
    return a - whole * b


@handles("ReduceProd")
def _reduce_prod(ctx, attrs, x, axes=None):
    a = arr(x)
    ax = ints(axes) if (ctx.opset >= 18 and axes is not None) else attrs.get("axes")
    if not ax:
        if attrs.get("noop_with_empty_axes", 0):
            return T(x)
        ax = list(range(a.ndim))
    if is_float(T(x)):
        ctx.fail("ReduceProd of float tensors is not supported (only integer shape "
                 "arithmetic)")
    out = np.prod(a, axis=tuple(norm_axis(v, a.ndim) for v in ax),
                  keepdims=bool(attrs.get("keepdims", 1)))
    return const(np.asarray(out).astype(a.dtype))
