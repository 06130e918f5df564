"""Command line pieces for ONNX: ``autograd-cnn onnx export`` and the ``--onnx FILE``
option of ``autograd-cnn graph`` and ``autograd-cnn summary`` (added onto those parsers,
so their own code stays untouched)."""

from __future__ import annotations

import sys

import numpy as np

from ..errors import InvalidArgumentError


def _input_shape(module, given=None):
    if given:
        return tuple(int(v) for v in given.replace("x", ",").split(",") if v.strip())
    g = module._graph
    v = next(i for i in g.input if i.name == module.input_names[0])
    return tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1
                 for d in v.type.tensor_type.shape.dim)


def onnx_summary(path, input_shape=None) -> str:
    """A per-node table of an ONNX model: op, output shape, parameters it reads."""
    import autograd_cnn as ac

    from .loader import load

    m = load(path)
    shape = _input_shape(m, input_shape)
    env = m.run_all(ac.randn(*shape, seed=0))
    rows = [("node", "op", "output shape", "params")]
    total = 0
    for node in m._graph.node:
        n_par = sum(int(np.prod(m._current(i).shape)) for i in node.input if i in m._state)
        total += n_par
        out = env.get(node.output[0]) if node.output else None
        rows.append((node.name or node.output[0], node.op_type,
                     str(tuple(out.shape)) if out is not None else "-", str(n_par or "")))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"{len(m._graph.node)} nodes, {total} parameters, input {shape}, "
                 f"opset {m.opsets.get('')}")
    return "\n".join(lines)


def _cmd_export(args) -> int:
    import autograd_cnn as ac

    from ..demo import _zoo, parse_shape
    from .exporter import export

    shape = parse_shape(args.input)
    if len(shape) != 3:
        raise InvalidArgumentError(f"--input: expected C,H,W (3 numbers), got {args.input!r}")
    model = _zoo(args.model, shape[0], shape[1], args.num_classes).eval()
    x = ac.randn(args.batch, *shape, seed=0)
    mp = export(model, x, args.output, opset=args.opset,
                dynamic_batch=not args.static_batch)
    print(f"wrote {args.output} ({len(mp.graph.node)} nodes, opset {args.opset})")
    return 0


def _wrap_graph(old):
    def cmd(args):
        if not getattr(args, "onnx", None):
            return old(args)
        import autograd_cnn as ac

        from ..viz import draw, render
        from .loader import load

        m = load(args.onnx)
        shape = _input_shape(m, args.input_shape)
        out = m(ac.randn(*shape, seed=0))
        out = out[0] if isinstance(out, tuple) else out
        backward = "both" if args.both else bool(args.backward)
        graph = draw(out, backward=backward, params=m, show_shapes=not args.no_shapes,
                     show_attrs=not args.no_attrs, rankdir=args.rankdir,
                     title=f"{args.onnx} {shape}")
        if args.output is None:
            sys.stdout.write(graph.source)
            return 0
        path = render(graph, args.output, format=args.format)
        print(f"wrote {path} ({graph.info['nodes']} nodes)")
        return 0

    return cmd


def _wrap_summary(old):
    def cmd(args):
        if not getattr(args, "onnx", None):
            return old(args)
        print(onnx_summary(args.onnx, None if args.input == "1,8,8" else
                           f"{args.batch}," + args.input))
        return 0

    return cmd


def add_onnx_commands(sub) -> None:
    """Register ``onnx export`` and add ``--onnx`` to ``graph`` and ``summary``."""
    import argparse

    p = sub.add_parser("onnx", help="ONNX export", description="ONNX tools")
    osub = p.add_subparsers(dest="onnx_command", metavar="ACTION", parser_class=type(p))
    e = osub.add_parser(
        "export", help="export a zoo model to ONNX",
        description="Export a model of autograd_cnn.models (eval mode) to an ONNX file, "
        "e.g. autograd-cnn onnx export --model resnet18 -o r18.onnx",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    e.add_argument("--model", required=True, help="a model of autograd_cnn.models")
    e.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    e.add_argument("--input", default="3,224,224", help="input shape C,H,W")
    e.add_argument("--batch", type=int, default=1, help="batch size traced at")
    e.add_argument("--num-classes", type=int, default=1000)
    e.add_argument("--opset", type=int, default=18)
    e.add_argument("--static-batch", action="store_true", help="fixed batch size")
    e.set_defaults(func=_cmd_export)
    for name, wrap in (("graph", _wrap_graph), ("summary", _wrap_summary)):
        q = sub.choices.get(name)
        if q is None:
            continue
        q.add_argument("--onnx", default=None, metavar="FILE",
                       help="an ONNX model to show instead of --model")
        q.set_defaults(func=wrap(q.get_default("func")))
