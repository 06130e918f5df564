"""Benchmark: one LeNet-5 training step, ours vs PyTorch CPU vs MyGrad; and the demo's wall
time with a cold and a warm Numba cache. Not a test.

The step: a batch of 64 images 1x28x28, LeNet-5 (conv 6@5x5 pad 2, ReLU, max-pool 2;
conv 16@5x5, ReLU, max-pool 2; linear 400-120-84-10 with ReLU), cross-entropy, plain SGD
(lr 0.01): forward, backward through the tape, update. Each tool runs in its own process
(two thread pools in one process distort both) with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE removed from the child's environment; each child reports the median of
its timed steps after warm-up steps and the BLAS it uses (threadpoolctl).

    python benchmarks/bench_train.py                 # everything
    python benchmarks/bench_train.py --steps 30 --skip-demo
    python benchmarks/bench_train.py --before /path/to/old/checkout   # before/after

It also times the first training step of a fresh process with an empty Numba cache
(everything compiles) and with the cache that run left (kernels load from disk).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH, LR = 64, 0.01

CHILD_COMMON = r"""
import json, sys, time
import numpy as np
rng = np.random.default_rng(0)
X = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
Y = rng.integers(0, 10, BATCH)

def blas():
    try:
        from threadpoolctl import threadpool_info
        return [f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')} "
                f"threads={d.get('num_threads')}" for d in threadpool_info()
                if d.get('user_api') == 'blas']
    except Exception as e:
        return [f"threadpoolctl unavailable: {e}"]

def report(step, warmup, steps, extra=None):
    losses = [step() for _ in range(warmup)]
    times = []
    for _ in range(steps):
        t0 = time.perf_counter(); losses.append(step()); times.append(time.perf_counter() - t0)
    out = {"median_ms": 1e3 * float(np.median(times)), "min_ms": 1e3 * float(np.min(times)),
           "first_loss": float(losses[0]), "last_loss": float(losses[-1]), "blas": blas()}
    out.update(extra or {})
    print("RESULT " + json.dumps(out))
"""

# the LeNet-5 model and SGD step, shared by the timed run and the first-step run
OUR_STEP = r"""
ac.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
opt = optim.SGD(model.parameters(), lr=LR)
x, y = ac.tensor(X), ac.tensor(Y)
def step():
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()
"""

OURS = r"""
# autograd_cnn first: on import it sets OMP_WAIT_POLICY=PASSIVE, which only takes effect
# if Numba's OpenMP pool has not started yet (set_num_threads starts it). Started with
# busy-waiting threads, the pool fights OpenBLAS's and a step costs 3-4x more.
import autograd_cnn as ac
import numba
if THREADS is not None:
    numba.set_num_threads(THREADS)
import autograd_cnn.functional as F
from autograd_cnn import nn, optim
""" + OUR_STEP + r"""report(step, WARMUP, STEPS, {"numba_threads": numba.get_num_threads()})
"""

TORCH = r"""
import torch
torch.set_num_threads(2)
torch.manual_seed(0)
tn = torch.nn
model = tn.Sequential(
    tn.Conv2d(1, 6, 5, padding=2), tn.ReLU(), tn.MaxPool2d(2),
    tn.Conv2d(6, 16, 5), tn.ReLU(), tn.MaxPool2d(2), tn.Flatten(),
    tn.Linear(400, 120), tn.ReLU(), tn.Linear(120, 84), tn.ReLU(), tn.Linear(84, 10))
opt = torch.optim.SGD(model.parameters(), lr=LR)
x, y = torch.from_numpy(X), torch.from_numpy(Y)
def step():
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()
report(step, WARMUP, STEPS, {"torch": torch.__version__, "torch_threads": torch.get_num_threads()})
"""

MYGRAD = r"""
import mygrad as mg
from mygrad.nnet.layers import conv_nd, max_pool
from mygrad.nnet.losses import softmax_crossentropy
from mygrad.nnet.activations import relu
def u(shape, fan_in):
    b = 1 / np.sqrt(fan_in)
    return mg.tensor(rng.uniform(-b, b, shape).astype(np.float32))
params = [u((6, 1, 5, 5), 25), u((6,), 25), u((16, 6, 5, 5), 150), u((16,), 150),
          u((400, 120), 400), u((120,), 400), u((120, 84), 120), u((84,), 120),
          u((84, 10), 84), u((10,), 84)]
w1, b1, w2, b2, l1, c1, l2, c2, l3, c3 = params
Xp = np.pad(X, ((0, 0), (0, 0), (2, 2), (2, 2)))   # conv_nd pads too, padding done once here
def step():
    h = relu(conv_nd(Xp, w1, stride=1) + b1[:, None, None])
    h = max_pool(h, (2, 2), 2)
    h = relu(conv_nd(h, w2, stride=1) + b2[:, None, None])
    h = max_pool(h, (2, 2), 2).reshape(BATCH, 400)
    h = relu(h @ l1 + c1)
    h = relu(h @ l2 + c2)
    loss = softmax_crossentropy(h @ l3 + c3, Y)
    loss.backward()
    for p in params:
        p.data -= LR * p.grad
        p.null_grad()
    return float(loss.item())
import mygrad
report(step, WARMUP, STEPS, {"mygrad": mygrad.__version__})
"""


FIRST_STEP = r"""
import time
t0 = time.perf_counter()
import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn import nn, optim
t_import = time.perf_counter() - t0
""" + OUR_STEP + r"""t0 = time.perf_counter(); step(); first = time.perf_counter() - t0
t0 = time.perf_counter(); step(); second = time.perf_counter() - t0
print("RESULT " + json.dumps({"import_s": t_import, "first_s": first, "second_ms": 1e3 * second,
                              "path": ac.__file__}))
"""


def child_env(extra=None, root=ROOT):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def first_steps(root, label):
    """First LeNet-5 step of a fresh process: empty Numba cache, then warm cache."""
    with tempfile.TemporaryDirectory() as cache:
        for kind in ("cold", "warm"):
            r = run_child(FIRST_STEP, 0, 0, env={"NUMBA_CACHE_DIR": cache}, root=root)
            if "error" in r:
                print(f"first step, {label}, {kind} cache: failed: {r['error']}")
                continue
            print(f"first step, {label:<7} {kind} Numba cache: {r['first_s']:6.2f} s (import "
                  f"{r['import_s']:.2f} s, second step {r['second_ms']:.1f} ms; {r['path']})")


def run_child(body, warmup, steps, threads=None, env=None, root=ROOT):
    head = (f"BATCH, LR, WARMUP, STEPS, THREADS = {BATCH}, {LR}, {warmup}, {steps}, "
            f"{threads!r}\n")
    code = head + CHILD_COMMON + body
    # run in root: ``python -c`` puts the working directory first on sys.path
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=child_env(env, root), timeout=1800, cwd=root)
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (r.stderr.strip().splitlines() or ["no output"])[-1]}


def time_demo(cache_dir, label):
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run([sys.executable, "-m", "autograd_cnn", "demo", "--out", out],
                           capture_output=True, text=True, timeout=1800,
                           env=child_env({"NUMBA_CACHE_DIR": cache_dir}))
        wall = time.perf_counter() - t0
        acc = None
        metrics = os.path.join(out, "metrics.json")
        if os.path.exists(metrics):
            with open(metrics) as f:
                acc = json.load(f)["test_accuracy"]
    status = "ok" if r.returncode == 0 else f"exit {r.returncode}: {r.stderr[-300:]}"
    print(f"demo, {label:<24} {wall:7.1f} s wall   test accuracy "
          f"{'-' if acc is None else f'{100 * acc:.2f}%'}   ({status})")
    return wall, acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--skip-first-step", action="store_true")
    ap.add_argument("--before", default=None,
                    help="an older checkout of autograd_cnn, measured as 'before'")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the step timings, keep each row's lowest median")
    args = ap.parse_args()

    print(f"LeNet-5 training step, batch {BATCH} x 1x28x28, SGD; medians of {args.steps} "
          f"steps after {args.warmup} warm-up steps; each tool in its own process")
    print(f"machine: {os.cpu_count()} CPUs (shared with other jobs while measured: figures "
          "are indicative)")
    rows = [("autograd_cnn (numba 2 threads)", OURS, 2, ROOT),
            ("autograd_cnn (numba 1 thread)", OURS, 1, ROOT)]
    if args.before:
        rows += [("before (numba 2 threads)", OURS, 2, os.path.abspath(args.before)),
                 ("before (numba 1 thread)", OURS, 1, os.path.abspath(args.before))]
    rows += [("pytorch (2 threads)", TORCH, None, ROOT), ("mygrad", MYGRAD, None, ROOT)]
    results = {}
    for _ in range(args.rounds):  # rows alternate within a round
        for name, body, threads, root in rows:
            res = run_child(body, args.warmup, args.steps, threads, root=root)
            if "error" in res or name not in results or "error" in results[name]:
                results[name] = res if name not in results or "error" not in res else \
                    results[name]
            elif res["median_ms"] < results[name]["median_ms"]:
                results[name] = res
    for name, *_ in rows:
        res = results[name]
        if "error" in res:
            print(f"{name:<32} skipped: {res['error']}")
            continue
        print(f"{name:<32} {res['median_ms']:8.2f} ms/step (min {res['min_ms']:.2f}), "
              f"loss {res['first_loss']:.3f} -> {res['last_loss']:.3f}")
    blas = next((r["blas"] for r in results.values() if "blas" in r), [])
    print("BLAS:", "; ".join(blas) or "unknown")
    torch_ms = results.get("pytorch (2 threads)", {}).get("median_ms")
    mg_ms = results.get("mygrad", {}).get("median_ms")
    for name, *_ in rows[:-2]:
        ours = results.get(name, {}).get("median_ms")
        if ours is None:
            continue
        parts = []
        if torch_ms:
            parts.append(f"{ours / torch_ms:.2f}x PyTorch's time (target <= 1.5x)")
        if mg_ms:
            parts.append(f"{mg_ms / ours:.2f}x faster than MyGrad (target >= 2x)")
        print(f"{name}: " + ", ".join(parts))
    print(f"load average {os.getloadavg()[0]:.1f} (shared machine)")

    if not args.skip_first_step:
        first_steps(ROOT, "ours")
        if args.before:
            first_steps(os.path.abspath(args.before), "before")

    if not args.skip_demo:
        with tempfile.TemporaryDirectory() as cache:
            time_demo(cache, "cold Numba cache")
            time_demo(cache, "warm Numba cache")


if __name__ == "__main__":
    main()
