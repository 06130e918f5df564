"""Shared benchmark harness: run each tool in its own process, medians, ratio table.

Each benchmark script defines ``CASES`` (name -> {tool: setup function returning a
zero-argument callable}) and calls :func:`main`. The parent process starts one child per
tool with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (they slow a current OpenBLAS on
these machines), collects median times as JSON and prints the table with the BLAS
kernel each child ran.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

# run from a checkout without installing
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    parts = []
    for p in threadpool_info():
        if p.get("user_api") == "blas":
            parts.append(f"{p.get('internal_api')} {p.get('version')} "
                         f"core={p.get('architecture')} threads={p.get('num_threads')}")
    return "; ".join(parts) or "no BLAS found"


def time_median(fn, repeat: int, warmup: int = 3, min_time: float = 0.0) -> float:
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < repeat or (time.perf_counter() - start) < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 50 * repeat:
            break
    return statistics.median(times)


def _child(cases, tool, repeat):
    if tool == "torch":
        import torch

        torch.set_num_threads(2)
    results = {}
    for name, impls in cases.items():
        if tool not in impls:
            continue
        fn = impls[tool]()
        results[name] = time_median(fn, repeat)
    print(json.dumps({"tool": tool, "blas": blas_info(), "results": results}))


def _available(tool):
    if tool == "ours":
        return True
    try:
        __import__({"torch": "torch", "mygrad": "mygrad", "numpy": "numpy"}[tool])
        return True
    except ImportError:
        return False


def main(cases, tools=("ours", "torch"), unit="us", repeat=50, title="benchmark"):
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=repeat)
    args = parser.parse_args()
    if args.child:
        _child(cases, args.child, args.repeat)
        return
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    scale = {"us": 1e6, "ms": 1e3}[unit]
    runs = {}
    for tool in tools:
        if not _available(tool):
            print(f"# {tool}: not installed, skipped")
            continue
        out = subprocess.run([sys.executable, sys.argv[0], "--child", tool, "--repeat",
                              str(args.repeat)], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"# {tool} failed:\n{out.stderr[-2000:]}")
            continue
        runs[tool] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"# {title}")
    print(f"# machine: {platform.machine()} {os.cpu_count()} cpus, python "
          f"{platform.python_version()}; OPENBLAS_CORETYPE/L2_SIZE unset in children")
    for tool, run in runs.items():
        print(f"# {tool} BLAS: {run['blas']}")
    others = [t for t in runs if t != "ours"]
    header = f"| case | ours ({unit}) | " + " | ".join(
        f"{t} ({unit}) | ratio {t}/ours" for t in others) + " |"
    print(header)
    print("|" + "---|" * (2 + 2 * len(others)))
    for name in cases:
        ours = runs.get("ours", {}).get("results", {}).get(name)
        row = f"| {name} | {ours * scale:.1f} |" if ours else f"| {name} | - |"
        for t in others:
            theirs = runs[t]["results"].get(name)
            if theirs is None or ours is None:
                row += " - | - |"
            else:
                row += f" {theirs * scale:.1f} | {theirs / ours:.2f} |"
        print(row)
