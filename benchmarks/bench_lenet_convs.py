"""Benchmark of the five conv calls of a LeNet-5 training step (batch 64, float32), at the
array level (``kernels.conv_dispatch``, the algorithm chosen by ``auto``), plus shape b's
three calls: ours, optionally against an older checkout (``--before``), each run in its
own process, the checkouts alternating over ``--rounds`` rounds; per call the lowest of
the rounds' medians. Not a test; nothing here asserts on time.

    python benchmarks/bench_lenet_convs.py --before /path/to/old/checkout --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import json, sys, time
import numpy as np
from autograd_cnn.kernels import conv_dispatch as D

rng = np.random.default_rng(0)
r = lambda *s: rng.standard_normal(s).astype(np.float32)
x1, w1, g1 = r(64, 1, 28, 28), r(6, 1, 5, 5), r(64, 6, 28, 28)
x2, w2, g2 = r(64, 6, 14, 14), r(16, 6, 5, 5), r(64, 16, 10, 10)
xb, gb = r(64, 6, 12, 12), r(64, 16, 8, 8)
s, d, p0, p2 = (1, 1), (1, 1), ((0, 0), (0, 0)), ((2, 2), (2, 2))
calls = {
    "conv1 fwd": lambda: D.conv_forward(x1, w1, s, p2, d, 1),
    "conv1 weight grad": lambda: D.conv_weight_grad(x1, g1, s, p2, d, 1, (5, 5)),
    "conv2 fwd": lambda: D.conv_forward(x2, w2, s, p0, d, 1),
    "conv2 input grad": lambda: D.conv_transpose_forward(g2, w2, s, p0, d, 1, (0, 0)),
    "conv2 weight grad": lambda: D.conv_weight_grad(x2, g2, s, p0, d, 1, (5, 5)),
    "b fwd": lambda: D.conv_forward(xb, w2, s, p0, d, 1),
    "b input grad": lambda: D.conv_transpose_forward(gb, w2, s, p0, d, 1, (0, 0)),
    "b weight grad": lambda: D.conv_weight_grad(xb, gb, s, p0, d, 1, (5, 5)),
}
out = {}
for name, fn in calls.items():
    for _ in range(5):
        fn()
    ts = []
    for _ in range(int(sys.argv[1])):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    out[name] = float(np.median(ts) * 1e3)
print(json.dumps(out))
"""


def run(root, repeat):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["PYTHONPATH"] = root
    res = subprocess.run([sys.executable, "-c", CHILD, str(repeat)], cwd=root, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default=None, help="an older checkout to compare with")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=50)
    a = ap.parse_args()
    roots = {"ours": ROOT} | ({"before": a.before} if a.before else {})
    best: dict = {k: {} for k in roots}
    for _ in range(a.rounds):
        for k, root in roots.items():
            for name, ms in run(root, a.repeat).items():
                best[k][name] = min(ms, best[k].get(name, float("inf")))
    names = list(best["ours"])
    head = "| call | ours ms |" + (" before ms |" if a.before else "")
    print(head + "\n|---|---:|" + ("---:|" if a.before else ""))
    for name in names:
        row = f"| {name} | {best['ours'][name]:.3f} |"
        if a.before:
            row += f" {best['before'][name]:.3f} |"
        print(row)
    lenet = [n for n in names if n.startswith("conv")]
    row = f"| LeNet-5's five calls | {sum(best['ours'][n] for n in lenet):.3f} |"
    if a.before:
        row += f" {sum(best['before'][n] for n in lenet):.3f} |"
    print(row)
    print(f"load average {os.getloadavg()[0]:.1f} (shared machine)")


if __name__ == "__main__":
    main()
