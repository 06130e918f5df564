"""Benchmark: ``ac.compile`` vs eager vs PyTorch eager, and compile latency. Not a test.

1. One LeNet-5 training step (batch 64, 1x28x28; the same model as bench_train.py:
   conv 6@5x5 pad 2, ReLU, max-pool 2, conv 16@5x5, ReLU, max-pool 2, 400-120-84-10,
   cross-entropy, SGD lr 0.01): ours compiled, ours eager, PyTorch eager.
2. Compile latency of that step: cold (empty kernel cache directory and Numba cache for
   the generated kernels, in a fresh process; the library's own conv/pool kernels are
   already in Numba's cache, as after any earlier eager use; the conv algorithms
   chosen by the per-shape rule) and warm (a fresh process whose kernel cache is
   filled); also the in-process recompile (a second ``ac.compile`` of the same step: a
   pure cache hit). ``autotune=True`` (conv algorithms measured) is timed too.
3. ResNet-18 (CIFAR size: 32x32 input, 10 classes) forward+backward, batch 8, compiled
   vs eager.

Each measurement runs in its own process (LeNet-5: three interleaved rounds of all
tools, the median over rounds of each run's median), with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
removed from the environment and 2 threads (Numba and torch). Medians of timed steps
after warm-up. The machine is shared: quote the load printed with the table.

    python benchmarks/bench_compile.py [--steps 40] [--rounds 3] [--skip-resnet]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

COMMON = r"""
import json, sys, time
import numpy as np
rng = np.random.default_rng(0)
def report(step, warmup, steps, extra=None):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
    out = {"median_ms": 1e3 * float(np.median(times)), "min_ms": 1e3 * float(np.min(times))}
    out.update(extra or {})
    print("RESULT " + json.dumps(out))
"""

OURS_LENET = r"""
import autograd_cnn as ac
import numba
numba.set_num_threads(2)
import autograd_cnn.functional as F
from autograd_cnn import nn, optim
X = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
Y = rng.integers(0, 10, 64)
ac.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
opt = optim.SGD(model.parameters(), lr=0.01)
x, y = ac.tensor(X), ac.tensor(Y)
def loss_fn(x, y):
    return F.cross_entropy(model(x), y)
extra = {}
if MODE in ("compiled", "compiled_tuned"):
    t0 = time.perf_counter()
    f = ac.compile(loss_fn, autotune=MODE == "compiled_tuned")
    f(x, y).backward()
    extra["first_call_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    f2 = ac.compile(loss_fn, autotune=MODE == "compiled_tuned")
    f2(x, y)
    extra["recompile_s"] = time.perf_counter() - t0
    extra["plan"] = f.memory_plan().as_dict()
    extra["algorithms"] = [f"{n.op}:{a}" for p in f.programs for n, a in p.algorithms]
else:
    f = loss_fn
def step():
    opt.zero_grad()
    loss = f(x, y)
    loss.backward()
    opt.step()
import tracemalloc
step()
tracemalloc.start()
step()
extra["traced_peak"] = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
report(step, 5, STEPS, extra)
"""

TORCH_LENET = r"""
import torch
torch.set_num_threads(2)
from torch import nn
X = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
Y = rng.integers(0, 10, 64)
torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.tensor(X), torch.tensor(Y)
def step():
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
report(step, 5, STEPS)
"""

OURS_RESNET = r"""
import autograd_cnn as ac
import numba
numba.set_num_threads(2)
ac.manual_seed(0)
model = ac.models.resnet18(num_classes=10)
x = ac.tensor(rng.standard_normal((8, 3, 32, 32)).astype(np.float32))
w = ac.tensor(rng.standard_normal((8, 10)).astype(np.float32))
def loss_fn(x, w):
    return (model(x) * w).sum()
extra = {}
if MODE == "compiled":
    t0 = time.perf_counter()
    f = ac.compile(loss_fn)
    f(x, w).backward()
    extra["first_call_s"] = time.perf_counter() - t0
    extra["plan"] = f.memory_plan().as_dict()
else:
    f = loss_fn
def step():
    model.zero_grad()
    f(x, w).backward()
report(step, 2, STEPS, extra)
"""


def run_child(code, env_extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env.update(env_extra or {})
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"child failed:\n{out.stderr[-3000:]}")


def script(body, mode, steps):
    return f"MODE = {mode!r}\nSTEPS = {steps}\n" + COMMON + body


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--skip-resnet", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    load = os.getloadavg()
    res = {}
    with tempfile.TemporaryDirectory() as cold:
        # a fresh kernel cache: the first compiled child compiles its kernels cold
        env = {"AUTOGRAD_CNN_KERNEL_CACHE": cold}
        res["compiled_cold"] = run_child(script(OURS_LENET, "compiled", args.steps), env)
        res["compiled"] = run_child(script(OURS_LENET, "compiled", args.steps), env)
    # Rounds interleave the tools, so a burst of load from elsewhere hits them all; each
    # figure is the median over rounds of each child's median step.
    rounds = {"compiled": [res["compiled"]], "compiled_tuned": [], "eager": [], "torch": []}
    for r in range(args.rounds):
        if r:
            rounds["compiled"].append(run_child(script(OURS_LENET, "compiled", args.steps)))
        rounds["compiled_tuned"].append(
            run_child(script(OURS_LENET, "compiled_tuned", args.steps)))
        rounds["eager"].append(run_child(script(OURS_LENET, "eager", args.steps)))
        try:
            rounds["torch"].append(run_child(script(TORCH_LENET, "torch", args.steps)))
        except RuntimeError as e:
            print(f"# torch skipped: {str(e)[-200:]}")
    for name, runs in rounds.items():
        if runs:
            res[name] = dict(runs[0], median_ms=statistics.median(x["median_ms"] for x in runs),
                             min_ms=min(x["min_ms"] for x in runs))
    print(f"# bench_compile: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"at the start, {os.getloadavg()[0]:.2f} at the end (shared 2-core machine: "
          f"medians over {args.rounds} interleaved rounds, noisy); 2 threads; OPENBLAS "
          "vars unset")
    print("| LeNet-5 step, batch 64 | median ms | min ms | vs our eager | vs PyTorch |")
    print("|---|---|---|---|---|")
    t = res.get("torch", {}).get("median_ms")
    for name in ("compiled", "compiled_tuned", "eager", "torch"):
        if name not in res:
            continue
        r = res[name]
        vs_e = res["eager"]["median_ms"] / r["median_ms"]
        vs_t = f"{r['median_ms'] / t:.2f}x its time" if t else "-"
        label = {"compiled": "ours, ac.compile",
                 "compiled_tuned": "ours, ac.compile(autotune=True)",
                 "eager": "ours, eager", "torch": "PyTorch eager"}[name]
        print(f"| {label} | {r['median_ms']:.2f} | {r['min_ms']:.2f} | {vs_e:.2f}x faster "
              f"| {vs_t} |")
    print()
    print("| compile latency (LeNet-5 train step) | seconds |")
    print("|---|---|")
    print(f"| cold: empty kernel cache, new process | {res['compiled_cold']['first_call_s']:.2f} |")
    print(f"| warm: kernel cache filled, new process | {res['compiled']['first_call_s']:.2f} |")
    print(f"| recompile in the same process | {res['compiled']['recompile_s']:.3f} |")
    print(f"\nconv algorithms by rule: {', '.join(res['compiled']['algorithms'])}")
    print(f"conv algorithms measured (autotune=True): "
          f"{', '.join(res['compiled_tuned']['algorithms'])}")
    plan = res["compiled"]["plan"]
    print()
    print("| memory plan (LeNet-5, batch 64) | MiB |")
    print("|---|---|")
    for k in ("forward_arena", "backward_arena", "saved", "unplanned", "scratch", "peak"):
        print(f"| plan: {k} | {plan[k] / 2**20:.2f} |")
    for name in ("compiled", "eager"):
        print(f"| measured step peak, {name} (tracemalloc) | "
              f"{res[name]['traced_peak'] / 2**20:.2f} |")
    if args.skip_resnet:
        return
    steps = max(3, args.steps // 8)
    rcs, res_ = [], []
    for _ in range(args.rounds):
        rcs.append(run_child(script(OURS_RESNET, "compiled", steps)))
        res_.append(run_child(script(OURS_RESNET, "eager", steps)))
    rc = dict(rcs[0], median_ms=statistics.median(r["median_ms"] for r in rcs))
    re_ = dict(res_[0], median_ms=statistics.median(r["median_ms"] for r in res_))
    print()
    print("| ResNet-18 CIFAR fwd+bwd, batch 8 | median ms | speedup | first call s |")
    print("|---|---|---|---|")
    print(f"| ours, ac.compile | {rc['median_ms']:.1f} | "
          f"{re_['median_ms'] / rc['median_ms']:.2f}x | {rc['first_call_s']:.2f} |")
    print(f"| ours, eager | {re_['median_ms']:.1f} | 1.00x | - |")


if __name__ == "__main__":
    main()
