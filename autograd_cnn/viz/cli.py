"""The ``autograd-cnn graph`` command: draws a model of the zoo from the command line."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GraphvizNotFoundError, GraphvizRenderError, InvalidArgumentError
from .drawing import _RANKDIRS, draw
from .labels import _fmt_shape
from .rendering import FORMATS, render


def _expression_model():
    """The demo expression of ``autograd-cnn demo`` as a (model, input) pair."""
    import autograd_cnn as ac

    rng = np.random.default_rng(0)
    w = ac.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    b = ac.tensor(np.array([0.5, -0.5]), requires_grad=True)
    w.name, b.name = "w", "b"

    def model(x):
        h = ac.tanh(x @ w + b)
        return (ac.log_softmax(h, dim=1)[:, 0] * -1).mean()

    return model, {"w": w, "b": b}, (3, 4)


def _zoo_factories() -> dict[str, Any]:
    """Lower-case name -> constructor for the models of the zoo that can be built without
    arguments (classes such as ``LeNet5`` and functions such as ``resnet18``)."""
    import inspect

    try:
        from .. import models
        from ..nn import Module
    except ImportError:
        return {}
    found: dict[str, Any] = {}
    for attr in getattr(models, "__all__", ()):
        obj = getattr(models, attr, None)
        is_model_class = isinstance(obj, type) and issubclass(obj, Module)
        if not (is_model_class or inspect.isfunction(obj)):
            continue
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            continue
        required = [p for p in sig.parameters.values() if p.default is p.empty
                    and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if not required:
            found[attr.lower()] = obj
    return found


def _zoo_names() -> list[str]:
    return ["expr", *sorted(_zoo_factories())]


def _load_model(name: str):
    """``(model, params, default_input_shape)`` for a model of the zoo (or "expr")."""
    if name == "expr":
        return _expression_model()
    factory = _zoo_factories().get(name.lower().replace("-", "").replace("_", "")) or (
        _zoo_factories().get(name.lower()))
    if factory is None:
        raise InvalidArgumentError(
            f"unknown model {name!r}; available: {', '.join(_zoo_names())}"
        )
    model = factory()
    return model, model, _default_shape(model, name)


def _default_shape(model, name: str) -> tuple:
    for attr in ("input_shape", "default_input_shape", "example_input_shape"):
        shp = getattr(model, attr, None)
        if shp is not None:
            shp = tuple(int(s) for s in shp)
            return shp if len(shp) == 4 else (1,) + shp
    # batch of two: batch-norm layers in training mode need more than one value
    return (2, 1, 32, 32) if "lenet" in name.lower() else (2, 3, 64, 64)


#: largest input ``autograd-cnn graph`` builds (elements; 2**24 float32 values = 64 MiB)
MAX_INPUT_ELEMENTS = 2**24
#: most input dimensions accepted by ``--input-shape``
MAX_INPUT_DIMS = 8


def _parse_shape(text: str) -> tuple:
    try:
        shape = tuple(int(s) for s in text.replace("x", ",").split(",") if s.strip())
    except ValueError:
        shape = ()
    if not shape or any(s < 1 for s in shape):
        raise InvalidArgumentError(
            f"--input-shape: expected positive integers separated by commas (e.g. "
            f"1,1,32,32), got {text[:80]!r}"
        )
    if len(shape) > MAX_INPUT_DIMS:
        raise InvalidArgumentError(
            f"--input-shape: at most {MAX_INPUT_DIMS} dimensions, got {len(shape)}"
        )
    n = math.prod(shape)
    if n > MAX_INPUT_ELEMENTS:
        raise InvalidArgumentError(
            f"--input-shape: {_fmt_shape(shape)} has {n:,} elements; drawing a graph needs "
            f"at most {MAX_INPUT_ELEMENTS:,} (the shapes in the drawing scale with it: try "
            "a smaller batch or image)"
        )
    return shape


def _parse_collapse(text: str | None):
    if text is None or text == "modules":
        return text
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise InvalidArgumentError(
        f"--collapse: expected 'modules' or a depth >= 1, got {text!r}"
    )


def add_graph_command(subparsers) -> None:
    """Register ``autograd-cnn graph`` on an argparse sub-parser collection."""
    p = subparsers.add_parser(
        "graph",
        help="draw the forward or backward graph of a model (svg, png, pdf or dot)",
        description="Draw the forward or backward graph of a model of the zoo (or the demo "
        "expression, --model expr). Example: autograd-cnn graph --model lenet5 --backward "
        "-o lenet5_backward.svg",
    )
    p.add_argument("--model", default="expr", help="model name (default: expr)")
    p.add_argument("--input-shape", default=None,
                   help="input shape N,C,H,W (default: the model's own)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--backward", action="store_true", help="draw the backward graph")
    mode.add_argument("--both", action="store_true",
                      help="draw forward and backward side by side")
    p.add_argument("--collapse", default=None, help="'modules' or a module depth")
    p.add_argument("--rankdir", default="TB", choices=_RANKDIRS)
    p.add_argument("--max-nodes", type=int, default=2000,
                   help="draw at most this many boxes (0: no limit)")
    p.add_argument("--no-shapes", action="store_true", help="hide shapes")
    p.add_argument("--no-attrs", action="store_true", help="hide hyper-parameters")
    p.add_argument("--show-saved", action="store_true", help="list saved buffers")
    p.add_argument("-o", "--output", default=None,
                   help="output file (.svg, .png, .pdf, .dot); default: DOT on stdout")
    p.add_argument("--format", default=None, choices=FORMATS,
                   help="output format (default: from the file extension)")
    p.set_defaults(func=_cmd_graph, _parser=p)


def _cmd_graph(args) -> int:
    import sys

    import autograd_cnn as ac

    parser = args._parser
    try:
        collapse = _parse_collapse(args.collapse)
        if args.max_nodes < 0:
            raise InvalidArgumentError(f"--max-nodes: expected >= 0, got {args.max_nodes}")
        model, params, shape = _load_model(args.model)
        if args.input_shape is not None:
            shape = _parse_shape(args.input_shape)
        if args.output is None and args.format not in (None, "dot"):
            raise InvalidArgumentError(
                f"--format {args.format}: needs -o/--output FILE (only DOT is written to "
                "stdout)"
            )
        if args.output is not None and args.format is None:
            suffix = Path(args.output).suffix.lstrip(".").lower()
            if suffix not in FORMATS:
                raise InvalidArgumentError(
                    f"--output: cannot infer the format of {args.output!r} (expected an "
                    f"extension among {FORMATS}); pass --format"
                )
    except InvalidArgumentError as e:
        parser.exit(2, f"autograd-cnn graph: error: {e}\n")
    x = ac.randn(*shape, seed=0) if args.model != "expr" else ac.tensor(
        np.random.default_rng(1).standard_normal(shape))
    try:
        out = model(x)
    except (ValueError, TypeError) as e:
        parser.exit(2, f"autograd-cnn graph: error: --input-shape {shape} does not fit model "
                       f"{args.model!r}: {str(e).splitlines()[0] if str(e) else e}\n")
    backward = "both" if args.both else bool(args.backward)
    graph = draw(out, backward=backward, params=params, show_shapes=not args.no_shapes,
                 show_attrs=not args.no_attrs, show_saved=args.show_saved,
                 collapse=collapse, rankdir=args.rankdir,
                 max_nodes=args.max_nodes or None,
                 title=f"{args.model} {'backward' if backward else 'forward'} "
                       f"{_fmt_shape(shape)}")
    if args.output is None:
        sys.stdout.write(graph.source)
        return 0
    try:
        path = render(graph, args.output, format=args.format)
    except (GraphvizNotFoundError, GraphvizRenderError) as e:
        print(f"autograd-cnn graph: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({graph.info['nodes']} nodes)")
    return 0
