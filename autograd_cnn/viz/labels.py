"""Graphviz HTML-like labels: escaping, label rows, and the text shown for values and ops."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor

# ---- escaping ------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape_label(text: Any) -> str:
    """Escape ``text`` for use inside a Graphviz HTML-like label.

    Quotes, ampersands and angle brackets become XML entities, newlines become line
    breaks, other control characters are dropped; backslashes are literal in HTML-like
    labels, so they need no escaping; text that is not valid Unicode (lone surrogates)
    becomes "?". The result is safe to concatenate with markup.
    """
    s = str(text).encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    s = _CONTROL.sub("", s).replace("\r\n", "\n").replace("\r", "\n")
    s = s.replace("\t", " ")
    return "<BR/>".join(html.escape(line, quote=True) for line in s.split("\n"))


def _html(*rows: str) -> str:
    """An HTML-like label from already escaped rows (first row bold-able by caller)."""
    return "<" + "<BR/>".join(r for r in rows if r) + ">"


def _small(text: str, color: str | None = None) -> str:
    """An escaped row in a smaller font ("" for empty text: Graphviz rejects empty
    elements)."""
    esc = escape_label(text)
    if not esc:
        return ""
    colour = f' COLOR="{color}"' if color else ""
    return f'<FONT POINT-SIZE="9"{colour}>{esc}</FONT>'


def _bold(text: str) -> str:
    """An escaped bold row; an empty name shows as ``''`` (empty elements are invalid)."""
    esc = escape_label(text)
    return f"<B>{esc}</B>" if esc.strip() else "<B>&#39;&#39;</B>"


# ---- formatting values ---------------------------------------------------------------


def _fmt_shape(shape) -> str:
    # symbolic dims of traced graphs (``N``) print by name
    shape = tuple(s if hasattr(s, "scale") else int(s) for s in shape)
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _fmt_value(v, depth: int = 0) -> str:
    """Short printable form of a hyper-parameter value (slices as ``a:b:c``...)."""
    if isinstance(v, slice):
        parts = ["" if p is None else str(p) for p in (v.start, v.stop, v.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if v.step is not None else "")
    if v is Ellipsis:
        return "..."
    if isinstance(v, np.ndarray):
        if v.size <= 6:
            return "[" + ", ".join(_fmt_value(x, depth + 1) for x in v.ravel().tolist()) + "]"
        return f"array{_fmt_shape(v.shape)} {v.dtype}"
    if isinstance(v, Tensor):
        return f"tensor{_fmt_shape(v.shape)} {v.dtype}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    if isinstance(v, (tuple, list)):
        if depth > 3:
            return "..."
        if v and all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str)
                     for x in v):
            # a frozen mapping ((key, value), ...), as hashable params are often stored
            return "{" + ", ".join(f"{k}={_fmt_value(x, depth + 1)}" for k, x in v) + "}"
        inner = ", ".join(_fmt_value(x, depth + 1) for x in v)
        if isinstance(v, tuple):
            return f"({inner}{',' if len(v) == 1 else ''})"
        return f"[{inner}]"
    if isinstance(v, np.dtype):
        return str(v)
    return repr(v) if isinstance(v, str) else str(v)


def _fmt_params(params: Mapping, width: int = 36, limit: int = 100) -> list[str]:
    """``k=v`` items wrapped into lines of about ``width`` characters (a long item is cut
    at ``limit`` characters and split at its commas)."""
    lines: list[str] = []
    cur = ""
    for k, v in params.items():
        item = f"{k}={_fmt_value(v)}"
        if len(item) > limit:
            item = item[: limit - 3] + "..."
        if len(item) > width:
            if cur:
                lines.append(cur)
            *full, cur = _wrap(item, width)
            lines += full
            continue
        if cur and len(cur) + 2 + len(item) > width:
            lines.append(cur)
            cur = item
        else:
            cur = f"{cur}, {item}" if cur else item
    if cur:
        lines.append(cur)
    return lines


def _fmt_num(x: float) -> str:
    return f"{x:.3g}"


def _wrap(text: str, width: int) -> list[str]:
    """Split ``text`` at ", " into lines of about ``width`` characters."""
    lines: list[str] = []
    cur = ""
    for part in text.split(", "):
        if cur and len(cur) + 2 + len(part) > width:
            lines.append(cur + ",")
            cur = part
        else:
            cur = f"{cur}, {part}" if cur else part
    return lines + [cur] if cur else lines


# ---- ops -----------------------------------------------------------------------------


_WEIGHTED_CONVS = {"conv", "conv_transpose"} | {
    f"{n}{k}d" for n in ("conv", "conv_transpose") for k in (1, 2, 3)
}
# parameters that only choose an implementation, hidden at their default value
_HIDDEN_DEFAULTS = {"algorithm": "auto"}


def op_label(node) -> str:
    """The name drawn for a node: the primitive's name, with the number of spatial
    dimensions appended for N-d primitives of the conv family (``conv`` on a 4-d input
    shows as ``conv2d``, its VJP as ``conv_transpose2d``, like PyTorch's names)."""
    name = node.prim.name
    if node.prim.category == "conv" and not re.search(r"\dd$", name):
        nd = len(node.out_shape) - 2
        if 1 <= nd <= 3:
            return f"{name}{nd}d"
    return name


def _compact_padding(p):
    """((1, 1), (2, 2)) -> (1, 2) when every side pair is symmetric."""
    if isinstance(p, tuple) and p and all(
        isinstance(q, tuple) and len(q) == 2 and q[0] == q[1] for q in p
    ):
        return tuple(q[0] for q in p)
    return p


def _shown_params(node) -> dict:
    """The hyper-parameters drawn in an op's box; convolutions also show their kernel
    size (read from the weight's shape, which is an input, not a parameter)."""
    params = {k: v for k, v in node.params.items()
              if not (k in _HIDDEN_DEFAULTS and v == _HIDDEN_DEFAULTS[k])}
    if "padding" in params:
        params["padding"] = _compact_padding(params["padding"])
    if node.prim.name in _WEIGHTED_CONVS and "kernel_size" not in params and len(
        node.input_meta
    ) > 1:
        wshape = node.input_meta[1][0]
        if len(wshape) >= 3:
            params = {"kernel": tuple(int(k) for k in wshape[2:]), **params}
    return params


def _saved_text(node) -> str:
    if node.freed:
        return "saved: freed by backward"
    parts = []
    if node.inputs is not None:
        parts += [f"in{i} {_fmt_shape(t.shape)}" for i, t in enumerate(node.inputs)]
    if node.out is not None:
        parts.append(f"out {_fmt_shape(node.out.shape)}")
    if node.aux is not None:
        aux = node.aux
        parts.append("aux " + (_fmt_shape(aux.shape) if hasattr(aux, "shape") else
                               type(aux).__name__))
    return "saved: " + (", ".join(parts) if parts else "nothing")
