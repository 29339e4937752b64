#!/usr/bin/env python3
"""PyTorch (eager, CPU) twins of the workloads in docs/bench-workloads.md, for side-by-side ratios.

A development tool only (`make bench-compare` installs torch into .venv-bench); never a runtime
dependency. Each workload mirrors the Swift one in Sources/Apps/DiffuseCLI/Workloads line for line.
Usage: pytorch_bench.py --threads T --repeats N --warmup W [--json FILE]
"""
import argparse
import json
import math
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


PAIRED = False  # --paired: bench/paired.py decides when repetitions run (protocol as in diffuse's Harness.swift)
TURN_SECONDS = 0.3


def measure(name, fn, warmup, repeats):
    def timed():
        t0 = time.perf_counter_ns()
        fn()
        return (time.perf_counter_ns() - t0) / 1e6

    times = []
    if PAIRED:
        print(f"ready {name}", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "warmup":
                for _ in range(warmup):
                    fn()
                print("ok", flush=True)
            elif command == "turn":  # as Bench.turn in Harness.swift
                turn = [timed()]
                while sum(turn) < TURN_SECONDS * 1000:
                    turn.append(timed())
                kept = turn[1:] if len(turn) >= 3 else turn
                times += kept
                print(",".join(map(str, kept)), flush=True)
            elif command == "next":
                break
            else:
                sys.exit(f"pytorch_bench.py --paired: unknown command {command!r}")
        else:
            sys.exit("pytorch_bench.py --paired: the driver closed stdin")
    else:
        for _ in range(warmup):
            fn()
        times = [timed() for _ in range(repeats)]
    return {"name": name, "median_ms": statistics.median(times), "min_ms": min(times), "repeats": len(times),
            "times_ms": times}


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


def linear_alphas_cumprod(steps=1000):
    return torch.cumprod(1 - torch.linspace(1e-4, 0.02, steps, dtype=torch.float32), dim=0)


def janner_alphas_cumprod(steps):
    """Diffuser's cosine_beta_schedule (s = 0.008), betas clipped to [0, 0.999]."""
    n = steps + 1
    x = np.linspace(0, n, n)
    ac = np.cos(((x / n) + 0.008) / 1.008 * np.pi * 0.5) ** 2
    ac = ac / ac[0]
    betas = torch.tensor(np.clip(1 - ac[1:] / ac[:-1], 0, 0.999), dtype=torch.float32)
    return torch.cumprod(1 - betas, dim=0)


def vp_alphas_cumprod(steps=5, bmin=0.1, bmax=10.0):
    t = np.arange(1, steps + 1)
    alphas = np.exp(-bmin / steps - 0.5 * (bmax - bmin) * (2 * t - 1) / steps**2)
    return torch.cumprod(torch.tensor(alphas, dtype=torch.float32), dim=0)


def diffusion_loss(net, x0, abar, prediction, cond=None, weights=None):
    """DiffusionObjective.discrete: t ~ U{0..T-1}, x_t = sqrt(abar) x0 + sqrt(1-abar) eps, MSE to eps or x0."""
    b = x0.shape[0]
    t = torch.randint(0, abar.shape[0], (b,))
    eps = torch.randn_like(x0)
    shape = (b,) + (1,) * (x0.dim() - 1)
    a = abar[t].sqrt().reshape(shape)
    s = (1 - abar[t]).sqrt().reshape(shape)
    out = net(x0 * a + eps * s, t.float(), cond)
    err = (out - (eps if prediction == "epsilon" else x0)) ** 2
    if weights is not None:
        err = err * weights.reshape(shape)
    return err.mean()


def ddpm_sample(net, shape, abar, timesteps, prediction="epsilon", variance="fixed_small", cond=None, inpaint=None, clip_after=None,
                clip_x0=False):
    """diffusers' DDPM step: mean = c0 x0 + ct x, plus sqrt(var) z for t > 0 (x0 clipped to [-1, 1] with clip_x0)."""
    x = torch.randn(shape)
    if inpaint is not None:
        x = torch.where(inpaint[0], inpaint[1], x)
    for i, t in enumerate(timesteps):
        prev = timesteps[i + 1] if i + 1 < len(timesteps) else -1
        ab, abp = abar[t], (abar[prev] if prev >= 0 else torch.tensor(1.0))
        alpha, bt, bp = ab / abp, 1 - ab, 1 - abp
        out = net(x, torch.full((shape[0],), float(t)), cond)
        x0 = (x - bt.sqrt() * out) / ab.sqrt() if prediction == "epsilon" else out
        if clip_x0:
            x0 = x0.clamp(-1, 1)
        mean = x0 * ((abp.sqrt() * (1 - alpha)) / bt) + x * (alpha.sqrt() * bp / bt)
        if t > 0:
            var = (1 - alpha) if variance == "fixed_large" else torch.clamp(bp / bt * (1 - alpha), min=1e-20)
            mean = mean + torch.randn(shape) * var.sqrt()
        x = mean
        if clip_after is not None:
            x = x.clamp(-clip_after, clip_after)
        if inpaint is not None:
            x = torch.where(inpaint[0], inpaint[1], x)
    return x


class MLPDenoiser(nn.Module):
    """x ‖ sinusoidal(t) (‖ cond) → hidden (Mish) → data dim."""

    def __init__(self, data=17, temb=16, hidden=(256, 256, 256)):
        super().__init__()
        self.emb = SinusoidalEmbedding(temb)
        sizes = [data + temb, *hidden]
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.Mish()]
        self.mlp = nn.Sequential(*layers, nn.Linear(sizes[-1], data))

    def forward(self, x, t, cond=None):
        return self.mlp(torch.cat([x, self.emb(t)], dim=1))


def op_overhead(warmup, repeats):
    """Mirror of CoreWorkloads.opOverhead: 100 × (h·1.0001 + 0.001) on a 4×4 tensor, with autograd and
    backward, and under no_grad: the per-operation cost apart from arithmetic."""
    x = torch.randn(4, 4, generator=torch.Generator().manual_seed(1)).requires_grad_()

    def chain():
        h = x
        for _ in range(100):
            h = h * 1.0001 + 0.001
        return h.sum()

    def nograd():
        with torch.no_grad():
            chain()

    return [measure("op_overhead_100_ops_fwd_bwd", lambda: chain().backward(), warmup, repeats),
            measure("op_overhead_100_ops_nograd", nograd, warmup, repeats)]


def mlp_train_step(warmup, repeats):
    torch.manual_seed(0)
    model = MLPDenoiser()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    abar = linear_alphas_cumprod()

    def step():
        loss = diffusion_loss(model, torch.randn(256, 17), abar, "epsilon")
        opt.zero_grad()
        loss.backward()
        opt.step()

    return measure("mlp_train_step", step, warmup, repeats)


def leading_timesteps(train=1000, n=100):
    return [i * (train // n) for i in range(n)][::-1]


def mlp_sample(warmup, repeats):
    model = MLPDenoiser().eval()
    abar = linear_alphas_cumprod()
    ts = leading_timesteps()

    def run():
        with torch.no_grad():
            ddpm_sample(model, (256, 17), abar, ts)

    return measure("mlp_sample_100", run, warmup, repeats)


class FourierFeatures(nn.Module):
    def __init__(self, dim=64, std=0.2):
        super().__init__()
        self.w = nn.Parameter(torch.randn(dim // 2, 1) * std)

    def forward(self, t):
        f = 2 * math.pi * t.reshape(-1, 1) @ self.w.T
        return torch.cat([f.cos(), f.sin()], dim=1)


class ResBlock(nn.Module):
    def __init__(self, width=256, hidden=1024, dropout=0.1):
        super().__init__()
        self.drop, self.norm = nn.Dropout(dropout), nn.LayerNorm(width, eps=1e-6)
        self.expand, self.project = nn.Linear(width, hidden), nn.Linear(hidden, width)

    def forward(self, z):
        return z + self.project(F.mish(self.expand(self.norm(self.drop(z)))))


class ResidualMLPDenoiser(nn.Module):
    """FISOR's actor: Fourier(64) → 128 → Mish → 128; [x ‖ s ‖ temb] → 256 → 3 blocks → Mish → act.
    The diffusion policies use the same network with hidden 256 (and dropout 0 for DQL)."""

    def __init__(self, act=2, obs=8, hidden=1024, dropout=0.1):
        super().__init__()
        self.time = FourierFeatures()
        self.time_in, self.time_out = nn.Linear(64, 128), nn.Linear(128, 128)
        self.inp = nn.Linear(act + obs + 128, 256)
        self.blocks = nn.ModuleList([ResBlock(256, hidden, dropout) for _ in range(3)])
        self.out = nn.Linear(256, act)

    def forward(self, x, t, cond):
        h = self.inp(torch.cat([x, cond, self.time_out(F.mish(self.time_in(self.time(t))))], dim=1))
        for b in self.blocks:
            h = b(h)
        return self.out(F.mish(h))


def fisor_actor_train_step(warmup, repeats):
    torch.manual_seed(4)
    actor = ResidualMLPDenoiser().train()
    opt = torch.optim.Adam(actor.parameters(), lr=3e-4)
    abar = vp_alphas_cumprod()

    def step():
        obs, act = torch.randn(1024, 8), torch.rand(1024, 2) * 2 - 1
        loss = diffusion_loss(actor, act, abar, "epsilon", cond=obs, weights=torch.rand(1024) * 3)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return measure("fisor_actor_train_step", step, warmup, repeats)


def fisor_update(warmup, repeats):
    """FisorUpdate in CoreWorkloads.swift: one FISOR iteration at the reference sizes (docs/fisor.md §7)."""
    import copy
    torch.manual_seed(12)
    actor = ResidualMLPDenoiser().train()
    ema = copy.deepcopy(actor).eval()
    mlp = lambda i: nn.Sequential(nn.Linear(i, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1))
    qr, qh = nn.ModuleList([mlp(10) for _ in range(2)]), nn.ModuleList([mlp(10) for _ in range(2)])
    vr, vh = mlp(8), mlp(8)
    qr_t, qh_t = copy.deepcopy(qr), copy.deepcopy(qh)
    opts = {k: torch.optim.Adam(m.parameters(), lr=3e-4) for k, m in [("a", actor), ("vr", vr), ("qr", qr), ("vh", vh), ("qh", qh)]}
    abar = vp_alphas_cumprod()
    n = 2048
    obs, act, rew, nxt = torch.randn(n, 8), torch.rand(n, 2) * 2 - 1, torch.randn(n), torch.randn(n, 8)
    mask = (torch.rand(n) <= 0.99).float()
    h = torch.where(torch.rand(n) > 0.8, 25.0, -1.0)
    q = lambda ms, s, a: torch.stack([m(torch.cat([s, a], 1)).squeeze(1) for m in ms])

    def descend(loss, opt):
        opt.zero_grad()
        loss.backward()
        opt.step()

    def polyak(target, source, tau):
        with torch.no_grad():
            for p, s in zip(target.parameters(), source.parameters()):
                p.lerp_(s, tau)

    def step():
        for k in range(2):
            s, a = obs[k * 1024:(k + 1) * 1024], act[k * 1024:(k + 1) * 1024]
            with torch.no_grad():
                ar = q(qr_t, s, a).min(0).values - vr(s).squeeze(1)
                qhs, vhs = q(qh_t, s, a).max(0).values, vh(s).squeeze(1)
                w = torch.where(vhs > 0, torch.exp(torch.clamp(-5 * (qhs - vhs), max=math.log(150))),
                                torch.where(qhs <= 0, torch.exp(torch.clamp(3 * ar, max=math.log(100))), torch.zeros_like(ar)))
            t = torch.randint(0, 5, (1024,))
            eps = torch.randn_like(a)
            xt = a * abar[t].sqrt()[:, None] + eps * (1 - abar[t]).sqrt()[:, None]
            descend((((actor(xt, t.float(), s) - eps) ** 2).sum(1) * w).mean(), opts["a"])
            polyak(ema, actor, 0.001)
        s, a, r, s2, m, hh = obs[:256], act[:256], rew[:256], nxt[:256], mask[:256], h[:256]
        with torch.no_grad():
            target = q(qr_t, s, a).min(0).values
        u = target - vr(s).squeeze(1)
        descend((torch.where(u > 0, 0.9, 0.1) * u ** 2).mean(), opts["vr"])
        with torch.no_grad():
            y = r + 0.99 * m * vr(s2).squeeze(1)
        descend(((q(qr, s, a) - y) ** 2).mean(), opts["qr"])
        polyak(qr_t, qr, 0.005)
        with torch.no_grad():
            target = q(qh_t, s, a).max(0).values
        u = target - vh(s).squeeze(1)
        descend((torch.where(u < 0, 0.9, 0.1) * u ** 2).mean(), opts["vh"])
        with torch.no_grad():
            nv = vh(s2).squeeze(1)
            y = (0.01 * hh + 0.99 * torch.maximum(hh, nv)) * m + hh * (1 - m)
        descend(((q(qh, s, a) - y) ** 2).mean(), opts["qh"])
        polyak(qh_t, qh, 0.005)

    return measure("fisor_update", step, warmup, repeats)


def fisor_select_action(states, warmup, repeats):
    actor = ResidualMLPDenoiser().eval()
    critics = [nn.Sequential(nn.Linear(10, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1)) for _ in range(2)]
    abar = vp_alphas_cumprod()
    obs = torch.randn(states, 8)

    def run():
        with torch.no_grad():
            tiled = obs[:, None, :].expand(states, 16, 8).reshape(states * 16, 8)
            actions = ddpm_sample(actor, (states * 16, 2), abar, [4, 3, 2, 1, 0], variance="fixed_large", cond=tiled, clip_after=1.0)
            sa = torch.cat([tiled, actions], dim=1)
            qh = torch.maximum(critics[0](sa), critics[1](sa)).reshape(states, 16)
            choice = qh.argmin(dim=1)
            actions.reshape(states, 16, 2)[torch.arange(states), choice]

    return measure("fisor_select_action_1" if states == 1 else "fisor_select_action", run, warmup, repeats)


class Conv1dBlock(nn.Module):
    def __init__(self, a, b, k=5, groups=8):
        super().__init__()
        self.conv, self.norm = nn.Conv1d(a, b, k, padding=k // 2), nn.GroupNorm(groups, b)

    def forward(self, x):
        return F.mish(self.norm(self.conv(x)))


class ResidualTemporalBlock(nn.Module):
    def __init__(self, a, b, emb, k=5):
        super().__init__()
        self.first, self.second = Conv1dBlock(a, b, k), Conv1dBlock(b, b, k)
        self.time = nn.Linear(emb, b)
        self.residual = nn.Conv1d(a, b, 1) if a != b else nn.Identity()

    def forward(self, x, t):
        return self.second(self.first(x) + self.time(F.mish(t))[:, :, None]) + self.residual(x)


class TemporalUnet(nn.Module):
    """Janner et al.'s TemporalUnet (no attention), as Sources/Core/Diffusion/TemporalUNet.swift."""

    def __init__(self, transition=23, dim=32, mults=(1, 2, 4)):
        super().__init__()
        dims = [transition, *[dim * m for m in mults]]
        pairs = list(zip(dims[:-1], dims[1:]))
        self.emb = SinusoidalEmbedding(dim)
        self.time = nn.Sequential(nn.Linear(dim, 4 * dim), nn.Mish(), nn.Linear(4 * dim, dim))
        self.downs = nn.ModuleList()
        for i, (a, b) in enumerate(pairs):
            self.downs.append(nn.ModuleList([ResidualTemporalBlock(a, b, dim), ResidualTemporalBlock(b, b, dim),
                                             nn.Conv1d(b, b, 3, 2, 1) if i < len(pairs) - 1 else nn.Identity()]))
        mid = dims[-1]
        self.mids = nn.ModuleList([ResidualTemporalBlock(mid, mid, dim), ResidualTemporalBlock(mid, mid, dim)])
        self.ups = nn.ModuleList()
        for a, b in reversed(pairs[1:]):
            self.ups.append(nn.ModuleList([ResidualTemporalBlock(2 * b, a, dim), ResidualTemporalBlock(a, a, dim),
                                           nn.ConvTranspose1d(a, a, 4, 2, 1)]))
        self.final = nn.Sequential(Conv1dBlock(dim, dim), nn.Conv1d(dim, transition, 1))

    def forward(self, x, t, cond=None):
        t = self.time(self.emb(t))
        x = x.transpose(1, 2)
        skips = []
        for r1, r2, down in self.downs:
            x = r2(r1(x, t), t)
            skips.append(x)
            x = down(x)
        for m in self.mids:
            x = m(x, t)
        for r1, r2, up in self.ups:
            x = up(r2(r1(torch.cat([x, skips.pop()], dim=1), t), t))
        return self.final(x).transpose(1, 2)


def unet1d_train_step(warmup, repeats):
    torch.manual_seed(8)
    net = TemporalUnet()
    opt = torch.optim.Adam(net.parameters(), lr=2e-4)
    abar = janner_alphas_cumprod(20)

    def step():
        loss = diffusion_loss(net, torch.randn(64, 32, 23), abar, "sample")
        opt.zero_grad()
        loss.backward()
        opt.step()

    return measure("unet1d_train_step", step, warmup, repeats)


def unet1d_sample(warmup, repeats):
    net = TemporalUnet().eval()
    abar = janner_alphas_cumprod(100)
    mask = torch.zeros(1, 32, 23, dtype=torch.bool)
    mask[0, 0, 6:] = True
    values = torch.randn(64, 32, 23)

    def run():
        with torch.no_grad():
            ddpm_sample(net, (64, 32, 23), abar, list(range(99, -1, -1)), prediction="sample", inpaint=(mask, values))

    return measure("unet1d_sample_100", run, warmup, repeats)


class ResBlock2D(nn.Module):
    def __init__(self, a, b, emb, groups=8):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, a), nn.Conv2d(a, b, 3, padding=1)
        self.emb = nn.Linear(emb, b)
        self.norm2, self.conv2 = nn.GroupNorm(groups, b), nn.Conv2d(b, b, 3, padding=1)
        self.skip = nn.Conv2d(a, b, 1) if a != b else nn.Identity()

    def forward(self, x, e):
        h = self.conv1(F.silu(self.norm1(x))) + self.emb(F.silu(e))[:, :, None, None]
        return self.conv2(F.silu(self.norm2(h))) + self.skip(x)


class UNet2D(nn.Module):
    """docs/unet2d.md, as Sources/Core/Diffusion/UNet2D.swift."""

    def __init__(self, channels=1, size=8, width=32, classes=10, emb=64):
        super().__init__()
        self.size = size
        self.temb = SinusoidalEmbedding(emb)
        self.time = nn.Sequential(nn.Linear(emb, 4 * emb), nn.SiLU(), nn.Linear(4 * emb, emb))
        self.classes = nn.Embedding(classes + 1, emb)
        w = width
        self.stem = nn.Conv2d(channels, w, 3, padding=1)
        self.block1 = ResBlock2D(w, w, emb)
        self.down = nn.Conv2d(w, w, 3, 2, 1)
        self.block2, self.mid = ResBlock2D(w, 2 * w, emb), ResBlock2D(2 * w, 2 * w, emb)
        self.up = nn.Conv2d(2 * w, w, 3, padding=1)
        self.block3 = ResBlock2D(2 * w, w, emb)
        self.out_norm, self.out = nn.GroupNorm(8, w), nn.Conv2d(w, channels, 3, padding=1)

    def forward(self, x, t, cond):
        e = self.time(self.temb(t)) + self.classes(cond.long())
        h0 = self.block1(self.stem(x), e)
        h = self.mid(self.block2(self.down(h0), e), e)
        h = self.up(F.interpolate(h, size=(self.size, self.size), mode="nearest"))
        h = self.block3(torch.cat([h, h0], dim=1), e)
        return self.out(F.silu(self.out_norm(h)))


def unet2d_train_step(warmup, repeats):
    torch.manual_seed(11)
    net = UNet2D()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    abar = linear_alphas_cumprod()

    def step():
        labels = torch.randint(0, 10, (128,)).float()
        loss = diffusion_loss(net, torch.randn(128, 1, 8, 8), abar, "epsilon", cond=labels)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return measure("unet2d_train_step", step, warmup, repeats)


def seppo_dpo_step(warmup, repeats):
    """One Diffusion-DPO update (docs/seppo.md §2), as CoreWorkloads.seppoDPOStep: 64 pairs, one (t, eps) per
    pair for both rows (chunk + repeat), frozen reference under no_grad, beta 2000, clip 1, AdamW."""
    torch.manual_seed(14)
    net = UNet2D()
    reference = UNet2D().eval()
    reference.load_state_dict(net.state_dict())
    for p in reference.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=1e-2)
    abar = linear_alphas_cumprod()
    beta = 2000.0

    def step():
        labels = torch.randint(0, 10, (64,)).float()
        x = torch.cat([torch.randn(64, 1, 8, 8), torch.randn(64, 1, 8, 8)])
        t = torch.randint(0, 1000, (64,)).repeat(2)
        eps = torch.randn(64, 1, 8, 8).repeat(2, 1, 1, 1)
        a, s = abar[t].sqrt().reshape(-1, 1, 1, 1), (1 - abar[t]).sqrt().reshape(-1, 1, 1, 1)
        xt, cond = x * a + eps * s, labels.repeat(2)
        model_err = ((net(xt, t.float(), cond) - eps) ** 2).mean(dim=(1, 2, 3))
        with torch.no_grad():
            ref_err = ((reference(xt, t.float(), cond) - eps) ** 2).mean(dim=(1, 2, 3))
        mw, ml = model_err.chunk(2)
        rw, rl = ref_err.chunk(2)
        loss = -F.logsigmoid(-0.5 * beta * ((mw - rw) - (ml - rl))).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()

    return measure("seppo_dpo_step", step, warmup, repeats)


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


def edm_sigmas(n, sigma_min=0.002, sigma_max=80.0, rho=7.0):
    """EDM's σ_i = (σ_max^{1/ρ} + i/(N−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, then σ_N = 0 (EDM.sigmas)."""
    a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    return [(a + i / (n - 1) * (b - a)) ** rho for i in range(n)] + [0.0]


def pgd_generate(warmup, repeats):
    """TrajectoryModel.sampleWindows as `diffuse pgd generate` runs it (docs/bench-workloads.md): the temporal
    U-Net on pointmaze-umaze rows [s (4) | u (2) | r | d], 64 windows of 128 rows, EDM stochastic Heun
    (16 steps, 31 network evaluations, σ_data = 1), additive guidance λ = 1 toward a TD3+BC actor in
    PolicyGuidance's closed form. Layout statistics and the actor's normalizer: fixed random values."""
    obs, act, width, steps, batch, length = 4, 2, 8, 16, 64, 128
    g = torch.Generator().manual_seed(12)
    mean, std = torch.randn(width, generator=g), torch.rand(width, generator=g) * 1.5 + 0.5
    obs_shift, obs_scale = torch.randn(obs, generator=g), torch.rand(obs, generator=g) + 0.5
    torch.manual_seed(13)
    net = TemporalUnet(transition=width).eval()
    actor = nn.Sequential(nn.Linear(obs, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, act), nn.Tanh())
    variance = torch.ones(act)  # deterministic actor: σ = 1
    mask = torch.zeros(1, 1, width)
    mask[..., obs:obs + act] = 1  # GuidanceConfig: the action channels only
    sigmas = edm_sigmas(steps)
    churn, t_min, t_max, s_noise = 80.0, 0.05, 50.0, 1.003

    def denoise(x, s):  # EDM preconditioning with σ_data = 1 (EDM.denoise)
        c_noise = torch.full((x.shape[0],), math.log(s) / 4)
        return x * (1 / (s * s + 1)) + net(x * (1 / math.sqrt(s * s + 1)), c_noise) * (s / math.sqrt(s * s + 1))

    def guidance(x):  # PolicyGuidance.closedFormGradient: −(a_n − μ(s))/σ² · (1 − a_n²) · std_u
        b, n = x.shape[0], x.shape[1]
        s = (x[..., :obs] * std[:obs] + mean[:obs]).reshape(b * n, obs)
        an = torch.tanh(x[..., obs:obs + act] * std[obs:obs + act] + mean[obs:obs + act]).reshape(b * n, act)
        mu = actor((s - obs_shift) / obs_scale)
        grad = (-(an - mu) / variance * (1 - an * an) * std[obs:obs + act]).reshape(b, n, act)
        grad = torch.cat([torch.zeros(b, n, obs), grad, torch.zeros(b, n, width - obs - act)], dim=2)
        return grad * mask

    def run():
        with torch.no_grad():
            x = torch.randn(batch, length, width) * sigmas[0]
            for i in range(steps):
                sigma, nxt = sigmas[i], sigmas[i + 1]
                lam = 0.0 if i == steps - 1 else (1 - i / steps) + 0.3 * math.sin(math.pi * (i + 1) / steps)
                if lam != 0:
                    x = x + guidance(x) * lam
                gamma = min(churn / steps, math.sqrt(2) - 1) if t_min <= sigma <= t_max else 0.0
                noise = torch.randn_like(x) if gamma > 0 else torch.zeros_like(x)
                s_hat = sigma * (1 + gamma)  # EDM.step (Algorithm 2)
                x_hat = x + noise * (math.sqrt(s_hat * s_hat - sigma * sigma) * s_noise) if gamma > 0 else x
                slope = (x_hat - denoise(x_hat, s_hat)) / s_hat
                x = x_hat + slope * (nxt - s_hat)
                if nxt > 0:
                    slope2 = (x - denoise(x, nxt)) / nxt
                    x = x_hat + (slope + slope2) * (0.5 * (nxt - s_hat))
            assert bool(torch.isfinite(x).all()), "pgd_generate: non-finite samples"

    return measure("pgd_generate", run, warmup, repeats)


def corl_mlp(sizes, out_act=None):
    """CORL's MLPs: Linear-ReLU between hidden layers (PyTorch's default init, as ours is Kaiming-uniform)."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


def agent_update(kind, warmup, repeats):
    """Mirror of CoreWorkloads.agentUpdate: one TD3+BC or IQL update exactly as TD3BC.swift / IQL.swift
    compute it (Polyak first, the first step a copy; the actor, critic (and value) losses summed and
    stepped by one Adam with eps 1e-5 over all parameters — they touch disjoint parameters; the
    logged metrics read with .item())."""
    import copy
    torch.manual_seed(21)
    o, a, n, h = 17, 6, 256, 256
    g = torch.Generator().manual_seed(20)
    s, act = torch.randn(n, o, generator=g), torch.rand(n, a, generator=g) * 2 - 1
    r, s2, d = torch.randn(n, generator=g), torch.randn(n, o, generator=g), torch.zeros(n)
    nets = nn.ModuleDict({"actor": corl_mlp([o, h, h, a], nn.Tanh()), "critic1": corl_mlp([o + a, h, h, 1]),
                          "critic2": corl_mlp([o + a, h, h, 1])})
    if kind == "iql":
        nets["value"] = corl_mlp([o, h, h, 1])
        log_std = nn.Parameter(torch.zeros(a))
        params = list(nets.parameters()) + [log_std]
    else:
        params = list(nets.parameters())
    targets = copy.deepcopy(nets)
    for p in targets.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(params, lr=3e-4, eps=1e-5)
    step = [0]
    q = lambda c, x, y: c(torch.cat([x, y], 1)).squeeze(1)

    def polyak():
        w = 1.0 if step[0] == 0 else 0.005
        step[0] += 1
        with torch.no_grad():
            for t, p in zip(targets.parameters(), nets.parameters()):
                t.add_(w * (p - t))

    def td3bc():
        polyak()
        for p in nets["critic1"].parameters():
            p.requires_grad_(False)
        pi = nets["actor"](s)
        qpi = q(nets["critic1"], s, pi)
        for p in nets["critic1"].parameters():
            p.requires_grad_(True)
        lam = 2.5 / (qpi.abs().mean().item() + 1e-8)
        bc = F.mse_loss(pi, act)
        actor_loss = -lam * qpi.mean() + bc
        with torch.no_grad():
            noise = (torch.randn_like(act) * 0.2).clamp(-0.5, 0.5)
            nxt = (targets["actor"](s2) + noise).clamp(-1, 1)
            y = r + 0.99 * (1 - d) * torch.minimum(q(targets["critic1"], s2, nxt), q(targets["critic2"], s2, nxt))
        q1, q2 = q(nets["critic1"], s, act), q(nets["critic2"], s, act)
        critic_loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        opt.zero_grad()
        (actor_loss + critic_loss).backward()
        opt.step()
        return [actor_loss.item(), bc.item(), critic_loss.item(), q1.mean().item()]

    def iql():
        polyak()
        with torch.no_grad():
            qt = torch.minimum(q(targets["critic1"], s, act), q(targets["critic2"], s, act))
        v = nets["value"](s).squeeze(1)
        u = qt - v
        value_loss = ((0.7 - (u < 0).float()).abs() * u.square()).mean()
        with torch.no_grad():
            y = r + 0.99 * (1 - d) * nets["value"](s2).squeeze(1)
        q1, q2 = q(nets["critic1"], s, act), q(nets["critic2"], s, act)
        critic_loss = (F.mse_loss(q1, y) + F.mse_loss(q2, y)) * 0.5
        w = (u.detach() * 3).exp().clamp(max=100)
        ls = log_std.clamp(-20, 2)
        z = (act - nets["actor"](s)) * (-ls).exp()
        logp = (z.square() * -0.5 - ls - 0.5 * math.log(2 * math.pi)).sum(-1)
        actor_loss = (w * -logp).mean()
        opt.zero_grad()
        (value_loss + critic_loss + actor_loss).backward()
        opt.step()
        return [value_loss.item(), critic_loss.item(), actor_loss.item(), u.mean().item()]

    return measure(f"{kind}_update", td3bc if kind == "td3bc" else iql, warmup, repeats)


def diffusion_policy(kind):
    """CoreWorkloads.diffusionPolicy: DiffusionPolicySettings' defaults on HalfCheetah's shapes — the ε-network
    (hidden 256; dropout 0.1, DQL 0), its EMA copy, and twin critics with Polyak targets (IDQL, DQL), IDQL's V."""
    import copy
    torch.manual_seed(21)
    o, a = 17, 6
    actor = ResidualMLPDenoiser(act=a, obs=o, hidden=256, dropout=0.0 if kind == "dql" else 0.1).train()
    ema = copy.deepcopy(actor).eval()
    nets = {"actor": actor, "ema": ema}
    if kind != "diffusion_bc":
        nets["critics"] = nn.ModuleList([corl_mlp([o + a, 256, 256, 1]) for _ in range(2)])
        nets["targets"] = copy.deepcopy(nets["critics"])
    if kind == "idql":
        nets["value"] = corl_mlp([o, 256, 256, 1])
    return nets


def diffusion_policy_update(kind, warmup, repeats):
    """Mirror of CoreWorkloads.diffusionPolicyUpdate: one update as DiffusionPolicyAlgorithms.swift computes it
    (one Adam per network group, lr 3e-4; EMA and Polyak rate 0.005; the logged metrics read with .item())."""
    nets = diffusion_policy(kind)
    actor, ema = nets["actor"], nets["ema"]
    g = torch.Generator().manual_seed(20)
    n = 256
    s, act = torch.randn(n, 17, generator=g), torch.rand(n, 6, generator=g) * 2 - 1
    r, s2, d = torch.randn(n, generator=g), torch.randn(n, 17, generator=g), torch.zeros(n)
    abar = vp_alphas_cumprod()
    ts = [4, 3, 2, 1, 0]
    opts = {k: torch.optim.Adam(nets[k].parameters(), lr=3e-4) for k in ("actor", "critics", "value") if k in nets}
    q = lambda c, x, y: c(torch.cat([x, y], 1)).squeeze(1)

    def descend(loss, key):
        opts[key].zero_grad()
        loss.backward()
        opts[key].step()

    def lerp(target, source):
        with torch.no_grad():
            for p, x in zip(target.parameters(), source.parameters()):
                p.lerp_(x, 0.005)

    def diffusion_bc():
        loss = diffusion_loss(actor, act, abar, "epsilon", cond=s)
        descend(loss, "actor")
        lerp(ema, actor)
        return [loss.item()]

    def idql():
        critics, targets, value = nets["critics"], nets["targets"], nets["value"]
        with torch.no_grad():
            qt = torch.minimum(q(targets[0], s, act), q(targets[1], s, act))
        u = qt - value(s).squeeze(1)
        value_loss = ((0.7 - (u < 0).float()).abs() * u.square()).mean()
        descend(value_loss, "value")
        with torch.no_grad():
            y = r + 0.99 * (1 - d) * value(s2).squeeze(1)
        critic_loss = (F.mse_loss(q(critics[0], s, act), y) + F.mse_loss(q(critics[1], s, act), y)) * 0.5
        descend(critic_loss, "critics")
        lerp(targets, critics)
        actor_loss = diffusion_loss(actor, act, abar, "epsilon", cond=s)
        descend(actor_loss, "actor")
        lerp(ema, actor)
        return [value_loss.item(), critic_loss.item(), actor_loss.item(), qt.mean().item()]

    def dql():
        critics, targets = nets["critics"], nets["targets"]
        with torch.no_grad():
            nxt = ddpm_sample(ema, (n, 6), abar, ts, variance="fixed_large", cond=s2, clip_x0=True).clamp(-1, 1)
            y = r + 0.99 * (1 - d) * torch.minimum(q(targets[0], s2, nxt), q(targets[1], s2, nxt))
        critic_loss = F.mse_loss(q(critics[0], s, act), y) + F.mse_loss(q(critics[1], s, act), y)
        descend(critic_loss, "critics")
        denoising = diffusion_loss(actor, act, abar, "epsilon", cond=s)
        a0 = ddpm_sample(actor, (n, 6), abar, ts, variance="fixed_large", cond=s, clip_x0=True).clamp(-1, 1)  # through the chain
        for p in critics.parameters():
            p.requires_grad_(False)
        q1, q2 = q(critics[0], s, a0), q(critics[1], s, a0)
        for p in critics.parameters():
            p.requires_grad_(True)
        total = denoising - 1.0 / (q2.abs().mean().item() + 1e-8) * q1.mean()
        descend(total, "actor")
        lerp(targets, critics)
        lerp(ema, actor)
        return [critic_loss.item(), total.item(), denoising.item(), q1.mean().item()]

    return measure(f"{kind}_update", {"diffusion_bc": diffusion_bc, "idql": idql, "dql": dql}[kind], warmup, repeats)


def diffusion_policy_select(kind, warmup, repeats):
    """Mirror of CoreWorkloads.diffusionPolicySelect: N candidates (1, IDQL 32, DQL 50) for one observation from the
    EMA actor by T = 5 DDPM (IDQL, diffusion BC: the sample clamped each step; DQL: x0 clipped), then the selector
    on min of the target critics (IDQL: expectile weights with V; DQL: softmax Q), the action mapped back."""
    nets = diffusion_policy(kind)
    ema = nets["ema"]
    abar = vp_alphas_cumprod()
    obs = torch.randn(1, 17)
    count = {"diffusion_bc": 1, "idql": 32, "dql": 50}[kind]
    shift, scale = torch.zeros(17), torch.ones(17)
    a_shift, a_scale = torch.zeros(6), torch.ones(6)
    q = lambda c, x, y: c(torch.cat([x, y], 1)).squeeze(1)

    def run():
        with torch.no_grad():
            tiled = ((obs - shift) / scale).expand(count, 17)
            cands = ddpm_sample(ema, (count, 6), abar, [4, 3, 2, 1, 0], variance="fixed_large", cond=tiled,
                                clip_after=None if kind == "dql" else 1.0, clip_x0=kind == "dql").clamp(-1, 1)
            if kind == "diffusion_bc":
                pick = 0
            else:
                qs = torch.minimum(q(nets["targets"][0], tiled, cands), q(nets["targets"][1], tiled, cands))
                if kind == "idql":
                    adv = qs - nets["value"](tiled).squeeze(1)
                    w = torch.where(adv < 0, 0.3, 0.7) / adv.abs().clamp(min=1e-6)
                else:
                    w = torch.softmax(qs, 0)
                pick = torch.multinomial(w, 1).item()
            cands[pick] * a_scale + a_shift

    return measure(f"{kind}_select_action_1", run, warmup, repeats)


WORKLOADS = {
    "op_overhead": op_overhead,
    "sgemm_256": lambda w, r: sgemm(256, w, r),
    "sgemm_1024": lambda w, r: sgemm(1024, w, max(r // 3, 5)),
    "mlp_train_step": mlp_train_step,
    "mlp_sample_100": mlp_sample,
    "fisor_actor_train_step": fisor_actor_train_step,
    "fisor_select_action": lambda w, r: fisor_select_action(256, w, r),
    "fisor_select_action_1": lambda w, r: fisor_select_action(1, w, r),
    "fisor_update": fisor_update,
    "unet1d_train_step": unet1d_train_step,
    "unet1d_sample_100": unet1d_sample,
    "conv1d": lambda w, r: conv(False, w, r),
    "conv2d": lambda w, r: conv(True, w, r),
    "unet2d_train_step": unet2d_train_step,
    "pgd_generate": pgd_generate,
    "td3bc_update": lambda w, r: agent_update("td3bc", w, r),
    "iql_update": lambda w, r: agent_update("iql", w, r),
    "seppo_dpo_step": seppo_dpo_step,
    "diffusion_bc_update": lambda w, r: diffusion_policy_update("diffusion_bc", w, r),
    "diffusion_bc_select_action_1": lambda w, r: diffusion_policy_select("diffusion_bc", w, r),
    "idql_update": lambda w, r: diffusion_policy_update("idql", w, r),
    "idql_select_action_1": lambda w, r: diffusion_policy_select("idql", w, r),
    "dql_update": lambda w, r: diffusion_policy_update("dql", w, r),
    "dql_select_action_1": lambda w, r: diffusion_policy_select("dql", w, r),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--json")
    p.add_argument("--paired", action="store_true", help="let a driver on stdin time each repetition")
    p.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    a = p.parse_args()
    unknown = [w for w in a.workloads if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workloads {unknown} (known: {', '.join(WORKLOADS)})")
    global PAIRED
    PAIRED = a.paired
    torch.set_num_threads(a.threads)
    # One second of GEMMs first, as the Swift side does, so the CPU clock has settled.
    warm, t0 = torch.randn(512, 512), time.perf_counter()
    while time.perf_counter() - t0 < 1:
        torch.mm(warm, warm)
    results = []
    for w in [n for n in WORKLOADS if n in a.workloads]:  # in WORKLOADS order, as diffuse runs them
        r = WORKLOADS[w](a.warmup, a.repeats)
        results += r if isinstance(r, list) else [r]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for r in results:
        r["peak RSS MiB"] = peak
    report = {"library": f"torch {torch.__version__}", "threads": a.threads, "results": results}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f)
    for r in [] if a.paired else results:
        print(f"{r['name']:>16}: median {r['median_ms']:.3f} ms  min {r['min_ms']:.3f} ms")


if __name__ == "__main__":
    main()
