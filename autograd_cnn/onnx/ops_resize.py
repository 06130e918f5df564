"""Import handlers, part 4: ``Resize`` and ``Upsample``.

Every ONNX resize mode (nearest, linear, cubic; all coordinate transformations,
``exclude_outside``, ``antialias``, ``tf_crop_and_resize`` with extrapolation) is
separable and linear (affine with extrapolation) along each resized axis, so each axis
becomes a constant ``(in, out)`` matrix ``M`` and offset ``b``: ``y = x @ M + b`` along
that axis, differentiable in ``x``. The matrices are computed once per geometry by
running ONNX's own reference 1-D interpolation on an identity basis, so the numerics
are ONNX's by construction.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import ops
from ._common import T, arr, const, ints, norm_axis
from .ops_basic import handles


@functools.lru_cache(maxsize=256)
def _axis_matrix(n_in, n_out, scale, mode, ctm, nearest_mode, cubic_a, exclude, antialias,
                 roi, extrapolation):
    from onnx.reference.ops import op_resize as R

    if mode == "nearest":
        def coeffs(r, s):
            return R._nearest_coeffs(r, mode=nearest_mode)
    elif mode == "cubic":
        f = R._cubic_coeffs_antialias if antialias else R._cubic_coeffs

        def coeffs(r, s):
            return f(r, s, A=cubic_a)
    else:
        coeffs = R._linear_coeffs_antialias if antialias else R._linear_coeffs
    kw = dict(roi=None if roi is None else list(roi), extrapolation_value=extrapolation,
              coordinate_transformation_mode=ctm, exclude_outside=exclude)
    basis = np.eye(n_in)
    m = R._interpolate_1d_along_axis(basis, 1, scale, n_out, coeffs, **kw)
    b = R._interpolate_1d_along_axis(np.zeros((1, n_in)), 1, scale, n_out, coeffs, **kw)
    return np.asarray(m) - np.asarray(b), np.asarray(b).reshape(-1)


def _apply_axis(x, axis, m, b):
    nd = x.ndim
    perm = [i for i in range(nd) if i != axis] + [axis]
    y = ops.permute(x, tuple(perm)) if axis != nd - 1 else x
    y = ops.matmul(y, const(m.astype(x.dtype)))
    if np.any(b != 0):
        y = y + const(b.astype(x.dtype))
    if axis != nd - 1:
        inv = np.argsort(perm)
        y = ops.permute(y, tuple(int(i) for i in inv))
    return y


def resize(x, scales=None, sizes=None, *, mode="nearest", ctm="half_pixel",
           nearest_mode="round_prefer_floor", cubic_a=-0.75, exclude_outside=False,
           antialias=False, roi=None, extrapolation=0.0, axes=None, policy="stretch"):
    """ONNX Resize semantics on a tensor (see the module docstring)."""
    x = T(x)
    r = x.ndim
    axes = list(range(r)) if axes is None else [norm_axis(a, r) for a in axes]
    if roi is not None and len(roi) == 0:
        roi = None
    if roi is not None and len(roi) == 2 * len(axes) and len(axes) != r:
        full = [0.0] * r + [1.0] * r
        for i, a in enumerate(axes):
            full[a], full[r + a] = roi[i], roi[len(axes) + i]
        roi = full
    scale_f = [1.0] * r
    out = list(x.shape)
    if sizes is not None:
        for i, a in enumerate(axes):
            out[a] = int(sizes[i])
            scale_f[a] = out[a] / x.shape[a]
        if policy != "stretch":
            pick = min if policy == "not_larger" else max
            s = pick(scale_f[a] for a in axes)
            for a in axes:
                scale_f[a] = s
                out[a] = int(s * x.shape[a] + 0.5)
    else:
        for i, a in enumerate(axes):
            scale_f[a] = float(scales[i])
            out[a] = int(scale_f[a] * x.shape[a])
    y = x
    for a in axes:
        axis_roi = None if roi is None else (float(roi[a]), float(roi[a + r]))
        if np.isclose(scale_f[a], 1.0) and out[a] == x.shape[a] and (
                axis_roi is None or (np.isclose(axis_roi[0], 0) and np.isclose(axis_roi[1], 1))):
            continue
        m, b = _axis_matrix(x.shape[a], out[a], float(scale_f[a]), mode, ctm, nearest_mode,
                            float(cubic_a), bool(exclude_outside), bool(antialias), axis_roi,
                            float(extrapolation))
        if mode == "nearest" and not np.any(b) and np.all((m == 0) | (m == 1)) and np.all(
                m.sum(axis=0) == 1):  # one source per output: a gather, not a matmul
            y = ops.getitem(y, (slice(None),) * a + (np.argmax(m, axis=0).astype(np.int64),))
        else:
            y = _apply_axis(y, a, m, b)
    return y


@handles("Resize")
def _resize(ctx, attrs, x, roi=None, scales=None, sizes=None):
    x = T(x)
    if ctx.opset < 11:  # Resize-10: (X, scales), asymmetric coordinates
        return resize(x, [float(v) for v in arr(roi).reshape(-1)],
                      mode=attrs.get("mode", "nearest"), ctm="asymmetric", nearest_mode="floor")
    sc = None if scales is None or arr(scales).size == 0 else arr(scales).reshape(-1).tolist()
    sz = None if sizes is None or arr(sizes).size == 0 else ints(sizes)
    rv = None if roi is None or arr(roi).size == 0 else arr(roi).reshape(-1).tolist()
    mode = attrs.get("mode", "nearest")
    return resize(
        x, sc, sz, mode=mode,
        ctm=attrs.get("coordinate_transformation_mode", "half_pixel"),
        nearest_mode=attrs.get("nearest_mode", "round_prefer_floor"),
        cubic_a=attrs.get("cubic_coeff_a", -0.75),
        exclude_outside=attrs.get("exclude_outside", 0),
        antialias=attrs.get("antialias", 0), roi=rv,
        extrapolation=attrs.get("extrapolation_value", 0.0), axes=attrs.get("axes"),
        policy=attrs.get("keep_aspect_ratio_policy", "stretch"))


@handles("Upsample")
def _upsample(ctx, attrs, x, scales=None):
    sc = attrs.get("scales") if scales is None else arr(scales).reshape(-1).tolist()
    if sc is None:  # opset 1: width_scale / height_scale
        sc = [1.0, 1.0, attrs.get("height_scale", 1.0), attrs.get("width_scale", 1.0)]
    mode = attrs.get("mode", "nearest")
    mode = "linear" if mode in ("bilinear", "linear") else mode
    return resize(x, sc, mode=mode, ctm="asymmetric", nearest_mode="floor")
