"""Drawing a lowered program with graphviz: one box per op, fused groups as clusters."""

from __future__ import annotations

import os
import shutil
import subprocess

from ..errors import InvalidArgumentError
from ..graph.ir import type_str
from .fusion import FusionGroup


def _q(s: str) -> str:
    return '"' + str(s).replace('"', r"\"") + '"'


def program_dot(program) -> str:
    """DOT source for ``program`` (a :class:`~autograd_cnn.compile.program.Program`):
    inputs as ellipses, ops as boxes, each fused kernel a shaded cluster."""
    lines = [f"digraph {_q(program.name)} {{", "  rankdir=TB;",
             '  node [fontname="Helvetica", fontsize=10];']
    made: dict[int, str] = {}
    for v in program.inputs:
        made[id(v)] = f"in_{len(made)}"
        lines.append(f"  {made[id(v)]} [label={_q(v.name + chr(10) + type_str(v.shape, v.dtype))}"
                     ", shape=ellipse, style=filled, fillcolor=\"#e8f0fe\"];")
    edges = []
    k = 0
    for gi, it in enumerate(program.items):
        nodes = it.all_nodes() if isinstance(it, FusionGroup) else [it]
        if isinstance(it, FusionGroup):
            lines.append(f"  subgraph cluster_{gi} {{")
            lines.append(f"    label={_q(f'fused kernel {gi} over {list(it.shape)}')};")
            lines.append('    style=filled; fillcolor="#fff4d6"; color="#d9a400";')
        for n in nodes:
            name = f"n{k}"
            k += 1
            label = getattr(n, "label", n.op) + "\n" + type_str(n.outputs[0].shape,
                                                                  n.outputs[0].dtype)
            lines.append(f"    {name} [label={_q(label)}, shape=box];")
            for v in n.inputs:
                src = made.get(id(v))
                if src is None and v.kind == "const":
                    continue
                if src is None:
                    src = f"in_{len(made)}"
                    made[id(v)] = src
                    lines.append(f"  {src} [label={_q(v.name)}, shape=ellipse];")
                edges.append(f"  {src} -> {name};")
            for o in n.outputs:
                made[id(o)] = name
        if isinstance(it, FusionGroup):
            lines.append("  }")
    for j, v in enumerate(program.outputs):
        if id(v) in made:
            lines.append(f"  out_{j} [label={_q('out ' + v.name)}, shape=plaintext];")
            edges.append(f"  {made[id(v)]} -> out_{j};")
    lines += edges
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(source: str, path: str) -> str:
    """Render DOT ``source`` to ``path`` (format from its extension) with ``dot``."""
    fmt = os.path.splitext(path)[1].lstrip(".")
    if fmt not in ("svg", "png", "pdf"):
        raise InvalidArgumentError(f"render(path): expected a .svg, .png or .pdf path, got "
                                   f"{path!r}")
    exe = shutil.which("dot")
    if exe is None:
        raise InvalidArgumentError("render(): graphviz 'dot' is not installed")
    subprocess.run([exe, f"-T{fmt}", "-o", path], input=source.encode(), check=True)
    return path
