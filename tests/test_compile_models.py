"""ac.compile on the model zoo: forward and every gradient equal eager (float32 within
1e-5 relative, float64 within 1e-10), batch-norm running statistics updated once per
call, dropout drawing the same masks from the same seed."""

import numpy as np
import pytest
from test_models import SMALL

import autograd_cnn as ac

TOL = {"float32": 1e-5, "float64": 1e-10}


def _close(got, want, dtype, what, floor=1e-30):
    # relative to the largest |value|; a gradient that is zero up to rounding (a bias
    # before batch norm) is compared to a floor of 1e-2 of the model's largest gradient
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    scale = max(np.abs(want).max(initial=0.0), floor)
    err = np.abs(got - want).max(initial=0.0) / scale
    assert err <= TOL[dtype], f"{what}: max error {err:.3g} of max |value| {scale:.3g}"


def _step_both(m, x, w, dtype, calls=2):
    f = ac.compile(lambda x: (m(x) * w).sum())
    f(x)  # compile (and one warm call)
    results = []
    for fn in (lambda x: (m(x) * w).sum(), f):
        for p in m.parameters():
            p.grad = None
        state = {k: v.numpy().copy() for k, v in m.state_dict().items()}
        ac.manual_seed(7)
        out = fn(x)
        out.backward()
        results.append((float(out), {n: p.grad.numpy().copy() for n, p in
                                     m.named_parameters()},
                        {k: v.numpy().copy() for k, v in m.state_dict().items()}))
        m.load_state_dict({k: ac.tensor(v) for k, v in state.items()})
    return results, f


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, factory, in_shape, out_shape", SMALL, ids=[s[0] for s in SMALL])
def test_compiled_step_equals_eager_on_the_zoo(name, factory, in_shape, out_shape, dtype):
    ac.manual_seed(0)
    m = factory()
    if dtype == "float64":
        m = m.double()
    x = ac.randn(*in_shape, seed=1).astype(dtype)
    w = ac.randn(*out_shape, seed=2).astype(dtype)
    (eager, compiled), f = _step_both(m, x, w, dtype)
    _close(compiled[0], eager[0], dtype, f"{name} loss")
    assert compiled[1].keys() == eager[1].keys()
    floor = 1e-2 * max(np.abs(g).max() for g in eager[1].values())
    for k in eager[1]:
        _close(compiled[1][k], eager[1][k], dtype, f"{name} grad {k}", floor)
    for k in eager[2]:  # running statistics after one step
        _close(compiled[2][k], eager[2][k], dtype, f"{name} state {k}")
