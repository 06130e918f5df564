"""Export rules of ``resample_axis`` (one axis of ``interpolate``/adaptive pooling) and
its adjoint. A resampled axis is a constant ``(n_in, n_out)`` matrix built from the
primitive's tap table; when ONNX's own ``Resize`` computes the same matrix (checked
numerically against ONNX's reference interpolation for the candidate coordinate
modes) the axis exports as a native ``Resize`` on that axis, otherwise as a MatMul with
the matrix (area averaging, nearest modes ONNX rounds differently). The adjoint is the
MatMul with the transpose.
"""

from __future__ import annotations

import functools

import numpy as np

from .export_rules import _in, _x, rule

# (ONNX mode, coordinate_transformation_mode, nearest_mode) to try per library kind
_CANDIDATES = {
    "nearest": [("nearest", "asymmetric", "floor")],
    "nearest-exact": [("nearest", "half_pixel", "round_prefer_ceil"),
                      ("nearest", "half_pixel", "round_prefer_floor")],
    "linear": [("linear", "half_pixel", None), ("linear", "align_corners", None),
               ("linear", "pytorch_half_pixel", None)],
    "cubic": [("cubic", "half_pixel", None), ("cubic", "align_corners", None),
              ("cubic", "pytorch_half_pixel", None)],
}


@functools.lru_cache(maxsize=256)
def _matrix(table, dtype):
    from ..ops.resample import tap_table

    kind, n_in, n_out = table[:3]
    idx, w = tap_table(*table, dtype)
    m = np.zeros((n_in, n_out))
    for o in range(n_out):
        for i, wt in zip(idx[o], w[o]):
            m[i, o] += wt
    return m


@functools.lru_cache(maxsize=256)
def _native(table, dtype):
    """The ONNX Resize attributes reproducing ``table``, or None."""
    from .ops_resize import _axis_matrix

    kind, n_in, n_out = table[:3]
    m = _matrix(table, dtype)
    for mode, ctm, nearest in _CANDIDATES.get(kind, []):
        try:
            ref, b = _axis_matrix(n_in, n_out, n_out / n_in, mode, ctm,
                                  nearest or "round_prefer_floor", -0.75, False, False, None, 0.0)
        except Exception:  # a mode ONNX's reference refuses for this geometry
            continue
        if not np.any(b) and np.allclose(ref, m, rtol=1e-6, atol=1e-6):
            attrs = dict(mode=mode, coordinate_transformation_mode=ctm)
            if nearest:
                attrs["nearest_mode"] = nearest
            if mode == "cubic":
                attrs["cubic_coeff_a"] = -0.75
            return attrs
    return None


def _along(ctx, x, nd, axis, matrix):
    from .export_rules_grad import _matmul_axis

    return _matmul_axis(ctx, x, nd, axis, matrix)


@rule("resample_axis")
def _resample_axis(node, ctx):
    x = _in(node)
    axis, table = int(node.params["axis"]), tuple(node.params["table"])
    dt = np.dtype(x.dtype)
    attrs = _native(table, dt.name) if ctx.opset >= 18 and ctx.native else None
    if attrs is not None:
        return ctx.make("Resize", [_x(node, ctx), "", "", ctx.ints([table[2]])], axes=[axis],
                        **attrs)
    return _along(ctx, _x(node, ctx), x.ndim, axis, _matrix(table, dt.name).astype(dt))


@rule("resample_axis_adjoint")
def _resample_axis_adjoint(node, ctx):
    g = _in(node)
    axis, table = int(node.params["axis"]), tuple(node.params["table"])
    dt = np.dtype(g.dtype)
    return _along(ctx, _x(node, ctx), g.ndim, axis,
                  np.ascontiguousarray(_matrix(table, dt.name).T).astype(dt))
