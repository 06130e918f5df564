"""Box styles of the drawings: per primitive category, per kind of box, and borders."""

from __future__ import annotations

from ..primitive import CATEGORIES, REGISTRY, Primitive

#: Fill colour and shape per primitive category (every entry of primitive.CATEGORIES must
#: have one: tests/test_viz.py enforces it, like gradcheck cases for the registry).
CATEGORY_STYLES: dict[str, dict[str, str]] = {
    "elementwise": {"fillcolor": "#fff2cc", "shape": "box"},
    "reduce": {"fillcolor": "#e1d5e7", "shape": "box"},
    "movement": {"fillcolor": "#dae8fc", "shape": "box"},
    "indexing": {"fillcolor": "#d5e8d4", "shape": "box"},
    "linalg": {"fillcolor": "#f8cecc", "shape": "box"},
    "conv": {"fillcolor": "#ffcc99", "shape": "box"},
    "pool": {"fillcolor": "#b3e0dc", "shape": "box"},
    "resample": {"fillcolor": "#e6f0c2", "shape": "box"},
    "normalization": {"fillcolor": "#f4d8f0", "shape": "box"},
    "loss": {"fillcolor": "#ff9999", "shape": "box"},
}

#: Styles of the other kinds of boxes.
KIND_STYLES: dict[str, dict[str, str]] = {
    # a leaf that requires grad and has a name (a module parameter, or named by the user)
    "parameter": {"shape": "box", "style": "filled", "fillcolor": "#c6e0b4"},
    # a leaf that requires grad without a name (the input being differentiated)
    "input": {"shape": "ellipse", "style": "filled", "fillcolor": "#bdd7ee"},
    # an input that does not require grad (data, labels, literal scalars)
    "constant": {"shape": "box", "style": "filled,dashed", "fillcolor": "#f2f2f2",
                 "color": "#999999", "fontcolor": "#555555"},
    # in a backward-only drawing: a forward value a VJP reads (saved for backward)
    "saved": {"shape": "box", "style": "dashed,rounded", "color": "#7f7f7f",
              "fontcolor": "#404040"},
    # in a backward drawing: where a gradient ends (d output / d leaf)
    "sink": {"shape": "ellipse", "style": "filled,bold", "fillcolor": "#fce4d6",
             "color": "#c55a11"},
    # a module folded into one box by ``collapse``
    "group": {"shape": "box3d", "style": "filled", "fillcolor": "#f5f5f5"},
    # in a backward drawing: the gradient of the output(s) the backward starts from
    "seed": {"shape": "box", "style": "filled,bold", "fillcolor": "#fce4d6",
             "color": "#c55a11"},
    # the marker for nodes cut by ``max_nodes``
    "more": {"shape": "plaintext", "fontcolor": "#7f7f7f"},
}

_FALLBACK_STYLE = {"fillcolor": "#ffffff", "shape": "box"}
_BACKWARD_BORDER = {"color": "#2f5597", "penwidth": "1.6"}
_BAD_GRAD_BORDER = {"color": "#e00000", "penwidth": "3"}
_CORRESPONDENCE = {"style": "dotted", "color": "#8064a2", "arrowhead": "none",
                   "constraint": "false"}


def style_for(prim: Primitive) -> dict[str, str]:
    """Graphviz attributes of the box of an op of primitive ``prim`` (by its category).

    Returns a fresh dict (``shape``, ``style``, ``fillcolor``) that callers may modify.
    """
    base = CATEGORY_STYLES.get(prim.category, _FALLBACK_STYLE)
    return {"style": "filled,rounded", **base}


def _check_styles() -> list[str]:
    """Categories (of CATEGORIES and of registered primitives) without a render style."""
    cats = set(CATEGORIES) | {p.category for p in REGISTRY.values()}
    return sorted(c for c in cats if c not in CATEGORY_STYLES)
