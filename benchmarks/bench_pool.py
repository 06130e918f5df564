"""Pooling benchmark: ours (Numba) vs PyTorch CPU (2 threads), each in its own process.

Shape (16, 64, 56, 56) float32: max-pool 2x2/2 and 3x3/2 (overlapping windows), avg-pool
2x2/2, bilinear 2x upsampling; forward, and forward + backward. Medians after warm-up.

    python benchmarks/bench_pool.py [--repeat 15]

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
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", choices=["ours", "torch"])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.repeat)))
        return
    env = dict(os.environ)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    env.setdefault("NUMBA_NUM_THREADS", "2")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    res = {}
    for tool in ("ours", "torch"):
        out = subprocess.run([sys.executable, __file__, "--child", tool, "--repeat",
                              str(args.repeat)], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{tool} failed:\n{out.stderr}", file=sys.stderr)
            continue
        res[tool] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"input {SHAPE} float32, medians of {args.repeat} runs after 3 warm-ups (ms)")
    for tool, r in res.items():
        print(f"  {tool}: {r['version']}; BLAS: {r['blas']}")
    print(f"| {'op':<28} | {'ours ms':>8} | {'torch ms':>8} | {'torch/ours':>10} |")
    print(f"|{'-' * 30}|{'-' * 10}|{'-' * 10}|{'-' * 12}|")
    for name, kind in CASES:
        key = f"{name} {kind}"
        a = res.get("ours", {}).get(key, float("nan"))
        b = res.get("torch", {}).get(key, float("nan"))
        print(f"| {key:<28} | {a:8.2f} | {b:8.2f} | {b / a:9.2f}x |")


if __name__ == "__main__":
    main()
