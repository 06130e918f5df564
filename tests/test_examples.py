"""Every examples/*.py runs to completion in its fast mode (AUTOGRAD_CNN_FAST=1), each in
its own process, like a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_in_fast_mode(path, tmp_path):
    env = dict(os.environ, AUTOGRAD_CNN_FAST="1", PYTHONPATH=str(ROOT),
               MPLBACKEND="Agg", AUTOGRAD_CNN_EXAMPLE_OUT=str(tmp_path))
    r = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, f"{path.name} failed:\n{r.stdout[-1500:]}\n{r.stderr[-3000:]}"
    assert r.stdout.strip(), f"{path.name} printed nothing"
