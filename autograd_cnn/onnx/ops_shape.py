"""Import handlers, part 2: shapes, movement, indexing, constants, control flow."""

from __future__ import annotations

import numpy as np

from .. import ops
from ._common import T, arr, const, ints, is_float, norm_axis
from .ops_basic import handles


@handles("Constant")
def _constant(ctx, attrs, *unused):
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in attrs:
            v = attrs[key]
            dt = {"value_float": np.float32, "value_floats": np.float32,
                  "value_int": np.int64, "value_ints": np.int64}.get(key)
            return const(np.array(v, dtype=dt))
    ctx.fail(f"unsupported Constant attributes {sorted(attrs)} (sparse and string values "
             "are not supported)")


@handles("ConstantOfShape")
def _constant_of_shape(ctx, attrs, shape):
    value = attrs.get("value", np.zeros(1, np.float32))
    return const(np.full(tuple(ints(shape)), value.reshape(-1)[0], dtype=value.dtype))


@handles("Shape")
def _shape(ctx, attrs, x):
    shape = np.asarray(T(x).shape, dtype=np.int64)
    n = len(shape)
    start = attrs.get("start", 0)
    end = attrs.get("end", n)
    start = min(max(start + n if start < 0 else start, 0), n)
    end = min(max(end + n if end < 0 else end, 0), n)
    return const(shape[start:end])


@handles("Size")
def _size(ctx, attrs, x):
    return const(np.int64(np.prod(T(x).shape, dtype=np.int64)))


@handles("Concat")
def _concat(ctx, attrs, *xs):
    xs = [T(x) for x in xs if x is not None]
    axis = norm_axis(attrs.get("axis", 1 if ctx.opset < 4 else 0), xs[0].ndim)
    if not any(is_float(x) for x in xs):
        return const(np.concatenate([arr(x) for x in xs], axis=axis))
    xs = [x for x in xs if 0 not in tuple(x.shape) or len(xs) == 1]
    return xs[0] if len(xs) == 1 else ops.concatenate(xs, dim=axis)


@handles("Reshape")
def _reshape(ctx, attrs, x, shape=None):
    x = T(x)
    target = attrs.get("shape") if ctx.opset < 5 else ints(shape)
    allowzero = attrs.get("allowzero", 0)
    out = [x.shape[i] if (d == 0 and not allowzero) else d for i, d in enumerate(target)]
    if not is_float(x):
        return const(arr(x).reshape(out))
    return ops.reshape(x, tuple(out))


@handles("Flatten")
def _flatten(ctx, attrs, x):
    x = T(x)
    axis = norm_axis(attrs.get("axis", 1), x.ndim)
    lead = int(np.prod(x.shape[:axis], dtype=np.int64))
    rest = int(np.prod(x.shape[axis:], dtype=np.int64))
    return ops.reshape(x, (lead, rest))


@handles("Transpose")
def _transpose(ctx, attrs, x):
    x = T(x)
    perm = attrs.get("perm") or list(range(x.ndim))[::-1]
    return ops.permute(x, tuple(perm))


def _axes(ctx, attrs, axes, since=13):
    if ctx.opset >= since:
        return None if axes is None else ints(axes)
    return attrs.get("axes")


@handles("Squeeze")
def _squeeze(ctx, attrs, x, axes=None):
    x = T(x)
    ax = _axes(ctx, attrs, axes)
    if ax is None:
        ax = [i for i, n in enumerate(x.shape) if n == 1]
    ax = {norm_axis(a, x.ndim) for a in ax}
    shape = tuple(n for i, n in enumerate(x.shape) if i not in ax)
    return const(arr(x).reshape(shape)) if not is_float(x) else ops.reshape(x, shape)


@handles("Unsqueeze")
def _unsqueeze(ctx, attrs, x, axes=None):
    x = T(x)
    ax = _axes(ctx, attrs, axes)
    out_nd = x.ndim + len(ax)
    ax = sorted(norm_axis(a, out_nd) for a in ax)
    shape = list(x.shape)
    for a in ax:
        shape.insert(a, 1)
    return const(arr(x).reshape(shape)) if not is_float(x) else ops.reshape(x, tuple(shape))


@handles("Expand")
def _expand(ctx, attrs, x, shape):
    x = T(x)
    target = ints(shape)
    out = tuple(np.broadcast_shapes(tuple(x.shape), tuple(target)))
    if not is_float(x):
        return const(np.broadcast_to(arr(x), out).copy())
    return x if out == tuple(x.shape) else ops.broadcast_to(x, out)


@handles("Tile")
def _tile(ctx, attrs, x, repeats):
    x = T(x)
    reps = tuple(ints(repeats))
    if not is_float(x):
        return const(np.tile(arr(x), reps))
    return ops.tile(x, reps)


@handles("Range")
def _range(ctx, attrs, start, limit, delta):
    s, lim, d = arr(start), arr(limit), arr(delta)
    return const(np.arange(s, lim, d).astype(s.dtype))


@handles("Pad")
def _pad(ctx, attrs, x, pads=None, value=None, axes=None):
    x = T(x)
    if ctx.opset < 11:
        p = list(attrs.get("pads", attrs.get("paddings")))
        v = float(attrs.get("value", 0.0))
    else:
        p = ints(pads)
        v = 0.0 if value is None or arr(value).size == 0 else arr(value).item()
    mode = attrs.get("mode", "constant")
    nd = x.ndim
    ax = list(range(nd)) if axes is None else [norm_axis(a, nd) for a in ints(axes)]
    k = len(ax)
    pairs = [(0, 0)] * nd
    for i, a in enumerate(ax):
        pairs[a] = (p[i], p[i + k])
    # negative pads crop
    index = tuple(slice(-lo if lo < 0 else 0, (x.shape[i] + hi) if hi < 0 else None)
                  for i, (lo, hi) in enumerate(pairs))
    if any(lo < 0 or hi < 0 for lo, hi in pairs):
        x = ops.getitem(x, index)
        pairs = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    if not is_float(x):
        npmode = {"constant": "constant", "reflect": "reflect", "edge": "edge",
                  "wrap": "wrap"}[mode]
        kw = {"constant_values": v} if mode == "constant" else {}
        return const(np.pad(arr(x), pairs, mode=npmode, **kw))
    if all(lo == 0 and hi == 0 for lo, hi in pairs):
        return x
    torch_pad = []
    for lo, hi in reversed(pairs):
        torch_pad += [lo, hi]
    if mode == "constant":
        return ops.pad(x, tuple(torch_pad), value=float(v))
    tmode = {"reflect": "reflect", "edge": "replicate", "wrap": "circular"}.get(mode)
    if tmode is None:
        ctx.fail(f"unsupported pad mode {mode!r}")
    return ops.pad(x, tuple(torch_pad), mode=tmode)


@handles("DepthToSpace")
def _depth_to_space(ctx, attrs, x):
    x = T(x)
    b = int(attrs["blocksize"])
    n, c, h, w = x.shape
    if attrs.get("mode", "DCR") == "DCR":
        y = ops.reshape(x, (n, b, b, c // (b * b), h, w))
        y = ops.permute(y, (0, 3, 4, 1, 5, 2))
    else:
        y = ops.reshape(x, (n, c // (b * b), b, b, h, w))
        y = ops.permute(y, (0, 1, 4, 2, 5, 3))
    return ops.reshape(y, (n, c // (b * b), h * b, w * b))


@handles("SpaceToDepth")
def _space_to_depth(ctx, attrs, x):
    x = T(x)
    b = int(attrs["blocksize"])
    n, c, h, w = x.shape
    y = ops.reshape(x, (n, c, h // b, b, w // b, b))
    if attrs.get("mode", "DCR") == "CRD":
        y = ops.permute(y, (0, 1, 3, 5, 2, 4))
    else:
        y = ops.permute(y, (0, 3, 5, 1, 2, 4))
    return ops.reshape(y, (n, c * b * b, h // b, w // b))


@handles("Split")
def _split(ctx, attrs, x, split=None):
    x = T(x)
    axis = norm_axis(attrs.get("axis", 0), x.ndim)
    n = x.shape[axis]
    sizes = attrs.get("split") if ctx.opset < 13 else (None if split is None else ints(split))
    if not sizes:
        k = attrs.get("num_outputs", ctx.n_outputs)
        step = -(-n // k)
        sizes = [min(step, n - i * step) for i in range(k)]
    outs, start = [], 0
    for s in sizes:
        idx = (slice(None),) * axis + (slice(start, start + s),)
        outs.append(const(arr(x)[idx]) if not is_float(x) else ops.getitem(x, idx))
        start += s
    return tuple(outs)


def _onnx_slice(start, end, step, n):
    """A Python slice with ONNX's clamping (negative steps may end before index 0)."""
    if start < 0:
        start += n
    if end < 0:
        end += n
    if step > 0:
        start, end = min(max(start, 0), n), min(max(end, 0), n)
        return slice(start, end, step)
    start, end = min(max(start, -1), n - 1), min(max(end, -1), n - 1)
    return slice(start, None if end < 0 else end, step)


@handles("Slice")
def _slice(ctx, attrs, x, starts=None, ends=None, axes=None, steps=None):
    x = T(x)
    if ctx.opset < 10:
        st, en, ax, sp = attrs["starts"], attrs["ends"], attrs.get("axes"), None
    else:
        st, en = ints(starts), ints(ends)
        ax = None if axes is None else ints(axes)
        sp = None if steps is None else ints(steps)
    ax = list(range(len(st))) if ax is None else [norm_axis(a, x.ndim) for a in ax]
    sp = sp or [1] * len(st)
    index = [slice(None)] * x.ndim
    for s, e, a, k in zip(st, en, ax, sp):
        index[a] = _onnx_slice(s, e, k, x.shape[a])
    index = tuple(index)
    if not is_float(x):
        return const(arr(x)[index])
    if any(s.step is not None and s.step < 0 for s in index):
        # negative steps: an index array (a copy), which getitem differentiates too
        index = tuple(np.arange(x.shape[i])[s] if s.step is not None and s.step < 0 else s
                      for i, s in enumerate(index))
        out = x
        for i, s in enumerate(index):
            if isinstance(s, np.ndarray):
                out = ops.getitem(out, (slice(None),) * i + (s,))
            elif s != slice(None):
                out = ops.getitem(out, (slice(None),) * i + (s,))
        return out
    return ops.getitem(x, index)


@handles("Gather")
def _gather(ctx, attrs, x, indices):
    x = T(x)
    axis = norm_axis(attrs.get("axis", 0), x.ndim)
    idx = arr(indices).astype(np.int64)
    idx = np.where(idx < 0, idx + x.shape[axis], idx)
    index = (slice(None),) * axis + (idx,)
    if not is_float(x):
        return const(arr(x)[index])
    return ops.getitem(x, index)


@handles("If")
def _if(ctx, attrs, cond):
    from .loader import run_subgraph

    branch = attrs["then_branch"] if bool(arr(cond).reshape(-1)[0]) else attrs["else_branch"]
    return tuple(run_subgraph(ctx, branch))


@handles("OneHot")
def _one_hot(ctx, attrs, indices, depth, values):
    idx = arr(indices).astype(np.int64)
    d = int(arr(depth).reshape(-1)[0])
    off, on = arr(values).reshape(-1)[:2]
    idx = np.where(idx < 0, idx + d, idx)
    axis = attrs.get("axis", -1)
    hot = idx[..., None] == np.arange(d)
    out = np.where(hot, on, off).astype(arr(values).dtype)
    nd = out.ndim
    return const(np.moveaxis(out, -1, norm_axis(axis, nd)))
