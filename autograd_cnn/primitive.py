"""Primitives: one object per differentiable op, and the registry that lists them.

A :class:`Primitive` carries, in one place, everything the library knows about an op:
its name and category, the NumPy (or Numba) implementation of the forward pass, a shape
rule, and one vector-Jacobian product per differentiable input. VJPs receive and return
``Tensor`` objects and are written with the library's own ops, so running them with
recording switched on (``create_graph=True``) produces a real, differentiable backward
graph.

Tests, the graph renderer and the docs enumerate :data:`REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .errors import RegistryError
from .tape import apply

#: name -> Primitive, in registration order.
REGISTRY: dict[str, Primitive] = {}

CATEGORIES = (
    "elementwise",
    "reduce",
    "movement",
    "indexing",
    "linalg",
    "conv",
    "pool",
    "resample",
    "normalization",
    "loss",
)


class Primitive:
    """A differentiable operation.

    Parameters
    ----------
    name : str
        Unique name; also the label of its node in rendered graphs.
    impl : callable
        ``impl(*arrays, **params) -> ndarray`` (or ``(ndarray, aux)`` when ``has_aux``).
        Works on NumPy arrays only; knows nothing of tensors.
    category : str
        One of :data:`CATEGORIES`; used for styling and the docs' op table.
    shape : callable
        ``shape(*input_shapes, **params) -> tuple``: output shape without computing.
        Raises a named error from :mod:`autograd_cnn.errors` when shapes cannot work.
    saves_output : bool
        Whether a VJP reads the forward output ``ans`` (then it is kept on the tape).
    is_view : bool
        Whether the output may share memory with the first input (reshape, permute...);
        such outputs share the input's version counter.
    has_aux : bool
        ``impl`` also returns non-differentiable auxiliary data (e.g. argmax indices),
        kept on the node and passed to the VJPs as ``aux=``.
    differentiable : bool
        False for ops whose output carries no gradient (comparisons, ``sign``, masks,
        ``argmax``): they are never recorded on the tape and need no VJP, but they are
        primitives so that traced graphs compute them instead of freezing their values.
    """

    __slots__ = (
        "name",
        "impl",
        "category",
        "shape",
        "saves_output",
        "is_view",
        "has_aux",
        "vjps",
        "vjp_argnum",
        "doc",
        "differentiable",
        "export",
    )

    def __init__(
        self,
        name: str,
        impl: Callable,
        *,
        category: str,
        shape: Callable,
        saves_output: bool = False,
        is_view: bool = False,
        has_aux: bool = False,
        differentiable: bool = True,
        doc: str = "",
    ):
        if category not in CATEGORIES:
            raise RegistryError(
                f"primitive {name!r}: category must be one of {CATEGORIES}, got {category!r}"
            )
        self.name = name
        self.impl = impl
        self.category = category
        self.shape = shape
        self.saves_output = saves_output
        self.is_view = is_view
        self.has_aux = has_aux
        self.vjps: tuple = ()
        self.vjp_argnum: Callable | None = None
        self.doc = doc
        self.differentiable = differentiable
        # How this op leaves for ONNX: ``export(node, ctx)``; declared beside the
        # primitive with :meth:`defexport` (the exporter enumerates the registry).
        self.export: Callable | None = None

    # -- VJPs ---------------------------------------------------------------------------
    def defvjp(self, *vjps: Callable | None) -> Primitive:
        """Declare one VJP per positional input (``None``: not differentiable there).

        Each VJP is ``vjp(g, ans, *inputs, **params) -> Tensor`` with the shape of its
        input; ``ans`` is the forward output when ``saves_output`` is set, else ``None``.
        """
        self.vjps = tuple(vjps)
        return self

    def defvjp_argnum(self, vjp: Callable) -> Primitive:
        """Declare one VJP for a variadic primitive: ``vjp(argnum, g, ans, *inputs, **p)``."""
        self.vjp_argnum = vjp
        return self

    def vjp_for(self, argnum: int) -> Callable | None:
        """The VJP of input ``argnum`` as ``f(g, ans, *inputs, **params)``, or None."""
        if self.vjp_argnum is not None:
            fn = self.vjp_argnum
            return lambda g, ans, *inputs, **params: fn(argnum, g, ans, *inputs, **params)
        if argnum < len(self.vjps):
            return self.vjps[argnum]
        return None

    def defexport(self, rule: Callable) -> Primitive:
        """Declare how a graph node of this primitive exports (``rule(node, ctx)``)."""
        self.export = rule
        return self

    @property
    def has_vjp(self) -> bool:
        return self.vjp_argnum is not None or any(v is not None for v in self.vjps)

    # -- applying -----------------------------------------------------------------------
    def __call__(self, *inputs, **params):
        return apply(self, inputs, params)

    def __repr__(self) -> str:
        return f"Primitive({self.name!r}, category={self.category!r})"


def register(prim: Primitive) -> Primitive:
    """Add ``prim`` to :data:`REGISTRY`; names are unique."""
    if prim.name in REGISTRY:
        raise RegistryError(f"a primitive named {prim.name!r} is already registered")
    REGISTRY[prim.name] = prim
    return prim


def primitive(name: str, *, category: str, shape: Callable, **kw) -> Callable:
    """Decorator form: ``@primitive("exp", category=..., shape=...)`` over the impl."""

    def wrap(impl: Callable) -> Primitive:
        return register(Primitive(name, impl, category=category, shape=shape, **kw))

    return wrap


def primitives(category: str | None = None) -> Iterable[Primitive]:
    """All registered primitives (optionally of one category), in registration order."""
    return [p for p in REGISTRY.values() if category is None or p.category == category]
