"""The docs promise: every public function has a docstring, every registered primitive
is in the generated API reference, and the README's quick start is two commands."""

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import autograd_cnn as ac
import autograd_cnn.testing  # noqa: F401  (needs hypothesis, so not imported by ac)

ROOT = Path(__file__).resolve().parent.parent
MODULES = [ac, ac.functional, ac.signal, ac.nn, ac.optim, ac.models, ac.viz, ac.data,
           ac.train, ac.testing]


def _public_callables(module):
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or not callable(obj) or inspect.ismodule(obj):
            continue
        if not getattr(obj, "__module__", "").startswith("autograd_cnn"):
            continue
        yield f"{module.__name__}.{name}", obj


def test_every_public_function_and_class_has_a_docstring():
    missing = sorted({qual for m in MODULES for qual, obj in _public_callables(m)
                      if not (inspect.getdoc(obj) or "").strip()})
    assert missing == [], f"public callables without a docstring: {missing}"


def test_api_reference_lists_every_primitive():
    api = (ROOT / "docs" / "api.md").read_text()
    for name in ac.REGISTRY:
        assert f"| `{name}` |" in api, f"primitive {name} missing from docs/api.md"


def test_api_reference_is_up_to_date():
    import importlib.util

    if importlib.util.find_spec("onnx") is None:  # its section is generated from onnx's API
        pytest.skip("docs/api.md documents autograd_cnn.onnx, whose functions load only "
                    "with the onnx extra installed")
    out = subprocess.run([sys.executable, str(ROOT / "docs" / "make_api.py"), "--check"],
                         capture_output=True)
    assert out.returncode == 0, "docs/api.md is stale: run python docs/make_api.py"


def test_readme_quick_start_is_two_commands_demo_and_tests():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].startswith("pip install .") and "autograd-cnn demo" in commands[0]
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci, ".ci/run must run the README's test command"


@pytest.mark.parametrize("doc", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_docs_links_point_to_existing_files(doc):
    text = (ROOT / "docs" / doc).read_text()
    for target in re.findall(r"\]\(([^)#:]+)\)", text):
        assert (ROOT / "docs" / target).exists(), f"{doc} links to missing {target}"
