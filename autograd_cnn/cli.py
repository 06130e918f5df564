"""The ``autograd-cnn`` command line: ``autograd-cnn demo`` and friends.

Bad arguments get one clear line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from .demo import demo_expression  # noqa: F401  (kept importable from here)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"autograd-cnn: error: {message}\n")


def _run(func, args) -> int:
    """Run a command; named library errors, bad values, unwritable paths, a diverging
    loss and running out of memory become one line on stderr and exit status 2."""
    from .demo import CLIError
    from .errors import AutogradCNNError

    try:
        return func(args)
    except (CLIError, AutogradCNNError, OSError, FloatingPointError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"autograd-cnn: error: {msg}", file=sys.stderr)
        return 2
    except MemoryError as e:
        detail = str(e).splitlines()[0] if str(e) else "the arguments ask for too much memory"
        print(f"autograd-cnn: error: out of memory: {detail}", file=sys.stderr)
        return 2


#: Output arguments: (attribute, option, whether the value is a folder rather than a file).
_OUTPUTS = (("out", "--out", True), ("output", "--output", False),
            ("checkpoint", "--checkpoint", False))


def _prepare_output_dirs(args) -> None:
    """Create missing output folders before the command runs, saying so on stderr (a
    folder appearing unannounced is a surprise; failing after an hour of training because
    a checkpoint folder is missing is worse). A path whose folder part is an existing
    file is one line of error."""
    import os

    for attr, option, is_dir in _OUTPUTS:
        path = getattr(args, attr, None)
        if not isinstance(path, str) or not path:
            continue
        folder = path if is_dir else os.path.dirname(path)
        if not folder or os.path.isdir(folder):
            continue
        if os.path.exists(folder):
            raise NotADirectoryError(f"{option} {path}: {folder!r} exists and is not a folder")
        os.makedirs(folder)
        print(f"autograd-cnn: created folder {folder!r} for {option}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="autograd-cnn", description="autograd_cnn command line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    from .demo import add_commands

    add_commands(sub)  # ``autograd-cnn demo | train | summary`` (demo.py)
    from .viz import add_graph_command

    add_graph_command(sub)  # ``autograd-cnn graph`` (viz.py)
    from .onnx.cli import add_onnx_commands

    add_onnx_commands(sub)  # ``autograd-cnn onnx export``; ``--onnx`` on graph/summary
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return _run(lambda a: _prepare_output_dirs(a) or a.func(a), args)


if __name__ == "__main__":
    sys.exit(main())
