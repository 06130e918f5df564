"""autograd_cnn.memory: on glibc, importing the library keeps a training loop's freed
arrays with the process, so the next step's arrays of the same sizes cause no page faults
(measured in fresh processes: the setting is process-wide and made on import)."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not (hasattr(os, "confstr") and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith(
        "glibc")), reason="the allocator tuning applies to glibc only")

# A step's worth of arrays (six of 1.2 MB, as LeNet-5's first layer at batch 64),
# allocated, written and freed 50 times; prints the minor page faults of those steps.
_CHILD = r"""
import resource, sys
import numpy as np
import autograd_cnn as ac
def step():
    arrays = [np.ones((64, 6, 28, 28), np.float32) for _ in range(6)]
    return sum(float(a[0, 0, 0, 0]) for a in arrays)
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    step()
print(ac.memory.applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(env_value):
    env = dict(os.environ)
    env.pop("AUTOGRAD_CNN_MALLOPT", None)
    if env_value is not None:
        env["AUTOGRAD_CNN_MALLOPT"] = env_value
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         env=env, timeout=120, check=True).stdout.split()
    return out[0] == "True", int(out[1])


def test_repeated_steps_reuse_memory_without_page_faults():
    applied, faults = _faults(None)
    assert applied
    # 50 steps x 6 arrays x 294 pages would be ~88,000 faults if every array were fresh
    assert faults < 500, faults


def test_the_environment_variable_leaves_malloc_alone():
    applied, faults = _faults("0")
    assert not applied
    assert faults > 5000, faults  # glibc's default: the freed heap top goes back each step
