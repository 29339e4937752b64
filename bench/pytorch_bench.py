#!/usr/bin/env python3
"""PyTorch (eager, CPU) twins of the workloads in ../shared/specs/bench.md, for side-by-side ratios.

A development tool only (`make bench-compare` installs torch into .venv-bench); never a runtime
dependency. Each workload mirrors the Swift one in Sources/DiffuseCLI/Bench line for line.
Usage: pytorch_bench.py --threads T --repeats N --warmup W [--json FILE]
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def measure(name, fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return {"name": name, "median_ms": statistics.median(times), "min_ms": min(times), "repeats": repeats}


def sgemm(n, warmup, repeats):
    g = torch.Generator().manual_seed(1)
    a = torch.randn(n, n, generator=g)
    b = torch.randn(n, n, generator=g)
    r = measure(f"sgemm_{n}", lambda: torch.mm(a, b), warmup, repeats)
    r["GFLOP/s"] = 2 * n**3 / (r["median_ms"] * 1e6)
    return r


class SinusoidalEmbedding(nn.Module):
    """Diffuser's SinusoidalPosEmb: half = dim/2, f_k = exp(-k ln(1e4)/(half-1)), [sin, cos]."""

    def __init__(self, dim):
        super().__init__()
        half = dim // 2
        self.register_buffer("freqs", torch.exp(-torch.arange(half) * (math.log(10000) / (half - 1))))

    def forward(self, t):
        x = t[:, None] * self.freqs[None, :]
        return torch.cat([x.sin(), x.cos()], dim=1)


def mlp_train_step(warmup, repeats):
    torch.manual_seed(0)
    batch, dim, steps = 256, 17, 1000
    model = nn.Sequential(nn.Linear(33, 256), nn.Mish(), nn.Linear(256, 256), nn.Mish(),
                          nn.Linear(256, 256), nn.Mish(), nn.Linear(256, 17))
    emb = SinusoidalEmbedding(16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    betas = torch.linspace(1e-4, 0.02, steps, dtype=torch.float32)
    abar = torch.cumprod(1 - betas, dim=0)
    sa, s1 = abar.sqrt(), (1 - abar).sqrt()

    def step():
        x0 = torch.randn(batch, dim)
        t = torch.randint(0, steps, (batch,))
        eps = torch.randn(batch, dim)
        xt = x0 * sa[t][:, None] + eps * s1[t][:, None]
        inp = torch.cat([xt, emb(t.float())], dim=1)
        loss = F.mse_loss(model(inp), eps)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return measure("mlp_train_step", step, warmup, repeats)


def conv(two_d, warmup, repeats):
    """conv1d: 64→64, k 5, pad 2, L 64, batch 64; conv2d: 32→32, 3×3, pad 1, 32×32, batch 64."""
    g = torch.Generator().manual_seed(3)
    if two_d:
        x, w = torch.randn(64, 32, 32, 32, generator=g), torch.randn(32, 32, 3, 3, generator=g) * 0.1
        op, pad, name = F.conv2d, 1, "conv2d"
    else:
        x, w = torch.randn(64, 64, 64, generator=g), torch.randn(64, 64, 5, generator=g) * 0.1
        op, pad, name = F.conv1d, 2, "conv1d"
    b = torch.randn(w.shape[0], generator=g)
    seed = torch.randn_like(op(x, w, b, padding=pad))

    def fwd():
        with torch.no_grad():
            op(x, w, b, padding=pad)

    def fwd_bwd():
        xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()
        op(xg, wg, b, padding=pad).backward(seed)

    return [measure(f"{name}_forward", fwd, warmup, repeats), measure(f"{name}_forward_backward", fwd_bwd, warmup, repeats)]


WORKLOADS = {
    "sgemm_256": lambda w, r: sgemm(256, w, r),
    "sgemm_1024": lambda w, r: sgemm(1024, w, max(r // 3, 5)),
    "mlp_train_step": mlp_train_step,
    "conv1d": lambda w, r: conv(False, w, r),
    "conv2d": lambda w, r: conv(True, w, r),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--json")
    p.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    results = []
    for w in a.workloads:
        r = WORKLOADS[w](a.warmup, a.repeats)
        results += r if isinstance(r, list) else [r]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for r in results:
        r["peak RSS MiB"] = peak
    report = {"library": f"torch {torch.__version__}", "threads": a.threads, "results": results}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f)
    for r in results:
        print(f"{r['name']:>16}: median {r['median_ms']:.3f} ms  min {r['min_ms']:.3f} ms")


if __name__ == "__main__":
    main()
