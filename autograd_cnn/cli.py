"""The ``autograd-cnn`` command line: ``autograd-cnn demo`` and friends.

Bad arguments get one clear line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"autograd-cnn: error: {message}\n")


def demo_expression(out=print) -> bool:
    """Build a small tensor expression, backpropagate, print the gradients and check
    them against central differences. Returns True when they agree."""
    import autograd_cnn as ac
    from autograd_cnn.testing import gradcheck

    rng = np.random.default_rng(0)
    x = ac.tensor(rng.standard_normal((3, 4)), requires_grad=True)   # float64 input
    w = ac.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    b = ac.tensor(np.array([0.5, -0.5]), requires_grad=True)

    def model(x, w, b):
        h = ac.tanh(x @ w + b)                       # (3, 2)
        return (ac.log_softmax(h, dim=1)[:, 0] * -1).mean()

    loss = model(x, w, b)
    out("expression: loss = mean(-log_softmax(tanh(x @ w + b), dim=1)[:, 0])")
    out(f"  x {x.shape}, w {w.shape}, b {b.shape} -> loss = {loss.item():.6f}")
    loss.backward()
    for name, t in (("x", x), ("w", w), ("b", b)):
        out(f"d loss / d {name} =\n{np.array2string(t.grad.numpy(), precision=5)}")
    ok = gradcheck(model, [x, w, b], raise_exception=False)
    out(f"gradients match central differences (float64): {'yes' if ok else 'NO'}")
    return ok


def _cmd_demo(args) -> int:
    return 0 if demo_expression() else 1


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="autograd-cnn", description="autograd_cnn command line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p = sub.add_parser("demo", help="run the demo (the main job)")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
