"""Drawn cases for the loss primitives (``bce``)."""

from hypothesis import strategies as st

from ..ops import loss
from .cases import Case, register_case
from .strategies import floats, shapes, tensors


@register_case("bce")
@st.composite
def _bce(draw):
    shape = draw(shapes(min_dims=1))
    # probabilities away from 0 and 1, where the loss is smooth (the clamps are inactive)
    x = draw(tensors(shape=shape, elements=floats(0.05, 0.95)))
    y = draw(tensors(shape=shape, elements=floats(0.0, 1.0)))
    return Case(lambda p, t: loss.binary_cross_entropy(p, t, reduction="none"), (x, y))
