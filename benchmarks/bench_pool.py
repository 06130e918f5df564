"""Pooling benchmark: ours (Numba) vs PyTorch CPU (2 threads), each in its own process.

Shape (16, 64, 56, 56) float32: max-pool 2x2/2 and 3x3/2 (overlapping windows), avg-pool
2x2/2, bilinear 2x upsampling; forward, and forward + backward. LeNet-5's pools (2x2/2 on
(64, 6, 28, 28) and (64, 16, 10, 10) float32): forward, forward + backward, and for ours
the two primitive implementations ``ac.compile`` calls (``max_pool2d``'s impl and the
backward ``pool_scatter``'s), timed alone. Medians after warm-up.

    python benchmarks/bench_pool.py [--repeat 15] [--before OLD_CHECKOUT] [--rounds 3]

``--before`` also runs ours from an older checkout (``git archive REV | tar -x -C DIR``);
``--rounds`` repeats every child, alternating them, and keeps each figure's lowest median.

The parent unsets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the children and prints the
BLAS kernel each child sees (threadpoolctl). Not a test: no timing assertions anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

SHAPE = (16, 64, 56, 56)
LENET = [(64, 6, 28, 28), (64, 16, 10, 10)]
LENET_CASES = [(f"lenet {shape} {kind}", shape, kind) for shape in LENET
               for kind in ("fwd", "fwd+bwd", "impl fwd", "impl bwd")]
CASES = [
    ("max_pool 2x2 s2", "fwd"), ("max_pool 2x2 s2", "fwd+bwd"),
    ("max_pool 3x3 s2", "fwd"), ("max_pool 3x3 s2", "fwd+bwd"),
    ("avg_pool 2x2 s2", "fwd"), ("avg_pool 2x2 s2", "fwd+bwd"),
    ("bilinear x2", "fwd"), ("bilinear x2", "fwd+bwd"),
]


def _blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info

        return "; ".join(f"{i.get('internal_api')} {i.get('version')} "
                         f"{i.get('architecture')} threads={i.get('num_threads')}"
                         for i in threadpool_info())
    except Exception as e:  # pragma: no cover - informational only
        return f"threadpoolctl unavailable ({e})"


def _median_ms(fn, repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[len(times) // 2]


def _child(tool: str, repeat: int) -> dict:
    import numpy as np

    x = np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)
    results = {"blas": _blas_info()}
    if tool == "torch":
        import torch
        import torch.nn.functional as F

        torch.set_num_threads(2)
        ops = {
            "max_pool 2x2 s2": lambda t: F.max_pool2d(t, 2, 2),
            "max_pool 3x3 s2": lambda t: F.max_pool2d(t, 3, 2),
            "avg_pool 2x2 s2": lambda t: F.avg_pool2d(t, 2, 2),
            "bilinear x2": lambda t: F.interpolate(t, scale_factor=2, mode="bilinear",
                                                   align_corners=False),
        }
        results["version"] = f"torch {torch.__version__}, threads {torch.get_num_threads()}"
        for name, kind in CASES:
            op = ops[name]
            if kind == "fwd":
                t = torch.from_numpy(x)

                def run():
                    with torch.no_grad():
                        op(t)
            else:
                t = torch.from_numpy(x).requires_grad_(True)
                g = torch.ones_like(op(t))

                def run():
                    t.grad = None
                    op(t).backward(g)
            results[f"{name} {kind}"] = _median_ms(run, repeat)
        for key, shape, kind in LENET_CASES:
            if kind.startswith("impl"):
                continue
            t = torch.from_numpy(_relu_like(shape)).requires_grad_(kind == "fwd+bwd")
            if kind == "fwd":
                def run():
                    with torch.no_grad():
                        F.max_pool2d(t, 2)
            else:
                g = torch.ones_like(F.max_pool2d(t, 2))

                def run():
                    t.grad = None
                    F.max_pool2d(t, 2).backward(g)
            results[key] = _median_ms(run, repeat * 10)
    else:
        import numba

        import autograd_cnn as ac
        import autograd_cnn.functional as F

        ops = {
            "max_pool 2x2 s2": lambda t: F.max_pool2d(t, 2, 2),
            "max_pool 3x3 s2": lambda t: F.max_pool2d(t, 3, 2),
            "avg_pool 2x2 s2": lambda t: F.avg_pool2d(t, 2, 2),
            "bilinear x2": lambda t: F.interpolate(t, scale_factor=2, mode="bilinear",
                                                   align_corners=False),
        }
        results["version"] = f"numba {numba.__version__}, threads {numba.get_num_threads()}"
        for name, kind in CASES:
            op = ops[name]
            if kind == "fwd":
                t = ac.tensor(x)

                def run():
                    with ac.no_grad():
                        op(t)
            else:
                t = ac.tensor(x, requires_grad=True)
                g = np.ones(op(t).shape, dtype=np.float32)

                def run():
                    t.grad = None
                    op(t).backward(g)
            results[f"{name} {kind}"] = _median_ms(run, repeat)
        results.update(_ours_lenet(repeat))
    return results


def _relu_like(shape):
    """LeNet's pool inputs come out of a ReLU: half zeros (ties inside windows)."""
    import numpy as np

    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    return np.maximum(x, 0)


def _ours_lenet(repeat: int) -> dict:
    import numpy as np

    import autograd_cnn as ac
    import autograd_cnn.functional as F
    from autograd_cnn.primitive import REGISTRY

    params = dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1),
                  ceil_mode=False)
    pool, scatter = REGISTRY["max_pool2d"].impl, REGISTRY["pool_scatter"].impl
    res = {}
    for key, shape, kind in LENET_CASES:
        x = _relu_like(shape)
        if kind == "fwd":
            t = ac.tensor(x)

            def run():
                with ac.no_grad():
                    F.max_pool2d(t, 2)
        elif kind == "fwd+bwd":
            t = ac.tensor(x, requires_grad=True)
            g = np.ones(F.max_pool2d(t, 2).shape, np.float32)

            def run():
                t.grad = None
                F.max_pool2d(t, 2).backward(g)
        elif kind == "impl fwd":
            def run():
                pool(x, **params)
        else:
            _, idx = pool(x, **params)
            g = np.random.default_rng(2).standard_normal(idx.shape).astype(np.float32)

            def run():
                scatter(g, idx, plane=shape[2:])
        res[key] = _median_ms(run, repeat * 10)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", choices=["ours", "torch"])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--before", default=None, help="an older checkout, run as 'before'")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.repeat)))
        return
    env = dict(os.environ)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    env.setdefault("NUMBA_NUM_THREADS", "2")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs = [("ours", "ours", root), ("torch", "torch", root)]
    if args.before:
        runs.insert(1, ("before", "ours", os.path.abspath(args.before)))
    res = {}
    for _ in range(args.rounds):
        for label, tool, path in runs:
            env["PYTHONPATH"] = path + os.pathsep + os.environ.get("PYTHONPATH", "")
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", tool,
                                  "--repeat", str(args.repeat)], env=env, cwd=path,
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{label} failed:\n{out.stderr}", file=sys.stderr)
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            best = res.setdefault(label, r)
            for k, v in r.items():
                if isinstance(v, float) and v < best.get(k, float("inf")):
                    best[k] = v
    print(f"input {SHAPE} float32, medians of {args.repeat} runs after 3 warm-ups (ms); "
          f"LeNet rows: medians of {10 * args.repeat}; lowest of {args.rounds} round(s)")
    for tool, r in res.items():
        print(f"  {tool}: {r['version']}; BLAS: {r['blas']}")
    cols = [t for t in ("ours", "before", "torch") if t in res]
    print("| op | " + " | ".join(f"{c} ms" for c in cols) + " | torch/ours |")
    print("|---|" + "---|" * (len(cols) + 1))
    keys = [f"{n} {k}" for n, k in CASES] + [k for k, *_ in LENET_CASES]
    for key in keys:
        vals = [res[c].get(key, float("nan")) for c in cols]
        a = res.get("ours", {}).get(key, float("nan"))
        b = res.get("torch", {}).get(key, float("nan"))
        print(f"| {key} | " + " | ".join(f"{v:.3f}" for v in vals) + f" | {b / a:.2f}x |")


if __name__ == "__main__":
    main()
