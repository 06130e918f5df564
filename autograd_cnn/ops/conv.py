"""The convolution family: conv, transposed conv, their weight gradient, unfold/fold.

Five primitives, closed under differentiation (so ``create_graph=True`` shows them in
the backward graph and every one passes gradgradcheck):

==================  =====================================  ===============================
primitive           VJP wrt first input                    VJP wrt second input
==================  =====================================  ===============================
conv(x, w)          conv_transpose(g, w)                   conv_weight_grad(x, g)
conv_transpose(y,w) conv(g, w)                             conv_weight_grad(g, y)
conv_weight_grad    conv_transpose(g, gw)   (wrt x)        conv(x, gw)   (wrt g)
unfold(x)           fold(g)                                -
fold(c)             unfold(g)                              -
==================  =====================================  ===============================

Why these are the adjoints. A conv is linear in x: ``y = M_w x`` with ``M_w`` the conv
matrix (:func:`autograd_cnn.signal.conv_matrix`), so the input gradient is
``M_w^T g``; scattering each output element back through the same kernel taps is
exactly the transposed conv with the same stride/padding/dilation. Where the forward
conv *skips* input positions (stride s), the transposed conv *spreads* its input s
apart: stride on one side is dilation of the gradient on the other. The weight
gradient ``dw[o, c, k] = sum_{n, q} g[n, o, q] xpad[n, c, q s + k d]`` is itself a
correlation of x with g in which g plays the kernel, dilated by the stride; it is
bilinear in (x, g), so its own VJPs are the conv and transposed conv with the incoming
gradient as kernel. The floor in the output-size formula loses up to ``s - 1`` trailing
input positions; the transposed conv gets them back as ``output_padding``.

Parameters of the primitives are normalized tuples: ``stride``, ``dilation`` one int per
spatial dim, ``padding`` one (low, high) pair per spatial dim, ``groups`` an int and
``algorithm`` a string (see :mod:`autograd_cnn.kernels.conv_dispatch`).
"""

from __future__ import annotations

import math

from ..errors import (
    ChannelMismatchError,
    ConvShapeError,
    InvalidArgumentError,
    KernelTooLargeError,
)
from ..kernels import conv_dispatch as K
from ..primitive import Primitive, register
from ..tensor import Tensor, as_tensor
from ._common import as_operand
from .indexing import getitem
from .movement import reshape

__all__ = [
    "conv", "conv1d", "conv2d", "conv3d", "conv_transpose", "conv_transpose1d",
    "conv_transpose2d", "conv_transpose3d", "unfold", "fold", "conv_output_shape",
    "conv_transpose_output_shape", "pad_nd",
]


# ---- shape rules -------------------------------------------------------------------------


def _check_kernel_size(fn, ws, name="weight"):
    if any(k < 1 for k in ws[2:]):
        raise ConvShapeError(
            f"{fn}: every kernel size must be positive, got {name} shape {tuple(ws)} (kernel "
            f"{tuple(ws[2:])})")


def _check_ranks(fn, a, b, a_name, b_name, nd):
    if len(a) != nd + 2 or len(b) != nd + 2:
        raise ConvShapeError(
            f"{fn}: {a_name} and {b_name} must both be {nd + 2}-D for {nd} spatial dims, got "
            f"{a_name} {tuple(a)} and {b_name} {tuple(b)}"
        )


def _conv_shape(xs, ws, stride, padding, dilation, groups, algorithm="auto"):
    nd = len(stride)
    _check_ranks("conv", xs, ws, "input", "weight", nd)
    _check_kernel_size("conv", ws)
    if xs[1] != ws[1] * groups:
        raise ChannelMismatchError(
            f"conv: input has {xs[1]} channels (shape {tuple(xs)}) but weight {tuple(ws)} with "
            f"groups={groups} expects {ws[1] * groups} (= weight.shape[1] * groups)"
        )
    if ws[0] % groups:
        raise InvalidArgumentError(
            f"conv: groups={groups} must divide the output channels, weight.shape[0]={ws[0]}"
        )
    out = K.conv_out_shape(xs, ws, stride, padding, dilation)
    for i in range(nd):
        if out[2 + i] < 1:
            lo, hi = padding[i]
            raise KernelTooLargeError(
                f"conv: spatial dim {i}: the dilated kernel ({dilation[i]} * ({ws[2 + i]} - 1) "
                f"+ 1 = {dilation[i] * (ws[2 + i] - 1) + 1}) is larger than the padded input "
                f"({xs[2 + i]} + {lo} + {hi} = {xs[2 + i] + lo + hi})"
            )
    K.check_output_size(out, "conv")
    return out


def _transpose_shape(ys, ws, stride, padding, dilation, groups, output_padding,
                     algorithm="auto"):
    nd = len(stride)
    _check_ranks("conv_transpose", ys, ws, "input", "weight", nd)
    _check_kernel_size("conv_transpose", ws)
    if any(q < 1 for q in ys[2:]):
        raise ConvShapeError(
            f"conv_transpose: the input must have positive spatial sizes (zero batch or zero "
            f"channels are fine, as in PyTorch), got shape {tuple(ys)}")
    if ys[1] != ws[0]:
        raise ChannelMismatchError(
            f"conv_transpose: input has {ys[1]} channels (shape {tuple(ys)}) but weight "
            f"{tuple(ws)} expects {ws[0]} (= weight.shape[0])"
        )
    if ws[0] % groups:
        raise InvalidArgumentError(
            f"conv_transpose: groups={groups} must divide the input channels, "
            f"weight.shape[0]={ws[0]}"
        )
    out = K.transpose_out_shape(ys, ws, stride, padding, dilation, groups, output_padding)
    for i in range(nd):
        if out[2 + i] < 1:
            raise ConvShapeError(
                f"conv_transpose: spatial dim {i}: padding {padding[i]} leaves an output of "
                f"size {out[2 + i]} (expected >= 1) from input size {ys[2 + i]}"
            )
    K.check_output_size(out, "conv_transpose")
    return out


def _weight_grad_shape(xs, gs, stride, padding, dilation, groups, kernel_size,
                       algorithm="auto"):
    nd = len(stride)
    _check_ranks("conv_weight_grad", xs, gs, "input", "grad_output", nd)
    if xs[1] % groups or gs[1] % groups:
        raise InvalidArgumentError(
            f"conv_weight_grad: groups={groups} must divide the channels of input {tuple(xs)} "
            f"and grad_output {tuple(gs)}"
        )
    ws = (gs[1], xs[1] // groups) + tuple(kernel_size)
    full = _conv_shape(xs, ws, stride, padding, dilation, groups)
    if any(q > f for q, f in zip(gs[2:], full[2:])) or gs[0] != xs[0]:
        raise ConvShapeError(
            f"conv_weight_grad: grad_output {tuple(gs)} does not fit input {tuple(xs)}: at "
            f"most {full} expected"
        )
    return ws


def _unfold_out(xs, kernel_size, stride, padding, dilation):
    q = tuple(K.out_size(s, k, st, lo, hi, d) for s, k, st, (lo, hi), d in
              zip(xs[2:], kernel_size, stride, padding, dilation))
    return q


def _unfold_shape(xs, kernel_size, stride, padding, dilation):
    nd = len(kernel_size)
    if len(xs) != nd + 2:
        raise ConvShapeError(f"unfold: input must be {nd + 2}-D for a {nd}-D kernel, got shape "
                             f"{tuple(xs)}")
    q = _unfold_out(xs, kernel_size, stride, padding, dilation)
    if any(v < 1 for v in q):
        raise KernelTooLargeError(
            f"unfold: kernel {tuple(kernel_size)} (dilation {tuple(dilation)}) is larger than "
            f"the padded input {tuple(xs[2:])} + padding {tuple(padding)}"
        )
    out = (xs[0], xs[1] * math.prod(kernel_size), math.prod(q))
    K.check_output_size(out, "unfold")
    return out


def _fold_shape(cs, output_size, kernel_size, stride, padding, dilation):
    if len(cs) != 3:
        raise ConvShapeError(f"fold: input must be 3-D (N, C * prod(kernel_size), L), got shape "
                             f"{tuple(cs)}")
    kk = math.prod(kernel_size)
    if cs[1] % kk:
        raise ConvShapeError(
            f"fold: input.shape[1] = {cs[1]} must be divisible by prod(kernel_size) = {kk}"
        )
    q = _unfold_out((1, 1) + tuple(output_size), kernel_size, stride, padding, dilation)
    if any(v < 1 for v in q) or math.prod(q) != cs[2]:
        raise ConvShapeError(
            f"fold: input.shape[2] = {cs[2]} blocks, but output_size {tuple(output_size)} with "
            f"kernel {tuple(kernel_size)}, stride {tuple(stride)}, padding {tuple(padding)}, "
            f"dilation {tuple(dilation)} gives {q} = {math.prod(q)} blocks"
        )
    out = (cs[0], cs[1] // kk) + tuple(output_size)
    K.check_output_size(out, "fold")
    return out


# ---- primitives --------------------------------------------------------------------------


def _crop_to(t: Tensor, spatial) -> Tensor:
    """Keep the first ``spatial[i]`` positions of each spatial dim (no-op if equal)."""
    if tuple(t.shape[2:]) == tuple(spatial):
        return t
    return getitem(t, (slice(None), slice(None)) + tuple(slice(0, s) for s in spatial))


def _lost_tail(x_shape, w_shape, q_shape, stride, padding, dilation):
    """The output_padding that makes conv_transpose return the input size: the input
    positions beyond the last window that the floor of the output-size formula drops."""
    return tuple(
        s + lo + hi - d * (k - 1) - 1 - (q - 1) * st
        for s, k, q, st, (lo, hi), d in zip(x_shape[2:], w_shape[2:], q_shape[2:], stride,
                                            padding, dilation)
    )


def _conv_impl(x, w, stride, padding, dilation, groups, algorithm="auto"):
    return K.conv_forward(x, w, stride, padding, dilation, groups, algorithm)


def _transpose_impl(y, w, stride, padding, dilation, groups, output_padding, algorithm="auto"):
    return K.conv_transpose_forward(y, w, stride, padding, dilation, groups, output_padding,
                                    algorithm)


def _weight_grad_impl(x, g, stride, padding, dilation, groups, kernel_size, algorithm="auto"):
    return K.conv_weight_grad(x, g, stride, padding, dilation, groups, kernel_size, algorithm)


conv_p = register(Primitive("conv", _conv_impl, category="conv", shape=_conv_shape,
                            doc="cross-correlation of (N, C, *S) with (O, C/groups, *K)"))
conv_transpose_p = register(Primitive(
    "conv_transpose", _transpose_impl, category="conv", shape=_transpose_shape,
    doc="adjoint of conv: (N, O, *Q) with (O, C/groups, *K) -> (N, C, *S)"))
conv_weight_grad_p = register(Primitive(
    "conv_weight_grad", _weight_grad_impl, category="conv", shape=_weight_grad_shape,
    doc="weight gradient of conv: correlation of the input (N, C, *S) with (N, O, *Q)"))


def _conv_vjp_x(g, ans, x, w, stride, padding, dilation, groups, algorithm="auto"):
    op = _lost_tail(x.shape, w.shape, g.shape, stride, padding, dilation)
    return conv_transpose_p(g, w, stride=stride, padding=padding, dilation=dilation,
                            groups=groups, output_padding=op, algorithm=algorithm)


def _conv_vjp_w(g, ans, x, w, stride, padding, dilation, groups, algorithm="auto"):
    return conv_weight_grad_p(x, g, stride=stride, padding=padding, dilation=dilation,
                              groups=groups, kernel_size=tuple(w.shape[2:]), algorithm=algorithm)


def _transpose_vjp_y(g, ans, y, w, stride, padding, dilation, groups, output_padding,
                     algorithm="auto"):
    out = conv_p(g, w, stride=stride, padding=padding, dilation=dilation, groups=groups,
                 algorithm=algorithm)
    # output_padding >= stride (allowed when dilation is larger) adds positions that no
    # input element reaches; the conv then sees extra windows, which we drop
    return _crop_to(out, y.shape[2:])


def _transpose_vjp_w(g, ans, y, w, stride, padding, dilation, groups, output_padding,
                     algorithm="auto"):
    return conv_weight_grad_p(g, y, stride=stride, padding=padding, dilation=dilation,
                              groups=groups, kernel_size=tuple(w.shape[2:]), algorithm=algorithm)


def _wgrad_vjp_x(gw, ans, x, g, stride, padding, dilation, groups, kernel_size,
                 algorithm="auto"):
    op = _lost_tail(x.shape, gw.shape, g.shape, stride, padding, dilation)
    return conv_transpose_p(g, gw, stride=stride, padding=padding, dilation=dilation,
                            groups=groups, output_padding=op, algorithm=algorithm)


def _wgrad_vjp_g(gw, ans, x, g, stride, padding, dilation, groups, kernel_size,
                 algorithm="auto"):
    out = conv_p(x, gw, stride=stride, padding=padding, dilation=dilation, groups=groups,
                 algorithm=algorithm)
    return _crop_to(out, g.shape[2:])


conv_p.defvjp(_conv_vjp_x, _conv_vjp_w)
conv_transpose_p.defvjp(_transpose_vjp_y, _transpose_vjp_w)
conv_weight_grad_p.defvjp(_wgrad_vjp_x, _wgrad_vjp_g)


unfold_p = register(Primitive(
    "unfold", lambda x, kernel_size, stride, padding, dilation: K.unfold(
        x, kernel_size, stride, padding, dilation),
    category="conv", shape=_unfold_shape, doc="im2col: (N, C, *S) -> (N, C*prod(K), L)"))
fold_p = register(Primitive(
    "fold", lambda c, output_size, kernel_size, stride, padding, dilation: K.fold(
        c, output_size, kernel_size, stride, padding, dilation),
    category="conv", shape=_fold_shape, doc="col2im: (N, C*prod(K), L) -> (N, C, *S)"))
unfold_p.defvjp(lambda g, ans, x, kernel_size, stride, padding, dilation: fold_p(
    g, output_size=tuple(x.shape[2:]), kernel_size=kernel_size, stride=stride, padding=padding,
    dilation=dilation))
fold_p.defvjp(lambda g, ans, c, output_size, kernel_size, stride, padding, dilation: unfold_p(
    g, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation))


from .conv_args import (  # noqa: E402  (argument parsing, in its own module)
    _add_bias,
    _check_conv_dtype,
    _check_operands,
    _groups,
    _ints,
    _padding,
    pad_nd,
)

# ---- public faces ----------------------------------------------------------------------


def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
         padding_mode: str = "zeros", *, algorithm: str = "auto", _nd: int | None = None,
         _fn: str = "conv") -> Tensor:
    """N-d cross-correlation (PyTorch's "convolution"), the spatial rank taken from
    ``weight`` (``weight.ndim - 2``). See :func:`conv2d` for the arguments."""
    x, w = as_operand(input), as_operand(weight)
    nd = _nd if _nd is not None else w.ndim - 2
    fn = f"{_fn}()"
    b = None if bias is None else as_operand(bias)
    _check_operands(fn, x, w, nd, b)
    groups = _groups(groups, fn)
    stride = _ints(stride, nd, "stride", fn, 1)
    dilation = _ints(dilation, nd, "dilation", fn, 1)
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = reshape(x, (1,) + x.shape)
    if isinstance(padding, str) and padding not in ("same", "valid"):
        _padding(padding, nd, fn)
    pairs = _padding(padding, nd, fn, x.shape[2:], w.shape[2:], stride, dilation)
    if padding_mode != "zeros":
        x = pad_nd(x, pairs, padding_mode)
        pairs = ((0, 0),) * nd
    _conv_shape(x.shape, w.shape, stride, pairs, dilation, groups)  # named errors first
    y = conv_p(x, w, stride=stride, padding=pairs, dilation=dilation, groups=groups,
               algorithm=algorithm)
    y = _add_bias(y, b, nd, fn)
    return reshape(y, y.shape[1:]) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode: str = "zeros", *, algorithm: str = "auto") -> Tensor:
    """1-D cross-correlation: input (N, C_in, L) or (C_in, L), weight (C_out, C_in/groups,
    K) -> (N, C_out, L_out). Arguments as :func:`conv2d`."""
    return conv(input, weight, bias, stride, padding, dilation, groups, padding_mode,
                algorithm=algorithm, _nd=1, _fn="conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode: str = "zeros", *, algorithm: str = "auto") -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d`` (NCHW).

    Parameters
    ----------
    input : Tensor
        (N, C_in, H, W), or (C_in, H, W) unbatched.
    weight : Tensor
        (C_out, C_in / groups, kH, kW), same dtype as ``input`` (float32 or float64).
    bias : Tensor, optional
        (C_out,).
    stride, dilation : int or (int, int)
        Positive.
    padding : int, (int, int), ((top, bottom), (left, right)), 'valid' or 'same'
        Asymmetric pairs are an extension. ``'same'`` keeps ``H_out = H`` (stride 1; an odd
        total padding puts the extra pixel at the bottom/right, as PyTorch); with
        stride > 1 (an extension: PyTorch refuses it) it gives ``H_out = ceil(H / stride)``
        like TensorFlow's SAME, again with the extra pixel at the bottom/right.
    groups : int
        Divides C_in and C_out; ``groups == C_in`` is a depthwise conv.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}
        Non-zero modes pad explicitly (differentiably) and then convolve unpadded.
    algorithm : {'auto', 'im2col', 'gemm', 'direct', 'fft', 'winograd', 'reference'}
        Keyword-only extension: pin the kernel (all agree to rounding; tests use it).
        ``'auto'`` picks per shape (Winograd F(2x2, 3x3) for wide 3x3 stride-1 convs) and
        uses the FFT only on finite data of moderate dynamic range (it is computed in
        float64), so a NaN or inf stays inside its receptive field.

    Returns
    -------
    Tensor
        (N, C_out, H_out, W_out) with
        ``H_out = floor((H + pad_top + pad_bottom - dilation * (kH - 1) - 1) / stride) + 1``.

    Examples
    --------
    >>> import autograd_cnn as ac
    >>> x = ac.ones((1, 1, 5, 5)); w = ac.ones((1, 1, 3, 3))
    >>> ac.functional.conv2d(x, w, padding=1).shape
    (1, 1, 5, 5)
    """
    return conv(input, weight, bias, stride, padding, dilation, groups, padding_mode,
                algorithm=algorithm, _nd=2, _fn="conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode: str = "zeros", *, algorithm: str = "auto") -> Tensor:
    """3-D cross-correlation: input (N, C_in, D, H, W) or unbatched, weight
    (C_out, C_in/groups, kD, kH, kW) -> (N, C_out, D_out, H_out, W_out). As :func:`conv2d`."""
    return conv(input, weight, bias, stride, padding, dilation, groups, padding_mode,
                algorithm=algorithm, _nd=3, _fn="conv3d")


def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                   dilation=1, *, output_size=None, algorithm: str = "auto",
                   _nd: int | None = None, _fn: str = "conv_transpose") -> Tensor:
    """N-d transposed convolution (the adjoint of :func:`conv`); see
    :func:`conv_transpose2d`."""
    y, w = as_operand(input), as_operand(weight)
    nd = _nd if _nd is not None else w.ndim - 2
    fn = f"{_fn}()"
    b = None if bias is None else as_operand(bias)
    _check_operands(fn, y, w, nd, b)
    groups = _groups(groups, fn)
    stride = _ints(stride, nd, "stride", fn, 1)
    dilation = _ints(dilation, nd, "dilation", fn, 1)
    pairs = _padding(padding, nd, fn, allow_strings=False)
    op = _ints(output_padding, nd, "output_padding", fn, 0)
    unbatched = y.ndim == nd + 1
    if unbatched:
        y = reshape(y, (1,) + y.shape)
    if output_size is not None:
        size = tuple(int(s) for s in output_size)
        if len(size) == nd + 2:
            size = size[2:]
        if len(size) != nd:
            raise InvalidArgumentError(
                f"{fn}: output_size must have {nd} (or {nd + 2}) entries, got {output_size!r}")
        base = K.transpose_out_shape(y.shape, w.shape, stride, pairs, dilation, groups,
                                     (0,) * nd)[2:]
        op = tuple(s - m for s, m in zip(size, base))
        for i in range(nd):
            hi = base[i] + max(stride[i], dilation[i]) - 1
            if not 0 <= op[i] < max(stride[i], dilation[i]):
                raise InvalidArgumentError(
                    f"{fn}: output_size {size} is not reachable: spatial dim {i} must be in "
                    f"[{base[i]}, {hi}] for input {y.shape[2:]} (output_padding derives from "
                    "it and must be smaller than stride or dilation)")
    for i in range(nd):
        if op[i] >= max(stride[i], dilation[i]):
            raise InvalidArgumentError(
                f"{fn}: output_padding must be smaller than either stride or dilation, got "
                f"output_padding={op}, stride={stride}, dilation={dilation}")
    if y.ndim != w.ndim:
        raise ConvShapeError(f"{fn}: input {y.shape} and weight {w.shape} ranks disagree")
    if y.shape[1] != w.shape[0]:
        raise ChannelMismatchError(
            f"{fn}: input has {y.shape[1]} channels (shape {y.shape}) but weight {w.shape} "
            f"expects {w.shape[0]} (= weight.shape[0], the transposed conv's in_channels)")
    _transpose_shape(y.shape, w.shape, stride, pairs, dilation, groups, op)
    out = conv_transpose_p(y, w, stride=stride, padding=pairs, dilation=dilation, groups=groups,
                           output_padding=op, algorithm=algorithm)
    out = _add_bias(out, b, nd, fn)
    return reshape(out, out.shape[1:]) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1, *, output_size=None,
                     algorithm: str = "auto") -> Tensor:
    """1-D transposed conv: input (N, C_in, L), weight (C_in, C_out/groups, K). As
    :func:`conv_transpose2d`."""
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                          dilation, output_size=output_size, algorithm=algorithm, _nd=1,
                          _fn="conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1, *, output_size=None,
                     algorithm: str = "auto") -> Tensor:
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``: the
    adjoint (gradient with respect to the input) of :func:`conv2d` with the same weight.

    Parameters
    ----------
    input : Tensor
        (N, C_in, H, W) or (C_in, H, W).
    weight : Tensor
        (C_in, C_out / groups, kH, kW) (the weight of the conv2d it transposes).
    bias : Tensor, optional
        (C_out,).
    stride, padding, dilation, groups
        Those of the forward conv2d this transposes (``padding`` removes rows/cols).
    output_padding : int or tuple
        Extra rows/cols at the bottom/right, each smaller than stride or dilation.
    output_size : tuple, optional
        Keyword-only convenience: the wanted (H_out, W_out) (or full shape);
        ``output_padding`` is derived from it (error if unreachable).

    Returns
    -------
    Tensor
        (N, C_out, H_out, W_out), ``H_out = (H - 1) * stride - pad_top - pad_bottom
        + dilation * (kH - 1) + output_padding + 1``.

    Examples
    --------
    >>> import autograd_cnn as ac
    >>> y = ac.ones((1, 1, 3, 3)); w = ac.ones((1, 1, 3, 3))
    >>> ac.functional.conv_transpose2d(y, w, stride=2, padding=1, output_size=(6, 6)).shape
    (1, 1, 6, 6)
    """
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                          dilation, output_size=output_size, algorithm=algorithm, _nd=2,
                          _fn="conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1, *, output_size=None,
                     algorithm: str = "auto") -> Tensor:
    """3-D transposed conv: input (N, C_in, D, H, W), weight (C_in, C_out/groups, kD, kH,
    kW). As :func:`conv_transpose2d`."""
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                          dilation, output_size=output_size, algorithm=algorithm, _nd=3,
                          _fn="conv_transpose3d")


def _unfold_args(kernel_size, dilation, padding, stride, fn):
    nd = len(kernel_size) if isinstance(kernel_size, (tuple, list)) else 2
    ks = _ints(kernel_size, nd, "kernel_size", fn, 1)
    return (nd, ks, _ints(dilation, nd, "dilation", fn, 1),
            _padding(padding, nd, fn, allow_strings=False), _ints(stride, nd, "stride", fn, 1))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding blocks (im2col), as ``torch.nn.functional.unfold``.

    input (N, C, H, W) (or (C, H, W); any spatial rank given a tuple ``kernel_size``) ->
    (N, C * kH * kW, L), L the number of blocks; column l holds block l, channel-major.
    Differentiable; its VJP is :func:`fold`.

    >>> import autograd_cnn as ac
    >>> ac.functional.unfold(ac.ones((1, 2, 4, 4)), 2).shape
    (1, 8, 9)
    """
    fn = "unfold()"
    x = as_tensor(input)
    nd, ks, dil, pairs, st = _unfold_args(kernel_size, dilation, padding, stride, fn)
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = reshape(x, (1,) + x.shape)
    _check_conv_dtype(fn, ("input", x.dtype))
    _unfold_shape(x.shape, ks, st, pairs, dil)
    out = unfold_p(x, kernel_size=ks, stride=st, padding=pairs, dilation=dil)
    return reshape(out, out.shape[1:]) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Combine sliding blocks into a tensor (col2im), as ``torch.nn.functional.fold``:
    (N, C * kH * kW, L) (or unbatched (C * kH * kW, L)) -> (N, C, *output_size),
    overlapping values summed. The adjoint of :func:`unfold` (its VJP).

    >>> import autograd_cnn as ac
    >>> ac.functional.fold(ac.ones((1, 8, 9)), (4, 4), 2).shape
    (1, 2, 4, 4)
    """
    fn = "fold()"
    c = as_tensor(input)
    nd, ks, dil, pairs, st = _unfold_args(kernel_size, dilation, padding, stride, fn)
    size = _ints(output_size, nd, "output_size", fn, 1)
    unbatched = c.ndim == 2
    if unbatched:
        c = reshape(c, (1,) + c.shape)
    _check_conv_dtype(fn, ("input", c.dtype))
    _fold_shape(c.shape, size, ks, st, pairs, dil)
    out = fold_p(c, output_size=size, kernel_size=ks, stride=st, padding=pairs, dilation=dil)
    return reshape(out, out.shape[1:]) if unbatched else out


def conv_output_shape(input_shape, weight_shape, stride=1, padding=0, dilation=1,
                      groups=1) -> tuple:
    """Output shape of :func:`conv` without computing (named errors when impossible)."""
    nd = len(weight_shape) - 2
    stride = _ints(stride, nd, "stride", "conv_output_shape()", 1)
    dilation = _ints(dilation, nd, "dilation", "conv_output_shape()", 1)
    pairs = _padding(padding, nd, "conv_output_shape()", input_shape[2:], weight_shape[2:],
                     stride, dilation)
    return _conv_shape(tuple(input_shape), tuple(weight_shape), stride, pairs, dilation, groups)


def conv_transpose_output_shape(input_shape, weight_shape, stride=1, padding=0,
                                output_padding=0, groups=1, dilation=1) -> tuple:
    """Output shape of :func:`conv_transpose` without computing."""
    nd = len(weight_shape) - 2
    fn = "conv_transpose_output_shape()"
    return _transpose_shape(
        tuple(input_shape), tuple(weight_shape), _ints(stride, nd, "stride", fn, 1),
        _padding(padding, nd, fn, allow_strings=False), _ints(dilation, nd, "dilation", fn, 1),
        groups, _ints(output_padding, nd, "output_padding", fn, 0))
