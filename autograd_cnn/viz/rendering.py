"""Writing drawings to files (svg, png, pdf, dot) and detecting Graphviz ``dot``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import graphviz

from ..errors import (
    ArgumentTypeError,
    GraphvizNotFoundError,
    GraphvizRenderError,
    InvalidArgumentError,
)
from .drawing import draw
from .emit import _MISSING_DOT

FORMATS = ("svg", "png", "pdf", "dot")


def dot_available() -> bool:
    """Whether the Graphviz ``dot`` program is on PATH (needed for svg/png/pdf)."""
    return shutil.which("dot") is not None


def to_dot(output, **kwargs) -> str:
    """The DOT text of ``draw(output, **kwargs)`` (needs no Graphviz installation)."""
    return draw(output, **kwargs).source


def render(output, path, format: str | None = None, **kwargs) -> Path:
    """Draw ``output`` and write the picture to ``path``.

    Parameters
    ----------
    output : Tensor, sequence of Tensor, or graphviz.Digraph
        What to draw (a Digraph, e.g. from :func:`draw`, is written as is).
    path : str or Path
        Destination file; parent directories are created.
    format : {"svg", "png", "pdf", "dot"}, optional
        Defaults to the extension of ``path``. "dot" writes the DOT text and works
        without Graphviz; the others run the system ``dot`` program.
    **kwargs
        Passed to :func:`draw` (backward, collapse, rankdir...).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    GraphvizNotFoundError
        The ``dot`` program is missing (the message says how to get the DOT text).
    """
    path = Path(path)
    if format is None:
        format = path.suffix.lstrip(".").lower()
        if format not in FORMATS:
            raise InvalidArgumentError(
                f"render(): cannot infer the format from path {str(path)!r}: expected an "
                f"extension among {FORMATS}, got {path.suffix or 'none'!r}; pass format="
            )
    if format not in FORMATS:
        raise InvalidArgumentError(f"render(): format must be one of {FORMATS}, got {format!r}")
    if isinstance(output, graphviz.Digraph):
        if kwargs:
            raise ArgumentTypeError(
                "render(): drawing options "
                f"({', '.join(sorted(kwargs))}) apply to tensors, not to an already drawn graph"
            )
        graph = output
    else:
        graph = draw(output, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "dot":
        path.write_text(graph.source, encoding="utf-8")
        return path
    if not dot_available():
        raise GraphvizNotFoundError(f"render(): cannot write {format}. {_MISSING_DOT}")
    try:
        data = graph.pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(f"render(): cannot write {format}. {_MISSING_DOT}") from None
    except subprocess.CalledProcessError as e:  # graphviz's own error subclasses it
        err = getattr(e, "stderr", b"") or b""
        raise GraphvizRenderError(
            f"render(): Graphviz dot failed to produce {format}: "
            f"{err.decode(errors='replace').strip()[:500]}"
        ) from None
    path.write_bytes(data)
    return path
