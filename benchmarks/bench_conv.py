"""Benchmark of the convolution family: ours vs PyTorch CPU (and MyGrad when installed).

Each tool runs in its OWN subprocess (two thread pools in one process distort both), with
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed from the children's environment; PyTorch
uses ``torch.set_num_threads(2)``. For every shape (float32, batch as given) we time the
forward conv2d, the backward (input + weight gradients, forward excluded) and the
conv_transpose2d of the mirrored shape (the conv's output back to its input), report
medians after warm-up (the lowest median over ``--rounds`` alternating rounds, to filter
bursts of load from other users of the machine) and the ratio PyTorch time / our time
(> 1: we are faster).

    python benchmarks/bench_conv.py            # full table
    python benchmarks/bench_conv.py --repeat 5 --shapes a,b
    python benchmarks/bench_conv.py --before /path/to/old/checkout   # before/after table

The children import autograd_cnn from this checkout (``--before``: from the given one),
whatever is installed; the table ends with fwd+bwd per shape, the issue's metric.

This is not a test; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SHAPES = {
    # name: (x shape, w shape, stride, padding, groups)
    "a": ((64, 1, 28, 28), (6, 1, 5, 5), 1, 0, 1),
    "b": ((64, 6, 12, 12), (16, 6, 5, 5), 1, 0, 1),
    "c": ((8, 64, 56, 56), (64, 64, 3, 3), 1, 1, 1),
    "d": ((16, 128, 28, 28), (256, 128, 3, 3), 2, 1, 1),
    "e": ((16, 256, 28, 28), (64, 256, 1, 1), 1, 0, 1),
    "f": ((16, 128, 28, 28), (128, 1, 3, 3), 1, 1, 128),
}


def _median_ms(fn, repeat, setup=None):
    import numpy as np

    times = []
    for i in range(repeat + 2):  # two warm-up runs
        arg = setup() if setup else None
        t0 = time.perf_counter()
        fn(arg)
        dt = time.perf_counter() - t0
        if i >= 2:
            times.append(dt)
    return float(np.median(times) * 1e3)


def _out_size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def worker_ours(names, repeat):
    t0 = time.perf_counter()
    import numpy as np

    import autograd_cnn as ac
    import autograd_cnn.functional as F

    t_import = time.perf_counter() - t0
    # first calls of the whole family in this fresh process (compiled code from the cache)
    t0 = time.perf_counter()
    for dt in (np.float32, np.float64):
        for alg in ("im2col", "direct"):
            x = ac.tensor(np.ones((2, 2, 6, 6), dt), requires_grad=True)
            w = ac.tensor(np.ones((2, 1, 3, 3), dt), requires_grad=True)
            y = F.conv2d(x, w, padding=1, groups=2, algorithm=alg)
            ac.gradients([y.sum()], [x, w])
            F.conv_transpose2d(y, w, groups=2, algorithm=alg)
        F.fold(F.unfold(x, 2), (6, 6), 2)
    first = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    res = {"_first_calls_s": first, "_import_s": t_import, "_path": ac.__file__}
    for name in names:
        xs, ws, s, p, g = SHAPES[name]
        x = ac.tensor(rng.standard_normal(xs).astype(np.float32), requires_grad=True)
        w = ac.tensor(rng.standard_normal(ws).astype(np.float32), requires_grad=True)

        def fwd(_):
            with ac.no_grad():
                F.conv2d(x, w, None, s, p, 1, g)

        gy = None

        def setup():
            nonlocal gy
            y = F.conv2d(x, w, None, s, p, 1, g)
            if gy is None:
                gy = ac.tensor(np.ones(y.shape, np.float32))
            return y

        def bwd(y):
            ac.gradients([y], [x, w], grad_outputs=[gy])

        with ac.no_grad():
            yv = F.conv2d(x, w, None, s, p, 1, g)
        op = tuple(xs[2 + i] + 2 * p - ws[2 + i] - (yv.shape[2 + i] - 1) * s for i in range(2))

        def tr(_):
            with ac.no_grad():
                F.conv_transpose2d(yv, w, None, s, p, op, g)

        res[name] = dict(fwd=_median_ms(fwd, repeat), bwd=_median_ms(bwd, repeat, setup),
                         tr=_median_ms(tr, repeat))
    return res


def worker_torch(names, repeat):
    import numpy as np
    import torch

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    res = {}
    for name in names:
        xs, ws, s, p, g = SHAPES[name]
        x = torch.tensor(rng.standard_normal(xs).astype(np.float32), requires_grad=True)
        w = torch.tensor(rng.standard_normal(ws).astype(np.float32), requires_grad=True)
        tf = torch.nn.functional

        def fwd(_):
            with torch.no_grad():
                tf.conv2d(x, w, None, s, p, 1, g)

        def setup():
            return tf.conv2d(x, w, None, s, p, 1, g)

        def bwd(y):
            torch.autograd.grad([y], [x, w], grad_outputs=[torch.ones_like(y)])

        with torch.no_grad():
            yv = tf.conv2d(x, w, None, s, p, 1, g)
        op = tuple(xs[2 + i] + 2 * p - ws[2 + i] - (yv.shape[2 + i] - 1) * s for i in range(2))

        def tr(_):
            with torch.no_grad():
                tf.conv_transpose2d(yv, w, None, s, p, op, g)

        res[name] = dict(fwd=_median_ms(fwd, repeat), bwd=_median_ms(bwd, repeat, setup),
                         tr=_median_ms(tr, repeat))
    return res


def worker_mygrad(names, repeat):
    import mygrad as mg
    import numpy as np
    from mygrad.nnet.layers import conv_nd

    rng = np.random.default_rng(0)
    res = {}
    for name in names:
        xs, ws, s, p, g = SHAPES[name]
        if g != 1:
            continue  # MyGrad has no grouped convs
        x = mg.tensor(rng.standard_normal(xs).astype(np.float32))
        w = mg.tensor(rng.standard_normal(ws).astype(np.float32))

        def fwd(_):
            with mg.no_autodiff:
                conv_nd(x, w, stride=s, padding=p)

        def setup():
            return conv_nd(x, w, stride=s, padding=p)

        def bwd(y):
            y.backward()

        try:
            res[name] = dict(fwd=_median_ms(fwd, repeat), bwd=_median_ms(bwd, repeat, setup))
        except ValueError:
            continue  # MyGrad refuses strides that do not tile the input exactly (shape d)
    return res


def blas_info():
    try:
        import numpy  # noqa: F401  (loads its OpenBLAS)
        from threadpoolctl import threadpool_info

        return [{k: i.get(k) for k in ("internal_api", "prefix", "version", "architecture",
                                       "num_threads", "threading_layer")}
                for i in threadpool_info()]
    except ImportError:
        return "threadpoolctl not installed"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", choices=["ours", "torch", "mygrad", "blas"])
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before", default=None,
                    help="an older checkout of autograd_cnn, measured as 'before'")
    args = ap.parse_args()
    names = [n for n in args.shapes.split(",") if n]
    if args.worker:
        fn = {"ours": worker_ours, "torch": worker_torch, "mygrad": worker_mygrad,
              "blas": lambda n, r: blas_info()}[args.worker]
        print(json.dumps(fn(names, args.repeat)))
        return

    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)

    def run(tool, root=ROOT):
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", tool, "--shapes",
               ",".join(names), "--repeat", str(args.repeat)]
        child = dict(env, PYTHONPATH=os.pathsep.join(
            p for p in (root, env.get("PYTHONPATH")) if p))
        out = subprocess.run(cmd, env=child, capture_output=True, text=True)
        if out.returncode:
            return None, out.stderr.strip().splitlines()[-1:] or ["failed"]
        return json.loads(out.stdout.strip().splitlines()[-1]), None

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} (the machine is shared: figures taken under load)")
    info, _ = run("blas")
    print("BLAS / OpenMP (child process, OPENBLAS_CORETYPE/L2_SIZE unset):")
    for i in info or []:
        print("   ", i)
    # Tools alternate over --rounds rounds; per (shape, op) we keep the lowest of the
    # rounds' medians, which filters the bursts of load from other users of the machine.
    def best(a, b):
        if a is None:
            return b
        for name, ops in b.items():
            if isinstance(ops, dict):
                for op, v in ops.items():
                    a[name][op] = min(a[name][op], v)
        return a

    ours = theirs = mine = before = None
    terr = None
    for _ in range(args.rounds):
        o, err = run("ours")
        if o is None:
            sys.exit(f"our worker failed: {err}")
        ours = best(ours, o)
        if args.before:
            b, err = run("ours", os.path.abspath(args.before))
            if b is None:
                sys.exit(f"the 'before' worker failed: {err}")
            before = best(before, b)
        t, terr = run("torch")
        if t is not None:
            theirs = best(theirs, t)
        m, _ = run("mygrad")
        if m is not None:
            mine = best(mine, m)
    for label, r in (("ours", ours), ("before", before)):
        if r:
            print(f"{label}: {r['_path']}: import {r['_import_s']:.2f} s, first calls of the "
                  f"whole family in a fresh process (Numba cache) {r['_first_calls_s']:.2f} s")
    if theirs is None:
        print(f"torch unavailable: {terr}")
    if mine is None:
        print("MyGrad unavailable: skipped")
    ops = ("fwd", "bwd", "tr", "fwd+bwd")
    for r in (ours, before, theirs, mine):
        for name in names if r else ():
            if name in r and "fwd" in r[name] and "bwd" in r[name]:
                r[name]["fwd+bwd"] = r[name]["fwd"] + r[name]["bwd"]
    head = "| shape | op | ours ms |" + (" before ms |" if before else "")
    head += " torch ms | ratio |" + (" ratio before |" if before else "")
    head += " mygrad ms | x faster |" if mine else ""
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for name in names:
        for op in ops:
            o = ours[name][op]
            line = f"| {name} | {op} | {o:.2f} |"
            if before:
                line += f" {before[name][op]:.2f} |"
            if theirs:
                t = theirs[name][op]
                line += f" {t:.2f} | {t / o:.2f} |"
                if before:
                    line += f" {t / before[name][op]:.2f} |"
            if mine:
                m = mine.get(name, {}).get(op)
                line += f" {m:.2f} | {m / o:.1f} |" if m else " - | - |"
            print(line)
    print("ratio = torch time / our time (> 1: we are faster); lowest median of the rounds")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
