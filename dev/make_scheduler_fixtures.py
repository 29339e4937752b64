#!/usr/bin/env python3
"""Scheduler conformance fixtures produced by diffusers itself (explicit noise in, arrays out).

Writes Tests/DiffusionTests/Fixtures/schedulers.json. Run with a Python that has torch and
diffusers (e.g. `.venv-bench/bin/pip install diffusers` after `make bench-compare`):
    .venv-bench/bin/python dev/make_scheduler_fixtures.py
"""
import itertools
import json
import pathlib

import diffusers
import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMScheduler
from diffusers.schedulers import scheduling_ddpm as ddpm_module

T = 1000
rng = np.random.default_rng(0)
shape = (2, 5)
out_path = pathlib.Path(__file__).resolve().parent.parent / "Tests/DiffusionTests/Fixtures/schedulers.json"


def arr(x):
    return [float(v) for v in np.asarray(x, dtype=np.float32).reshape(-1)]


def inputs():
    # Scale the sample so clipping of x̂0 both happens and does not.
    return (rng.standard_normal(shape).astype(np.float32),
            (rng.standard_normal(shape) * 1.5).astype(np.float32),
            rng.standard_normal(shape).astype(np.float32))


fixture = {"diffusers": diffusers.__version__, "torch": torch.__version__, "train_steps": T, "schedules": {}, "ddpm": [], "ddim": []}
schedules = ["linear", "scaled_linear", "squaredcos_cap_v2"]
for name in schedules:
    s = DDPMScheduler(num_train_timesteps=T, beta_schedule=name)
    fixture["schedules"][name] = {"betas": arr(s.betas), "alphas_cumprod": arr(s.alphas_cumprod)}
    for spacing in ["leading", "trailing", "linspace"]:
        s.config.timestep_spacing = spacing
        d = DDPMScheduler(num_train_timesteps=T, beta_schedule=name, timestep_spacing=spacing)
        d.set_timesteps(10)
        fixture["schedules"][name][f"timesteps_{spacing}_10"] = [int(t) for t in d.timesteps]
        d.set_timesteps(50)
        fixture["schedules"][name][f"timesteps_{spacing}_50"] = [int(t) for t in d.timesteps]

for name, pred, var, spacing, clip in itertools.product(schedules, ["epsilon", "sample", "v_prediction"],
                                                        ["fixed_small", "fixed_small_log", "fixed_large"],
                                                        ["full", "leading", "trailing", "linspace"], [True, False]):
    s = DDPMScheduler(num_train_timesteps=T, beta_schedule=name, prediction_type=pred, variance_type=var,
                      clip_sample=clip, timestep_spacing="leading" if spacing == "full" else spacing)
    if spacing == "full":
        steps = [999, 487, 1, 0]
    else:
        s.set_timesteps(10)
        ts = [int(t) for t in s.timesteps]
        steps = [ts[0], ts[4], ts[-1]]
    for t in steps:
        mo, x, z = inputs()
        # DDPMScheduler.step draws z itself with randn_tensor: hand it our z instead.
        original = ddpm_module.randn_tensor
        ddpm_module.randn_tensor = lambda *a, **k: torch.from_numpy(z).clone()
        r = s.step(torch.from_numpy(mo), t, torch.from_numpy(x))
        ddpm_module.randn_tensor = original
        fixture["ddpm"].append({"schedule": name, "prediction": pred, "variance": var, "spacing": spacing, "clip": clip,
                                "inference_steps": None if spacing == "full" else 10, "t": t,
                                "model_output": arr(mo), "sample": arr(x), "noise": arr(z),
                                "prev_sample": arr(r.prev_sample), "pred_original_sample": arr(r.pred_original_sample)})

for name, pred, spacing, eta, one, clip in itertools.product(schedules, ["epsilon", "sample", "v_prediction"],
                                                             ["leading", "trailing", "linspace"], [0.0, 0.7], [True, False], [True, False]):
    s = DDIMScheduler(num_train_timesteps=T, beta_schedule=name, prediction_type=pred, timestep_spacing=spacing,
                      set_alpha_to_one=one, clip_sample=clip)
    s.set_timesteps(10)
    ts = [int(t) for t in s.timesteps]
    for t in [ts[0], ts[5], ts[-1]]:
        mo, x, z = inputs()
        r = s.step(torch.from_numpy(mo), t, torch.from_numpy(x), eta=eta, variance_noise=torch.from_numpy(z))
        fixture["ddim"].append({"schedule": name, "prediction": pred, "spacing": spacing, "eta": eta, "set_alpha_to_one": one,
                                "clip": clip, "inference_steps": 10, "t": t, "model_output": arr(mo), "sample": arr(x),
                                "noise": arr(z), "prev_sample": arr(r.prev_sample), "pred_original_sample": arr(r.pred_original_sample)})

out_path.write_text(json.dumps(fixture))
print(f"wrote {out_path}: {len(fixture['ddpm'])} DDPM and {len(fixture['ddim'])} DDIM steps (diffusers {diffusers.__version__})")
